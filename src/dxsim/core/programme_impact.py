"""What each programme does for the targets: its completion-date distribution and, for every target on its geo
and indicator, the change in the probability of meeting it that the programme is responsible for (the run with
all programmes minus the same run without this one: same seed, same draws, so the difference is not Monte Carlo
noise between runs; its standard error is that of the paired per-draw difference)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import run_ensemble
from dxsim.core.paths import Ensemble
from dxsim.core.rollout import Rollouts
from dxsim.core.targets import target_met
from dxsim.inputs.scenario import Scenario

PROGRAMME_COLUMNS = (
    "scenario", "programme", "geo", "pillar", "indicator", "effect", "effect_value", "budget_bn_vnd",
    "planned_start", "planned_end", "completion_q10", "completion_q50", "completion_q90", "p_completed_by_horizon",
    "definition", "deadline", "target", "comparator", "document", "probability_with", "probability_without",
    "probability_delta", "delta_mc_se",
)


def completion_quantiles(completion: np.ndarray, qs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> list[float]:
    """Quantiles of completion times (decimal years; NaN where that share of rollouts is not complete by the
    horizon)."""
    values = np.quantile(completion, qs, method="inverted_cdf")
    return [float(v) if np.isfinite(v) else float("nan") for v in values]


def programme_table(calibrator: Calibrator, scenario: Scenario, targets: pd.DataFrame, ensemble: Ensemble,
                    rollouts: Rollouts, seed: int) -> pd.DataFrame:
    """One row per (programme, affected target due in a projected year); a programme with no such target has
    one row with the target columns empty. Completion quantiles are decimal years."""
    cfg = calibrator.config
    draws = ensemble.draws
    info, met_with = target_met(ensemble, cfg, targets)
    rows = []
    for k, p in enumerate(rollouts.programmes):
        q10, q50, q90 = completion_quantiles(rollouts.completion[k])
        head = {"scenario": scenario.name, "programme": p.name, "geo": p.geo, "pillar": p.pillar,
                "indicator": p.indicator, "effect": p.effect.kind, "effect_value": p.effect.value,
                "budget_bn_vnd": p.budget_bn_vnd, "planned_start": p.start, "planned_end": p.planned_end,
                "completion_q10": q10, "completion_q50": q50, "completion_q90": q90,
                "p_completed_by_horizon": float(np.isfinite(rollouts.completion[k]).mean())}
        mine = np.flatnonzero((info["geo"] == p.geo).to_numpy() & (info["indicator"] == p.indicator).to_numpy()
                              & info["evaluable"].to_numpy()
                              & (info["deadline"] >= ensemble.first_projected_year).to_numpy())
        if not len(mine):
            rows.append(head)
            continue
        without = rollouts.without(p.name)
        others = tuple(q for q in scenario.programmes if q.name != p.name)
        ens_without = run_ensemble(calibrator, [dataclasses.replace(scenario, programmes=others)], draws, seed,
                                   rollouts=[without if others else None], geos=(p.geo,))
        _, met_without = target_met(ens_without, cfg, targets.iloc[mine])
        for j, t in enumerate(mine):
            a, b = met_with[t, 0], met_without[j, 0]
            diff = a.astype(float) - b.astype(float)
            row = info.iloc[t]
            rows.append(head | {
                "definition": row["definition"], "deadline": int(row["deadline"]), "target": row["target"],
                "comparator": row["comparator"], "document": row["document"],
                "probability_with": float(a.mean()), "probability_without": float(b.mean()),
                "probability_delta": float(diff.mean()), "delta_mc_se": float(diff.std() / np.sqrt(draws))})
    return pd.DataFrame(rows, columns=list(PROGRAMME_COLUMNS))


def year_month(t: float) -> str:
    """Decimal year -> 'YYYY-MM' (the month in which it falls); '' for NaN."""
    if not np.isfinite(t):
        return ""
    year = int(np.floor(t))
    return f"{year}-{min(12, int((t - year) * 12) + 1):02d}"


def programme_summary(table: pd.DataFrame, rollouts: int | None = None) -> str:
    """A few lines per programme: completion median [80% interval], P(done by the horizon), target deltas."""
    if table.empty:
        return ""
    lines = [f"Programmes{f' ({rollouts} rollouts)' if rollouts else ''}: completion median [80% interval], "
             "and the change in P(target met) each is responsible for"]
    for name, rows in table.groupby("programme", sort=False):
        r = rows.iloc[0]
        done = (f"{year_month(r.completion_q50) or 'after horizon'} "
                f"[{year_month(r.completion_q10) or 'after'} - {year_month(r.completion_q90) or 'after horizon'}]")
        lines.append(f"  {name} ({r.geo}, {r.indicator}, planned {year_month(r.planned_start)} - "
                     f"{year_month(r.planned_end)}): done {done}, P(done by horizon) = {r.p_completed_by_horizon:.2f}")
        shown = rows.dropna(subset=["deadline"]).drop_duplicates(["definition", "deadline", "comparator", "target"])
        for t in shown.itertuples():
            lines.append(f"      {t.definition:<17} {int(t.deadline)} {t.comparator}{t.target:g}: "
                         f"P {t.probability_without:.3f} -> {t.probability_with:.3f} "
                         f"({t.probability_delta:+.3f}, se {t.delta_mc_se:.3f})")
    return "\n".join(lines)
