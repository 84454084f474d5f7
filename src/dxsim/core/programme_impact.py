"""What each programme does for the targets: its completion-date distribution and, for every target on its geo
and indicator, the change in the probability of meeting it that the programme is responsible for (the run with
all programmes minus the same run without this one, evaluated on the run's own samples: same parameter draws,
noise and other programmes' rollouts, so the difference is not Monte Carlo noise between runs; its standard error
is that of the paired per-draw difference)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import Samples, ensemble_years, evaluate
from dxsim.core.paths import Ensemble
from dxsim.core.targets import target_met
from dxsim.inputs.scenario import Scenario

PROGRAMME_COLUMNS = (
    "scenario", "programme", "geo", "pillar", "indicator", "effect", "effect_value", "budget_bn_vnd",
    "planned_start", "planned_end", "completion_q10", "completion_q50", "completion_q90", "p_completed_by_horizon",
    "definition", "deadline", "target", "comparator", "document", "probability_with", "probability_without",
    "probability_delta", "delta_mc_se",
)
BATCH_BYTES = 256 * 2**20   # working memory of one ensemble of runs without a programme


def completion_quantiles(completion: np.ndarray, qs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> list[float]:
    """Quantiles of completion times (decimal years; NaN where that share of rollouts is not complete by the
    horizon)."""
    values = np.quantile(completion, qs, method="inverted_cdf")
    return [float(v) if np.isfinite(v) else float("nan") for v in values]


def programme_table(calibrator: Calibrator, scenario: Scenario, targets: pd.DataFrame, ensemble: Ensemble,
                    samples: Samples) -> pd.DataFrame:
    """One row per (programme, affected target due in a projected year); a programme with no such target has
    one row with the target columns NaN (written as 'none'). Completion quantiles are decimal years.
    ``samples``: the run's (``samples.rollouts`` are the scenario's rollouts); the runs without each programme
    reuse them."""
    cfg = calibrator.config
    rollouts = samples.rollouts
    info, met_with = target_met(ensemble, cfg, targets)
    affected = {p.name: np.flatnonzero((info["geo"] == p.geo).to_numpy() & (info["indicator"] == p.indicator).to_numpy()
                                       & info["evaluable"].to_numpy()
                                       & (info["deadline"] >= ensemble.first_projected_year).to_numpy())
                for p in rollouts.programmes}
    met_without = _without_each(calibrator, scenario, targets, samples, affected)
    rows = []
    for k, p in enumerate(rollouts.programmes):
        q10, q50, q90 = completion_quantiles(rollouts.completion[k])
        head = {"scenario": scenario.name, "programme": p.name, "geo": p.geo, "pillar": p.pillar,
                "indicator": p.indicator, "effect": p.effect.kind, "effect_value": p.effect.value,
                "budget_bn_vnd": p.budget_bn_vnd, "planned_start": p.start, "planned_end": p.planned_end,
                "completion_q10": q10, "completion_q50": q50, "completion_q90": q90,
                "p_completed_by_horizon": float(np.isfinite(rollouts.completion[k]).mean())}
        mine = affected[p.name]
        if not len(mine):
            rows.append(head)
            continue
        for t in mine:
            a, b = met_with[t, 0], met_without[p.name][t]
            diff = a.astype(float) - b.astype(float)
            row = info.iloc[t]
            rows.append(head | {
                "definition": row["definition"], "deadline": int(row["deadline"]), "target": row["target"],
                "comparator": row["comparator"], "document": row["document"],
                "probability_with": float(a.mean()), "probability_without": float(b.mean()),
                "probability_delta": float(diff.mean()), "delta_mc_se": float(diff.std() / np.sqrt(samples.draws))})
    return pd.DataFrame(rows, columns=list(PROGRAMME_COLUMNS))


def _without_each(calibrator: Calibrator, scenario: Scenario, targets: pd.DataFrame, samples: Samples,
                  affected: dict[str, np.ndarray]) -> dict[str, dict[int, np.ndarray]]:
    """For each programme with affected targets: target row -> met per draw in the run without it. Same samples
    (parameter draws, noise, the other programmes' rollouts), different lever: the runs without each programme
    are the scenario axis of one ensemble on the programmes' geos (in batches of at most BATCH_BYTES)."""
    cfg = calibrator.config
    rollouts = samples.rollouts
    parts = {r.name: len(r.parts) for r in scenario.resolved_regions(cfg)}
    per_geo: dict[str, list] = {}
    for p in rollouts.programmes:
        if len(affected[p.name]):
            per_geo.setdefault(p.geo, []).append(p)
    years = len(ensemble_years(calibrator, scenario.settings.horizon))
    out: dict[str, dict[int, np.ndarray]] = {}
    for geos in _batches(per_geo, parts, 8 * samples.draws * len(cfg.indicators) * (years + 4)):
        mine = [p for geo in geos for p in per_geo[geo]]
        variants, variant_rollouts = [], []
        for p in mine:
            others = tuple(q for q in scenario.programmes if q.name != p.name)
            variants.append(dataclasses.replace(scenario, name=f"{scenario.name} without {p.name}", programmes=others))
            variant_rollouts.append(rollouts.without(p.name) if others else None)
        rows = np.unique(np.concatenate([affected[p.name] for p in mine]))
        ens = evaluate(calibrator, variants, samples, rollouts=variant_rollouts, geos=geos)
        _, met = target_met(ens, cfg, targets.iloc[rows])                    # (target, variant, draw)
        for s, p in enumerate(mine):
            out[p.name] = {int(t): met[j, s] for j, t in enumerate(rows)}
    return out


def _batches(per_geo: dict[str, list], parts: dict[str, int], bytes_per_cell: int) -> list[tuple[str, ...]]:
    """Geos grouped so that each group's ensemble (its programmes as scenarios x its model geos, each cell
    ``bytes_per_cell``) stays within BATCH_BYTES; a geo alone when it does not fit with others."""
    batches: list[list[str]] = []
    for geo in per_geo:
        if batches:
            grown = batches[-1] + [geo]
            cells = sum(len(per_geo[g]) for g in grown) * sum(parts.get(g, 1) for g in grown)
            if cells * bytes_per_cell <= BATCH_BYTES:
                batches[-1] = grown
                continue
        batches.append([geo])
    return [tuple(b) for b in batches]


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
