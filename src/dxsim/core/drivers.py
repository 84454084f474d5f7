"""What a scenario's levers become in the simulation, as arrays on the ensemble's axes: investment multiples and
events (``Drivers``), programme rollouts paired with the adoption draws (``RolloutDrivers``), and per-scenario
changes to the model's stated assumptions for experiments (``ModelFactors``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dxsim.core.rollout import Rollouts
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.scenario import Scenario


@dataclass(frozen=True)
class Drivers:
    """Scenario inputs as arrays: log investment multiple (scenario, year, geo, pillar), event speed
    multiplier and ceiling lift in points (scenario, year, geo, indicator)."""

    log_investment: np.ndarray
    event_speed: np.ndarray
    ceiling_lift: np.ndarray

    @classmethod
    def from_scenarios(cls, scenarios: list[Scenario], cfg: CalibrationConfig, years: np.ndarray,
                       first_projected: int) -> Drivers:
        with np.errstate(divide="ignore"):
            log_inv = np.stack([np.log(s.investment_multiple(cfg, years, first_projected)) for s in scenarios])
        effects = [s.event_effects(cfg, years) for s in scenarios]
        return cls(log_inv, np.stack([e[0] for e in effects]), np.stack([e[1] for e in effects]))

    def select_geos(self, idx: list[int]) -> Drivers:
        return Drivers(self.log_investment[:, :, idx], self.event_speed[:, :, idx], self.ceiling_lift[:, :, idx])


@dataclass(frozen=True)
class RolloutDrivers:
    """Programme rollouts paired with the adoption draws: speed multiplier, ceiling lift (points) and share step
    (points), each (year, scenario, geo, indicator, rollout); adoption draw d uses rollout ``rollout_of_draw[d]``
    (d % rollouts). Neutral (1, 0, 0) up to the jump-off year and where no programme acts."""

    speed: np.ndarray
    ceiling_lift: np.ndarray
    share_step: np.ndarray
    rollout_of_draw: np.ndarray

    @classmethod
    def from_rollouts(cls, rollouts: Sequence[Rollouts | None], geos: tuple[str, ...],
                      indicators: tuple[str, ...], years: np.ndarray, draws: int,
                      jump_off_year: int, parts_of: dict[str, tuple[str, ...]] | None = None) -> RolloutDrivers:
        """Stack per-scenario rollouts (None: no programmes) on the ensemble's geos and years. ``parts_of``: the
        model geos of each programme geo (a programme in a merged province acts on every part; effects of
        several programme geos on one part combine: speeds multiply, lifts and steps add)."""
        R = max(r.n_rollouts for r in rollouts if r is not None)
        if any(r is not None and r.n_rollouts != R for r in rollouts):
            raise ValueError("scenarios simulated together need the same number of rollouts")
        shape = (len(years), len(rollouts), len(geos), len(indicators), R)
        speed, lift, step = np.ones(shape), np.zeros(shape), np.zeros(shape)
        for s, ro in enumerate(rollouts):
            if ro is None:
                continue
            y_in, picks = _rollout_index(ro, geos, indicators, years, jump_off_year, parts_of)
            for k, (out, arr) in enumerate(zip((speed, lift, step), ro.effects(), strict=True)):  # (R, Y, G, I)
                out[y_in, s] = np.moveaxis(picks(arr, k == 0), 0, -1)
        return cls(speed, lift, step, np.arange(draws) % R)

    @classmethod
    def from_variants(cls, rollouts: Rollouts, delay_years: np.ndarray, size: np.ndarray, geos: tuple[str, ...],
                      indicators: tuple[str, ...], years: np.ndarray, draws: int,
                      jump_off_year: int, parts_of: dict[str, tuple[str, ...]] | None = None) -> RolloutDrivers:
        """One scenario per variant of the same rollouts (``Rollouts.effects_for``): programme k later by
        ``delay_years[k, s]`` and ``size[k, s]`` times its effect in scenario s."""
        S, R = delay_years.shape[1], rollouts.n_rollouts
        shape = (len(years), S, len(geos), len(indicators), R)
        speed, lift, step = np.ones(shape), np.zeros(shape), np.zeros(shape)
        y_in, picks = _rollout_index(rollouts, geos, indicators, years, jump_off_year, parts_of)
        for k, (out, arr) in enumerate(zip((speed, lift, step), rollouts.effects_for(delay_years, size), strict=True)):
            out[y_in] = np.moveaxis(picks(arr.reshape((S * R,) + arr.shape[2:]), k == 0).reshape((S, R, len(y_in),
                                    len(geos), len(indicators))), (0, 1), (1, 4))
        return cls(speed, lift, step, np.arange(draws) % R)

    @property
    def has_steps(self) -> bool:
        return bool(np.any(self.share_step))

    def at(self, array: np.ndarray, y: int, scenarios: slice | Sequence[int] = slice(None),
           geos: slice | Sequence[int] = slice(None)) -> np.ndarray:
        """One year of a rollout array, expanded to the draws: (scenario, geo, indicator, draw)."""
        return array[y][scenarios][:, geos][..., self.rollout_of_draw]

    def multiply_into(self, target: np.ndarray, array: np.ndarray, y: int) -> None:
        """``target`` (scenario, geo, indicator, draw) *= this year's rollout values of ``array``, in place and
        without expanding them to the draws: draw d = q R + r uses rollout r."""
        R, D = array.shape[-1], target.shape[-1]
        full = (D // R) * R
        values = array[y]
        head = target[..., :full].reshape(target.shape[:-1] + (D // R, R))
        head *= values[..., None, :]
        if full < D:
            target[..., full:] *= values[..., :D - full]


def _rollout_index(ro: Rollouts, geos: tuple[str, ...], indicators: tuple[str, ...], years: np.ndarray,
                   jump_off_year: int, parts_of: dict[str, tuple[str, ...]] | None = None
                   ) -> tuple[list[int], Callable[..., np.ndarray]]:
    """The ensemble's projected years covered by the rollouts, and a function ``picks(arr, product)`` taking
    those years and indicators from a rollout array (rollout, year, programme geo, indicator) onto the
    ensemble's (model) geos: a programme geo acts on each of its parts (``parts_of``: merged provinces); effects
    of several programme geos on one part multiply (``product``: speed multipliers) or add (lifts, steps)."""
    y_in = [y for y, year in enumerate(years) if year > jump_off_year and int(year) in ro.years]
    y_ro = [ro.years.index(int(years[y])) for y in y_in]
    i_ro = [ro.indicators.index(i) for i in indicators]
    member = np.array([[g in (parts_of or {}).get(r, (r,)) for g in geos] for r in ro.geos], float)

    def picks(arr: np.ndarray, product: bool = False) -> np.ndarray:
        picked = arr[:, y_ro][..., i_ro]
        if product:
            return np.exp(np.einsum("rygi,gh->ryhi", np.log(picked), member))
        return np.einsum("rygi,gh->ryhi", picked, member)

    return y_in, picks


@dataclass(frozen=True)
class ModelFactors:
    """Per-scenario changes to the model's stated assumptions, so that experiments (sensitivity analysis) can
    vary them along the scenario axis: ``elasticity_scale`` (scenario, indicator) multiplies every draw's
    investment elasticity, ``cross_scale`` (scenario,) the cross-pillar elasticity, ``damping`` (scenario,
    indicator) replaces the config's damping (1 = none)."""

    elasticity_scale: np.ndarray
    cross_scale: np.ndarray
    damping: np.ndarray

    @classmethod
    def neutral(cls, cfg: CalibrationConfig, scenarios: int) -> ModelFactors:
        """The config's assumptions, unchanged, for ``scenarios`` scenarios."""
        I = len(cfg.indicators)
        return cls(np.ones((scenarios, I)), np.ones(scenarios),
                   np.tile([spec.damping for spec in cfg.indicators], (scenarios, 1)).astype(float))
