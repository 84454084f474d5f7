"""Benchmark: the programme counterfactuals of a run (``programme_table``), this tree against an older one.

    python benchmarks/counterfactual.py --old DIR [--scenario hau_giang_programmes.toml] [--draws 2000]
                                        [--seed 20261123] [--repeats 3]
    python benchmarks/counterfactual.py --within [--scenario long_an_programmes.toml] [--draws 2000] ...

``--old DIR`` is a source tree of the code before the restructure, e.g. ``git worktree add /tmp/old13 c31d4e7``
(there each programme's counterfactual re-sampled every parameter and re-ran the ensemble, programme by
programme; here the runs without each programme are evaluated on the run's own samples, as the scenario axis of
one ensemble). Each tree runs in its own Python process with its own calibration, data and copy of the scenario
(the file names are the same; the data and the scenarios' dates differ between the trees), at the same draws and
seed, with single-threaded BLAS. The timed stage is ``programme_table`` on a run already simulated: its target
evaluation of the run and the counterfactual runs. The trees run alternately, ``--repeats`` times each, and the
best time of each is compared (CPU seconds of the process, and wall seconds). Printed per tree: the programmes
whose counterfactual is run (those with a target due in a projected year on their geo and indicator) and the
programmes.csv rows with a probability without the programme; then the old/new ratio measured in this run.

A scenario whose programmes have no such target (long_an_programmes.toml with today's data: its targets are all
due by 2025, before the first projected year) runs no counterfactual here, while the old tree (with its older
data, where 2025 was still projected) runs one per programme: that ratio compares different work.

``--within`` compares the two algorithms on the same data, in this tree and process: the runs without each
programme as the old code did them (per programme, ``run_ensemble`` with the seed: every parameter sampled
again, then its targets evaluated) against ``programme_impact._without_each`` (the run's samples, one ensemble).
So that every programme's counterfactual is run, each is given every evaluable target of its geo and indicator,
whatever its deadline. The two must give the same draws meeting each target (checked) and are timed alternately,
best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_COMMON = """
import json, sys, time
import numpy as np
config, scenario, draws, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
"""

# this tree: sample once, simulate the run, then time programme_table on the run's samples
NEW = _COMMON + """
from dxsim.core.ensemble import evaluate, sample_run
from dxsim.core.programme_impact import programme_table
from dxsim.core.saved_calibration import fitted_calibrator
from dxsim.core.targets import evaluation_targets
from dxsim.inputs.observations import known_geos
from dxsim.inputs.scenario import load_scenario
from dxsim.pipeline import load_inputs

inputs = load_inputs(config)
cfg = inputs.config
cal = fitted_calibrator(cfg, inputs.observations)
scen = load_scenario(scenario, cfg, known_geos(cfg))
samples = sample_run(cal, draws, seed, scen)
ens = evaluate(cal, [scen], samples)
targets = evaluation_targets(cfg, inputs.targets)
def stage():
    return programme_table(cal, scen, targets, ens, samples)
"""

# the tree before the restructure (c31d4e7): flat modules, programme_table(..., rollouts, seed)
OLD = _COMMON + """
from dxsim.calibrate import Calibrator
from dxsim.ensemble import ensemble_years, run_ensemble, seed_streams
from dxsim.observations import known_geos
from dxsim.pipeline import load_inputs
from dxsim.programme_impact import programme_table
from dxsim.rollout import scenario_rollouts
from dxsim.scenario import load_scenario

inputs = load_inputs(config)
cfg = inputs.config
cal = Calibrator(cfg).fit(inputs.observations)
scen = load_scenario(scenario, cfg, known_geos(cfg))
rollouts = scenario_rollouts(scen, cfg, ensemble_years(cal, scen.horizon), draws, seed_streams(seed)[2])
ens = run_ensemble(cal, [scen], draws, seed, rollouts=[rollouts])
def stage():
    return programme_table(cal, scen, inputs.targets, ens, rollouts, seed)
"""

_TIME = """
cpu0, wall0 = time.process_time(), time.perf_counter()
table = stage()
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
with_target = table.dropna(subset=["probability_without"])
print(json.dumps({"cpu": cpu, "wall": wall, "programmes": int(table["programme"].nunique()),
                  "counterfactuals": int(with_target["programme"].nunique()), "rows": len(with_target)}))
"""


def run_tree(tree: Path, code: str, scenario: str, draws: int, seed: int) -> dict:
    """One timing of ``programme_table`` in a fresh process of ``tree`` (its src/ first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "MPLBACKEND": "Agg",
           **dict.fromkeys(("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"), "1")}
    out = subprocess.run([sys.executable, "-c", code + _TIME, "calibration/config.toml", f"scenarios/{scenario}",
                          str(draws), str(seed)], cwd=tree, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{tree}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def within(scenario: str, draws: int, seed: int, repeats: int) -> None:
    """The old per-programme counterfactual loop against ``_without_each``, on this tree's data (see above)."""
    import dataclasses
    import time

    import numpy as np

    from dxsim.core.ensemble import evaluate, run_ensemble, sample_run
    from dxsim.core.programme_impact import _without_each
    from dxsim.core.saved_calibration import fitted_calibrator
    from dxsim.core.targets import evaluation_targets, target_met
    from dxsim.inputs.observations import known_geos
    from dxsim.inputs.scenario import load_scenario
    from dxsim.pipeline import load_inputs

    inputs = load_inputs(HERE / "calibration" / "config.toml")
    cfg = inputs.config
    cal = fitted_calibrator(cfg, inputs.observations)
    scen = load_scenario(HERE / "scenarios" / scenario, cfg, known_geos(cfg))
    samples = sample_run(cal, draws, seed, scen)
    targets = evaluation_targets(cfg, inputs.targets)
    info, _ = target_met(evaluate(cal, [scen], samples), cfg, targets)
    affected = {p.name: np.flatnonzero((info["geo"] == p.geo).to_numpy() & (info["indicator"] == p.indicator)
                                       .to_numpy() & info["evaluable"].to_numpy()) for p in scen.programmes}

    def old_loop() -> dict[str, dict[int, np.ndarray]]:
        out = {}
        for p in scen.programmes:
            mine = affected[p.name]
            if not len(mine):
                continue
            others = tuple(q for q in scen.programmes if q.name != p.name)
            ens = run_ensemble(cal, [dataclasses.replace(scen, programmes=others)], draws, seed,
                               rollouts=[samples.rollouts.without(p.name) if others else None], geos=(p.geo,))
            _, met = target_met(ens, cfg, targets.iloc[mine])
            out[p.name] = {int(t): met[j, 0] for j, t in enumerate(mine)}
        return out

    def new_loop() -> dict[str, dict[int, np.ndarray]]:
        return _without_each(cal, scen, targets, samples, affected)

    times: dict[str, list[float]] = {"old loop": [], "_without_each": []}
    results = {}
    for _ in range(repeats):
        for name, fn in (("old loop", old_loop), ("_without_each", new_loop)):
            cpu0 = time.process_time()
            results[name] = fn()
            times[name].append(time.process_time() - cpu0)
    a, b = results["old loop"], results["_without_each"]
    same = a.keys() == b.keys() and all(np.array_equal(a[p][t], b[p][t]) for p in a for t in a[p])
    rows = sum(len(v) for v in affected.values())
    print(f"{scenario}, {draws} draws, this tree: {sum(1 for v in affected.values() if len(v))} counterfactual "
          f"runs, {rows} target rows; draws meeting each target identical: {same}")
    for name, ts in times.items():
        print(f"  {name:<14} best of {repeats}: {min(ts):.2f} s CPU (each: {', '.join(f'{t:.2f}' for t in ts)})")
    print(f"old loop / _without_each: {min(times['old loop']) / min(times['_without_each']):.2f}x CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", type=Path, help="source tree of the code before the restructure")
    ap.add_argument("--within", action="store_true", help="the old and new algorithms on this tree's data")
    ap.add_argument("--scenario", default="hau_giang_programmes.toml", help="file name under each tree's scenarios/")
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.within or args.old is None:
        sys.path.insert(0, str(HERE / "src"))
        for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        within(args.scenario, args.draws, args.seed, args.repeats)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        return
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for _ in range(args.repeats):                         # alternately, so that both see the same load
        runs["old"].append(run_tree(args.old.resolve(), OLD, args.scenario, args.draws, args.seed))
        runs["new"].append(run_tree(HERE, NEW, args.scenario, args.draws, args.seed))
    best = {}
    for name, tree in (("old", args.old.resolve()), ("new", HERE)):
        r = runs[name][0]
        best[name] = {k: min(x[k] for x in runs[name]) for k in ("cpu", "wall")}
        cpus = ", ".join(f"{x['cpu']:.2f}" for x in runs[name])
        print(f"{name} ({tree}): {args.scenario}, {args.draws} draws: {r['programmes']} programmes, "
              f"{r['counterfactuals']} with a counterfactual, {r['rows']} rows; programme_table best of "
              f"{args.repeats}: {best[name]['cpu']:.2f} s CPU, {best[name]['wall']:.2f} s wall "
              f"(each CPU: {cpus})")
    print(f"old/new: {best['old']['cpu'] / best['new']['cpu']:.2f}x CPU, "
          f"{best['old']['wall'] / best['new']['wall']:.2f}x wall")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
