"""Benchmark: `dxsim scorecard` on the shipped data at default draws (the issue asks for under a minute).

    .venv/bin/python benchmarks/bench_scorecard.py [--draws 2000] [--repeat 3]

Times, per origin, the fit and ensemble (``origins.fit_origin``), the target rows and the reading rows, then the
whole ``run_scorecard`` with the chart and files (``write_scorecard``) into a temporary folder; best of
``--repeat``. Loading the inputs is timed apart.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dxsim.analyses.forecast_asof import DEFAULT_DRAWS, DEFAULT_SEED
from dxsim.analyses.origins import fit_origin, later_readings
from dxsim.analyses.scorecard import (
    DEFAULT_ORIGINS,
    judged_targets,
    reading_rows,
    run_scorecard,
    target_rows,
    write_scorecard,
)
from dxsim.pipeline import load_inputs


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    seconds, inputs = best(load_inputs, 1)
    print(f"load inputs: {seconds:.2f} s")
    judged = judged_targets(inputs)
    for origin in DEFAULT_ORIGINS:
        later = later_readings(inputs, origin)
        due = judged[judged["deadline"] > origin]
        horizon = int(max(later["year"].max(), due["deadline"].max() if len(due) else origin)) + 1
        geos = tuple(later["geo"]) + tuple(due["geo"])
        t_fit, fit = best(lambda o=origin, h=horizon, g=geos: fit_origin(inputs, o, h, args.draws, DEFAULT_SEED, g),
                          args.repeat)
        t_targets, _ = best(lambda f=fit: target_rows(f, judged), args.repeat)
        t_readings, _ = best(lambda f=fit: reading_rows(inputs, f, args.draws, DEFAULT_SEED), args.repeat)
        print(f"origin {origin}: fit + ensemble {t_fit:.2f} s, targets {t_targets:.2f} s, "
              f"later readings {t_readings:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        def whole() -> Path:
            card = run_scorecard(inputs, DEFAULT_ORIGINS, args.draws, DEFAULT_SEED)
            return write_scorecard(card, inputs, Path(tmp) / "scorecard")

        t_all, _ = best(whole, args.repeat)
    print(f"run_scorecard + write_scorecard, origins {DEFAULT_ORIGINS}, {args.draws} draws: {t_all:.2f} s "
          f"(best of {args.repeat})")


if __name__ == "__main__":
    main()
