"""Investment programmes as a scenario states them (``[[programmes]]`` and ``[rollout]`` in a scenario file, see
``scenarios/README.md``): budget in bn VND and its yearly release, planned start and duration, teams, the random
delays and overrun as log-normal quantities, and the effect on one indicator. ``core/rollout.py`` simulates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dxsim.errors import InputError, unknown
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.stream_keys import clash_problem, key_clash
from dxsim.inputs.validate import Fields, check_number, schedule_year

EFFECT_KINDS = ("ceiling_lift", "speed_multiplier", "step")
PROGRAMME_KEYS = {
    "name", "description", "source", "geo", "indicator", "budget_bn_vnd", "yearly_release_bn_vnd",
    "release_month", "start", "start_month", "duration_years", "teams", "effect", "procurement_months",
    "release_delay_months", "overrun",
}
ROLLOUT_KEYS = {"rollouts", "teams"}
DEFAULT_ROLLOUTS = 200
MAX_ROLLOUTS = 10_000
MAX_BN_VND = 1e7            # a budget or a yearly release: at most 10 million bn VND (Vietnam's GDP is about that)
MIN_DURATION_YEARS = 0.1    # a programme's nominal duration: at least about five weeks
# (lowest, highest) median of the random quantities, months or a factor; a random draw's spread is log_sd <= 3
LOGNORMAL_BOUNDS = {"procurement_months": (0.0, 600.0), "release_delay_months": (0.0, 600.0), "overrun": (0.1, 10.0)}


@dataclass(frozen=True)
class LogNormal:
    """A positive random quantity: ``median * exp(log_sd * N(0, 1))``; ``log_sd = 0`` is a fixed value."""

    median: float
    log_sd: float = 0.0

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        return self.median * np.exp(self.log_sd * rng.standard_normal(size))


@dataclass(frozen=True)
class Effect:
    """What a programme delivers: ``kind`` in EFFECT_KINDS; ``value`` is points (ceiling_lift, step) or the
    speed multiplier at full delivery (speed_multiplier)."""

    kind: str
    value: float


@dataclass(frozen=True)
class Programme:
    """One investment programme of one geo. Times are decimal years (2024.0 = 1 January 2024); money bn VND;
    delays in months."""

    name: str
    geo: str
    indicator: str
    pillar: str
    budget_bn_vnd: float
    yearly_release_bn_vnd: tuple[tuple[int, float], ...]   # step schedule: (from year, bn VND per year)
    start: float
    duration_years: float
    effect: Effect
    teams: int = 1
    release_month: int = 1
    procurement_months: LogNormal = LogNormal(0.0)
    release_delay_months: LogNormal = LogNormal(0.0)
    overrun: LogNormal = LogNormal(1.0)
    geo_teams: int = 0               # teams in the geo's shared pool (0: enough for all its programmes at once)
    description: str = ""

    @property
    def planned_end(self) -> float:
        return self.start + self.duration_years

    def release_plan(self, last_year: int) -> tuple[np.ndarray, np.ndarray]:
        """Nominal tranches up to ``last_year``: (times in decimal years, amounts in bn VND). A schedule's
        yearly amount holds from its year until the next entry; releases stop once the budget is released."""
        schedule = dict(self.yearly_release_bn_vnd)
        times, amounts, left, rate = [], [], self.budget_bn_vnd, 0.0
        for year in range(min(schedule), last_year + 1):
            rate = schedule.get(year, rate)
            amount = min(rate, left)
            if amount > 0:
                times.append(year + (self.release_month - 1) / 12.0)
                amounts.append(amount)
                left -= amount
            if left <= 1e-9 * self.budget_bn_vnd:
                break
        return np.array(times, float), np.array(amounts, float)



def parse_programmes(source: str, raw: Mapping[str, Any], cfg: CalibrationConfig, geos: tuple[str, ...],
                     horizon: int) -> tuple[tuple[Programme, ...], int]:
    """The ``[[programmes]]`` and ``[rollout]`` parts of a scenario file -> (programmes, rollout draws)."""
    top = Fields(source, "", raw)
    ro = top.sub("rollout")
    ro.allow_only(ROLLOUT_KEYS)
    rollouts = ro.integer("rollouts", DEFAULT_ROLLOUTS, lo=1, hi=MAX_ROLLOUTS)
    pool = ro.sub("teams")
    for geo in pool.table:
        if geo not in geos:
            raise pool.error(geo, f"geo {geo!r} is not in this scenario's geos {list(geos)}")
    pools = {geo: pool.integer(geo, lo=1, hi=1000) for geo in pool.table}

    out = [_programme(p, k, cfg, geos, horizon, pools) for k, p in enumerate(top.tables("programmes"))]
    names = [p.name for p in out]
    for k, name in enumerate(names):
        if name in names[:k]:
            raise InputError(source, f"programmes[{k}].name", f"{name!r} is used by another programme")
    clash = key_clash(names)
    if clash:
        raise InputError(source, f"programmes[{names.index(clash[1])}].name", clash_problem(clash[0]))
    for geo in pools:
        if geo not in {p.geo for p in out}:
            raise pool.error(geo, f"no programme runs in {geo!r}")
    return tuple(out), rollouts


def _programme(f: Fields, k: int, cfg: CalibrationConfig, geos: tuple[str, ...], horizon: int,
               pools: dict[str, int]) -> Programme:
    f.allow_only(PROGRAMME_KEYS)
    name = f.string("name", f"programme_{k + 1}")
    if not all(c.isalnum() or c in "-_." for c in name):
        raise f.error("name", f"use letters, digits, '-', '_' or '.', got {name!r}")
    geo = f.string("geo")
    if geo not in geos:
        raise f.error("geo", f"{geo!r} is not in this scenario's geos {list(geos)}")
    indicator = f.string("indicator")
    if indicator not in cfg.indicator_names:
        raise f.error("indicator", unknown("indicator", indicator, cfg.indicator_names))
    budget = f.number("budget_bn_vnd", lo=0, strict_lo=True, hi=MAX_BN_VND)
    start_year = f.integer("start", lo=cfg.jump_off_year + 1, hi=horizon)
    start = start_year + (f.integer("start_month", 1, lo=1, hi=12) - 1) / 12.0
    duration = f.number("duration_years", lo=MIN_DURATION_YEARS, hi=50)
    teams = f.integer("teams", 1, lo=1, hi=1000)
    if geo in pools and teams > pools[geo]:
        raise f.error("teams", f"needs {teams} teams but {geo} has {pools[geo]} (rollout.teams.{geo})")
    release = _release_schedule(f, budget, start_year, duration, (cfg.jump_off_year + 1, horizon))
    effect = _effect(f)
    if effect.kind == "ceiling_lift" and (problem := cfg.indicator(indicator).ceiling_room_problem(effect.value)):
        raise InputError(f.source, f.field("effect.points"), problem + " or step")
    return Programme(
        name=name, geo=geo, indicator=indicator, pillar=cfg.indicator(indicator).pillar, budget_bn_vnd=budget,
        yearly_release_bn_vnd=release, release_month=f.integer("release_month", 1, lo=1, hi=12), start=start,
        duration_years=duration, teams=teams, effect=effect,
        procurement_months=_lognormal(f, "procurement_months", 0.0),
        release_delay_months=_lognormal(f, "release_delay_months", 0.0),
        overrun=_lognormal(f, "overrun", 1.0, positive=True), geo_teams=pools.get(geo, 0),
        description=_text(f, "description"))


def _release_schedule(f: Fields, budget: float, start_year: int, duration: float,
                      year_range: tuple[int, int]) -> tuple[tuple[int, float], ...]:
    """Yearly release, bn VND per year: a number (from the start year) or a step schedule. Default: the budget
    spread evenly over the nominal duration (at least one year)."""
    key = "yearly_release_bn_vnd"
    value = f.raw(key)
    if value is None:
        return ((start_year, budget / max(duration, 1.0)),)
    if not isinstance(value, Mapping):
        return ((start_year, check_number(f.source, f.field(key), value, lo=0, strict_lo=True, hi=MAX_BN_VND)),)
    if not value:
        raise f.error(key, "an empty schedule; give a number or { YEAR = bn VND per year }")
    out = {}
    for year, amount in value.items():
        where = f"{f.field(key)}.{year}"
        out[schedule_year(f.source, f.field(key), str(year), year_range)] = check_number(f.source, where, amount,
                                                                                           lo=0, hi=MAX_BN_VND)
    schedule = tuple(sorted(out.items()))
    if schedule[-1][1] <= 0:
        raise InputError(f.source, f"{f.field(key)}.{schedule[-1][0]}",
                         "the last yearly release must be > 0, else the budget is never fully released")
    return schedule


def _text(f: Fields, key: str) -> str:
    value = f.raw(key, "")
    if not isinstance(value, str):
        raise f.error(key, f"must be a string, got {value!r}")
    return value


def _effect(f: Fields) -> Effect:
    e = f.sub("effect")
    e.allow_only({"kind", "multiplier", "points"})
    kind = e.string("kind", choices=EFFECT_KINDS)
    key, other = ("multiplier", "points") if kind == "speed_multiplier" else ("points", "multiplier")
    if e.has(other):
        raise e.error(other, f"not used by kind {kind!r}: give {key}")
    if kind == "speed_multiplier":
        return Effect(kind, e.number("multiplier", lo=1, strict_lo=True, hi=10))
    return Effect(kind, e.number("points", lo=0, strict_lo=True, hi=100))


def _lognormal(f: Fields, key: str, default: float, positive: bool = False) -> LogNormal:
    """A number (fixed) or ``{ median = x, log_sd = s }`` (log-normal)."""
    value = f.raw(key)
    if value is None:
        return LogNormal(default)
    lo, hi = LOGNORMAL_BOUNDS[key]
    if not isinstance(value, Mapping):
        return LogNormal(check_number(f.source, f.field(key), value, lo=lo, strict_lo=lo == 0 and positive, hi=hi))
    t = f.sub(key)
    t.allow_only({"median", "log_sd"})
    return LogNormal(t.number("median", lo=max(lo, 0), strict_lo=lo == 0, hi=hi), t.number("log_sd", 0.0, lo=0, hi=3))
