"""The two maps in charts and the brief: a merged province's parts (from the run's ``weights.csv``), their readings,
the weighted mean of the parts' readings where every part has one, the merger date and the map footnote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim.inputs.geography import MERGER_YEAR, POST, PRE, PRE_SUFFIX, load_geomap
from dxsim.outputs import style
from dxsim.outputs.chartkit import rows_of, run_config
from dxsim.outputs.explicit_tables import implicit
from dxsim.outputs.runtables import RunTables
from dxsim.outputs.words import table

PART_MARKERS = ("o", "s", "D", "^", "v", "P")


def word(key: str, lang: str = "en", **values: object) -> str:
    """A word of the maps (table ``map`` of the language's word file), formatted with ``values``."""
    template = table("map", style.check_lang(lang))[key]
    return template.format(**values) if values else template


@dataclass(frozen=True)
class Parts:
    """A merged province's parts for one indicator: names (``long_an``, ``tay_ninh@pre2025``), weights (sum 1)
    and the weight kind used (``population`` or a context.csv indicator) with the note of weights.csv."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    kinds: tuple[str, ...]
    notes: tuple[str, ...]


@lru_cache(maxsize=16)
def _weights(path: str, stamp: float) -> pd.DataFrame | None:
    del stamp                   # part of the cache key only: a rewritten file is read again
    try:
        return pd.read_csv(path, dtype={"geo": str, "part": str, "indicator": str, "weight_kind": str,
                                        "note": str}, keep_default_na=False)
    except (OSError, pd.errors.ParserError, ValueError):
        return None


def weights_table(tables: RunTables) -> pd.DataFrame | None:
    """The run's weights.csv (None for a run without merged provinces, or an older folder)."""
    path = Path(tables.folder) / "weights.csv"
    if not path.is_file():
        return None
    return _checked_weights(str(path), path.stat().st_mtime)


@lru_cache(maxsize=16)
def _checked_weights(path: str, stamp: float) -> pd.DataFrame | None:
    table = _weights(path, stamp)
    needed = {"geo", "part", "indicator", "weight", "weight_kind"}
    return table if table is not None and needed <= set(table.columns) else None


@lru_cache(maxsize=16)
def _parts_by_series(path: str, stamp: float) -> dict[tuple[str, str], Parts]:
    """Every merged province's parts per indicator in a weights.csv, read once (charts ask per series)."""
    table = _checked_weights(path, stamp)
    out = {}
    for (geo, indicator), rows in ({} if table is None else table.groupby(["geo", "indicator"], sort=False)):
        if len(rows) >= 2:
            out[(geo, indicator)] = Parts(tuple(rows["part"]), tuple(float(w) for w in rows["weight"]),
                                          tuple(rows["weight_kind"]),
                                          tuple(rows["note"]) if "note" in rows else ("",) * len(rows))
    return out


def parts_of(tables: RunTables, geo: str, indicator: str) -> Parts | None:
    """The parts of a merged province for ``indicator`` (None for a geo that is not a merged province)."""
    path = Path(tables.folder) / "weights.csv"
    if not path.is_file():
        return None
    return _parts_by_series(str(path), path.stat().st_mtime).get((geo, indicator))


def canonical_geos(tables: RunTables, names: Sequence[str] | None) -> list[str] | None:
    """Geo names as a results folder writes them, under the names contract: ``lang_son@pre2025`` is ``lang_son``
    (unchanged by the merger); other names are kept as given (an unknown one is refused by the caller)."""
    if not names:
        return None if names is None else list(names)
    cfg = run_config(tables)
    if cfg is None:
        return list(names)
    geomap = load_geomap(cfg)
    return [region.name if (region := geomap.resolve(n)) is not None else n for n in names]


def geography_of(tables: RunTables, geo: str) -> str:
    """``geography`` of a geo in the run ('' for an older folder without the column)."""
    if "geography" not in tables.trajectories.columns:
        return ""
    values = rows_of(tables, "trajectories", ("geo",), (geo,))["geography"]
    return str(values.iloc[0]) if len(values) else ""


def new_province_of(tables: RunTables, geo: str) -> str | None:
    """The merged province an old province (``long_an``, ``tay_ninh@pre2025``) belongs to, from weights.csv when
    the run has that province, else from the name (``tay_ninh@pre2025`` is part of ``tay_ninh``)."""
    table = weights_table(tables)
    if table is not None:
        hit = table.loc[table["part"] == geo, "geo"]
        if len(hit):
            return str(hit.iloc[0])
    return geo[: -len(PRE_SUFFIX)] if geo.endswith(PRE_SUFFIX) else None


def covered_old_geos(tables: RunTables) -> tuple[str, ...]:
    """The run's pre-2025 provinces whose merged province is in the run too: the report shows them after the new
    map, collapsed (a run of old provinces only shows them in full)."""
    return tuple(g for g in tables.pre2025_geos if new_province_of(tables, g) in tables.geos)


def shows_merger(tables: RunTables, geo: str, indicator: str) -> bool:
    """A chart of this geo marks the merger: a merged province, or an old province that merged."""
    geography = geography_of(tables, geo)
    if geography == POST:
        return parts_of(tables, geo, indicator) is not None
    return geography == PRE and new_province_of(tables, geo) is not None


def part_readings(tables: RunTables, geo: str, indicator: str, definition: str) -> pd.DataFrame:
    """The readings of a merged province's parts for one series (empty for any other geo), in time order."""
    parts = parts_of(tables, geo, indicator)
    if parts is None:
        return tables.observations.iloc[:0]
    series = rows_of(tables, "observations", ("indicator", "definition"), (indicator, definition))
    mine = series[series["geo"].isin(parts.names)]
    return mine.assign(_x=tables.reading_x(mine)).sort_values(["_x", "geo"], kind="stable").drop(columns="_x")


def parts_mean(tables: RunTables, geo: str, indicator: str, definition: str) -> pd.DataFrame:
    """Weighted mean of the parts' readings in each year where every part has one (each part's latest reading
    of that year), at the mean time of those readings: columns year, x, value. Arithmetic on readings, marked as
    such in the chart; years before the merger only."""
    parts = parts_of(tables, geo, indicator)
    readings = part_readings(tables, geo, indicator, definition)
    out = []
    if parts is None or readings.empty:
        return pd.DataFrame(columns=["year", "x", "value"])
    x = tables.reading_x(readings)
    readings = readings.assign(_x=x)
    for year, rows in readings.groupby("year"):
        if year > int(MERGER_YEAR) or set(rows["geo"]) != set(parts.names):
            continue
        latest = rows.sort_values("_x", kind="stable").groupby("geo").tail(1).set_index("geo")
        w = np.array(parts.weights)
        values = latest.loc[list(parts.names), "value"].to_numpy(float)
        out.append({"year": int(year), "x": float(latest["_x"].mean()), "value": float(w @ values)})
    return pd.DataFrame(out, columns=["year", "x", "value"])


def map_footnote(tables: RunTables, geo: str, indicator: str, lang: str) -> str:
    """One line on the map a chart uses: a merged province's parts with their weights and the weight kind
    (weights.csv), or the merged province an old province belongs to; '' for unchanged and national geos."""
    parts = parts_of(tables, geo, indicator)
    if parts is not None and geography_of(tables, geo) == POST:
        shown = " + ".join(f"{w:.0%} {style.geo_name(p, lang)}".replace(".", ",") for p, w in
                           zip(parts.names, parts.weights, strict=True))
        kinds = []
        for kind, note in dict.fromkeys(zip(parts.kinds, parts.notes, strict=True)):
            if kind == "population":
                fallback = note.split(" not available")[0] if "not available" in note else ""
                kinds.append(word("population", lang)
                             + (word("fallback", lang, kind=_kind_name(fallback, lang)) if fallback else ""))
            else:           # 'grdp_current_bn_vnd 2024, one source: URL' -> 'GRDP at current prices 2024'
                year = note.split(", one source")[0].split()[-1] if note else ""
                kinds.append(f"{_kind_name(kind, lang)} {year}".strip())
        return word("map_new", lang, geo=style.geo_name(geo, lang), parts=shown, kinds="; ".join(kinds))
    if geography_of(tables, geo) == PRE:
        new = new_province_of(tables, geo)
        if new is not None:
            return word("map_old", lang, geo=style.geo_name(geo, lang), new=style.geo_name(new, lang))
    return ""


def _kind_name(kind: str, lang: str) -> str:
    """A weight kind of weights.csv (a context.csv indicator) as readers say it."""
    return table("weight_kinds", style.check_lang(lang)).get(kind, kind.replace("_", " "))


def latest_text(tables: RunTables, geo: str, indicator: str, definition: str, lang: str) -> str | None:
    """The brief's latest reading of a series: the geo's own latest reading; for a merged province without one,
    each part's latest reading, naming the part and date; None when there is none."""
    obs = tables.observations
    own = obs[(obs["geo"] == geo) & (obs["indicator"] == indicator) & (obs["definition"] == definition)]
    if len(own):
        return word("own_latest", lang, **_value_when(tables, own, lang))
    readings = part_readings(tables, geo, indicator, definition)
    if readings.empty:
        return None
    parts = parts_of(tables, geo, indicator)
    assert parts is not None
    texts = [word("parts_latest", lang, part=style.geo_name(p, lang), **_value_when(tables, rows, lang))
             for p in parts.names if len(rows := readings[readings["geo"] == p])]
    return "; ".join(texts)


def _value_when(tables: RunTables, rows: pd.DataFrame, lang: str) -> dict[str, str]:
    row = rows.assign(_x=tables.reading_x(rows)).sort_values("_x", kind="stable").iloc[-1]
    period = str(row.get("period", "") or "")
    when = period if period and period != "nan" else str(int(row["year"]))
    return {"value": style.number(float(row["value"]), 1, lang), "when": when}


def national_comparison(tables: RunTables, lang: str) -> tuple[list[str], list[list[str]], str] | None:
    """The brief's comparison of the provinces' aggregate with national readings: (header, rows, sentence) from
    national_consistency.csv (the latest national reading of each headline series), or ([], [], why it is not
    available); None for a run whose manifest does not say (older folders)."""
    status = ((tables.manifest.get("geography") or {}).get("national_consistency"))
    path = Path(tables.folder) / "national_consistency.csv"
    if not isinstance(status, str):
        return None
    if not path.is_file():
        if "simulates " in status:          # core.national's sentence, in the report's language
            status = word("not_available", lang, have=status.split("simulates ")[1].split(" of")[0])
        return [], [], word("national_missing", lang, status=status)
    table = implicit(pd.read_csv(path, dtype={"period": str}, keep_default_na=False), path.name)  # 'none': ""
    header = [word(k, lang) for k in ("series", "when", "national_reading", "aggregate", "distance")]
    rows = []
    for ind, dfn in tables.headline_series():
        mine = table[(table["indicator"] == ind) & (table["definition"] == dfn)]
        if mine.empty:
            continue
        r = mine.iloc[-1]
        name = f"{style.indicator_name(ind, lang, tables.labels.get(ind), 'vietnam')} " \
               f"({style.definition_name(dfn, lang)})"
        num = lambda v: style.number(float(v), 1, lang)  # noqa: E731
        distance = f"{float(r['distance_pp']):+.1f}".replace(".", "," if lang == "vi" else ".")
        rows.append([name, str(r["period"] or r["year"]), num(r["national_reading"]),
                     f"{num(r['aggregate_q50'])} [{num(r['aggregate_q10'])}–{num(r['aggregate_q90'])}]", distance])
    kinds = ", ".join(dict.fromkeys(word("population", lang) if k == "population" else str(k)
                                    for k in table["weight"]))
    return header, rows, word("national_note", lang, n=63, weights=kinds, rows=len(table))
