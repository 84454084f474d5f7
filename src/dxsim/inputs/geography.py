"""The two maps of Vietnam (63 provinces before 1 July 2025, 34 after), the names users write, the weights of
each new province's parts and the per-draw aggregation of the model's (old-province) values onto either map.

Names contract (users script against it):
- a plain name means the province as it is today where that name is one of the 34 (``tay_ninh`` is the merged
  Tay Ninh, ``hue`` is valid); a province that no longer exists keeps its name (``long_an``, ``ha_nam``);
- ``NAME@pre2025`` is the pre-merger extent of a surviving name (``tay_ninh@pre2025`` = Tay Ninh without
  Long An); unchanged provinces (``lang_son``) are the same on both maps, so ``lang_son@pre2025`` is ``lang_son``;
- ``vietnam`` (and any other non-provincial model geo) is national.
Every output carries ``geography`` (``pre_2025``, ``post_2025``, ``national``) next to ``geo``.

The model calibrates the old provinces (``model geos``: where the history is). A region's share is the weighted
mean of its parts' shares, per draw and year: ``values_region = W @ values_parts`` with W (indicator, region,
part) rows summing to 1. Weights: 2019 census population by default; an indicator may name a ``weight`` from
``context.csv`` in the config, used for a region only where every part has it in one year from one source (one
price basis), else population for that region, with the reason in ``weights.csv``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim.errors import InputError, did_you_mean
from dxsim.inputs.fingerprint import sha256_file

PRE, POST, NATIONAL_MAP = "pre_2025", "post_2025", "national"
GEOGRAPHIES = (PRE, POST, NATIONAL_MAP)
PRE_SUFFIX = "@pre2025"
MERGER_YEAR = 2025.5           # 1 July 2025, as a decimal year
POPULATION = "population"
WEIGHT_COLUMNS = ("geo", "geography", "part", "indicator", "weight_kind", "weight_year", "weight_value", "weight",
                  "note")


@dataclass(frozen=True)
class Region:
    """A geo as users name it: ``name`` (canonical), its ``geography`` and the model geos it is made of."""

    name: str
    geography: str
    parts: tuple[str, ...]

    @property
    def merged(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True)
class GeoMap:
    """Both maps. ``model_geos``: what the model calibrates (national geos first, then the 63, as in
    ``observations.known_geos``); ``new``: the 34 with their parts; ``population``: 2019 census per old
    province."""

    model_geos: tuple[str, ...]
    new: dict[str, tuple[str, ...]]
    population: dict[str, float]

    @property
    def old(self) -> tuple[str, ...]:
        return tuple(g for g in self.model_geos if g in self.population)

    @property
    def national(self) -> tuple[str, ...]:
        return tuple(g for g in self.model_geos if g not in self.population)

    def new_of(self, old: str) -> str:
        """The new province an old one belongs to."""
        return next(n for n, parts in self.new.items() if old in parts)

    def resolve(self, name: str) -> Region | None:
        """The region a name means under the contract, or None when it means nothing."""
        if name.endswith(PRE_SUFFIX):
            base = name[:-len(PRE_SUFFIX)]
            if base not in self.population:
                return None
            if base in self.new and self.new[base] == (base,):
                return Region(base, POST, (base,))          # unchanged: the same on both maps
            return Region(name if base in self.new else base, PRE, (base,))
        if name in self.new:
            return Region(name, POST, self.new[name])
        if name in self.population:
            return Region(name, PRE, (name,))
        if name in self.model_geos:
            return Region(name, NATIONAL_MAP, (name,))
        return None

    def region(self, name: object, source: str | Path, where: str) -> Region:
        """``resolve`` or an InputError naming the file, the field, the value and candidates on both maps."""
        region = self.resolve(name) if isinstance(name, str) else None
        if region is None:
            raise InputError(source, where, self.unknown_message(name))
        return region

    def unknown_message(self, name: object) -> str:
        text = str(name)
        base = text[:-len(PRE_SUFFIX)] if text.endswith(PRE_SUFFIX) else text
        new = difflib.get_close_matches(base, sorted(self.new) + list(self.national), n=2, cutoff=0.6)
        old = difflib.get_close_matches(base, sorted(self.population), n=2, cutoff=0.6)
        old = list(dict.fromkeys([*self.new.get(base, ()), *old]))[:3]    # hue@pre2025: thua_thien_hue first
        hint = did_you_mean(base, set(self.new) | set(self.model_geos))
        return (f"unknown geo {text!r}{hint}; closest on the 34-province map (since 1 July 2025): "
                f"{', '.join(new) or 'none'}; on the 63-province map: "
                f"{', '.join(n + (PRE_SUFFIX if n in self.new and self.new[n] != (n,) else '') for n in old) or 'none'}"
                f" (write NAME{PRE_SUFFIX} for a surviving name's old extent)")

    def regions(self, names: Iterable[str], source: str | Path = "geos", where: str = "geos") -> tuple[Region, ...]:
        return tuple(self.region(n, source, f"{where}[{k}]") for k, n in enumerate(names))

    def model_geos_of(self, regions: Iterable[Region]) -> tuple[str, ...]:
        """The model geos the regions are made of, in model order."""
        wanted = {p for r in regions for p in r.parts}
        return tuple(g for g in self.model_geos if g in wanted)

    def renamed_note(self, source: str | Path, names: Sequence[str]) -> str:
        """One line for a file that uses surviving names of merged provinces ('' if none): what they mean now
        and how to write the old extent. A name listed with another of its parts (or its NAME@pre2025) is
        evidently meant on the new map and needs no note."""
        listed = set(names)
        merged = [n for n in names if n in self.new and n in self.new[n] and len(self.new[n]) > 1
                  and not listed & ({p for p in self.new[n] if p != n} | {n + PRE_SUFFIX})]
        if not merged:
            return ""
        parts = "; ".join(f"{n} = {' + '.join(p + (PRE_SUFFIX if p == n else '') for p in self.new[n])}"
                          for n in merged)
        return (f"note: {source}: {', '.join(merged)} mean the provinces since the merger of 1 July 2025 "
                f"({parts}); write e.g. {merged[0]}{PRE_SUFFIX} for the province before it")


def reading_region(geomap: GeoMap, geo: str, geography: str) -> Region | None:
    """The region a data row (observation or target) is about, from its ``geo`` and ``geography`` columns
    (empty geography: the pre-2025 map, national for national geos). None when the pair is not valid."""
    if geography == POST:
        return Region(geo, POST, geomap.new[geo]) if geo in geomap.new else None
    if geography in (PRE, ""):
        if geo in geomap.population:
            region = geomap.resolve(f"{geo}{PRE_SUFFIX}")
            return region
        if geography == "" and geo in geomap.national:
            return Region(geo, NATIONAL_MAP, (geo,))
        return None
    if geography == NATIONAL_MAP:
        return Region(geo, NATIONAL_MAP, (geo,)) if geo in geomap.national else None
    return None


def fill_geography(path: str | Path, frame: pd.DataFrame, geomap: GeoMap, row_name, canonical: bool = False  # noqa: ANN001
                   ) -> None:
    """Check every row's ``geo`` against its ``geography`` (empty: the pre-2025 map, or national) and, in place,
    fill ``geography`` and write ``geo`` as the model geo of a one-part region (so the fit reads it directly);
    a merged province keeps its new name (``post_2025``). With ``canonical`` (targets, matched against the
    regions a run reports) ``geo`` is the contract's name instead (``tay_ninh@pre2025``). InputError names the
    row (``row_name(frame, i)``), the field and the value."""
    if "geography" not in frame.columns:
        frame["geography"] = ""
    geos, geographies = list(frame["geo"]), list(frame["geography"])
    for i, (geo, geog) in enumerate(zip(geos, geographies, strict=True)):
        if geog not in GEOGRAPHIES + ("",):
            raise InputError(path, f"{row_name(frame, i)}, geography",
                             f"must be one of {', '.join(GEOGRAPHIES)} or empty, got {geog!r}")
        region = reading_region(geomap, geo, geog)
        if region is None:
            if not geo:
                raise InputError(path, f"{row_name(frame, i)}, geo", "is empty")
            on = {POST: "the 34-province map", PRE: "the 63-province map", NATIONAL_MAP: "the national geos"}
            problem = geomap.unknown_message(geo)
            if geomap.resolve(geo) is not None and geog:
                problem = f"{geo!r} is not on {on[geog]} (geography {geog}); {problem.split('; ', 1)[1]}"
            raise InputError(path, f"{row_name(frame, i)}, geo", problem)
        geographies[i] = geog or region.geography
        geos[i] = region.name if canonical or region.merged else region.parts[0]
    frame["geo"], frame["geography"] = geos, geographies


def is_merged_reading(geomap: GeoMap, geo: str, geography: str) -> bool:
    """A row about a merged province on the new map (an observation of its parts' weighted mean)."""
    return geography == POST and len(geomap.new.get(geo, ())) > 1


def canonical_geos(geomap: GeoMap, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table of rows (``geo`` a model geo or a merged province, ``geography``) with ``geo`` written
    as the contract's name: ``tay_ninh@pre2025`` for the old Tay Ninh, ``tay_ninh`` for the merged one."""

    def name(geo: str, geography: str) -> str:
        if is_merged_reading(geomap, geo, geography) or geo not in geomap.population:
            return geo
        if geography == POST:
            return geomap.new_of(geo)
        return geomap.resolve(geo + PRE_SUFFIX).name

    out = frame.copy()
    out["geo"] = [name(g, gg) for g, gg in zip(out["geo"], out["geography"], strict=True)]
    return out


def model_regions(geos: Iterable[str]) -> tuple[Region, ...]:
    """Model geos as one-part regions under their model names (internal runs such as the backtest, whose
    readings are model geos): ``vietnam`` national, the others pre_2025."""
    return tuple(Region(g, NATIONAL_MAP if g.startswith("vietnam") else PRE, (g,)) for g in geos)


# ---- loading -------------------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _load(merger: str, census: str, model_geos: tuple[str, ...]) -> GeoMap:
    from dxsim.inputs.csvtable import parse_number, read_csv

    table = read_csv(merger, ("new_province", "old_province"))
    new: dict[str, list[str]] = {}
    for n, o in zip(table["new_province"], table["old_province"], strict=True):
        new.setdefault(n, []).append(o)
    population: dict[str, float] = {}
    if Path(census).exists():
        cens = read_csv(census, ("geo", "indicator", "value"))
        for k, (geo, ind, text) in enumerate(zip(cens["geo"], cens["indicator"], cens["value"], strict=True)):
            value = parse_number(text)
            if ind != POPULATION:
                continue
            if value is None or value <= 0:
                raise InputError(census, f"row {k + 1}, value", f"a population must be a positive number, got {text!r}")
            population[geo] = value
    old = [o for parts in new.values() for o in parts]
    missing = [o for o in old if o not in population]
    if missing and population:
        raise InputError(census, "geo", f"no 2019 population for {', '.join(missing[:5])}: every old province "
                         "needs one (the default aggregation weight)")
    if not population:
        raise InputError(census, "", "file not found or without population rows: the aggregation weights")
    return GeoMap(model_geos, {n: tuple(p) for n, p in new.items()}, {o: population[o] for o in old})


def load_geomap(cfg) -> GeoMap:  # noqa: ANN001 - CalibrationConfig (config imports nothing from here)
    """The two maps for a calibration config (cached per file)."""
    from dxsim.inputs.observations import known_geos

    return _load(str(cfg.geos_file), str(cfg.census_file), known_geos(cfg))


# ---- weights and aggregation --------------------------------------------------------------------------------

def _context_weights(context: pd.DataFrame, kind: str, parts: tuple[str, ...]) -> tuple[dict[str, float], int, str]:
    """Weights of ``kind`` for every part from one year and one source (one price basis), latest year first;
    ({}, 0, reason) when there is none."""
    rows = context[(context["indicator"] == kind) & context["geo"].isin(parts)]
    for (year, url), group in sorted(rows.groupby(["year", "source_url"]), key=lambda kv: -int(kv[0][0])):
        if set(group["geo"]) == set(parts) and len(group) == len(parts):
            return dict(zip(group["geo"], group["value"].astype(float), strict=True)), int(year), str(url)
    have = sorted(set(rows["geo"]))
    return {}, 0, (f"{kind} not available for every part from one source and year "
                   f"(have: {', '.join(have) or 'none'}); population used")


@dataclass(frozen=True)
class Aggregation:
    """Regions as weighted means of model geos. ``matrix`` (indicator, region, model geo): rows sum to 1;
    ``identity``: every region is one model geo (no arithmetic needed); ``table``: the weights, for
    ``weights.csv``."""

    regions: tuple[Region, ...]
    model_geos: tuple[str, ...]
    matrix: np.ndarray
    table: pd.DataFrame

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions)

    @property
    def geographies(self) -> tuple[str, ...]:
        return tuple(r.geography for r in self.regions)

    @property
    def identity(self) -> bool:
        return all(len(r.parts) == 1 for r in self.regions)

    def columns(self, rows: Sequence[int]) -> np.ndarray:
        """Model-geo indices that the given regions need."""
        return np.flatnonzero(np.any(self.matrix[:, list(rows)] != 0, axis=(0, 1)))

    def apply(self, values: np.ndarray, indicator_of_series: np.ndarray, rows: Sequence[int],
              cols: np.ndarray) -> np.ndarray:
        """values (scenario, model geo in ``cols``, series, draw) -> (scenario, region in ``rows``, series, draw):
        each region's weighted mean of its parts, draw by draw."""
        out = np.empty((values.shape[0], len(rows), values.shape[2], values.shape[3]))
        for i in np.unique(indicator_of_series):
            ks = np.flatnonzero(indicator_of_series == i)
            w = self.matrix[i][np.ix_(list(rows), cols)]                        # (R, G)
            # sparse: most regions are one model geo (a copy); the others sum their few parts, part by part
            single = (np.count_nonzero(w, axis=1) == 1) & (w.max(axis=1) == 1.0)
            one = np.flatnonzero(single)
            out[:, one[:, None], ks] = values[:, w[one].argmax(axis=1)[:, None], ks]
            for r in np.flatnonzero(~single):
                parts = np.flatnonzero(w[r])
                total = w[r, parts[0]] * values[:, parts[0], ks]
                for g in parts[1:]:
                    total += w[r, g] * values[:, g, ks]
                out[:, r, ks] = total
        return out

    def select(self, names: Sequence[str]) -> Aggregation:
        idx = [self.names.index(n) for n in names]
        cols = self.columns(idx)
        keep = set(names)
        return Aggregation(tuple(self.regions[i] for i in idx), tuple(self.model_geos[c] for c in cols),
                           self.matrix[:, idx][:, :, cols], self.table[self.table["geo"].isin(keep)])


def build_aggregation(geomap: GeoMap, regions: Sequence[Region], indicators: Sequence[str],
                      weight_of: dict[str, str], context: pd.DataFrame | None) -> Aggregation:
    """The aggregation of ``regions`` onto their model geos, with per-indicator weights (``weight_of``:
    indicator -> context indicator; population where absent or where any part lacks it)."""
    model = geomap.model_geos_of(regions)
    col = {g: j for j, g in enumerate(model)}
    matrix = np.zeros((len(indicators), len(regions), len(model)))
    rows = []
    for r, region in enumerate(regions):
        for i, ind in enumerate(indicators):
            kind = weight_of.get(ind, POPULATION)
            values, year, note = {}, 2019, "2019 census population"
            if len(region.parts) == 1:
                values, note = {region.parts[0]: 1.0}, "one part"
                kind_used, year = "none", 0
            else:
                if kind != POPULATION and context is not None:
                    values, year, note = _context_weights(context, kind, region.parts)
                    if values:
                        note = f"{kind} {year}, one source: {note}"
                kind_used = kind if values else POPULATION
                if not values:
                    values = {p: geomap.population[p] for p in region.parts}
                    if kind == POPULATION:
                        note = "2019 census population"
                    year = 2019
            total = sum(values.values())
            for p in region.parts:
                matrix[i, r, col[p]] = values[p] / total
                if len(region.parts) > 1:
                    part = geomap.resolve(p + PRE_SUFFIX).name
                    rows.append({"geo": region.name, "geography": region.geography, "part": part, "indicator": ind,
                                 "weight_kind": kind_used, "weight_year": year, "weight_value": values[p],
                                 "weight": values[p] / total, "note": note})
    return Aggregation(tuple(regions), model, matrix, pd.DataFrame(rows, columns=list(WEIGHT_COLUMNS)))


def readings_of(geomap: GeoMap, observations: pd.DataFrame, aggregation: Aggregation | None) -> pd.DataFrame:
    """The readings about a run's regions (their parts' readings included), ``geo`` written as the contract's
    name (``observations_used.csv``)."""
    if aggregation is None:
        return observations.iloc[:0]
    names = set(aggregation.names)
    merged = np.array([is_merged_reading(geomap, g, gg) for g, gg in zip(observations["geo"],
                                                                            observations["geography"], strict=True)],
                      dtype=bool)
    mine = np.where(merged, observations["geo"].isin(names), observations["geo"].isin(aggregation.model_geos))
    return canonical_geos(geomap, observations[mine]).reset_index(drop=True)


def geography_manifest(cfg, aggregation: Aggregation | None) -> dict:  # noqa: ANN001 - CalibrationConfig
    """What the manifest says about the maps: files, the weights per indicator and the fallbacks."""
    out = {"map": "regions on both maps; merged provinces are weighted means of their pre-2025 parts, per draw",
           "merger": {"file": str(cfg.geos_file), "sha256": sha256_file(cfg.geos_file)},
           "census": {"file": str(cfg.census_file), "sha256": sha256_file(cfg.census_file)},
           "weights": {spec.name: spec.weight for spec in cfg.indicators}}
    if aggregation is not None and not aggregation.table.empty:
        t = aggregation.table
        fallback = t[(t["weight_kind"] == POPULATION) & (t["indicator"].map(out["weights"]) != POPULATION)]
        out["weights_fallback"] = sorted({f"{r.geo}/{r.indicator}: {r.note}" for r in fallback.itertuples()})
    return out
