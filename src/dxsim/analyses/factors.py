"""Factors of an experiment (``dxsim sensitivity``): the scenario's levers and the model's stated assumptions,
each with a range or distribution, read from a small TOML file (``scenarios/factors_default.toml``)::

    [[factors]]
    name = "invest_broadband"        # letters, digits, '_', '-', '.'
    kind = "investment"              # see FACTOR_KINDS
    pillar = "broadband"
    geo = "*"                        # '*': every geo of the scenario (a geo's own factor overrides it there)
    range = [0.5, 2.0]
    distribution = "log_uniform"     # uniform (default) | log_uniform | triangular (peak = ...) | normal (mean,
                                     # sd, truncated to range)

What a factor's value means, per kind:

- ``investment``: the investment multiple of ``pillar`` in ``geo`` from the first projected year on (1 = the
  calibrated baseline effort); it replaces the scenario's schedule there.
- ``elasticity``: the median of the investment elasticity of ``indicator`` (or of every indicator of
  ``pillar``): every draw's elasticity is scaled by value / the config's median, so its spread is kept.
- ``cross_elasticity``: the median of the broadband-to-other-pillars elasticity, likewise.
- ``damping``: a yearly damping d in (0, 1] of ``indicator``'s projected speed: h years after its last data the
  speed is multiplied by d ** h (1 = none). It replaces the config's ``damping`` constant and acts on top of the
  calibrated dynamics (a "damped" indicator keeps its own estimated damping as well).
- ``ceiling``: points added to every ceiling of ``indicator`` (capped at 100%) from the year after its last data;
  each series starts its projection from the same share (no jump), then has more (or less) room to grow. A
  ceiling lowered below a draw's jump-off share caps that share there.
- ``programme_delay``: months by which programme ``programme``'s delivery is later than in its rollouts.
- ``programme_budget``: multiple of programme ``programme``'s size: budget and effect scale together (a
  ceiling lift or step of v points becomes value x v; a speed multiplier m becomes 1 + value x (m - 1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxsim.errors import InputError, unknown
from dxsim.inputs.config import PILLARS, CalibrationConfig
from dxsim.inputs.scenario import Scenario
from dxsim.inputs.validate import Fields, check_number, read_toml

FACTOR_KINDS = ("investment", "elasticity", "cross_elasticity", "damping", "ceiling", "programme_delay",
                "programme_budget")
DISTRIBUTIONS = ("uniform", "log_uniform", "triangular", "normal")
FACTOR_KEYS = {"name", "kind", "pillar", "geo", "indicator", "programme", "range", "distribution", "peak", "mean",
               "sd", "note"}
DEFAULT_FILE_HEADER = """\
Default factors of `dxsim sensitivity` for scenarios/baseline.toml (written by dxsim.analyses.factors.default_factors
from the scenario and calibration/config.toml; `dxsim sensitivity SCENARIO` without --factors uses the same
ones for its scenario). Copy and edit: one [[factors]] table per factor. Kinds and the meaning of a value:
  investment        the investment multiple of `pillar` in `geo` ('*': every geo) from the first projected
                    year (1 = the calibrated baseline effort); replaces the scenario's schedule there
  elasticity        the median of the investment elasticity of `indicator` (or every indicator of `pillar`);
                    each draw is scaled by value / the config's median, so the spread is kept
  cross_elasticity  the median of the broadband-to-other-pillars elasticity, likewise
  damping           yearly damping d in (0, 1] of `indicator`'s projected speed: h years after its last data
                    the speed is multiplied by d**h (1 = none; on top of the calibrated dynamics)
  ceiling           points added to every ceiling of `indicator` (capped at 100%) after its last data; the
                    projection starts from the same share (no jump), then has more or less room to grow
  programme_delay   months by which programme `programme` delivers later than in its rollouts
  programme_budget  multiple of programme `programme`'s size (budget and effect together)
distribution: uniform (default) or log_uniform over `range`; triangular (with `peak`); normal (`mean`, `sd`,
truncated to `range`). Ranges below: investment from half to twice the baseline effort; elasticity medians
over the config's 90% prior interval; ceilings (assumptions in the config) from -5 points to the room left.
Scenarios with programmes also get a delay (0-12 months) and a size (0.5-1.5) factor per programme. No damping
factor by default (the config types none; "damped" dynamics estimate theirs): add one to ask "what if adoption
slows?", e.g. kind = "damping", indicator = "fiber_household_share", range = [0.7, 1.0].
Regenerate: python -c "import dxsim.analyses.factors as f; f.write_default_file()"
"""
_SALIB_DIST = {"uniform": "unif", "log_uniform": "logunif", "triangular": "triang", "normal": "truncnorm"}


@dataclass(frozen=True)
class Factor:
    """One factor: what it changes (``kind`` and its target) and its distribution over ``low``-``high``."""

    name: str
    kind: str
    low: float
    high: float
    distribution: str = "uniform"
    pillar: str = ""
    geo: str = "*"
    indicator: str = ""
    programme: str = ""
    peak: float = float("nan")       # triangular: the mode
    mean: float = float("nan")       # normal: before truncation to [low, high]
    sd: float = float("nan")
    note: str = ""

    @property
    def salib_bounds(self) -> list[float]:
        if self.distribution == "triangular":
            return [self.low, self.high, (self.peak - self.low) / (self.high - self.low)]
        if self.distribution == "normal":
            return [self.low, self.high, self.mean, self.sd]
        return [self.low, self.high]

    @property
    def salib_dist(self) -> str:
        return _SALIB_DIST[self.distribution]


def salib_problem(factors: tuple[Factor, ...], uniform: bool = False) -> dict[str, Any]:
    """The SALib problem dict; ``uniform``: every factor uniform on its range (Morris's grid)."""
    problem: dict[str, Any] = {"num_vars": len(factors), "names": [f.name for f in factors]}
    if uniform:
        problem["bounds"] = [[f.low, f.high] for f in factors]
    else:
        problem["bounds"] = [f.salib_bounds for f in factors]
        problem["dists"] = [f.salib_dist for f in factors]
    return problem


def load_factors(path: str | Path, cfg: CalibrationConfig, scenario: Scenario) -> tuple[Factor, ...]:
    """Parse and validate a factors file against the config and the scenario."""
    source = str(path)
    raw = read_toml(path)
    top = Fields(source, "", raw)
    top.allow_only({"factors"})
    rows = top.raw("factors", [])
    if not isinstance(rows, list) or not rows:
        raise InputError(source, "factors", "needs at least one [[factors]] table")
    factors = tuple(_factor(Fields(source, f"factors[{k}]", row), cfg, scenario) for k, row in enumerate(rows))
    names = [f.name for f in factors]
    for k, name in enumerate(names):
        if name in names[:k]:
            raise InputError(source, f"factors[{k}].name", f"{name!r} is used twice")
    targets = [(f.kind, f.pillar, f.geo, f.indicator, f.programme) for f in factors]
    for k, t in enumerate(targets):
        if t in targets[:k]:
            raise InputError(source, f"factors[{k}]", f"changes the same thing as factor {names[targets.index(t)]!r}")
    return factors


def _factor(f: Fields, cfg: CalibrationConfig, scenario: Scenario) -> Factor:
    f.allow_only(FACTOR_KEYS)
    name = f.string("name")
    if not all(c.isalnum() or c in "-_." for c in name):
        raise f.error("name", f"use letters, digits, '-', '_' or '.', got {name!r}")
    kind = f.string("kind", choices=FACTOR_KINDS)
    dist = f.string("distribution", "uniform", choices=DISTRIBUTIONS)
    bounds = f.raw("range")
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise f.error("range", f"must be [low, high], got {bounds!r}")
    low, high = (check_number(f.source, f"{f.field('range')}[{j}]", v) for j, v in enumerate(bounds))
    if not low < high:
        raise f.error("range", f"low must be below high, got [{low:g}, {high:g}]")
    keys: dict[str, Any] = {}
    if kind == "investment":
        keys["pillar"] = f.string("pillar", choices=PILLARS)
        keys["geo"] = f.string("geo", "*")
        if keys["geo"] != "*" and keys["geo"] not in scenario.geos:
            raise f.error("geo", unknown("geo of the scenario", keys["geo"], ("*",) + scenario.geos))
        _positive(f, low, "an investment multiple")
    elif kind == "elasticity":
        if f.has("indicator") == f.has("pillar"):
            raise f.error("indicator", "give either indicator or pillar")
        if f.has("indicator"):
            keys["indicator"] = f.string("indicator", choices=cfg.indicator_names)
        else:
            keys["pillar"] = f.string("pillar", choices=PILLARS)
        _positive(f, low, "an elasticity median")
    elif kind == "cross_elasticity":
        _positive(f, low, "an elasticity median")
    elif kind in ("damping", "ceiling"):
        keys["indicator"] = f.string("indicator", choices=cfg.indicator_names)
        if kind == "damping" and not (low > 0 and high <= 1):
            raise f.error("range", f"damping must lie in (0, 1], got [{low:g}, {high:g}]")
        if kind == "ceiling":
            spec = cfg.indicator(keys["indicator"])
            if problem := spec.ceiling_room_problem(high):
                raise f.error("range", problem)
            lowest = min(d.ceiling for d in spec.definitions)
            if low <= -lowest:
                raise f.error("range", f"would take the {lowest:g}% ceiling of {spec.name} to 0 or below")
    else:
        names = tuple(p.name for p in scenario.programmes)
        keys["programme"] = f.string("programme")
        if keys["programme"] not in names:
            raise f.error("programme", unknown("programme of the scenario", keys["programme"], names))
        if kind == "programme_budget":
            _positive(f, low, "a programme size multiple")
    extra: dict[str, Any] = {}
    if dist == "log_uniform":
        _positive(f, low, "a log-uniform range")
    if dist == "triangular":
        extra["peak"] = f.number("peak", lo=low, hi=high)
    if dist == "normal":
        extra["mean"] = f.number("mean")
        extra["sd"] = f.number("sd", lo=0, strict_lo=True)
    return Factor(name=name, kind=kind, low=low, high=high, distribution=dist, note=f.string("note", ""),
                  **keys, **extra)


def _positive(f: Fields, low: float, what: str) -> None:
    if low <= 0:
        raise f.error("range", f"{what} must be positive, got low = {low:g}")


def default_factors(cfg: CalibrationConfig, scenario: Scenario) -> tuple[Factor, ...]:
    """The default factors of a scenario: each pillar's investment multiple everywhere (log-uniform, from half to
    twice the calibrated baseline effort), each indicator's elasticity median (log-uniform over the config's
    90% interval), the cross-pillar elasticity likewise, each programme's delay (0-12 months) and size
    (0.5-1.5), and the ceilings the config calls assumptions (below 100%: -5 points to the room left)."""
    out = [Factor(f"invest_{p}", "investment", 0.5, 2.0, "log_uniform", pillar=p,
                  note="investment multiple in every geo (1 = calibrated baseline effort)") for p in PILLARS]
    z90 = 1.6449
    for spec in cfg.indicators:
        e = spec.elasticity
        out.append(Factor(f"elasticity_{spec.name}", "elasticity", round(e.median * math.exp(-z90 * e.log_sd), 4),
                          round(e.median * math.exp(z90 * e.log_sd), 4), "log_uniform", indicator=spec.name,
                          note="elasticity median; range: the config's 90% interval"))
    c = cfg.cross_elasticity
    out.append(Factor("cross_elasticity", "cross_elasticity", round(c.median * math.exp(-z90 * c.log_sd), 4),
                      round(c.median * math.exp(z90 * c.log_sd), 4), "log_uniform",
                      note="broadband-to-others elasticity median; range: the config's 90% interval"))
    for spec in cfg.indicators:
        room = 100.0 - min(d.ceiling for d in spec.definitions)
        if room > 0:
            out.append(Factor(f"ceiling_{spec.name}", "ceiling", -5.0, min(room, 5.0), indicator=spec.name,
                              note="points on the assumed ceilings (an assumption in the config)"))
    for p in scenario.programmes:
        out.append(Factor(f"delay_{p.name}", "programme_delay", 0.0, 12.0, programme=p.name,
                          note="months of extra delay of the programme's delivery"))
        out.append(Factor(f"size_{p.name}", "programme_budget", 0.5, 1.5, programme=p.name,
                          note="programme size multiple (budget and effect together)"))
    return tuple(out)


def factors_toml(factors: tuple[Factor, ...], header: str = "") -> str:
    """A factors file (TOML) for ``factors``; ``load_factors`` reads it back."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for f in factors:
        lines += ["", "[[factors]]", f'name = "{f.name}"', f'kind = "{f.kind}"']
        for key in ("pillar", "indicator", "programme"):
            if getattr(f, key):
                lines.append(f'{key} = "{getattr(f, key)}"')
        if f.kind == "investment":
            lines.append(f'geo = "{f.geo}"')
        lines += [f"range = [{f.low!r}, {f.high!r}]", f'distribution = "{f.distribution}"']
        if f.distribution == "triangular":
            lines.append(f"peak = {f.peak!r}")
        if f.distribution == "normal":
            lines += [f"mean = {f.mean!r}", f"sd = {f.sd!r}"]
        if f.note:
            lines.append(f'note = "{f.note}"')
    return "\n".join(lines) + "\n"


def write_default_file(path: str | Path = "scenarios/factors_default.toml",
                       scenario: str | Path = "scenarios/baseline.toml") -> None:
    """Write the shipped example: the default factors of ``scenario`` with the shipped calibration."""
    from dxsim.inputs.observations import known_geos
    from dxsim.inputs.scenario import load_scenario
    from dxsim.pipeline import load_inputs

    cfg = load_inputs().config
    factors = default_factors(cfg, load_scenario(scenario, cfg, known_geos(cfg)))
    Path(path).write_text(factors_toml(factors, DEFAULT_FILE_HEADER))
