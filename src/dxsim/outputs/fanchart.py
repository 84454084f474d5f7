"""Fan charts: one geo x indicator x definition, median with 50/80/95% bands, readings and targets."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from dxsim.errors import InputError
from dxsim.inputs.geography import MERGER_YEAR
from dxsim.outputs import style
from dxsim.outputs.chartkit import (
    _axis_labels,
    _dodge,
    _draw_fan,
    _footnote,
    _legend,
    _mark_projection,
    _series,
    _spread,
    _targets,
    _title,
    _title_names,
    _y_top,
    definition_label,
    legend_rows,
    method_break,
    p_text,
    reading_note,
    series_readings,
    source_name,
    target_text,
)
from dxsim.outputs.document_names import document_name
from dxsim.outputs.figurepool import axes_figure
from dxsim.outputs.mapparts import PART_MARKERS, map_footnote, part_readings, parts_mean, shows_merger, word
from dxsim.outputs.runtables import RunTables

FAN_SIZE = (style.DOC_WIDTH, 4.3)       # inches: 16 cm wide, text >= 7 pt at that size
FAN_AXES = (0.1, 0.33, 0.87, 0.58)       # the compare chart's axes (figure fractions)
LABEL_FONTSIZE = style.MIN_FONT
LEGEND_TOP = 0.5                         # inches from the plot area's foot to the legend's first row (centre)
LEGEND_ROW = 0.17                        # inches per legend row
AXES_INCHES = 2.55                       # height of the fan chart's plot area
FOOT_CHARS = 120                         # characters per footnote line
NO_READING_YEARS = 6                     # a series without readings is drawn from this many years before projection
DOC_CHARS = 118                          # characters per line of the document list at 7 pt, 16 cm


def _band_handles(bands: Sequence[tuple[str, str, int, float]], rows: pd.DataFrame, color: str,
                  lang: str) -> list[Patch]:
    """Legend patches, narrowest band first, each with the opacity it has where the bands overlap."""
    handles = []
    for k in range(len(bands) - 1, -1, -1):
        lo, hi, coverage, _ = bands[k]
        if lo in rows and hi in rows:
            alpha = 1 - float(np.prod([1 - b[3] for b in bands[: k + 1]]))
            label = style.text("band", lang, coverage=coverage)
            handles.append(Patch(color=color, alpha=alpha, lw=0, label=label))
    return handles


def _label_targets(ax: Any, targets: list[dict[str, Any]], numbers: list[str], xlim: tuple[float, float],
                   top: float, lang: str) -> None:
    """Label each target marker with its document number(s), comparator, value and P(met): to the right of
    the marker where the label fits, else to the left, spread vertically so labels do not overlap."""
    fig_w = ax.figure.get_figwidth() * 72 * ax.get_position().width         # axes width, points
    units_per_pt = (xlim[1] - xlim[0]) / fig_w
    items = []
    for k, t in enumerate(targets):
        label = f"{numbers[k]} {target_text(t, lang)} {style.text('by', lang, year=t['deadline'])}"
        if t["definition"] != t["evaluated_as"]:            # a target stated in another definition, mapped
            label += f" ({definition_label(t['definition'], t['evaluated_as'], lang)})"
        if np.isfinite(t["probability"]):
            label += f" · P {p_text(t['probability'], lang)}"
        width = len(label) * 0.56 * LABEL_FONTSIZE * units_per_pt + 0.4      # estimated, data units
        room_right, room_left = xlim[1] - t["x"], t["x"] - xlim[0]
        items.append((k, label, room_right >= width or room_right >= room_left))
    # one vertical spread for all labels, whatever their side: labels of different deadlines can overlap
    ys = _spread([t["target"] for t in targets], gap=0.075 * top, lo=0.05 * top, hi=0.9 * top)
    for (k, label, right), y in zip(items, ys, strict=True):
        t = targets[k]
        moved = abs(y - t["target"]) > 0.01 * top
        ax.annotate(label, (t["x"], t["target"]), (t["x"] + (0.3 if right else -0.3), y),
                    ha="left" if right else "right", va="center", fontsize=LABEL_FONTSIZE, color="#222222",
                    zorder=7, gid=f"target-label-{k}",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                    arrowprops={"arrowstyle": "-", "lw": 0.6, "color": style.MUTED, "shrinkA": 0,
                                "shrinkB": 4} if moved else None)


def document_list(targets: list[dict[str, Any]], lang: str) -> tuple[list[str], list[str]]:
    """Numbers for each target ('[1]', '[1,2]') and the numbered list of full document names; documents whose
    names read the same in ``lang`` (one plan cited in two wordings) share one number."""
    names = {d: document_name(d, lang) for t in targets for d in t["documents"]}
    docs = list(dict.fromkeys(names.values()))
    numbers = ["[" + ",".join(str(k + 1) for k in sorted({docs.index(names[d]) for d in t["documents"]})) + "]"
               for t in targets]
    lines = []
    for k, doc in enumerate(docs):
        lines += textwrap.wrap(f"[{k + 1}] {doc}", DOC_CHARS,
                               subsequent_indent="      ")
    return numbers, lines


def fan_chart(tables: RunTables, geo: str, indicator: str, definition: str, lang: str = "en") -> Figure:
    """Median with 50/80/95% bands and readings at their month on a continuous time axis, targets at their
    deadlines numbered with the full document names listed below, the observed/projected boundary (or, for
    a series without readings, what it rests on), and a footnote with the run's provenance. A merged province
    shows its parts' readings (one marker per part), the weighted mean of the parts' readings where every part
    has one, the merger date, and its map and weights in the footnote; a definition with a method break starts
    at the break."""
    rows = _series(tables, geo, indicator, definition)
    if rows.empty:
        raise InputError(tables.folder / "trajectories.csv", "",
                         f"no rows for {geo}/{indicator}/{definition}")
    x = tables.year_x(indicator, rows["year"])
    since = method_break(tables, indicator, definition)
    if since is not None and (x >= since).sum() >= 2:          # the series as measured since its break
        rows, x = rows[x >= since], x[x >= since]
    obs = series_readings(tables, geo, indicator, definition)
    parts = part_readings(tables, geo, indicator, definition)
    readings_x = [tables.reading_x(f) for f in (obs, parts) if len(f)]
    rows, x = _from_first_reading(tables, rows, x, np.concatenate([*readings_x, np.empty(0)]))
    means = parts_mean(tables, geo, indicator, definition)
    targets = _targets(tables, geo, indicator, definition)
    numbers, doc_lines = document_list(targets, lang)
    names = _title_names(tables, geo, indicator, definition, lang)

    handles: list[Any] = [Line2D([], [], color=style.FAN_COLOR, lw=1.8, label=style.text("median", lang))]
    handles += _band_handles(style.BANDS, rows, style.FAN_COLOR, lang)
    readings = _reading_handles(tables, obs, parts, means, lang)
    handles += [h for h, _, _ in readings]
    if targets:
        handles.append(Line2D([], [], ls="none", marker="*", ms=11, mfc=style.TARGET_COLOR, mec="white",
                              mew=0.6, label=style.text("target", lang)))

    # fixed inches: title 0.4, plot area, axis label 0.5 and legend rows, document list, footnote
    foot = "\n".join(t for t in (map_footnote(tables, geo, indicator, lang),
                                 _footnote(tables, lang, (indicator, definition))) if t)
    foot = "\n".join(textwrap.fill(line, FOOT_CHARS) for line in foot.split("\n"))
    legend_n = legend_rows(handles, style.DOC_WIDTH, 0.02, ncol=3, fontsize=style.MIN_FONT)
    legend_end = LEGEND_TOP + (legend_n - 0.5) * LEGEND_ROW               # inches under the plot area
    docs_h = 0.04 + 0.122 * len(doc_lines) if doc_lines else 0.0         # 7 pt lines, 1.25 apart: 0.122 in
    foot_h = 0.117 * (foot.count("\n") + 1) + 0.04                      # 7 pt lines, 1.2 apart: 0.117 in
    # whole pixels at 300 dpi: the plot area sits at the same pixels below the top in every fan chart, so that
    # charts of the same limits share its drawn background (background.py)
    below = math.ceil((legend_end + docs_h + 0.07 + foot_h) * style.DPI) / style.DPI
    height = 0.4 + AXES_INCHES + below
    fig, ax = axes_figure("fan", style.DOC_WIDTH, height, (0.1, below / height, 0.87, AXES_INCHES / height))
    _draw_fan(ax, x, rows, style.FAN_COLOR, style.BANDS)

    points: list[tuple[float, float]] = []
    for k, (handle, xs, ys) in enumerate(readings):
        line, = ax.plot(xs, ys, ls="none", marker=handle.get_marker(), ms=handle.get_markersize(),
                        mfc=handle.get_markerfacecolor(), mec=handle.get_markeredgecolor(),
                        mew=handle.get_markeredgewidth(), zorder=5)
        line.set_gid(f"observations-{k}")
        points += list(zip(xs, ys, strict=True))

    all_x = [float(x.min())] + [float(np.min(xs)) for _, xs, _ in readings if len(xs)]
    top = _y_top(rows["q975"] if "q975" in rows else rows["q90"], obs["value"], parts["value"],
                 [t["target"] for t in targets])
    xlim = (math.floor(min(all_x) - 0.25), float(x.max()) + 0.4)
    ax.set_xlim(*xlim)
    ax.set_ylim(0, top * 1.04)
    labels_top = _mark_projection(ax, tables.first_projected_year, lang, points=points,
                                  note=None if len(parts) else reading_note(tables, geo, indicator, definition, lang))
    if shows_merger(tables, geo, indicator):
        _mark_merger(ax, lang, at_top=not labels_top)
    if targets:
        line, = ax.plot([t["x"] for t in targets], [t["target"] for t in targets], ls="none",
                        marker="*", ms=11, mfc=style.TARGET_COLOR, mec="white", mew=0.6, zorder=6)
        line.set_gid("targets")
        _label_targets(ax, targets, numbers, xlim, top, lang)

    _title(ax, f"{names['geo']}: {names['indicator']} ({names['definition']})", size=9.5, fits=70)
    _axis_labels(ax, style.text("year", lang), style.indicator_unit(indicator, lang, geo), top,
                 label_pad=0.07)
    _legend(fig, handles, 0.02, (below - LEGEND_TOP) / height, ncol=3, fontsize=style.MIN_FONT,
            row_inches=LEGEND_ROW)
    if doc_lines:
        fig.text(0.02, (below - legend_end - 0.04) / height, "\n".join(doc_lines),
                 fontsize=style.MIN_FONT, va="top", ha="left", color="#333333", linespacing=1.25,
                 gid="documents")
    fig.text(0.01, 0.04 / height, foot, fontsize=style.MIN_FONT, color=style.MUTED, ha="left", va="bottom",
             linespacing=1.2, gid="footnote")
    return fig


def _from_first_reading(tables: RunTables, rows: pd.DataFrame, x: np.ndarray, readings_x: np.ndarray
                        ) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows from the last value at or before the first reading (so the band covers every reading at its
    month), or, for a series without readings, from NO_READING_YEARS before the first projected year."""
    start = float(tables.first_projected_year - NO_READING_YEARS)
    if len(readings_x):
        start = min(start, float(np.min(readings_x)))
    before = np.flatnonzero(x <= start)
    keep = x >= (x[before[-1]] if len(before) else -np.inf)
    return rows[keep], x[keep]


def _reading_handles(tables: RunTables, obs: pd.DataFrame, parts: pd.DataFrame, means: pd.DataFrame, lang: str
                     ) -> list[tuple[Line2D, np.ndarray, np.ndarray]]:
    """(legend handle, x, y) per group of readings: the geo's own readings per source (filled markers), each
    part's readings (open markers, one shape per part) and the weighted mean of the parts' readings."""
    out = []
    sources = [source_name(u) for u in obs["source_url"]]
    obs_x = _dodge(tables.reading_x(obs), step=0.08)
    for k, src in enumerate(dict.fromkeys(sources)):
        mine = np.array([s == src for s in sources])
        handle = Line2D([], [], ls="none", marker=style.OBSERVATION_MARKERS[k % len(style.OBSERVATION_MARKERS)],
                        ms=5.5, mfc=style.OBSERVED_COLOR, mec="white", mew=0.7,
                        label=style.text("reading", lang, source=src))
        out.append((handle, obs_x[mine], obs["value"].to_numpy()[mine]))
    part_x = _dodge(tables.reading_x(parts), step=0.08) if len(parts) else np.empty(0)
    for k, part in enumerate(dict.fromkeys(parts["geo"])):
        mine = (parts["geo"] == part).to_numpy()
        srcs = ", ".join(dict.fromkeys(source_name(u) for u in parts.loc[mine, "source_url"]))
        handle = Line2D([], [], ls="none", marker=PART_MARKERS[k % len(PART_MARKERS)], ms=5.5, mfc="white",
                        mec=style.OBSERVED_COLOR, mew=1.1,
                        label=word("part_reading", lang, part=style.geo_name(part, lang), source=srcs))
        out.append((handle, part_x[mine], parts["value"].to_numpy()[mine]))
    if len(means):
        handle = Line2D([], [], ls="none", marker="_", ms=11, mfc=style.TARGET_COLOR, mec=style.TARGET_COLOR,
                        mew=2.2, label=word("parts_mean", lang))
        out.append((handle, means["x"].to_numpy(float), means["value"].to_numpy(float)))
    return out


def _mark_merger(ax: Any, lang: str, at_top: bool) -> None:
    """A dotted vertical line at 1 July 2025, labelled along it at the foot (or the top: away from the
    observed/projected labels), stopped short of the strip where those labels are."""
    ax.axvline(MERGER_YEAR, ymin=0.09 if at_top else 0.0, ymax=1.0 if at_top else 0.91, color=style.MUTED, lw=0.8,
               ls=(0, (1, 2)), zorder=1.5, gid="merger")
    ax.text(MERGER_YEAR - 0.06, 0.97 if at_top else 0.03, word("merger", lang), transform=ax.get_xaxis_transform(),
            rotation=90, ha="right", va="top" if at_top else "bottom", fontsize=style.MIN_FONT, color=style.MUTED,
            gid="merger-label",
            bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.7})
