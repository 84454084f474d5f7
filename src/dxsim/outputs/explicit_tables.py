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

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.outputs.results import FLOAT_FORMAT, write_csv

NONE = "none"
TARGETS_FILE = "target_probabilities.csv"
NOT_EVALUABLE_FILE = "targets_not_evaluable.csv"
FIT_FILE = "fit_table.csv"
RESIDUALS_FILE = "fit_residuals.csv"
NO_PROBABILITY = ("probability", "mc_se", "probability_text", "evidence")   # columns of evaluated targets only
RESIDUAL_COLUMNS = ("indicator", "geo", "n_observations", "definitions_observed", "rms_residual_pp")
FIT_FILE_DROPS = ("rms_residual_pp",)
NUMBERS = ("outcome", "probability", "mc_se", "rms_residual_pp", "at_jump_off")   # numeric even when all 'none'


def write_targets(targets: pd.DataFrame, folder: Path) -> None:
    """``targets`` (a run's target probabilities, one frame) as the two target files in ``folder``."""
    ok = targets["evaluable"].astype(bool).to_numpy()
    write_csv(_explicit(targets[ok]), folder / TARGETS_FILE)
    write_csv(_explicit(targets[~ok].drop(columns=[c for c in NO_PROBABILITY if c in targets])),
              folder / NOT_EVALUABLE_FILE)


def write_fit(fit: pd.DataFrame, folder: Path) -> None:
    """A calibration's fit table (``Calibrator.fit_table()``) as ``fit_table.csv`` and ``fit_residuals.csv``."""
    write_csv(_explicit(fit.drop(columns=[c for c in FIT_FILE_DROPS if c in fit])), folder / FIT_FILE)
    if "rms_residual_pp" in fit:
        has = fit["rms_residual_pp"].notna().to_numpy()
        write_csv(_explicit(fit.loc[has, [c for c in RESIDUAL_COLUMNS if c in fit]]), folder / RESIDUALS_FILE)


def write_explicit(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV with every empty text cell and every NaN as ``none`` (parameters.csv: a national
    parameter has no geo; required_investment.csv: no multiple where none was found; ...)."""
    write_csv(_explicit(frame), path)


def _explicit(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty text cells as ``none``; a float column with NaN (``outcome``: no deciding reading) as text, each
    number in ``FLOAT_FORMAT`` and each NaN ``none``."""
    out = frame.reset_index(drop=True).copy()
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = out[col].where(out[col].notna() & (out[col].astype(str) != ""), NONE)
    for col in out.columns:                # a number that does not exist (outcome, multiple, ...): the word
        if out[col].dtype.kind == "f" and out[col].isna().any():
            out[col] = [NONE if v != v else FLOAT_FORMAT % v for v in out[col].to_numpy(float).tolist()]
    return out


def _is_text(column: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
                or pd.api.types.is_datetime64_any_dtype(column))


def read_explicit(path: Path) -> pd.DataFrame:
    """A table written by ``write_explicit`` (or an older one with empty cells), with NaN and empty text where
    it says ``none``."""
    return implicit(pd.read_csv(path, keep_default_na=False, na_values=[""]), np.nan)


def implicit(frame: pd.DataFrame, text_none: Any = "") -> pd.DataFrame:
    """The inverse of ``_explicit`` on a table read back (``keep_default_na=False``): ``none`` as ``text_none``
    in a text column (an empty string; NaN as an empty cell used to read), as NaN in a numeric one."""
    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            none = out[col].astype(str).eq(NONE)
            if not none.any():
                continue
            rest = pd.to_numeric(out.loc[~none, col], errors="coerce")
            if col in NUMBERS or (len(rest) and rest.notna().all()):
                out[col] = pd.to_numeric(out[col].where(~none, np.nan), errors="coerce")
            else:
                out[col] = out[col].where(~none, text_none)
    return out


def target_parts(folder: Path, read: Callable[[Path], pd.DataFrame]) -> list[tuple[Path, pd.DataFrame]]:
    """(path, frame) of a folder's target files as written (``implicit``): evaluated targets, then those not
    evaluable (no probability columns); ``read`` (path -> frame) reads one CSV. A folder written before the
    split has only ``target_probabilities.csv`` (with empty cells)."""
    paths = [folder / TARGETS_FILE] + ([folder / NOT_EVALUABLE_FILE] if (folder / NOT_EVALUABLE_FILE).is_file() else [])
    return [(path, implicit(read(path))) for path in paths]


def read_fit(folder: Path, read: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    """One frame of a folder's fit table with ``rms_residual_pp`` (NaN where a geo has no readings)."""
    fit = implicit(read(folder / FIT_FILE))
    path = folder / RESIDUALS_FILE
    if path.is_file() and "rms_residual_pp" not in fit:
        res = read(path)[["indicator", "geo", "rms_residual_pp"]]
        fit = fit.merge(res, on=["indicator", "geo"], how="left")
    return fit
