"""Scenario files (``scenarios/*.toml``): investment per pillar, geo and year, and events.

Investment is a multiple of the calibrated baseline effort (1 = the effort seen in the data continues), or
billion VND per year where the calibration config gives a baseline spend. A value is a number (from the first
projected year on) or a schedule ``{ 2024 = 1.5, 2027 = 1.2 }``: each value holds from its year until the next.
See ``scenarios/README.md`` for the format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dxsim.errors import InputError, unknown
from dxsim.inputs.config import PILLARS, CalibrationConfig
from dxsim.inputs.geography import Region, load_geomap
from dxsim.inputs.programmes import DEFAULT_ROLLOUTS, Programme, parse_programmes
from dxsim.inputs.validate import Fields, check_name, check_number, read_toml, schedule_year

SCENARIO_KEYS = {"name", "description", "horizon", "draws", "seed", "geos", "investment", "events", "programmes",
                 "rollout"}
EVENT_KEYS = {"name", "indicator", "geos", "year", "ceiling_lift", "speed_multiplier"}
UNITS = ("multiple", "bn_vnd")
DEFAULT_GEOS = ("long_an", "lang_son", "hau_giang", "tra_vinh", "vietnam")
DEFAULT_HORIZON, MAX_HORIZON = 2030, 2035
# A scenario file without ``geos``: the seed provinces on both maps (names contract in geography.py)
FILE_DEFAULT_GEOS = ("tay_ninh", "can_tho", "vinh_long", "lang_son", "long_an", "hau_giang", "tra_vinh", "vietnam")
MAX_DRAWS = 1_000_000
MAX_MULTIPLE = 1000.0      # investment: at most 1000 times the baseline effort (bn_vnd: the configured spend)


@dataclass(frozen=True)
class Event:
    """A policy event from ``year`` on: the ceiling rises by ``ceiling_lift`` points and/or the adoption speed
    is multiplied by ``speed_multiplier`` (e.g. an online-submission mandate)."""

    name: str
    indicator: str
    geos: tuple[str, ...]
    year: int
    ceiling_lift: float = 0.0
    speed_multiplier: float = 1.0


@dataclass(frozen=True)
class RunSettings:
    """How a scenario is run, apart from what it assumes: the last projected year, the Monte Carlo draws, the
    random seed and the rollout draws of its programmes (at most the Monte Carlo draws)."""

    horizon: int = DEFAULT_HORIZON
    draws: int = 2000
    seed: int = 0
    rollouts: int = DEFAULT_ROLLOUTS


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario: its levers (investment, events, programmes) for its geos, and its run ``settings``.
    ``investment`` maps (geo or '*', pillar) -> {year: value} step schedule."""

    name: str
    description: str
    geos: tuple[str, ...]
    unit: str
    investment: dict[tuple[str, str], dict[int, float]]
    events: tuple[Event, ...] = ()
    programmes: tuple[Programme, ...] = ()   # investment programmes, simulated as rollouts (rollout.py)
    settings: RunSettings = RunSettings()
    path: Path | None = None
    regions: tuple[Region, ...] = ()          # what each geo means (geography.py); () = resolve the names
    notes: tuple[str, ...] = ()               # one-line notes for the user (e.g. what a surviving name means now)

    def resolved_regions(self, cfg: CalibrationConfig) -> tuple[Region, ...]:
        return self.regions or load_geomap(cfg).regions(self.geos, self.path or "scenario")

    def model_geos(self, cfg: CalibrationConfig) -> tuple[str, ...]:
        """The old provinces (and national geos) the model simulates for this scenario."""
        return load_geomap(cfg).model_geos_of(self.resolved_regions(cfg))

    def _keys_of(self, cfg: CalibrationConfig) -> dict[str, list[str]]:
        """Model geo -> the scenario's geo keys that cover it, most specific (fewest parts) first."""
        geomap = load_geomap(cfg)
        keyed = {key for key, _ in self.investment if key != "*"} | {g for ev in self.events for g in ev.geos}
        covers: dict[str, list[tuple[int, str]]] = {}
        for key in keyed:
            region = geomap.resolve(key)
            for part in region.parts if region else (key,):
                covers.setdefault(part, []).append((len(region.parts) if region else 1, key))
        return {g: [k for _, k in sorted(v)] for g, v in covers.items()}

    def investment_multiple(self, cfg: CalibrationConfig, years: np.ndarray, first_projected: int) -> np.ndarray:
        """Investment multiple per (year, model geo, pillar): 1 before the first projected year and before a
        schedule's first year; in bn VND, divided by the configured baseline spend. A merged province's schedule
        applies to all its parts; a part's own schedule overrides it."""
        years = np.asarray(years)
        model_geos = self.model_geos(cfg)
        keys_of = self._keys_of(cfg)
        out = np.ones((len(years), len(model_geos), len(PILLARS)))
        for g, geo in enumerate(model_geos):
            for p, pillar in enumerate(PILLARS):
                default = self.investment.get(("*", pillar), {})
                override = next((self.investment[(k, pillar)] for k in keys_of.get(geo, [])
                                 if (k, pillar) in self.investment), {})
                # a per-geo schedule replaces the default from its first year on
                first = min(override, default=np.inf)
                schedule = {y: v for y, v in default.items() if y < first} | override
                if not schedule:
                    continue
                starts = np.array(list(schedule))                 # sorted years; each value holds until the next
                values = np.array(list(schedule.values()))
                pos = np.searchsorted(starts, years, side="right") - 1
                active = (pos >= 0) & (years >= first_projected)
                value = values[np.maximum(pos, 0)]
                if self.unit == "bn_vnd":
                    value = value / cfg.baseline_spend_bn_vnd[(geo, pillar)]
                out[active, g, p] = value[active]
        return out

    def event_effects(self, cfg: CalibrationConfig, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(speed multiplier, ceiling lift in points), each (year, model geo, indicator), from the events; an
        event in a merged province acts on each of its parts (once, however many of its geos cover a part)."""
        indicators = cfg.indicator_names
        model_geos = self.model_geos(cfg)
        geomap = load_geomap(cfg)
        speed = np.ones((len(years), len(model_geos), len(indicators)))
        lift = np.zeros_like(speed)
        for ev in self.events:
            i = indicators.index(ev.indicator)
            on = years >= ev.year
            parts = {p for geo in ev.geos for p in (geomap.resolve(geo) or Region(geo, "", (geo,))).parts}
            for geo in parts:
                g = model_geos.index(geo)
                speed[on, g, i] *= ev.speed_multiplier
                lift[on, g, i] += ev.ceiling_lift
        return speed, lift


def _schedule(source: str, where: str, value: Any, cfg_years: tuple[int, int]) -> dict[int, float]:
    """A number (from the first projected year ``cfg_years[0]`` on) or { YEAR = value } within ``cfg_years``;
    a change dated before the first projected year would rewrite history and is refused."""
    if isinstance(value, dict):
        if not value:
            raise InputError(source, where, "an empty schedule; give a number or { YEAR = value }")
        out = {}
        for key, v in value.items():
            year = schedule_year(source, where, key, cfg_years)
            out[year] = check_number(source, f"{where}.{key}", v, lo=0, hi=MAX_MULTIPLE)
        return dict(sorted(out.items()))
    return {cfg_years[0]: check_number(source, where, value, lo=0, hi=MAX_MULTIPLE)}


def load_scenario(path: str | Path, cfg: CalibrationConfig, known_geos: tuple[str, ...]) -> Scenario:
    """Parse and validate a scenario file against the calibration config (its ``jump_off_year``, the last year
    with data, is found in the config's observations when not set)."""
    path = Path(path)
    raw = read_toml(path)
    if not raw:
        raise InputError(path, "", "the file is empty; a scenario needs at least a name (see scenarios/README.md)")
    return parse_scenario(raw, cfg, known_geos, path=path)


def parse_scenario(raw: dict[str, Any], cfg: CalibrationConfig, known_geos: tuple[str, ...],
                   path: Path | None = None) -> Scenario:
    """Validate the fields of a scenario (the tables of a scenario file, as a dict) against the calibration
    config; ``path``: the file they come from (errors name it, else "scenario"; its stem is the default name)."""
    if cfg.jump_off_year is None:
        from dxsim.inputs.observations import load_observations, with_jump_off

        cfg = with_jump_off(cfg, load_observations(cfg))
    source = str(path) if path is not None else "scenario"
    top = Fields(source, "", raw)
    top.allow_only(SCENARIO_KEYS)
    name = check_name(source, top.field("name"), top.string("name", path.stem if path is not None else None))
    horizon = top.integer("horizon", DEFAULT_HORIZON, lo=cfg.jump_off_year + 1, hi=MAX_HORIZON)
    draws = top.integer("draws", 2000, lo=10, hi=MAX_DRAWS)
    seed = top.integer("seed", 0, lo=0)
    geomap = load_geomap(cfg)
    geos_raw = top.raw("geos", list(FILE_DEFAULT_GEOS))
    if not isinstance(geos_raw, list) or not geos_raw:
        raise top.error("geos", f"must be a non-empty list of geo ids, got {geos_raw!r}")
    regions = geomap.regions(geos_raw, source, "geos")
    for k, region in enumerate(regions):
        if any(p not in known_geos for p in region.parts):
            raise InputError(source, f"geos[{k}]", unknown("geo", geos_raw[k], known_geos))
        if region.name in [r.name for r in regions[:k]]:
            raise top.error("geos", f"lists a geo twice ({geos_raw[k]!r} is {region.name!r})")
    geos = tuple(r.name for r in regions)
    model_geos = geomap.model_geos_of(regions)
    notes = tuple(n for n in [geomap.renamed_note(source, geos)] if n)

    def in_scenario(where: str, name: object, what: str = "") -> str:
        """The canonical name of a geo key of this scenario (a geo, or a part of one), else InputError."""
        region = geomap.region(name, source, where)
        if not set(region.parts) <= set(model_geos):
            raise InputError(source, where, f"{what}{name!r} is not in this scenario's geos {list(geos)} "
                             "(nor a part of one)")
        return region.name
    year_range = (cfg.jump_off_year + 1, horizon)

    inv = top.sub("investment")
    unit = inv.string("unit", "multiple", choices=UNITS)
    investment: dict[tuple[str, str], dict[int, float]] = {}
    for key, value in inv.table.items():
        if key == "unit":
            continue
        if key in PILLARS:
            investment[("*", key)] = _schedule(source, inv.field(key), value, year_range)
        elif geomap.resolve(key) is not None:
            name = in_scenario(inv.field(key), key, "geo ")
            per_geo = inv.sub(key)
            per_geo.allow_only(PILLARS)
            for pillar, v in per_geo.table.items():
                investment[(name, pillar)] = _schedule(source, per_geo.field(pillar), v, year_range)
        else:
            raise inv.error(key, unknown("pillar or geo", key, set(PILLARS) | set(geos)))
    if unit == "bn_vnd":
        for pillar in PILLARS:
            covered = {p for (key, pl) in investment if key != "*" and pl == pillar
                       for p in geomap.region(key, source, "investment").parts}
            for geo in dict.fromkeys(p for r in regions for p in r.parts):     # in the scenario's order
                if (("*", pillar) in investment or geo in covered) and (geo, pillar) not in cfg.baseline_spend_bn_vnd:
                    raise inv.error("unit", f"bn_vnd needs a baseline spend for {geo}/{pillar} in "
                                    f"{cfg.path} [baseline_spend_bn_vnd.{geo}]; none is configured")
        for (geo, pillar), schedule in investment.items():
            spends = [cfg.baseline_spend_bn_vnd[(g, pillar)] for g in (geos if geo == "*" else (geo,))
                      if (g, pillar) in cfg.baseline_spend_bn_vnd]
            for year, value in schedule.items():
                if spends and value / min(spends) > MAX_MULTIPLE:
                    field = f"{inv.field(pillar if geo == '*' else f'{geo}.{pillar}')}.{year}"
                    raise InputError(source, field, f"{value:g} bn VND is more than {MAX_MULTIPLE:g} times the "
                                     f"baseline spend {min(spends):g}; use at most {MAX_MULTIPLE * min(spends):g}")

    events = []
    for k, e in enumerate(top.tables("events", EVENT_KEYS)):
        indicator = e.string("indicator")
        if indicator not in cfg.indicator_names:
            raise e.error("indicator", unknown("indicator", indicator, cfg.indicator_names))
        ev_geos = e.raw("geos", list(geos))
        if isinstance(ev_geos, str):
            ev_geos = [ev_geos]
        if not isinstance(ev_geos, list):
            raise e.error("geos", f"must be a list of geo ids, got {ev_geos!r}")
        for j, geo in enumerate(ev_geos):
            ev_geos[j] = in_scenario(f"{e.field('geos')}[{j}]", geo)
            if ev_geos[j] in ev_geos[:j]:
                raise InputError(source, f"{e.field('geos')}[{j}]", f"lists {geo!r} twice")
        event = Event(
            name=e.string("name", f"event {k + 1}"), indicator=indicator, geos=tuple(ev_geos),
            year=e.integer("year", lo=cfg.jump_off_year + 1, hi=horizon),
            ceiling_lift=e.number("ceiling_lift", 0.0, lo=0, hi=100),
            speed_multiplier=e.number("speed_multiplier", 1.0, lo=0, strict_lo=True, hi=MAX_MULTIPLE))
        if event.ceiling_lift == 0 and event.speed_multiplier == 1:
            raise e.error("speed_multiplier", "the event changes nothing: set ceiling_lift or speed_multiplier")
        if problem := cfg.indicator(indicator).ceiling_room_problem(event.ceiling_lift):
            raise e.error("ceiling_lift", problem)
        events.append(event)
    programmes, rollouts = parse_programmes(source, raw, cfg, geos, horizon)

    return Scenario(name=name, description=top.string("description", ""), geos=geos, unit=unit,
                    investment=investment, events=tuple(events), programmes=programmes,
                    settings=RunSettings(horizon, draws, seed, rollouts), path=path, regions=regions, notes=notes)
