"""The calibration configuration (``calibration/config.toml``) as frozen dataclasses, validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dxsim.errors import InputError, unknown
from dxsim.inputs.locate import find_config
from dxsim.inputs.stream_keys import CROSS_ELASTICITY_STREAM, clash_problem, key_clash
from dxsim.inputs.validate import Fields, read_toml
from dxsim.laws import LAW_NAMES, Law

PILLARS = ("broadband", "digital_government", "digital_economy")
DEFAULT_CONFIG = Path("calibration/config.toml")
# How a national aggregate's deviation from the nation is drawn (``CalibrationConfig.aggregate_deviation``).
AGGREGATE_DEVIATIONS = ("pooled", "stated")
# An indicator's name keys its random streams (core/streams.py) and names columns and files.
INDICATOR_NAME = re.compile(r"[a-z0-9_]+")


def _named(items: tuple[Any, ...], name: str) -> Any:
    """The item of ``items`` whose ``name`` is ``name`` (KeyError if none)."""
    for item in items:
        if item.name == name:
            return item
    raise KeyError(name)


@dataclass(frozen=True)
class NormalPrior:
    mean: float
    sd: float


@dataclass(frozen=True)
class LogNormalPrior:
    """Positive quantity: log(x) ~ Normal(log(median), log_sd)."""

    median: float
    log_sd: float


@dataclass(frozen=True)
class DefinitionSpec:
    """One way of measuring an indicator. The anchor has no offset; others sit at ``offset`` on the
    transformed scale from the anchor's latent path (an explicit, calibrated mapping)."""

    name: str
    ceiling: float
    offset: NormalPrior | None
    slope_offset: NormalPrior | None = None
    note: str = ""
    # A method break: readings dated before ``break_year`` measure the series another way and carry an offset of
    # their own (prior ``break_offset``), so the jump at the break is never read as speed.
    break_year: int | None = None
    break_offset: NormalPrior | None = None
    # Pooling centre of this definition: a province's value is this aggregate geo's path plus the province's
    # deviation (e.g. full-process dossiers of a province pool towards the provincial bloc, not the nation).
    centre: str = ""
    # A speed of its own (key ``own_slope``): ``slope_offset`` is then the definition's whole national speed,
    # constant, not an offset from the anchor's (neither the anchor's speed nor its damping is borrowed).
    own_speed: bool = False
    # A subset of the anchor (key ``within``, naming the anchor; a definition with a path of its own): its share
    # never exceeds the anchor's share of the same geo, in every draw and year (e.g. dossiers handled online end
    # to end are among those submitted online).
    within: str = ""


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    label: str
    law: Law
    pillar: str
    reading_month: int
    headline: bool
    anchor: str
    definitions: tuple[DefinitionSpec, ...]
    excluded_definitions: dict[str, str]
    level_prior: NormalPrior
    slope_prior: NormalPrior
    level_sd: LogNormalPrior
    slope_sd: LogNormalPrior
    obs_sd: LogNormalPrior
    process_sd: float          # the walk's yearly sd (jumpoff.py); with ``process_sd_prior``, its prior median
    elasticity: LogNormalPrior
    damping: float = 1.0       # per-year factor on the projected speed (1 = no damping)
    weight: str = "population"  # weight of a merged province's parts: population or a context.csv indicator
    # How the speed evolves (``DYNAMICS``): "constant" slope; "damped": the slope decays by a factor estimated from
    # the pooled data (calibrate.DAMPING_GRID); "local_linear": the slope takes yearly shocks in projections
    # (sd ``slope_shock_sd``, drawn per draw); "damped_local_linear": both.
    dynamics: str = "constant"
    slope_shock_sd: LogNormalPrior | None = None
    # A yearly flow (a share of the year's GDP or dossiers), not a stock: a reading of part of a year (its period
    # ends before December) has a noise of its own (core.design.partial_year)
    flow: bool = False
    # ``process_sd = { median, log_sd }``: the walk's yearly sd is estimated from the readings (its posterior
    # mode, calibrate.py), this log-normal prior centred on the stated value; None: ``process_sd`` as typed
    process_sd_prior: LogNormalPrior | None = None

    @property
    def damped(self) -> bool:
        return self.dynamics in ("damped", "damped_local_linear")

    @property
    def stochastic_slope(self) -> bool:
        return self.dynamics in ("local_linear", "damped_local_linear")

    def definition(self, name: str) -> DefinitionSpec:
        return _named(self.definitions, name)

    @property
    def definition_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.definitions)

    def ceiling_room_problem(self, points: float) -> str:
        """Why a ceiling lift of ``points`` cannot apply ('' when it can): ceilings are capped at 100%."""
        low = min(self.definitions, key=lambda d: d.ceiling)
        if points <= 100.0 - low.ceiling:
            return ""
        return (f"{self.name}'s ceilings leave room for a lift of at most {100.0 - low.ceiling:g} points "
                f"(ceilings are capped at 100%; definition {low.name} is at {low.ceiling:g}%), got {points:g}; "
                "use speed_multiplier instead")


@dataclass(frozen=True)
class Exclusion:
    """An observation left out of the fit on purpose, with the reason; ``value`` (optional) singles out one
    reading of the year."""

    geo: str
    indicator: str
    definition: str
    year: int
    reason: str
    value: float | None = None


@dataclass(frozen=True)
class CalibrationConfig:
    path: Path
    observations: Path
    targets: Path
    geos_file: Path
    recorded_indicators: tuple[str, ...]
    first_year: int
    reference_year: int
    share_clip: tuple[float, float]
    hyper_samples: int
    seed: int
    indicators: tuple[IndicatorSpec, ...]
    cross_elasticity: LogNormalPrior
    exclusions: tuple[Exclusion, ...] = ()
    baseline_spend_bn_vnd: dict[tuple[str, str], float] = field(default_factory=dict)
    # National aggregates other than ``vietnam`` (e.g. the provincial and ministerial blocs of dossiers): geos of
    # their own, centred on the nation, never counted as provinces.
    aggregates: tuple[str, ...] = ()
    # How an aggregate's level and slope deviations from the nation are drawn (``AGGREGATE_DEVIATIONS``):
    # "pooled" like a province's (the pooling sds level_sd, slope_sd, which they then inform), or "stated": fixed
    # normal priors with the indicator's level_sd and slope_sd prior medians, kept out of the provinces' spread.
    aggregate_deviation: str = "pooled"
    # Targets whose definition is not modelled but maps, by a stated prior-only assumption, onto modelled ones:
    # (indicator, definition) -> (modelled definitions, each evaluated in a row of its own; the assumption).
    target_mappings: dict[tuple[str, str], tuple[tuple[str, ...], str]] = field(default_factory=dict)
    # The last year with data: set from the observations (``observations.data_jump_off``), never in the TOML.
    jump_off_year: int | None = None
    census_file: Path = Path("calibration/census_2019.csv")   # population weights of the merged provinces
    context_file: Path = Path("calibration/context.csv")      # other weights an indicator may name (GRDP)

    def indicator(self, name: str) -> IndicatorSpec:
        return _named(self.indicators, name)

    @property
    def indicator_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.indicators)

    @property
    def headline(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.indicators if i.headline)

    def series(self) -> list[tuple[str, str]]:
        """Every modelled (indicator, definition), anchor first within an indicator."""
        return [(i.name, d.name) for i in self.indicators for d in i.definitions]


def _normal(f: Fields, key: str) -> NormalPrior:
    t = f.sub(key)
    t.allow_only({"mean", "sd"})
    return NormalPrior(t.number("mean"), t.number("sd", lo=0, strict_lo=True))


def _lognormal(f: Fields, key: str, median_hi: float | None = None, log_sd_hi: float | None = None) -> LogNormalPrior:
    t = f.sub(key)
    t.allow_only({"median", "log_sd", "source"})
    return LogNormalPrior(t.number("median", lo=0, strict_lo=True, hi=median_hi),
                          t.number("log_sd", lo=0, hi=log_sd_hi))


# Upper bounds of the walk's yearly sd (transformed-scale units; 10 carries a logit share from 1% to 99% in one
# year's sd) and of its prior's log_sd (3: a factor of 20 per prior sd): beyond them a value is a typing error,
# whose fit or run would end in non-finite numbers or at the edge of the sd's grid.
PROCESS_SD_MAX = 10.0
PROCESS_SD_LOG_SD_MAX = 3.0


# Why the anchor definition cannot have a key (default: it has no offset).
ANCHOR_HAS_NO = {"centre": "the anchor definition is pooled towards the nation",
                 "within": "the anchor definition cannot be bounded by itself"}
INDICATOR_KEYS = {
    "label", "law", "bass_shape", "pillar", "reading_month", "headline", "anchor", "definitions",
    "excluded_definitions", "level_prior", "slope_prior", "level_sd", "slope_sd", "obs_sd", "process_sd",
    "elasticity", "damping", "target_mappings", "dynamics", "slope_shock_sd", "weight", "flow",
}
DYNAMICS = ("constant", "damped", "local_linear", "damped_local_linear")


def _indicator(f: Fields, name: str) -> IndicatorSpec:
    f.allow_only(INDICATOR_KEYS)
    law_name = f.string("law", choices=LAW_NAMES)
    bass_shape = f.number("bass_shape", 0.05 if law_name == "bass" else 0.0, lo=0)
    if law_name == "bass" and bass_shape <= 0:
        raise f.error("bass_shape", f"must be > 0 for the Bass law, got {bass_shape}")
    anchor = f.string("anchor")
    defs_table = f.sub("definitions")
    if anchor not in defs_table.table:
        raise f.error("anchor", f"{anchor!r} is not among the definitions {sorted(defs_table.table)}")
    definitions = []
    for dname in [anchor] + [k for k in defs_table.table if k != anchor]:
        d = defs_table.sub(dname)
        d.allow_only({"ceiling", "offset", "slope_offset", "own_slope", "note", "break_year", "break_offset",
                      "centre", "within"})
        ceiling = d.number("ceiling", lo=0, hi=100, strict_lo=True)
        if dname == anchor:
            for key in ("offset", "slope_offset", "own_slope", "centre", "within"):
                if d.has(key):
                    raise d.error(key, ANCHOR_HAS_NO.get(key, "the anchor definition has no offset"))
            offset = slope_offset = None
        else:
            offset = _normal(d, "offset")
            if d.has("slope_offset") and d.has("own_slope"):
                raise d.error("own_slope", "give slope_offset (anchor's speed + offset) or own_slope, not both")
            speed_key = "own_slope" if d.has("own_slope") else "slope_offset"
            slope_offset = _normal(d, speed_key) if d.has(speed_key) else None
        break_year = d.integer("break_year", lo=2000, hi=2100) if d.has("break_year") else None
        if (break_year is None) != (not d.has("break_offset")):
            raise d.error("break_offset" if break_year is not None else "break_year",
                          "break_year and break_offset go together")
        break_offset = _normal(d, "break_offset") if break_year is not None else None
        centre = d.string("centre", "")
        if centre and slope_offset is None:
            raise d.error("centre", "a definition pooled towards an aggregate needs a slope_offset (its own speed)")
        within = d.string("within", "")
        if within and within != anchor:
            raise d.error("within", f"a subset is bounded by the anchor definition {anchor!r}, got {within!r}")
        anchor_ceiling = defs_table.sub(anchor).number("ceiling", lo=0, hi=100, strict_lo=True)
        if within and ceiling != anchor_ceiling:
            raise d.error("within", f"a subset of the anchor needs the anchor's ceiling (the bound is on the "
                          f"transformed scale): its ceiling is {ceiling:g}, the anchor's {anchor_ceiling:g}")
        if within and slope_offset is None:
            # a clip of the offset alone would move a subset observed without its anchor below its own readings
            raise d.error("within", "a bounded subset needs a path of its own (slope_offset or own_slope)")
        definitions.append(DefinitionSpec(dname, ceiling, offset, slope_offset, d.raw("note", ""),
                                          break_year, break_offset, centre, d.has("own_slope"), within))
    excluded = f.sub("excluded_definitions")
    for k, v in excluded.table.items():
        if not isinstance(v, str):
            raise excluded.error(k, f"must be the reason as a string, got {v!r}")
        if k in defs_table.table:
            raise excluded.error(k, "is also a modelled definition of this indicator: remove one of the two")
    mappings = f.sub("target_mappings")
    for k in mappings.table:
        m = mappings.sub(k)
        m.allow_only({"evaluate_as", "assumption"})
        as_ = m.raw("evaluate_as")
        if not isinstance(as_, list) or not as_ or not all(isinstance(x, str) and x in defs_table.table for x in as_):
            raise m.error("evaluate_as", f"must list modelled definitions of {name} {sorted(defs_table.table)}, "
                          f"got {as_!r}")
        m.string("assumption")
        if k in defs_table.table:
            raise mappings.error(k, "is a modelled definition: its targets need no mapping")
    dynamics = f.string("dynamics", "constant", choices=DYNAMICS)
    if f.has("slope_shock_sd") and dynamics not in DYNAMICS[2:]:
        raise f.error("slope_shock_sd", f"only a stochastic slope ({' or '.join(DYNAMICS[2:])}) has one; "
                      f"dynamics is {dynamics!r}")
    headline = f.raw("headline", False)
    if not isinstance(headline, bool):
        raise f.error("headline", f"must be true or false, got {headline!r}")
    flow = f.raw("flow", False)
    if not isinstance(flow, bool):
        raise f.error("flow", f"must be true or false, got {flow!r}")
    process_prior = (_lognormal(f, "process_sd", PROCESS_SD_MAX, PROCESS_SD_LOG_SD_MAX)
                     if isinstance(f.raw("process_sd"), dict) else None)
    return IndicatorSpec(
        name=name,
        label=f.string("label", name),
        law=Law(law_name, bass_shape),
        pillar=f.string("pillar", choices=PILLARS),
        reading_month=f.integer("reading_month", 12, lo=1, hi=12),
        headline=headline,
        anchor=anchor,
        definitions=tuple(definitions),
        excluded_definitions=dict(excluded.table),
        level_prior=_normal(f, "level_prior"),
        slope_prior=_normal(f, "slope_prior"),
        level_sd=_lognormal(f, "level_sd"),
        slope_sd=_lognormal(f, "slope_sd"),
        obs_sd=_lognormal(f, "obs_sd"),
        process_sd=process_prior.median if process_prior else f.number("process_sd", lo=0, hi=PROCESS_SD_MAX),
        process_sd_prior=process_prior,
        elasticity=_lognormal(f, "elasticity"),
        damping=f.number("damping", 1.0, lo=0, hi=1, strict_lo=True),
        dynamics=dynamics,
        slope_shock_sd=_lognormal(f, "slope_shock_sd") if dynamics in DYNAMICS[2:] else None,
        weight=f.string("weight", "population"),
        flow=flow,
    )


def load_config(path: str | Path | None = None) -> CalibrationConfig:
    """Read and validate a calibration config (default: found by ``locate.find_config``); data paths are
    resolved relative to its folder."""
    path = find_config(path)
    top = Fields(path, "", read_toml(path))
    top.allow_only({"data", "model", "indicators", "cross_pillar", "exclude", "baseline_spend_bn_vnd"})
    data = top.sub("data")
    data.allow_only({"observations", "targets", "geos", "recorded_indicators", "aggregates", "census",
                      "context", "aggregate_deviation"})
    aggregate_deviation = data.string("aggregate_deviation", "pooled", AGGREGATE_DEVIATIONS)
    aggregates = data.raw("aggregates", [])
    if not isinstance(aggregates, list) or not all(isinstance(x, str) and x for x in aggregates):
        raise data.error("aggregates", f"must be a list of geo names, got {aggregates!r}")
    recorded = data.raw("recorded_indicators", [])
    if not isinstance(recorded, list) or not all(isinstance(x, str) for x in recorded):
        raise data.error("recorded_indicators", f"must be a list of indicator names, got {recorded!r}")
    model = top.sub("model")
    if model.has("jump_off_year"):
        raise model.error("jump_off_year", "is no longer set in the config: the jump-off is the last year with "
                          "data, found in the observations (see manifest.json); remove the line")
    model.allow_only({"first_year", "reference_year", "share_clip", "hyper_samples", "seed"})
    first_year = model.integer("first_year", 2020, lo=2000, hi=2100)
    clip = model.raw("share_clip", [0.005, 0.995])
    if (not isinstance(clip, list) or len(clip) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in clip)
            or not 0 < clip[0] < clip[1] < 1):
        raise model.error("share_clip", f"must be [low, high] with 0 < low < high < 1, got {clip!r}")

    inds = top.sub("indicators")
    if not inds.table:
        raise inds.error("", "at least one indicator is required")
    for name in inds.table:
        if not INDICATOR_NAME.fullmatch(name):
            raise inds.error(name, "an indicator's name is lower-case letters, digits and '_' (it keys the "
                             f"indicator's random numbers), got {name!r}")
    clash = key_clash(inds.table, reserved=(CROSS_ELASTICITY_STREAM,))
    if clash:
        raise inds.error(clash[1], clash_problem(clash[0]))
    indicators = tuple(_indicator(inds.sub(name), name) for name in inds.table)

    cross = top.sub("cross_pillar")
    cross.allow_only({"broadband_to_others"})
    cross_elasticity = _lognormal(cross, "broadband_to_others") if cross.has("broadband_to_others") \
        else LogNormalPrior(1e-9, 0.0)

    exclusions = [Exclusion(e.string("geo"), e.string("indicator"), e.string("definition"), e.integer("year"),
                            e.string("reason"), e.number("value") if e.has("value") else None)
                  for e in top.tables("exclude", ("geo", "indicator", "definition", "year", "reason", "value"))]

    spend = {}
    sp = top.sub("baseline_spend_bn_vnd")
    for geo in sp.table:
        g = sp.sub(geo)
        g.allow_only(set(PILLARS) | {"source"})
        for pillar in PILLARS:
            if g.has(pillar):
                spend[(geo, pillar)] = g.number(pillar, lo=0, strict_lo=True)

    base = path.parent
    cfg = CalibrationConfig(
        path=path,
        observations=base / data.string("observations", "observations.csv"),
        targets=base / data.string("targets", "targets.csv"),
        geos_file=base / data.string("geos", "merger_2025.csv"),
        recorded_indicators=tuple(recorded),
        first_year=first_year,
        reference_year=model.integer("reference_year", lo=first_year, hi=2100),
        share_clip=(float(clip[0]), float(clip[1])),
        hyper_samples=model.integer("hyper_samples", 16, lo=1, hi=256),
        seed=model.integer("seed", 0, lo=0),
        indicators=indicators,
        cross_elasticity=cross_elasticity,
        exclusions=tuple(exclusions),
        baseline_spend_bn_vnd=spend,
        aggregates=tuple(aggregates),
        aggregate_deviation=aggregate_deviation,
        target_mappings={(ind.name, k): (tuple(v["evaluate_as"]), v["assumption"])
                         for ind, name in zip(indicators, inds.table, strict=True)
                         for k, v in inds.sub(name).sub("target_mappings").table.items()},
        census_file=base / data.string("census", "census_2019.csv"),
        context_file=base / data.string("context", "context.csv"),
    )
    for ind in cfg.indicators:
        for d in ind.definitions:
            if d.centre and d.centre not in cfg.aggregates:
                raise InputError(path, f"indicators.{ind.name}.definitions.{d.name}.centre",
                                 unknown("aggregate geo", d.centre, cfg.aggregates))
    for i, ex in enumerate(cfg.exclusions):
        if ex.indicator not in cfg.indicator_names:
            raise InputError(path, f"exclude[{i}].indicator",
                             unknown("indicator", ex.indicator, cfg.indicator_names))
        known = cfg.indicator(ex.indicator).definition_names
        if ex.definition not in known:
            raise InputError(path, f"exclude[{i}].definition",
                             unknown(f"definition of {ex.indicator}", ex.definition, known))
    return cfg
