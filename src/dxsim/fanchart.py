"""Fan charts: one geo x indicator x definition, median with 50/80/95% bands, readings and targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import style
from .chartkit import (
    _axis_labels,
    _documents_text,
    _dodge,
    _draw_fan,
    _footnote,
    _legend,
    _mark_projection,
    _new_figure,
    _series,
    _spread,
    _targets,
    _title,
    _title_names,
    _y_top,
    p_text,
    source_name,
)
from .errors import InputError
from .runtables import RunTables

FAN_SIZE = (6.6, 4.5)           # inches; at 300 dpi 1980 x 1350 pixels
FAN_AXES = (0.09, 0.31, 0.89, 0.60)
LABEL_FONTSIZE = 6.6


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


def _label_targets(ax: Any, targets: list[dict[str, Any]], xlim: tuple[float, float], top: float,
                   lang: str) -> None:
    """Label each target marker with its document(s), comparator, value and P(met): to the right of the
    marker where the label fits, else to the left, spread vertically so labels do not overlap."""
    fig_w = ax.figure.get_figwidth() * 72 * ax.get_position().width         # axes width, points
    units_per_pt = (xlim[1] - xlim[0]) / fig_w
    items = []
    for k, t in enumerate(targets):
        label = style.text("target_label", lang, document=_documents_text(t["documents"], 1, lang),
                           comparator=style.comparator(t["comparator"]), target=t["target"])
        if np.isfinite(t["probability"]):
            label += f" · P {p_text(t['probability'])}"
        width = len(label) * 0.56 * LABEL_FONTSIZE * units_per_pt + 0.4      # estimated, data units
        room_right, room_left = xlim[1] - t["deadline"], t["deadline"] - xlim[0]
        items.append((k, label, room_right >= width or room_right >= room_left))
    # one vertical spread for all labels, whatever their side: labels of different deadlines can overlap
    ys = _spread([t["target"] for t in targets], gap=0.07 * top, lo=0.05 * top, hi=0.92 * top)
    for (k, label, right), y in zip(items, ys, strict=True):
        t = targets[k]
        moved = abs(y - t["target"]) > 0.01 * top
        ax.annotate(label, (t["deadline"], t["target"]), (t["deadline"] + (0.3 if right else -0.3), y),
                    ha="left" if right else "right", va="center", fontsize=LABEL_FONTSIZE, color="#222222",
                    zorder=7, gid=f"target-label-{k}",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                    arrowprops={"arrowstyle": "-", "lw": 0.6, "color": style.MUTED, "shrinkA": 0,
                                "shrinkB": 4} if moved else None)


def fan_chart(tables: RunTables, geo: str, indicator: str, definition: str, lang: str = "en") -> Figure:
    """Median with 50/80/95% bands, readings (one marker per source), targets at their deadlines labelled
    with their document, the observed/projected boundary, and a footnote with the run's provenance."""
    rows = _series(tables, geo, indicator, definition)
    if rows.empty:
        raise InputError(tables.folder / "trajectories.csv", "",
                         f"no rows for {geo}/{indicator}/{definition}")
    obs = tables.observations
    obs = obs[(obs["geo"] == geo) & (obs["indicator"] == indicator) & (obs["definition"] == definition)]
    targets = _targets(tables, geo, indicator, definition)
    names = _title_names(tables, geo, indicator, definition, lang)

    fig = _new_figure(*FAN_SIZE)
    ax = fig.add_axes(FAN_AXES)
    _draw_fan(ax, rows, style.FAN_COLOR, style.BANDS)
    handles: list[Any] = [Line2D([], [], color=style.FAN_COLOR, lw=1.8, label=style.text("median", lang))]
    handles += _band_handles(style.BANDS, rows, style.FAN_COLOR, lang)

    sources = [source_name(u) for u in obs["source_url"]]
    obs_x = _dodge(obs["year"].to_numpy())
    for k, src in enumerate(dict.fromkeys(sources)):
        mine = np.array([s == src for s in sources])
        line, = ax.plot(obs_x[mine], obs["value"].to_numpy()[mine], ls="none",
                        marker=style.OBSERVATION_MARKERS[k % len(style.OBSERVATION_MARKERS)], ms=5.5,
                        mfc=style.OBSERVED_COLOR, mec="white", mew=0.7, zorder=5,
                        label=style.text("reading", lang, source=src))
        line.set_gid(f"observations-{k}")
        handles.append(line)

    years = rows["year"].to_numpy()
    first_year = int(min(years.min(), obs["year"].min() if len(obs) else years.min()))
    last_year = int(years.max())
    top = _y_top(rows["q975"] if "q975" in rows else rows["q90"], obs["value"], [t["target"] for t in targets])
    xlim = (first_year - 0.6, last_year + 0.6)
    ax.set_xlim(*xlim)
    ax.set_ylim(0, top * 1.04)
    _mark_projection(ax, tables.first_projected_year, lang)
    if targets:
        line, = ax.plot([t["deadline"] for t in targets], [t["target"] for t in targets], ls="none",
                        marker="*", ms=11, mfc=style.TARGET_COLOR, mec="white", mew=0.6, zorder=6,
                        label=style.text("target", lang))
        line.set_gid("targets")
        handles.append(line)
        _label_targets(ax, targets, xlim, top, lang)

    _title(ax, f"{names['geo']}: {names['indicator']} ({names['definition']})")
    _axis_labels(ax, style.text("year", lang), style.indicator_unit(indicator, lang), top)
    _legend(fig, handles, FAN_AXES[0] - 0.02, FAN_AXES[1] - 0.12, ncol=3, row_inches=0.2)
    fig.text(0.01, 0.012, _footnote(tables, lang, (indicator, definition)), fontsize=5.5, color=style.MUTED,
             ha="left", va="bottom")
    return fig


