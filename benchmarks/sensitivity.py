"""Benchmark: a Sobol analysis through dxsim's experiments, in-process and on a 2-worker Dask LocalCluster, against
single `dxsim run`-sized ensembles.

    python benchmarks/sensitivity.py [--n 256] [--draws 1000] [--workers 2] [--seed 1]

On the shipped calibration and scenarios/baseline.toml (the seed provinces: the merged Tay Ninh, Can Tho, Vinh Long
and Lang Son, the old provinces they were made of, and Vietnam), with the first 10 of the
default factors (3 investment multiples, 5 elasticities, the cross-pillar elasticity, 1 ceiling): Saltelli
sampling with second order gives N (2k + 2) = 5,632 evaluations for N = 256. Reported: wall time of the
evaluations (sampling and SALib's analysis apart), evaluations per second, and the time of one evaluation next to
one ensemble run of the same size (one scenario, the same draws and geos, its target checks), best of three.
The two sensitivity tables are compared byte for byte.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import dxsim  # noqa: F401, I001 - first: it pins BLAS to one thread before numpy loads
from dxsim.analyses.batches import BatchRunner
from dxsim.analyses.experiments import build_experiment
from dxsim.analyses.factors import default_factors
from dxsim.analyses.sensitivity import run_sensitivity, sample
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import run_ensemble, sample_run
from dxsim.core.targets import target_met
from dxsim.inputs.observations import known_geos
from dxsim.inputs.scenario import load_scenario
from dxsim.pipeline import load_inputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    inputs = load_inputs()
    cfg = inputs.config
    scenario = load_scenario("scenarios/baseline.toml", cfg, known_geos(cfg))
    calibrator = Calibrator(cfg).fit(inputs.observations)
    factors = default_factors(cfg, scenario)[:10]
    experiment = build_experiment(calibrator, scenario, inputs.targets, factors,
                                  sample_run(calibrator, args.draws, args.seed, scenario))
    n_eval = len(sample(factors, "sobol", args.n, args.seed))
    print(f"Sobol: {len(factors)} factors, N = {args.n}: {n_eval} evaluations x {args.draws} draws x "
          f"{len(scenario.geos)} geos ({', '.join(scenario.geos)}), {len(experiment.outputs)} outputs; "
          f"batches of up to {experiment.batch_size}")

    single = []
    for _ in range(3):
        t = time.perf_counter()
        ens = run_ensemble(calibrator, [scenario], args.draws, args.seed)
        target_met(ens, cfg, experiment.targets)
        single.append(time.perf_counter() - t)
    one = min(single)
    print(f"one ensemble run of the same size (run_ensemble + target checks): {one * 1e3:.0f} ms")

    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    tables = {}
    for label, runner in (("in-process", BatchRunner()),
                          (f"LocalCluster, {args.workers} workers", BatchRunner(workers=args.workers))):
        t, cpu = time.perf_counter(), _cpu_seconds()
        res = run_sensitivity(experiment, "sobol", args.n, args.seed, runner)
        total, cpu = time.perf_counter() - t, _cpu_seconds() - cpu
        tables[label] = res.table.to_csv(index=False, float_format="%.10g")
        per = res.seconds / res.evaluations
        print(f"{label:<26} evaluations {res.seconds:6.1f} s ({res.evaluations / res.seconds:6.0f} /s, "
              f"{per * 1e3:5.2f} ms each = {one / per:4.1f}x faster than one run); with sampling, analysis of "
              f"{len(res.outputs)} outputs and cluster start-up {total:6.1f} s: "
              f"{'under' if total < 60 else 'OVER'} a minute (load average {os.getloadavg()[0]:.2f}); CPU "
              f"{cpu:6.1f} s in all processes ({cpu / res.evaluations * 1e3:4.1f} ms an evaluation): "
              f"{cpu / 2:5.1f} s of wall time on two otherwise idle cores")
    same = len(set(tables.values())) == 1
    print(f"sensitivity tables identical in-process and on the cluster: {same}")
    if not same:
        raise SystemExit(1)


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (a LocalCluster's workers, once it closed)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
