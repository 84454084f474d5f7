"""The sections of ``report.html``. Each section is a self-contained function; the report is the lists below.

- ``REPORT_SECTIONS``: functions ``(ctx) -> list[Section]`` for the whole report, in order (the brief, the
  scenario comparison, every run's sections, forecast skill).
- ``RUN_SECTIONS``: ``(name, title, function)`` with ``function(ctx, k) -> str`` (HTML) for run ``k`` of
  ``ctx.runs``; each run gets these in order.

To add a section, write its function (in its own module if it is long) and add one line to a list.
"""

from __future__ import annotations

import textwrap
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dxsim.core.verdicts import verdict_section
from dxsim.errors import InputError
from dxsim.outputs import style
from dxsim.outputs.chartkit import definition_label, newest_readings_text
from dxsim.outputs.report_brief import WORDS, brief_sections, old_map_details, word
from dxsim.outputs.report_html import chart_file, esc, figure_html, link, pct, table_html

if TYPE_CHECKING:
    from dxsim.outputs.charts import RunTables

SUMMARY_YEARS = (2025, 2030)


@dataclass(frozen=True)
class SkillFolder:
    """A folder with ``skill.csv`` (and optionally ``pit.png``), e.g. written by ``dxsim backtest``."""

    folder: Path
    skill: pd.DataFrame
    pit: Path | None


@dataclass(frozen=True)
class ReportContext:
    """What every section reads: the runs, skill folders, the language, each run's charts folder (in that
    language) and a scratch folder for charts drawn only for the report."""

    runs: tuple[RunTables, ...]
    skills: tuple[SkillFolder, ...]
    lang: str
    charts: tuple[Path, ...]
    scratch: Path
    scorecards: tuple[Path, ...] = ()     # folders written by ``dxsim scorecard``
    policy: tuple[Path, ...] = ()         # folders written by ``dxsim sensitivity`` / ``required-investment``


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    html: str


SectionMaker = Callable[[ReportContext], list[Section]]


def _anchor(tables: RunTables, suffix: str) -> str:
    return f"{tables.folder.name}-{suffix}".replace(" ", "_")


def _summary_section(tables: RunTables, lang: str) -> str:
    tr = tables.trajectories
    years = [y for y in SUMMARY_YEARS if y in set(tr["year"])]
    horizon = int(tr["year"].max())
    if horizon not in years:
        years.append(horizon)
    rows = []
    for geo in tables.geos:
        for ind, dfn in tables.headline_series():
            sel = tr[(tr["geo"] == geo) & (tr["indicator"] == ind) & (tr["definition"] == dfn)]
            sel = sel.set_index("year")
            cells = [f"{pct(sel.at[y, 'q50'], lang)} [{pct(sel.at[y, 'q10'], lang)}–{pct(sel.at[y, 'q90'], lang)}]"
                     if y in sel.index else "" for y in years]
            rows.append([esc(style.geo_name(geo, lang)),
                         esc(style.indicator_name(ind, lang, tables.labels.get(ind), geo)),
                         esc(style.definition_name(dfn, lang)), *cells])
    w = lambda key, **kw: esc(word(key, lang, **kw))          # noqa: E731 - a short alias for the table headers
    out = [f"<h3>{w('sum_headline')}</h3>",
           table_html([w("geo"), w("indicator"), w("definition"), *map(str, years)], rows,
                  numeric=range(3, 3 + len(years)))]
    if newest := newest_readings_text(tables.manifest, tables.headline, lang):      # stale data are said
        out.append(f'<p class="note">{esc(newest)}; projections start in {esc(tables.first_projected_year)}.</p>')

    tp = tables.targets
    first = tables.first_projected_year
    due = tp[tp["evaluable"] & (tp["deadline"] >= first)].sort_values(["geo", "deadline", "indicator"])
    rows = []
    for r in due.itertuples(index=False):
        key, colour = style.likelihood(float(r.probability))
        rows.append([esc(style.geo_name(r.geo, lang)),
                     esc(style.indicator_name(r.indicator, lang, tables.labels.get(r.indicator), r.geo)),
                     esc(definition_label(r.definition, r.evaluated_as, lang)), esc(r.deadline),
                     esc(f"{style.comparator(r.comparator)}{r.target:g}%"),
                     esc(f"{style.number(float(r.probability), 3, lang)} ± "
                         f"{style.number(2 * float(r.mc_se), 3, lang)}"),
                     f'<span class="swatch" style="background:{colour}"></span> {esc(style.text(key, lang))}',
                     esc(style.document_name(r.document, lang))])
    out += [f"<details><summary>{w('sum_targets', first=first)}</summary>", f'<p class="note">{w("sum_note")}</p>',
            table_html([w("geo"), w("indicator"), w("definition"), w("deadline"), w("target"), w("probability"),
                        w("likelihood"), w("document")], rows, numeric=(5,)), "</details>"]
    if tables.all_targets is not None:                  # all_targets_probabilities.csv, checked by read_run
        rows = [[esc(style.geo_name(r.geo, lang)), esc(r.scope), esc(r.n_targets),
                 esc(style.number(float(r.probability), 3, lang))] for r in tables.all_targets.itertuples(index=False)]
        out += [f"<h3>{w('all_met')}</h3>",
                table_html([w("geo"), w("scope"), w("number"), w("p_all")], rows, numeric=(2, 3))]
    past = tp[tp["evaluable"] & (tp["deadline"] < first)]
    never = tp[~tp["evaluable"]]
    rows = [[esc(style.geo_name(r.geo, lang)), esc(style.indicator_name(r.indicator, lang, None, r.geo)),
             esc(style.definition_name(r.definition, lang)), esc(r.deadline),
             esc(f"{style.comparator(r.comparator)}{r.target:g}%"), esc(r.reason if "reason" in tp else ""),
             esc(style.document_name(r.document, lang))] for r in never.itertuples(index=False)]
    out += [f"<details><summary>{w('unevaluable', n=len(never))}</summary>",
            table_html([w("geo"), w("indicator"), w("definition"), w("deadline"), w("target"), w("reason"),
                        w("document")], rows),
            "</details>", f'<p class="note">{w("past", n=len(past), first=first)}</p>']
    return "\n".join(out)


def _scenario_section(tables: RunTables) -> str:
    path = tables.folder / "scenario.toml"
    if not path.is_file():
        return '<p class="note">scenario.toml is not in the results folder.</p>'
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, "", f"not valid TOML: {exc}") from None
    out = [f"<p>{esc(raw.get('description', ''))}</p>"]
    facts = [["Name", esc(raw.get("name", tables.scenario))], ["Horizon", esc(raw.get("horizon", ""))],
             ["Geos", esc(", ".join(style.geo_name(g) for g in tables.geos))],
             ["Draws, seed", esc(f"{tables.draws}, {tables.manifest.get('seed', '')}")]]
    inv = raw.get("investment", {}) if isinstance(raw.get("investment"), dict) else {}
    unit = str(inv.get("unit", "multiple"))
    facts.append(["Investment unit", esc(unit + (" (multiple of the calibrated baseline effort)"
                                                if unit == "multiple" else ""))])
    out.append(table_html(["", ""], facts))
    rows = []
    for key, value in inv.items():
        if key == "unit":
            continue
        per_geo = isinstance(value, dict) and all(isinstance(v, dict) or not str(k).isdigit()
                                                   for k, v in value.items())
        if per_geo:
            for pillar, sched in value.items():
                rows.append([esc(style.geo_name(key)), esc(pillar), esc(_schedule_text(sched))])
        else:
            rows.append(["all geos", esc(key), esc(_schedule_text(value))])
    if rows:
        out += ["<h3>Investment</h3>", table_html(["Where", "Pillar", "Schedule"], rows)]
    events = raw.get("events", [])
    if isinstance(events, list) and events:
        rows = [[esc(ev.get("name", "")), esc(ev.get("indicator", "")), esc(ev.get("year", "")),
                 esc(", ".join(ev["geos"]) if isinstance(ev.get("geos"), list) else ev.get("geos", "all")),
                 esc(ev.get("speed_multiplier", 1)), esc(ev.get("ceiling_lift", 0))]
                for ev in events if isinstance(ev, dict)]
        out += ["<h3>Events</h3>",
                table_html(["Event", "Indicator", "From", "Geos", "Speed ×", "Ceiling +pp"], rows)]
    out += ["<details><summary>scenario.toml as run</summary>", f"<pre>{esc(text)}</pre>", "</details>"]
    return "\n".join(out)


def _schedule_text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"from {y}: {v}" for y, v in value.items())
    return f"{value} throughout"


def _charts_section(tables: RunTables, charts: Path, lang: str) -> str:
    from dxsim.outputs.charts import fan_chart_keys, fan_stem

    out = [f"<h3>{esc(word('overview', lang))}</h3>"]
    for p in sorted(charts.glob("overview*.svg")) or sorted(charts.glob("overview*.png")):
        out.append(figure_html(p, style.text("overview_title", lang, scenario=tables.scenario), "overview"))
    headline = set(tables.headline_series())
    by_geo: dict[str, tuple[list[str], list[str]]] = {}
    for geo, ind, dfn in fan_chart_keys(tables):
        name = (f"{style.indicator_name(ind, lang, tables.labels.get(ind), geo)} "
                f"({style.definition_name(dfn, lang)})")
        fig = figure_html(chart_file(charts / fan_stem(geo, ind, dfn)), f"{style.geo_name(geo, lang)}: {name}", name)
        by_geo.setdefault(geo, ([], []))[0 if (ind, dfn) in headline else 1].append(fig)
    old = tables.pre2025_geos
    shown: dict[bool, list[str]] = {False: [], True: []}
    for geo, (main, rest) in by_geo.items():
        part = [f"<h3>{esc(style.geo_name(geo, lang))}</h3>", '<div class="grid">', *main, "</div>"]
        if rest:       # the other series' charts, collapsed: open them on screen; the printout stays short
            part += [f"<details><summary>{esc(word('other_charts', lang, n=len(rest)))}</summary>",
                     '<div class="grid">', *rest, "</div></details>"]
        shown[geo in old].extend(part)
    return "\n".join(out + shown[False] + old_map_details(tuple(g for g in by_geo if g in old), lang, shown[True]))


def _calibration_section(tables: RunTables, lang: str = "en") -> str:
    m = tables.manifest
    cal = m.get("calibration") or {}
    facts = [["Config", esc(cal.get("config", ""))],
             ["Config SHA-256", f"<code>{esc(cal.get('sha256', ''))}</code>"],
             ["Last year of data (jump-off)", esc(cal.get("jump_off_year", ""))],
             ["Newest reading per headline series", esc(newest_readings_text(m, tables.headline))],
             ["Readings up to (as of)", esc(cal.get("as_of") or "all")],
             ["Observations", esc((m.get("observations") or {}).get("file", ""))],
             ["Observations SHA-256", f"<code>{esc((m.get('observations') or {}).get('sha256', ''))}</code>"],
             ["Readings used", esc((m.get("observations") or {}).get("rows_used", ""))],
             ["Targets", esc((m.get("targets") or {}).get("file", ""))],
             ["dxsim version, run at", esc(f"{m.get('dxsim_version', '')}, {m.get('created_utc', '')}")]]
    out = [table_html(["", ""], facts)]
    hyper = cal.get("hyper_parameters_at_mode") or {}
    if hyper:
        rows = [[esc(ind), *(f"{float(v.get(k, np.nan)):.3f}" for k in ("level_sd", "slope_sd", "obs_sd"))]
                for ind, v in hyper.items() if isinstance(v, dict)]
        out += ["<h3>Pooling and noise at the posterior mode</h3>",
                table_html([esc(word("indicator", lang)), "level sd", "slope sd", "observation sd"], rows,
                           numeric=(1, 2, 3))]
    fit = tables.fit_table
    cols = [c for c in ("indicator", "geo", "n_observations", "definitions_observed", "pooled",
                        "rms_residual_pp", "slope_per_year") if c in fit.columns]
    fit = fit[fit["geo"].isin(tables.geos)] if "geo" in fit else fit
    def cell(col: str, v: Any) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "—"
        if col == "indicator":
            return style.indicator_name(str(v), lang)
        if col == "geo":
            return style.geo_name(str(v), lang)
        if col == "definitions_observed":
            return ", ".join(style.definition_name(d, lang) for d in str(v).split(";") if d)
        if isinstance(v, bool | np.bool_):
            return {True: "yes", False: "no"}[bool(v)] if lang == "en" else {True: "có", False: "không"}[bool(v)]
        return style.number(v, 3, lang) if isinstance(v, float) else str(v)

    rows = [[esc(cell(c, v)) for c, v in zip(cols, r, strict=True)] for r in fit[cols].itertuples(index=False)]
    out += ["<h3>Fit per geo and indicator</h3>",
            '<p class="note">pooled: no reading, the geo gets the national distribution; RMS residual in '
            "percentage points.</p>", "<details><summary>Fit table</summary>",
            table_html([esc(c.replace("_", " ")) for c in cols], rows), "</details>"]
    return "\n".join(out)


def _sources_section(tables: RunTables, lang: str) -> str:
    obs = tables.observations.sort_values(["geo", "indicator", "definition", "year"])
    rows = []
    for r in obs.itertuples(index=False):
        quote = str(getattr(r, "quote", "") or "")
        rows.append([esc(style.geo_name(r.geo, lang)), esc(style.indicator_name(r.indicator, lang, None, r.geo)),
                     esc(style.definition_name(r.definition, lang)), esc(r.year),
                     esc(f"{float(r.value):g}".replace(".", "," if lang == "vi" else ".")), link(r.source_url),
                     f'<span title="{esc(quote)}">{esc(textwrap.shorten(quote, 140, placeholder="…"))}</span>'])
    w = lambda key, **kw: esc(word(key, lang, **kw))          # noqa: E731
    out = [f"<details><summary>{w('readings', n=len(obs))}</summary>",
           table_html([w("geo"), w("indicator"), w("definition"), w("year"), w("value"), w("source"), w("quote")],
                      rows, numeric=(3, 4)), "</details>"]
    targets_file = tables.folder / "targets_used.csv"        # only files inside the results folder are read
    if targets_file.is_file():
        try:
            tg = pd.read_csv(targets_file)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            tg = pd.DataFrame()
        if {"geo", "document", "source_url"} <= set(tg.columns):
            tg = tg[tg["geo"].isin(tables.geos)].drop_duplicates(["geo", "document", "source_url"])
            rows = [[esc(style.geo_name(r.geo, lang)), esc(style.document_name(r.document, lang)),
                     link(r.source_url)] for r in tg.itertuples(index=False)]
            out += [f"<details><summary>{w('target_documents', n=len(rows))}</summary>",
                    table_html([w("geo"), w("document"), w("source")], rows), "</details>"]
    return "\n".join(out)


def _skill_section(skill: SkillFolder) -> str:
    frame = skill.skill
    rows = [[esc(f"{v:.3f}" if isinstance(v, float) else v) for v in r]
            for r in frame.head(200).itertuples(index=False)]
    out = [f'<p class="note">From {esc(skill.folder)}: rolling-origin backtest (forecasts made with the data '
           "available at each origin, scored on later readings).</p>",
           table_html([esc(c) for c in frame.columns], rows)]
    if skill.pit is not None:
        out.append(figure_html(skill.pit, "Calibration of the forecast intervals (PIT)", "PIT chart"))
    return "\n".join(out)


def _comparison_section(runs: Sequence[RunTables], tmp: Path, lang: str) -> str:
    from dxsim.outputs.charts import render_compare, run_labels

    labels = run_labels(runs)
    keys = ["geo", "indicator", "definition", "deadline", "comparator", "target"]
    merged = None
    for run, label in zip(runs, labels, strict=True):
        tp = run.targets[run.targets["evaluable"] & (run.targets["deadline"] >= run.first_projected_year)]
        tp = tp.groupby(keys, sort=False)["probability"].first().rename(label).reset_index()
        merged = tp if merged is None else merged.merge(tp, on=keys, how="outer")
    rows = [[esc(style.geo_name(r[0], lang)), esc(style.indicator_name(r[1], lang)),
             esc(style.definition_name(r[2], lang)), esc(r[3]), esc(f"{style.comparator(r[4])}{r[5]:g}%"),
             *(f"{v:.3f}" if pd.notna(v) else "" for v in r[6:])]
            for r in merged.sort_values(["geo", "deadline"]).itertuples(index=False)]
    out = ["<h3>P(target met) by scenario</h3>",
           table_html(["Geo", "Indicator", "Definition", "Deadline", "Target", *map(esc, labels)], rows,
                  numeric=range(5, 5 + len(labels)))]
    charts = render_compare(runs, tmp / "compare", lang=lang, formats=("svg",))
    names = {f"compare_{geo}_{ind}_{dfn}": f"{style.geo_name(geo, lang)}: {style.indicator_name(ind, lang)} "
             f"({style.definition_name(dfn, lang)})"
             for geo in runs[0].geos for ind, dfn in runs[0].headline_series()}
    out += ['<div class="grid">', *(figure_html(p, f"{names.get(p.stem, p.stem)}: {', '.join(labels)}",
                                            "scenario comparison") for p in charts), "</div>"]
    return "\n".join(out)




# --------------------------------------------------------------------------------------------- the lists

def _run_summary(ctx: ReportContext, k: int) -> str:
    return _summary_section(ctx.runs[k], ctx.lang)


def _run_probabilities(ctx: ReportContext, k: int) -> str:
    return figure_html(chart_file(ctx.charts[k] / "target_probabilities"),
                       "P(target met) per geo and target, sorted", "target probability chart")


def _run_charts(ctx: ReportContext, k: int) -> str:
    return _charts_section(ctx.runs[k], ctx.charts[k], ctx.lang)


def _run_scenario(ctx: ReportContext, k: int) -> str:
    return _scenario_section(ctx.runs[k])


def _run_calibration(ctx: ReportContext, k: int) -> str:
    return _calibration_section(ctx.runs[k], ctx.lang)


def _run_sources(ctx: ReportContext, k: int) -> str:
    return _sources_section(ctx.runs[k], ctx.lang)


RUN_SECTIONS: list[tuple[str, str, Callable[[ReportContext, int], str]]] = [
    ("summary", "summary", _run_summary),
    ("verdicts", "targets judged on their readings", verdict_section),
    ("probabilities", "target probabilities", _run_probabilities),
    ("charts", "forecasts", _run_charts),
    ("scenario", "scenario assumptions", _run_scenario),
    ("calibration", "calibration used", _run_calibration),
    ("sources", "data sources", _run_sources),
]


def comparison_sections(ctx: ReportContext) -> list[Section]:
    if len(ctx.runs) < 2:
        return []
    return [Section("comparison", word("comparison", ctx.lang), _comparison_section(ctx.runs, ctx.scratch, ctx.lang))]


def run_sections(ctx: ReportContext) -> list[Section]:
    """``RUN_SECTIONS`` for each run, run after run."""
    def title(name: str, fallback: str) -> str:
        return word(name, ctx.lang) if name in WORDS["en"] else fallback

    return [Section(_anchor(run, name), f"{run.scenario}: {title(name, text)}", make(ctx, k))
            for k, run in enumerate(ctx.runs) for name, text, make in RUN_SECTIONS]


def skill_sections(ctx: ReportContext) -> list[Section]:
    return [Section(f"skill-{k}", word("skill", ctx.lang), _skill_section(skill)) for k, skill in enumerate(ctx.skills)]


def track_record_sections(ctx: ReportContext) -> list[Section]:
    """What dxsim said at past origins and what happened: one section per ``dxsim scorecard`` folder."""
    from dxsim.analyses.scorecard import track_record_section

    return [Section(f"track-record-{k}", "Track record", track_record_section(folder))
            for k, folder in enumerate(ctx.scorecards)]


def policy_sections(ctx: ReportContext) -> list[Section]:
    """What moves the targets and what it would take: one section per policy folder (``policyreport.py``)."""
    from dxsim.outputs.policyreport import policy_section

    return [Section(f"policy-{k}", *policy_section(folder)) for k, folder in enumerate(ctx.policy)]


REPORT_SECTIONS: list[SectionMaker] = [
    brief_sections,
    comparison_sections,
    run_sections,
    skill_sections,
    track_record_sections,
    policy_sections,
]


def build_sections(ctx: ReportContext) -> list[Section]:
    return [section for make in REPORT_SECTIONS for section in make(ctx)]
