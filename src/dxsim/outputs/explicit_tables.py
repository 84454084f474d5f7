"""Result tables written so that every cell holds a value (no empty cell, no NaN), and read back.

A value that does not exist gets no cell, rather than an empty one:

- targets: evaluated targets (a probability and its Monte Carlo error) are ``target_probabilities.csv``;
  targets the model cannot evaluate are ``targets_not_evaluable.csv``, each with its reason and without the
  probability columns;
- the fit: ``fit_table.csv`` per geo x indicator (readings, pooled or not, speed, the anchor definition's share
  at the jump-off); the RMS residual exists only where there are readings: ``fit_residuals.csv``.

A text field that does not apply (no assumption, no deciding reading, no reason to give) holds the word
``none``; ``outcome`` holds the deciding reading (percent) or ``none`` (``status`` says why). In memory the
tables keep one frame each, with empty text and NaN where a value does not exist (``read_targets``,
``read_fit`` put them back together)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.outputs.results import NONE, write_csv

TARGETS_FILE = "target_probabilities.csv"
NOT_EVALUABLE_FILE = "targets_not_evaluable.csv"
FIT_FILE = "fit_table.csv"
RESIDUALS_FILE = "fit_residuals.csv"
NO_PROBABILITY = ("probability", "mc_se", "probability_text", "evidence")   # columns of evaluated targets only
RESIDUAL_COLUMNS = ("indicator", "geo", "n_observations", "definitions_observed", "rms_residual_pp")
FIT_FILE_DROPS = ("rms_residual_pp",)
_TARGET_NUMBERS = ("deadline", "target", "probability", "mc_se", "outcome")
_SKILL_NUMBERS = ("n", "mae_median", "coverage_50", "coverage_80", "coverage_95", "crps", "log_score", "mean_pit",
                  "dxsim_mae_same_points", "dxsim_crps_same_points", "dxsim_crps_skill", "reading_crps_same_points",
                  "reading_crps_skill")
# The numeric columns of each result file, read back as numbers ('none': NaN) even when every cell says 'none';
# every other column is text ('749', a document's number, stays text). fit_table.csv: also <definition>_at_jump_off.
NUMBERS: dict[str, tuple[str, ...]] = {
    TARGETS_FILE: _TARGET_NUMBERS, NOT_EVALUABLE_FILE: _TARGET_NUMBERS,
    FIT_FILE: ("n_observations", "rms_residual_pp", "slope_per_year", "at_jump_off"),
    RESIDUALS_FILE: ("n_observations", "rms_residual_pp"),
    "parameters.csv": ("mean", "sd", "q05", "q95"),
    "all_targets_probabilities.csv": ("n_targets", "probability", "mc_se"),
    "weights.csv": ("weight_year", "weight_value", "weight"),
    "national_consistency.csv": ("year", "national_reading", "aggregate_q50", "aggregate_q10", "aggregate_q90",
                                 "distance_pp"),
    "programmes.csv": ("effect_value", "budget_bn_vnd", "planned_start", "planned_end", "completion_q10",
                       "completion_q50", "completion_q90", "p_completed_by_horizon", "deadline", "target",
                       "probability_with", "probability_without", "probability_delta", "delta_mc_se"),
    "required_investment.csv": ("deadline", "target", "probability_requested", "multiple", "probability", "mc_se",
                                "scenario_multiple", "scenario_multiple_max", "probability_at_baseline",
                                "max_multiple", "baseline_spend_bn_vnd", "spend_bn_vnd_per_year"),
    "required_investment_curves.csv": ("multiple", "probability"),
    "sensitivity.csv": ("value", "conf", "ci_low", "ci_high"),
    "sensitivity_outputs.csv": ("year", "target", "at_scenario", "sample_mean", "sample_sd"),
    "scorecard.csv": ("origin", "year", "horizon", "target", "probability", "outcome", "brier", "value", "median",
                      "lo80", "hi80", "row"),
    "skill.csv": _SKILL_NUMBERS,
    "scores.csv": ("origin", "row", "year", "time", "horizon", "value", "n_history", "median", "lo80", "hi80",
                   "lo95", "hi95", "abs_error", "crps", "log_score", "pit"),
    "paired.csv": ("n", "dxsim_reading_crps", "baseline_crps", "difference", "difference_lo90", "difference_hi90"),
    "coverage.csv": ("level", "n", "inside", "coverage", "band_lo", "band_hi"),
}


def numbers_of(name: str, columns: Any) -> set[str]:
    """The numeric columns among ``columns`` of the result file called ``name``."""
    listed = set(NUMBERS.get(name, ()))
    return {c for c in columns if c in listed or (name == FIT_FILE and str(c).endswith("_at_jump_off"))}


def write_targets(targets: pd.DataFrame, folder: Path) -> None:
    """``targets`` (a run's target probabilities, one frame) as the two target files in ``folder``."""
    ok = targets["evaluable"].astype(bool).to_numpy()
    write_csv(targets[ok], folder / TARGETS_FILE)
    write_csv(targets[~ok].drop(columns=[c for c in NO_PROBABILITY if c in targets]), folder / NOT_EVALUABLE_FILE)


def write_fit(fit: pd.DataFrame, folder: Path) -> None:
    """A calibration's fit table (``Calibrator.fit_table()``) as ``fit_table.csv`` and ``fit_residuals.csv``."""
    write_csv(fit.drop(columns=[c for c in FIT_FILE_DROPS if c in fit]), folder / FIT_FILE)
    if "rms_residual_pp" in fit:
        has = fit["rms_residual_pp"].notna().to_numpy()
        write_csv(fit.loc[has, [c for c in RESIDUAL_COLUMNS if c in fit]], folder / RESIDUALS_FILE)


def read_explicit(path: Path) -> pd.DataFrame:
    """A result table (or an older one with empty cells), with NaN and empty text where it says ``none``."""
    return implicit(pd.read_csv(path, keep_default_na=False, na_values=[""]), path.name, np.nan)


def implicit(frame: pd.DataFrame, name: str, text_none: Any = "") -> pd.DataFrame:
    """The inverse of ``results.explicit`` on the result file ``name`` read back (``keep_default_na=False``):
    its numeric columns (``NUMBERS``) as numbers, ``none`` NaN; in a text column ``none`` as ``text_none`` (an
    empty string; NaN as an empty cell used to read)."""
    out = frame.copy()
    numbers = numbers_of(name, out.columns)
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            continue
        none = out[col].astype(str).eq(NONE)
        if not none.any():
            continue
        if col not in numbers:
            out[col] = out[col].where(~none, text_none)
        elif pd.to_numeric(out.loc[~none, col], errors="coerce").notna().all():
            out[col] = pd.to_numeric(out[col].where(~none, np.nan))
        else:                                  # a cell that is not a number: left for the reader to name
            out[col] = out[col].where(~none, np.nan)
    return out


def target_parts(folder: Path, read: Callable[[Path], pd.DataFrame]) -> list[tuple[Path, pd.DataFrame]]:
    """(path, frame) of a folder's target files as written (``implicit``): evaluated targets, then those not
    evaluable (no probability columns); ``read`` (path -> frame) reads one CSV. A folder written before the
    split has only ``target_probabilities.csv`` (with empty cells)."""
    paths = [folder / TARGETS_FILE] + ([folder / NOT_EVALUABLE_FILE] if (folder / NOT_EVALUABLE_FILE).is_file() else [])
    return [(path, implicit(read(path), path.name)) for path in paths]


def read_fit(folder: Path, read: Callable[[Path, Sequence[str]], pd.DataFrame]) -> pd.DataFrame:
    """One frame of a folder's fit table with ``rms_residual_pp`` (NaN where a geo has no readings); ``read``
    (path, required columns -> frame) reads one CSV and names a missing column (bad input)."""
    fit = implicit(read(folder / FIT_FILE, ("indicator", "geo")), FIT_FILE)
    path = folder / RESIDUALS_FILE
    if path.is_file() and "rms_residual_pp" not in fit:
        keys = ("indicator", "geo", "rms_residual_pp")
        res = implicit(read(path, keys), RESIDUALS_FILE)[list(keys)]
        fit = fit.merge(res, on=["indicator", "geo"], how="left")
    return fit
