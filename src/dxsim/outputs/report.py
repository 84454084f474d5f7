"""``report.html`` for report writers, and re-drawing a results folder's charts (``dxsim plot``).

The report is one self-contained HTML file: charts are embedded as data URIs, styles are inline, there is no
script, and the only links are the data sources (``source_url``), so it opens offline. Everything is read from
results folders written by ``dxsim run`` (and ``dxsim backtest`` for the forecast-skill section).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dxsim import __version__
from dxsim.errors import InputError
from dxsim.outputs import style
from dxsim.outputs.explicit_tables import read_explicit
from dxsim.outputs.marker import record_written
from dxsim.outputs.report_html import CSS, chart_file, esc
from dxsim.outputs.report_sections import ReportContext, SkillFolder, build_sections
from dxsim.outputs.report_words import word
from dxsim.outputs.results import check_output_dir, remove_stale_files

if TYPE_CHECKING:
    from dxsim.outputs.charts import RunTables

# dxsim.outputs.charts (matplotlib) is imported inside the functions that draw: the CLI imports this module for every
# command, and only plot, compare and report need it.

# ------------------------------------------------------------------------------------------------ inputs

def _read_skill(folder: Path) -> SkillFolder | None:
    path = folder / "skill.csv"
    if not path.is_file():
        return None
    try:
        skill = read_explicit(path)                 # 'none' (a skill that does not exist): NaN
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV table ({type(exc).__name__})") from None
    pit = folder / "pit.png"
    return SkillFolder(folder, skill, pit if pit.is_file() else None)


def read_folders(folders: Sequence[str | Path]
                 ) -> tuple[list[RunTables], list[SkillFolder], list[Path], list[Path]]:
    """Run folders (with trajectories.csv), skill folders, scorecard folders (``dxsim scorecard``) and policy
    folders (``dxsim sensitivity``, ``dxsim required-investment``); anything else raises InputError."""
    from dxsim.outputs.charts import read_run
    from dxsim.outputs.policyreport import is_policy_folder

    runs, skills, cards, policy = [], [], [], []
    for raw in folders:
        folder = Path(raw)
        if not folder.is_dir():
            raise InputError(folder, "", "not a results folder (no such directory)")
        skill = _read_skill(folder)
        if skill is not None:
            skills.append(skill)
        if (folder / "scorecard.csv").is_file():
            cards.append(folder)
        if is_policy_folder(folder):
            policy.append(folder)
        if (folder / "trajectories.csv").exists() or (skill is None and folder not in cards + policy):
            runs.append(read_run(folder))
    return runs, skills, cards, policy


def _charts_for(tables: RunTables, out: Path, lang: str) -> Path:
    """The run's charts in ``lang``: ``charts/`` (English) or ``charts/<lang>/`` when each chart the report embeds
    there was drawn from these tables (its key is current). Otherwise the missing or stale charts are drawn as SVG
    (what the report embeds; ``dxsim plot --lang`` adds PNG): into ``charts/<lang>/`` when the run has charts and
    none of them was changed by hand, else (``run --no-charts``, a chart changed by hand, or a results folder that
    cannot be written) all into ``out``, for the report only."""
    from dxsim.outputs import chart_keys
    from dxsim.outputs.charts import charts_dir, install_charts, render_run, run_chart_keys, run_jobs

    charts = charts_dir(tables.folder, lang)
    jobs = run_jobs(tables)
    keys = run_chart_keys(tables, jobs, lang, style.FORMATS) if charts.is_dir() else {}
    current = chart_keys.current(charts, keys)
    embedded = [chart_file(charts / job.stem) for job in jobs]      # the files the report would take
    if charts.is_dir() and all(path is not None and path.name in current for path in embedded):
        return charts
    if (tables.folder / "charts").is_dir() and not chart_keys.by_hand(charts, (f"{j.stem}.svg" for j in jobs)):
        try:
            install_charts(tables, charts, lang=lang, formats=("svg",))
            return charts
        except OSError:
            pass
    render_run(tables, out, lang=lang, formats=("svg",))
    return out


def remove_stale_charts(folder: str | Path) -> list[Path]:
    """Remove the charts dxsim drew into ``folder``'s ``charts/`` (and ``charts/<lang>/``) for earlier tables:
    recorded charts whose key no longer matches the folder's tables and whose bytes are unchanged (``run
    --no-charts``). Charts still current, and files written or changed by hand, are kept. Returns the removed."""
    from dxsim.outputs import chart_keys
    from dxsim.outputs.charts import charts_dir, read_run, run_chart_keys, run_jobs

    folders = [charts_dir(folder, lang) for lang in style.LANGS]
    if not any(chart_keys.recorded_in(c) for c in folders):
        return []                                   # no recorded charts: no tables to read
    tables = read_run(folder)
    jobs = run_jobs(tables)
    return [c / name for lang, c in zip(style.LANGS, folders, strict=True)
            for name in chart_keys.remove_stale(c, run_chart_keys(tables, jobs, lang, style.FORMATS))]


def report_name(lang: str = "en") -> str:
    """The report's default file name: ``report.html``, ``report.<lang>.html`` for another language (each
    language in its own file)."""
    return "report.html" if style.check_lang(lang) == "en" else f"report.{lang}.html"



def build_report(runs: Sequence[RunTables], skills: Sequence[SkillFolder] = (), lang: str = "en",
                 scorecards: Sequence[Path] = (), policy: Sequence[Path] = ()) -> str:
    """The report as one HTML string (images embedded): the sections of ``report_sections.REPORT_SECTIONS``."""
    style.check_lang(lang)
    with tempfile.TemporaryDirectory(prefix="dxsim-report-") as tmp_name:
        tmp = Path(tmp_name)
        charts = tuple(_charts_for(run, tmp / f"charts-{k}", lang) for k, run in enumerate(runs))
        sections = build_sections(ReportContext(tuple(runs), tuple(skills), lang, charts, tmp,
                                                  tuple(scorecards), tuple(policy)))
    title = word("report_title", lang) + (": " + ", ".join(r.scenario for r in runs) if runs else "")
    created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    folders = ", ".join(str(r.folder) for r in runs) or "-"
    toc = "".join(f'<li><a href="#{esc(s.anchor)}">{esc(s.title)}</a></li>' for s in sections)
    body = "\n".join(f'<section id="{esc(a)}"><h2>{esc(t)}</h2>\n{h}\n</section>' for a, t, h in
                     ((s.anchor, s.title, s.html) for s in sections))
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}"><head><meta charset="utf-8">'
            f"{_generator()}"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
            f"<h1>{esc(title)}</h1>\n"
            f'<p class="meta">{esc(word("meta", lang, version=__version__, created=created, folders=folders))}'
            "</p>\n"
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
                         "output file or remove it)")


def write_report(folders: Sequence[str | Path], out: str | Path | None = None, lang: str = "en") -> Path:
    """Write the report in ``lang`` (default: ``report_name(lang)`` in the first folder) atomically; returns its
    path. An existing file
    at ``out`` is only replaced when it is a dxsim report (checked before any work and again before the
    replace)."""
    out = Path(out) if out is not None else Path(folders[0]) / report_name(lang)
    check_report_destination(out)
    runs, skills, cards, policy = read_folders(folders)
    text = build_report(runs, skills, lang, cards, policy)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_files(out.parent, f".{out.name}.tmp-")       # left by report runs that were killed
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        check_report_destination(out)               # a file may have appeared while the report was built
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    record_written(out.parent, out.name)            # a later `dxsim run` into that folder keeps it
    return out


# ---------------------------------------------------------------------------------------------------- CLI

def plot_run(folder: str | Path, lang: str = "en", formats: Sequence[str] = style.FORMATS,
             geos: Sequence[str] | None = None, indicators: Sequence[str] | None = None,
             out: str | Path | None = None) -> list[Path]:
    """Re-draw a results folder's charts in ``lang`` into ``out`` (default ``charts/``, or ``charts/<lang>/``
    for a language other than English). Only the files drawn are replaced: with --geo/--indicator only those
    fan charts, with --format only that format; other charts, formats and languages are left as they were."""
    from dxsim.outputs.charts import charts_dir, check_filters, install_charts, read_run
    from dxsim.outputs.mapparts import canonical_geos

    dest = Path(out) if out is not None else charts_dir(folder, lang)
    if out is not None:
        check_output_dir(dest)
    tables = read_run(folder)
    geos = canonical_geos(tables, geos)             # NAME@pre2025 of an unchanged province is NAME
    check_filters(tables, geos, indicators)
    return install_charts(tables, dest, lang=lang, formats=formats, geos=geos, indicators=indicators)


__all__ = ["build_report", "plot_run", "remove_stale_charts", "write_report"]
