"""One backtest origin: what every method knows at its end, and the scores of every later reading.

A reading at a month other than the indicator's reading month lies between two yearly ensemble values: each
draw is interpolated linearly (in percent) between them. Methods:

- ``dxsim``: the ensemble's latent share, exactly what trajectories.csv and the target probabilities use;
- ``dxsim_reading``: the same draws plus the fitted measurement noise (the sd of the reading's noise group,
  ``design.noise_groups``, in each draw's hyper-parameter sample, on the law's transformed scale): dxsim's
  predictive distribution of a *reading*;
- the baselines of ``dxsim.analyses.baselines``, on the same readings available at the origin.

Scores are those of ``dxsim.analyses.scoring``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dxsim.analyses import baselines
from dxsim.analyses.baselines import BASELINES, SERIES_KEY
from dxsim.analyses.forecast_asof import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    baseline_scenario,
    draws_at,
    forecast_geos,
)
from dxsim.analyses.scoring import covered, crps_samples, log_score, pit, quasi_levels
from dxsim.core.calibrate import Calibrator
from dxsim.core.design import noise_group_of
from dxsim.core.ensemble import run_ensemble
from dxsim.core.evidence import evidence_of
from dxsim.core.merged_readings import split_merged
from dxsim.core.model import reading_share, share_to_z
from dxsim.core.paths import Ensemble
from dxsim.errors import ArgumentError
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.observations import NATIONAL, is_percent_unit
from dxsim.pipeline import Inputs

QUASI_SAMPLES = 1000                  # quantile levels per baseline forecast
INTERVALS = (0.5, 0.8, 0.95)
METHODS = ("dxsim", "dxsim_reading") + BASELINES
SCORE_COLUMNS = ("method", "origin", "row", "geo", "indicator", "definition", "year", "period", "time",
                 "horizon", "value", "n_history", "evidence", "median", "lo80", "hi80", "lo95", "hi95", "abs_error",
                 "covered_50", "covered_80", "covered_95", "crps", "log_score", "pit")


def _point_rng(seed: int, origin: int, row: int) -> np.random.Generator:
    """A generator per scored reading, so a reading's noise does not depend on which others are scored."""
    return np.random.default_rng([seed, origin, zlib.crc32(f"{row}".encode())])


def with_measurement_noise(cfg: CalibrationConfig, calibrator: Calibrator, indicator: str, definition: str,
                           latent: np.ndarray, rng: np.random.Generator, geo: str = "", period: object = None
                           ) -> np.ndarray:
    """Latent draws (.., draw) plus each draw's measurement noise on the law's scale: the sd of the reading's
    noise group (a provincial reading, one of ``vietnam`` or a national aggregate, or, for a ``flow`` indicator,
    a partial-year reading: ``IndicatorPosterior.obs_sd``). A reading is
    published at 0 or at the ceiling when the share lies within ``share_clip`` of it (the fit reads such a
    reading as the clip value): the forecast of a reading puts that probability on the bound itself, so a
    reading of exactly 100% of eligible services can fall inside it."""
    spec = cfg.indicator(indicator)
    ceiling = spec.definition(definition).ceiling
    post = calibrator.posteriors_[indicator]
    group = int(noise_group_of(spec, np.array([geo], object), np.array([period], object), cfg.aggregates)[0])
    obs_sd = post.obs_sd(group, latent.shape[-1])
    z = share_to_z(spec.law, latent, ceiling, cfg.share_clip) + obs_sd * rng.standard_normal(latent.shape)
    return reading_share(spec.law, z, ceiling, cfg.share_clip)


# ---- one origin --------------------------------------------------------------------------------------------
def _percent_series(frame: pd.DataFrame, origin: int) -> pd.DataFrame:
    """Every percent reading dated up to ``origin`` that is not superseded or excluded: modelled series and
    the recorded (unmodelled) ones, for the baselines' empirical change distribution."""
    percent = frame["unit"].map(is_percent_unit)
    ok = frame["status"].isin(["used", "indicator not modelled"]) & percent & frame["value"].between(0, 100)
    return frame[ok & (frame["year"] <= origin)]


@dataclass(frozen=True)
class OriginFit:
    """What every method knows at the end of ``origin``: dxsim calibrated on the readings dated up to it and
    its baseline-scenario ensemble, the used readings up to it (``history``), and the baselines' shared band
    (``deviation`` at the quasi-sample ``levels``; None when no series has two readings)."""

    origin: int
    config: CalibrationConfig
    calibrator: Calibrator
    ensemble: Ensemble
    history: pd.DataFrame
    deviation: np.ndarray | None
    levels: np.ndarray


def fit_origin(inputs: Inputs, origin: int, horizon: int, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
               geos: tuple[str, ...] = ()) -> OriginFit:
    """Calibrate with the readings dated up to ``origin`` and simulate the baseline scenario to ``horizon`` for
    ``geos`` (besides the default ones)."""
    cfg = inputs.config
    frame = inputs.observations
    # scored on the model's (pre-2025) geos; readings of merged provinces inform the fit only
    used = split_merged(frame[frame["status"] == "used"], load_geomap(cfg))[0]
    history = used[used["year"] <= origin]
    # start the ensemble a year before the first reading so every reading's time lies inside it (the years up
    # to the origin are the fitted path, which uses no random numbers: later years are unchanged by this)
    first = min(cfg.first_year, int(used["year"].min()) - 1)
    calibrator = Calibrator(replace(cfg, first_year=first)).fit(frame, as_of=origin)
    ensemble = run_ensemble(calibrator, [baseline_scenario(forecast_geos(cfg, history, tuple(geos)), horizon,
                                                           draws, seed)], draws, seed)
    levels = quasi_levels(QUASI_SAMPLES)
    steps = baselines.empirical_steps(_percent_series(frame, origin))
    deviation = baselines.step_deviation(steps, levels) if len(steps) else None
    return OriginFit(origin, cfg, calibrator, ensemble, history, deviation, levels)


def baseline_forecasts(fit: OriginFit, geo: str, indicator: str, definition: str,
                       when: np.ndarray) -> dict[str, np.ndarray]:
    """Each baseline's samples (len(when), samples) of one series at decimal times ``when``, from the series'
    readings up to the origin (a flow's full-year ones: ``baselines.yearly_readings``); a baseline that is not
    available for the series is left out."""
    cfg, history = fit.config, fit.history
    mine = (history["geo"] == geo) & (history["indicator"] == indicator) & (history["definition"] == definition)
    spec = cfg.indicator(indicator)
    past = baselines.yearly_readings(spec, history[mine])
    if not len(past) or fit.deviation is None:
        return {}
    t, v, y = (past[c].to_numpy() for c in ("time", "value", "year"))
    t_last, v_last = baselines.collapse(t, v)
    national_last = draws_at(fit.ensemble, cfg, NATIONAL, indicator, definition, t_last[-1:])[0]
    national_when = draws_at(fit.ensemble, cfg, NATIONAL, indicator, definition, when)
    out = {"last_value": baselines.last_value(t, v, when, fit.deviation),
           "linear_trend": baselines.linear_trend(t, v, when, fit.deviation, fit.levels),
           "ets_damped": baselines.ets_damped(y, t, v, spec.reading_month, when, fit.deviation),
           "national_shift": baselines.national_shift(v_last[-1], national_last, national_when, spec.law,
                                                      spec.definition(definition).ceiling, cfg.share_clip)}
    out = {method: fc for method, fc in out.items() if fc is not None}
    mixed = baselines.combination(out, fit.levels)
    return out if mixed is None else {**out, "combination": mixed}


def later_readings(inputs: Inputs, origin: int) -> pd.DataFrame:
    """Used readings dated after ``origin``, sorted by series and time (index: row in the observations)."""
    used = inputs.observations[inputs.observations["status"] == "used"]
    return used[used["year"] > origin].sort_values(SERIES_KEY + ["time", "value"], kind="stable")


def score_origin(inputs: Inputs, origin: int, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
                 fit: OriginFit | None = None) -> pd.DataFrame:
    """Forecast as of ``origin`` and score every later used reading, for dxsim and each baseline. One row per
    (method, reading) that the method can forecast; columns ``SCORE_COLUMNS``. ``fit``: an ``OriginFit`` of
    this origin whose ensemble covers the later readings (made here when not given)."""
    cfg = inputs.config
    used = inputs.observations[inputs.observations["status"] == "used"]
    later = later_readings(inputs, origin)
    if (used["year"] <= origin).sum() == 0 or later.empty:
        raise ArgumentError("origins",
                         f"origin {origin} needs readings dated {origin} or earlier and later ones to score "
                         f"(used readings run {used['year'].min()}-{used['year'].max()})")
    if fit is None:
        fit = fit_origin(inputs, origin, int(later["year"].max()) + 1, draws, seed, tuple(later["geo"]))
    samples: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    points: dict[str, list[dict]] = {m: [] for m in METHODS}
    for (geo, ind, dfn), rows in later.groupby(SERIES_KEY, sort=True):
        when = rows["time"].to_numpy(float)
        mine = (fit.history["geo"] == geo) & (fit.history["indicator"] == ind) & (fit.history["definition"] == dfn)
        evidence = evidence_of(fit.history, [geo], [ind], [dfn])[0]      # own, pooled or prior at the origin
        info = [{"origin": origin, "row": int(i) + 1, "geo": geo, "indicator": ind, "definition": dfn,
                 "year": int(r.year), "period": r.period, "time": float(r.time),
                 "horizon": int(r.year) - origin, "value": float(r.value), "n_history": int(mine.sum()),
                 "evidence": evidence}
                for i, r in zip(rows.index, rows.itertuples(), strict=True)]
        latent = draws_at(fit.ensemble, cfg, geo, ind, dfn, when)
        noisy = np.stack([with_measurement_noise(cfg, fit.calibrator, ind, dfn, latent[j],
                                                 _point_rng(seed, origin, p["row"]), geo, p["period"])
                          for j, p in enumerate(info)])
        forecasts = {"dxsim": latent, "dxsim_reading": noisy, **baseline_forecasts(fit, geo, ind, dfn, when)}
        for method, fc in forecasts.items():
            samples[method].extend(fc)
            points[method].extend(info)
    parts = [_score(method, points[method], np.array(samples[method]))
             for method in METHODS if points[method]]
    return pd.concat(parts, ignore_index=True)


def _score(method: str, info: list[dict], samples: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame(info)
    out.insert(0, "method", method)
    y = out["value"].to_numpy(float)
    q = np.quantile(samples, [0.5, 0.1, 0.9, 0.025, 0.975], axis=1)
    out["median"], out["lo80"], out["hi80"], out["lo95"], out["hi95"] = q
    out["abs_error"] = np.abs(q[0] - y)
    for level in INTERVALS:
        out[f"covered_{int(level * 100)}"] = covered(samples, y, level)
    out["crps"] = crps_samples(samples, y)
    out["log_score"] = log_score(samples, y)
    out["pit"] = pit(samples, y)
    return out[list(SCORE_COLUMNS)]
