"""Time the charts: `dxsim run SCENARIO` with and without charts and `dxsim plot` of its folder (new process each,
wall and CPU seconds of the process and its helpers), against a kernel measured in the same run: one blank chart
(16 cm wide) saved as PNG at 300 dpi and as SVG, times the number of charts drawn.

    python benchmarks/charts.py [--scenario scenarios/baseline.toml] [--repeat 3]
    PYTHONPATH=/path/to/other/checkout/src python benchmarks/charts.py     # time another version of dxsim

First the drawing itself: every chart of the run drawn once in this process (cold), as charts per CPU second and as
CPU per chart over the kernel (both timed in the same run). "cold" draws into a new folder; "again" re-runs into the
folder just written (charts whose inputs did not change need not be drawn again). Each row prints the median over
--repeat and the machine's load average.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def kernel_seconds(repeat: int = 5) -> float:
    """CPU seconds to save one blank 16 cm chart as PNG (300 dpi) and SVG: the least a chart can cost."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure


    times = []
    for _ in range(repeat):
        start = time.process_time()
        fig = Figure(figsize=(16 / 2.54, 4.3), dpi=300)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        zlib.compress(np.asarray(canvas.buffer_rgba())[..., :3].tobytes(), 3)
        fig.savefig(io.BytesIO(), format="svg")
        times.append(time.process_time() - start)
    return statistics.median(times)


def drawing_rate(folder: Path, repeat: int = 3) -> tuple[int, float, float]:
    """(charts, charts per CPU second, CPU seconds per chart over the kernel's) of drawing every chart of a results
    folder in this process (PNG and SVG, one process, no cache of chart files), the kernel timed between the runs
    so that both see the same load. The first run only: later runs in the same process find the text already laid
    out and rendered (glyphcache.py), which a new dxsim process does not; the kernel is the best of ``repeat``."""
    from dxsim.outputs import charts
    from dxsim.outputs.runtables import read_run

    tables = read_run(folder)
    jobs = charts.run_jobs(tables)
    draws, kernels = [], []
    with tempfile.TemporaryDirectory() as tmp:
        kernels.append(kernel_seconds(repeat))
        start = time.process_time()
        charts._draw_jobs(tables, jobs, Path(tmp), "en", ("png", "svg"))
        draws.append(time.process_time() - start)
        kernels.append(kernel_seconds(repeat))
    per_chart = draws[0] / len(jobs)
    return len(jobs), 1 / per_chart, per_chart / min(kernels)


def _timed(args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one dxsim command in a new process (CPU includes its drawing helpers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dxsim.cli", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _row(name: str, repeat: int, setup: Callable[[], None], args: list[str], kernel: float) -> None:
    walls, cpus, loads = [], [], []
    for _ in range(repeat):
        setup()
        loads.append(os.getloadavg()[0])
        wall, cpu = _timed(args)
        walls.append(wall)
        cpus.append(cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"{name:<26} {wall:7.2f} {cpu:7.2f} {cpu / kernel:8.1f}x  {statistics.median(loads):5.2f}"
          f"   (wall runs: {', '.join(f'{w:.2f}' for w in walls)})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="scenarios/baseline.toml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="dxsim-bench-charts-"))
    folder = work / "run"
    try:
        subprocess.run([sys.executable, "-m", "dxsim.cli", "run", args.scenario, "--out", str(folder)], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)   # warm caches, count
        n_charts = len(list((folder / "charts").glob("*.png")))
        one = kernel_seconds()
        kernel = one * n_charts
        print(f"kernel: one blank chart saved as PNG and SVG {one * 1000:.1f} ms CPU; x {n_charts} charts = "
              f"{kernel:.2f} s (ratios below are CPU over this)")
        n, rate, ratio = drawing_rate(folder, args.repeat)
        print(f"drawing in one process: {n} charts, {rate:.2f} charts per CPU second, {ratio:.1f}x the kernel per "
              f"chart (load {os.getloadavg()[0]:.2f})", flush=True)
        print(f"{'command':<26} {'wall s':>7} {'CPU s':>7} {'/kernel':>9}  {'load':>5}")

        def fresh() -> None:
            shutil.rmtree(folder, ignore_errors=True)

        def nothing() -> None:
            pass

        def no_plot_out() -> None:
            shutil.rmtree(work / "plot", ignore_errors=True)

        run = ["run", args.scenario, "--out", str(folder)]
        _row("run --no-charts", args.repeat, nothing, [*run, "--no-charts"], kernel)
        _row("run (cold)", args.repeat, fresh, run, kernel)
        _row("run (again)", args.repeat, nothing, run, kernel)
        _row("plot --out new (cold)", args.repeat, no_plot_out, ["plot", str(folder), "--out", str(work / "plot")],
             kernel)
        _row("plot (again)", args.repeat, nothing, ["plot", str(folder)], kernel)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
