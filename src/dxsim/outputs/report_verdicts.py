"""The report's section of targets judged on their readings (``core/verdicts.py`` decides the status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dxsim.core.verdicts import STATUSES
from dxsim.outputs import style
from dxsim.outputs.chartkit import DOC_CHARS, p_text, short_document
from dxsim.outputs.document_names import document_name
from dxsim.outputs.report_html import esc, link, table_html
from dxsim.outputs.report_words import note_text, status_name, target_text, value_text, word

if TYPE_CHECKING:
    from dxsim.outputs.report_sections import ReportContext


def verdict_section(ctx: ReportContext, k: int) -> str:
    """Targets with a status other than ``not due``: verdicts next to P(met), then nowcasts and targets without a
    reading, each with the rule that decided it."""
    lang, run = ctx.lang, ctx.runs[k]
    tp = run.targets
    if "status" not in tp.columns:
        return f'<p class="note">{esc(word("no_status", lang))}</p>'
    shown = tp[tp["status"].fillna("").isin(STATUSES[:4])].copy()
    shown["_order"] = shown["status"].map({s: i for i, s in enumerate(STATUSES)})
    rows = []
    for r in shown.sort_values(["_order", "geo", "deadline", "indicator"], kind="stable").itertuples(index=False):
        p = word("not_evaluable", lang) if not r.evaluable or pd.isna(r.probability) else p_text(r.probability, lang)
        name = style.indicator_name(r.indicator, lang, run.labels.get(r.indicator), r.geo)
        name += f" ({style.definition_name(r.definition, lang)})" if isinstance(r.definition, str) and r.definition \
            else ""
        rows.append([esc(style.geo_name(r.geo, lang)), esc(name), esc(r.deadline),
                     esc(target_text(r.comparator, r.target, lang)),
                     f"<strong>{esc(status_name(r.status, lang))}</strong>",
                     esc(value_text(r.outcome, lang) + ("%" if pd.notna(r.outcome) else "")), esc(p),
                     link(r.outcome_source) if pd.notna(r.outcome_source) and r.outcome_source else "",
                     esc(note_text(r.outcome_note, lang)),
                     esc(short_document(document_name(r.document, lang), chars=DOC_CHARS))])
    judged = int(shown["status"].isin(["met", "missed"]).sum())
    return "\n".join([
        f'<p class="note">{esc(word("verdict_note", lang, n=judged, rule=word("deciding_rule", lang)))}</p>',
        table_html([esc(word(key, lang)) for key in ("geo", "indicator", "deadline", "target", "status", "reading",
                                                     "probability", "source", "readings_rule", "document")],
                   rows, numeric=(5, 6))])
