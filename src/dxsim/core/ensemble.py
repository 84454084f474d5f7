"""Running an ensemble: sample once (parameter draws, process noise and programme rollouts, each from its own
stream of the run's seed), then simulate the scenarios on those samples (``simulate.py``).

Rollouts have their own random stream (the seed's third child), so a scenario without programmes gives the same
results whether or not programmes exist elsewhere. The model simulates the old provinces a scenario's geos are
made of; the ensemble reads the scenario's geos, a merged province being the weighted mean of its parts per draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dxsim.core.calibrate import Calibrator, ParameterDraws
from dxsim.core.drivers import Drivers, RolloutDrivers
from dxsim.core.paths import Ensemble
from dxsim.core.rollout import Rollouts, scenario_rollouts
from dxsim.core.simulate import BYTES_LIMIT, PATH_DTYPE, check_memory, reference_times, simulate
from dxsim.inputs.geography import aggregation_for, load_geomap
from dxsim.inputs.scenario import Scenario


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
    """The simulated years: from the first reported (or jump-off) year to the horizon."""
    return np.arange(min(calibrator.config.first_year, calibrator.jump_off_year_), horizon + 1)


def sample_parameters(calibrator: Calibrator, draws: int, seed: int) -> ParameterDraws:
    """The parameter draws of a run with ``seed`` (its first stream), as ``run_ensemble`` samples them."""
    _check_sampling_memory(calibrator, draws)
    return calibrator.sample(draws, np.random.default_rng(seed_streams(seed)[0]))


def run_ensemble(calibrator: Calibrator, scenarios: list[Scenario], draws: int, seed: int,
                 rollouts: Sequence[Rollouts | None] | None = None,
                 geos: tuple[str, ...] | None = None, path_dtype: type = PATH_DTYPE) -> Ensemble:
    """Sample parameters and noise from ``seed`` and simulate the scenarios (same geos and horizon).
    Programmes: ``rollouts`` per scenario (None: no programmes), by default simulated from the seed's rollout
    stream. ``geos``: simulate only these of the scenarios' geos (their values are the same as in the full run).
    The model simulates the old provinces the scenario's geos are made of; the result reads the scenario's geos,
    a merged province being the weighted mean of its parts per draw (geography.py)."""
    cfg = calibrator.config
    all_geos = scenarios[0].geos
    horizon = scenarios[0].horizon
    for s in scenarios[1:]:
        if s.geos != all_geos or s.horizon != horizon:
            raise ValueError("scenarios simulated together need the same geos and horizon")
    regions = scenarios[0].resolved_regions(cfg)
    aggregation = aggregation_for(cfg, regions)
    if geos is not None:
        aggregation = aggregation.select(tuple(geos))
    all_model = load_geomap(cfg).model_geos_of(regions)
    model = aggregation.model_geos
    _, noise_seq, rollout_seq, slope_seq = seed_streams(seed)
    years = ensemble_years(calibrator, horizon)
    check_memory(len(scenarios), draws, len(model), len(cfg.indicators), len(years))
    params = sample_parameters(calibrator, draws, seed)
    drivers = Drivers.from_scenarios(scenarios, cfg, years, calibrator.jump_off_year_ + 1)
    if model != all_model:
        drivers = drivers.select_geos([all_model.index(g) for g in model])
    if rollouts is None:
        rollouts = [scenario_rollouts(s, cfg, years, draws, rollout_seq) if s.programmes else None
                    for s in scenarios]
    rollout_drivers = None
    if any(r is not None for r in rollouts):
        rollout_drivers = RolloutDrivers.from_rollouts(rollouts, model, cfg.indicator_names, years, draws,
                                                       calibrator.jump_off_year_, {r.name: r.parts for r in regions})
    return simulate(cfg, params, drivers, tuple(s.name for s in scenarios), model, years,
                    calibrator.jump_off_year_, reference_times(cfg), np.random.default_rng(noise_seq),
                    rollout_drivers, path_dtype, slope_rng=np.random.default_rng(slope_seq),
                    **data_ends(calibrator, params)).aggregated(aggregation)


def data_ends(calibrator: Calibrator, params: ParameterDraws) -> dict[str, Any]:
    """``simulate``'s ``indicator_jump_off`` and ``series_first_projected``: where the calibration's data end."""
    through = calibrator.data_through_
    return {"indicator_jump_off": np.array([through.indicator[i] for i in calibrator.config.indicator_names]),
            "series_first_projected": tuple(through.series_jump_off(i, d) + 1 for i, d in params.series)}
