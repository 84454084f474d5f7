"""What would it take? (``dxsim required-investment``): for each selected target, the smallest investment multiple
of its pillar in its geo from which P(met) reaches the requested probability.

With common random numbers a larger multiple raises every draw's speed (m ** elasticity, elasticity > 0), so
every draw's path, and P(met) of a target of the form ">= x" or "> x", never decreases with the multiple (the
tests check it on the shipped data). The answer is found by bisection on that monotone response: all targets of
a geo move together, one variant per target per step, as the scenario axis of one ensemble run. The multiple
replaces the scenario's investment in that pillar and geo from the first projected year; everything else stays
as in the scenario. Targets of the form "<= x" are not applicable (more investment can only lower their chance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dxsim.analyses.experiments import (
    BatchRunner,
    Experiment,
    Output,
    build_experiment,
    scenario_outputs,
)
from dxsim.analyses.factors import Factor
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import ensemble_years
from dxsim.core.targets import probability_text
from dxsim.errors import InputError
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.scenario import Scenario

REQUIRED_COLUMNS = (
    "scenario", "geo", "indicator", "definition", "pillar", "deadline", "comparator", "target", "document",
    "probability_requested", "status", "multiple", "probability", "mc_se", "probability_at_baseline",
    "max_multiple", "baseline_spend_bn_vnd", "spend_bn_vnd_per_year", "answer")
STATUSES = ("found", "met_at_baseline", "not_reachable", "not_applicable")
CURVE_POINTS = 25


@dataclass(frozen=True)
class Bisection:
    """Per target: the smallest multiple found (NaN unless status is 'found'), P there and P at the lower end."""

    multiple: np.ndarray
    probability: np.ndarray
    at_low: np.ndarray
    at_high: np.ndarray
    status: np.ndarray        # 'found' | 'met_at_baseline' | 'not_reachable'


def bisect_smallest(p_of: Callable[[np.ndarray], np.ndarray], n: int, probability: float, low: float = 1.0,
                    high: float = 10.0, tolerance: float = 0.01) -> Bisection:
    """Smallest multiple m in (low, high] with p_of(m) >= ``probability`` for ``n`` monotone responses at once, to
    ``tolerance`` (the answer is the upper end of the last bracket: P there is known to reach the threshold).
    ``p_of`` maps multiples (n,) to probabilities (n,): one vectorised evaluation per step."""
    if not tolerance > 0:
        raise InputError("required_investment", "tolerance", f"must be above 0, got {tolerance:g}")
    lo, hi = np.full(n, float(low)), np.full(n, float(high))
    p_low, p_high = p_of(lo), p_of(hi)
    status = np.where(p_low >= probability, "met_at_baseline", np.where(p_high >= probability, "found",
                                                                          "not_reachable"))
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
    multiple, probability), geo by geo."""
    cfg = calibrator.config
    if geos:                                        # names contract: lang_son@pre2025 is lang_son
        geomap = load_geomap(cfg)
        geos = [region.name if (region := geomap.resolve(g)) else g for g in geos]
    pillar_of = {spec.name: spec.pillar for spec in cfg.indicators}
    rows, curves = [], []
    years = ensemble_years(calibrator, scenario.horizon)
    with (runner or BatchRunner()) as r:
        for geo in (g for g in scenario.geos if not geos or g in geos):
            chosen, outs = scenario_outputs(calibrator, targets, (geo,), years, medians=False)
            keep = select_targets(outs, pillar_of.__getitem__, pillars, None, target_names)
            if not keep:
                continue
            chosen = chosen.iloc[keep].reset_index(drop=True)
            outs = tuple(outs[j] for j in keep)
            geo_pillars = sorted({pillar_of[o.indicator] for o in outs}, key=lambda p: p)
            factors = tuple(Factor(f"invest_{p}", "investment", 1e-6, 1e6, pillar=p, geo=geo) for p in geo_pillars)
            exp = build_experiment(calibrator, scenario, targets, factors, draws, seed, geos=(geo,),
                                   outputs=(chosen, outs))
            column = np.array([geo_pillars.index(pillar_of[o.indicator]) for o in outs])
            # investment acts from the first projected year: a target due earlier cannot be moved by it
            upper = np.array([o.comparator in (">=", ">") and o.year > calibrator.jump_off_year_ for o in outs])
            T = len(outs)

            def p_of(m: np.ndarray, exp: Experiment = exp, column: np.ndarray = column, T: int = T) -> np.ndarray:
                X = np.full((len(m), len(exp.factors)), np.nan)
                X[np.arange(len(m)), column] = m
                return r.evaluate(exp, X)[np.arange(T), np.arange(T)]

            res = bisect_smallest(p_of, T, probability, 1.0, max_multiple, tolerance)
            grid = np.unique(np.concatenate([np.geomspace(0.25, max_multiple, CURVE_POINTS), [1.0]]))
            X = np.full((len(geo_pillars) * len(grid), len(factors)), np.nan)
            for k in range(len(geo_pillars)):
                X[k * len(grid):(k + 1) * len(grid), k] = grid
            Y = r.evaluate(exp, X)
            for t, o in enumerate(outs):
                k = column[t]
                curves.append(pd.DataFrame({"output": o.name, "geo": geo, "pillar": geo_pillars[k], "multiple": grid,
                                            "probability": Y[k * len(grid):(k + 1) * len(grid), t]}))
                rows.append(_row(cfg, scenario, o, chosen.iloc[t], geo_pillars[k], probability, res, t,
                                 bool(upper[t]), max_multiple, draws))
    table = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS) + ["output"])
    curve = pd.concat(curves, ignore_index=True) if curves else \
        pd.DataFrame(columns=["output", "geo", "pillar", "multiple", "probability"])
    return table, curve


def _row(cfg, scenario: Scenario, o: Output, target: pd.Series, pillar: str, probability: float,  # noqa: ANN001
         res: Bisection, t: int, applicable: bool, max_multiple: float, draws: int) -> dict:
    spend = cfg.baseline_spend_bn_vnd.get((o.geo, pillar), np.nan)
    status = str(res.status[t]) if applicable else "not_applicable"
    m = float(res.multiple[t]) if status == "found" else np.nan
    p = float(res.probability[t]) if status == "found" else np.nan
    base_p = float(res.at_low[t])
    answers = {
        "found": f"multiple {m:.2f}" + (f" (about {m * spend:,.0f} bn VND a year)" if np.isfinite(spend) else "")
                 + f": P = {probability_text(p, draws)}",
        "met_at_baseline": f"already met at baseline: P = {probability_text(base_p, draws)} at multiple 1",
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
            "probability_at_baseline": base_p, "max_multiple": max_multiple, "baseline_spend_bn_vnd": spend,
            "spend_bn_vnd_per_year": m * spend, "answer": answers[status], "output": o.name}


def summary_text(table: pd.DataFrame, probability: float, draws: int) -> str:
    lines = [f"smallest investment multiple of the target's pillar in its geo for P(met) >= {probability:g} "
             f"({draws} draws; the multiple replaces the scenario's from the first projected year)"]
    for r in table.itertuples():
        se = f" (MC se {r.mc_se:.3f})" if np.isfinite(r.mc_se) else ""
        lines.append(f"  {r.geo:<10} {r.indicator}/{r.definition} {r.deadline} {r.comparator}{r.target:g} "
                     f"[{r.pillar}]: {r.answer}{se}")
    return "\n".join(lines)
