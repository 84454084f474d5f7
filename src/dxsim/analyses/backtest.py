"""Forecasts as of a past year, and rolling-origin backtests of them against later readings and baselines.

``run_backtest`` forecasts as of each origin (``forecast_asof.py``) and scores every later "used" reading of a
modelled series (``origins.py``: dxsim's latent share, its forecast of the reading, the baselines); the horizon
is the reading's year minus the origin. ``skill_table`` and ``judging`` summarise the scores.

Scores are those of ``dxsim.analyses.scoring``. Observations are dated by their ``year`` as the issue asks: the data
carry no publication dates except the statistics office's ``release``, and the latest release of a figure is
used at every origin, so the backtest is pseudo out-of-sample on final (revised) data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim import __version__, progress
from dxsim.analyses import judging
from dxsim.analyses.forecast_asof import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    _check_year,
)
from dxsim.analyses.origins import INTERVALS, METHODS, QUASI_SAMPLES, score_origin
from dxsim.errors import InputError
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.fingerprint import sha256_file
from dxsim.outputs.results import atomic_output_dir, write_csv, write_json
from dxsim.outputs.texttable import fixed_width
from dxsim.pipeline import Inputs

DEFAULT_OUT = Path("results/backtest")
SKILL_COLUMNS = ("method", "indicator", "definition", "horizon", "history", "n", "mae_median", "coverage_50",
                 "coverage_80", "coverage_95", "crps", "log_score", "mean_pit", "dxsim_mae_same_points",
                 "dxsim_crps_same_points", "dxsim_crps_skill", "reading_crps_same_points", "reading_crps_skill")


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
        _check_year(origin, "origins")
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
    columns = [("method", "<15"), ("history", ">7"), ("horizon", ">7"), ("n", ">4"),
               *((name, ">6") for name in ("MAE", "cov50", "cov80", "cov95", "CRPS", "logS")),
               ("dxsim_reading CRPS same pts", ">28")]
    overall = skill[skill["indicator"] == "all"]
    horizons = ["all"] + sorted((h for h in overall["horizon"].unique() if h != "all"), key=int)
    blocks = [overall[(overall["history"] == "any") & (overall["horizon"] == h)] for h in horizons]
    blocks += [overall[(overall["history"] == hist) & (overall["horizon"] == "all")
                       & overall["method"].isin(["dxsim", "dxsim_reading"])] for hist in ("yes", "no")]
    return fixed_width(columns, ((r.method, str(r.history), str(r.horizon), str(r.n),
                                  *(f"{v:.2f}" for v in (r.mae_median, r.coverage_50, r.coverage_80, r.coverage_95,
                                                         r.crps, r.log_score, r.reading_crps_same_points)))
                                 for block in blocks for r in block.itertuples()))


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
