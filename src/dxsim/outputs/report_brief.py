"""The brief that opens ``report.html``: one printed page per geo a director reads in two minutes (headline
numbers, targets with probability, status and evidence, what changed against the compared scenario, caveats)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dxsim.outputs import style
from dxsim.outputs.document_names import document_name
from dxsim.outputs.report_html import esc, table_html
from dxsim.outputs.report_words import evidence_name, num, status_name, word

if TYPE_CHECKING:
    from dxsim.outputs.report_sections import ReportContext, Section

BRIEF_YEAR = 2030


def _latest(tables: Any, geo: str, indicator: str, definition: str, lang: str) -> str:
    """The latest reading (value and date); for a merged province without its own, each part's latest."""
    from dxsim.outputs.mapparts import latest_text

    return latest_text(tables, geo, indicator, definition, lang) or word("none_reading", lang)


def _interval(tables: Any, geo: str, indicator: str, definition: str, year: int, lang: str) -> str:
    from dxsim.outputs.report_run import interval_text

    tr = tables.trajectories
    sel = tr[(tr["geo"] == geo) & (tr["indicator"] == indicator) & (tr["definition"] == definition)]
    return interval_text(sel.set_index("year"), year, lang)


def geo_brief(ctx: ReportContext, geo: str) -> str:
    """One geo's page of the brief (first run; changes against the second run when there is one)."""
    from dxsim.outputs.chartkit import (
        DOC_CHARS,
        definition_label,
        group_targets,
        newest_readings,
        p_text,
        reading_note,
        short_document,
        target_text,
    )
    from dxsim.outputs.mapparts import national_comparison, part_readings
    from dxsim.outputs.mapparts import word as map_word

    lang, run = ctx.lang, ctx.runs[0]
    year = BRIEF_YEAR if BRIEF_YEAR in set(run.trajectories["year"]) else int(run.trajectories["year"].max())
    rows, caveats = [], []
    for ind, dfn in run.headline_series():
        name = style.indicator_name(ind, lang, run.labels.get(ind), geo)
        rows.append([esc(name), esc(style.definition_name(dfn, lang)), esc(_latest(run, geo, ind, dfn, lang)),
                     esc(_interval(run, geo, ind, dfn, year, lang))])
        note = reading_note(run, geo, ind, dfn, lang)
        if note and part_readings(run, geo, ind, dfn).empty:       # a merged province's parts may have readings
            caveats.append(word("pooled", lang, indicator=name, definition=style.definition_name(dfn, lang),
                                note=note))
    out = [f'<section class="brief-geo"><h3>{esc(style.geo_name(geo, lang))}</h3>',
           f"<h4>{esc(word('headline', lang))}</h4>",
           table_html([esc(word("indicator", lang)), esc(word("definition", lang)), esc(word("latest", lang)),
                       esc(word("median_interval", lang, year=year))], rows, numeric=(2, 3))]
    tp = run.targets
    # targets due from the last year with data on: the latest are judged on their readings (status, evidence)
    targets = group_targets(run, tp[(tp["geo"] == geo) & (tp["deadline"] >= run.first_projected_year - 1)])
    other = ctx.runs[1] if len(ctx.runs) > 1 else None
    if other is not None:
        otp = other.targets
        other_p = {(t["indicator"], t["definition"], t["evaluated_as"], t["deadline"], t["target"]): t["probability"]
                   for t in group_targets(other, otp[otp["geo"] == geo])}
    has_status = "status" in tp.columns
    rows = []
    changes = []
    for t in sorted(targets, key=lambda t: (t["deadline"], t["indicator"])):
        first = tp[(tp["geo"] == geo) & (tp["indicator"] == t["indicator"]) & (tp["definition"] == t["definition"])
                   & (tp["deadline"] == t["deadline"]) & (tp["target"] == t["target"])].iloc[0]
        what = (f"{style.indicator_name(t['indicator'], lang, run.labels.get(t['indicator']), geo)} "
                f"({definition_label(t['definition'], t['evaluated_as'], lang)}) {target_text(t, lang)}")
        cells = [esc(what), esc(t["deadline"]), esc(p_text(t["probability"], lang))]
        if has_status:
            evidence = first.get("evidence", "") if "evidence" in tp.columns else ""
            cells += [esc(status_name(first["status"], lang)), esc(evidence_name(evidence, lang))]
        if other is not None:
            q = other_p.get((t["indicator"], t["definition"], t["evaluated_as"], t["deadline"], t["target"]))
            delta = "" if q is None else ("+" if q >= t["probability"] else "") + num(q - t["probability"], 2, lang)
            cells.append(esc(delta))
            if q is not None and abs(q - t["probability"]) >= 0.05:
                changes.append(f"{what} ({t['deadline']}): {p_text(t['probability'], lang)} → {p_text(q, lang)}")
        cells.append(esc("; ".join(short_document(document_name(d, lang), chars=DOC_CHARS) for d in t["documents"])))
        rows.append(cells)
    header = [word("target", lang), word("deadline", lang), word("probability", lang)]
    if has_status:
        header += [word("status", lang), word("evidence", lang)]
    if other is not None:
        header.append(word("change", lang, base=other.scenario))
    header.append(word("document", lang))
    out.append(f"<h4>{esc(word('targets', lang))}</h4>")
    out.append(table_html([esc(h) for h in header], rows, numeric=(1, 2)) if rows
               else f'<p class="note">{esc(word("no_targets", lang))}</p>')
    if other is not None:
        out += [f"<h4>{esc(word('changed', lang, base=other.scenario))}</h4>",
                "<ul>" + "".join(f"<li>{esc(c)}</li>" for c in changes) + "</ul>" if changes
                else f'<p class="note">{esc(word("no_change", lang))}</p>']
    national = national_comparison(run, lang) if geo == style.NATIONAL else None
    if national is not None:
        head, cells, sentence = national
        out.append(f"<h4>{esc(map_word('national_title', lang))}</h4>")
        if cells:
            out.append(table_html([esc(h) for h in head], [[esc(c) for c in row] for row in cells], numeric=(2, 3, 4)))
        out.append(f'<p class="note">{esc(sentence)}</p>')
    mapped = sum(1 for t in targets if t["definition"] != t["evaluated_as"])
    if mapped:
        caveats.append(word("mapped_target", lang, n=mapped))
    newest = newest_readings(run.manifest)
    dates = [f"{style.indicator_name(i, lang, None, geo)} ({style.definition_name(d, lang)}) {newest[(i, d)]}"
             for i, d in run.headline_series() if (i, d) in newest]
    if dates:
        caveats.append(word("stale", lang, dates="; ".join(dates)))
    if caveats:
        out += [f"<h4>{esc(word('caveats', lang))}</h4>",
                "<ul>" + "".join(f"<li>{esc(c)}</li>" for c in caveats) + "</ul>"]
    out.append("</section>")
    return "\n".join(out)


def brief_sections(ctx: ReportContext) -> list[Section]:
    """The brief: one page per geo of the first run."""
    from dxsim.outputs.mapparts import covered_old_geos
    from dxsim.outputs.report_sections import Section

    if not ctx.runs:
        return []
    run = ctx.runs[0]
    old = covered_old_geos(run)
    out = [geo_brief(ctx, g) for g in run.geos if g not in old]
    out += old_map_details(old, ctx.lang, [geo_brief(ctx, g) for g in old])
    return [Section("brief", word("brief", ctx.lang), "\n".join(out))]


def old_map_details(old: tuple[str, ...], lang: str, parts: list[str]) -> list[str]:
    """The pre-2025 map's geos collapsed (open on screen; a closed <details> does not print, so the printout
    covers the new map and the nation)."""
    if not old:
        return []
    names = ", ".join(style.geo_name(g, lang) for g in old)
    return [f"<details><summary>{esc(word('old_map', lang, n=len(old), names=names))}</summary>", *parts,
            "</details>"]
