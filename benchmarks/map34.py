"""The 34-province map's cost: a run over all 34 new provinces (each the per-draw weighted mean of its parts)
against the same run over their 63 parts without aggregation (each part under its NAME@pre2025 name).

    python benchmarks/map34.py [--draws 2000] [--repeat 3]

Both runs simulate the same 63 provinces with the same seed; the difference is the aggregation (a weighted
mean per indicator, one BLAS product per year) in the summaries (mean and quantiles per year). The acceptance
bound (issue 11): the 34-province run takes at most 2x the 63-part run. Prints the best of ``--repeat`` timings.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import run_ensemble
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.scenario import RunSettings, Scenario
from dxsim.pipeline import load_inputs


def _run(calibrator: Calibrator, geos: list[str], draws: int) -> float:
    scenario = Scenario("bench", "", tuple(geos), "multiple", {}, settings=RunSettings(2030, draws, 1))
    start = time.perf_counter()
    ensemble = run_ensemble(calibrator, [scenario], draws, 1)
    ensemble.trajectories()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs = load_inputs()
    calibrator = Calibrator(inputs.config).fit(inputs.observations)
    geomap = load_geomap(inputs.config)
    new = sorted(geomap.new)
    parts = [geomap.resolve(o + "@pre2025").name for o in geomap.old]
    times = {"34 new provinces (aggregated)": [], "63 parts (no aggregation)": []}
    for _ in range(args.repeat):
        times["63 parts (no aggregation)"].append(_run(calibrator, parts, args.draws))
        times["34 new provinces (aggregated)"].append(_run(calibrator, new, args.draws))
    best = {k: float(np.min(v)) for k, v in times.items()}
    for name, t in best.items():
        print(f"{name:<32} {t:7.2f} s  (best of {args.repeat}, {args.draws} draws, ensemble + trajectories)")
    ratio = best["34 new provinces (aggregated)"] / best["63 parts (no aggregation)"]
    print(f"ratio 34 / 63: {ratio:.2f} (bound: <= 2)")


if __name__ == "__main__":
    main()
