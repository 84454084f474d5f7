"""The track record: what dxsim (and the simple rules) said at past origins, and what happened.

For each origin year, dxsim is calibrated on the readings dated up to the end of that year and simulates the
baseline scenario (``origins.fit_origin``, the machinery of ``dxsim forecast --as-of`` and ``dxsim backtest``).
Then, on the data as they are now:

- every target with an outcome (``verdicts``: ``met`` or ``missed``) whose deadline is after the origin gets
  the probability each method gave it at the origin and its Brier score ``(P - outcome)^2`` (outcome 1 = met);
- every later reading of a modelled series gets each method's median, 80% interval and whether the reading fell
  inside it (``origins.score_origin``, whose scores these are).

dxsim's probability is the share of ensemble draws meeting the target at the deadline year (``targets.meets``,
the rule of ``target_probabilities.csv``); a baseline's is the share of its quasi-sample (equally likely
quantiles) meeting it, at the same date (the indicator's reading month of the deadline year). Baselines
forecast only series with readings at the origin (see ``baselines``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim import progress
from dxsim.analyses import backtest
from dxsim.analyses.forecast_asof import DEFAULT_DRAWS, DEFAULT_SEED, draws_at
from dxsim.analyses.origins import METHODS, OriginFit, baseline_forecasts, fit_origin, later_readings, score_origin
from dxsim.core.targets import evaluation_targets, meets, target_met
from dxsim.core.verdicts import verdicts
from dxsim.errors import ArgumentError, InputError
from dxsim.outputs.results import atomic_output_dir, write_csv, write_json
from dxsim.outputs.texttable import fixed_width
from dxsim.pipeline import Inputs

DEFAULT_ORIGINS = (2023, 2024)
DEFAULT_OUT = Path("results/scorecard")
TARGET_KEY = ["geo", "indicator", "definition", "deadline", "target", "comparator"]
SCORECARD_COLUMNS = ("kind", "origin", "method", "geo", "indicator", "definition", "year", "period", "horizon",
                     "target", "comparator", "document", "probability", "outcome", "brier", "value", "median",
                     "lo80", "hi80", "held", "source_url", "row")
SUMMARY_COLUMNS = ("origin", "method", "n_targets", "brier", "dxsim_brier_same_targets", "n_readings",
                   "held_80", "dxsim_held_80_same_readings")


def brier(probability: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Brier score per forecast: (P - outcome)^2, outcome 1 if the target was met, 0 if not. 0 is perfect,
    0.25 is what P = 0.5 always earns, 1 is certain and wrong."""
    return (np.asarray(probability, float) - np.asarray(outcome, float)) ** 2


def judged_targets(inputs: Inputs) -> pd.DataFrame:
    """Targets whose outcome is known now (status met or missed), with their verdict columns."""
    judged = pd.concat([inputs.targets, verdicts(inputs.targets, inputs.observations)], axis=1)
    judged = judged[judged["status"].isin(["met", "missed"])].reset_index(drop=True)
    return evaluation_targets(inputs.config, judged)     # a target of a mapped definition: one row per meaning


def _row_stats(samples: np.ndarray, y: float | None) -> dict:
    lo, mid, hi = np.quantile(samples, [0.1, 0.5, 0.9])
    held = bool(lo <= y <= hi) if y is not None else None
    return {"median": float(mid), "lo80": float(lo), "hi80": float(hi), "held": held}


def target_rows(fit: OriginFit, judged: pd.DataFrame) -> pd.DataFrame:
    """Per method, P(met) at the origin of every judged target due after it that dxsim models, its outcome,
    Brier score, and the forecast's median and 80% interval at the deadline."""
    cfg, origin = fit.config, fit.origin
    due = judged[judged["deadline"] > origin].reset_index(drop=True)
    if due.empty:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    info, met = target_met(fit.ensemble, cfg, due)
    rows = []
    for t, r in due.iterrows():
        if not info["evaluable"].iat[t]:
            continue
        spec, definition = cfg.indicator(r["indicator"]), r["evaluated_as"]
        when = np.array([r["deadline"] + spec.reading_month / 12.0])
        ceiling = spec.definition(definition).ceiling
        forecasts = {"dxsim": draws_at(fit.ensemble, cfg, r["geo"], r["indicator"], definition, when),
                     **baseline_forecasts(fit, r["geo"], r["indicator"], definition, when)}
        outcome = float(r["status"] == "met")
        for method, samples in forecasts.items():
            p = float(met[t, 0].mean()) if method == "dxsim" else \
                float(meets(samples[0], float(r["target"]), r["comparator"], ceiling).mean())
            rows.append({"kind": "target", "origin": origin, "method": method, "geo": r["geo"],
                         "indicator": r["indicator"], "definition": definition, "year": int(r["deadline"]),
                         "period": "", "horizon": int(r["deadline"]) - origin, "target": float(r["target"]),
                         "comparator": r["comparator"], "document": r["document"], "probability": p,
                         "outcome": outcome, "brier": float(brier(p, outcome)), "value": float(r["outcome"]),
                         **_row_stats(samples[0], float(r["outcome"])), "source_url": r["outcome_source"],
                         "row": np.nan})
    return pd.DataFrame(rows, columns=list(SCORECARD_COLUMNS))


def reading_rows(inputs: Inputs, fit: OriginFit, draws: int, seed: int) -> pd.DataFrame:
    """Per method, the median and 80% interval given at the origin for every later reading, and whether the
    reading fell inside (``origins.score_origin``'s scores)."""
    later = later_readings(inputs, fit.origin)
    if later.empty:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    scores = score_origin(inputs, fit.origin, draws, seed, fit=fit)
    sources = inputs.observations["source_url"].to_numpy()
    out = scores.assign(kind="reading", target=np.nan, comparator="", document="", probability=np.nan,
                        outcome=np.nan, brier=np.nan, held=scores["covered_80"],
                        source_url=sources[scores["row"].to_numpy() - 1])
    return out[list(SCORECARD_COLUMNS)]


@dataclass(frozen=True)
class Scorecard:
    origins: tuple[int, ...]
    draws: int
    seed: int
    table: pd.DataFrame        # SCORECARD_COLUMNS
    summary: pd.DataFrame      # SUMMARY_COLUMNS


def run_scorecard(inputs: Inputs, origins: tuple[int, ...] = DEFAULT_ORIGINS, draws: int = DEFAULT_DRAWS,
                  seed: int = DEFAULT_SEED) -> Scorecard:
    """Fit at each origin and score its targets (outcome known now) and later readings."""
    origins = tuple(sorted(set(int(o) for o in origins)))
    judged = judged_targets(inputs)
    newest = int(inputs.observations.loc[inputs.observations["status"] == "used", "year"].max())
    parts = []
    for origin in progress.track(origins, "scorecard origins", unit="origin"):
        later = later_readings(inputs, origin)
        due = judged[judged["deadline"] > origin]
        if later.empty and due.empty:
            raise ArgumentError("origins", f"origin {origin} leaves no later reading and no target "
                             f"with a known outcome to score (the readings used run to {newest})")
        horizon = int(max(later["year"].max() if len(later) else origin, due["deadline"].max()
                          if len(due) else origin)) + 1
        try:
            fit = fit_origin(inputs, origin, horizon, draws, seed, tuple(later["geo"]) + tuple(due["geo"]))
        except InputError as exc:
            if exc.where != "as_of":
                raise
            raise ArgumentError("origins", exc.problem) from None      # the argument the caller gave
        parts += [target_rows(fit, judged), reading_rows(inputs, fit, draws, seed)]
    table = pd.concat([p for p in parts if len(p)], ignore_index=True)
    order = {m: i for i, m in enumerate(METHODS)}
    table = table.sort_values(["origin", "kind", "geo", "indicator", "definition", "year", "row", "method"],
                              key=lambda c: c.map(order) if c.name == "method" else c, kind="stable",
                              ascending=[True, False, True, True, True, True, True, True])
    table = table.reset_index(drop=True)
    return Scorecard(origins, draws, seed, table, summarise(table))


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per origin and method: mean Brier score over distinct targets (a target stated in two documents counts
    once) and share of later readings inside the 80% interval, each next to dxsim's on the same items."""
    targets = table[table["kind"] == "target"].drop_duplicates(["origin", "method"] + TARGET_KEY[:3] + ["year",
                                                                "target", "comparator"])
    readings = table[table["kind"] == "reading"]
    rows = []
    for origin in sorted(table["origin"].unique()):
        tg, rd = targets[targets["origin"] == origin], readings[readings["origin"] == origin]
        dx_t = tg[tg["method"] == "dxsim"].set_index(["geo", "indicator", "definition", "year", "target",
                                                      "comparator"])["brier"]
        dx_r = rd[rd["method"] == "dxsim"].set_index("row")["held"]
        for method in METHODS:
            mt, mr = tg[tg["method"] == method], rd[rd["method"] == method]
            if mt.empty and mr.empty:
                continue
            keys = list(zip(mt["geo"], mt["indicator"], mt["definition"], mt["year"], mt["target"],
                            mt["comparator"], strict=True))
            rows.append({"origin": int(origin), "method": method, "n_targets": len(mt),
                         "brier": float(mt["brier"].mean()) if len(mt) else np.nan,
                         "dxsim_brier_same_targets": float(dx_t.loc[keys].mean()) if keys else np.nan,
                         "n_readings": len(mr),
                         "held_80": float(mr["held"].astype(float).mean()) if len(mr) else np.nan,
                         "dxsim_held_80_same_readings": float(dx_r.loc[mr["row"]].astype(float).mean())
                         if len(mr) else np.nan})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def summary_text(summary: pd.DataFrame) -> str:
    columns = [("origin", ">6"), ("method", "<15"), ("targets", ">7"), ("Brier", ">6"), ("dxsim Brier same", ">17"),
               ("readings", ">8"), ("in 80%", ">6"), ("dxsim in 80% same", ">18")]

    def num(v: float) -> str:
        return "-" if pd.isna(v) else f"{v:.3f}"

    return fixed_width(columns, ((str(r.origin), r.method, str(r.n_targets), num(r.brier),
                                  num(r.dxsim_brier_same_targets), str(r.n_readings), num(r.held_80),
                                  num(r.dxsim_held_80_same_readings)) for r in summary.itertuples()))


# ---- files -----------------------------------------------------------------------------------------------
def write_scorecard(card: Scorecard, inputs: Inputs, out: str | Path) -> Path:
    """scorecard.csv, scorecard.png and manifest.json, written atomically to ``out``."""
    from dxsim.outputs.scorecardchart import plot_scorecard  # matplotlib: only when writing

    out = Path(out)
    manifest = backtest.evaluation_manifest("scorecard", card.origins, card.table["method"], inputs, card.seed,
                                            card.draws)
    with atomic_output_dir(out) as tmp:
        write_csv(card.table, tmp / "scorecard.csv")
        plot_scorecard(card.table, tmp / "scorecard.png")
        write_json(manifest, tmp / "manifest.json")
    return out
