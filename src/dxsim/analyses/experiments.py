"""Experiments: many variants of one scenario, evaluated as the scenario axis of the vectorised ensemble.

A variant is a row of factor values (``factors.py``; NaN: leave that lever as the scenario has it). Every
variant uses the same parameter draws, process noise and programme rollouts (common random numbers, the run's
seed streams), so an output is a deterministic function of the factors and differences between variants are
not Monte Carlo noise. At all-NaN factors a variant reproduces ``dxsim run`` of the scenario exactly.

Variants are evaluated in memory-bounded batches, each batch one ``simulate`` call (no loop over variants);
batches run in-process or on a Dask cluster (``BatchRunner``) with identical results: a batch's random numbers
come from the seed, never from where or in which order it runs.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dxsim.analyses.factors import Factor
from dxsim.core.calibrate import Calibrator, ParameterDraws
from dxsim.core.drivers import Drivers, ModelFactors, RolloutDrivers
from dxsim.core.ensemble import data_ends, ensemble_years, sample_parameters, seed_streams
from dxsim.core.rollout import Rollouts, scenario_rollouts
from dxsim.core.simulate import reference_times, simulate
from dxsim.core.targets import evaluation_targets, meets, unevaluable_reason
from dxsim.errors import ArgumentError
from dxsim.inputs.config import PILLARS, CalibrationConfig
from dxsim.inputs.geography import Aggregation, aggregation_for, load_geomap
from dxsim.inputs.scenario import Scenario

# Working memory of one batch (paths, state, rollout effects). Small batches are faster per variant than large
# ones (the yearly temporaries stay in cache and need no fresh pages); ~64 MiB measured best (benchmarks/).
BATCH_BYTES = 64 * 2**20
HEADLINE_YEAR = 2030
REPLAY_STREAMS = 4    # random streams kept drawn per process (``Replay``)
# Environment of local Dask workers. Dask's default (MALLOC_TRIM_THRESHOLD_=65536) fixes glibc's thresholds, so
# every array of a batch is a fresh mmap, page-faulted on each use: workers then spent half their time in the
# kernel. Arrays up to 256 MiB come from the heap instead, which keeps them (BATCH_BYTES bounds a batch).
WORKER_ENVIRON = {"MALLOC_MMAP_THRESHOLD_": 2**28, "MALLOC_TRIM_THRESHOLD_": 2**29, "OMP_NUM_THREADS": 1,
                  "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}


@dataclass(frozen=True)
class Output:
    """One response of an experiment: P(target met) (``kind`` = 'probability') or the median of a headline
    series in ``year`` (``kind`` = 'median', percent)."""

    name: str
    kind: str
    geo: str
    indicator: str
    definition: str
    year: int
    comparator: str = ""
    target: float = float("nan")
    document: str = ""


@dataclass(frozen=True)
class Experiment:
    """Everything a batch needs, sampled once (picklable: it is what Dask ships to workers)."""

    cfg: CalibrationConfig
    params: ParameterDraws
    drivers: Drivers                 # the scenario's drivers (one scenario)
    geos: tuple[str, ...]
    years: np.ndarray
    jump_off_year: int
    noise_seed: np.random.SeedSequence
    rollouts: Rollouts | None
    factors: tuple[Factor, ...]
    targets: pd.DataFrame            # the targets behind the probability outputs, in output order
    outputs: tuple[Output, ...]
    data_ends: dict[str, Any]        # ``ensemble.data_ends``: where each indicator's and series' data end
    slope_seed: np.random.SeedSequence | None = None    # stochastic slopes' shocks (the run's fourth stream)
    # ``geos`` are the simulated (model) geos; the outputs read the scenario's geos through this (geography.py)
    aggregation: Aggregation | None = None

    @property
    def draws(self) -> int:
        return int(self.params.level.shape[0])

    @property
    def batch_size(self) -> int:
        """Variants per batch so that one batch stays within ``BATCH_BYTES``."""
        D, G, I, Y = self.draws, len(self.geos), len(self.cfg.indicators), len(self.years)
        per = 8 * D * G * I * (Y // 2 + 5)
        if self.rollouts is not None:
            per += 8 * 3 * Y * G * I * self.rollouts.n_rollouts * 2
        return max(1, BATCH_BYTES // per)


def scenario_outputs(calibrator: Calibrator, targets: pd.DataFrame, geos: tuple[str, ...], years: np.ndarray,
                     medians: bool = True) -> tuple[pd.DataFrame, tuple[Output, ...]]:
    """The outputs of an experiment: every evaluable target due in a projected year of its series on the
    scenario's geos,
    then (``medians``) each headline series' median in 2030 (or the horizon) per geo. Returns the targets and
    the outputs (targets first, in the same order)."""
    cfg, through = calibrator.config, calibrator.data_through_
    year_tuple = tuple(int(y) for y in years)
    if "evaluated_as" not in targets.columns:
        targets = evaluation_targets(cfg, targets)      # a target of a mapped definition: one row per meaning
    keep = [not unevaluable_reason(cfg, row, geos, year_tuple)
            and int(row["deadline"]) > through.series_jump_off(row["indicator"], row["evaluated_as"])
            for _, row in targets.iterrows()]
    chosen = targets[np.array(keep, dtype=bool)] if len(targets) else targets
    # one output per target and meaning, however many documents state it
    key = ["geo", "indicator", "definition", "evaluated_as", "deadline", "comparator", "target"]
    chosen = (chosen.groupby(key, sort=False, dropna=False)
              .agg(document=("document", lambda d: "; ".join(dict.fromkeys(str(x) for x in d))))
              .reset_index())
    outs = [Output(f"P(met) {r.geo} {r.indicator}/{_label(r.definition, r.evaluated_as)} {int(r.deadline)} "
                   f"{r.comparator}{float(r.target):g}",
                   "probability", r.geo, r.indicator, r.evaluated_as, int(r.deadline), r.comparator, float(r.target),
                   str(r.document)) for r in chosen.itertuples()]
    if medians:
        year = min(HEADLINE_YEAR, year_tuple[-1])
        for geo in geos:
            for name in cfg.headline:
                anchor = cfg.indicator(name).anchor
                outs.append(Output(f"median {year} {geo} {name}/{anchor}", "median", geo, name, anchor, year))
    return chosen, tuple(outs)


def _label(definition: str, evaluated_as: str) -> str:
    """A target's series in an output's name: its own definition, or 'stated as evaluated_as' when mapped."""
    return definition if definition == evaluated_as else f"{definition} as {evaluated_as}"


def build_experiment(calibrator: Calibrator, scenario: Scenario, targets: pd.DataFrame,
                     factors: tuple[Factor, ...], draws: int, seed: int, geos: tuple[str, ...] | None = None,
                     outputs: tuple[pd.DataFrame, tuple[Output, ...]] | None = None) -> Experiment:
    """Sample the run's parameters and rollouts once (seed streams as in ``run_ensemble``) for ``geos`` (default:
    the scenario's); ``outputs`` (targets, outputs) default to ``scenario_outputs``."""
    cfg = calibrator.config
    years = ensemble_years(calibrator, scenario.horizon)
    first = calibrator.jump_off_year_ + 1
    drivers = Drivers.from_scenarios([scenario], cfg, years, first)
    regions = scenario.resolved_regions(cfg)
    aggregation = aggregation_for(cfg, regions)
    if geos is not None:
        aggregation = aggregation.select(tuple(geos))
    all_model = load_geomap(cfg).model_geos_of(regions)
    if aggregation.model_geos != all_model:
        drivers = drivers.select_geos([all_model.index(g) for g in aggregation.model_geos])
    _, noise_seq, rollout_seq, slope_seq = seed_streams(seed)
    rollouts = scenario_rollouts(scenario, cfg, years, draws, rollout_seq) if scenario.programmes else None
    if outputs is None:
        outputs = scenario_outputs(calibrator, targets, aggregation.names, years)
    params = sample_parameters(calibrator, draws, seed)
    return Experiment(cfg, params, drivers, aggregation.model_geos, years, calibrator.jump_off_year_, noise_seq,
                      rollouts, factors, outputs[0], outputs[1], data_ends(calibrator, params), slope_seq, aggregation)


def evaluate(experiment: Experiment, X: np.ndarray) -> np.ndarray:
    """Outputs (variant, output) of the variants ``X`` (variant, factor), as one ensemble run."""
    exp = experiment
    cfg, S = exp.cfg, len(X)
    if S == 0:
        return np.empty((0, len(exp.outputs)))
    drivers, model, rollouts = _variant_inputs(exp, np.asarray(X, float))
    ens = simulate(cfg, exp.params, drivers, tuple(f"v{s}" for s in range(S)), exp.geos, exp.years,
                   exp.jump_off_year, reference_times(cfg), Replay(exp.noise_seed), rollouts,
                   slope_rng=Replay(exp.slope_seed) if exp.slope_seed is not None else None, model=model,
                   **exp.data_ends)
    if exp.aggregation is not None:
        ens = ens.aggregated(exp.aggregation)
    out = np.empty((S, len(exp.outputs)))
    for (year, geo), group in _output_groups(exp.outputs).items():
        series = list(dict.fromkeys((o.indicator, o.definition) for _, o in group))
        values = ens.values(year, series=[ens.series.index(k) for k in series], geos=[ens.geos.index(geo)])[:, 0]
        for j, o in group:                                                      # values: (variant, series, draw)
            v = values[:, series.index((o.indicator, o.definition))]
            if o.kind == "probability":
                ceiling = cfg.indicator(o.indicator).definition(o.definition).ceiling
                out[:, j] = meets(v, o.target, o.comparator, ceiling).mean(axis=1)
            else:
                out[:, j] = np.median(v, axis=1)
    return out


def _output_groups(outputs: tuple[Output, ...]) -> dict[tuple[int, str], list[tuple[int, Output]]]:
    """The outputs (with their index) by (year, geo): one read of the ensemble per group."""
    groups: dict[tuple[int, str], list[tuple[int, Output]]] = {}
    for j, o in enumerate(outputs):
        groups.setdefault((o.year, o.geo), []).append((j, o))
    return groups


class Replay:
    """The normals a fresh ``np.random.default_rng(seed)`` would give to successive ``standard_normal(shape)``
    calls, drawn once per process and seed, then replayed to every batch (a copy per call: ``simulate`` scales
    them in place). The yearly process noise is the same for every variant (common random numbers); drawing it
    again in each batch took a fifth of a batch's time."""

    _drawn: dict[tuple, list[np.ndarray]] = {}
    _lock = threading.Lock()

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self.seed, self.calls = seed, 0

    def standard_normal(self, shape: tuple[int, ...]) -> np.ndarray:
        key = (self.seed.entropy, self.seed.spawn_key, self.seed.pool_size, tuple(shape))
        with self._lock:
            if key not in self._drawn:
                if len(self._drawn) >= REPLAY_STREAMS:          # bounded: forget the oldest stream
                    self._drawn.pop(next(iter(self._drawn)))
                self._drawn[key] = [np.random.default_rng(self.seed)]
            stream = self._drawn[key]
            while len(stream) <= self.calls + 1:                   # stream[0] is the generator itself
                stream.append(stream[0].standard_normal(shape))
            out = stream[self.calls + 1]
        self.calls += 1
        return out.copy()


def _variant_inputs(exp: Experiment, X: np.ndarray) -> tuple[Drivers, ModelFactors, RolloutDrivers | None]:
    """The scenario's drivers repeated per variant with the factors applied (a loop over factors only)."""
    cfg, S = exp.cfg, len(X)
    proj = slice(int(np.searchsorted(exp.years, exp.jump_off_year, side="right")), None)   # projected years
    log_inv = np.repeat(exp.drivers.log_investment, S, axis=0)
    lift = np.repeat(exp.drivers.ceiling_lift, S, axis=0)
    model = ModelFactors.neutral(cfg, S)
    P = len(exp.rollouts.programmes) if exp.rollouts is not None else 0
    delay, size = np.zeros((P, S)), np.ones((P, S))
    # '*' investment factors first, so that a geo's own factor overrides them there
    order = sorted(range(len(exp.factors)), key=lambda j: exp.factors[j].kind != "investment"
                   or exp.factors[j].geo != "*")
    for j in order:
        f, x = exp.factors[j], X[:, j]
        on = ~np.isnan(x)
        if not on.any():
            continue
        if f.kind == "investment":
            p = PILLARS.index(f.pillar)
            g = slice(None) if f.geo == "*" else _model_index(exp, f.geo)
            with np.errstate(divide="ignore"):
                value = np.log(np.where(on, x, 1.0))[:, None, None]
            sub = log_inv[:, proj]                                                  # a view: (S, year, G, pillar)
            sub[:, :, g, p] = np.where(on[:, None, None], value, sub[:, :, g, p])
        elif f.kind == "elasticity":
            idx = [i for i, spec in enumerate(cfg.indicators) if f.indicator in ("", spec.name)
                   and f.pillar in ("", spec.pillar)]
            for i in idx:
                model.elasticity_scale[on, i] = x[on] / cfg.indicators[i].elasticity.median
        elif f.kind == "cross_elasticity":
            model.cross_scale[on] = x[on] / cfg.cross_elasticity.median
        elif f.kind == "damping":
            model.damping[on, cfg.indicator_names.index(f.indicator)] = x[on]
        elif f.kind == "ceiling":
            i = cfg.indicator_names.index(f.indicator)
            lift[:, proj, :, i] += np.where(on, x, 0.0)[:, None, None]
        elif P:
            k = exp.rollouts.names.index(f.programme)
            if f.kind == "programme_delay":
                delay[k, on] = x[on] / 12.0
            else:
                size[k, on] = x[on]
    drivers = Drivers(log_inv, np.repeat(exp.drivers.event_speed, S, axis=0), lift)
    rollouts = None
    if exp.rollouts is not None:
        rollouts = RolloutDrivers.from_variants(exp.rollouts, delay, size, exp.geos, cfg.indicator_names, exp.years,
                                                exp.draws, exp.jump_off_year, _parts_of(exp))
    return drivers, model, rollouts


def _parts_of(exp: Experiment) -> dict[str, tuple[str, ...]] | None:
    return None if exp.aggregation is None else {r.name: r.parts for r in exp.aggregation.regions}


def _model_index(exp: Experiment, geo: str) -> list[int]:
    """The simulated geos a factor's geo acts on (all the parts of a merged province)."""
    parts = (_parts_of(exp) or {}).get(geo, (geo,))
    return [exp.geos.index(p) for p in parts if p in exp.geos]


def batches(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` rows covering ``n`` rows."""
    return [slice(a, min(a + size, n)) for a in range(0, n, size)]


class BatchRunner:
    """Evaluates variants in batches: in-process (default; batches on threads, one per core), on a local Dask
    cluster of ``workers`` processes, or on the Dask scheduler at ``scheduler``. Use as a context manager; results
    do not depend on the choice."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        if workers is not None and scheduler is not None:
            raise ArgumentError("workers", "give workers or a scheduler, not both")
        self.workers, self.scheduler = workers, scheduler
        self._client: Any = None
        self._cluster: Any = None
        self._shipped: dict[int, Any] = {}

    @property
    def where(self) -> str:
        if self.scheduler:
            return f"dask scheduler {self.scheduler}"
        return f"local dask cluster, {self.workers} workers" if self.workers else "in-process"

    def __enter__(self) -> BatchRunner:
        if self.workers is None and self.scheduler is None:
            return self
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ArgumentError("workers" if self.workers else "scheduler",
                             "needs dask.distributed, which is not installed: pip install 'dxsim[distributed]'") \
                from None
        if self.scheduler:
            self._client = Client(self.scheduler)
        else:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENVIRON}):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None)
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
        self._shipped.clear()

    def evaluate(self, experiment: Experiment, X: np.ndarray) -> np.ndarray:
        """Outputs (variant, output) of the variants ``X``, batch by batch."""
        X = np.asarray(X, float)
        parts = [X[b] for b in batches(len(X), experiment.batch_size)]
        if self._client is None:
            # numpy releases the GIL in its kernels: threads use every core; results do not depend on them
            with ThreadPoolExecutor(max_workers=min(len(parts), os.cpu_count() or 1) or 1) as pool:
                results = list(pool.map(lambda part: evaluate(experiment, part), parts))
        else:
            key = id(experiment)
            if key not in self._shipped:
                self._shipped[key] = (experiment, self._client.scatter(experiment, broadcast=True))
            shipped = self._shipped[key][1]
            futures = [self._client.submit(evaluate, shipped, part, pure=False) for part in parts]
            results = self._client.gather(futures)
        return np.concatenate(results, axis=0) if results else np.empty((0, len(experiment.outputs)))


def describe(n: int, batch_size: int) -> str:
    return f"{n} evaluations in {math.ceil(n / max(batch_size, 1))} batch(es) of up to {batch_size}"


def experiment_manifest(command: str, scenario: Scenario, inputs: Any, **fields: Any) -> dict[str, Any]:
    """manifest.json of an experiment command: version, time, the scenario's and inputs' files with hashes
    (``inputs``: ``pipeline.Inputs``), then ``fields``."""
    import datetime as dt

    from dxsim import __version__
    from dxsim.outputs.results import sha256_file

    return {
        "dxsim_version": __version__, "command": command,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "scenario": {"name": scenario.name, "file": str(scenario.path), "sha256": sha256_file(scenario.path)},
        "observations": {"file": str(inputs.observations_path), "sha256": sha256_file(inputs.observations_path)},
        "targets": {"file": str(inputs.targets_path), "sha256": sha256_file(inputs.targets_path)},
        "calibration": {"config": str(inputs.config.path), "sha256": sha256_file(inputs.config.path)},
        **fields, "common_random_numbers": True,
    }
