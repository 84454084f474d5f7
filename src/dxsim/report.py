"""``report.html`` for report writers, and the chart commands ``dxsim plot``, ``compare`` and ``report``.

The report is one self-contained HTML file: charts are embedded as data URIs, styles are inline, there is no
script, and the only links are the data sources (``source_url``), so it opens offline. Everything is read from
results folders written by ``dxsim run`` (and ``dxsim backtest`` for the forecast-skill section).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import os
import shutil
import tempfile
import textwrap
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from . import __version__, style
from .errors import InputError
from .results import atomic_output_dir

if TYPE_CHECKING:
    from .charts import RunTables

# dxsim.charts (matplotlib) is imported inside the functions that draw: the CLI imports this module for every
# command, and only plot, compare and report need it.

SUMMARY_YEARS = (2025, 2030)
MIME = {"svg": "image/svg+xml", "png": "image/png"}
CSS = """
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 0 24px 48px; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin: 28px 0 4px; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: 3px;
margin-top: 40px; } h3 { margin-top: 28px; }
.meta, .note, figcaption { color: #555; font-size: 0.9em; }
nav ul { columns: 2; } table { border-collapse: collapse; margin: 10px 0 18px; font-size: 0.86em; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f6f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 18px 0 26px; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 8px 18px; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; vertical-align: -0.1em; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 0.85em; }
details { margin: 8px 0 16px; } summary { cursor: pointer; color: #0072B2; }
"""


# ------------------------------------------------------------------------------------------------ inputs

@dataclass(frozen=True)
class SkillFolder:
    """A folder with ``skill.csv`` (and optionally ``pit.png``), e.g. written by ``dxsim backtest``."""

    folder: Path
    skill: pd.DataFrame
    pit: Path | None


def _read_skill(folder: Path) -> SkillFolder | None:
    path = folder / "skill.csv"
    if not path.is_file():
        return None
    try:
        skill = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV table ({type(exc).__name__})") from None
    pit = folder / "pit.png"
    return SkillFolder(folder, skill, pit if pit.is_file() else None)


def read_folders(folders: Sequence[str | Path]) -> tuple[list[RunTables], list[SkillFolder]]:
    """Run folders (with trajectories.csv) and skill-only folders; anything else raises InputError."""
    from .charts import read_run

    runs, skills = [], []
    for raw in folders:
        folder = Path(raw)
        if not folder.is_dir():
            raise InputError(folder, "", "not a results folder (no such directory)")
        skill = _read_skill(folder)
        if skill is not None:
            skills.append(skill)
        if (folder / "trajectories.csv").exists() or skill is None:
            runs.append(read_run(folder))
    return runs, skills


def _charts_for(tables: RunTables, out: Path, lang: str) -> Path:
    """The run's charts folder, or (when the run was made with --no-charts) SVG charts drawn into ``out``."""
    from .charts import render_run

    charts = tables.folder / "charts"
    if charts.is_dir() and any(charts.glob("fan_*")):
        return charts
    render_run(tables, out, lang=lang, formats=("svg",))
    return out


def _image(path_stem: Path) -> Path | None:
    """``stem.svg`` or else ``stem.png`` (SVG is smaller and sharp at any zoom)."""
    for ext in ("svg", "png"):
        p = path_stem.with_name(f"{path_stem.name}.{ext}")
        if p.is_file():
            return p
    return None


def _data_uri(path: Path) -> str:
    mime = MIME.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


# --------------------------------------------------------------------------------------------- html bits

def _e(value: Any) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


def _link(url: Any, text: str | None = None) -> str:
    """An <a href> for http(s) URLs; anything else as plain text."""
    from .charts import source_name

    url = "" if url is None or (isinstance(url, float) and np.isnan(url)) else str(url)
    if urlparse(url).scheme in ("http", "https"):
        return f'<a href="{html.escape(url, quote=True)}" rel="noreferrer">{_e(text or source_name(url))}</a>'
    return _e(url or "—")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table from already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if k in numeric else f"<td>{c}</td>"
                                    for k, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(path: Path | None, caption: str, alt: str) -> str:
    if path is None:
        return f'<p class="note">({_e(caption)}: chart not available)</p>'
    return (f'<figure><img src="{_data_uri(path)}" alt="{_e(alt)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _pct(v: Any) -> str:
    return "" if pd.isna(v) else f"{float(v):.1f}"


# ------------------------------------------------------------------------------------------------ sections

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
            cells = [f"{_pct(sel.at[y, 'q50'])} [{_pct(sel.at[y, 'q10'])}–{_pct(sel.at[y, 'q90'])}]"
                     if y in sel.index else "" for y in years]
            rows.append([_e(style.geo_name(geo, lang)),
                         _e(style.indicator_name(ind, lang, tables.labels.get(ind))),
                         _e(style.definition_name(dfn, lang)), *cells])
    out = ["<h3>Headline indicators: median [80% interval], percent</h3>",
           _table(["Geo", "Indicator", "Definition", *map(str, years)], rows,
                  numeric=range(3, 3 + len(years)))]

    tp = tables.targets
    first = tables.first_projected_year
    due = tp[tp["evaluable"] & (tp["deadline"] >= first)].sort_values(["geo", "deadline", "indicator"])
    rows = []
    for r in due.itertuples(index=False):
        key, colour = style.likelihood(float(r.probability))
        rows.append([_e(style.geo_name(r.geo, lang)),
                     _e(style.indicator_name(r.indicator, lang, tables.labels.get(r.indicator))),
                     _e(style.definition_name(r.definition, lang)), _e(r.deadline),
                     _e(f"{style.comparator(r.comparator)}{r.target:g}%"),
                     f"{float(r.probability):.3f} ± {2 * float(r.mc_se):.3f}",
                     f'<span class="swatch" style="background:{colour}"></span> {_e(style.text(key, lang))}',
                     _e(r.document)])
    out += [f"<h3>Probability of meeting each target due {first} or later</h3>",
            '<p class="note">± two Monte Carlo standard errors. The same target stated in two documents is '
            "listed twice.</p>",
            _table(["Geo", "Indicator", "Definition", "Deadline", "Target", "P(met)", "Likelihood",
                    "Document"], rows, numeric=(5,))]
    if tables.all_targets is not None:                  # all_targets_probabilities.csv, checked by read_run
        rows = [[_e(style.geo_name(r.geo, lang)), _e(r.scope), _e(r.n_targets),
                 f"{float(r.probability):.3f}"] for r in tables.all_targets.itertuples(index=False)]
        out += ["<h3>Probability that all of a geo's targets are met</h3>",
                _table(["Geo", "Targets", "Number", "P(all met)"], rows, numeric=(2, 3))]
    past = tp[tp["evaluable"] & (tp["deadline"] < first)]
    never = tp[~tp["evaluable"]]
    rows = [[_e(style.geo_name(r.geo, lang)), _e(r.indicator), _e(r.definition), _e(r.deadline),
             _e(f"{style.comparator(r.comparator)}{r.target:g}"), _e(r.reason if "reason" in tp else ""),
             _e(r.document)] for r in never.itertuples(index=False)]
    out += [f"<details><summary>{len(never)} targets the model cannot evaluate, and why</summary>",
            _table(["Geo", "Indicator", "Definition", "Deadline", "Target", "Reason", "Document"], rows),
            "</details>",
            f'<p class="note">{len(past)} evaluable targets were due before {first} (observed years); their '
            "probabilities are in target_probabilities.csv.</p>"]
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
    out = [f"<p>{_e(raw.get('description', ''))}</p>"]
    facts = [["Name", _e(raw.get("name", tables.scenario))], ["Horizon", _e(raw.get("horizon", ""))],
             ["Geos", _e(", ".join(style.geo_name(g) for g in tables.geos))],
             ["Draws, seed", _e(f"{tables.draws}, {tables.manifest.get('seed', '')}")]]
    inv = raw.get("investment", {}) if isinstance(raw.get("investment"), dict) else {}
    unit = str(inv.get("unit", "multiple"))
    facts.append(["Investment unit", _e(unit + (" (multiple of the calibrated baseline effort)"
                                                if unit == "multiple" else ""))])
    out.append(_table(["", ""], facts))
    rows = []
    for key, value in inv.items():
        if key == "unit":
            continue
        per_geo = isinstance(value, dict) and all(isinstance(v, dict) or not str(k).isdigit()
                                                   for k, v in value.items())
        if per_geo:
            for pillar, sched in value.items():
                rows.append([_e(style.geo_name(key)), _e(pillar), _e(_schedule_text(sched))])
        else:
            rows.append(["all geos", _e(key), _e(_schedule_text(value))])
    if rows:
        out += ["<h3>Investment</h3>", _table(["Where", "Pillar", "Schedule"], rows)]
    events = raw.get("events", [])
    if isinstance(events, list) and events:
        rows = [[_e(ev.get("name", "")), _e(ev.get("indicator", "")), _e(ev.get("year", "")),
                 _e(", ".join(ev["geos"]) if isinstance(ev.get("geos"), list) else ev.get("geos", "all")),
                 _e(ev.get("speed_multiplier", 1)), _e(ev.get("ceiling_lift", 0))]
                for ev in events if isinstance(ev, dict)]
        out += ["<h3>Events</h3>",
                _table(["Event", "Indicator", "From", "Geos", "Speed ×", "Ceiling +pp"], rows)]
    out += ["<details><summary>scenario.toml as run</summary>", f"<pre>{_e(text)}</pre>", "</details>"]
    return "\n".join(out)


def _schedule_text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"from {y}: {v}" for y, v in value.items())
    return f"{value} throughout"


def _charts_section(tables: RunTables, charts: Path, lang: str) -> str:
    from .charts import fan_chart_keys, fan_stem

    out = ["<h3>Overview</h3>"]
    for p in sorted(charts.glob("overview*.svg")) or sorted(charts.glob("overview*.png")):
        out.append(_figure(p, f"All geos x headline indicators, scenario {tables.scenario}",
                           "overview chart"))
    by_geo: dict[str, list[str]] = {}
    for geo, ind, dfn in fan_chart_keys(tables):
        name = (f"{style.indicator_name(ind, lang, tables.labels.get(ind))} "
                f"({style.definition_name(dfn, lang)})")
        by_geo.setdefault(geo, []).append(_figure(_image(charts / fan_stem(geo, ind, dfn)),
                                                  f"{style.geo_name(geo, lang)}: {name}",
                                                  f"fan chart {name}"))
    for geo, figs in by_geo.items():
        out += [f"<h3>{_e(style.geo_name(geo, lang))}</h3>", '<div class="grid">', *figs, "</div>"]
    return "\n".join(out)


def _calibration_section(tables: RunTables) -> str:
    m = tables.manifest
    cal = m.get("calibration") or {}
    facts = [["Config", _e(cal.get("config", ""))],
             ["Config SHA-256", f"<code>{_e(cal.get('sha256', ''))}</code>"],
             ["Last year of data (jump-off)", _e(cal.get("jump_off_year", ""))],
             ["Readings up to (as of)", _e(cal.get("as_of") or "all")],
             ["Observations", _e((m.get("observations") or {}).get("file", ""))],
             ["Observations SHA-256", f"<code>{_e((m.get('observations') or {}).get('sha256', ''))}</code>"],
             ["Readings used", _e((m.get("observations") or {}).get("rows_used", ""))],
             ["Targets", _e((m.get("targets") or {}).get("file", ""))],
             ["dxsim version, run at", _e(f"{m.get('dxsim_version', '')}, {m.get('created_utc', '')}")]]
    out = [_table(["", ""], facts)]
    hyper = cal.get("hyper_parameters_at_mode") or {}
    if hyper:
        rows = [[_e(ind), *(f"{float(v.get(k, np.nan)):.3f}" for k in ("level_sd", "slope_sd", "obs_sd"))]
                for ind, v in hyper.items() if isinstance(v, dict)]
        out += ["<h3>Pooling and noise at the posterior mode</h3>",
                _table(["Indicator", "level sd", "slope sd", "observation sd"], rows, numeric=(1, 2, 3))]
    fit = tables.fit_table
    cols = [c for c in ("indicator", "geo", "n_observations", "definitions_observed", "pooled",
                        "rms_residual_pp", "slope_per_year") if c in fit.columns]
    fit = fit[fit["geo"].isin(tables.geos)] if "geo" in fit else fit
    rows = [[_e(f"{v:.3f}" if isinstance(v, float) else v) for v in r]
            for r in fit[cols].itertuples(index=False)]
    out += ["<h3>Fit per geo and indicator</h3>",
            '<p class="note">pooled: no reading, the geo gets the national distribution; RMS residual in '
            "percentage points.</p>", _table(cols, rows)]
    return "\n".join(out)


def _sources_section(tables: RunTables, lang: str) -> str:
    obs = tables.observations.sort_values(["geo", "indicator", "definition", "year"])
    rows = []
    for r in obs.itertuples(index=False):
        quote = str(getattr(r, "quote", "") or "")
        rows.append([_e(style.geo_name(r.geo, lang)), _e(r.indicator), _e(r.definition), _e(r.year),
                     _e(f"{float(r.value):g}"), _link(r.source_url),
                     f'<span title="{_e(quote)}">{_e(textwrap.shorten(quote, 140, placeholder="…"))}</span>'])
    out = [f"<p>{len(obs)} readings entered the fit for this scenario's geos; each links to its source.</p>",
           _table(["Geo", "Indicator", "Definition", "Year", "Value", "Source", "Quote"], rows,
                  numeric=(3, 4))]
    targets_file = Path(str((tables.manifest.get("targets") or {}).get("file", "")))
    if targets_file.is_file():
        try:
            tg = pd.read_csv(targets_file)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            tg = pd.DataFrame()
        if {"geo", "document", "source_url"} <= set(tg.columns):
            tg = tg[tg["geo"].isin(tables.geos)].drop_duplicates(["geo", "document", "source_url"])
            rows = [[_e(style.geo_name(r.geo, lang)), _e(r.document), _link(r.source_url)]
                    for r in tg.itertuples(index=False)]
            out += ["<h3>Target documents</h3>", _table(["Geo", "Document", "Source"], rows)]
    return "\n".join(out)


def _skill_section(skill: SkillFolder) -> str:
    frame = skill.skill
    rows = [[_e(f"{v:.3f}" if isinstance(v, float) else v) for v in r]
            for r in frame.head(200).itertuples(index=False)]
    out = [f'<p class="note">From {_e(skill.folder)}: rolling-origin backtest (forecasts made with the data '
           "available at each origin, scored on later readings).</p>",
           _table([_e(c) for c in frame.columns], rows)]
    if skill.pit is not None:
        out.append(_figure(skill.pit, "Calibration of the forecast intervals (PIT)", "PIT chart"))
    return "\n".join(out)


def _comparison_section(runs: Sequence[RunTables], tmp: Path, lang: str) -> str:
    from .charts import render_compare, run_labels

    labels = run_labels(runs)
    keys = ["geo", "indicator", "definition", "deadline", "comparator", "target"]
    merged = None
    for run, label in zip(runs, labels, strict=True):
        tp = run.targets[run.targets["evaluable"] & (run.targets["deadline"] >= run.first_projected_year)]
        tp = tp.groupby(keys, sort=False)["probability"].first().rename(label).reset_index()
        merged = tp if merged is None else merged.merge(tp, on=keys, how="outer")
    rows = [[_e(style.geo_name(r[0], lang)), _e(style.indicator_name(r[1], lang)),
             _e(style.definition_name(r[2], lang)), _e(r[3]), _e(f"{style.comparator(r[4])}{r[5]:g}%"),
             *(f"{v:.3f}" if pd.notna(v) else "" for v in r[6:])]
            for r in merged.sort_values(["geo", "deadline"]).itertuples(index=False)]
    out = ["<h3>P(target met) by scenario</h3>",
           _table(["Geo", "Indicator", "Definition", "Deadline", "Target", *map(_e, labels)], rows,
                  numeric=range(5, 5 + len(labels)))]
    charts = render_compare(runs, tmp / "compare", lang=lang, formats=("svg",))
    names = {f"compare_{geo}_{ind}_{dfn}": f"{style.geo_name(geo, lang)}: {style.indicator_name(ind, lang)} "
             f"({style.definition_name(dfn, lang)})"
             for geo in runs[0].geos for ind, dfn in runs[0].headline_series()}
    out += ['<div class="grid">', *(_figure(p, f"{names.get(p.stem, p.stem)}: {', '.join(labels)}",
                                            "scenario comparison") for p in charts), "</div>"]
    return "\n".join(out)


def build_report(runs: Sequence[RunTables], skills: Sequence[SkillFolder] = (), lang: str = "en") -> str:
    """The report as one HTML string (images embedded)."""
    style.check_lang(lang)
    sections: list[tuple[str, str, str]] = []           # (anchor, title, html)
    with tempfile.TemporaryDirectory(prefix="dxsim-report-") as tmp_name:
        tmp = Path(tmp_name)
        if len(runs) > 1:
            sections.append(("comparison", "Scenario comparison", _comparison_section(runs, tmp, lang)))
        for k, run in enumerate(runs):
            charts = _charts_for(run, tmp / f"charts-{k}", lang)
            name = run.scenario
            sections += [
                (_anchor(run, "summary"), f"{name}: summary", _summary_section(run, lang)),
                (_anchor(run, "probabilities"), f"{name}: target probabilities",
                 _figure(_image(charts / "target_probabilities"), "P(target met) per geo and target, sorted",
                         "target probability chart")),
                (_anchor(run, "charts"), f"{name}: forecasts", _charts_section(run, charts, lang)),
                (_anchor(run, "scenario"), f"{name}: scenario assumptions", _scenario_section(run)),
                (_anchor(run, "calibration"), f"{name}: calibration used", _calibration_section(run)),
                (_anchor(run, "sources"), f"{name}: data sources", _sources_section(run, lang)),
            ]
        for k, skill in enumerate(skills):
            sections.append((f"skill-{k}", "Forecast skill", _skill_section(skill)))
    title = "dxsim report: " + ", ".join(r.scenario for r in runs) if runs else "dxsim report"
    created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    toc = "".join(f'<li><a href="#{_e(a)}">{_e(t)}</a></li>' for a, t, _ in sections)
    body = "\n".join(f'<section id="{_e(a)}"><h2>{_e(t)}</h2>\n{h}\n</section>' for a, t, h in sections)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}"><head><meta charset="utf-8">'
            f"{_generator()}"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
            f"<h1>{_e(title)}</h1>\n"
            f'<p class="meta">Written by dxsim {_e(__version__)} on {_e(created)} from '
            f"{_e(', '.join(str(r.folder) for r in runs) or '-')}. Values are percent; intervals are "
            "Monte Carlo quantiles. Self-contained: opens offline.</p>\n"
            f"<nav><ul>{toc}</ul></nav>\n{body}\n</body></html>\n")


def _generator() -> str:
    """The tag written into every report; ``write_report`` only overwrites files that carry it."""
    return f'<meta name="generator" content="dxsim {html.escape(__version__, quote=True)}">'


GENERATOR_PREFIX = b'<meta name="generator" content="dxsim '
LEGACY_MARKERS = (b"<h1>dxsim report", b'<p class="meta">Written by dxsim ')   # reports before the tag


def is_dxsim_report(path: Path) -> bool:
    """True when ``path`` is an .html file written by ``write_report`` (its head carries the generator tag)."""
    if path.suffix.lower() not in (".html", ".htm") or not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    return GENERATOR_PREFIX in head or all(marker in head for marker in LEGACY_MARKERS)


def check_report_destination(out: Path) -> None:
    """Refuse to replace anything but a dxsim report (a folder, notes.csv, someone's page) at ``out``."""
    if out.is_dir():
        raise InputError(out, "", "is a folder; give a file name for the report, e.g. report.html")
    if out.exists() and not is_dxsim_report(out):
        raise InputError(out, "", "exists and is not a report written by dxsim; not overwritten (choose another "
                         "--out FILE or remove it)")


def write_report(folders: Sequence[str | Path], out: str | Path | None = None, lang: str = "en") -> Path:
    """Write ``report.html`` (default: in the first folder) atomically; returns its path. An existing file
    at ``out`` is only replaced when it is a dxsim report (checked before any work and again before the
    replace)."""
    out = Path(out) if out is not None else Path(folders[0]) / "report.html"
    check_report_destination(out)
    runs, skills = read_folders(folders)
    text = build_report(runs, skills, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        check_report_destination(out)               # a file may have appeared while the report was built
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


# ---------------------------------------------------------------------------------------------------- CLI

def plot_run(folder: str | Path, lang: str = "en", formats: Sequence[str] = style.FORMATS,
             geos: Sequence[str] | None = None, indicators: Sequence[str] | None = None) -> list[Path]:
    """Re-draw a results folder's charts into ``folder/charts`` (replaced atomically). With --geo or
    --indicator only those fan charts are drawn; the folder's other charts are kept."""
    from .charts import check_filters, read_run, render_run, run_jobs

    tables = read_run(folder)
    check_filters(tables, geos, indicators)
    charts = Path(folder) / "charts"
    stems = {job.stem for job in run_jobs(tables, geos, indicators)}
    with atomic_output_dir(charts) as tmp:
        if (geos or indicators) and charts.is_dir():
            for old in charts.iterdir():
                if old.is_file() and old.suffix in (".png", ".svg") and old.stem not in stems:
                    shutil.copy2(old, tmp / old.name)
        written = render_run(tables, tmp, lang=lang, formats=formats, geos=geos, indicators=indicators)
    return [charts / p.name for p in written]


def _formats(value: str | None) -> tuple[str, ...]:
    return style.FORMATS if value is None else (value,)


def cmd_plot(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    files = plot_run(args.results, args.lang, _formats(args.format), args.geo, args.indicator)
    seconds = time.perf_counter() - start
    print(f"wrote {len(files)} files to {Path(args.results) / 'charts'}/ in {seconds:.1f} s")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .charts import read_run, render_compare

    start = time.perf_counter()
    if len(args.results) < 2:
        raise InputError("dxsim compare", "RESULTS_DIR", "give at least two results folders to compare")
    runs = [read_run(d) for d in args.results]
    common = [g for g in runs[0].geos if all(g in r.geos for r in runs[1:])]
    if not common:
        raise InputError(args.results[1], "", "shares no geo with " + str(args.results[0]))
    with atomic_output_dir(args.out) as tmp:
        files = render_compare(runs, tmp, lang=args.lang, formats=_formats(args.format))
    print(f"wrote {len(files)} files to {args.out}/ in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    out = write_report(args.results, args.out, args.lang)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``plot``, ``compare`` and ``report`` to the dxsim command line."""
    lang = {"choices": style.LANGS, "default": "en", "help": "chart language (default: %(default)s)"}
    fmt = {"choices": style.FORMATS, "help": "only this format (default: PNG at 300 dpi and SVG)"}

    p = subparsers.add_parser("plot", help="re-draw a results folder's charts without simulating again",
                              description="Re-draw the charts of a results folder written by `dxsim run` "
                              "into RESULTS_DIR/charts (fan charts, target probabilities, overview), replacing "
                              "the folder. With --geo/--indicator only those fan charts are re-drawn and the "
                              "other charts are kept.")
    p.add_argument("results", type=Path, metavar="RESULTS_DIR", help="e.g. results/baseline")
    p.add_argument("--geo", action="append", metavar="G", help="only fan charts of this geo (repeatable)")
    p.add_argument("--indicator", action="append", metavar="I", help="only fan charts of this indicator "
                   "(repeatable)")
    p.add_argument("--format", **fmt)
    p.add_argument("--lang", **lang)
    p.set_defaults(func=cmd_plot)

    c = subparsers.add_parser("compare", help="draw the medians and 80%% bands of several runs together",
                              description="Per geo x headline indicator, the medians and 80%% bands of each "
                              "run (e.g. results/baseline results/accelerated).")
    c.add_argument("results", type=Path, nargs="+", metavar="RESULTS_DIR", help="two or more results folders")
    c.add_argument("--out", type=Path, default=Path("results/compare"), metavar="DIR",
                   help="output folder (default: %(default)s)")
    c.add_argument("--format", **fmt)
    c.add_argument("--lang", **lang)
    c.set_defaults(func=cmd_compare)

    r = subparsers.add_parser("report", help="write a self-contained report.html",
                              description="Write one self-contained HTML file (charts embedded, opens "
                              "offline) with the summary tables, the charts, the scenario's assumptions, the "
                              "calibration and the data sources of one or more results folders; a folder "
                              "with skill.csv (dxsim backtest) adds a forecast-skill section.")
    r.add_argument("results", type=Path, nargs="+", metavar="RESULTS_DIR", help="results folders")
    r.add_argument("--out", type=Path, metavar="FILE", help="output file (default: report.html in the first "
                   "RESULTS_DIR)")
    r.add_argument("--lang", **{**lang, "help": "language of names in tables and of charts drawn for the "
                   "report (default: en)"})
    r.set_defaults(func=cmd_report)


__all__ = ["build_report", "plot_run", "register_cli", "write_report"]
