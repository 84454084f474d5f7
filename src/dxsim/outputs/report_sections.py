"""The sections of ``report.html``. Each section is a self-contained function; the report is the lists below.

- ``REPORT_SECTIONS``: functions ``(ctx) -> list[Section]`` for the whole report, in order (the brief, the
  scenario comparison, every run's sections, forecast skill).
- ``RUN_SECTIONS``: ``(name, function)`` with ``function(ctx, k) -> str`` (HTML) for run ``k`` of ``ctx.runs``;
  each run gets these in order (``name``: the anchor, and the key of the title in ``report_words``).

To add a section, write its function (in its own module if it is long) and add one line to a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dxsim.outputs import style
from dxsim.outputs.report_brief import brief_sections
from dxsim.outputs.report_compare import comparison_section
from dxsim.outputs.report_html import chart_file, esc, figure_html, table_html
from dxsim.outputs.report_run import (
    calibration_section,
    charts_section,
    scenario_section,
    sources_section,
    summary_section,
)
from dxsim.outputs.report_verdicts import verdict_section
from dxsim.outputs.report_words import method_name, num, word

if TYPE_CHECKING:
    from dxsim.outputs.charts import RunTables

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


# skill.csv columns the report shows (all of them are in the file)
SKILL_SHOWN = ("method", "indicator", "definition", "horizon", "n", "mae_median", "coverage_50", "coverage_80",
               "coverage_95", "crps")


def _skill_cell(column: str, value: object, lang: str) -> str:
    if column == "indicator" and value != "all":
        return style.indicator_name(str(value), lang)
    if column == "definition" and isinstance(value, str) and value != "all":
        return style.definition_name(value, lang)
    if column == "method":
        return method_name(value, lang)
    return num(value, 3 if column.startswith("coverage") else 2, lang) if isinstance(value, float) else str(value)


def _skill_section(skill: SkillFolder, lang: str) -> str:
    """The backtest's scores, labelled, first 200 rows; every column is in skill.csv."""
    from dxsim.outputs.chartkit import short_path  # matplotlib: imported only when a report is built

    frame = skill.skill
    cols = [c for c in SKILL_SHOWN if c in frame.columns]
    rows = [[esc(_skill_cell(c, v, lang)) for c, v in zip(cols, r, strict=True)]
            for r in frame[cols].head(200).itertuples(index=False)]
    out = [f'<p class="note">{esc(word("skill_note", lang, folder=short_path(skill.folder)))}</p>',
           table_html([esc(word(f"skill_{c}", lang)) for c in cols], rows,
                      numeric=[k for k, c in enumerate(cols) if c not in SKILL_SHOWN[:3]])]
    if skill.pit is not None:
        out.append(figure_html(skill.pit, word("pit", lang), "PIT chart", lang))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- the lists

def _run_probabilities(ctx: ReportContext, k: int) -> str:
    return figure_html(chart_file(ctx.charts[k] / "target_probabilities"), word("probability_caption", ctx.lang),
                       "target probability chart", ctx.lang)


RUN_SECTIONS: list[tuple[str, Callable[[ReportContext, int], str]]] = [
    ("summary", lambda ctx, k: summary_section(ctx.runs[k], ctx.lang)),
    ("verdicts", verdict_section),
    ("probabilities", _run_probabilities),
    ("charts", lambda ctx, k: charts_section(ctx.runs[k], ctx.charts[k], ctx.lang)),
    ("scenario", lambda ctx, k: scenario_section(ctx.runs[k], ctx.lang)),
    ("calibration", lambda ctx, k: calibration_section(ctx.runs[k], ctx.lang)),
    ("sources", lambda ctx, k: sources_section(ctx.runs[k], ctx.lang)),
]


def comparison_sections(ctx: ReportContext) -> list[Section]:
    if len(ctx.runs) < 2:
        return []
    return [Section("comparison", word("comparison", ctx.lang), comparison_section(ctx.runs, ctx.scratch, ctx.lang))]


def run_sections(ctx: ReportContext) -> list[Section]:
    """``RUN_SECTIONS`` for each run, run after run."""
    return [Section(_anchor(run, name), f"{run.scenario}: {word(name, ctx.lang)}", make(ctx, k))
            for k, run in enumerate(ctx.runs) for name, make in RUN_SECTIONS]


def skill_sections(ctx: ReportContext) -> list[Section]:
    return [Section(f"skill-{k}", word("skill", ctx.lang), _skill_section(skill, ctx.lang))
            for k, skill in enumerate(ctx.skills)]


def track_record_sections(ctx: ReportContext) -> list[Section]:
    """What dxsim said at past origins and what happened: one section per ``dxsim scorecard`` folder."""
    from dxsim.outputs.report_track import track_record_section

    return [Section(f"track-record-{k}", word("track_record", ctx.lang), track_record_section(folder, ctx.lang,
                                                                                   ctx.scratch / f"track-{k}"))
            for k, folder in enumerate(ctx.scorecards)]


def policy_sections(ctx: ReportContext) -> list[Section]:
    """What moves the targets and what it would take: one section per policy folder (``policyreport.py``)."""
    from dxsim.outputs.policyreport import policy_section

    return [Section(f"policy-{k}", *policy_section(folder, ctx.lang, ctx.scratch / f"policy-{k}"))
            for k, folder in enumerate(ctx.policy)]


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
