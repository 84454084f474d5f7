"""Target probabilities from the ensemble: P(met at the deadline) = share of draws meeting the target.

Draws are compared with the target exactly, with these rules at a definition's ceiling (the share approaches
its ceiling but never passes it):

- ``>=`` a target *at* the ceiling ("100% of eligible services online") counts as met within
  ``CEILING_TOLERANCE`` points of it, the rounding with which such achievements are reported;
- ``>`` a target at or above the ceiling ("more than 95%" with a 95% ceiling) can never be met: not evaluable,
  with that reason (no probability is made up);
- ``>=`` a target above the ceiling: not evaluable (the calibration assumes it cannot be reached);
- ``<=`` and ``<``: exact (a share below its ceiling meets "< ceiling" in every draw).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxsim.core.paths import Ensemble
from dxsim.inputs.config import CalibrationConfig

COMPARE = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
}
CEILING_TOLERANCE = 0.5     # percentage points
TARGET_PROBABILITY_COLUMNS = ("scenario", "geo", "geography", "indicator", "definition", "deadline", "target",
                              "comparator", "probability", "mc_se", "document", "evaluable", "reason",
                              "probability_text", "evaluated_as", "assumption")


def evaluation_targets(cfg: CalibrationConfig, targets: pd.DataFrame) -> pd.DataFrame:
    """The targets as evaluated: a target whose definition the config maps (``target_mappings``: e.g. a digital
    economy share without its method) becomes one row per modelled definition it may mean, in order, each with
    ``evaluated_as`` (the definition its probability is about) and ``assumption`` (the config's stated
    assumption); every other row is evaluated as its own definition (``assumption`` empty)."""
    rows = []
    for row in targets.to_dict("records"):
        mapped = cfg.target_mappings.get((row["indicator"], row["definition"]))
        if mapped is None:
            rows.append(row | {"evaluated_as": row["definition"], "assumption": ""})
            continue
        definitions, assumption = mapped
        rows += [row | {"evaluated_as": d, "assumption": f"evaluated as {d}: {assumption}"} for d in definitions]
    return pd.DataFrame(rows, columns=[*targets.columns, "evaluated_as", "assumption"])


def _evaluated_definition(row: pd.Series | dict) -> str:
    """The definition a target row is evaluated on (its own unless ``evaluation_targets`` mapped it)."""
    return row.get("evaluated_as") or row["definition"]


def unevaluable_reason(cfg: CalibrationConfig, row: pd.Series | dict, geos: tuple[str, ...], years: tuple[int, ...]
                       ) -> str:
    """Why the model cannot evaluate a target, or '' when it can."""
    if row["indicator"] not in cfg.indicator_names:
        return f"indicator {row['indicator']} is not modelled"
    spec = cfg.indicator(row["indicator"])
    definition = _evaluated_definition(row)
    if (row["indicator"], definition) in cfg.target_mappings:
        onto = " and ".join(cfg.target_mappings[(row["indicator"], definition)][0])
        return f"definition {definition} maps onto {onto} in the calibration config: evaluated in one row each"
    if definition in spec.excluded_definitions:
        return f"definition {definition} is not modelled: {spec.excluded_definitions[definition]}"
    if definition not in spec.definition_names:
        return f"definition {definition or '(none)'} is not modelled"
    if row["geo"] not in geos:
        return f"geo {row['geo']} is not in the scenario"
    if row["deadline"] not in years:
        return f"deadline {row['deadline']} is outside the simulated years {years[0]}-{years[-1]}"
    ceiling = spec.definition(definition).ceiling
    if row["comparator"] in (">=", ">") and float(row["target"]) > ceiling:
        return (f"target {float(row['target']):g}% is above the {ceiling:g}% ceiling assumed for "
                f"{row['indicator']}/{definition} in the calibration config")
    if row["comparator"] == ">" and float(row["target"]) >= ceiling:
        return (f"'more than {float(row['target']):g}%' can never be met: {row['indicator']}/{definition} "
                f"never passes its {ceiling:g}% ceiling assumed in the calibration config")
    return ""


def probability_text(p: float, draws: int) -> str:
    """'0.42', or '< 1/2000' and '> 1 - 1/2000' where no draw (or every draw) decides otherwise."""
    if p <= 0.0:
        return f"< 1/{draws}"
    if p >= 1.0:
        return f"> 1 - 1/{draws}"
    return f"{p:.3f}"


def meets(values: np.ndarray, target: float, comparator: str, ceiling: float) -> np.ndarray:
    """Which simulated values (percent) meet a target: exactly, except that ``>=`` a target at (or above) the
    definition's ceiling counts as met within ``CEILING_TOLERANCE`` points of the ceiling; ``>`` the ceiling is
    never met (such targets are not evaluable, see ``unevaluable_reason``)."""
    if comparator == ">=" and target >= ceiling:
        return values >= ceiling - CEILING_TOLERANCE
    if comparator == ">" and target >= ceiling:
        return np.zeros(np.shape(values), dtype=bool)
    return COMPARE[comparator](values, target)


def target_met(ensemble: Ensemble, cfg: CalibrationConfig, targets: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Per target row: evaluability, and a boolean array (target, scenario, draw) of draws meeting it
    (all False for targets that cannot be evaluated). The values of all targets due in one year are computed
    together (the same float64 values as one target at a time)."""
    S, D = len(ensemble.scenarios), ensemble.draws
    met = np.zeros((len(targets), S, D), dtype=bool)
    rows = [row._asdict() for row in targets.itertuples(index=False)]      # dicts: a Series per row cost 1 ms
    reasons = [unevaluable_reason(cfg, row, ensemble.geos, ensemble.years) for row in rows]
    keys = {t: (int(row["deadline"]), ensemble.geos.index(row["geo"]),
                ensemble.series.index((row["indicator"], _evaluated_definition(row))))
            for t, row in enumerate(rows) if not reasons[t]}
    for year in sorted({y for y, _, _ in keys.values()}):
        due = [t for t, key in keys.items() if key[0] == year]
        geos = sorted({keys[t][1] for t in due})
        series = sorted({keys[t][2] for t in due})
        values = ensemble.values(year, series=series, geos=geos)                   # (scenario, geo, series, draw)
        for t in due:
            row = rows[t]
            definition = _evaluated_definition(row)
            ceiling = cfg.indicator(row["indicator"]).definition(definition).ceiling
            cell = values[:, geos.index(keys[t][1]), series.index(keys[t][2])]
            met[t] = meets(cell, float(row["target"]), row["comparator"], ceiling)
    info = targets.copy()
    if "geography" not in info.columns:
        known = dict(zip(ensemble.geos, ensemble.geographies, strict=True))
        info["geography"] = [known.get(g, "") for g in info["geo"]]
    info["reason"] = reasons
    info["evaluable"] = info["reason"] == ""
    return info, met


Evaluated = tuple[pd.DataFrame, np.ndarray]   # what target_met returns


def target_probabilities(ensemble: Ensemble, cfg: CalibrationConfig, targets: pd.DataFrame,
                         evaluated: Evaluated | None = None) -> pd.DataFrame:
    """One row per (scenario, target): probability and Monte Carlo standard error sqrt(p(1-p)/draws);
    targets the model cannot evaluate are listed with the reason and no probability. Pass ``evaluated``
    (``target_met``'s result) to reuse the draws' checks."""
    info, met = evaluated or target_met(ensemble, cfg, targets)
    p = met.mean(axis=2)                                    # (target, scenario)
    se = np.sqrt(p * (1 - p) / ensemble.draws)
    rows = []
    for s, scen in enumerate(ensemble.scenarios):
        block = info[["geo", "geography", "indicator", "definition", "deadline", "target", "comparator",
                      "document", "evaluable", "reason"]].copy()
        block["evaluated_as"] = info.get("evaluated_as", info["definition"])
        block["assumption"] = info.get("assumption", "")
        block.insert(0, "scenario", scen)
        block["probability"] = np.where(info["evaluable"], p[:, s], np.nan)
        block["mc_se"] = np.where(info["evaluable"], se[:, s], np.nan)
        block["probability_text"] = [probability_text(v, ensemble.draws) if ok else ""
                                     for v, ok in zip(p[:, s], info["evaluable"], strict=True)]
        rows.append(block)
    out = pd.concat(rows, ignore_index=True)
    return out[list(TARGET_PROBABILITY_COLUMNS)]


def all_targets_probabilities(ensemble: Ensemble, cfg: CalibrationConfig, targets: pd.DataFrame,
                              evaluated: Evaluated | None = None) -> pd.DataFrame:
    """P(all of a geo's evaluable targets are met) per scenario and geo, from the joint draws, for two scopes:
    every target (``all``, past deadlines included) and those due in projected years (``projected``).
    Contradictory versions of a target (e.g. 10% and 20%) are all included, so the strictest one binds."""
    info, met = evaluated or target_met(ensemble, cfg, targets)
    rows = []
    scopes = {"all": np.ones(len(info), bool),
              "projected": (info["deadline"] >= ensemble.first_projected_year).to_numpy()}
    target_geo, evaluable = info["geo"].to_numpy(), info["evaluable"].to_numpy()
    for s, scen in enumerate(ensemble.scenarios):
        for geo, geography in zip(ensemble.geos, ensemble.geographies, strict=True):
            for scope, in_scope in scopes.items():
                mine = (target_geo == geo) & evaluable & in_scope
                if not mine.any():
                    continue
                p = float(met[mine, s].all(axis=0).mean())
                rows.append({"scenario": scen, "geo": geo, "geography": geography, "scope": scope,
                             "n_targets": int(mine.sum()),
                             "probability": p, "mc_se": float(np.sqrt(p * (1 - p) / ensemble.draws)),
                             "probability_text": probability_text(p, ensemble.draws)})
    return pd.DataFrame(rows, columns=["scenario", "geo", "geography", "scope", "n_targets", "probability", "mc_se",
                                       "probability_text"])
