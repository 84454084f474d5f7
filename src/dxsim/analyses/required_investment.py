"""What would it take? (``dxsim required-investment``): for each selected target, the smallest investment multiple
of its pillar in its geo from which P(met) reaches the requested probability.

With common random numbers a larger multiple raises every draw's speed (m ** elasticity, elasticity > 0), so
every draw's path, and P(met) of a target of the form ">= x" or "> x", never decreases with the multiple (the
tests check it on the shipped data). The answer is found by bisection on that monotone response: all targets of
a geo move together, one variant per target per step, as the scenario axis of one ensemble run. The multiple
replaces the scenario's investment in that pillar and geo from the first projected year; everything else stays
as in the scenario. Targets of the form "<= x" are not applicable (more investment can only lower their chance).

"Already met at baseline" is judged at the scenario's own investment: P(met) as the scenario is written reaches
the probability. Otherwise the search starts at the scenario's smallest multiple of the pillar in the geo
(``scenario_multiple``; held constant it is no more than the scenario's schedule, so P there is no higher).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.analyses.batches import BatchRunner
from dxsim.analyses.experiments import (
    Experiment,
    Output,
    build_experiment,
    left_out_targets,
    scenario_outputs,
)
from dxsim.analyses.factors import Factor
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import ensemble_years, sample_run
from dxsim.core.targets import probability_text
from dxsim.errors import ArgumentError, InputError
from dxsim.inputs.config import PILLARS
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.scenario import Scenario

REQUIRED_COLUMNS = (
    "scenario", "geo", "indicator", "definition", "pillar", "deadline", "comparator", "target", "document",
    "probability_requested", "status", "multiple", "probability", "mc_se", "scenario_multiple",
    "scenario_multiple_max", "probability_at_baseline",
    "max_multiple", "baseline_spend_bn_vnd", "spend_bn_vnd_per_year", "answer")
STATUSES = ("found", "met_at_baseline", "not_reachable", "not_applicable", "not_evaluable")
CURVE_POINTS = 25


@dataclass(frozen=True)
class Bisection:
    """Per target: the smallest multiple found (NaN unless status is 'found'), P there, P at the lower end (in
    ``required_investment``: P as the scenario is written) and at the upper end."""

    multiple: np.ndarray
    probability: np.ndarray
    at_low: np.ndarray
    at_high: np.ndarray
    status: np.ndarray        # 'found' | 'met_at_baseline' | 'not_reachable'


def bisect_smallest(p_of: Callable[[np.ndarray], np.ndarray], n: int, probability: float,
                    low: float | np.ndarray = 1.0, high: float = 10.0, tolerance: float = 0.01) -> Bisection:
    """Smallest multiple m in (low, high] with p_of(m) >= ``probability`` for ``n`` monotone responses at once, to
    ``tolerance`` (the answer is the upper end of the last bracket: P there is known to reach the threshold).
    ``low``: one lower end for all or one per response; 'met_at_baseline' where P(low) already reaches it,
    'not_reachable' where P(high) does not (or low >= high). ``p_of`` maps multiples (n,) to probabilities (n,):
    one vectorised evaluation per step."""
    if not tolerance > 0:
        raise ArgumentError("tolerance", f"must be above 0, got {tolerance:g}")
    lo = np.broadcast_to(np.asarray(low, float), (n,)).copy()
    hi = np.full(n, float(high))
    p_low, p_high = p_of(lo), p_of(hi)
    status = np.where(p_low >= probability, "met_at_baseline",
                      np.where((p_high >= probability) & (lo < hi), "found", "not_reachable"))
    p_hi = p_high.copy()
    active = status == "found"
    while active.any() and np.max(hi[active] - lo[active]) > tolerance:
        mid = np.where(active, 0.5 * (lo + hi), hi)
        active &= (mid > lo) & (mid < hi)     # no float between lo and hi: the bracket cannot shrink further
        if not active.any():
            break
        p_mid = p_of(mid)
        up = active & (p_mid >= probability)
        hi, p_hi = np.where(up, mid, hi), np.where(up, p_mid, p_hi)
        lo = np.where(active & ~up, mid, lo)
        active &= (hi - lo) > tolerance
    found = status == "found"
    return Bisection(np.where(found, hi, np.nan), np.where(found, p_hi, np.nan), p_low, p_high, status)


def select_targets(outputs: tuple[Output, ...], cfg_pillar: Callable[[str], str], pillars: list[str] | None,
                   geos: list[str] | None, targets: list[str] | None) -> list[int]:
    """Indices of the probability outputs passing the filters (``targets``: 'indicator' or
    'indicator/definition')."""
    keep = []
    for j, o in enumerate(outputs):
        if o.kind != "probability":
            continue
        if pillars and cfg_pillar(o.indicator) not in pillars:
            continue
        if geos and o.geo not in geos:
            continue
        if targets and o.indicator not in targets and f"{o.indicator}/{o.definition}" not in targets:
            continue
        keep.append(j)
    return keep


def required_investment(calibrator: Calibrator, scenario: Scenario, targets: pd.DataFrame, probability: float,
                        draws: int, seed: int, pillars: list[str] | None = None, geos: list[str] | None = None,
                        target_names: list[str] | None = None, max_multiple: float = 10.0,
                        tolerance: float = 0.01, runner: BatchRunner | None = None
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The answer per selected target (REQUIRED_COLUMNS) and the P-against-multiple curves (output, geo, pillar,
    multiple, probability), geo by geo. Filters: ``pillars``, ``geos`` (of the scenario's) and ``target_names``
    ('indicator' or 'indicator/definition'); an ArgumentError names a bad argument."""
    cfg = calibrator.config
    geos = check_arguments(cfg, scenario, probability, max_multiple, tolerance, geos, target_names)
    pillar_of = {spec.name: spec.pillar for spec in cfg.indicators}
    rows, curves = [], []
    years = ensemble_years(calibrator, scenario.settings.horizon)
    samples = sample_run(calibrator, draws, seed, scenario)     # once: every geo and multiple on the same draws
    with (runner or BatchRunner()) as r:
        for geo in (g for g in scenario.geos if not geos or g in geos):
            chosen, outs = scenario_outputs(calibrator, targets, (geo,), years, medians=False)
            keep = select_targets(outs, pillar_of.__getitem__, pillars, None, target_names)
            rows += _left_out_rows(calibrator, scenario, targets, geo, years, probability, max_multiple,
                                   pillars, target_names)
            if not keep:
                continue
            chosen = chosen.iloc[keep].reset_index(drop=True)
            outs = tuple(outs[j] for j in keep)
            geo_pillars = sorted({pillar_of[o.indicator] for o in outs}, key=lambda p: p)
            factors = tuple(Factor(f"invest_{p}", "investment", 1e-6, 1e6, pillar=p, geo=geo) for p in geo_pillars)
            exp = build_experiment(calibrator, scenario, targets, factors, samples, geos=(geo,), outputs=(chosen, outs))
            column = np.array([geo_pillars.index(pillar_of[o.indicator]) for o in outs])
            # investment acts from the first projected year: a target due earlier cannot be moved by it
            upper = np.array([o.comparator in (">=", ">") and o.year > calibrator.jump_off_year_ for o in outs])
            T = len(outs)

            def p_of(m: np.ndarray, exp: Experiment = exp, column: np.ndarray = column, T: int = T) -> np.ndarray:
                X = np.full((len(m), len(exp.factors)), np.nan)
                X[np.arange(len(m)), column] = m
                return r.evaluate(exp, X)[np.arange(T), np.arange(T)]

            # judged at the scenario's own investment: P as the scenario is written, and the search starts at its
            # smallest multiple (a constant multiple there is no more than the scenario's: P no higher, monotone)
            own = scenario_multiples(exp, [PILLARS.index(pillar_of[o.indicator]) for o in outs], [o.year for o in outs])
            at_scenario = r.evaluate(exp, np.full((1, len(factors)), np.nan))[0, :T]
            res = bisect_smallest(p_of, T, probability, np.nan_to_num(own[0], nan=1.0), max_multiple, tolerance)
            # (P(low) >= the threshold with P as written below it would contradict that monotonicity: the low end
            # is then the answer, reported as found there)
            dips = (res.status == "met_at_baseline") & (at_scenario < probability)
            res = Bisection(np.where(dips, own[0], res.multiple), np.where(dips, res.at_low, res.probability),
                            at_scenario, res.at_high,
                            np.where(at_scenario >= probability, "met_at_baseline",
                                     np.where(dips, "found", res.status)))
            grid = np.unique(np.concatenate([np.geomspace(0.25, max_multiple, CURVE_POINTS), [1.0],
                                             own[0][np.isfinite(own[0])]]))
            X = np.full((len(geo_pillars) * len(grid), len(factors)), np.nan)
            for k in range(len(geo_pillars)):
                X[k * len(grid):(k + 1) * len(grid), k] = grid
            Y = r.evaluate(exp, X)
            for t, o in enumerate(outs):
                k = column[t]
                curves.append(pd.DataFrame({"output": o.name, "geo": geo, "pillar": geo_pillars[k], "multiple": grid,
                                            "probability": Y[k * len(grid):(k + 1) * len(grid), t]}))
                rows.append(_row(cfg, scenario, o, geo_pillars[k], probability, res, t, bool(upper[t]),
                                 max_multiple, draws, (float(own[0][t]), float(own[1][t]))))
    table = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS) + ["output"])
    curve = pd.concat(curves, ignore_index=True) if curves else \
        pd.DataFrame(columns=["output", "geo", "pillar", "multiple", "probability"])
    return table, curve


def check_arguments(cfg, scenario: Scenario, probability: float, max_multiple: float,  # noqa: ANN001
                     tolerance: float, geos: list[str] | None, target_names: list[str] | None) -> list[str] | None:
    """The geos filter in the scenario's names (lang_son@pre2025 is lang_son), after checking every argument."""
    if not 0 < probability < 1:
        raise ArgumentError("probability", f"must be between 0 and 1, got {probability:g}")
    if not tolerance > 0:
        raise ArgumentError("tolerance", f"must be above 0, got {tolerance:g}")
    if not max_multiple > 1:
        raise ArgumentError("max_multiple", f"must be above 1, got {max_multiple:g}")
    for name in target_names or ():
        if name.split("/")[0] not in cfg.indicator_names:
            raise ArgumentError("target_names", f"unknown indicator in {name!r}; modelled: "
                                f"{', '.join(cfg.indicator_names)}")
    if not geos:
        return geos
    geomap = load_geomap(cfg)
    geos = [region.name if (region := geomap.resolve(g)) else g for g in geos]
    for geo in geos:
        if geo not in scenario.geos:
            raise ArgumentError("geos", f"{geo!r} is not in the scenario's geos {list(scenario.geos)}")
    return geos


@dataclass(frozen=True)
class RequiredInvestment:
    """The answers of ``required-investment`` (REQUIRED_COLUMNS), the P-against-multiple curves, and the run."""

    table: pd.DataFrame
    curves: pd.DataFrame
    probability: float
    draws: int
    manifest: dict[str, Any] = field(default_factory=dict, compare=False)


def required_investment_study(calibrator: Calibrator, scenario: Scenario, inputs: Any, probability: float = 0.8,
                              draws: int = 1000, seed: int | None = None, pillars: list[str] | None = None,
                              geos: list[str] | None = None, target_names: list[str] | None = None,
                              max_multiple: float = 10.0, tolerance: float = 0.01,
                              runner: BatchRunner | None = None) -> RequiredInvestment:
    """``required_investment`` of the targets of ``inputs`` (``pipeline.Inputs``) with its manifest; ``seed``
    defaults to the scenario's. An ArgumentError when no evaluable target due in a projected year is selected."""
    from dxsim.analyses.experiments import experiment_manifest

    seed = scenario.settings.seed if seed is None else seed
    table, curves = required_investment(calibrator, scenario, inputs.targets, probability, draws, seed, pillars,
                                        geos, target_names, max_multiple, tolerance, runner)
    if table.empty:
        given = [name for name, value in (("target_names", target_names), ("geos", geos), ("pillars", pillars))
                 if value]
        problem = "no evaluable target due in a projected year matches (see target_probabilities.csv of a run)"
        if not given:
            raise InputError(inputs.targets_path, "", f"{problem.replace(' matches', '')} of scenario "
                             f"{scenario.name!r}")
        raise ArgumentError(given[0], problem)
    manifest = experiment_manifest("required-investment", scenario, inputs, probability=probability, draws=draws,
                                   seed=seed, max_multiple=max_multiple, tolerance=tolerance)
    return RequiredInvestment(table, curves, probability, draws, manifest)


def write_required_investment(result: RequiredInvestment, out: str | Path, charts: bool = True) -> Path:
    """required_investment.csv, required_investment_curves.csv, manifest.json and (``charts``) a chart per geo,
    atomically into ``out``; returns it."""
    from dxsim.outputs.results import atomic_output_dir, write_csv, write_json

    out = Path(out)
    with atomic_output_dir(out) as tmp:
        write_csv(result.table[list(REQUIRED_COLUMNS)], tmp / "required_investment.csv")
        write_csv(result.curves, tmp / "required_investment_curves.csv")
        if charts:
            from dxsim.outputs.policycharts import required_investment_charts

            required_investment_charts(result.curves, result.table, result.probability, tmp / "charts")
        write_json(result.manifest, tmp / "manifest.json")
    return out


def _left_out_rows(calibrator: Calibrator, scenario: Scenario, targets: pd.DataFrame, geo: str,
                   years: np.ndarray, probability: float, max_multiple: float, pillars: list[str] | None,
                   target_names: list[str] | None) -> list[dict]:
    """Rows for ``geo``'s targets (passing the filters) that no investment can be found for, saying why: the
    model cannot evaluate them ('not_evaluable'), or their series has data through the deadline."""
    pillar_of = {spec.name: spec.pillar for spec in calibrator.config.indicators}
    rows = []
    for r in left_out_targets(calibrator, targets, (geo,), years).itertuples():
        pillar = pillar_of.get(r.indicator, "")
        if (pillars and pillar not in pillars) or (target_names and r.indicator not in target_names
                                                   and f"{r.indicator}/{r.evaluated_as}" not in target_names):
            continue
        status = "not_applicable" if r.evaluable else "not_evaluable"
        rows.append({"scenario": scenario.name, "geo": geo, "indicator": r.indicator, "definition": r.evaluated_as,
                     "pillar": pillar, "deadline": int(r.deadline), "comparator": r.comparator,
                     "target": float(r.target), "document": str(r.document), "probability_requested": probability,
                     "status": status, "max_multiple": max_multiple,
                     "answer": f"{status.replace('_', ' ')}: {r.reason}", "output": ""})
    return rows


def scenario_multiples(exp: Experiment, pillars: list[int], deadlines: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per target: the smallest and largest investment multiple the scenario sets for its pillar (index into
    PILLARS) in the experiment's geo (every part of a merged province) from the first projected year to the
    deadline; NaN when the deadline is not projected."""
    log_inv = exp.drivers.log_investment[0]                                   # (year, model geo, pillar)
    lo, hi = np.full(len(pillars), np.nan), np.full(len(pillars), np.nan)
    for t, (p, deadline) in enumerate(zip(pillars, deadlines, strict=True)):
        years = (exp.years > exp.jump_off_year) & (exp.years <= deadline)
        if years.any():
            with np.errstate(over="ignore"):
                values = np.exp(log_inv[years, :, p])
            lo[t], hi[t] = (float(f"{v:.12g}") for v in (values.min(), values.max()))   # exp(log 5) is not 5
    return lo, hi


def _row(cfg, scenario: Scenario, o: Output, pillar: str, probability: float, res: Bisection,  # noqa: ANN001
         t: int, applicable: bool, max_multiple: float, draws: int, own: tuple[float, float]) -> dict:
    spend = cfg.baseline_spend_bn_vnd.get((o.geo, pillar), np.nan)
    status = str(res.status[t]) if applicable else "not_applicable"
    m = float(res.multiple[t]) if status == "found" else np.nan
    p = float(res.probability[t]) if status == "found" else np.nan
    base_p = float(res.at_low[t])
    answers = {
        "found": f"multiple {m:.2f}" + (f" (about {m * spend:,.0f} bn VND a year)" if np.isfinite(spend) else "")
                 + f": P = {probability_text(p, draws)}",
        "met_at_baseline": f"already met at baseline (the scenario's multiple {_multiple_text(own)}): P = "
                           f"{probability_text(base_p, draws)}",
        "not_reachable": f"not reachable below multiple {max_multiple:g}: P = "
                         f"{probability_text(float(res.at_high[t]), draws)} there",
        "not_applicable": f"not applicable: a '{o.comparator}' target is not made likelier by investment"
                          if o.comparator not in (">=", ">") else
                          f"not applicable: due in {o.year}, before investment from the first projected year acts",
    }
    return {"scenario": scenario.name, "geo": o.geo, "indicator": o.indicator, "definition": o.definition,
            "pillar": pillar, "deadline": o.year, "comparator": o.comparator, "target": o.target,
            "document": o.document, "probability_requested": probability, "status": status, "multiple": m,
            "probability": p, "mc_se": float(np.sqrt(p * (1 - p) / draws)) if np.isfinite(p) else np.nan,
            "scenario_multiple": own[0], "scenario_multiple_max": own[1],
            "probability_at_baseline": base_p, "max_multiple": max_multiple, "baseline_spend_bn_vnd": spend,
            "spend_bn_vnd_per_year": m * spend, "answer": answers[status], "output": o.name}


def _multiple_text(own: tuple[float, float]) -> str:
    return f"{own[0]:.3g}" if own[0] == own[1] else f"{own[0]:.3g} to {own[1]:.3g}"


def summary_text(table: pd.DataFrame, probability: float, draws: int) -> str:
    lines = [f"smallest investment multiple of the target's pillar in its geo for P(met) >= {probability:g} "
             f"({draws} draws; the multiple replaces the scenario's from the first projected year)"]
    for r in table.itertuples():
        se = f" (MC se {r.mc_se:.3f})" if np.isfinite(r.mc_se) else ""
        lines.append(f"  {r.geo:<10} {r.indicator}/{r.definition} {r.deadline} {r.comparator}{r.target:g} "
                     f"[{r.pillar}]: {r.answer}{se}")
    return "\n".join(lines)
