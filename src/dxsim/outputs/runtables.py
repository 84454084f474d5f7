"""The tidy tables of a results folder, read and type-checked for charts and the report (values in percent).
A missing file or a cell of the wrong type raises InputError naming the file, row and column."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.errors import InputError, unknown
from dxsim.inputs.observations import YEAR_RANGE
from dxsim.outputs import style
from dxsim.outputs.explicit_tables import NO_PROBABILITY, NOT_EVALUABLE_FILE, read_fit, target_parts

TRAJECTORY_COLUMNS = ("scenario", "geo", "indicator", "definition", "year", "projected", "q10", "q25", "q50",
                      "q75", "q90")
TARGET_COLUMNS = ("geo", "indicator", "definition", "deadline", "target", "comparator", "probability",
                  "mc_se", "document", "evaluable")
OBSERVATION_COLUMNS = ("geo", "indicator", "definition", "year", "value", "source_url")
ALL_TARGET_COLUMNS = ("geo", "scope", "n_targets", "probability")
TRAJECTORY_NUMBERS = ("mean", "q025", "q05", "q10", "q25", "q50", "q75", "q90", "q95", "q975")   # percent


@dataclass(frozen=True)
class RunTables:
    """The tables of one results folder that charts and the report read (values in percent). ``headline``
    and ``anchors`` come from the calibration config named in the manifest, else from fit_table.csv."""

    folder: Path
    trajectories: pd.DataFrame
    targets: pd.DataFrame
    observations: pd.DataFrame
    fit_table: pd.DataFrame
    manifest: dict[str, Any]
    headline: tuple[str, ...]
    anchors: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    all_targets: pd.DataFrame | None = None         # all_targets_probabilities.csv, when the folder has it
    months: dict[str, int] = field(default_factory=dict)   # reading month of each indicator's yearly value

    @property
    def scenario(self) -> str:
        return str(self.trajectories["scenario"].iloc[0])

    @property
    def geos(self) -> tuple[str, ...]:
        return tuple(pd.unique(self.trajectories["geo"]))

    @property
    def pre2025_geos(self) -> tuple[str, ...]:
        """Geos read on the pre-2025 map (trajectories' geography column, geography.py); none in older runs."""
        t = self.trajectories
        if "geography" not in t.columns:
            return ()
        return tuple(pd.unique(t.loc[t["geography"] == "pre_2025", "geo"]))

    @property
    def first_projected_year(self) -> int:
        """The year after the last year with data (the manifest's jump-off); a series whose readings end
        earlier is marked projected from then on in its own rows."""
        jump_off = (self.manifest.get("calibration") or {}).get("jump_off_year")
        if isinstance(jump_off, int) and not isinstance(jump_off, bool):
            return jump_off + 1
        proj = self.trajectories.loc[self.trajectories["projected"], "year"]
        return int(proj.min()) if len(proj) else int(self.trajectories["year"].max()) + 1

    @property
    def draws(self) -> int:
        return int(self.manifest.get("draws", 0))

    def month(self, indicator: str) -> int:
        """Month (1-12) at which the indicator's yearly value is read: year y sits at y + month / 12."""
        return int(self.months.get(indicator, 12))

    def year_x(self, indicator: str, years: Any) -> np.ndarray:
        """Continuous time (decimal years) of the indicator's yearly values (trajectories, target deadlines)."""
        return np.asarray(years, float) + self.month(indicator) / 12.0

    def reading_x(self, readings: pd.DataFrame) -> np.ndarray:
        """Continuous time of readings: their ``time`` column (the month of the reading), else the
        indicator's reading month."""
        if "time" in readings.columns:
            return readings["time"].to_numpy(float)
        months = np.array([self.month(i) for i in readings["indicator"]], float)
        return readings["year"].to_numpy(float) + months / 12.0

    def headline_series(self) -> list[tuple[str, str]]:
        """(indicator, anchor definition) of the headline indicators present in the trajectories."""
        present = set(self.trajectories["indicator"])
        return [(i, self.anchors[i]) for i in self.headline if i in present and i in self.anchors]


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(path, "", "file not found; is this a folder written by `dxsim run`?")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])   # only an empty cell is missing
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV table ({type(exc).__name__}: {exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(path, "columns", f"missing {', '.join(missing)}")
    return frame.reset_index(drop=True)


def _read_any(path: Path) -> pd.DataFrame:
    return _read_csv(path, ())


def _targets(tp: pd.DataFrame, tp_path: Path) -> pd.DataFrame:
    """A target table (target_probabilities.csv, or targets_not_evaluable.csv: no probability columns) with
    its cells checked and typed; errors name ``tp_path`` and the row in it."""
    unevaluable_file = tp_path.name == NOT_EVALUABLE_FILE
    missing = [c for c in TARGET_COLUMNS if c not in tp.columns and not (unevaluable_file and c in NO_PROBABILITY)]
    if missing:
        raise InputError(tp_path, "columns", f"missing {', '.join(missing)}")
    for col in ("geo", "indicator", "comparator"):
        tp[col] = _text(tp, tp_path, col)
    for i, comp in enumerate(tp["comparator"]):
        if comp not in style.COMPARATORS:
            raise InputError(tp_path, f"row {i + 1}, comparator", unknown("comparator", comp, style.COMPARATORS))
    tp["evaluable"] = _as_bool(tp["evaluable"], tp_path, "evaluable")
    tp["deadline"] = check_numbers(tp, tp_path, "deadline", year=True)
    tp["target"] = check_numbers(tp, tp_path, "target")
    unevaluable = ~tp["evaluable"].to_numpy()                  # no probability for targets the model cannot judge
    for col in ("probability", "mc_se"):
        if col in tp.columns or not unevaluable_file:
            tp[col] = check_numbers(tp, tp_path, col, lo=0, hi=1 if col == "probability" else None,
                                    empty_ok=unevaluable)
        else:
            tp[col] = np.nan
    for col in ("document", "definition"):
        tp[col] = tp[col].fillna("").astype(str)
    # the definition a probability is about (a mapped target has one row per meaning); older folders: its own
    evaluated = tp["evaluated_as"].fillna("").astype(str) if "evaluated_as" in tp else tp["definition"]
    tp["evaluated_as"] = evaluated.where(evaluated != "", tp["definition"])
    return tp


def _shown(value: Any) -> str:
    """A cell as the user wrote it: strings quoted, numbers plain."""
    if isinstance(value, str):
        return repr(value)
    return str(value.item() if isinstance(value, np.generic) else value)


def check_numbers(frame: pd.DataFrame, path: Path, col: str, *, whole: bool = False, year: bool = False,
                  lo: float | None = None, hi: float | None = None, empty_ok: Any = False) -> pd.Series:
    """The column ``col`` as float (int64 when ``whole`` or ``year``); a cell that is not a finite number
    (or not whole, or outside ``lo``..``hi``) raises InputError naming the file, 'row N, col' (N counts data
    rows from 1) and the value. ``empty_ok`` (bool or a boolean mask per row) lets empty cells through as NaN."""
    if year:
        whole, lo, hi = True, YEAR_RANGE[0], YEAR_RANGE[1]
    raw = frame[col]
    empty = raw.isna().to_numpy()
    if pd.api.types.is_bool_dtype(raw):                           # True/False is not a number
        values = np.full(len(raw), np.nan)
    elif pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        text = raw.map(lambda v: v.strip() if isinstance(v, str) else "" if isinstance(v, bool) else v)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        number = np.isfinite(values) & (np.round(values) == values if whole else True)
        inside = number & (values >= (-np.inf if lo is None else lo)) & (values <= (np.inf if hi is None else hi))
    ok = inside | (empty & np.asarray(empty_ok, dtype=bool))
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        kind = "a year like 2023" if year else "a whole number" if whole else "a number"
        if empty[i]:
            problem = f"is empty; must be {kind}"
        elif not number[i]:
            problem = f"must be {kind}, got {_shown(raw.iat[i])}"
        else:
            bounds = (f"between {lo:g} and {hi:g}" if lo is not None and hi is not None
                      else f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
            problem = f"must be {bounds}, got {_shown(raw.iat[i])}"
        raise InputError(path, f"row {i + 1}, {col}", problem)
    return pd.Series(values.astype(np.int64) if whole and not empty.any() else values, index=frame.index,
                     name=col)


def _as_bool(series: pd.Series, path: Path, name: str) -> pd.Series:
    if series.dtype == bool:
        return series
    mapped = series.map(lambda v: {"true": True, "false": False}.get(str(v).strip().lower())
                        if not isinstance(v, bool) else v)
    bad = np.flatnonzero(mapped.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        problem = ("is empty; must be True or False" if pd.isna(series.iat[i])
                   else f"must be True or False, got {_shown(series.iat[i])}")
        raise InputError(path, f"row {i + 1}, {name}", problem)
    return mapped.astype(bool)


def _text(frame: pd.DataFrame, path: Path, col: str) -> pd.Series:
    """A name column (geo, indicator, ...) as str; an empty cell raises InputError naming its row."""
    empty = np.flatnonzero(frame[col].isna().to_numpy() | (frame[col].astype(str).str.strip() == "").to_numpy())
    if empty.size:
        raise InputError(path, f"row {int(empty[0]) + 1}, {col}", "is empty")
    return frame[col].astype(str)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise InputError(path, "", "file not found; is this a folder written by `dxsim run`?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(path, "", "must be a JSON object")
    _check_manifest(path, data)
    return data


def _check_manifest(path: Path, data: dict[str, Any]) -> None:
    """The types charts and the report rely on: sections are objects, counts are whole numbers, the
    hyper-parameters are numbers."""
    def whole(where: str, value: Any) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InputError(path, where, f"must be a whole number, got {json.dumps(value, ensure_ascii=False)}")

    for key in ("calibration", "observations", "targets", "scenario"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise InputError(path, key, "must be a JSON object")
    whole("draws", data.get("draws"))
    whole("seed", data.get("seed"))
    whole("observations.rows_used", (data.get("observations") or {}).get("rows_used"))
    cal = data.get("calibration") or {}
    whole("calibration.jump_off_year", cal.get("jump_off_year"))
    hyper = cal.get("hyper_parameters_at_mode")
    if hyper is None:
        return
    if not isinstance(hyper, dict):
        raise InputError(path, "calibration.hyper_parameters_at_mode", "must be a JSON object")
    for ind, values in hyper.items():
        where = f"calibration.hyper_parameters_at_mode.{ind}"
        if not isinstance(values, dict):
            raise InputError(path, where, "must be a JSON object")
        for k, v in values.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InputError(path, f"{where}.{k}", f"must be a number, got {json.dumps(v, ensure_ascii=False)}")


def _chart_meta(folder: Path, manifest: dict[str, Any], fit_table: pd.DataFrame, config: Any = None
                ) -> tuple[tuple[str, ...], dict[str, str], dict[str, str], dict[str, int]]:
    """(headline indicators, anchor per indicator, config label per indicator) from the config object, else
    from the folder's copy of its config (``run_inputs.py``; older folders: the file the manifest names), else
    inferred from fit_table.csv (every fitted indicator is headline; the anchor is ``anchor_definition``, in
    older folders the definition whose ``<definition>_at_jump_off`` column is filled)."""
    if config is None:
        from dxsim.inputs.config import load_config
        from dxsim.outputs.run_inputs import run_config_file

        path = run_config_file(folder, manifest)
        try:
            config = load_config(path) if path else None
        except (InputError, OSError):
            config = None
    if config is not None:
        return (config.headline, {i.name: i.anchor for i in config.indicators},
                {i.name: i.label for i in config.indicators}, {i.name: int(i.reading_month) for i in config.indicators})
    if "anchor_definition" in fit_table.columns:
        anchors = dict(zip(fit_table["indicator"], fit_table["anchor_definition"], strict=True))
        return tuple(anchors), anchors, {}, {}
    anchors = {}                                 # folders written before the anchor had a column of its own
    for row in fit_table.itertuples(index=False):
        for col in fit_table.columns:
            if col.endswith("_at_jump_off") and pd.notna(getattr(row, col)):
                anchors[row.indicator] = col[: -len("_at_jump_off")]
    return tuple(anchors), anchors, {}, {}


def _check_grid(tr: pd.DataFrame, path: Path) -> None:
    """InputError for a trajectories table dxsim cannot have written (changed by hand): a repeated row, or a geo
    whose rows do not cover the same series and years as the others."""
    key = ["scenario", "geo", "indicator", "definition", "year"]
    dup = tr.duplicated(key).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        what = ", ".join(str(tr[c].iat[i]) for c in key[1:])
        raise InputError(path, f"row {i + 1}", f"repeats the row of {what}; the file was changed after dxsim "
                         "wrote it (run dxsim again)")
    rows = tr.groupby(["scenario", "geo"], sort=False).size()
    if rows.nunique() > 1:
        (scen, geo), n = rows.idxmin(), int(rows.min())
        raise InputError(path, f"geo {geo}", f"has {n} rows in scenario {scen} where others have {int(rows.max())}; "
                         "the file was changed after dxsim wrote it (run dxsim again)")


def read_run(folder: str | Path, manifest: dict[str, Any] | None = None, config: Any = None) -> RunTables:
    """Read a results folder; a missing or malformed file, or a cell of the wrong type, raises InputError
    naming the file (and the row and column). ``manifest`` and ``config`` (a CalibrationConfig) are given by
    ``dxsim run``, which draws before manifest.json exists."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "", "not a results folder (no such directory)")
    tr_path = folder / "trajectories.csv"
    tr = _read_csv(tr_path, TRAJECTORY_COLUMNS)
    if tr.empty:
        raise InputError(tr_path, "", "has no rows")
    for col in ("scenario", "geo", "indicator", "definition"):
        tr[col] = _text(tr, tr_path, col)
    tr["year"] = check_numbers(tr, tr_path, "year", year=True)
    tr["projected"] = _as_bool(tr["projected"], tr_path, "projected")
    for col in TRAJECTORY_NUMBERS:
        if col in tr.columns:
            tr[col] = check_numbers(tr, tr_path, col, lo=0, hi=100)
    _check_grid(tr, tr_path)

    tp = pd.concat([_targets(frame, path) for path, frame in target_parts(folder, _read_any)], ignore_index=True)

    obs_path = folder / "observations_used.csv"
    obs = _read_csv(obs_path, OBSERVATION_COLUMNS)
    for col in ("geo", "indicator"):
        obs[col] = _text(obs, obs_path, col)
    obs["definition"] = obs["definition"].fillna("").astype(str)
    obs["year"] = check_numbers(obs, obs_path, "year", year=True)
    obs["value"] = check_numbers(obs, obs_path, "value")
    obs["source_url"] = obs["source_url"].fillna("").astype(str)
    if "time" in obs.columns:
        obs["time"] = check_numbers(obs, obs_path, "time", lo=YEAR_RANGE[0], hi=YEAR_RANGE[1] + 1)

    fit_path = folder / "fit_table.csv"
    fit = read_fit(folder, _read_csv)    # and fit_residuals.csv
    for col in ("indicator", "geo"):
        fit[col] = _text(fit, fit_path, col)
    if "n_observations" in fit.columns:
        fit["n_observations"] = check_numbers(fit, fit_path, "n_observations", whole=True, lo=0)
    if "pooled" in fit.columns:
        fit["pooled"] = _as_bool(fit["pooled"], fit_path, "pooled")
    for col in fit.columns:
        if col in ("rms_residual_pp", "slope_per_year", "at_jump_off") or col.endswith("_at_jump_off"):
            fit[col] = check_numbers(fit, fit_path, col, empty_ok=True)

    all_targets = None
    at_path = folder / "all_targets_probabilities.csv"
    if at_path.is_file():
        all_targets = _read_csv(at_path, ALL_TARGET_COLUMNS)
        for col in ("geo", "scope"):
            all_targets[col] = _text(all_targets, at_path, col)
        all_targets["n_targets"] = check_numbers(all_targets, at_path, "n_targets", whole=True, lo=0)
        all_targets["probability"] = check_numbers(all_targets, at_path, "probability", lo=0, hi=1)
        if "mc_se" in all_targets.columns:
            all_targets["mc_se"] = check_numbers(all_targets, at_path, "mc_se", lo=0)

    manifest = manifest if manifest is not None else read_manifest(folder)
    headline, anchors, labels, months = _chart_meta(folder, manifest, fit, config)
    return RunTables(folder, tr, tp, obs, fit, manifest, headline, anchors, labels, all_targets, months)

