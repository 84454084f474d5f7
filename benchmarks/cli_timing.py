"""Wall-clock time of `dxsim run` as a user waits for it: with a saved calibration, in a fresh clone (no saved
calibration: the run fits and saves it) and with --refit, with and without charts, several runs each, with the
machine's load average; and, measured in the same invocation, the import-only floors: a process that only
imports numpy and pandas (what any run pays) and one that imports what `dxsim run` imports, without running.

    python benchmarks/cli_timing.py [--scenario scenarios/baseline.toml] [--runs 5] [--no-charts-only] [--no-bytecode]

Saves a calibration first (`dxsim calibrate` into a temporary $DXSIM_CACHE_DIR) so that `run` loads it; a "fresh
clone" run gets an empty $DXSIM_CACHE_DIR of its own; every run writes into a temporary folder. Each line: the
case, each run's seconds, the median, and the 1-minute load average before the case (on a busy machine compare
cases of the same invocation, not absolute seconds). The first line is the summary: the median of `dxsim run
--no-charts` with the saved calibration next to the import floor, their runs interleaved (the same load).

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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


FLOORS = {"python + numpy + pandas": "import numpy, pandas",
          "dxsim run's imports, no work": "import dxsim.cli, dxsim.cli.run, dxsim.pipeline"}


def timed(args: list[str], env: dict[str, str], python: str | None = None) -> float:
    """Seconds of one `dxsim ARGS` (or of ``python -c PYTHON``) in a fresh process (its output discarded; a
    failure stops the benchmark)."""
    command = ["-c", python] if python is not None else ["-m", "dxsim.cli", *args]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return seconds


def summary(args: argparse.Namespace, env: dict[str, str], out: Path) -> None:
    """`dxsim run --no-charts` with the saved calibration and the import floors, runs interleaved."""
    load = os.getloadavg()[0]
    run = ["run", args.scenario, "--out", str(out), "--no-charts"]
    timed(run, env)                                           # saves the read inputs for the next runs
    seconds: dict[str, list[float]] = {"dxsim run --no-charts": [], **{name: [] for name in FLOORS}}
    for _ in range(args.runs):
        seconds["dxsim run --no-charts"].append(timed(run, env))
        for name, code in FLOORS.items():
            seconds[name].append(timed([], env, python=code))
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    print("summary: " + "; ".join(f"{name} {m:.2f} s" for name, m in medians.items())
          + f"; run above the floor {medians['dxsim run --no-charts'] - medians['python + numpy + pandas']:.2f} s"
          f"  (median of {args.runs}, load {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/baseline.toml")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-charts-only", action="store_true", help="skip the (slow) runs with charts")
    parser.add_argument("--no-bytecode", action="store_true", help="do not compile dxsim's sources first")
    args = parser.parse_args()
    if not args.no_bytecode:
        compileall.compile_dir(Path(importlib.util.find_spec("dxsim").origin).parent, quiet=1)
    print(f"dxsim bytecode: {'as found' if args.no_bytecode else 'compiled first (as after a first run)'}; "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DXSIM_CACHE_DIR": str(Path(tmp) / "calibration"), "MPLBACKEND": "Agg"}
        print(f"dxsim calibrate (saves the calibration): {timed(['calibrate', '--draws', '10'], env):.2f} s")
        summary(args, env, Path(tmp) / "out")
        cases = [("run --no-charts, saved calibration", ["--no-charts"], False),
                 ("run --no-charts, fresh clone", ["--no-charts"], True),
                 ("run --no-charts --refit", ["--no-charts", "--refit"], False)]
        if not args.no_charts_only:
            cases.append(("run with charts, saved calibration", [], False))
        for name, extra, fresh in cases:
            load = os.getloadavg()[0]
            seconds = [timed(["run", args.scenario, "--out", str(Path(tmp) / "out"), *extra],
                             {**env, "DXSIM_CACHE_DIR": tempfile.mkdtemp(dir=tmp)} if fresh else env)
                       for _ in range(args.runs)]
            print(f"{name:<36} {' '.join(f'{s:6.2f}' for s in seconds)}  median {statistics.median(seconds):6.2f} s"
                  f"  (load {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
