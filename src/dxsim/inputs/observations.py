"""Observations, targets and geos: loading, validation and placing readings in time (CSV reading and number
parsing: ``csvtable``).

Both data files are long tables, one row per number, and keep every source column. Loading checks columns,
types, the percent range, comparators, known geos/indicators/definitions and duplicates, and raises
``InputError`` naming the file, the row and the value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim.errors import InputError, unknown
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.csvtable import parse_number, read_csv, row_name
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.validate import check_name

NATIONAL = "vietnam"
OBSERVATION_COLUMNS = ("geo", "indicator", "definition", "year", "period", "release", "value", "unit",
                       "source_url", "quote", "note", "geography")
OBSERVATION_REQUIRED = ("geo", "indicator", "definition", "year", "value", "source_url")
TARGET_COLUMNS = ("geo", "indicator", "definition", "deadline", "target", "comparator", "document",
                  "source_url", "quote", "geography", "note")
TARGET_REQUIRED = ("geo", "indicator", "deadline", "target", "comparator", "document")
COMPARATORS = (">=", ">", "<=", "<")
YEAR_RANGE = (2000, 2050)
MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


def known_geos(cfg: CalibrationConfig) -> tuple[str, ...]:
    """``vietnam`` first, then the national aggregates (config order), then the 63 pre-2025 provinces, sorted.
    Read once per version of the geos file (a run asks ~20 times: calibration, geography, scenario)."""
    path = _data_file(cfg, cfg.geos_file, "geos")
    stat = path.stat()
    return _known_geos(path, stat.st_mtime_ns, stat.st_size, cfg.aggregates)


@lru_cache(maxsize=8)
def _known_geos(path: Path, _mtime_ns: int, _size: int, aggregates: tuple[str, ...]) -> tuple[str, ...]:
    """``known_geos`` of the geos file ``path`` as it is at (modification time, size)."""
    table = read_csv(path, ("new_province", "old_province"))
    for geo in set(table["old_province"]):                 # geo ids name chart files
        check_name(path, "old_province", geo)
    return (NATIONAL,) + aggregates + tuple(sorted(set(table["old_province"]) - {NATIONAL} - set(aggregates)))


def _data_file(cfg: CalibrationConfig, path: Path, key: str) -> Path:
    """``path``; when it is the config's own data file and missing, the error names the config's field."""
    if path == getattr(cfg, "geos_file" if key == "geos" else key) and not path.exists():
        raise InputError(cfg.path, f"data.{key}", f"file not found: {path}")
    return path


def _number(path: Path, frame: pd.DataFrame, col: str) -> np.ndarray:
    out = np.empty(len(frame))
    decimal_comma = frame.attrs.get("delimiter") == ";"
    for i, text in enumerate(frame[col]):
        value = parse_number(text, decimal_comma) if text else None
        if value is None or not np.isfinite(value):
            hint = f"write {text.replace('%', '').strip()} for {text}" if text.endswith("%") \
                else "write e.g. 1300 or 12,5" if decimal_comma else "write e.g. 1300 or 12.5"
            what = "is empty" if not text else f"is not one clear number: {text!r} ({hint})"
            raise InputError(path, f"{row_name(frame, i)}, {col}", what)
        out[i] = value
    return out


def _year(path: Path, frame: pd.DataFrame, col: str) -> np.ndarray:
    out = np.empty(len(frame), dtype=np.int64)
    for i, text in enumerate(frame[col]):
        if not re.fullmatch(r"\d{4}(\.0)?", text):
            raise InputError(path, f"{row_name(frame, i)}, {col}", f"must be a year like 2023, got {text!r}")
        year = int(float(text))
        if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            raise InputError(path, f"{row_name(frame, i)}, {col}",
                             f"year {year} is outside the model range {YEAR_RANGE[0]}-{YEAR_RANGE[1]}")
        out[i] = year
    return out


def _check_names(path: Path, frame: pd.DataFrame, col: str, known: set[str], kind: str) -> None:
    for i, name in enumerate(frame[col]):
        if name not in known:
            if not name:
                raise InputError(path, f"{row_name(frame, i)}, {col}", "is empty")
            raise InputError(path, f"{row_name(frame, i)}, {col}", unknown(kind, name, known))


def _check_indicators(path: Path, frame: pd.DataFrame, cfg: CalibrationConfig, canonical: bool = False) -> None:
    from dxsim.inputs.geography import fill_geography

    fill_geography(path, frame, load_geomap(cfg), row_name, canonical)
    indicators = set(cfg.indicator_names) | set(cfg.recorded_indicators)
    _check_names(path, frame, "indicator", indicators, "indicator")


def _check_definitions(path: Path, frame: pd.DataFrame, cfg: CalibrationConfig, allow_empty: bool) -> None:
    known_by = {spec.name: set(spec.definition_names) | set(spec.excluded_definitions)
                | {d for i, d in cfg.target_mappings if i == spec.name} for spec in cfg.indicators}
    for i, (ind, dfn) in enumerate(zip(frame["indicator"], frame["definition"], strict=True)):
        if ind not in known_by:
            continue
        known = known_by[ind]
        if dfn not in known and not (allow_empty and not dfn):
            raise InputError(path, f"{row_name(frame, i)}, definition",
                             unknown(f"definition of {ind}", dfn or "(empty)", known))


def _refuse_duplicates(path: Path, frame: pd.DataFrame, key: list[str], shown: list[str]) -> None:
    """InputError naming the first row that repeats an earlier one on ``key`` (``shown`` columns quoted)."""
    dup = frame.duplicated(key, keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero((frame[key] == frame.loc[frame.index[i], key]).all(axis=1).to_numpy())[0])
        what = ", ".join(str(frame[c].iat[i])[:40] for c in shown)
        raise InputError(path, row_name(frame, i), f"duplicate of {row_name(frame, first)} ({what})")


def is_percent_unit(unit: str) -> bool:
    """A unit that means percent: empty, containing '%', or starting with 'percent'."""
    u = unit.strip().lower()
    return u == "" or "%" in u or u.startswith("percent")


def release_order(path: Path, where: str, text: str) -> float:
    """Sortable date of a statistical release: '2024', 'Jan-2025', '2025-01'; '' (unknown) sorts first.
    ``where`` names the row in an error."""
    t = text.strip()
    if not t:
        return -np.inf
    if m := re.fullmatch(r"(\d{4})", t):
        return int(m[1]) + 0.5
    if (m := re.fullmatch(r"(\d{4})-(\d{1,2})", t)) and 1 <= int(m[2]) <= 12:
        return int(m[1]) + int(m[2]) / 12
    if (m := re.fullmatch(r"([A-Za-z]{3})[a-z]*[- ](\d{4})", t)) and m[1].lower() in MONTHS:
        return int(m[2]) + MONTHS[m[1].lower()] / 12
    raise InputError(path, f"{where}, release",
                     f"must be a date like 2024, Jan-2025 or 2025-01, got {text!r}")


def _read_table(cfg: CalibrationConfig, path: str | Path | None, kind: str, required: Sequence[str],
                columns: Sequence[str]) -> tuple[Path, pd.DataFrame]:
    """The observations or targets file (``kind``; default: the config's) read with its optional ``columns``
    filled in as empty, its indicators and definitions checked (targets: canonical names, an empty definition
    allowed)."""
    targets = kind == "targets"
    path = _data_file(cfg, Path(path) if path is not None else getattr(cfg, kind), kind)
    frame = read_csv(path, required)
    for col in columns:
        if col not in frame.columns:
            frame[col] = ""
    if frame.empty:
        raise InputError(path, "", "no rows")
    _check_indicators(path, frame, cfg, canonical=targets)
    _check_definitions(path, frame, cfg, allow_empty=targets)
    return path, frame


def load_observations(cfg: CalibrationConfig, path: str | Path | None = None) -> pd.DataFrame:
    """Validated observations with source columns kept, plus ``time`` (decimal year of the reading) and
    ``status`` ('used' or why the fit leaves the row out)."""
    path, frame = _read_table(cfg, path, "observations", OBSERVATION_REQUIRED, OBSERVATION_COLUMNS)
    frame["year"] = _year(path, frame, "year")
    frame["value"] = _number(path, frame, "value")

    modelled = frame["indicator"].isin(cfg.indicator_names).to_numpy()
    months = np.full(len(frame), np.nan)
    for i, (year, period) in enumerate(zip(frame["year"], frame["period"], strict=True)):
        if not period:
            continue
        m = re.fullmatch(r"(\d{4})-(\d{2})", period)
        if not m or not 1 <= int(m[2]) <= 12:
            raise InputError(path, f"{row_name(frame, i)}, period", f"must be YYYY-MM, got {period!r}")
        if int(m[1]) != year:
            raise InputError(path, f"{row_name(frame, i)}, period", f"{period} is not in the row's year {year}")
        months[i] = int(m[2])
    values = frame["value"].to_numpy()
    not_percent = modelled & ~np.array([is_percent_unit(u) for u in frame["unit"]], dtype=bool)
    outside = modelled & ~((values >= 0) & (values <= 100))
    for i in np.flatnonzero(not_percent | outside)[:1]:           # the first bad row, in file order
        if not_percent[i]:
            raise InputError(path, f"{row_name(frame, i)}, unit",
                             f"{frame['indicator'].iat[i]} must be in percent, got {frame['unit'].iat[i]!r}")
        raise InputError(path, f"{row_name(frame, i)}, value", f"a percentage must lie in [0, 100], got {values[i]:g}")
    unsourced = ((frame["source_url"] == "") & (frame["quote"] == "") & (frame["note"] == "")).to_numpy()
    if unsourced.any():
        i = int(np.flatnonzero(unsourced)[0])
        raise InputError(path, f"{row_name(frame, i)}, source_url",
                         "every reading needs its source (a URL, quote or note)")

    _refuse_duplicates(path, frame, ["geo", "indicator", "definition", "year", "period", "release", "value",
                                     "source_url"], ["geo", "indicator", "year"])

    geos = set(known_geos(cfg))
    for k, ex in enumerate(cfg.exclusions):
        if ex.geo not in geos:
            raise InputError(cfg.path, f"exclude[{k}].geo", unknown("geo", ex.geo, geos))
    for geo, _ in cfg.baseline_spend_bn_vnd:
        if geo not in geos:
            raise InputError(cfg.path, f"baseline_spend_bn_vnd.{geo}", unknown("geo", geo, geos))
    order = np.array([release_order(path, row_name(frame, i), r) if r else -np.inf
                      for i, r in enumerate(frame["release"])])
    frame.attrs.clear()

    frame["status"] = "used"
    frame.loc[~modelled, "status"] = "indicator not modelled"
    excluded = {(spec.name, d): f"definition not modelled: {reason}" for spec in cfg.indicators
                for d, reason in spec.excluded_definitions.items() if reason}
    status = [excluded.get(key, "") for key in zip(frame["indicator"], frame["definition"], strict=True)]
    not_modelled = modelled & (np.array(status, dtype=object) != "")
    frame.loc[not_modelled, "status"] = np.array(status, dtype=object)[not_modelled]
    for ex in cfg.exclusions:
        hit = ((frame["geo"] == ex.geo) & (frame["indicator"] == ex.indicator)
               & (frame["definition"] == ex.definition) & (frame["year"] == ex.year))
        if ex.value is not None:
            hit &= frame["value"] == ex.value
        frame.loc[hit, "status"] = f"excluded in config: {ex.reason}"

    # Repeated releases of one year's figure (whatever their period): keep the latest vintage, never count older
    # ones as readings; two rows of the same vintage are an error, not two readings.
    frame["_release_order"] = order
    group = ["geo", "indicator", "definition", "year"]
    has_release = frame.assign(_has=frame["release"] != "").groupby(group)["_has"].transform("any").to_numpy()
    latest = frame.groupby(group)["_release_order"].transform("max").to_numpy()
    used = (frame["status"] == "used").to_numpy()
    superseded = has_release & (order < latest) & used
    frame.loc[superseded, "status"] = "superseded by a later release"
    tie = has_release & (order == latest) & used & frame.duplicated(group + ["_release_order"], keep="first").to_numpy()
    if tie.any():
        i = int(np.flatnonzero(tie)[0])
        raise InputError(path, f"{row_name(frame, i)}, release", f"{frame['release'].iat[i]!r} is also the release of "
                         "another row of the same figure: mark which release is the latest")
    frame = frame.drop(columns="_release_order")
    used = (frame["status"] == "used").to_numpy()
    ceilings = {(spec.name, d.name): d.ceiling for spec in cfg.indicators for d in spec.definitions}
    ceiling_of = np.array([ceilings.get(key, np.inf)
                           for key in zip(frame["indicator"], frame["definition"], strict=True)])
    for i in np.flatnonzero(used & (frame["value"].to_numpy() > ceiling_of))[:1]:
        raise InputError(path, f"{row_name(frame, i)}, value",
                         f"{frame['value'].iat[i]:g} is above the {ceiling_of[i]:g}% ceiling of "
                         f"{frame['indicator'].iat[i]}/{frame['definition'].iat[i]} in {cfg.path}")

    month_of = {spec.name: spec.reading_month for spec in cfg.indicators}
    reading_month = np.array([month_of.get(ind, 12) for ind in frame["indicator"]], dtype=float)
    frame["time"] = frame["year"] + np.where(np.isnan(months), reading_month, months) / 12.0
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class DataThrough:
    """Where the data end. ``year``: the jump-off (last year with a used reading of any modelled series);
    ``indicator``: the last year per indicator (its projections start the year after); ``series``: the last year
    per (indicator, definition), and ``newest``: the date of the newest reading per series ('2025-10', or the
    year where the source gives none) with its geo."""

    year: int
    indicator: dict[str, int]
    series: dict[tuple[str, str], int]
    newest: dict[tuple[str, str], tuple[str, str]]

    def series_jump_off(self, indicator: str, definition: str) -> int:
        """Last year with data of a series; a series never read follows its indicator."""
        return self.series.get((indicator, definition), self.indicator[indicator])

    def to_json(self) -> dict:
        return {"jump_off_year": self.year, "by_indicator": dict(self.indicator),
                "by_series": {f"{i}/{d}": {"last_year": y, "newest_reading": self.newest[(i, d)][0],
                                           "geo": self.newest[(i, d)][1]} for (i, d), y in self.series.items()}}


def data_through(cfg: CalibrationConfig, used: pd.DataFrame, as_of: int | None = None) -> DataThrough:
    """The jump-off and the last year with data per indicator and series, from the readings the fit uses
    (``used_observations``; with ``as_of`` they end in that year at the latest, and the jump-off is ``as_of``).
    An indicator without any reading starts its projections after the overall jump-off."""
    if used.empty and as_of is None:
        raise InputError(cfg.observations, "", "no reading of a modelled series is used: nothing to calibrate")
    overall = int(as_of) if as_of is not None else int(used["year"].max())
    last = used.groupby(["indicator", "definition"])["year"].max()
    series = {(i, d): int(y) for (i, d), y in last.items()}
    by_indicator = {ind: max((y for (i, _), y in series.items() if i == ind), default=overall)
                    for ind in cfg.indicator_names}
    rows = used.loc[used.groupby(["indicator", "definition"])["time"].idxmax()]     # each series' newest reading
    newest = {(ind, dfn): (period or str(int(year)), geo) for ind, dfn, period, year, geo in
              zip(rows["indicator"], rows["definition"], rows["period"], rows["year"], rows["geo"], strict=True)}
    return DataThrough(overall, by_indicator, series, newest)


def with_jump_off(cfg: CalibrationConfig, observations: pd.DataFrame) -> CalibrationConfig:
    """The config with ``jump_off_year`` set to the last year with data in ``observations``."""
    return dataclasses.replace(cfg, jump_off_year=data_through(cfg, used_observations(observations)).year)


def used_observations(frame: pd.DataFrame, as_of: int | None = None) -> pd.DataFrame:
    """The rows that enter the fit; with ``as_of``, only readings dated up to the end of that year."""
    keep = frame["status"] == "used"
    if as_of is not None:
        keep &= frame["year"] <= as_of
    return frame[keep].reset_index(drop=True)


def load_targets(cfg: CalibrationConfig, path: str | Path | None = None) -> pd.DataFrame:
    """Validated targets, source columns kept; ``definition`` may be empty for unmodelled indicators."""
    path, frame = _read_table(cfg, path, "targets", TARGET_REQUIRED, TARGET_COLUMNS)
    frame["deadline"] = _year(path, frame, "deadline")
    frame["target"] = _number(path, frame, "target")
    for i, comp in enumerate(frame["comparator"]):
        if comp not in COMPARATORS:
            raise InputError(path, f"{row_name(frame, i)}, comparator",
                             f"must be one of {' '.join(COMPARATORS)}, got {comp!r}")
    for i in np.flatnonzero(frame["indicator"].isin(cfg.indicator_names).to_numpy()):
        indicator, target = frame["indicator"].iat[i], frame["target"].iat[i]
        if not 0 <= target <= 100:
            raise InputError(path, f"{row_name(frame, i)}, target",
                             f"a percentage must lie in [0, 100], got {target:g}")
        if not frame["definition"].iat[i]:
            raise InputError(path, f"{row_name(frame, i)}, definition",
                             f"a target on {indicator} needs its definition")
    _refuse_duplicates(path, frame, ["geo", "indicator", "definition", "deadline", "target", "comparator", "document"],
                       ["geo", "indicator", "deadline", "document"])
    frame.attrs.clear()
    return frame.reset_index(drop=True)
