"""Investment programmes as discrete-event rollouts (SimPy), and what they deliver to the adoption model.

A programme (``[[programmes]]`` in a scenario file, see ``scenarios/README.md``) is a budget in bn VND released
year by year, a planned start, a nominal duration and a number of implementation teams. In one rollout (one
simulated future of every programme of the scenario, all geos in one SimPy environment):

- the budget is a level of money per programme (``_Budget``, a ``simpy.Container``'s rules without its events),
  filled on the release schedule, each tranche late by a random delay (budgets are released late);
- each geo has a pool of implementation teams, a ``simpy.Resource`` shared by the geo's programmes (first come,
  first served; a programme holds its teams from the start of work to completion);
- a programme waits for its planned start plus a random procurement delay and for its teams, then works at its
  nominal pace (``duration_years`` times a random overrun for the whole work) as long as released money is
  left; the work costs the budget in proportion to progress, so when the money runs out it waits for the next
  release.

The delivered fraction of a programme at time t is its completed share of the work. It acts on one indicator of
its geo (the programme's pillar is the indicator's):

- ``ceiling_lift``: the indicator's ceiling rises by ``points * delivered`` (points);
- ``speed_multiplier``: the adoption speed is multiplied by ``1 + (multiplier - 1) * delivered``;
- ``step``: at completion the share jumps by ``points`` (a one-off rise of the latent z, applied at the
  indicator's first reading after completion).

Random numbers are drawn per programme from a stream keyed by its name, so removing one programme leaves the
others' delays and overruns unchanged (they may still finish earlier: fewer programmes compete for teams).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from dxsim.core.streams import as_seed_sequence, named_stream
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.programmes import Programme

if TYPE_CHECKING:
    import simpy

    from dxsim.inputs.scenario import Scenario

_MIN_WORK_YEARS = 1e-6      # a drawn overrun never makes a programme's work instantaneous (0/0 in its path)
_DONE = 1.0 - 1e-6          # work fraction counted as complete (float sums of tranches)
_ASK = 1.0 - 1e-9           # wait for a hair less than a tranche, so rounding never leaves a programme waiting


@dataclass(frozen=True)
class Rollouts:
    """Rollout draws of a scenario's programmes.

    ``delivered`` (programme, rollout, year): delivered fraction at the reading time of the programme's
    indicator; ``completion`` (programme, rollout): completion in decimal years, ``inf`` when not complete by the
    end of the last year; ``contended``: geos where a programme had to wait for teams in some rollout (their
    programmes interact). Effect arrays (rollout, year, geo, indicator), from ``effects()``: speed multiplier
    (>= 1), ceiling lift in points (>= 0) and the jump of the share in points in that year (>= 0)."""

    programmes: tuple[Programme, ...]
    geos: tuple[str, ...]
    indicators: tuple[str, ...]
    years: tuple[int, ...]
    reading_months: tuple[int, ...]
    delivered: np.ndarray
    completion: np.ndarray
    contended: frozenset[str]
    seed: np.random.SeedSequence

    @property
    def n_rollouts(self) -> int:
        return self.delivered.shape[1]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.programmes)

    def effects(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(speed, ceiling_lift, share_step), each (rollout, year, geo, indicator)."""
        P = len(self.programmes)
        return tuple(a[0] for a in self.effects_for(np.zeros((P, 1)), np.ones((P, 1))))

    def effects_for(self, delay_years: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The effects of variants of the programmes (experiments): programme k delivers ``delay_years[k, v]``
        later and ``size[k, v]`` times its effect in variant v (a speed multiplier m becomes 1 + size (m - 1)).
        Delivered fractions between reading times are interpolated linearly (0 before the first year).
        Returns (speed, ceiling_lift, share_step), each (variant, rollout, year, geo, indicator)."""
        V = delay_years.shape[1]
        Y = len(self.years)
        shape = (V, self.n_rollouts, Y, len(self.geos), len(self.indicators))
        speed, lift, step = np.ones(shape), np.zeros(shape), np.zeros(shape)
        for k, p in enumerate(self.programmes):
            g, i = self.geos.index(p.geo), self.indicators.index(p.indicator)
            delay, scale = delay_years[k][:, None, None], size[k][:, None, None]                 # (V, 1, 1)
            if p.effect.kind == "step":
                tau = np.array(self.years, float) + self.reading_months[i] / 12.0
                before = np.concatenate([[-np.inf], tau[:-1]])
                c = self.completion[k][None, :, None] + delay                                    # (V, R, 1)
                step[..., g, i] += scale * p.effect.value * ((c > before) & (c <= tau))
                continue
            delivered = self.delivered[k][None]                                                  # (1, R, Y)
            if np.any(delay):
                at = np.arange(Y)[None, None, :] - delay                                         # (V, 1, Y)
                j = np.floor(at).astype(int)
                w = at - j
                padded = np.concatenate([np.zeros((self.n_rollouts, 1)), self.delivered[k]], axis=1)
                lo = padded[:, np.clip(j + 1, 0, Y)[:, 0]]                                         # (R, V, Y)
                hi = padded[:, np.clip(j + 2, 0, Y)[:, 0]]
                delivered = np.moveaxis((1 - w[:, 0]) * lo + w[:, 0] * hi, 0, 1)                  # (V, R, Y)
            if p.effect.kind == "speed_multiplier":
                speed[..., g, i] *= 1.0 + scale * (p.effect.value - 1.0) * delivered
            else:
                lift[..., g, i] += scale * p.effect.value * delivered
        return speed, lift, step

    def without(self, name: str) -> Rollouts:
        """The same rollouts without programme ``name``: its geo is simulated again (same random numbers for
        the others) when its programmes compete for teams, else its paths are simply dropped."""
        k = self.names.index(name)
        geo = self.programmes[k].geo
        keep = [j for j in range(len(self.programmes)) if j != k]
        out = replace(self, programmes=tuple(self.programmes[j] for j in keep), delivered=self.delivered[keep],
                      completion=self.completion[keep])
        if geo not in self.contended:
            return out
        again = [p for p in out.programmes if p.geo == geo]
        sub = simulate_rollouts(again, self.geos, self.indicators, self.years, self.n_rollouts, self.seed,
                                dict(zip(self.indicators, self.reading_months, strict=True)))
        mine = [j for j, p in enumerate(out.programmes) if p.geo == geo]
        delivered, completion = out.delivered.copy(), out.completion.copy()
        delivered[mine], completion[mine] = sub.delivered, sub.completion
        return replace(out, delivered=delivered, completion=completion)


def programme_seed(seed: np.random.SeedSequence | int, name: str) -> np.random.SeedSequence:
    """The random stream of one programme: a child of the rollout stream keyed by the programme's name."""
    return named_stream(seed, name)


def simulate_rollouts(programmes: Sequence[Programme], geos: Sequence[str], indicators: Sequence[str],
                      years: Sequence[int], n_rollouts: int, seed: np.random.SeedSequence | int,
                      reading_months: Mapping[str, int] | None = None) -> Rollouts:
    """Simulate ``n_rollouts`` rollouts of the programmes (one SimPy environment per rollout, every geo in it)
    and sample the delivered fractions at each year's reading month of the indicator (default 12) up to the
    end of the last year."""
    geos, indicators, years = tuple(geos), tuple(indicators), tuple(int(y) for y in years)
    months = tuple(int((reading_months or {}).get(i, 12)) for i in indicators)
    R, P = int(n_rollouts), len(programmes)
    for p in programmes:
        if p.geo not in geos or p.indicator not in indicators:
            raise ValueError(f"programme {p.name}: geo {p.geo} or indicator {p.indicator} is not simulated")
    seed = as_seed_sequence(seed)
    delivered, completion = np.zeros((P, R, len(years))), np.full((P, R), np.inf)
    contended: set[str] = set()
    if P:
        end = years[-1] + 1.0
        draws = [_draw(p, R, years[-1], programme_seed(seed, p.name)) for p in programmes]
        pools = {p.geo: _pool_size(programmes, p.geo) for p in programmes}
        shared = {geo for geo, n in pools.items() if n < sum(p.teams for p in programmes if p.geo == geo)}
        segments: list[list[list[tuple[float, float]]]] = [[[] for _ in range(R)] for _ in programmes]
        t_begin = min(min(p.start, min(p.yearly_release_bn_vnd)[0] + (p.release_month - 1) / 12.0)
                      for p in programmes)
        for r in range(R):
            contended |= _one_rollout(programmes, draws, segments, pools, shared, r, t_begin, end)
        for k, p in enumerate(programmes):
            tau = np.array(years, float) + months[indicators.index(p.indicator)] / 12.0
            delivered[k], completion[k] = _paths(segments[k], draws[k]["work_years"], tau, end)
    return Rollouts(tuple(programmes), geos, indicators, years, months, delivered, completion,
                    frozenset(contended), seed)


def scenario_rollouts(scenario: Scenario, cfg: CalibrationConfig, years: Sequence[int], draws: int,
                      seed: np.random.SeedSequence | int) -> Rollouts:
    """A scenario's rollouts over the ensemble's ``years``: min(scenario.settings.rollouts, draws) of them."""
    months = {spec.name: spec.reading_month for spec in cfg.indicators}
    return simulate_rollouts(scenario.programmes, scenario.geos, cfg.indicator_names, years,
                             min(scenario.settings.rollouts, draws), seed, months)


def _draw(p: Programme, R: int, last_year: int, seq: np.random.SeedSequence) -> dict[str, Any]:
    """A programme's random numbers for all rollouts, drawn at once (procurement, overrun, release delays)."""
    rng = np.random.default_rng(seq)
    times, amounts = p.release_plan(last_year)
    procurement = p.procurement_months.sample(rng, R) / 12.0
    overrun = p.overrun.sample(rng, R)
    delays = p.release_delay_months.sample(rng, (R, len(times))) / 12.0
    release_at = np.maximum.accumulate(times[None, :] + delays, axis=1) if len(times) else delays
    smallest = float(amounts.min()) if len(amounts) else p.budget_bn_vnd
    return {"begin": (p.start + procurement).tolist(),
            "work_years": np.maximum(p.duration_years * overrun, _MIN_WORK_YEARS),
            "release_at": release_at.tolist(), "amounts": amounts.tolist(), "ask": smallest}


def _pool_size(programmes: Sequence[Programme], geo: str) -> int:
    mine = [p for p in programmes if p.geo == geo]
    stated = max(p.geo_teams for p in mine)
    return stated if stated > 0 else sum(p.teams for p in mine)


def _one_rollout(programmes: Sequence[Programme], draws: list[dict[str, Any]],
                 segments: list[list[list[tuple[float, float]]]], pool_sizes: dict[str, int], shared: set[str],
                 r: int, t_begin: float, end: float) -> set[str]:
    """One SimPy environment with every geo's programmes; appends each programme's work segments (start time,
    work fraction) to ``segments``. Returns the geos where a programme waited for teams."""
    import simpy  # here: a run without programmes does not import it

    env = simpy.Environment(initial_time=t_begin)
    pools = {geo: simpy.Resource(env, capacity=pool_sizes[geo]) for geo in shared}
    waited: set[str] = set()
    for k, p in enumerate(programmes):
        d = draws[k]
        budget = _Budget(env)
        for t, amount in zip(d["release_at"][r], d["amounts"], strict=True):
            env.timeout(t - t_begin).callbacks.append(lambda _, b=budget, a=amount: b.put(a))
        env.process(_work(env, budget, pools.get(p.geo), p, d["begin"][r], float(d["work_years"][r]), d["ask"],
                          segments[k][r], waited))
    env.run(until=end)
    return waited


class _Budget:
    """A programme's released money (bn VND) in the order of operations of a ``simpy.Container`` (so the same
    paths), without its put and get events, which took most of a rollout's time: a release adds at once; money
    already there is taken at once; a programme waiting for money (``get``) is served when the release's own
    event is processed (after the other events of that instant, as a Container's put event), then resumes on
    its own event."""

    __slots__ = ("env", "level", "waiting", "amount")

    def __init__(self, env: simpy.Environment) -> None:
        self.env, self.level, self.waiting, self.amount = env, 0.0, None, 0.0

    def put(self, amount: float) -> None:
        self.level += amount
        if self.waiting is not None:             # no one else can start waiting: the level is now above zero
            released = self.env.event()
            released.callbacks.append(self._serve)
            released.succeed()

    def _serve(self, _: simpy.Event) -> None:
        if self.waiting is not None and self.level >= self.amount:
            self.level -= self.amount
            waiting, self.waiting = self.waiting, None
            waiting.succeed()

    def get(self, amount: float) -> simpy.Event:
        """An event for ``amount`` once released (the level is zero now)."""
        self.waiting, self.amount = self.env.event(), amount
        return self.waiting

    def take(self, amount: float) -> None:
        """Take ``amount`` (at most the level) at once."""
        self.level -= amount


def _work(env: simpy.Environment, budget: _Budget, pool: simpy.Resource | None, p: Programme,
          begin: float, work_years: float, ask: float, segments: list[tuple[float, float]], waited: set[str]):
    """A programme: procurement, teams, then work while funded (cost in proportion to progress)."""
    if begin > env.now:
        yield env.timeout(begin - env.now)
    requests = []
    if pool is not None:
        requests = [pool.request() for _ in range(p.teams)]
        for req in requests:
            if not req.triggered:
                waited.add(p.geo)
            yield req
    cost, done = p.budget_bn_vnd, 0.0
    while done < _DONE:
        need = (1.0 - done) * cost
        if budget.level <= 0.0:
            got = min(need, ask) * _ASK
            yield budget.get(got)                          # wait for the next release
        else:
            got = 0.0
        more = min(budget.level, need - got)
        if more > 0.0:
            budget.take(more)                              # money already there: taken at once
            got += more
        share = min(got / cost, 1.0 - done)
        segments.append((env.now, share))
        yield env.timeout(share * work_years)
        done += share
    for req in requests:
        pool.release(req)


def _paths(segments: list[list[tuple[float, float]]], work_years: np.ndarray, tau: np.ndarray,
           end: float) -> tuple[np.ndarray, np.ndarray]:
    """Delivered fraction at times ``tau`` (rollout, year) and completion time (rollout,) from work segments."""
    lengths = np.array([len(s) for s in segments])
    R, S = len(segments), max(1, int(lengths.max(initial=0)))
    start, share = np.full((R, S), np.inf), np.zeros((R, S))
    if lengths.any():                                   # every rollout's segments at once
        rows = np.repeat(np.arange(R), lengths)
        cols = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        start[rows, cols], share[rows, cols] = np.array([seg for segs in segments for seg in segs]).T
    span = np.where(share > 0, share * work_years[:, None], 1.0)
    progress = np.clip((tau[None, :, None] - start[:, None, :]) / span[:, None, :], 0.0, 1.0)
    delivered = (progress * share[:, None, :]).sum(axis=2)
    finish = np.where(share > 0, start + span, -np.inf).max(axis=1)
    complete = (share.sum(axis=1) >= _DONE) & (finish <= end)
    return np.minimum(delivered, 1.0), np.where(complete, finish, np.inf)
