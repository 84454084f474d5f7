"""The brief that opens ``report.html``: one printed page per geo a director reads in two minutes (headline
numbers, targets with probability, status and evidence, what changed against the compared scenario, caveats),
and the report's words in English and Vietnamese."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from dxsim.outputs import style
from dxsim.outputs.report_html import esc, table_html

if TYPE_CHECKING:
    from dxsim.outputs.report_sections import ReportContext, Section

BRIEF_YEAR = 2030

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "brief": "Brief", "report_title": "dxsim report", "headline": "Headline numbers (percent)",
        "indicator": "Indicator", "definition": "Definition", "latest": "Latest reading",
        "median_interval": "{year}: median [80% interval]", "targets": "Targets",
        "target": "Target", "deadline": "Deadline", "probability": "P(met)", "status": "Status",
        "evidence": "Evidence", "document": "Document", "change": "Change vs {base}",
        "changed": "What changes against {base}",
        "caveats": "Caveats", "no_targets": "No target of this geo is due in the projected years.",
        "pooled": "{indicator} ({definition}): {note}; the probabilities that rest on it rest on no reading of "
                  "this geo.",
        "mapped_target": "{n} target(s) stated in another definition are evaluated through the definition mapping "
                         "(shown as 'x, as y').",
        "stale": "Newest reading used: {dates}.",
        "meta": "Written by dxsim {version} on {created} from {folders}. Values are percent; intervals are Monte "
                "Carlo quantiles. Self-contained: opens offline.",
        "no_change": "No target's probability moves by 0.05 or more.",
        "summary": "summary", "verdicts": "targets judged on their readings",
        "probabilities": "target probabilities", "charts": "forecasts", "scenario": "scenario assumptions",
        "calibration": "calibration used", "sources": "data sources", "comparison": "Scenario comparison",
        "skill": "Forecast skill", "other_charts": "Other series ({n} charts)",
        "old_map": "Provinces on the pre-2025 map ({n}: {names})",
        "none_reading": "none", "geo": "Geo", "likelihood": "Likelihood", "overview": "Overview",
        "sum_headline": "Headline indicators: median [80% interval], percent",
        "sum_targets": "Probability of meeting each target due {first} or later",
        "sum_note": "± two Monte Carlo standard errors.", "all_met": "Probability that all of a geo's targets are met",
        "scope": "Targets", "number": "Number", "p_all": "P(all met)",
        "unevaluable": "{n} targets the model cannot evaluate, and why", "reason": "Reason",
        "past": "{n} evaluable targets were due before {first} (observed years); their probabilities are in "
                "target_probabilities.csv.", "details": "Details",
        "readings": "{n} readings entered the fit for this scenario's geos; each links to its source",
        "year": "Year", "value": "Value (%)", "source": "Source", "quote": "Quote",
        "target_documents": "Target documents ({n})", "reading": "Reading", "readings_rule": "Readings",
    },
    "vi": {
        "brief": "Tóm tắt", "report_title": "Báo cáo dxsim", "headline": "Các con số chính (phần trăm)",
        "indicator": "Chỉ tiêu", "definition": "Định nghĩa", "latest": "Số liệu mới nhất",
        "median_interval": "{year}: trung vị [khoảng 80%]", "targets": "Mục tiêu",
        "target": "Mục tiêu", "deadline": "Thời hạn", "probability": "Xác suất đạt", "status": "Tình trạng",
        "evidence": "Căn cứ", "document": "Văn bản", "change": "Thay đổi so với {base}",
        "changed": "Thay đổi so với {base}",
        "caveats": "Lưu ý", "no_targets": "Không có mục tiêu nào của địa phương này đến hạn trong các năm dự báo.",
        "pooled": "{indicator} ({definition}): {note}; các xác suất dựa trên chuỗi này không dựa trên số liệu "
                  "nào của địa phương.",
        "mapped_target": "{n} mục tiêu nêu theo định nghĩa khác được đánh giá qua ánh xạ định nghĩa "
                         "(ghi 'x, theo y').",
        "stale": "Số liệu mới nhất được dùng: {dates}.",
        "meta": "Do dxsim {version} lập ngày {created} từ {folders}. Giá trị tính theo phần trăm; các khoảng là "
                "phân vị Monte Carlo. Tệp độc lập: mở được khi không có mạng.",
        "no_change": "Không có xác suất mục tiêu nào thay đổi từ 0,05 trở lên.",
        "summary": "tổng hợp", "verdicts": "mục tiêu đánh giá theo số liệu thực tế",
        "probabilities": "xác suất đạt mục tiêu", "charts": "dự báo", "scenario": "giả định của kịch bản",
        "calibration": "hiệu chỉnh mô hình", "sources": "nguồn số liệu", "comparison": "So sánh kịch bản",
        "skill": "Độ chính xác dự báo", "other_charts": "Các chuỗi khác ({n} biểu đồ)",
        "old_map": "Tỉnh theo bản đồ trước 2025 ({n}: {names})",
        "none_reading": "không có", "geo": "Địa phương", "likelihood": "Mức khả năng", "overview": "Tổng quan",
        "sum_headline": "Các chỉ tiêu chính: trung vị [khoảng 80%], phần trăm",
        "sum_targets": "Xác suất đạt từng mục tiêu có thời hạn từ {first}",
        "sum_note": "± hai sai số chuẩn Monte Carlo.", "all_met": "Xác suất đạt tất cả mục tiêu của địa phương",
        "scope": "Nhóm mục tiêu", "number": "Số lượng", "p_all": "Xác suất đạt tất cả",
        "unevaluable": "{n} mục tiêu mô hình không đánh giá được và lý do", "reason": "Lý do",
        "past": "{n} mục tiêu đánh giá được có thời hạn trước {first} (các năm đã có số liệu); xác suất của chúng "
                "có trong target_probabilities.csv.", "details": "Chi tiết",
        "readings": "{n} số liệu được dùng để hiệu chỉnh cho các địa phương của kịch bản; mỗi số liệu dẫn nguồn",
        "year": "Năm", "value": "Giá trị (%)", "source": "Nguồn", "quote": "Trích dẫn",
        "target_documents": "Văn bản đặt mục tiêu ({n})", "reading": "Số liệu", "readings_rule": "Các số liệu",
    },
}
STATUS_VI = {"met": "đã đạt", "missed": "không đạt", "nowcast": "ước tính hiện tại", "no reading": "chưa có số liệu",
             "not due": "chưa đến hạn"}


def word(key: str, lang: str = "en", **values: Any) -> str:
    """A word or sentence of the report in ``lang``."""
    template = WORDS[style.check_lang(lang)][key]
    return template.format(**values) if values else template


def status_name(status: Any, lang: str) -> str:
    text = "" if status is None or (isinstance(status, float) and pd.isna(status)) else str(status)
    return STATUS_VI.get(text, text) if lang == "vi" else text


def _latest(tables: Any, geo: str, indicator: str, definition: str, lang: str) -> str:
    """The latest reading (value and date); for a merged province without its own, each part's latest."""
    from dxsim.outputs.mapparts import latest_text

    return latest_text(tables, geo, indicator, definition, lang) or word("none_reading", lang)


def _interval(tables: Any, geo: str, indicator: str, definition: str, year: int, lang: str) -> str:
    tr = tables.trajectories
    row = tr[(tr["geo"] == geo) & (tr["indicator"] == indicator) & (tr["definition"] == definition)
             & (tr["year"] == year)]
    if row.empty:
        return ""
    r = row.iloc[0]
    return (f"{style.number(r['q50'], 1, lang)} [{style.number(r['q10'], 1, lang)}–"
            f"{style.number(r['q90'], 1, lang)}]")


def geo_brief(ctx: ReportContext, geo: str) -> str:
    """One geo's page of the brief (first run; changes against the second run when there is one)."""
    from dxsim.outputs.chartkit import (
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
            cells += [esc(status_name(first["status"], lang)), esc("" if pd.isna(evidence) else evidence)]
        if other is not None:
            q = other_p.get((t["indicator"], t["definition"], t["evaluated_as"], t["deadline"], t["target"]))
            delta = "" if q is None else f"{q - t['probability']:+.2f}".replace(".", "," if lang == "vi" else ".")
            cells.append(esc(delta))
            if q is not None and abs(q - t["probability"]) >= 0.05:
                changes.append(f"{what} ({t['deadline']}): {p_text(t['probability'], lang)} → {p_text(q, lang)}")
        cells.append(esc("; ".join(short_document(style.document_name(d, lang), 5) for d in t["documents"])))
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
    from dxsim.outputs.report_sections import Section

    if not ctx.runs:
        return []
    run = ctx.runs[0]
    old = run.pre2025_geos
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
