"""Wall-clock time of `dxsim run` as a user waits for it: with a saved calibration, in a fresh clone (no saved
calibration: the run fits and saves it) and with --refit, with and without charts, several runs each, with the
machine's load average; and, measured in the same invocation, the import-only floors: a process that only
imports numpy and pandas (what any run pays) and one that imports what `dxsim run` imports, without running.

    python benchmarks/cli_timing.py [--scenario scenarios/baseline.toml] [--runs 5] [--no-charts-only] [--no-bytecode]
                                    [--summary-only] [--stages]

Saves a calibration first (`dxsim calibrate` into a temporary $DXSIM_CACHE_DIR) so that `run` loads it; a "fresh
clone" run gets an empty $DXSIM_CACHE_DIR of its own; every run writes into a temporary folder. Each line: the
case, each run's seconds, the median, and the 1-minute load average before the case (on a busy machine compare
cases of the same invocation, not absolute seconds). The first lines are the summary: `dxsim run --no-charts` with
the saved calibration, into the default results folder (results/<scenario name>/, again and again) and into a new
folder each time, next to the import floors, their runs interleaved (the same load); wall and CPU (user + system)
seconds, and the ratio of each to `python -c "import numpy"` measured in the same invocation (the kernel: what no
Python program using numpy can beat).

Python reads dxsim's modules from compiled bytecode (``__pycache__``) when it finds it: written by its first
import, or by a non-editable ``pip install``. An editable install with PYTHONDONTWRITEBYTECODE=1 (set on some
machines) never writes it, and every run compiles dxsim's ~60 modules again (~0.3 s). The benchmark therefore
compiles dxsim's sources first, as a user's first run would, unless --no-bytecode and says which.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


KERNEL = "python -c 'import numpy'"
FLOORS = {KERNEL: "import numpy", "python + numpy + pandas": "import numpy, pandas",
          "dxsim run's imports, no work": "import dxsim.cli, dxsim.cli.run, dxsim.pipeline"}


def timed(args: list[str], env: dict[str, str], python: str | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one `dxsim ARGS` (or of ``python -c PYTHON``) in a fresh process, CPU being its user +
    system time (its output discarded; a failure stops the benchmark)."""
    command = ["-c", python] if python is not None else ["-m", "dxsim.cli", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return seconds, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def summary(args: argparse.Namespace, env: dict[str, str], out: Path) -> None:
    """`dxsim run --no-charts` with the saved calibration (default folder; a new folder each time) and the import
    floors, runs interleaved; wall and CPU medians and their ratios to the kernel (``import numpy``)."""
    load = os.getloadavg()[0]
    runs = {"dxsim run --no-charts (default folder)": lambda i: ["run", args.scenario, "--no-charts"],
            "dxsim run --no-charts --out NEW": lambda i: ["run", args.scenario, "--no-charts", "--out", f"{out}{i}"]}
    timed(runs["dxsim run --no-charts (default folder)"](0), env)          # saves the read inputs for the next runs
    seconds: dict[str, list[tuple[float, float]]] = {name: [] for name in (*runs, *FLOORS)}
    for i in range(args.runs):
        for name, command in runs.items():
            seconds[name].append(timed(command(i), env))
        for name, code in FLOORS.items():
            seconds[name].append(timed([], env, python=code))
    wall = {name: statistics.median(w for w, _ in s) for name, s in seconds.items()}
    cpu = {name: statistics.median(c for _, c in s) for name, s in seconds.items()}
    print(f"summary (median of {args.runs}, load {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"kernel = {KERNEL}):")
    for name in seconds:
        print(f"  {name:<40} wall {wall[name]:5.2f} s ({wall[name] / wall[KERNEL]:4.1f}x kernel)"
              f"  cpu {cpu[name]:5.2f} s ({cpu[name] / cpu[KERNEL]:4.1f}x kernel)")


# The stages of `dxsim run --no-charts` timed in one process: (module, function) wrapped before the command runs;
# nested stages (e.g. sampling inside run_scenario) are counted in their own line and in their parent's.
STAGES = (("dxsim.pipeline", "load_inputs"), ("dxsim.pipeline", "fitted_calibrator"),
          ("dxsim.pipeline", "sample_run"), ("dxsim.pipeline", "evaluate"), ("dxsim.pipeline", "target_met"),
          ("dxsim.pipeline", "with_verdicts"), ("dxsim.core.paths", "Ensemble.trajectories"),
          ("dxsim.pipeline", "run_scenario"), ("dxsim.pipeline", "write_run"), ("dxsim.cli.run", "summary_text"))
STAGE_PROGRAM = """
import gc, importlib, json, sys, time
gc.disable()  # as the command's start-up (cli.main): imports without collector passes
clock = lambda: (time.perf_counter(), time.process_time())
import dxsim  # first, as the command: it sets a single-threaded BLAS before numpy is imported
spent, start = {}, clock()
def mark(name):
    global start
    now = clock(); spent[name] = [now[0] - start[0], now[1] - start[1]]; start = now
import numpy; mark("import numpy")
import pandas; mark("import pandas")
import dxsim.cli, dxsim.cli.run, dxsim.pipeline, dxsim.core.paths; mark("import dxsim (run's modules)")
def timed(name, f):
    def run(*a, **k):
        begin = clock()
        try:
            return f(*a, **k)
        finally:
            end = clock(); t = spent.setdefault(name, [0.0, 0.0]); t[0] += end[0] - begin[0]; t[1] += end[1] - begin[1]
    return run
for module, name in json.loads(sys.argv[1]):
    owner = importlib.import_module(module)
    *outer, last = name.split(".")
    for part in outer:
        owner = getattr(owner, part)
    setattr(owner, last, timed(name, getattr(owner, last)))
begin = clock()
sys.argv = ["dxsim", *sys.argv[2:]]
code = dxsim.cli.main(own_process=True)          # as the dxsim command (its console script, entry)
end = clock(); spent["command (all stages)"] = [end[0] - begin[0], end[1] - begin[1]]
print(json.dumps(spent))
sys.exit(code)
"""


def stages(args: argparse.Namespace, env: dict[str, str], out: Path) -> None:
    """Where a `dxsim run --no-charts` spends its time: the imports and each stage, wall and CPU seconds, median of
    ``args.runs`` processes."""
    import json

    command = [sys.executable, "-c", STAGE_PROGRAM, json.dumps(STAGES), "run", args.scenario, "--no-charts",
               "--out", str(out)]
    runs = []
    for _ in range(args.runs):
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"stage timing failed:\n{done.stderr}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"stages of dxsim run --no-charts (median of {args.runs}; load {os.getloadavg()[0]:.1f}):")
    for name in runs[0]:
        wall, cpu = (statistics.median(r[name][i] for r in runs) for i in (0, 1))
        print(f"  {name:<32} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/baseline.toml")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-charts-only", action="store_true", help="skip the (slow) runs with charts")
    parser.add_argument("--no-bytecode", action="store_true", help="do not compile dxsim's sources first")
    parser.add_argument("--summary-only", action="store_true",
                        help="only the summary (no fresh, --refit or chart runs)")
    parser.add_argument("--stages", action="store_true", help="also time the imports and each stage of a run")
    args = parser.parse_args()
    if not args.no_bytecode:
        compileall.compile_dir(Path(importlib.util.find_spec("dxsim").origin).parent, quiet=1)
    print(f"dxsim bytecode: {'as found' if args.no_bytecode else 'compiled first (as after a first run)'}; "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DXSIM_CACHE_DIR": str(Path(tmp) / "calibration"), "MPLBACKEND": "Agg"}
        print(f"dxsim calibrate (saves the calibration): {timed(['calibrate', '--draws', '10'], env)[0]:.2f} s")
        summary(args, env, Path(tmp) / "out")
        if args.stages:
            stages(args, env, Path(tmp) / "stages")
        if args.summary_only:
            return
        cases = [("run --no-charts, saved calibration", ["--no-charts"], False),
                 ("run --no-charts, fresh clone", ["--no-charts"], True),
                 ("run --no-charts --refit", ["--no-charts", "--refit"], False)]
        if not args.no_charts_only:
            cases.append(("run with charts, saved calibration", [], False))
        for name, extra, fresh in cases:
            load = os.getloadavg()[0]
            seconds = [timed(["run", args.scenario, "--out", str(Path(tmp) / "out"), *extra],
                             {**env, "DXSIM_CACHE_DIR": tempfile.mkdtemp(dir=tmp)} if fresh else env)[0]
                       for _ in range(args.runs)]
            print(f"{name:<36} {' '.join(f'{s:6.2f}' for s in seconds)}  median {statistics.median(seconds):6.2f} s"
                  f"  (load {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
