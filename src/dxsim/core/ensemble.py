"""Running an ensemble: sample once (parameter draws, process noise and programme rollouts, each from its own
stream of the run's seed), then simulate the scenarios on those samples (``simulate.py``).

Rollouts have their own random stream (the seed's third child), so a scenario without programmes gives the same
results whether or not programmes exist elsewhere. The model simulates the old provinces a scenario's geos are
made of; the ensemble reads the scenario's geos, a merged province being the weighted mean of its parts per draw.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dxsim.core.calibrate import Calibrator, ParameterDraws
from dxsim.core.drivers import Drivers, RolloutDrivers
from dxsim.core.paths import Ensemble
from dxsim.core.rollout import Rollouts, scenario_rollouts
from dxsim.core.simulate import BYTES_LIMIT, PATH_DTYPE, check_memory, reference_times, simulate
from dxsim.core.streams import IndicatorNormals
from dxsim.core.threads import NoiseAhead, threads_here
from dxsim.inputs.aggregations import aggregation_for
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.geography import Aggregation, Region, load_geomap
from dxsim.inputs.scenario import Scenario

REPLAY_STREAMS = 2    # random streams kept drawn per process (``Replay``): an experiment's noise and slope shocks


def _check_sampling_memory(calibrator: Calibrator, draws: int) -> None:
    """Refuse before sampling: the parameter draws cover every known geo, about 8 x draws x (4 x geos x
    indicators + 2 x parameters) bytes at their peak."""
    per_draw = 8 * (4 * len(calibrator.geos_) * len(calibrator.config.indicators)
                    + 2 * max(post.n_params for post in calibrator.posteriors_.values()))
    if draws * per_draw > BYTES_LIMIT:
        raise MemoryError(f"{draws} draws need about {draws * per_draw / 2**30:.1f} GiB for the parameter draws "
                          f"(limit {BYTES_LIMIT / 2**30:.0f} GiB); use at most {BYTES_LIMIT // per_draw} draws")


def seed_streams(seed: int) -> tuple[np.random.SeedSequence, ...]:
    """The run's random streams: parameters, process noise, programme rollouts (common to all scenarios), slope
    shocks (children of one SeedSequence: adding the fourth leaves the first three unchanged)."""
    return tuple(np.random.SeedSequence(seed).spawn(4))


def ensemble_years(calibrator: Calibrator, horizon: int) -> np.ndarray:
    """The simulated years: from the first reported year (config ``first_year``; earlier when a reading of a
    modelled indicator lies before it, so the fan band covers every reading at its month; or the jump-off year)
    to the horizon. The years before the jump-off are the fitted path: starting earlier draws no random numbers."""
    return np.arange(min(calibrator.config.first_year, calibrator.jump_off_year_, _first_reading_year(calibrator)),
                     horizon + 1)


def _first_reading_year(calibrator: Calibrator) -> int:
    """The year whose value (at the indicator's reading month) lies at or before the earliest used reading of a
    modelled indicator, e.g. 2019 for a March-2020 reading of an indicator read in December."""
    months = {spec.name: spec.reading_month for spec in calibrator.config.indicators}
    obs = calibrator.observations_
    obs = obs[obs["indicator"].isin(months)]
    if obs.empty:
        return calibrator.config.first_year
    return int(np.floor((obs["time"] - obs["indicator"].map(months) / 12.0).min() + 1e-9))


def sample_parameters(calibrator: Calibrator, draws: int, seed: int) -> ParameterDraws:
    """The parameter draws of a run with ``seed`` (its first stream), as ``run_ensemble`` samples them."""
    return _sample_parameters(calibrator, draws, seed_streams(seed)[0])


def _sample_parameters(calibrator: Calibrator, draws: int, stream: np.random.SeedSequence) -> ParameterDraws:
    _check_sampling_memory(calibrator, draws)
    return calibrator.sample(draws, stream)


@dataclass(frozen=True)
class Samples:
    """What a run samples once from its seed, shared by every scenario, counterfactual or variant evaluated on it
    (common random numbers): the parameter draws (the seed's first stream), the process-noise and slope-shock
    streams (second and fourth: their numbers are drawn year by year inside ``simulate``, the same numbers at
    every evaluation, for every known geo), the rollout stream (third) and, when sampled for a scenario with
    programmes, its rollouts."""

    seed: int
    params: ParameterDraws
    noise: np.random.SeedSequence
    rollout_seed: np.random.SeedSequence
    slope: np.random.SeedSequence
    rollouts: Rollouts | None = None

    @property
    def draws(self) -> int:
        return int(self.params.level.shape[0])

    def rollouts_of(self, scenario: Scenario, cfg: CalibrationConfig, years: np.ndarray) -> Rollouts | None:
        """The rollouts of ``scenario``'s programmes: the sampled ones when they are the same programmes, else
        simulated from the rollout stream (None: no programmes)."""
        if not scenario.programmes:
            return None
        if self.rollouts is not None and self.rollouts.programmes == scenario.programmes:
            return self.rollouts
        return scenario_rollouts(scenario, cfg, years, self.draws, self.rollout_seed)


def sample_run(calibrator: Calibrator, draws: int, seed: int, scenario: Scenario | None = None,
               streams: tuple[np.random.SeedSequence, ...] | None = None) -> Samples:
    """Sample a run once: parameter draws and the random streams of ``seed`` (``streams``: ``seed_streams(seed)``
    already derived), and the rollouts of ``scenario``'s programmes (if any) over the ensemble's years. With a
    scenario, a run too large for memory is refused first."""
    if scenario is not None:
        _check_size(calibrator, [scenario], draws)
    params_seed, noise, rollout_seed, slope = seed_streams(seed) if streams is None else streams
    samples = Samples(int(seed), _sample_parameters(calibrator, draws, params_seed), noise, rollout_seed, slope)
    if scenario is None or not scenario.programmes:
        return samples
    years = ensemble_years(calibrator, scenario.settings.horizon)
    return replace(samples, rollouts=samples.rollouts_of(scenario, calibrator.config, years))


def run_ensemble(calibrator: Calibrator, scenarios: list[Scenario], draws: int, seed: int,
                 rollouts: Sequence[Rollouts | None] | None = None,
                 geos: tuple[str, ...] | None = None, path_dtype: type = PATH_DTYPE) -> Ensemble:
    """Sample parameters and noise from ``seed`` and simulate the scenarios: ``evaluate`` on ``sample_run``
    (a run too large for memory is refused before sampling)."""
    years = _layout(calibrator, scenarios, geos, draws)[3]
    # the process noise is drawn on a thread of its own while the parameters are sampled (the same numbers)
    streams = seed_streams(seed)
    noise = NoiseAhead(indicator_normals(calibrator, streams[1]),
                       (len(calibrator.geos_), len(calibrator.config.indicators), draws), _steps(calibrator, years),
                       threads_here() > 1)
    with closing(noise):
        return evaluate(calibrator, scenarios, sample_run(calibrator, draws, seed, streams=streams), rollouts, geos,
                        path_dtype, noise)


def evaluate(calibrator: Calibrator, scenarios: Sequence[Scenario], samples: Samples,
             rollouts: Sequence[Rollouts | None] | None = None,
             geos: tuple[str, ...] | None = None, path_dtype: type = PATH_DTYPE,
             noise: NoiseAhead | None = None) -> Ensemble:
    """Simulate the scenarios (same geos and horizon) on the run's ``samples``: nothing is sampled again.
    Programmes: ``rollouts`` per scenario (None: no programmes), by default ``samples.rollouts_of`` each
    scenario. ``geos``: simulate only these of the scenarios' geos (their values are the same as in the full
    run). The model simulates the old provinces the scenario's geos are made of; the result reads the scenario's
    geos, a merged province being the weighted mean of its parts per draw (geography.py; its aggregation built
    once per config, ``aggregations.py``). ``noise``: the process noise of ``samples.noise``, already being
    drawn (``run_ensemble``); ValueError for noise of another stream."""
    if noise is not None and getattr(noise.rng, "key", None) != indicator_normals(calibrator, samples.noise).key:
        raise ValueError("the noise drawn ahead is not of the samples' process-noise stream (samples.noise): "
                         "the results would not follow the samples")
    cfg = calibrator.config
    regions, aggregation, all_model, years = _layout(calibrator, scenarios, geos, samples.draws)
    model = aggregation.model_geos
    drivers = Drivers.from_scenarios(list(scenarios), cfg, years, calibrator.jump_off_year_ + 1)
    if model != all_model:
        drivers = drivers.select_geos([all_model.index(g) for g in model])
    if rollouts is None:
        rollouts = [samples.rollouts_of(s, cfg, years) for s in scenarios]
    rollout_drivers = None
    if any(r is not None for r in rollouts):
        rollout_drivers = RolloutDrivers.from_rollouts(rollouts, model, cfg.indicator_names, years, samples.draws,
                                                       calibrator.jump_off_year_, {r.name: r.parts for r in regions})
    return simulate(cfg, samples.params, drivers, tuple(s.name for s in scenarios), model, years,
                    calibrator.jump_off_year_, reference_times(cfg),
                    indicator_normals(calibrator, samples.noise) if noise is None else noise,
                    rollout_drivers, path_dtype, slope_rng=indicator_normals(calibrator, samples.slope),
                    **data_ends(calibrator, samples.params)).aggregated(aggregation)


def indicator_normals(calibrator: Calibrator, stream: np.random.SeedSequence) -> IndicatorNormals:
    """The normals of ``stream`` (process noise, slope shocks), each indicator's from a stream of its own."""
    return IndicatorNormals(stream, calibrator.config.indicator_names)


def _layout(calibrator: Calibrator, scenarios: Sequence[Scenario], geos: tuple[str, ...] | None, draws: int
            ) -> tuple[tuple[Region, ...], Aggregation, tuple[str, ...], np.ndarray]:
    """The scenarios' regions, their aggregation (on ``geos``), the model geos of all their geos and the
    simulated years; MemoryError for a run too large, ValueError for scenarios that differ in geos or horizon."""
    cfg = calibrator.config
    regions, years = _check_size(calibrator, scenarios, draws, geos is None)
    aggregation = aggregation_for(cfg, regions)
    if geos is not None:
        aggregation = aggregation.select(tuple(geos))
        check_memory(len(scenarios), draws, len(aggregation.model_geos), len(cfg.indicators), len(years),
                     len(calibrator.geos_), _steps(calibrator, years))
    return regions, aggregation, load_geomap(cfg).model_geos_of(regions), years


def _check_size(calibrator: Calibrator, scenarios: Sequence[Scenario], draws: int, check: bool = True
                ) -> tuple[tuple[Region, ...], np.ndarray]:
    """The scenarios' regions and simulated years; ValueError for scenarios that differ in geos or horizon,
    MemoryError (``check``) for a run of all their model geos too large (without building the aggregation)."""
    cfg = calibrator.config
    first = scenarios[0]
    if any(s.geos != first.geos or s.settings.horizon != first.settings.horizon for s in scenarios[1:]):
        raise ValueError("scenarios simulated together need the same geos and horizon")
    regions = first.resolved_regions(cfg)
    years = ensemble_years(calibrator, first.settings.horizon)
    if check:
        model = load_geomap(cfg).model_geos_of(regions)
        check_memory(len(scenarios), draws, len(model), len(cfg.indicators), len(years), len(calibrator.geos_),
                     _steps(calibrator, years))
    return regions, years


def data_ends(calibrator: Calibrator, params: ParameterDraws) -> dict[str, Any]:
    """``simulate``'s ``indicator_jump_off`` and ``series_first_projected``: where the calibration's data end."""
    through = calibrator.data_through_
    return {"indicator_jump_off": _indicator_jump_off(calibrator),
            "series_first_projected": tuple(through.series_jump_off(i, d) + 1 for i, d in params.series)}


def _steps(calibrator: Calibrator, years: np.ndarray) -> int:
    """The projected years of ``years`` that draw process noise: those after the earliest indicator's data end."""
    return int(np.sum(years > _indicator_jump_off(calibrator).min()))


def _indicator_jump_off(calibrator: Calibrator) -> np.ndarray:
    """The last year with data of each indicator (the first step of the simulation is after the earliest)."""
    return np.array([calibrator.data_through_.indicator[i] for i in calibrator.config.indicator_names])


class Replay:
    """The normals a fresh ``source`` (``IndicatorNormals``) would give to successive ``standard_normal(shape)``
    calls, drawn once per process and source, then replayed to every batch (a copy per call: ``simulate`` scales
    them in place; or into ``out``, as ``Generator.standard_normal``). The yearly process noise is the same for
    every variant (common random numbers); drawing it again in each batch took a fifth of a batch's time.
    Memory: 8 bytes x projected years x known geos x indicators x draws per stream (about 13 MB for 5 years of
    the shipped 66 geos at 1,000 draws)."""

    _drawn: dict[tuple, list] = {}
    _lock = threading.Lock()

    def __init__(self, source: IndicatorNormals) -> None:
        self.source, self.calls = source, 0

    def standard_normal(self, shape: tuple[int, ...], out: np.ndarray | None = None) -> np.ndarray:
        key = (self.source.key, tuple(shape))
        with self._lock:
            if key not in self._drawn:
                if len(self._drawn) >= REPLAY_STREAMS:          # bounded: forget the oldest stream
                    self._drawn.pop(next(iter(self._drawn)))
                self._drawn[key] = [self.source.fresh()]
            stream = self._drawn[key]
            while len(stream) <= self.calls + 1:                   # stream[0] is the source itself
                stream.append(stream[0].standard_normal(shape))
            drawn = stream[self.calls + 1]
        self.calls += 1
        if out is None:
            return drawn.copy()
        out[...] = drawn
        return out
