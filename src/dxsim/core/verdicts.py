"""Verdicts: what happened to a target whose deadline year has readings, next to the model's probability.

A target is judged on the readings of its own series (same geo, geography, indicator and definition) dated in
its deadline year, compared with its comparator exactly (no ceiling tolerance: a reading is a published number,
not a continuous draw). Readings that the data supersede (an older statistical release of the same figure) or
that the calibration config excludes (with its reason) do not count.

Which reading decides (``DECIDING_RULE``): the deadline year's *year figure*, i.e. a reading stated for the
year (no ``period``) or dated December. A reading dated earlier in the year (a month, a half-year, "January to
October") is not the year's figure: it never decides, it is listed in ``outcome_note``, and the model's
probability for the year is a *nowcast* conditioned on it (the fit uses every reading up to the jump-off,
in-year ones included). Several year figures of one series are listed; they decide only if they agree on the
verdict (otherwise ``disputed``).

``status``:
- ``met`` / ``missed``: the year figure meets / misses the target;
- ``disputed``: year figures from different sources disagree on the verdict;
- ``no reading``: the deadline year is within the data (up to the newest reading's year) but no year figure of
  the series exists (yet); the probability is the model's (now)cast;
- ``not due``: the deadline is after the newest reading in the data: a forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxsim.core.targets import COMPARE

STATUSES = ("met", "missed", "disputed", "no reading", "not due")
VERDICT_COLUMNS = ("status", "outcome", "outcome_source", "outcome_note")
DECIDING_RULE = ("the deadline year's figure (a reading without a period, or dated December) decides; readings "
                 "dated earlier in the year are listed but do not decide; superseded releases and readings "
                 "excluded in the calibration config do not count")
SERIES = ["geo", "indicator", "definition"]
_NOT_COUNTED = ("superseded", "excluded in config")


def countable_readings(observations: pd.DataFrame) -> pd.DataFrame:
    """The readings a verdict may use: every loaded row except superseded releases and config exclusions."""
    status = observations["status"].astype(str)
    keep = ~status.str.startswith(_NOT_COUNTED)
    return observations[keep]


def data_year(observations: pd.DataFrame) -> int:
    """Year of the newest countable reading: deadlines after it are not due."""
    return int(countable_readings(observations)["year"].max())


def _month(period: str) -> int | None:
    return int(period[5:7]) if isinstance(period, str) and len(period) == 7 else None


def _when(r: pd.Series) -> str:
    return str(r["period"]) if _month(r["period"]) else f"{int(r['year'])}"


def _reading_text(r: pd.Series) -> str:
    return f"{r['value']:g} ({_when(r)})"


def _same_geography(targets: pd.DataFrame, readings: pd.DataFrame) -> bool:
    return "geography" in targets.columns and "geography" in readings.columns


def verdicts(targets: pd.DataFrame, observations: pd.DataFrame, as_of: int | None = None) -> pd.DataFrame:
    """One row per target, in ``targets`` order: ``status``, ``outcome`` (the deciding reading, in the
    target's unit; NaN without one), ``outcome_source`` (its source URL) and ``outcome_note`` (every reading of
    the deadline year and which decides). ``as_of``: the newest year of data (default: ``data_year``)."""
    readings = countable_readings(observations)
    newest = data_year(observations) if as_of is None else int(as_of)
    geography = _same_geography(targets, readings)
    key = SERIES + (["geography"] if geography else [])
    by_series = readings.groupby(key + ["year"], sort=False).indices    # row positions of each series and year
    records = readings[["year", "period", "value", "time", "source_url"]].to_dict("records")   # plain: fast
    rows = []
    for t in targets.itertuples(index=False):
        t = t._asdict()
        deadline = int(t["deadline"])
        label = "/".join(str(t[c]) for c in SERIES)
        if deadline > newest:
            rows.append(("not due", np.nan, "", f"deadline {deadline} is after the newest reading ({newest})"))
            continue
        at = by_series.get(tuple(t[c] for c in key) + (deadline,))
        if at is None:
            rows.append(("no reading", np.nan, "", f"no {deadline} reading of {label}"))
            continue
        mine = sorted((records[i] for i in at), key=lambda r: r["time"])          # stable, as sort_values
        final = [r for r in mine if _month(r["period"]) in (None, 12)]           # the year figures
        in_year = ", ".join(_reading_text(r) for r in mine if _month(r["period"]) not in (None, 12))
        if not final:
            rows.append(("no reading", np.nan, "", f"no {deadline} year figure of {label} yet; readings dated "
                         f"earlier in {deadline}: {in_year} (the probability is a nowcast conditioned on them)"))
            continue
        values = [r["value"] for r in final]
        met = COMPARE[t["comparator"]](np.array(values, dtype=float), float(t["target"]))
        decides = final[-1]
        others = f"; earlier in {deadline}: {in_year}" if in_year else ""
        if met.all() or not met.any():
            status = "met" if met.all() else "missed"
            agree = f" ({len(final)} year figures agree: " + ", ".join(map(str, values)) + ")" \
                if len(final) > 1 else ""
            note = f"{deadline} year figure {_reading_text(decides)}{agree} against target {t['comparator']}" \
                   f"{t['target']:g}: {status}{others}"
            rows.append((status, float(decides["value"]), str(decides["source_url"]), note))
        else:
            figures = ", ".join(f"{v:g} ({'met' if m else 'missed'})" for v, m in zip(values, met, strict=True))
            rows.append(("disputed", np.nan, " ".join(str(r["source_url"]) for r in final),
                         f"{deadline} year figures disagree: {figures}{others}"))
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS), index=targets.index)


def with_verdicts(table: pd.DataFrame, targets: pd.DataFrame, observations: pd.DataFrame) -> pd.DataFrame:
    """``table`` (one row per scenario x target, targets in ``targets`` order per scenario, as
    ``target_probabilities`` returns) with the verdict columns appended; every existing column is kept."""
    verdict = verdicts(targets, observations).reset_index(drop=True)
    reps = len(table) // max(len(targets), 1)
    if reps * len(targets) != len(table):
        raise ValueError(f"{len(table)} probability rows for {len(targets)} targets")
    extra = pd.concat([verdict] * reps, ignore_index=True)
    extra.index = table.index
    return pd.concat([table, extra], axis=1)


def verdict_text(table: pd.DataFrame) -> str:
    """Console lines: every target with a verdict (or a nowcast), its reading and the model's probability."""
    judged = table[table["status"].isin(("met", "missed", "disputed"))]
    nowcast = table[(table["status"] == "no reading") & table["outcome_note"].str.contains("nowcast", regex=False)]
    lines = []
    shown = ["geo", "indicator", "definition", "deadline", "comparator", "target", "status", "outcome",
             "probability_text", "evaluable"]                   # only these: itertuples on a wide table is slow
    if not judged.empty:
        lines.append(f"Verdicts: {len(judged)} targets whose deadline year has its figure "
                     "(status; reading; the model's P(met) as fitted to all readings)")
        for r in judged.sort_values(["geo", "deadline", "indicator"], kind="stable")[shown].itertuples():
            reading = f"{r.outcome:g}" if np.isfinite(r.outcome) else "-"
            p = r.probability_text if r.evaluable else "n/e"
            lines.append(f"  {r.geo:<10} {r.indicator:<27} {r.definition:<17} {r.deadline} {r.comparator}"
                         f"{r.target:g}  {r.status.upper():<8} reading {reading:>6}  P = {p:>13}")
    if not nowcast.empty:
        lines.append(f"Nowcasts: {len(nowcast)} targets due in a year with readings but no year figure "
                     "(P conditioned on that year's readings so far; see outcome_note)")
        for r in nowcast[shown].itertuples():
            p = r.probability_text if r.evaluable else "n/e"
            lines.append(f"  {r.geo:<10} {r.indicator:<27} {r.definition:<17} {r.deadline} {r.comparator}"
                         f"{r.target:g}  P = {p:>13}")
    return "\n".join(lines)
