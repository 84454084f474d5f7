"""The sections of ``report.html`` about one run: summary, charts, scenario, calibration and data sources.

Each function returns HTML in the report's language (words in ``report_words``)."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dxsim.errors import InputError
from dxsim.outputs import style
from dxsim.outputs.chartkit import definition_label, newest_readings_text, short_path
from dxsim.outputs.document_names import document_name
from dxsim.outputs.report_html import chart_file, esc, figure_html, link, table_html
from dxsim.outputs.report_words import note_text, num, pillar_name, target_text, value_text, word, yes_no

if TYPE_CHECKING:
    from dxsim.outputs.charts import RunTables

SUMMARY_YEARS = (2025, 2030)


def _w(key: str, lang: str, **values: Any) -> str:
    """An escaped word of the report."""
    return esc(word(key, lang, **values))


def interval_text(sel: pd.DataFrame, year: int, lang: str) -> str:
    """'median [q10–q90]' of ``year`` from rows indexed by year ('' without that year)."""
    if year not in sel.index:
        return ""
    q10, q50, q90 = (num(sel.at[year, q], 1, lang) for q in ("q10", "q50", "q90"))
    return f"{q50} [{q10}–{q90}]"


def summary_section(tables: RunTables, lang: str) -> str:
    """Headline indicators (median and 80% interval), target probabilities, all-met probabilities, and the targets
    the model cannot evaluate."""
    tr = tables.trajectories
    years = [y for y in SUMMARY_YEARS if y in set(tr["year"])]
    horizon = int(tr["year"].max())
    if horizon not in years:
        years.append(horizon)
    rows = []
    for geo in tables.geos:
        for ind, dfn in tables.headline_series():
            sel = tr[(tr["geo"] == geo) & (tr["indicator"] == ind) & (tr["definition"] == dfn)].set_index("year")
            rows.append([esc(style.geo_name(geo, lang)),
                         esc(style.indicator_name(ind, lang, tables.labels.get(ind), geo)),
                         esc(style.definition_name(dfn, lang)), *(esc(interval_text(sel, y, lang)) for y in years)])
    out = [f"<h3>{_w('sum_headline', lang)}</h3>",
           table_html([_w("geo", lang), _w("indicator", lang), _w("definition", lang), *map(str, years)], rows,
                      numeric=range(3, 3 + len(years)))]
    first = tables.first_projected_year
    if newest := newest_readings_text(tables.manifest, tables.headline, lang):      # stale data are said
        out.append(f'<p class="note">{_w("projections_start", lang, newest=newest, first=first)}</p>')

    tp = tables.targets
    due = tp[tp["evaluable"] & (tp["deadline"] >= first)].sort_values(["geo", "deadline", "indicator"])
    rows = []
    for r in due.itertuples(index=False):
        key, colour = style.likelihood(float(r.probability))
        rows.append([esc(style.geo_name(r.geo, lang)),
                     esc(style.indicator_name(r.indicator, lang, tables.labels.get(r.indicator), r.geo)),
                     esc(definition_label(r.definition, r.evaluated_as, lang)), esc(r.deadline),
                     esc(target_text(r.comparator, r.target, lang)),
                     esc(f"{num(r.probability, 3, lang)} ± {num(2 * float(r.mc_se), 3, lang)}"),
                     f'<span class="swatch" style="background:{colour}"></span> {esc(style.text(key, lang))}',
                     esc(document_name(r.document, lang))])
    out += [f"<details><summary>{_w('sum_targets', lang, first=first)}</summary>",
            f'<p class="note">{_w("sum_note", lang)}</p>',
            table_html([_w(k, lang) for k in ("geo", "indicator", "definition", "deadline", "target", "probability",
                                              "likelihood", "document")], rows, numeric=(5,)), "</details>"]
    if tables.all_targets is not None:                  # all_targets_probabilities.csv, checked by read_run
        rows = [[esc(style.geo_name(r.geo, lang)), esc(r.scope), esc(r.n_targets), esc(num(r.probability, 3, lang))]
                for r in tables.all_targets.itertuples(index=False)]
        out += [f"<h3>{_w('all_met', lang)}</h3>",
                table_html([_w(k, lang) for k in ("geo", "scope", "number", "p_all")], rows, numeric=(2, 3))]
    past = tp[tp["evaluable"] & (tp["deadline"] < first)]
    never = tp[~tp["evaluable"]]
    rows = [[esc(style.geo_name(r.geo, lang)), esc(style.indicator_name(r.indicator, lang, None, r.geo)),
             esc(style.definition_name(r.definition, lang)), esc(r.deadline),
             esc(target_text(r.comparator, r.target, lang)),
             esc(note_text(r.reason, lang) if "reason" in tp else ""), esc(document_name(r.document, lang))]
            for r in never.itertuples(index=False)]
    out += [f"<details><summary>{_w('unevaluable', lang, n=len(never))}</summary>",
            table_html([_w(k, lang) for k in ("geo", "indicator", "definition", "deadline", "target", "reason",
                                              "document")], rows),
            "</details>", f'<p class="note">{_w("past", lang, n=len(past), first=first)}</p>']
    return "\n".join(out)


def scenario_section(tables: RunTables, lang: str) -> str:
    """The scenario as run: name, horizon, geos, draws, investment schedules, events and the TOML itself."""
    path = tables.folder / "scenario.toml"
    if not path.is_file():
        return f'<p class="note">{_w("no_scenario", lang)}</p>'
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, "", f"not valid TOML: {exc}") from None
    inv = raw.get("investment", {}) if isinstance(raw.get("investment"), dict) else {}
    unit = str(inv.get("unit", "multiple"))
    facts = [[_w("name", lang), esc(raw.get("name", tables.scenario))], [_w("horizon", lang), esc(raw.get("horizon"))],
             [_w("geos", lang), esc(", ".join(style.geo_name(g, lang) for g in tables.geos))],
             [_w("draws_seed", lang), esc(f"{tables.draws}, {tables.manifest.get('seed', '')}")],
             [_w("investment_unit", lang), _w("multiple", lang) if unit == "multiple" else esc(unit)]]
    out = [f"<p>{esc(raw.get('description', ''))}</p>", table_html(["", ""], facts)]
    rows = []
    for key, value in inv.items():
        if key == "unit":
            continue
        per_geo = isinstance(value, dict) and all(isinstance(v, dict) or not str(k).isdigit()
                                                   for k, v in value.items())
        if per_geo:
            rows += [[esc(style.geo_name(key, lang)), esc(pillar_name(pillar, lang)), esc(_schedule_text(sched, lang))]
                     for pillar, sched in value.items()]
        else:
            rows.append([_w("all_geos", lang), esc(key), esc(_schedule_text(value, lang))])
    if rows:
        out += [f"<h3>{_w('investment', lang)}</h3>",
                table_html([_w("where", lang), _w("pillar", lang), _w("schedule", lang)], rows)]
    events = raw.get("events", [])
    if isinstance(events, list) and events:
        rows = [[esc(ev.get("name", "")), esc(ev.get("indicator", "")), esc(ev.get("year", "")),
                 esc(", ".join(ev["geos"]) if isinstance(ev.get("geos"), list) else ev.get("geos", "all")),
                 esc(value_text(ev.get("speed_multiplier", 1), lang)), esc(value_text(ev.get("ceiling_lift", 0), lang))]
                for ev in events if isinstance(ev, dict)]
        out += [f"<h3>{_w('events', lang)}</h3>",
                table_html([_w(k, lang) for k in ("event", "indicator", "from", "geos", "speed", "ceiling")], rows)]
    out += [f"<details><summary>{_w('toml_as_run', lang)}</summary>", f"<pre>{esc(text)}</pre>", "</details>"]
    return "\n".join(out)


def _schedule_text(value: Any, lang: str) -> str:
    def show(v: Any) -> str:
        return value_text(v, lang) if isinstance(v, int | float) else str(v)

    if isinstance(value, dict):
        return "; ".join(word("from_year", lang, year=y, value=show(v)) for y, v in value.items())
    return word("throughout", lang, value=show(value))


def charts_section(tables: RunTables, charts: Path, lang: str) -> str:
    """The overview, then per geo its headline fan charts and (collapsed) the other series' charts; the pre-2025
    map's geos collapsed after the others."""
    from dxsim.outputs.charts import fan_chart_keys, fan_stem, run_jobs
    from dxsim.outputs.mapparts import covered_old_geos
    from dxsim.outputs.report_brief import old_map_details

    out = [f"<h3>{_w('overview', lang)}</h3>"]
    # the pages these tables call for (the charts whose keys report._charts_for made current), in page order:
    # never a leftover page of an earlier run with more geos
    pages = [chart_file(charts / job.stem) for job in run_jobs(tables) if job.kind == "overview"]
    for p in pages:
        if p is not None:
            out.append(figure_html(p, style.text("overview_title", lang, scenario=tables.scenario), "overview",
                                   lang))
    headline = set(tables.headline_series())
    by_geo: dict[str, tuple[list[str], list[str]]] = {}
    for geo, ind, dfn in fan_chart_keys(tables):
        name = (f"{style.indicator_name(ind, lang, tables.labels.get(ind), geo)} "
                f"({style.definition_name(dfn, lang)})")
        fig = figure_html(chart_file(charts / fan_stem(geo, ind, dfn)), f"{style.geo_name(geo, lang)}: {name}", name,
                          lang)
        by_geo.setdefault(geo, ([], []))[0 if (ind, dfn) in headline else 1].append(fig)
    old = covered_old_geos(tables)
    shown: dict[bool, list[str]] = {False: [], True: []}
    for geo, (main, rest) in by_geo.items():
        part = [f"<h3>{esc(style.geo_name(geo, lang))}</h3>", '<div class="grid">', *main, "</div>"]
        if rest:       # the other series' charts, collapsed: open them on screen; the printout stays short
            part += [f"<details><summary>{_w('other_charts', lang, n=len(rest))}</summary>",
                     '<div class="grid">', *rest, "</div></details>"]
        shown[geo in old].extend(part)
    return "\n".join(out + shown[False] + old_map_details(tuple(g for g in by_geo if g in old), lang, shown[True]))


FIT_COLUMNS = ("indicator", "geo", "n_observations", "definitions_observed", "pooled", "rms_residual_pp",
               "slope_per_year")


def _fit_cell(col: str, v: Any, lang: str) -> str:
    if v is None or v == "" or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if col == "indicator":
        return style.indicator_name(str(v), lang)
    if col == "geo":
        return style.geo_name(str(v), lang)
    if col == "definitions_observed":
        return ", ".join(style.definition_name(d, lang) for d in str(v).split(";") if d)
    if isinstance(v, bool | np.bool_):
        return yes_no(v, lang)
    return num(v, 3, lang) if isinstance(v, float) else str(v)


def calibration_section(tables: RunTables, lang: str) -> str:
    """The calibration the run used (files and hashes, data dates), the hyper-parameters and the fit table."""
    m = tables.manifest
    cal = m.get("calibration") or {}
    obs = m.get("observations") or {}
    facts = [[_w("config", lang), esc(short_path(cal.get("config")))],
             [_w("config_sha", lang), f"<code>{esc(cal.get('sha256', ''))}</code>"],
             [_w("jump_off", lang), esc(cal.get("jump_off_year", ""))],
             [_w("newest_per_series", lang), esc(newest_readings_text(m, tables.headline, lang).split(": ", 1)[-1])],
             [_w("as_of", lang), esc(cal.get("as_of") or word("all", lang))],
             [_w("observations", lang), esc(short_path(obs.get("file")))],
             [_w("observations_sha", lang), f"<code>{esc(obs.get('sha256', ''))}</code>"],
             [_w("rows_used", lang), esc(obs.get("rows_used", ""))],
             [_w("targets_file", lang), esc(short_path((m.get("targets") or {}).get("file")))],
             [_w("version_run", lang), esc(f"{m.get('dxsim_version', '')}, {m.get('created_utc', '')}")]]
    out = [table_html(["", ""], facts)]
    hyper = cal.get("hyper_parameters_at_mode") or {}
    if hyper:
        rows = [[esc(style.indicator_name(ind, lang)), *(esc(num(v.get(k, np.nan), 3, lang))
                                                          for k in ("level_sd", "slope_sd", "obs_sd"))]
                for ind, v in hyper.items() if isinstance(v, dict)]
        out += [f"<h3>{_w('hyper', lang)}</h3>",
                table_html([_w(k, lang) for k in ("indicator", "level_sd", "slope_sd", "obs_sd")], rows,
                           numeric=(1, 2, 3))]
    fit = tables.fit_table
    cols = [c for c in FIT_COLUMNS if c in fit.columns]
    fit = fit[fit["geo"].isin(tables.geos)] if "geo" in fit else fit
    rows = [[esc(_fit_cell(c, v, lang)) for c, v in zip(cols, r, strict=True)]
            for r in fit[cols].itertuples(index=False)]
    header = [_w("pooled_col" if c == "pooled" else c, lang) for c in cols]
    out += [f"<h3>{_w('fit', lang)}</h3>", f'<p class="note">{_w("fit_note", lang)}</p>',
            f"<details><summary>{_w('fit_table', lang)}</summary>",
            table_html(header, rows, numeric=[k for k, c in enumerate(cols) if c in FIT_COLUMNS[5:]]), "</details>"]
    return "\n".join(out)


def sources_section(tables: RunTables, lang: str) -> str:
    """Every reading that entered the fit (with its source and quote) and the documents that set the targets."""
    obs = tables.observations.sort_values(["geo", "indicator", "definition", "year"])
    rows = []
    for r in obs.itertuples(index=False):
        quote = getattr(r, "quote", "")
        quote = "" if pd.isna(quote) else str(quote)
        rows.append([esc(style.geo_name(r.geo, lang)), esc(style.indicator_name(r.indicator, lang, None, r.geo)),
                     esc(style.definition_name(r.definition, lang)), esc(r.year), esc(value_text(r.value, lang)),
                     link(r.source_url),
                     f'<span title="{esc(quote)}">{esc(textwrap.shorten(quote, 140, placeholder="…"))}</span>'])
    out = [f"<details><summary>{_w('readings', lang, n=len(obs))}</summary>",
           table_html([_w(k, lang) for k in ("geo", "indicator", "definition", "year", "value", "source", "quote")],
                      rows, numeric=(3, 4)), "</details>"]
    targets_file = tables.folder / "targets_used.csv"        # only files inside the results folder are read
    if targets_file.is_file():
        try:
            tg = pd.read_csv(targets_file)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            tg = pd.DataFrame()
        if {"geo", "document", "source_url"} <= set(tg.columns):
            tg = tg[tg["geo"].isin(tables.geos)].drop_duplicates(["geo", "document", "source_url"])
            rows = [[esc(style.geo_name(r.geo, lang)), esc(document_name(r.document, lang)), link(r.source_url)]
                    for r in tg.itertuples(index=False)]
            out += [f"<details><summary>{_w('target_documents', lang, n=len(rows))}</summary>",
                    table_html([_w("geo", lang), _w("document", lang), _w("source", lang)], rows), "</details>"]
    return "\n".join(out)
