"""The overview (all geos x headline indicators) and the scenario comparison charts."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from . import style
from .chartkit import (
    _axis_labels,
    _calibration_sha,
    _dodge,
    _draw_fan,
    _footnote,
    _legend,
    _mark_projection,
    _new_figure,
    _series,
    _targets,
    _title,
    _title_names,
    _y_top,
)
from .fanchart import FAN_AXES, FAN_SIZE, _band_handles
from .runtables import RunTables

OVERVIEW_ROWS = 6          # geos per overview page
def overview_pages(tables: RunTables, per_page: int = OVERVIEW_ROWS) -> list[tuple[str, ...]]:
    """Geos of each overview page (none when the run has no headline indicator)."""
    if not tables.headline_series():
        return []
    geos = tables.geos
    return [geos[k:k + per_page] for k in range(0, len(geos), per_page)]


def overview_chart(tables: RunTables, page: Sequence[str], lang: str = "en") -> Figure:
    """Small multiples: the page's geos (rows) x headline indicators (columns), median with 50% and 80%
    bands, readings and targets."""
    series = tables.headline_series()
    bands = tuple(b for b in style.BANDS if b[2] in (50, 80))
    nrow, ncol = len(page), len(series)
    height = 1.3 + 1.75 * nrow                                     # inches
    fig = _new_figure(max(8.0, 2.75 * ncol), height)
    grid = fig.add_gridspec(nrow, ncol, left=0.09, right=0.985, top=1 - 1.0 / height,
                            bottom=0.45 / height, hspace=0.3, wspace=0.22)
    for r, geo in enumerate(page):
        for c, (ind, dfn) in enumerate(series):
            ax = fig.add_subplot(grid[r, c])
            rows = _series(tables, geo, ind, dfn)
            _draw_fan(ax, rows, style.FAN_COLOR, bands)
            obs = tables.observations
            obs = obs[(obs["geo"] == geo) & (obs["indicator"] == ind) & (obs["definition"] == dfn)]
            if len(obs):
                ax.plot(obs["year"], obs["value"], ls="none", marker="o", ms=3.5, zorder=5,
                        color=style.OBSERVED_COLOR, gid=f"observations-{geo}-{ind}")
            tg = _targets(tables, geo, ind, dfn)
            if tg:
                ax.plot([t["deadline"] for t in tg], [t["target"] for t in tg], ls="none", marker="*",
                        ms=7, color=style.TARGET_COLOR, zorder=6)
            top = _y_top(rows["q90"], obs["value"], [t["target"] for t in tg])
            ax.set_ylim(0, top * 1.04)
            ax.set_xlim(int(rows["year"].min()) - 0.5, int(rows["year"].max()) + 0.5)
            _mark_projection(ax, tables.first_projected_year, lang, labels=False)
            ax.tick_params(labelsize=6.5)
            ax.xaxis.set_major_locator(ticker.MultipleLocator(2))
            if r == 0:
                name = style.indicator_name(ind, lang, tables.labels.get(ind))
                ax.set_title(textwrap.fill(f"{name} ({style.definition_name(dfn, lang)})", 34),
                             fontsize=8, fontweight="bold")
            if c == 0:
                ax.set_ylabel(style.geo_name(geo, lang), fontsize=8.5, fontweight="bold")
                ax.yaxis.set_label_coords(-0.2, 0.5)
            if r < nrow - 1:
                ax.tick_params(labelbottom=False)
    fig.text(0.01, 1 - 0.12 / height, style.text("overview_title", lang, scenario=tables.scenario),
             fontsize=10.5, fontweight="bold", va="top")
    handles = [Line2D([], [], color=style.FAN_COLOR, lw=1.8, label=style.text("median", lang))]
    handles += _band_handles(bands, _series(tables, page[0], *series[0]), style.FAN_COLOR, lang)
    handles += [Line2D([], [], ls="none", marker="o", ms=4, color=style.OBSERVED_COLOR,
                       label=style.text("observed", lang)),
                Line2D([], [], ls="none", marker="*", ms=7, color=style.TARGET_COLOR,
                       label=style.text("target", lang))]
    _legend(fig, handles, 0.01, 1 - 0.42 / height, ncol=6, fontsize=7)
    fig.text(0.01, 0.01, _footnote(tables, lang), fontsize=5.8, color=style.MUTED, va="bottom")
    return fig


def run_labels(runs: Sequence[RunTables]) -> list[str]:
    """Legend names of runs: the scenario name, with the folder name where two runs share it."""
    names = [r.scenario for r in runs]
    return [f"{n} ({r.folder.name})" if names.count(n) > 1 else n for n, r in zip(names, runs, strict=True)]


def compare_chart(runs: Sequence[RunTables], geo: str, indicator: str, definition: str,
                  lang: str = "en") -> Figure:
    """Medians and 80% bands of several runs for one series, with the first run's readings and targets."""
    names = _title_names(runs[0], geo, indicator, definition, lang)
    fig = _new_figure(*FAN_SIZE)
    ax = fig.add_axes(FAN_AXES)
    handles: list[Any] = []
    tops: list[float] = []
    for k, (run, label) in enumerate(zip(runs, run_labels(runs), strict=True)):
        colour = style.PALETTE[k % len(style.PALETTE)]
        rows = _series(run, geo, indicator, definition)
        if rows.empty:
            continue
        _draw_fan(ax, rows, colour, (("q10", "q90", 80, 0.18),))
        handles.append(Line2D([], [], color=colour, lw=1.8,
                              label=style.text("compare_band", lang, name=label)))
        tops += rows["q90"].tolist()
    first = runs[0]
    obs = first.observations
    obs = obs[(obs["geo"] == geo) & (obs["indicator"] == indicator) & (obs["definition"] == definition)]
    if len(obs):
        line, = ax.plot(_dodge(obs["year"].to_numpy()), obs["value"], ls="none", marker="o", ms=5, zorder=5,
                        mfc=style.OBSERVED_COLOR, mec="white", mew=0.7, label=style.text("observed", lang))
        line.set_gid("observations")
        handles.append(line)
    tg = _targets(first, geo, indicator, definition)
    if tg:
        line, = ax.plot([t["deadline"] for t in tg], [t["target"] for t in tg], ls="none", marker="*", ms=11,
                        mfc=style.TARGET_COLOR, mec="white", mew=0.6, zorder=6,
                        label=style.text("target", lang))
        line.set_gid("targets")
        handles.append(line)
    top = _y_top(tops, obs["value"], [t["target"] for t in tg])
    ax.set_ylim(0, top * 1.04)
    years = first.trajectories["year"]
    first_year = min(int(years.min()), int(obs["year"].min()) if len(obs) else int(years.min()))
    ax.set_xlim(first_year - 0.6, int(years.max()) + 0.6)
    _mark_projection(ax, first.first_projected_year, lang)
    _title(ax, style.text("compare_title", lang, **names))
    _axis_labels(ax, style.text("year", lang), style.indicator_unit(indicator, lang), top)
    _legend(fig, handles, FAN_AXES[0] - 0.02, FAN_AXES[1] - 0.12, ncol=2)
    foot = " | ".join(f"{label}: {r.draws} draws, calibration {_calibration_sha(r)}"
                      for r, label in zip(runs, run_labels(runs), strict=True))
    fig.text(0.01, 0.012, f"dxsim {first.manifest.get('dxsim_version', '?')} · {foot}", fontsize=5.5,
             color=style.MUTED, va="bottom")
    return fig


