"""The overview (all geos x headline indicators) and the scenario comparison charts."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from dxsim.outputs import chartkit as kit
from dxsim.outputs import style
from dxsim.outputs.fanchart import FOOT_CHARS, NO_READING_YEARS, _band_handles, _from_first_reading
from dxsim.outputs.headline_draws import paired_difference, unpaired_reason
from dxsim.outputs.runtables import RunTables

OVERVIEW_ROWS = 6          # geos per overview page
ROW_INCHES = 1.3           # height of one overview row


def overview_pages(tables: RunTables, per_page: int = OVERVIEW_ROWS) -> list[tuple[str, ...]]:
    """Geos of each overview page (none when the run has no headline indicator)."""
    if not tables.headline_series():
        return []
    geos = tables.geos
    return [geos[k:k + per_page] for k in range(0, len(geos), per_page)]


def _readings(tables: RunTables, geo: str, indicator: str, definition: str) -> pd.DataFrame:
    return kit.series_readings(tables, geo, indicator, definition)


def _page_start(tables: RunTables, page: Sequence[str], series: Sequence[tuple[str, str]]) -> float:
    """Where an overview page's panels start (continuous time): where the fan charts start, at the page's first
    reading or NO_READING_YEARS before the first projected year, whichever is earlier."""
    start = float(tables.first_projected_year - NO_READING_YEARS)
    for geo in page:
        for ind, dfn in series:
            obs = _readings(tables, geo, ind, dfn)
            if len(obs):
                start = min(start, float(np.min(tables.reading_x(obs))))
    return start


def overview_chart(tables: RunTables, page: Sequence[str], lang: str = "en") -> Figure:
    """Small multiples: the page's geos (rows) x headline indicators (columns, with their unit), median
    with 50% and 80% bands, readings at their month, the anchor definition's targets (filled stars) and the
    targets stated in another definition of the indicator, e.g. fibre coverage (hollow stars)."""
    series = tables.headline_series()
    bands = tuple(b for b in style.BANDS if b[2] in (50, 80))
    nrow, ncol = len(page), len(series)
    footnote = kit._footnote(tables, lang, width=FOOT_CHARS)
    head, foot = 1.05, 0.04 + 0.117 * (footnote.count("\n") + 1) + 0.36      # inches: the footnote, tick labels
    height = head + foot + ROW_INCHES * nrow                                     # inches
    fig = kit._new_figure(style.DOC_WIDTH, height)
    grid = fig.add_gridspec(nrow, ncol, left=0.1, right=0.985, top=1 - head / height,
                            bottom=foot / height, hspace=0.28, wspace=0.3)
    other_definitions = False
    start = _page_start(tables, page, series)
    for r, geo in enumerate(page):
        for c, (ind, dfn) in enumerate(series):
            ax = fig.add_subplot(grid[r, c])
            rows = kit._series(tables, geo, ind, dfn)
            rows, x = _from_first_reading(tables, rows, tables.year_x(ind, rows["year"]), np.array([start]))
            kit._draw_fan(ax, x, rows, style.FAN_COLOR, bands)
            obs = _readings(tables, geo, ind, dfn)
            if len(obs):
                ax.plot(tables.reading_x(obs), obs["value"], ls="none", marker="o", ms=3, zorder=5,
                        color=style.OBSERVED_COLOR, gid=f"observations-{geo}-{ind}")
            tg = kit.group_targets(tables, kit.rows_of(tables, "targets", ("geo", "indicator"), (geo, ind)))
            mine = [t for t in tg if t["definition"] == dfn]
            other = [t for t in tg if t["definition"] != dfn]
            if mine:
                ax.plot([t["x"] for t in mine], [t["target"] for t in mine], ls="none", marker="*",
                        ms=7, color=style.TARGET_COLOR, zorder=6)
            if other:
                other_definitions = True
                ax.plot([t["x"] for t in other], [t["target"] for t in other], ls="none", marker="*",
                        ms=7, mfc="white", mec=style.TARGET_COLOR, mew=0.8, zorder=6,
                        gid=f"other-definition-targets-{geo}-{ind}")
            top = kit._y_top(rows["q90"], obs["value"], [t["target"] for t in tg])
            ax.set_ylim(0, top * 1.04)
            ax.set_xlim(math.floor(float(x.min()) - 0.25), float(x.max()) + 0.3)
            kit._mark_projection(ax, tables.first_projected_year, lang, labels=False)
            ax.tick_params(labelsize=style.MIN_FONT)
            ax.xaxis.set_major_locator(ticker.MultipleLocator(5))
            if r == 0:
                name = style.indicator_name(ind, lang, tables.labels.get(ind))
                unit = style.indicator_unit(ind, lang)
                ax.set_title(textwrap.fill(f"{name} ({style.definition_name(dfn, lang)}), {unit}", 26),
                             fontsize=style.MIN_FONT + 0.5, fontweight="bold")
            if c == 0:
                ax.set_ylabel(style.geo_name(geo, lang), fontsize=style.MIN_FONT + 1, fontweight="bold")
                ax.yaxis.set_label_coords(-0.3, 0.5)
            if geo == style.NATIONAL and "GRDP" in style.indicator_name(ind, lang):
                ax.text(0.02, 0.97, style.indicator_unit(ind, lang, geo), transform=ax.transAxes,
                        fontsize=style.MIN_FONT, va="top", color=style.MUTED)
            if r < nrow - 1:
                ax.tick_params(labelbottom=False)
    fig.text(0.01, 1 - 0.1 / height, style.text("overview_title", lang, scenario=tables.scenario),
             fontsize=9.5, fontweight="bold", va="top")
    handles = [Line2D([], [], color=style.FAN_COLOR, lw=1.8, label=style.text("median", lang))]
    handles += _band_handles(bands, kit._series(tables, page[0], *series[0]), style.FAN_COLOR, lang)
    handles += [Line2D([], [], ls="none", marker="o", ms=4, color=style.OBSERVED_COLOR,
                       label=style.text("observed", lang)),
                Line2D([], [], ls="none", marker="*", ms=7, color=style.TARGET_COLOR,
                       label=style.text("target", lang))]
    if other_definitions:
        handles.append(Line2D([], [], ls="none", marker="*", ms=7, mfc="white", mec=style.TARGET_COLOR,
                              label=style.text("target_other_definition", lang)))
    kit._legend(fig, handles, 0.01, 1 - 0.38 / height, ncol=3, fontsize=style.MIN_FONT, row_inches=0.16)
    fig.text(0.01, 0.04 / height, footnote, fontsize=style.MIN_FONT,
             color=style.MUTED, va="bottom", linespacing=1.2)
    return fig


def run_labels(runs: Sequence[RunTables]) -> list[str]:
    """Legend names of runs: the scenario name, with the folder name where two runs share it."""
    names = [r.scenario for r in runs]
    return [f"{n} ({r.folder.name})" if names.count(n) > 1 else n for n, r in zip(names, runs, strict=True)]


def compare_chart(runs: Sequence[RunTables], geo: str, indicator: str, definition: str,
                  lang: str = "en") -> Figure:
    """Top: the first run's median and 80% band (shaded) and every other run's median and 80% band (its
    edges drawn as lines: bands never blend into a colour the legend lacks), with readings and targets.
    Bottom: each other run minus the first, draw by draw where the runs share their random numbers (same seed,
    draws, calibration and data; ``headline_draws.npz``): the median and 80% band of the paired differences;
    else, marked as not paired (dashed, hatched, the reason in the legend), the difference of the medians and of
    the 10% and 90% quantiles."""
    names = kit._title_names(runs[0], geo, indicator, definition, lang)
    labels = run_labels(runs)
    height = 5.6
    fig = kit._new_figure(style.DOC_WIDTH, height)
    ax = fig.add_axes((0.11, 2.55 / height, 0.86, 2.55 / height))
    dx = fig.add_axes((0.11, 1.3 / height, 0.86, 1.0 / height), sharex=ax)
    handles: list[Any] = []
    tops: list[float] = []
    first = runs[0]
    base = kit._series(first, geo, indicator, definition).set_index("year")
    x_all = first.year_x(indicator, base.index)
    for k, (run, label) in enumerate(zip(runs, labels, strict=True)):
        colour = style.PALETTE[k % len(style.PALETTE)]
        rows = kit._series(run, geo, indicator, definition)
        if rows.empty:
            continue
        x = run.year_x(indicator, rows["year"])
        if k == 0:
            kit._draw_fan(ax, x, rows, colour, (("q10", "q90", 80, 0.22),))
            handles.append(Patch(color=colour, alpha=0.22, lw=0, label=style.text("compare_band", lang,
                                                                                 name=label)))
        else:
            ax.plot(x, rows["q50"], color=colour, lw=1.8)
            for col in ("q10", "q90"):
                ax.plot(x, rows[col], color=colour, lw=0.9, ls=(0, (3, 2)))
            handles.append(Line2D([], [], color=colour, lw=1.8, ls=(0, (3, 2)),
                                  label=style.text("compare_band", lang, name=label)))
            why = unpaired_reason(first, run)
            paired = None if why else paired_difference(first, run, geo, (indicator, definition))
            if paired is not None:
                years, diff = paired
            else:       # not paired: the difference of quantiles (no interval of the difference itself)
                both = rows.set_index("year").merge(base, left_index=True, right_index=True, suffixes=("", "_base"))
                years = both.index.to_numpy()
                diff = {q: (both[q] - both[f"{q}_base"]).to_numpy() for q in ("q10", "q50", "q90")}
            bx = run.year_x(indicator, years)
            dx.fill_between(bx, diff["q10"], diff["q90"], color=colour, alpha=0.25 if paired is not None else 0.12,
                            lw=0, hatch=None if paired is not None else "///", gid=f"difference-band-{k}")
            dx.plot(bx, diff["q50"], color=colour, lw=1.6, ls="-" if paired is not None else (0, (3, 2)),
                    gid=f"difference-{k}" + ("" if paired is not None else "-unpaired"))
            handles.append(Patch(color=colour, alpha=0.25, lw=0, label=(
                style.text("difference_paired", lang, name=label, base=labels[0]) if paired is not None else
                style.text("difference_unpaired", lang, name=label, base=labels[0],
                           why=style.text(why or "unpaired_file", lang)))))
        tops += rows["q90"].tolist()
    dx.axhline(0, color=style.MUTED, lw=0.8)
    obs = _readings(first, geo, indicator, definition)
    if len(obs):
        line, = ax.plot(kit._dodge(first.reading_x(obs), 0.08), obs["value"], ls="none", marker="o", ms=5, zorder=5,
                        mfc=style.OBSERVED_COLOR, mec="white", mew=0.7, label=style.text("observed", lang))
        line.set_gid("observations")
        handles.append(line)
    tg = kit._targets(first, geo, indicator, definition)
    if tg:
        line, = ax.plot([t["x"] for t in tg], [t["target"] for t in tg], ls="none", marker="*", ms=11,
                        mfc=style.TARGET_COLOR, mec="white", mew=0.6, zorder=6,
                        label=style.text("target", lang))
        line.set_gid("targets")
        handles.append(line)
        for t in tg:
            ax.annotate(f"{kit.target_text(t, lang)} {style.text('by', lang, year=t['deadline'])}",
                        (t["x"], t["target"]), (-6, 0), textcoords="offset points", ha="right", va="center",
                        fontsize=style.MIN_FONT, color="#222222")
    top = kit._y_top(tops, obs["value"], [t["target"] for t in tg])
    ax.set_ylim(0, top * 1.04)
    x0 = min(float(x_all.min()), float(first.reading_x(obs).min()) if len(obs) else float(x_all.min()))
    ax.set_xlim(math.floor(x0 - 0.25), float(x_all.max()) + 0.4)
    kit._mark_projection(ax, first.first_projected_year, lang, note=kit.reading_note(first, geo, indicator, definition,
                                                                            lang))
    dx.axvline(first.first_projected_year, color=style.MUTED, lw=0.8, ls=(0, (4, 3)))
    kit._title(ax, style.text("compare_title", lang, **names), size=9.5, fits=70)
    kit._axis_labels(ax, "", style.indicator_unit(indicator, lang, geo), top, label_pad=0.08)
    ax.tick_params(labelbottom=False)
    dx.set_ylabel(style.text("difference_axis", lang), fontsize=style.MIN_FONT)
    dx.yaxis.set_label_coords(-0.08, 0.5)
    dx.set_xlabel(style.text("year", lang))
    dx.tick_params(labelsize=style.MIN_FONT)
    foot = " | ".join(f"{label}: {r.draws} draws, seed {r.manifest.get('seed', '?')}, calibration "
                      f"{kit._calibration_sha(r)}" for r, label in zip(runs, labels, strict=True))
    foot = textwrap.fill(f"dxsim {first.manifest.get('dxsim_version', '?')} · {foot}", FOOT_CHARS)
    # the height below the panels: the year label, the legend (one row per entry with several runs), the footnote
    ncol = 1 if len(runs) > 1 else 2
    legend_h = 0.16 * kit.legend_rows(handles, style.DOC_WIDTH, 0.02, ncol, fontsize=style.MIN_FONT)
    foot_h = 0.12 * (foot.count("\n") + 1) + 0.1
    below = 0.5 + legend_h + foot_h
    height = below + 1.0 + 0.25 + 2.55 + 0.45
    fig.set_size_inches(style.DOC_WIDTH, height)
    ax.set_position((0.11, (below + 1.25) / height, 0.86, 2.55 / height))
    dx.set_position((0.11, below / height, 0.86, 1.0 / height))
    kit._legend(fig, handles, 0.02, (below - 0.45) / height, ncol=ncol, fontsize=style.MIN_FONT, row_inches=0.16)
    fig.text(0.01, 0.04 / height, foot, fontsize=style.MIN_FONT, color=style.MUTED, va="bottom", linespacing=1.2)
    return fig
