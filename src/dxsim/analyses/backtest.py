"""Forecasts as of a past year, and rolling-origin backtests of them against later readings and baselines.

``forecast_as_of`` calibrates on the readings dated up to the end of the origin year
(``Calibrator.fit(as_of=)``, so projections start the year after) and simulates the baseline scenario
(investment multiple 1 everywhere).

``run_backtest`` does this for each origin and scores every later "used" reading of a modelled series; the
horizon is the reading's year minus the origin. A reading at a month other than the indicator's reading
month lies between two yearly ensemble values: each draw is interpolated linearly (in percent) between them.
Methods:

- ``dxsim``: the ensemble's latent share, exactly what trajectories.csv and the target probabilities use;
- ``dxsim_reading``: the same draws plus the fitted measurement noise (``obs_sd`` of each draw's
  hyper-parameter sample, on the law's transformed scale): dxsim's predictive distribution of a *reading*;
- the baselines of ``dxsim.analyses.baselines``, on the same readings available at the origin.

Scores are those of ``dxsim.analyses.scoring``. Observations are dated by their ``year`` as the issue asks: the data
carry no publication dates except the statistics office's ``release``, and the latest release of a figure is
used at every origin, so the backtest is pseudo out-of-sample on final (revised) data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim import __version__, progress
from dxsim.analyses import baselines, judging
from dxsim.analyses.baselines import BASELINES, SERIES_KEY
from dxsim.analyses.scoring import covered, crps_samples, log_score, pit, quasi_levels
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import Ensemble, run_ensemble
from dxsim.errors import InputError
from dxsim.inputs.config import DEFAULT_CONFIG, CalibrationConfig
from dxsim.inputs.geography import load_geomap, model_regions
from dxsim.inputs.merged_readings import split_merged
from dxsim.inputs.observations import NATIONAL, YEAR_RANGE, is_percent_unit, known_geos, used_observations
from dxsim.inputs.scenario import DEFAULT_GEOS, Scenario
from dxsim.outputs.results import atomic_output_dir, sha256_file, write_csv, write_json
from dxsim.pipeline import Inputs, load_inputs

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 0
DEFAULT_HORIZON = 2030
DEFAULT_OUT = Path("results/backtest")
QUASI_SAMPLES = 1000                  # quantile levels per baseline forecast
INTERVALS = (0.5, 0.8, 0.95)
METHODS = ("dxsim", "dxsim_reading") + BASELINES
SCORE_COLUMNS = ("method", "origin", "row", "geo", "indicator", "definition", "year", "period", "time",
                 "horizon", "value", "n_history", "median", "lo80", "hi80", "lo95", "hi95", "abs_error",
                 "covered_50", "covered_80", "covered_95", "crps", "log_score", "pit")
SKILL_COLUMNS = ("method", "indicator", "definition", "horizon", "history", "n", "mae_median", "coverage_50",
                 "coverage_80", "coverage_95", "crps", "log_score", "mean_pit", "dxsim_mae_same_points",
                 "dxsim_crps_same_points", "dxsim_crps_skill", "reading_crps_same_points", "reading_crps_skill")
CLI_SOURCE = "command line"


# ---- forecast as of a year ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Forecast:
    """A baseline-scenario forecast made with the readings dated up to the end of ``as_of``."""

    as_of: int
    calibrator: Calibrator
    ensemble: Ensemble
    manifest: dict

    @property
    def trajectories(self) -> pd.DataFrame:
        return self.ensemble.trajectories()


def baseline_scenario(geos: tuple[str, ...], horizon: int, draws: int, seed: int) -> Scenario:
    """The baseline scenario in code: investment multiple 1 in every pillar, no events."""
    return Scenario(name="baseline", description="investment at the calibrated baseline effort (multiple 1)",
                    horizon=horizon, draws=draws, seed=seed, geos=tuple(geos), unit="multiple", investment={},
                    regions=model_regions(geos))


def forecast_geos(cfg: CalibrationConfig, available: pd.DataFrame,
                  extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Geos with a reading in ``available``, the national series, the default scenario geos and ``extra``, in
    the known-geo order (``vietnam`` first). A geo's values do not depend on which other geos are simulated
    (the ensemble draws its noise for every known geo)."""
    wanted = set(available["geo"]) | set(DEFAULT_GEOS) | {NATIONAL} | set(extra)
    return tuple(g for g in known_geos(cfg) if g in wanted)


def _check_year(value: int, option: str) -> None:
    if not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise InputError(CLI_SOURCE, option,
                         f"must be a year in {YEAR_RANGE[0]}-{YEAR_RANGE[1]}, got {value}")


def forecast_as_of(inputs: Inputs, as_of: int, horizon: int | None = None, draws: int = DEFAULT_DRAWS,
                   seed: int = DEFAULT_SEED) -> Forecast:
    """Calibrate on ``inputs`` using only readings dated up to the end of ``as_of`` and project the baseline
    scenario to ``horizon`` (default 2030, or the year after ``as_of``)."""
    cfg = inputs.config
    _check_year(as_of, "--as-of")
    horizon = int(horizon) if horizon is not None else max(DEFAULT_HORIZON, as_of + 1)
    _check_year(horizon, "--horizon")
    if horizon <= as_of:
        raise InputError(CLI_SOURCE, "--horizon", f"must be after --as-of {as_of}, got {horizon}")
    available = used_observations(inputs.observations, as_of)
    if available.empty:
        raise InputError(inputs.observations_path, "year", f"no usable reading is dated {as_of} or earlier")
    calibrator = Calibrator(cfg).fit(inputs.observations, as_of=as_of)
    scenario = baseline_scenario(forecast_geos(cfg, available), horizon, draws, seed)
    ensemble = run_ensemble(calibrator, [scenario], draws, seed)
    manifest = {
        "dxsim_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": "forecast",
        "as_of": as_of,
        "horizon": horizon,
        "scenario": {"name": scenario.name, "description": scenario.description, "geos": list(scenario.geos)},
        "observations": {"file": str(inputs.observations_path),
                         "sha256": sha256_file(inputs.observations_path),
                         "rows_used": int(len(calibrator.observations_)),
                         "last_year_used": int(calibrator.observations_["year"].max())},
        "calibration": {"config": str(cfg.path), "sha256": sha256_file(cfg.path),
                        "jump_off_year": calibrator.jump_off_year_, "as_of": as_of},
        "seed": seed,
        "draws": draws,
    }
    return Forecast(as_of, calibrator, ensemble, manifest)


def write_forecast(forecast: Forecast, out: str | Path) -> Path:
    """trajectories.csv (run schema), observations_used.csv and manifest.json, atomically to ``out``."""
    out = Path(out)
    with atomic_output_dir(out) as tmp:
        write_csv(forecast.trajectories, tmp / "trajectories.csv")
        write_csv(forecast.calibrator.observations_, tmp / "observations_used.csv")
        write_json(forecast.manifest, tmp / "manifest.json")
    return out


# ---- draws at a reading's time -----------------------------------------------------------------------------
def draws_at(ensemble: Ensemble, cfg: CalibrationConfig, geo: str, indicator: str, definition: str,
             times: np.ndarray) -> np.ndarray:
    """Latent draws (len(times), draw) in percent of one series at decimal ``times``: the yearly values sit at
    the indicator's reading month; between two of them each draw is interpolated linearly."""
    month = cfg.indicator(indicator).reading_month
    g, k = ensemble.geos.index(geo), ensemble.series.index((indicator, definition))
    pos = np.asarray(times, float) - month / 12.0
    year = np.floor(pos + 1e-9).astype(int)
    weight = np.where(pos - year < 1e-9, 0.0, pos - year)
    out = np.empty((len(pos), ensemble.draws))
    for j, (y, w) in enumerate(zip(year, weight, strict=True)):
        missing = [int(v) for v in (y, y + 1)[: 1 + (w > 0)] if int(v) not in ensemble.years]
        if missing:
            raise ValueError(f"the ensemble does not cover year(s) {missing} needed at time {pos[j]:.3f}")
        out[j] = ensemble.values(int(y), series=[k], geos=[g])[0, 0, 0]
        if w > 0:
            out[j] = (1 - w) * out[j] + w * ensemble.values(int(y) + 1, series=[k], geos=[g])[0, 0, 0]
    return out


def _point_rng(seed: int, origin: int, row: int) -> np.random.Generator:
    """A generator per scored reading, so a reading's noise does not depend on which others are scored."""
    return np.random.default_rng([seed, origin, zlib.crc32(f"{row}".encode())])


def with_measurement_noise(cfg: CalibrationConfig, calibrator: Calibrator, indicator: str, definition: str,
                           latent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Latent draws (.., draw) plus each draw's measurement noise ``obs_sd`` on the law's scale. A reading is
    published at 0 or at the ceiling when the share lies within ``share_clip`` of it (the fit reads such a
    reading as the clip value): the forecast of a reading puts that probability on the bound itself, so a
    reading of exactly 100% of eligible services can fall inside it."""
    spec = cfg.indicator(indicator)
    ceiling = spec.definition(definition).ceiling
    post = calibrator.posteriors_[indicator]
    draws = latent.shape[-1]
    obs_sd = post.hypers[np.arange(draws) % len(post.hypers), 2]   # draw i uses mixture part i % H
    lo, hi = cfg.share_clip
    z = spec.law.to_linear(np.clip(latent / ceiling, lo, hi))
    z = z + obs_sd * rng.standard_normal(latent.shape)
    fraction = spec.law.to_fraction(z)
    return np.where(fraction >= hi, 1.0, np.where(fraction <= lo, 0.0, fraction)) * ceiling


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
    readings up to the origin; a baseline that is not available for the series is left out."""
    cfg, history = fit.config, fit.history
    mine = (history["geo"] == geo) & (history["indicator"] == indicator) & (history["definition"] == definition)
    past = history[mine]
    if not len(past) or fit.deviation is None:
        return {}
    t, v, y = (past[c].to_numpy() for c in ("time", "value", "year"))
    spec = cfg.indicator(indicator)
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
        raise InputError(CLI_SOURCE, "--origins",
                         f"origin {origin} needs readings dated {origin} or earlier and later ones to score "
                         f"(used readings run {used['year'].min()}-{used['year'].max()})")
    if fit is None:
        fit = fit_origin(inputs, origin, int(later["year"].max()) + 1, draws, seed, tuple(later["geo"]))
    samples: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    points: dict[str, list[dict]] = {m: [] for m in METHODS}
    for (geo, ind, dfn), rows in later.groupby(SERIES_KEY, sort=True):
        when = rows["time"].to_numpy(float)
        mine = (fit.history["geo"] == geo) & (fit.history["indicator"] == ind) & (fit.history["definition"] == dfn)
        info = [{"origin": origin, "row": int(i) + 1, "geo": geo, "indicator": ind, "definition": dfn,
                 "year": int(r.year), "period": r.period, "time": float(r.time),
                 "horizon": int(r.year) - origin, "value": float(r.value), "n_history": int(mine.sum())}
                for i, r in zip(rows.index, rows.itertuples(), strict=True)]
        latent = draws_at(fit.ensemble, cfg, geo, ind, dfn, when)
        noisy = np.stack([with_measurement_noise(cfg, fit.calibrator, ind, dfn, latent[j],
                                                 _point_rng(seed, origin, p["row"]))
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


# ---- backtest ----------------------------------------------------------------------------------------------
def default_origins(cfg: CalibrationConfig, observations: pd.DataFrame) -> tuple[int, ...]:
    """Every year from the config's first year that leaves at least one later used reading (2020-2024 on the
    shipped data, whose readings run to 2025)."""
    used = observations[observations["status"] == "used"]
    return tuple(y for y in range(cfg.first_year, int(used["year"].max())) if (used["year"] <= y).any())


@dataclass(frozen=True)
class Backtest:
    origins: tuple[int, ...]
    draws: int
    seed: int
    scores: pd.DataFrame
    skill: pd.DataFrame
    paired: pd.DataFrame       # judging.PAIRED_COLUMNS
    coverage: pd.DataFrame     # judging.COVERAGE_COLUMNS


def run_backtest(inputs: Inputs, origins: tuple[int, ...] | None = None, draws: int = DEFAULT_DRAWS,
                 seed: int = DEFAULT_SEED) -> Backtest:
    """Rolling-origin evaluation: ``score_origin`` for each origin, then ``skill_table``."""
    origins = tuple(sorted(set(origins))) if origins else default_origins(inputs.config, inputs.observations)
    if not origins:
        raise InputError(inputs.observations_path, "year", "no origin leaves a later reading to score")
    for origin in origins:
        _check_year(origin, "--origins")
    scores = pd.concat([score_origin(inputs, o, draws, seed)
                        for o in progress.track(origins, "backtest origins", unit="origin")], ignore_index=True)
    order = {m: i for i, m in enumerate(METHODS)}
    scores = scores.sort_values(["origin", "row", "method"], key=lambda c: c.map(order) if c.name == "method"
                                else c, kind="stable").reset_index(drop=True)
    return Backtest(origins, draws, seed, scores, skill_table(scores),
                    judging.paired_table(scores, inputs.config.headline), judging.coverage_table(scores))


def skill_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per method and group: (indicator, definition, horizon), each also aggregated as "all"; over
    all indicators also split by ``history``: "yes" where the series had a reading at the origin, "no" where
    dxsim forecast it from the pooled distribution alone ("any": both). The dxsim_* columns are dxsim's scores
    on exactly the same readings as the row's method; ``dxsim_crps_skill`` = 1 - dxsim CRPS / method CRPS
    (> 0: dxsim is better on those readings). ``reading_crps_*`` are the same for ``dxsim_reading`` (dxsim's
    forecast of the reading, measurement noise included): the like-for-like comparison with a baseline, whose
    forecast is also of the reading."""
    frame = scores.assign(horizon=scores["horizon"].astype(str),
                          history=np.where(scores["n_history"] > 0, "yes", "no"))
    dxsim = frame[frame["method"] == "dxsim"].set_index(["origin", "row"])[["abs_error", "crps"]]
    reading = frame[frame["method"] == "dxsim_reading"].set_index(["origin", "row"])["crps"]
    rows = []
    for keys in (["indicator", "definition", "horizon"], ["indicator", "definition"], ["horizon"], [],
                 ["history", "horizon"], ["history"]):
        grouped = frame.groupby(["method"] + keys if keys else "method", sort=False)
        for key, part in grouped:
            key = key if isinstance(key, tuple) else (key,)
            label = dict(zip(["method"] + keys, key, strict=True))
            points = list(zip(part["origin"], part["row"], strict=True))
            mine = dxsim.loc[points]
            read = float(reading.loc[points].mean())
            crps = float(part["crps"].mean())
            rows.append({
                "method": label["method"], "indicator": label.get("indicator", "all"),
                "definition": label.get("definition", "all"), "horizon": label.get("horizon", "all"),
                "history": label.get("history", "any"),
                "n": len(part), "mae_median": float(part["abs_error"].mean()),
                **{f"coverage_{int(lv * 100)}": float(part[f"covered_{int(lv * 100)}"].mean())
                   for lv in INTERVALS},
                "crps": crps, "log_score": float(part["log_score"].mean()),
                "mean_pit": float(part["pit"].mean()),
                "dxsim_mae_same_points": float(mine["abs_error"].mean()),
                "dxsim_crps_same_points": float(mine["crps"].mean()),
                "dxsim_crps_skill": 1.0 - float(mine["crps"].mean()) / crps if crps > 0 else np.nan,
                "reading_crps_same_points": read,
                "reading_crps_skill": 1.0 - read / crps if crps > 0 else np.nan,
            })
    skill = pd.DataFrame(rows, columns=list(SKILL_COLUMNS))
    order = {m: i for i, m in enumerate(METHODS)}
    sort_key = skill.assign(_all=(skill["indicator"] == "all").astype(int), _m=skill["method"].map(order),
                            _h=skill["horizon"].map(lambda h: 99 if h == "all" else int(h)))
    sort_key = sort_key.sort_values(["_all", "indicator", "definition", "history", "_h", "_m"], kind="stable")
    return skill.loc[sort_key.index].reset_index(drop=True)


def skill_text(skill: pd.DataFrame) -> str:
    """The compact table: every method over all readings, then by horizon; then dxsim on the readings whose
    series had a reading at the origin and on those it forecast from the pooled distribution alone."""
    head = (f"{'method':<15} {'history':>7} {'horizon':>7} {'n':>4} {'MAE':>6} {'cov50':>6} {'cov80':>6} "
            f"{'cov95':>6} {'CRPS':>6} {'logS':>6} {'dxsim_reading CRPS same pts':>28}")
    lines = [head, "-" * len(head)]
    overall = skill[skill["indicator"] == "all"]
    horizons = ["all"] + sorted((h for h in overall["horizon"].unique() if h != "all"), key=int)
    blocks = [overall[(overall["history"] == "any") & (overall["horizon"] == h)] for h in horizons]
    blocks += [overall[(overall["history"] == hist) & (overall["horizon"] == "all")
                       & overall["method"].isin(["dxsim", "dxsim_reading"])] for hist in ("yes", "no")]
    for block in blocks:
        for r in block.itertuples():
            lines.append(f"{r.method:<15} {r.history:>7} {r.horizon:>7} {r.n:>4} {r.mae_median:6.2f} "
                         f"{r.coverage_50:6.2f} {r.coverage_80:6.2f} {r.coverage_95:6.2f} {r.crps:6.2f} "
                         f"{r.log_score:6.2f} {r.reading_crps_same_points:28.2f}")
    return "\n".join(lines)


def plot_coverage(scores: pd.DataFrame, path: Path) -> Path:
    """pit.png: nominal vs empirical central-interval coverage per method (left; from the PIT values, so every
    level is read off the same scores) and dxsim's PIT histogram (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nominal = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4))
    left.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--", label="perfect calibration")
    for method in METHODS:
        p = scores.loc[scores["method"] == method, "pit"].to_numpy()
        if len(p):
            empirical = [(np.abs(p - 0.5) <= lv / 2).mean() for lv in nominal]
            left.plot(nominal, empirical, marker="o", ms=3, label=f"{method} (n={len(p)})")
    dx = scores[scores["method"] == "dxsim"]
    bins = np.linspace(0, 1, 11)
    parts = [("all readings", dx["pit"].to_numpy()),
             ("series with a reading at the origin", dx.loc[dx["n_history"] > 0, "pit"].to_numpy())]
    width = 0.045
    for j, (label, p) in enumerate(parts):
        if len(p):
            hist, _ = np.histogram(p, bins=bins)
            right.bar(bins[:-1] + 0.005 + j * width, hist / len(p) * (len(bins) - 1), width=width,
                      align="edge", label=f"dxsim, {label} (n={len(p)})")
    right.axhline(1.0, color="0.5", lw=1, ls="--", label="calibrated")
    left.set(xlabel="nominal coverage of the central interval", ylabel="share of readings inside",
             xlim=(0, 1), ylim=(0, 1.02), title="Interval coverage, all origins and horizons")
    right.set(xlabel="PIT of the reading (share of the forecast below it)", ylabel="density (1 = calibrated)",
              xlim=(0, 1), title="dxsim PIT histogram (U: too narrow, hump: too wide)")
    left.legend(fontsize=7, loc="upper left")
    right.legend(fontsize=7, loc="upper center")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    origins = sorted(scores["origin"].unique())
    fig.text(0.01, 0.01, f"dxsim {__version__} backtest, origins {', '.join(map(str, origins))}; each method "
             "on the readings it can forecast (n); like-for-like comparisons in skill.csv", fontsize=6.5)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=150, metadata={"Software": None})
    plt.close(fig)
    return path


def evaluation_manifest(command: str, origins: tuple[int, ...], methods: pd.Series, inputs: Inputs, seed: int,
                        draws: int) -> dict:
    """manifest.json of a forecast evaluation (backtest, scorecard): inputs' hashes, origins, methods present."""
    cfg = inputs.config
    return {
        "dxsim_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": command,
        "origins": list(origins),
        "methods": [m for m in METHODS if (methods == m).any()],
        "observations": {"file": str(inputs.observations_path),
                         "sha256": sha256_file(inputs.observations_path)},
        "targets": {"file": str(inputs.targets_path), "sha256": sha256_file(inputs.targets_path)},
        "calibration": {"config": str(cfg.path), "sha256": sha256_file(cfg.path)},
        "seed": seed,
        "draws": draws,
        "quasi_samples_per_baseline": QUASI_SAMPLES,
    }


def write_backtest(result: Backtest, inputs: Inputs, out: str | Path) -> Path:
    """skill.csv, scores.csv, paired.csv, coverage.csv, pit.png and manifest.json, atomically to ``out``."""
    out = Path(out)
    manifest = evaluation_manifest("backtest", result.origins, result.scores["method"], inputs, result.seed,
                                   result.draws)
    with atomic_output_dir(out) as tmp:
        write_csv(result.skill, tmp / "skill.csv")
        write_csv(result.scores, tmp / "scores.csv")
        write_csv(result.paired, tmp / "paired.csv")
        write_csv(result.coverage, tmp / "coverage.csv")
        plot_coverage(result.scores, tmp / "pit.png")
        write_json(manifest, tmp / "manifest.json")
    return out


# ---- command line ------------------------------------------------------------------------------------------
def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``forecast`` and ``backtest`` sub-commands."""
    from dxsim.cli import _positive_int, _seed

    def inputs_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                       help="calibration config (default: %(default)s)")
        p.add_argument("--observations", type=Path, metavar="FILE",
                       help="observations CSV (default: the config's)")
        p.add_argument("--draws", type=_positive_int, default=DEFAULT_DRAWS,
                       help="Monte Carlo draws (default: %(default)s)")
        p.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help="random seed (default: %(default)s)")

    fc = subparsers.add_parser(
        "forecast", help="forecast the baseline scenario as of a past year",
        description="Calibrate only on readings dated up to the end of YEAR, project the baseline scenario "
        "(investment multiple 1) to the horizon and write trajectories.csv (run schema), "
        "observations_used.csv and manifest.json to DIR.")
    fc.add_argument("--as-of", type=int, required=True, metavar="YEAR", help="last year of data to use")
    fc.add_argument("--horizon", type=int, metavar="YEAR",
                    help=f"last projected year (default: {DEFAULT_HORIZON}, or the year after YEAR)")
    fc.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    inputs_options(fc)
    fc.set_defaults(func=cmd_forecast)

    bt = subparsers.add_parser(
        "backtest", help="score forecasts made as of past years against later readings and baselines",
        description="For each origin year: forecast with the readings up to it, score every later reading "
        "(median error, 50/80/95% interval coverage, CRPS, log score) for dxsim and the baselines (last "
        "value, linear trend, damped-trend ETS, national curve shifted to the province, their equal-weight "
        "mixture), and write skill.csv, scores.csv, paired.csv (dxsim's reading forecast vs each baseline on "
        "its points, bootstrap intervals), coverage.csv (by horizon and history, binomial bands) and pit.png.")
    bt.add_argument("--origins", type=int, nargs="+", metavar="YEAR",
                    help="origin years (default: every year from the config's first year that leaves a later "
                    "reading)")
    bt.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                    help="output folder (default: %(default)s)")
    inputs_options(bt)
    bt.set_defaults(func=cmd_backtest)


def cmd_forecast(args: argparse.Namespace) -> int:
    inputs = load_inputs(args.config, args.observations)
    result = forecast_as_of(inputs, args.as_of, args.horizon, args.draws, args.seed)
    write_forecast(result, args.out)
    tr = result.trajectories
    nat = tr[(tr["geo"] == NATIONAL) & tr["year"].isin([args.as_of + 1, result.manifest["horizon"]])]
    cfg = inputs.config
    nat = nat[nat["definition"] == nat["indicator"].map({i.name: i.anchor for i in cfg.indicators})]
    print(f"forecast as of {args.as_of} ({result.manifest['observations']['rows_used']} readings dated "
          f"{args.as_of} or earlier), baseline scenario, {args.draws} draws; national median [80% interval]:")
    for r in nat.itertuples():
        print(f"  {r.indicator:<28} {r.definition:<17} {r.year}  {r.q50:5.1f} [{r.q10:5.1f}-{r.q90:5.1f}]")
    print(f"wrote {args.out}/ (trajectories.csv, observations_used.csv, manifest.json)")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    inputs = load_inputs(args.config, args.observations)
    result = run_backtest(inputs, tuple(args.origins) if args.origins else None, args.draws, args.seed)
    write_backtest(result, inputs, args.out)
    counts = result.scores[result.scores["method"] == "dxsim"].groupby("origin").size()
    print(f"backtest: origins {', '.join(f'{o} ({counts.get(o, 0)} readings)' for o in result.origins)}, "
          f"{args.draws} draws; means over (origin, reading) pairs, MAE and CRPS in percentage points")
    print(skill_text(result.skill))
    print("\nn differs by method: a baseline is scored only where it is available (see README); "
          "'dxsim_reading CRPS same pts' compares dxsim's forecast of the reading on its points.\n")
    print(judging.judge_text(result.paired, result.coverage))
    print(f"wrote {args.out}/ (skill.csv, scores.csv, paired.csv, coverage.csv, pit.png, manifest.json)")
    return 0
