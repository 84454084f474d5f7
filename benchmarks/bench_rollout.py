"""Benchmark: how much of a programme run is spent in the SimPy rollouts.

    .venv/bin/python benchmarks/bench_rollout.py [--draws 2000] [--rollouts 200] [--skip-synthetic]

Two cases: the shipped ``scenarios/long_an_programmes.toml`` (3 programmes in one geo), and a SYNTHETIC case
(every one of the 63 provinces plus vietnam with 3 programmes sharing 3 teams; programmes invented for timing
only). For each: seconds in the rollouts (the scenario's, plus those simulated again for the runs without each
programme), in the ensembles, in the per-programme impact table, and the rollouts' share. Calibration is timed
apart (it does not depend on the programmes).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from contextlib import contextmanager

from dxsim.core import programme_impact, rollout
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import ensemble_years, run_ensemble, seed_streams
from dxsim.core.rollout import scenario_rollouts
from dxsim.inputs.observations import known_geos
from dxsim.inputs.programmes import Effect, LogNormal, Programme
from dxsim.inputs.scenario import load_scenario
from dxsim.pipeline import load_inputs

SEED = 1


@contextmanager
def timed_rollouts(clock: dict[str, float]):
    """Count the time spent in simulate_rollouts wherever it is called (including Rollouts.without)."""
    original = rollout.simulate_rollouts

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            clock["rollouts"] += time.perf_counter() - t

    rollout.simulate_rollouts = wrapper
    try:
        yield
    finally:
        rollout.simulate_rollouts = original


def synthetic_programmes(geos: tuple[str, ...]) -> tuple[Programme, ...]:
    """SYNTHETIC: three programmes per geo, 4 teams asked of a pool of 3, with random delays and overruns."""
    slip = {"procurement_months": LogNormal(4, 0.5), "release_delay_months": LogNormal(2, 0.8),
            "overrun": LogNormal(1.15, 0.25), "geo_teams": 3}
    out = []
    for geo in geos:
        out += [
            Programme(f"{geo}_fibre", geo, "fiber_household_share", "broadband", 120.0,
                      ((2024, 40.0), (2025, 50.0), (2026, 30.0)), 2024.0, 2.5, Effect("speed_multiplier", 1.5),
                      teams=2, **slip),
            Programme(f"{geo}_services", geo, "level4_service_share", "digital_government", 30.0, ((2024, 30.0),),
                      2024.5, 1.0, Effect("step", 5.0), **slip),
            Programme(f"{geo}_sme", geo, "digital_economy_grdp_share", "digital_economy", 20.0,
                      ((2024, 8.0), (2025, 12.0)), 2024.25, 2.0, Effect("speed_multiplier", 1.15), **slip),
        ]
    return tuple(out)


def run_case(label: str, calibrator: Calibrator, scenario, targets, draws: int) -> None:
    cfg = calibrator.config
    clock = {"rollouts": 0.0}
    with timed_rollouts(clock):
        t0 = time.perf_counter()
        ro = scenario_rollouts(scenario, cfg, ensemble_years(calibrator, scenario.horizon), draws,
                               seed_streams(SEED)[2])
        t1 = time.perf_counter()
        ens = run_ensemble(calibrator, [scenario], draws, SEED, rollouts=[ro])
        t2 = time.perf_counter()
        programme_impact.programme_table(calibrator, scenario, targets, ens, ro, SEED)
        t3 = time.perf_counter()
    plain = run_ensemble(calibrator, [dataclasses.replace(scenario, programmes=())], draws, SEED)
    t4 = time.perf_counter()
    del plain
    total = t3 - t0
    print(f"{label}: {len(scenario.programmes)} programmes in {len({p.geo for p in scenario.programmes})} geo(s), "
          f"{len(scenario.geos)} geos simulated, {draws} draws, {ro.n_rollouts} rollouts")
    print(f"  scenario rollouts            {t1 - t0:7.2f} s")
    print(f"  ensemble with programmes     {t2 - t1:7.2f} s   (same ensemble without programmes: {t4 - t3:.2f} s)")
    print(f"  impact table (runs without)  {t3 - t2:7.2f} s   (of which rollouts again: "
          f"{clock['rollouts'] - (t1 - t0):.2f} s)")
    print(f"  total                        {total:7.2f} s   rollouts: {clock['rollouts']:.2f} s = "
          f"{100 * clock['rollouts'] / total:.0f}% of the programme work")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--rollouts", type=int, default=200)
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    inputs = load_inputs()
    t = time.perf_counter()
    calibrator = Calibrator(inputs.config).fit(inputs.observations)
    print(f"calibration (once, not programme-dependent): {time.perf_counter() - t:.2f} s")
    geos = known_geos(inputs.config)
    shipped = load_scenario("scenarios/long_an_programmes.toml", inputs.config, geos)
    run_case("shipped long_an_programmes", calibrator, dataclasses.replace(shipped, rollouts=args.rollouts),
             inputs.targets, args.draws)
    if not args.skip_synthetic:
        synthetic = dataclasses.replace(shipped, name="synthetic", geos=geos, rollouts=args.rollouts,
                                        programmes=synthetic_programmes(geos))
        run_case("SYNTHETIC 64 geos x 3 programmes", calibrator, synthetic, inputs.targets, args.draws)


if __name__ == "__main__":
    main()
