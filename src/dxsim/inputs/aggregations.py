"""A config's aggregation (``geography.build_aggregation`` with the config's weights and files), built once per
config object, regions and version of the context file: a run asks for it three times (ensemble, national
check, merged readings), and building it takes a few tenths of a second."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dxsim.errors import InputError
from dxsim.inputs.geography import POPULATION, Aggregation, Region, build_aggregation, load_geomap


def load_context(path: Path) -> pd.DataFrame | None:
    """context.csv as (geo, indicator, year, value, source_url), or None when the file is absent."""
    from dxsim.inputs.csvtable import parse_number, read_csv

    if not path.exists():
        return None
    frame = read_csv(path, ("geo", "indicator", "year", "value"))
    if "source_url" not in frame.columns:
        frame["source_url"] = ""
    frame["value"] = [parse_number(v) for v in frame["value"]]
    return frame[frame["value"].notna() & frame["year"].str.fullmatch(r"\d{4}")].reset_index(drop=True)


_AGGREGATIONS: dict[tuple, tuple] = {}     # (id(cfg), regions, context file's mtime) -> (cfg, its aggregation)


def aggregation_for(cfg, regions: Sequence[Region]) -> Aggregation:  # noqa: ANN001 - CalibrationConfig
    """``build_aggregation`` with the config's weights and files: built once per config object, regions and
    version of the context file (a run asks three times), then shared (its matrix read-only)."""
    context = Path(cfg.context_file)
    key = (id(cfg), tuple(regions), context.stat().st_mtime_ns if context.exists() else None)
    if _AGGREGATIONS.get(key, (None,))[0] is not cfg:         # held here: the config's id is not reused meanwhile
        if len(_AGGREGATIONS) >= 8:
            _AGGREGATIONS.clear()
        _AGGREGATIONS[key] = (cfg, _aggregation_for(cfg, regions))
        _AGGREGATIONS[key][1].matrix.flags.writeable = False
    return _AGGREGATIONS[key][1]


def _aggregation_for(cfg, regions: Sequence[Region]) -> Aggregation:  # noqa: ANN001 - CalibrationConfig
    weight_of = {spec.name: spec.weight for spec in cfg.indicators}
    context = load_context(cfg.context_file) if any(w != POPULATION for w in weight_of.values()) else None
    for ind, kind in weight_of.items():
        if kind != POPULATION and (context is None or kind not in set(context["indicator"])):
            raise InputError(cfg.path, f"indicators.{ind}.weight", f"{kind!r} is neither population nor an "
                             f"indicator of {cfg.context_file}" + ("" if context is not None else " (file not found)"))
    return build_aggregation(load_geomap(cfg), regions, cfg.indicator_names, weight_of, context)
