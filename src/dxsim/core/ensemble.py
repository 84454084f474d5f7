"""The Monte Carlo ensemble: parameter draws x yearly process noise, vectorised over (scenario, geo, indicator,
draw); the only Python loop is over years.

Up to the jump-off year the latent path is the calibrated fit (parameter uncertainty only). After it,
    z[y] = z[y-1] + max(slope, 0) * damping**h * m_own**e * m_broadband**e_cross * event_speed
           + process_sd * noise,        (h = years since the jump-off; damping = 1 unless configured)
so a larger investment multiple can only raise z, hence every share. Scenarios share the same draws and noise
(common random numbers), so differences between scenarios are not Monte Carlo noise.

Ceiling lifts (events and programmes) keep z, the adoption fraction: every definition's share rises by
lift x fraction, so a lift can only raise shares. Programmes (``rollout.py``) enter per draw: draw d is paired
with rollout d % R, whose delivered effects multiply the speed, lift the ceiling and jump the share at
completion. Rollouts have their own random stream (the seed's third child), so a scenario without programmes
gives the same results whether or not programmes exist elsewhere.

Layout: the simulation stores the latent paths ``z`` as (year, scenario, geo, indicator, draw), draws last so
that every reduction over draws (quantiles, means, target checks) reads contiguous memory. Percent values per
reported series are computed from the paths when asked (``Ensemble.values``), never stored for all years.
The state is stepped in float64; the stored paths are float32 (``PATH_DTYPE``): half the memory, and a
rounding error of about 1e-7 on z, i.e. at most ~1e-5 percentage points on a share (the benchmark measures it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from dxsim import progress
from dxsim.core.axes import QUANTILE_COLUMNS, QUANTILES, TRAJECTORY_QUANTILE_COLUMNS
from dxsim.core.calibrate import Calibrator, ParameterDraws
from dxsim.core.dynamics import warped_time
from dxsim.core.model import Law
from dxsim.core.rollout import Rollouts, scenario_rollouts
from dxsim.inputs.config import PILLARS, CalibrationConfig
from dxsim.inputs.geography import NATIONAL_MAP, PRE, Aggregation, aggregation_for, load_geomap
from dxsim.inputs.scenario import Scenario

BYTES_LIMIT = 6 * 2**30   # refuse runs whose arrays would exceed this
PATH_DTYPE = np.float32


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


@dataclass(frozen=True)
class Ensemble:
    """A simulated ensemble. ``z``: latent paths (year, scenario, geo, indicator, draw) on each law's scale.
    ``values(year)`` gives percent values (scenario, geo, series, draw); ``quantiles`` (scenario, year, geo,
    series, quantile) and ``mean`` (scenario, year, geo, series) summarise them, in percent."""

    scenarios: tuple[str, ...]
    geos: tuple[str, ...]
    years: tuple[int, ...]
    indicators: tuple[str, ...]
    series: tuple[tuple[str, str], ...]
    draws: int
    first_projected_year: int
    laws: tuple[Law, ...]
    z: np.ndarray
    series_offset: np.ndarray         # (series, draw): a definition's offset from its anchor's z
    series_ceiling: np.ndarray        # (series,) base ceilings, percent
    own_series: tuple[int, ...]       # series with a speed of their own (slope offset): paths in ``own_z``
    own_z: np.ndarray                 # (year, scenario, geo, own series, draw), offset included
    event_lift: np.ndarray            # (year, scenario, geo, indicator) points
    rollouts: RolloutDrivers | None = None
    # first projected year per series (the year after its last reading); default: ``first_projected_year``
    series_first_projected: tuple[int, ...] | None = None
    # With an aggregation, ``geos`` are the regions users asked for (geography.py) and ``model_geos`` the
    # simulated old provinces (the geo axis of z, own_z, event_lift, rollouts); ``values`` aggregates per draw.
    aggregation: Aggregation | None = None
    model_geos: tuple[str, ...] = ()

    def aggregated(self, aggregation: Aggregation) -> Ensemble:
        """This ensemble read on ``aggregation``'s regions (its model geos must be this ensemble's geos)."""
        if aggregation.model_geos != self.geos:
            raise ValueError("the aggregation's model geos are not the simulated geos")
        return replace(self, geos=aggregation.names, model_geos=self.geos, aggregation=aggregation)

    @property
    def geographies(self) -> tuple[str, ...]:
        """``geography`` of each geo: pre_2025, post_2025 or national."""
        if self.aggregation is not None:
            return self.aggregation.geographies
        return tuple(NATIONAL_MAP if g == "vietnam" else PRE for g in self.geos)

    @property
    def series_indicator(self) -> np.ndarray:
        return np.array([self.indicators.index(i) for i, _ in self.series])

    def values(self, year: int, series: Sequence[int] | None = None, geos: slice | Sequence[int] = slice(None),
               scenarios: slice | Sequence[int] = slice(None)) -> np.ndarray:
        """Percent values at ``year``: (scenario, geo, series, draw), for all or the given series indices; with
        an aggregation, each geo is the weighted mean of its parts, draw by draw."""
        agg = self.aggregation
        if agg is None:
            return self._part_values(year, series, geos, scenarios)
        rows = list(range(len(self.geos))[geos]) if isinstance(geos, slice) else list(geos)
        if agg.identity:
            cols = [int(np.flatnonzero(agg.matrix[0, r])[0]) for r in rows]
            return self._part_values(year, series, cols, scenarios)
        cols = agg.columns(rows)
        parts = self._part_values(year, series, cols, scenarios)
        ks = range(len(self.series)) if series is None else series
        return agg.apply(parts, self.series_indicator[list(ks)], rows, cols)

    def _part_values(self, year: int, series: Sequence[int] | None, geos: slice | Sequence[int],
                     scenarios: slice | Sequence[int]) -> np.ndarray:
        """``values`` on the simulated geos (no aggregation)."""
        y = self.years.index(int(year))
        ks = range(len(self.series)) if series is None else series
        z = self.z[y][scenarios][:, geos]
        lift = self.event_lift[y][scenarios][:, geos][..., None]
        if self.rollouts is not None:
            lift = lift + self.rollouts.at(self.rollouts.ceiling_lift, y, scenarios, geos)
        ind = self.series_indicator
        own = {k: j for j, k in enumerate(self.own_series)}
        out = np.empty(z.shape[:2] + (len(ks), z.shape[-1]))
        for j, k in enumerate(ks):
            i = ind[k]
            if k in own:
                zk = self.own_z[y][scenarios][:, geos][:, :, own[k]]
            else:
                zk = z[:, :, i] + self.series_offset[k]
            ceiling = np.minimum(self.series_ceiling[k] + lift[:, :, i], 100.0)
            self.laws[i].to_fraction(zk, out=out[:, :, j])
            out[:, :, j] *= ceiling
        return out

    def series_draws(self, year: int, geo: str, series: tuple[str, str]) -> np.ndarray:
        """Percent values of one (geo, series) at ``year``: (scenario, draw)."""
        g, k = self.geos.index(geo), self.series.index(series)
        return self.values(year, series=[k], geos=[g])[:, 0, 0]

    @cached_property
    def _summary(self) -> tuple[np.ndarray, np.ndarray]:
        S, Y, G, K = len(self.scenarios), len(self.years), len(self.geos), len(self.series)
        mean = np.empty((S, Y, G, K))
        quantiles = np.empty((S, Y, G, K, len(QUANTILES)))

        def one(task: tuple[int, int]) -> None:
            y, s = task
            vals = self.values(self.years[y], scenarios=[s])[0]                 # (G, K, D)
            mean[s, y] = vals.mean(axis=-1)
            quantiles[s, y] = np.moveaxis(np.quantile(vals, QUANTILES, axis=-1), 0, -1)

        tasks = [(y, s) for y in range(Y) for s in range(S)]
        # numpy releases the GIL in these kernels: threads use every core, results do not depend on them
        with ThreadPoolExecutor(max_workers=min(len(tasks), os.cpu_count() or 1)) as pool:
            list(pool.map(one, tasks))
        return mean, quantiles

    @property
    def mean(self) -> np.ndarray:
        return self._summary[0]

    @property
    def quantiles(self) -> np.ndarray:
        return self._summary[1]

    def trajectories(self) -> pd.DataFrame:
        """Tidy table: scenario, geo, geography, indicator, definition, year, projected, mean, q05..q95, q025,
        q975 (percent)."""
        S, Y, G, K = self.mean.shape
        s, g, k, y = np.indices((S, G, K, Y)).reshape(4, -1)
        frame = pd.DataFrame({
            "scenario": np.array(self.scenarios)[s], "geo": np.array(self.geos)[g],
            "geography": np.array(self.geographies)[g], "indicator": np.array([i for i, _ in self.series])[k],
            "definition": np.array([d for _, d in self.series])[k],
            "year": np.array(self.years)[y],
        })
        first = np.array(self.series_first_projected or (self.first_projected_year,) * K)
        frame["projected"] = frame["year"].to_numpy() >= first[k]
        frame["mean"] = self.mean[s, y, g, k]
        for col in TRAJECTORY_QUANTILE_COLUMNS:
            frame[col] = self.quantiles[s, y, g, k, QUANTILE_COLUMNS.index(col)]
        return frame


def simulate(cfg: CalibrationConfig, params: ParameterDraws, drivers: Drivers, scenarios: tuple[str, ...],
             geos: tuple[str, ...], years: np.ndarray, jump_off_year: int, t0: np.ndarray,
             noise_rng: np.random.Generator, rollouts: RolloutDrivers | None = None,
             path_dtype: type = PATH_DTYPE, indicator_jump_off: np.ndarray | None = None,
             series_first_projected: tuple[int, ...] | None = None,
             slope_rng: np.random.Generator | None = None, model: ModelFactors | None = None) -> Ensemble:
    """Run the ensemble. ``t0`` (indicator,) is each indicator's reference time; ``rollouts`` optionally adds
    programme effects per draw (speed multiplier, ceiling lift, share step; see ``RolloutDrivers``).
    ``indicator_jump_off`` (indicator,): the last year with data per indicator (default ``jump_off_year`` for
    all): an indicator follows its calibrated fit up to it and is projected after it. ``slope_rng``: the stream
    of a stochastic slope's shocks (indicators with ``slope_shock_sd``). ``model`` optionally changes the
    model's stated assumptions per scenario (experiments, see ``ModelFactors``)."""
    D = params.level.shape[0]
    S, G, I, Y = len(scenarios), len(geos), len(cfg.indicators), len(years)
    gidx = np.array([params.geos.index(g) for g in geos])
    # noise is drawn for every known geo, so a geo's values do not depend on which others are simulated
    noise_geos = slice(gidx[0], gidx[-1] + 1) if np.array_equal(gidx, np.arange(gidx[0], gidx[-1] + 1)) else gidx
    level = np.ascontiguousarray(params.level[:, gidx, :].transpose(1, 2, 0))     # (G, I, D)
    slope = np.ascontiguousarray(params.slope[:, gidx, :].transpose(1, 2, 0))
    speed = np.maximum(slope, 0.0)                        # adoption speed is non-negative by construction
    laws = tuple(spec.law for spec in cfg.indicators)
    months = np.array([spec.reading_month for spec in cfg.indicators], float)
    dt = years[:, None] + months / 12.0 - t0                                      # (Y, I) years from t0
    process_sd = np.array([spec.process_sd for spec in cfg.indicators])[:, None]
    damping = np.array([spec.damping for spec in cfg.indicators])[:, None]            # (I, 1)
    if model is not None:
        damping = model.damping[:, None, :, None]                                    # (S, 1, I, 1)
    config_damped = bool(np.any(damping != 1))
    # dynamics (dynamics.py): a damped slope grows z by warped time W(dt) (per draw: its damping), a stochastic
    # slope takes yearly shocks in projections (``slope_shock``, common to all scenarios)
    phi = np.ones((I, D)) if params.damping is None else params.damping.T                # (I, D)
    damped = bool(np.any(phi != 1))
    wdt = warped_time(dt[:, :, None], phi[None]) if damped else np.broadcast_to(dt[:, :, None], (Y, I, D))
    shock_sd = params.slope_shock_sd
    shock_sd = shock_sd.T if shock_sd is not None and np.any(shock_sd) and slope_rng is not None else None
    dslope = np.zeros((S, G, I, D)) if shock_sd is not None else None
    broadband = PILLARS.index("broadband")
    pillar_of = np.array([PILLARS.index(spec.pillar) for spec in cfg.indicators])
    not_broadband = pillar_of != broadband
    anchor_ceiling = np.array([spec.definition(spec.anchor).ceiling for spec in cfg.indicators])
    elasticity = params.elasticity.T                      # (I, D)
    cross = params.cross_elasticity                       # (D,)
    all_geos = len(params.geos)
    fit_until = np.full(I, jump_off_year) if indicator_jump_off is None else np.asarray(indicator_jump_off)
    first_step = int(fit_until.min())

    cross_ind = np.flatnonzero(not_broadband)
    steps_on = rollouts is not None and rollouts.has_steps
    # Definitions with a slope offset grow at a speed of their own, max(slope + slope offset, 0), scaled by the
    # same multipliers and shocks as their anchor: a state of their own (few; none for most configs).
    series_ind = np.array([cfg.indicator_names.index(i) for i, _ in params.series])
    own = tuple(k for k, (i, d) in enumerate(params.series) if cfg.indicator(i).definition(d).slope_offset)
    own_ind = series_ind[list(own)]
    own_offset = np.broadcast_to(params.offset.T[list(own)], (G, len(own), D)).copy()   # (G, n_own, D)
    own_slope = slope[:, own_ind] + params.slope_offset.T[list(own)]              # (G, n_own, D)
    # A definition pooled towards an aggregate (its ``centre``): a province's path is the centre's plus the
    # province's own pooled deviation (level and slope), in place of its deviation from the nation.
    province = np.array([g not in (params.geos[0], *cfg.aggregates) for g in geos])
    for j, k in enumerate(own):
        centre = cfg.indicator(params.series[k][0]).definition(params.series[k][1]).centre
        if centre and province.any():
            c, i, m = params.geos.index(centre), own_ind[j], params.centred_series.index(k)
            dev = params.centre_deviation[:, gidx[province], m].transpose(1, 0, 2)           # (P, D, 2)
            own_offset[province, j] += params.level[:, c, i] - level[province, i] + dev[..., 0]
            own_slope[province, j] += params.slope[:, c, i] - slope[province, i] + dev[..., 1]
    own_speed = np.maximum(own_slope, 0.0)
    own_paths = np.empty((Y, S, G, len(own), D), dtype=path_dtype)
    z_own = np.empty((S, G, len(own), D))

    # the latent state's deviation from the line at each indicator's jump-off (calibrate/jumpoff.py): added to
    # the path in the jump-off year, so the projection starts where the series is, not on the fitted line
    jump_z = jump_own = None
    if params.jump_shift is not None:
        anchors = [params.series.index((spec.name, spec.anchor)) for spec in cfg.indicators]
        jump_z = params.jump_shift[:, gidx][:, :, anchors].transpose(1, 2, 0)               # (G, I, D)
        jump_own = params.jump_shift[:, gidx][:, :, list(own)].transpose(1, 2, 0)           # (G, n_own, D)

    def start_state(year: int) -> None:
        at = year == fit_until
        if jump_z is not None and at.any():
            z[:, :, at] += jump_z[:, at]
            z_own[:, :, at[own_ind]] += jump_own[:, at[own_ind]]

    z_paths = np.empty((Y, S, G, I, D), dtype=path_dtype)
    z = np.empty((S, G, I, D))
    mult = np.empty_like(z)                                # speed multiplier of this year's step
    step = np.empty_like(z)
    for y, year in progress.track(enumerate(years), "ensemble years", total=Y, unit="year"):
        if year <= first_step:
            z[...] = level + slope * wdt[y]
            z_own[...] = level[:, own_ind] + own_slope * wdt[y][own_ind] + own_offset
            start_state(year)
            z_paths[y], own_paths[y] = z, z_own
            continue
        # m ** e = exp(e log m), computed only for scenarios where some multiple differs from 1 this year
        log_own = drivers.log_investment[:, y][:, :, pillar_of]                     # (S, G, I)
        log_bb = drivers.log_investment[:, y, :, broadband]                         # (S, G)
        invested = np.any(log_own, axis=(1, 2)) | np.any(log_bb, axis=1)
        plain = ~invested                                  # scenarios whose multiplier is 1 everywhere this year
        mult[plain] = 1.0
        if invested.any():
            a = np.flatnonzero(invested)
            m = elasticity * log_own[a][..., None]                                  # (A, G, I, D)
            if model is not None:
                m *= model.elasticity_scale[a][:, None, :, None]
            if np.any(log_bb[a]):
                bb = cross * log_bb[a][..., None]       # (A, G, D); cross > 0, so log(0) gives -inf, never nan
                if model is not None:
                    bb *= model.cross_scale[a][:, None, None]
                m[:, :, cross_ind] += bb[:, :, None, :]
            mult[a] = np.exp(m)
        if config_damped:
            mult *= damping ** np.maximum(year - fit_until, 0)[:, None]
            plain[:] = False
        if damped:
            mult *= wdt[y] - wdt[y - 1]                   # this year's warped time (1 where undamped)
            plain[:] = False
        event = drivers.event_speed[:, y]
        if np.any(event != 1):
            mult *= event[..., None]
            plain &= np.all(event == 1, axis=(1, 2))
        if rollouts is not None:
            rollouts.multiply_into(mult, rollouts.speed, y)
            plain &= np.all(rollouts.speed[y] == 1, axis=(1, 2, 3))
        sp, own_sp = speed, own_speed
        if dslope is not None:
            sp = np.maximum(slope + dslope, 0.0)                                    # (S, G, I, D)
            own_sp = np.maximum(own_slope + dslope[:, :, own_ind], 0.0)
        if plain.all():
            z += sp
            z_own += own_sp
        else:
            z += np.multiply(mult, sp, out=step)
            z_own += own_sp * mult[:, :, own_ind]
        if dslope is not None:
            dslope += shock_sd * slope_rng.standard_normal((all_geos, I, D))[noise_geos]
        shock = noise_rng.standard_normal((all_geos, I, D))[noise_geos]
        shock *= process_sd
        z += shock
        if own:
            z_own += shock[:, own_ind]
        if steps_on:
            ceiling = np.minimum(anchor_ceiling[:, None] + drivers.ceiling_lift[:, y][..., None]
                                 + rollouts.at(rollouts.ceiling_lift, y), 100.0)
            _step_share(z, laws, ceiling, rollouts.at(rollouts.share_step, y))
        fitted = year <= fit_until                       # indicators whose data reach this year: still the fit
        if fitted.any():
            z[:, :, fitted] = (level[:, fitted] + slope[:, fitted] * wdt[y][fitted])[None]
            if dslope is not None:
                dslope[:, :, fitted] = 0.0
            mine = fitted[own_ind]
            z_own[:, :, mine] = (level[:, own_ind[mine]] + own_slope[:, mine] * wdt[y][own_ind[mine]]
                                 + own_offset[:, mine])[None]
            start_state(year)
        z_paths[y], own_paths[y] = z, z_own

    return Ensemble(
        scenarios=scenarios, geos=geos, years=tuple(int(y) for y in years), indicators=cfg.indicator_names,
        series=params.series, draws=D, first_projected_year=jump_off_year + 1, laws=laws, z=z_paths,
        series_offset=params.offset.T.copy(),
        series_ceiling=np.array([cfg.indicator(i).definition(d).ceiling for i, d in params.series]),
        own_series=own, own_z=own_paths, event_lift=np.moveaxis(drivers.ceiling_lift, 1, 0), rollouts=rollouts,
        series_first_projected=series_first_projected)


def _step_share(z: np.ndarray, laws: tuple[Law, ...], ceiling: np.ndarray, points: np.ndarray) -> None:
    """In place: raise the anchor share by ``points`` (scenario, geo, indicator, draw) at anchor ceilings
    ``ceiling`` (same shape), capped just below the ceiling; z never decreases."""
    for i, law in enumerate(laws):
        jump = points[:, :, i] > 0
        if jump.any():
            zi = z[:, :, i][jump]
            fraction = np.clip(law.to_fraction(zi) + points[:, :, i][jump] / ceiling[:, :, i][jump], 1e-9, 1 - 1e-9)
            z[:, :, i][jump] = np.maximum(law.to_linear(fraction), zi)


def check_memory(S: int, D: int, G: int, I: int, Y: int) -> None:
    """Refuse a run whose latent paths and per-year working arrays would not fit in ``BYTES_LIMIT``."""
    need = 8 * S * D * G * I * (Y + 4)
    if need > BYTES_LIMIT:
        raise MemoryError(f"{S} scenario(s) x {D} draws x {G} geos x {Y} years needs about {need / 2**30:.1f} GiB "
                          f"(limit {BYTES_LIMIT / 2**30:.0f} GiB); use fewer draws or geos")


def _check_sampling_memory(calibrator: Calibrator, draws: int) -> None:
    """Refuse before sampling: the parameter draws cover every known geo, about 8 x draws x (4 x geos x
    indicators + 2 x parameters) bytes at their peak."""
    per_draw = 8 * (4 * len(calibrator.geos_) * len(calibrator.config.indicators)
                    + 2 * max(post.n_params for post in calibrator.posteriors_.values()))
    if draws * per_draw > BYTES_LIMIT:
        raise MemoryError(f"{draws} draws need about {draws * per_draw / 2**30:.1f} GiB for the parameter draws "
                          f"(limit {BYTES_LIMIT / 2**30:.0f} GiB); use at most {BYTES_LIMIT // per_draw} draws")


def reference_times(cfg: CalibrationConfig) -> np.ndarray:
    """t0 per indicator: the reference year at the indicator's reading month."""
    return np.array([cfg.reference_year + spec.reading_month / 12.0 for spec in cfg.indicators])


def seed_streams(seed: int) -> tuple[np.random.SeedSequence, ...]:
    """The run's random streams: parameters, process noise, programme rollouts (common to all scenarios), slope
    shocks (children of one SeedSequence: adding the fourth leaves the first three unchanged)."""
    return tuple(np.random.SeedSequence(seed).spawn(4))


def ensemble_years(calibrator: Calibrator, horizon: int) -> np.ndarray:
    """The simulated years: from the first reported (or jump-off) year to the horizon."""
    return np.arange(min(calibrator.config.first_year, calibrator.jump_off_year_), horizon + 1)


def sample_parameters(calibrator: Calibrator, draws: int, seed: int) -> ParameterDraws:
    """The parameter draws of a run with ``seed`` (its first stream), as ``run_ensemble`` samples them."""
    _check_sampling_memory(calibrator, draws)
    return calibrator.sample(draws, np.random.default_rng(seed_streams(seed)[0]))


def run_ensemble(calibrator: Calibrator, scenarios: list[Scenario], draws: int, seed: int,
                 rollouts: Sequence[Rollouts | None] | None = None,
                 geos: tuple[str, ...] | None = None, path_dtype: type = PATH_DTYPE) -> Ensemble:
    """Sample parameters and noise from ``seed`` and simulate the scenarios (same geos and horizon).
    Programmes: ``rollouts`` per scenario (None: no programmes), by default simulated from the seed's rollout
    stream. ``geos``: simulate only these of the scenarios' geos (their values are the same as in the full run).
    The model simulates the old provinces the scenario's geos are made of; the result reads the scenario's geos,
    a merged province being the weighted mean of its parts per draw (geography.py)."""
    cfg = calibrator.config
    all_geos = scenarios[0].geos
    horizon = scenarios[0].horizon
    for s in scenarios[1:]:
        if s.geos != all_geos or s.horizon != horizon:
            raise ValueError("scenarios simulated together need the same geos and horizon")
    regions = scenarios[0].resolved_regions(cfg)
    aggregation = aggregation_for(cfg, regions)
    if geos is not None:
        aggregation = aggregation.select(tuple(geos))
    all_model = load_geomap(cfg).model_geos_of(regions)
    model = aggregation.model_geos
    _, noise_seq, rollout_seq, slope_seq = seed_streams(seed)
    years = ensemble_years(calibrator, horizon)
    check_memory(len(scenarios), draws, len(model), len(cfg.indicators), len(years))
    params = sample_parameters(calibrator, draws, seed)
    drivers = Drivers.from_scenarios(scenarios, cfg, years, calibrator.jump_off_year_ + 1)
    if model != all_model:
        drivers = drivers.select_geos([all_model.index(g) for g in model])
    if rollouts is None:
        rollouts = [scenario_rollouts(s, cfg, years, draws, rollout_seq) if s.programmes else None
                    for s in scenarios]
    rollout_drivers = None
    if any(r is not None for r in rollouts):
        rollout_drivers = RolloutDrivers.from_rollouts(rollouts, model, cfg.indicator_names, years, draws,
                                                       calibrator.jump_off_year_, {r.name: r.parts for r in regions})
    return simulate(cfg, params, drivers, tuple(s.name for s in scenarios), model, years,
                    calibrator.jump_off_year_, reference_times(cfg), np.random.default_rng(noise_seq),
                    rollout_drivers, path_dtype, slope_rng=np.random.default_rng(slope_seq),
                    **data_ends(calibrator, params)).aggregated(aggregation)


def data_ends(calibrator: Calibrator, params: ParameterDraws) -> dict[str, Any]:
    """``simulate``'s ``indicator_jump_off`` and ``series_first_projected``: where the calibration's data end."""
    through = calibrator.data_through_
    return {"indicator_jump_off": np.array([through.indicator[i] for i in calibrator.config.indicator_names]),
            "series_first_projected": tuple(through.series_jump_off(i, d) + 1 for i, d in params.series)}
