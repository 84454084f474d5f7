"""The backtest as a judge: paired CRPS differences with bootstrap intervals, and interval coverage against
its binomial band.

Both read ``backtest`` scores (one row per method and scored reading). dxsim's forecast of a *reading*
(``dxsim_reading``: the latent draws plus measurement noise) is compared with each baseline on that baseline's
own points, since a baseline also forecasts the reading.

- ``paired_table``: per headline indicator (all its definitions), and over all indicators, per baseline: the
  number of points, each method's mean CRPS there, the mean paired difference dxsim - baseline (< 0: dxsim
  better) and its 90% interval from ``BOOTSTRAP`` resamples of the points (percentile bootstrap, fixed seed).
  ``verdict`` applies the acceptance rule: with >= ``MIN_POINTS`` points dxsim must have the lower mean; with
  fewer, the interval must include zero (the data cannot tell them apart) and the point estimate favour dxsim.
- ``coverage_table``: the share of readings inside dxsim's central 50/80/95% intervals, by horizon group
  (1, 2-3, 4+) and by whether the series had a reading at the origin (readings without: also split into
  ``pooled`` and ``prior``, ``HISTORY_GROUPS``), with the 95% band of that share for a
  calibrated forecast (binomial(n, level) 2.5% and 97.5% quantiles, divided by n).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxsim.analyses.baselines import BASELINES

BOOTSTRAP = 2000
BOOTSTRAP_SEED = 12
MIN_POINTS = 20
READING = "dxsim_reading"
HORIZON_GROUPS = (("1", 1, 1), ("2-3", 2, 3), ("4+", 4, 99), ("all", 1, 99))
LEVELS = (50, 80, 95)
# "no" history split by what the forecast rests on (core/evidence.py): "pooled", other geos' readings of the
# definition; "prior", no reading of the definition anywhere at the origin (a prior-only forecast)
HISTORY_GROUPS = ("yes", "no", "pooled", "prior", "any")
PAIRED_COLUMNS = ("indicator", "baseline", "n", "dxsim_reading_crps", "baseline_crps", "difference",
                  "difference_lo90", "difference_hi90", "verdict")
COVERAGE_COLUMNS = ("method", "horizon", "history", "level", "n", "inside", "coverage", "band_lo", "band_hi",
                    "within_band")


def _bootstrap_mean(diff: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """90% percentile-bootstrap interval of the mean of ``diff`` (resampling the points)."""
    idx = rng.integers(0, len(diff), size=(BOOTSTRAP, len(diff)))
    means = diff[idx].mean(axis=1)
    lo, hi = np.quantile(means, [0.05, 0.95])
    return float(lo), float(hi)


def verdict(n: int, difference: float, lo: float, hi: float) -> str:
    """The acceptance rule on one comparison: 'dxsim better', 'tie, favours dxsim', or where dxsim loses."""
    if n >= MIN_POINTS:
        return "dxsim better" if difference < 0 else "baseline better"
    if lo <= 0 <= hi:
        return "tie, favours dxsim" if difference < 0 else "tie, favours baseline"
    return "dxsim better" if difference < 0 else "baseline better"


def paired_table(scores: pd.DataFrame, headline: tuple[str, ...]) -> pd.DataFrame:
    """dxsim_reading vs each baseline on the baseline's points, per headline indicator and over all indicators
    ("all"); columns ``PAIRED_COLUMNS``, CRPS in percentage points."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    dx = scores[scores["method"] == READING].set_index(["origin", "row"])["crps"]
    rows = []
    for indicator in (*headline, "all"):
        mine = scores if indicator == "all" else scores[scores["indicator"] == indicator]
        for baseline in BASELINES:
            part = mine[mine["method"] == baseline]
            if part.empty:
                continue
            ours = dx.loc[list(zip(part["origin"], part["row"], strict=True))].to_numpy()
            diff = ours - part["crps"].to_numpy()
            lo, hi = _bootstrap_mean(diff, rng)
            rows.append({"indicator": indicator, "baseline": baseline, "n": len(part),
                         "dxsim_reading_crps": float(ours.mean()), "baseline_crps": float(part["crps"].mean()),
                         "difference": float(diff.mean()), "difference_lo90": lo, "difference_hi90": hi,
                         "verdict": verdict(len(part), float(diff.mean()), lo, hi)})
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))


def binomial_band(n: int, level: float) -> tuple[float, float]:
    """Central 95% range of the covered share for n readings of a calibrated ``level`` interval."""
    if n == 0:
        return float("nan"), float("nan")
    from scipy import stats  # scipy on use: importing it costs every command ~0.3-1 s

    lo, hi = stats.binom.ppf([0.025, 0.975], n, level)
    return float(lo / n), float(hi / n)


def coverage_table(scores: pd.DataFrame, methods: tuple[str, ...] = ("dxsim", READING)) -> pd.DataFrame:
    """Coverage of the central intervals by horizon group and history, with the binomial band."""
    rows = []
    history = np.where(scores["n_history"] > 0, "yes", "no")
    evidence = scores["evidence"].to_numpy(object) if "evidence" in scores else history
    for method in methods:
        for label, lo_h, hi_h in HORIZON_GROUPS:
            for hist in HISTORY_GROUPS:
                keep = (scores["method"] == method) & scores["horizon"].between(lo_h, hi_h)
                if hist in ("yes", "no"):
                    keep &= history == hist
                elif hist != "any":
                    keep &= evidence == hist
                part = scores[keep]
                for level in LEVELS:
                    inside = int(part[f"covered_{level}"].sum())
                    band = binomial_band(len(part), level / 100)
                    rate = inside / len(part) if len(part) else float("nan")
                    rows.append({"method": method, "horizon": label, "history": hist, "level": level,
                                 "n": len(part), "inside": inside, "coverage": rate, "band_lo": band[0],
                                 "band_hi": band[1], "within_band": bool(band[0] <= rate <= band[1])})
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))


def judge_text(paired: pd.DataFrame, coverage: pd.DataFrame) -> str:
    """Console summary: the paired CRPS comparisons, then dxsim_reading's coverage against the band."""
    lines = ["dxsim_reading vs each baseline on the baseline's points (CRPS, pp; difference < 0: dxsim better; "
             "90% bootstrap interval)",
             f"{'indicator':<28} {'baseline':<15} {'n':>4} {'dxsim':>7} {'base':>7} {'diff':>7} "
             f"{'90% interval':>17}  verdict"]
    for r in paired.itertuples():
        lines.append(f"{r.indicator:<28} {r.baseline:<15} {r.n:>4} {r.dxsim_reading_crps:7.2f} "
                     f"{r.baseline_crps:7.2f} {r.difference:7.2f} [{r.difference_lo90:6.2f},{r.difference_hi90:6.2f}]"
                     f"  {r.verdict}")
    lines += ["", "dxsim_reading interval coverage (inside/n) vs the binomial 95% band of a calibrated forecast",
              f"{'horizon':>7} {'history':>7} " + " ".join(f"{f'{lv}%':>22}" for lv in LEVELS)]
    cov = coverage[coverage["method"] == READING]
    for (h, hist), part in cov.groupby(["horizon", "history"], sort=False):
        cells = []
        for r in part.itertuples():
            flag = "" if r.within_band else "!"
            cells.append(f"{r.inside:>3}/{r.n:<3} {r.coverage:4.2f} [{r.band_lo:.2f}-{r.band_hi:.2f}]{flag}"
                         if r.n else f"{'-':>22}")
        lines.append(f"{h:>7} {hist:>7} " + " ".join(f"{c:>22}" for c in cells))
    lines.append("('!': outside the band)")
    return "\n".join(lines)
