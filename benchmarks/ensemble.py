"""Benchmark: dxsim's stages on a national-scale run, against a minimal numpy kernel of the same equation.

    python benchmarks/ensemble.py [--draws 10000] [--scenarios 4] [--rollouts 200] [--seed 1]
                                  [--save FILE] [--compare FILE]

Builds, through the public API, a SYNTHETIC configuration of realistic size: the 63 pre-2025 provinces x the
3 headline indicators (plus the national series in the fit), 4 scenarios (baseline, +50%, -30%, and the baseline
with one fibre programme per province), years 2020-2030. Observations and targets are generated here (2-3
readings per province and indicator, two targets each) and are not data. Each stage is timed separately and
reported as throughput in geo-indicator-year-draw steps per second (x scenarios), the process's peak resident
memory during the stage (Linux: the high-water mark is reset before each stage; elsewhere the process's peak) and
its CPU seconds (``process_time``, all threads; steadier than the wall time on a busy machine):

    calibration   Calibrator.fit on the synthetic readings
    rollout       SimPy rollouts of the programme scenario
    ensemble      run_ensemble: parameter draws + the yearly difference equation for all scenarios
    targets       target probabilities and P(all targets met), from the ensemble's draws
    outputs       trajectory quantiles/means (trajectories.csv) and writing the CSV files

The trajectories' quantiles and means are read from shares computed and sorted in float32 (core/quantiles.py);
the benchmark prints the largest difference of any trajectory quantile (mean) of the last year from
``np.quantile`` (the mean) in float64 of the float64 shares, in points, and the bound.

The reference kernel is the same difference equation written as plainly as numpy allows (one state array,
investment response, process noise, path stored), measured in the same run: the practical limit for this work.
Both step in float64 and store the paths as float32; the ensemble and the kernel are timed best of three.
The summary line ``pipeline/kernel ratio`` is the sum of all stages over the kernel (wall time); the line before
it gives the same ratio in CPU seconds. The ensemble stage also draws the parameters (``sample_run``, timed once
more on its own and printed), which the kernel does before its timer; the ensemble steps a year on one block of
geos per core (threads), so its wall time depends on free cores more than the kernel's. ``--save FILE`` writes the
timings as JSON; ``--compare FILE`` prints, per stage, this run's time over the saved one, both in seconds and
relative to each run's own kernel (which discounts a machine that is busier in one run than the other).
"""

from __future__ import annotations

# isort: off
import dxsim  # noqa: F401 - before numpy: it pins BLAS to one thread (small matrices; 10x swings otherwise)
# isort: on
import argparse
import contextlib
import dataclasses
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.core.axes import QUANTILES
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import ensemble_years, run_ensemble, sample_run, seed_streams
from dxsim.core.quantiles import VALUES_BOUND
from dxsim.core.rollout import scenario_rollouts
from dxsim.core.simulate import PATH_DTYPE
from dxsim.core.targets import all_targets_probabilities, target_met, target_probabilities
from dxsim.inputs.config import PILLARS, load_config
from dxsim.inputs.observations import NATIONAL, known_geos
from dxsim.inputs.programmes import Effect, LogNormal, Programme
from dxsim.inputs.scenario import RunSettings, Scenario
from dxsim.outputs.results import write_csv

ROOT = Path(__file__).resolve().parents[1]


def synthetic_observations(cfg, geos: tuple[str, ...], rng: np.random.Generator) -> pd.DataFrame:
    """SYNTHETIC readings (benchmark only): 2-3 per province and headline indicator, 6 for the nation."""
    rows = []
    for spec in cfg.indicators:
        ceiling = spec.definition(spec.anchor).ceiling
        t0 = cfg.reference_year + spec.reading_month / 12
        for geo in geos:
            level, slope = rng.normal(0.0, 0.8), 0.3 + rng.normal(0, 0.08)
            years = range(2018, 2024) if geo == NATIONAL else rng.choice(np.arange(2019, 2024), 3, replace=False)
            for year in years:
                z = level + slope * (year + spec.reading_month / 12 - t0) + rng.normal(0, 0.1)
                rows.append({"geo": geo, "indicator": spec.name, "definition": spec.anchor, "year": int(year),
                             "period": "", "release": "", "value": float(ceiling / (1 + np.exp(-z))),
                             "unit": "%", "source_url": "synthetic", "quote": "", "note": "SYNTHETIC benchmark",
                             "status": "used", "time": year + spec.reading_month / 12})
    return pd.DataFrame(rows)


def synthetic_targets(cfg, provinces: tuple[str, ...]) -> pd.DataFrame:
    """SYNTHETIC targets (benchmark only): each province x headline indicator, at 2025 and 2030."""
    rows = [{"geo": geo, "indicator": spec.name, "definition": spec.anchor, "deadline": year,
             "target": value, "comparator": ">=", "document": "synthetic", "source_url": "", "quote": ""}
            for geo in provinces for spec in cfg.indicators for year, value in ((2025, 60.0), (2030, 80.0))]
    return pd.DataFrame(rows)


def scenarios(provinces: tuple[str, ...], count: int, draws: int, seed: int, rollouts: int) -> list[Scenario]:
    def multiple(value: float) -> dict:
        return {("*", pillar): {2024: value} for pillar in PILLARS}

    slip = {"procurement_months": LogNormal(4, 0.5), "release_delay_months": LogNormal(2, 0.8),
            "overrun": LogNormal(1.15, 0.25)}
    programmes = tuple(
        Programme(f"{geo}_fibre", geo, "fiber_household_share", "broadband", 120.0,
                  ((2024, 40.0), (2025, 50.0), (2026, 30.0)), 2024.0, 2.5, Effect("speed_multiplier", 1.5),
                  teams=2, **slip)
        for geo in provinces)
    base = Scenario("baseline", "SYNTHETIC", provinces, "multiple", {},
                    settings=RunSettings(2030, draws, seed, rollouts))
    out = [base, dataclasses.replace(base, name="accelerated", investment=multiple(1.5)),
           dataclasses.replace(base, name="austerity", investment=multiple(0.7)),
           dataclasses.replace(base, name="programmes", programmes=programmes)]
    return out[:count]


def reference_kernel(S: int, G: int, I: int, Y: int, D: int, projected: int, seed: int) -> tuple[float, float]:
    """The same difference equation, minimal numpy: seconds and CPU seconds for a (Y, S, G, I, D) path stored
    like dxsim's."""
    rng = np.random.default_rng(seed)
    level, speed = rng.normal(0, 1, (G, I, D)), np.abs(rng.normal(0.3, 0.1, (G, I, D)))
    elasticity = rng.lognormal(np.log(0.5), 0.5, (I, D))
    log_m = np.log(rng.choice([0.7, 1.0, 1.5], (S, G, I)))
    sd = np.full((I, 1), 0.1)
    start, start_cpu = time.perf_counter(), time.process_time()
    paths = np.empty((Y, S, G, I, D), dtype=PATH_DTYPE)
    z = np.broadcast_to(level, (S, G, I, D)).copy()
    for y in range(Y):
        if y >= Y - projected:
            z += speed * np.exp(elasticity * log_m[..., None]) + sd * rng.standard_normal((G, I, D))
        paths[y] = z
    return time.perf_counter() - start, time.process_time() - start_cpu


HWM = Path("/proc/self/status")


def peak_rss() -> int:
    """The process's peak resident memory in bytes: since the last ``reset_peak_rss`` on Linux."""
    if HWM.is_file():
        line = next(x for x in HWM.read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 2**10
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 2**10


def reset_peak_rss() -> None:
    """Start a new high-water mark of resident memory (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def stage(name: str, steps: int, fn: Callable[[], Any], report: list, repeat: int = 1) -> Any:
    """Run ``fn`` ``repeat`` times; report the best time (perf_counter), the CPU seconds of that run
    (process_time, all threads: less sensitive to a busy machine than the wall time) and the first run's peak
    resident memory."""
    best, cpu, peak = np.inf, np.inf, 0
    for r in range(repeat):
        reset_peak_rss()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
        if seconds < best:
            best, cpu = seconds, cpu_seconds
        if r == 0:
            peak = peak_rss()
        if r < repeat - 1:
            del result
    report.append((name, best, steps / best, peak, cpu))
    return result


def float32_error(calibrator, scenario: Scenario, draws: int, seed: int) -> float:
    """Largest difference (percentage points) in any trajectory quantile or mean between float32 and float64
    stored paths, on one scenario."""
    runs = [run_ensemble(calibrator, [scenario], draws, seed, path_dtype=dtype) for dtype in (np.float32, np.float64)]
    a, b = (r.trajectories() for r in runs)
    cols = ["mean", "q05", "q10", "q25", "q50", "q75", "q90", "q95"]
    return float(np.abs(a[cols].to_numpy() - b[cols].to_numpy()).max())


def quantile_error(ensemble) -> tuple[float, float]:
    """Largest difference (points) of any trajectory quantile, and of any mean, of the last year from
    ``np.quantile`` and ``mean`` in float64 on the same draws' float64 shares."""
    values = ensemble.values(ensemble.years[-1])
    exact = np.moveaxis(np.quantile(values, QUANTILES, axis=-1), 0, -1)
    return (float(np.abs(ensemble.quantiles[:, -1] - exact).max()),
            float(np.abs(ensemble.mean[:, -1] - values.mean(axis=-1)).max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--scenarios", type=int, default=4, choices=(1, 2, 3, 4))
    parser.add_argument("--rollouts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", type=Path, metavar="FILE", help="write this run's timings as JSON")
    parser.add_argument("--compare", type=Path, metavar="FILE", help="compare with timings saved by --save")
    args = parser.parse_args()

    base_cfg = load_config(ROOT / "calibration" / "config.toml")
    cfg = dataclasses.replace(base_cfg, indicators=tuple(i for i in base_cfg.indicators if i.headline))
    geos = known_geos(cfg)
    provinces = tuple(g for g in geos if g != NATIONAL)
    obs = synthetic_observations(cfg, geos, np.random.default_rng(args.seed))
    targets = synthetic_targets(cfg, provinces)
    scens = scenarios(provinces, args.scenarios, args.draws, args.seed, args.rollouts)
    S, G, I, D = len(scens), len(provinces), len(cfg.indicators), args.draws
    report: list = []

    calibrator = stage("calibration", G * I * 11, lambda: Calibrator(cfg).fit(obs), report)
    years = ensemble_years(calibrator, 2030)
    Y, projected = len(years), int((years > calibrator.jump_off_year_).sum())
    steps = S * G * I * Y * D
    rollouts = [None] * S
    if any(s.programmes for s in scens):
        k = next(i for i, s in enumerate(scens) if s.programmes)
        rollouts[k] = stage("rollout", G * I * Y * D, lambda: scenario_rollouts(
            scens[k], cfg, years, D, seed_streams(args.seed)[2]), report)
    # best of three, like the kernel: the first large allocation of a process pays page faults
    ensemble = stage("ensemble", steps, lambda: run_ensemble(calibrator, scens, D, args.seed, rollouts=rollouts),
                     report, repeat=3)
    start, start_cpu = time.perf_counter(), time.process_time()
    sample_run(calibrator, D, args.seed)
    draw_s, draw_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    def probabilities() -> tuple:
        evaluated = target_met(ensemble, cfg, targets)
        return (target_probabilities(ensemble, cfg, targets, evaluated),
                all_targets_probabilities(ensemble, cfg, targets, evaluated))

    target_tables = stage("targets", steps, probabilities, report)
    with tempfile.TemporaryDirectory() as tmp:
        def outputs() -> None:
            write_csv(ensemble.trajectories(), Path(tmp) / "trajectories.csv")
            write_csv(target_tables[0], Path(tmp) / "target_probabilities.csv")
        stage("outputs", steps, outputs, report)
    q_error, m_error = quantile_error(ensemble)
    ensemble = None  # free the paths before the kernel allocates its own
    kernel, kernel_cpu = min(reference_kernel(S, G, I, Y, D, projected, args.seed) for _ in range(3))
    error = float32_error(calibrator, scens[0], min(D, 2000), args.seed)

    print(f"dxsim benchmark: {S} scenarios x {G} geos x {I} indicators x {Y} years ({years[0]}-{years[-1]}, "
          f"{projected} projected) x {D} draws = {steps:,} steps; "
          f"{sum(len(s.programmes) for s in scens)} programmes, {args.rollouts} rollouts")
    print(f"{'stage':<12} {'seconds':>8} {'steps/s':>14} {'peak RSS MiB':>13} {'CPU s':>7}")
    for name, seconds, rate, peak, cpu in report:
        print(f"{name:<12} {seconds:8.2f} {rate:14,.0f} {peak / 2**20:13.0f} {cpu:7.2f}")
    ens_s, ens_cpu = next((r[1], r[4]) for r in report if r[0] == "ensemble")
    tgt_s = next(r[1] for r in report if r[0] == "targets")
    print(f"{'kernel':<12} {kernel:8.2f} {steps / kernel:14,.0f} {'':13} {kernel_cpu:7.2f}   "
          f"(minimal numpy, same equation and shapes)")
    print(f"ensemble + targets: {ens_s + tgt_s:.2f} s; ensemble speed / kernel speed (kernel s / ensemble s): "
          f"{kernel / ens_s:.2f}")
    print(f"the same in CPU seconds (kernel CPU s / ensemble CPU s): {kernel_cpu / ens_cpu:.2f}; the ensemble's "
          f"parameter draws (sample_run, drawn by the kernel before its timer): {draw_s:.2f} s, {draw_cpu:.2f} s CPU")
    if rollouts != [None] * S:
        ro_s = next(r[1] for r in report if r[0] == "rollout")
        print(f"rollout share of rollout + ensemble time: {ro_s / (ro_s + ens_s):.0%}")
    print(f"float32 path storage: largest change of any quantile or mean vs float64 = {error:.2e} points")
    print(f"quantiles and means from float32 shares: largest difference from np.quantile (float64) = "
          f"{q_error:.2e} points, from the float64 mean = {m_error:.2e} (bound {VALUES_BOUND:.2e})")
    rss = max(r[3] for r in report) / 2**20
    print(f"peak RSS of the stages: {rss:.0f} MiB; load average (1 min) at the end: {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    result = {"shape": {"scenarios": S, "geos": G, "indicators": I, "years": Y, "draws": D},
              "stages": {r[0]: r[1] for r in report}, "kernel": kernel,
              "cpu": {**{r[0]: r[4] for r in report}, "kernel": kernel_cpu},
              "peak_rss_mib": rss, "quantile_error": q_error, "mean_error": m_error, "load": os.getloadavg()[0]}
    result["ratio"] = sum(result["stages"].values()) / kernel
    cpu_ratio = sum(r[4] for r in report) / kernel_cpu
    print(f"pipeline/kernel CPU-time ratio: {cpu_ratio:.2f} (the outputs' threads count in full)")
    print(f"pipeline/kernel ratio: {result['ratio']:.2f}")
    if args.compare:
        compare(json.loads(args.compare.read_text()), result)
    if args.save:
        args.save.write_text(json.dumps(result, indent=1) + "\n")


def compare(before: dict, now: dict) -> None:
    """Per stage: now / before in seconds, and in units of each run's kernel (> 1: slower, a regression)."""
    if before.get("shape") != now["shape"]:
        print(f"note: the saved run had another shape {before.get('shape')}")
    print(f"{'vs saved':<12} {'before s':>9} {'now s':>8} {'now/before':>11} {'per kernel':>11}")
    rows = [(name, before["stages"].get(name), seconds) for name, seconds in now["stages"].items()]
    rows += [("kernel", before["kernel"], now["kernel"])]
    for name, old, new in rows:
        if old is None:
            print(f"{name:<12} {'-':>9} {new:8.2f}")
            continue
        relative = (new / now["kernel"]) / (old / before["kernel"])
        print(f"{name:<12} {old:9.2f} {new:8.2f} {new / old:11.2f} {relative:11.2f}")
    print(f"peak RSS MiB: {before.get('peak_rss_mib', float('nan')):.0f} before, {now['peak_rss_mib']:.0f} now; "
          f"load {before.get('load', float('nan')):.1f} before, {now['load']:.1f} now")
    print(f"pipeline/kernel ratio: {before['ratio']:.2f} before, {now['ratio']:.2f} now "
          f"({now['ratio'] / before['ratio']:.2f}x)")


if __name__ == "__main__":
    main()
