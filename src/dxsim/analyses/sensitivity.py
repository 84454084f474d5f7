"""Global sensitivity analysis (``dxsim sensitivity``): which levers and assumptions move each output.

Sampling and analysis are SALib's: Saltelli/Sobol (first-order S1, total ST and second-order S2 indices, with
bootstrap confidence intervals) or Morris elementary effects (mu*, with its confidence interval; mu; sigma).
The model is evaluated by ``experiments.py``: every sample with the same parameter draws and noise (common
random numbers), so the indices measure the factors, not Monte Carlo noise. Outputs: each evaluable target's
probability and each headline median in 2030 (``experiments.scenario_outputs``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.analyses.batches import BatchRunner
from dxsim.analyses.experiments import Experiment
from dxsim.analyses.factors import Factor, factors_toml, salib_problem
from dxsim.core.calibrate import Calibrator
from dxsim.errors import ArgumentError, InputError, unknown
from dxsim.inputs.scenario import Scenario

METHODS = ("sobol", "morris")
CONF_LEVEL = 0.95
SENSITIVITY_COLUMNS = ("output", "factor", "index", "value", "conf", "ci_low", "ci_high")
OUTPUT_COLUMNS = ("output", "kind", "geo", "indicator", "definition", "year", "comparator", "target", "document",
                  "at_scenario", "sample_mean", "sample_sd", "analysed")
MORRIS_LEVELS = 4


@dataclass(frozen=True)
class SensitivityResult:
    table: pd.DataFrame          # SENSITIVITY_COLUMNS
    outputs: pd.DataFrame        # OUTPUT_COLUMNS
    factors: tuple[Factor, ...]
    method: str
    n: int
    evaluations: int
    seconds: float
    where: str
    manifest: dict[str, Any] = field(default_factory=dict, compare=False)   # manifest.json (``sensitivity``)


def sample(factors: tuple[Factor, ...], method: str, n: int, seed: int) -> np.ndarray:
    """SALib's sample (evaluation, factor): Saltelli/Sobol with second order (n (2k + 2) rows; n a power of
    two) or Morris (n trajectories, n (k + 1) rows, on the factors' ranges)."""
    from SALib.sample import morris, sobol

    if method == "sobol":
        return sobol.sample(salib_problem(factors), n, calc_second_order=True, seed=seed)
    return morris.sample(salib_problem(factors, uniform=True), n, num_levels=MORRIS_LEVELS, seed=seed)


def analyse(factors: tuple[Factor, ...], method: str, X: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Indices of one output ``y`` (evaluation,) in SENSITIVITY_COLUMNS (without ``output``)."""
    from SALib.analyze import morris, sobol

    names = [f.name for f in factors]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            res = sobol.analyze(salib_problem(factors), y, calc_second_order=True, conf_level=CONF_LEVEL, seed=seed)
            for index in ("ST", "S1"):
                rows += [(name, index, res[index][j], res[f"{index}_conf"][j]) for j, name in enumerate(names)]
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    rows.append((f"{names[a]}:{names[b]}", "S2", res["S2"][a, b], res["S2_conf"][a, b]))
        else:
            res = morris.analyze(salib_problem(factors, uniform=True), X, y, conf_level=CONF_LEVEL,
                                 num_levels=MORRIS_LEVELS, seed=seed)
            for j, name in enumerate(names):
                rows += [(name, "mu_star", res["mu_star"][j], res["mu_star_conf"][j]),
                         (name, "mu", res["mu"][j], np.nan), (name, "sigma", res["sigma"][j], np.nan)]
    out = pd.DataFrame(rows, columns=["factor", "index", "value", "conf"])
    out["ci_low"] = out["value"] - out["conf"]
    out["ci_high"] = out["value"] + out["conf"]
    return out


def run_sensitivity(experiment: Experiment, method: str, n: int, seed: int,
                    runner: BatchRunner | None = None) -> SensitivityResult:
    """Sample, evaluate (in batches, through ``runner``: in-process by default) and analyse every output."""
    factors = experiment.factors
    X = sample(factors, method, n, seed)
    start = time.perf_counter()
    with (runner or BatchRunner()) as r:
        Y = r.evaluate(experiment, X)
        where = r.where
    seconds = time.perf_counter() - start
    at_scenario = _at_scenario(experiment)
    parts, info = [], []
    for j, o in enumerate(experiment.outputs):
        y = Y[:, j]
        varies = bool(np.ptp(y) > 0)
        if varies:
            part = analyse(factors, method, X, y, seed)
            part.insert(0, "output", o.name)
            parts.append(part)
        info.append({"output": o.name, "kind": o.kind, "geo": o.geo, "indicator": o.indicator,
                     "definition": o.definition, "year": o.year, "comparator": o.comparator, "target": o.target,
                     "document": o.document, "at_scenario": at_scenario[j], "sample_mean": float(y.mean()),
                     "sample_sd": float(y.std()), "analysed": varies})
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SENSITIVITY_COLUMNS))
    return SensitivityResult(table[list(SENSITIVITY_COLUMNS)], pd.DataFrame(info, columns=list(OUTPUT_COLUMNS)),
                             factors, method, n, len(X), seconds, where)


def samples_of(method: str, n: int | None) -> int:
    """``n`` checked for ``method`` (an ArgumentError naming it), or its default: 256 Sobol base samples, 32 Morris
    trajectories."""
    if method not in METHODS:
        raise ArgumentError("method", unknown("method", method, METHODS))
    n = n or (256 if method == "sobol" else 32)
    if method == "sobol" and n & (n - 1):
        raise ArgumentError("n", f"Sobol sampling needs a power of two, got {n}")
    return n


def sensitivity(calibrator: Calibrator, scenario: Scenario, inputs: Any, method: str = "sobol",
                n: int | None = None, factors: str | Path | None = None, draws: int = 1000, seed: int | None = None,
                runner: BatchRunner | None = None, announce: Callable[[str], None] | None = None
                ) -> SensitivityResult:
    """A whole sensitivity study of ``scenario`` (``inputs``: ``pipeline.Inputs``): factors from the ``factors``
    TOML file (default: ``factors.default_factors``), ``n`` Sobol base samples (a power of two, default 256) or
    Morris trajectories (default 32), each evaluated with ``draws`` draws and ``seed`` (default: the scenario's);
    ``announce`` is told the plan (evaluations, batches) before the evaluations start. With its manifest."""
    from dxsim.analyses.batches import describe
    from dxsim.analyses.experiments import build_experiment, experiment_manifest
    from dxsim.analyses.factors import default_factors, load_factors
    from dxsim.core.ensemble import sample_run
    from dxsim.inputs.fingerprint import sha256_file

    n = samples_of(method, n)
    cfg = inputs.config
    chosen = load_factors(factors, cfg, scenario) if factors else default_factors(cfg, scenario)
    if len(chosen) < 2:
        raise InputError(str(factors), "factors", "a sensitivity analysis needs at least two factors")
    seed = scenario.settings.seed if seed is None else seed
    experiment = build_experiment(calibrator, scenario, inputs.targets, chosen, sample_run(calibrator, draws, seed,
                                                                                           scenario))
    if announce is not None:
        announce(f"{scenario.name}: {method}, {describe(len(sample(chosen, method, n, seed)), experiment.batch_size)}"
                 f", {draws} draws, {len(experiment.outputs)} outputs")
    result = run_sensitivity(experiment, method, n, seed, runner)
    manifest = experiment_manifest(
        "sensitivity", scenario, inputs,
        factors_file={"file": str(factors), "sha256": sha256_file(factors)} if factors
        else "default (dxsim.analyses.factors.default_factors)",
        method=method, n=n, evaluations=result.evaluations, draws=draws, seed=seed, confidence_level=CONF_LEVEL)
    return replace(result, manifest=manifest)


def _at_scenario(experiment: Experiment) -> np.ndarray:
    """The outputs of the scenario as written (every factor left as the scenario has it)."""
    from dxsim.analyses.experiments import evaluate

    return evaluate(experiment, np.full((1, len(experiment.factors)), np.nan))[0]


def ranked(table: pd.DataFrame, output: str, method: str) -> pd.DataFrame:
    """One output's main index per factor (ST for Sobol, mu* for Morris), largest first."""
    index = "ST" if method == "sobol" else "mu_star"
    rows = table[(table["output"] == output) & (table["index"] == index)]
    return rows.sort_values(["value", "factor"], ascending=[False, True])


def summary_text(result: SensitivityResult, top: int = 3) -> str:
    index = "total index ST" if result.method == "sobol" else "mu*"
    lines = [f"{result.method} sensitivity: {len(result.factors)} factors, {result.evaluations} evaluations "
             f"({result.where}, {result.seconds:.1f} s); largest {index} [{CONF_LEVEL:.0%} CI] per output"]
    for o in result.outputs.itertuples():
        if not o.analysed:
            lines.append(f"  {o.output}: {o.at_scenario:.3g}, the same in every sample")
            continue
        best = ranked(result.table, o.output, result.method).head(top)
        cells = ", ".join(f"{r.factor} {r.value:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in best.itertuples())
        lines.append(f"  {o.output} (at scenario {o.at_scenario:.3g}): {cells}")
    return "\n".join(lines)


def write_sensitivity(result: SensitivityResult, out: str | Path, manifest: dict | None = None,
                      charts: bool = True) -> Path:
    """sensitivity.csv, sensitivity_outputs.csv, factors.toml, manifest.json (default: the result's) and
    (``charts``) one ranked bar chart per analysed output, atomically into ``out``; returns it."""
    from dxsim.outputs.results import atomic_output_dir, write_csv, write_json

    out = Path(out)
    manifest = result.manifest if manifest is None else manifest
    with atomic_output_dir(out) as tmp:
        write_csv(result.table, tmp / "sensitivity.csv")
        write_csv(result.outputs, tmp / "sensitivity_outputs.csv")
        (tmp / "factors.toml").write_text(factors_toml(result.factors, "factors of this sensitivity run"))
        if charts:
            from dxsim.outputs.policycharts import sensitivity_charts

            sensitivity_charts(result, tmp / "charts")
        write_json(manifest, tmp / "manifest.json")
    return out
