"""Loading and calibration time against the number of readings (issue 17): synthetic readings of ONE modelled
series (fiber_household_share / subscription) spread over the 63 provinces, 2010-2025 and the 12 months, each
with its own source URL, written to a temporary observations CSV with the shipped header; then
``load_observations`` and ``Calibrator.fit`` are timed. Synthetic data, made here, never written to
calibration/.

    python benchmarks/scaling.py                 # 1k, 10k, 100k readings
    python benchmarks/scaling.py --sizes 1000 5000
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from dxsim.core.calibrate import Calibrator
from dxsim.inputs.config import DEFAULT_CONFIG, load_config
from dxsim.inputs.observations import load_observations

INDICATOR, DEFINITION = "fiber_household_share", "subscription"


def synthetic_observations(path: Path, n: int, geos: list[str], seed: int = 0) -> None:
    """``n`` made-up readings of one series (logistic-ish rise plus noise, in percent), one per row."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2026)
    header = ["geo", "indicator", "definition", "year", "period", "release", "value", "unit", "source_url",
              "quote", "note", "geography"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for k in range(n):
            geo = geos[k % len(geos)]
            year = int(years[(k // len(geos)) % len(years)])
            month = 1 + (k // (len(geos) * len(years))) % 12
            share = 80 / (1 + np.exp(-(year - 2018) / 3)) + rng.normal(0, 3)
            w.writerow([geo, INDICATOR, DEFINITION, year, f"{year}-{month:02d}", "", f"{np.clip(share, 1, 79):.2f}",
                        "%", f"https://example.invalid/synthetic/{k}", "", "synthetic benchmark reading",
                        "pre_2025"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    args = parser.parse_args()
    cfg = load_config(DEFAULT_CONFIG)
    from dxsim.inputs.observations import known_geos

    geos = [g for g in known_geos(cfg) if g != "vietnam" and g not in cfg.aggregates]
    print(f"{'readings':>9} {'load s':>8} {'fit s':>8} {'total s':>8}")
    with tempfile.TemporaryDirectory(prefix="dxsim-bench-") as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"obs_{n}.csv"
            synthetic_observations(path, n, geos)
            t0 = time.perf_counter()
            obs = load_observations(cfg, path)
            t1 = time.perf_counter()
            Calibrator(cfg).fit(obs)
            t2 = time.perf_counter()
            print(f"{n:>9} {t1 - t0:>8.2f} {t2 - t1:>8.2f} {t2 - t0:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
