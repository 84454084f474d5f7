"""The Monte Carlo ensemble: parameter draws x yearly process noise, vectorised over (scenario, draw, geo,
indicator); the only Python loop is over years (and over the few reported series when mapping to percent).

Up to the jump-off year the latent path is the calibrated fit (parameter uncertainty only). After it,
    z[y] = z[y-1] + max(slope, 0) * m_own**e * m_broadband**e_cross * event_speed + process_sd * noise,
so a larger investment multiple can only raise z, hence every share. Scenarios share the same draws and noise
(common random numbers), so differences between scenarios are not Monte Carlo noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .axes import QUANTILE_COLUMNS, QUANTILES
from .calibrate import Calibrator, ParameterDraws
from .config import PILLARS, CalibrationConfig
from .scenario import Scenario

BYTES_LIMIT = 6 * 2**30   # refuse runs whose per-year working arrays would exceed this


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
        effects = [s.event_effects(cfg.indicator_names, years) for s in scenarios]
        return cls(log_inv, np.stack([e[0] for e in effects]), np.stack([e[1] for e in effects]))


@dataclass(frozen=True)
class Ensemble:
    """Summaries of a simulated ensemble. ``quantiles``: (scenario, year, geo, series, quantile) in percent;
    ``mean``: (scenario, year, geo, series); ``values``: year -> (scenario, draw, geo, series) for the years
    kept (target deadlines)."""

    scenarios: tuple[str, ...]
    geos: tuple[str, ...]
    years: tuple[int, ...]
    series: tuple[tuple[str, str], ...]
    draws: int
    first_projected_year: int
    mean: np.ndarray
    quantiles: np.ndarray
    values: dict[int, np.ndarray]

    def trajectories(self) -> pd.DataFrame:
        """Tidy table: scenario, geo, indicator, definition, year, projected, mean, q05..q95 (percent)."""
        S, Y, G, K = self.mean.shape
        idx = np.indices((S, G, K, Y)).reshape(4, -1)
        s, g, k, y = idx
        frame = pd.DataFrame({
            "scenario": np.array(self.scenarios)[s], "geo": np.array(self.geos)[g],
            "indicator": np.array([i for i, _ in self.series])[k],
            "definition": np.array([d for _, d in self.series])[k],
            "year": np.array(self.years)[y],
        })
        frame["projected"] = frame["year"] >= self.first_projected_year
        frame["mean"] = self.mean[s, y, g, k]
        for q, col in enumerate(QUANTILE_COLUMNS):
            frame[col] = self.quantiles[s, y, g, k, q]
        return frame


def simulate(cfg: CalibrationConfig, params: ParameterDraws, drivers: Drivers, scenarios: tuple[str, ...],
             geos: tuple[str, ...], years: np.ndarray, jump_off_year: int, t0: np.ndarray,
             noise_rng: np.random.Generator, keep_years: tuple[int, ...] = (),
             speed_factor: np.ndarray | None = None) -> Ensemble:
    """Run the ensemble. ``t0`` (indicator,) is each indicator's reference time; ``speed_factor`` optionally
    multiplies the projected speed per (scenario, draw, year, geo, indicator) - programme rollouts use it."""
    D = params.level.shape[0]
    S, G, I, K = len(scenarios), len(geos), len(cfg.indicators), len(params.series)
    Y = len(years)
    _check_memory(S, D, G, I, K)
    gidx = np.array([params.geos.index(g) for g in geos])
    level = params.level[:, gidx, :]                      # (D, G, I)
    slope = params.slope[:, gidx, :]
    speed = np.maximum(slope, 0.0)                        # adoption speed is non-negative by construction
    laws = [spec.law for spec in cfg.indicators]
    months = np.array([spec.reading_month for spec in cfg.indicators], float)
    process_sd = np.array([spec.process_sd for spec in cfg.indicators])
    broadband = PILLARS.index("broadband")
    pillar_of = np.array([PILLARS.index(spec.pillar) for spec in cfg.indicators])
    not_broadband = (pillar_of != broadband).astype(float)
    series_ind = np.array([cfg.indicator_names.index(i) for i, _ in params.series])
    base_ceiling = np.array([cfg.indicator(i).definition(d).ceiling for i, d in params.series])
    anchor_ceiling = np.array([spec.definition(spec.anchor).ceiling for spec in cfg.indicators])
    elasticity = params.elasticity[None, :, None, :]      # (1, D, 1, I)
    cross = params.cross_elasticity[None, :, None, None]

    quantiles = np.empty((S, Y, G, K, len(QUANTILES)))
    mean = np.empty((S, Y, G, K))
    kept: dict[int, np.ndarray] = {}
    z = np.empty((S, D, G, I))
    out = np.empty((S, D, G, K))
    all_geos = len(params.geos)
    for y, year in enumerate(years):
        tau = year + months / 12.0                        # (I,)
        if year <= jump_off_year:
            z[...] = level + slope * (tau - t0)
        else:
            log_inv = drivers.log_investment[:, y][:, None]            # (S, 1, G, P)
            exponent = elasticity * log_inv[..., pillar_of] + cross * (log_inv[..., broadband][..., None]
                                                                        * not_broadband)
            with np.errstate(invalid="ignore"):
                step = np.exp(np.nan_to_num(exponent, nan=0.0, neginf=-np.inf))
            step *= drivers.event_speed[:, y][:, None] * speed
            if speed_factor is not None:
                step *= speed_factor[:, :, y]
            lift_now, lift_before = drivers.ceiling_lift[:, y], drivers.ceiling_lift[:, y - 1]
            if np.any(lift_now != lift_before):
                z = _rescale_for_ceiling(z, laws, anchor_ceiling + lift_before, anchor_ceiling + lift_now)
            z += step
            shock = noise_rng.standard_normal((D, all_geos, I))[:, gidx, :]
            z += process_sd * shock
        lift = drivers.ceiling_lift[:, y]                                  # (S, G, I)
        for k in range(K):
            i = series_ind[k]
            zk = z[..., i] + params.offset[None, :, None, k] \
                + params.slope_offset[None, :, None, k] * (tau[i] - t0[i])
            ceiling = np.minimum(base_ceiling[k] + lift[..., i], 100.0)[:, None, :]
            out[..., k] = laws[i].to_fraction(zk) * ceiling
        quantiles[:, y] = np.moveaxis(np.quantile(out, QUANTILES, axis=1), 0, -1)
        mean[:, y] = out.mean(axis=1)
        if year in keep_years:
            kept[int(year)] = out.copy()
    return Ensemble(scenarios=scenarios, geos=geos, years=tuple(int(y) for y in years), series=params.series,
                    draws=D, first_projected_year=jump_off_year + 1, mean=mean, quantiles=quantiles, values=kept)


def _rescale_for_ceiling(z: np.ndarray, laws: list, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Keep the share continuous when an event moves the ceiling: same percent, new fraction."""
    z = z.copy()
    for i, law in enumerate(laws):
        ratio = (old[..., i] / new[..., i])[:, None, :]
        fraction = np.clip(law.to_fraction(z[..., i]) * ratio, 1e-9, 1 - 1e-9)
        z[..., i] = law.to_linear(fraction)
    return z


def _check_memory(S: int, D: int, G: int, I: int, K: int) -> None:
    need = 8 * S * D * G * (3 * I + 3 * K)
    if need > BYTES_LIMIT:
        raise MemoryError(f"{S} scenario(s) x {D} draws x {G} geos needs about {need / 2**30:.1f} GiB per year "
                          f"of working memory (limit {BYTES_LIMIT / 2**30:.0f} GiB); use fewer draws or geos")


def reference_times(cfg: CalibrationConfig) -> np.ndarray:
    """t0 per indicator: the reference year at the indicator's reading month."""
    return np.array([cfg.reference_year + spec.reading_month / 12.0 for spec in cfg.indicators])


def run_ensemble(calibrator: Calibrator, scenarios: list[Scenario], draws: int, seed: int,
                 keep_years: tuple[int, ...] = ()) -> Ensemble:
    """Sample parameters and noise from ``seed`` and simulate the scenarios (same geos and horizon)."""
    cfg = calibrator.config
    geos = scenarios[0].geos
    horizon = scenarios[0].horizon
    for s in scenarios[1:]:
        if s.geos != geos or s.horizon != horizon:
            raise ValueError("scenarios simulated together need the same geos and horizon")
    param_seq, noise_seq = np.random.SeedSequence(seed).spawn(2)
    params = calibrator.sample(draws, np.random.default_rng(param_seq))
    first = min(cfg.first_year, calibrator.jump_off_year_)
    years = np.arange(first, horizon + 1)
    drivers = Drivers.from_scenarios(scenarios, cfg, years, calibrator.jump_off_year_ + 1)
    return simulate(cfg, params, drivers, tuple(s.name for s in scenarios), geos, years,
                    calibrator.jump_off_year_, reference_times(cfg), np.random.default_rng(noise_seq), keep_years)
