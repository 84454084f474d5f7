"""The target chart: P(target met) per geo and target due in projected years, sorted, with MC errors."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from dxsim.outputs import style
from dxsim.outputs.chartkit import (
    DOC_CHARS,
    _footnote,
    _legend,
    _new_figure,
    definition_label,
    group_targets,
    p_text,
    short_document,
    target_text,
)
from dxsim.outputs.document_names import document_name
from dxsim.outputs.fanchart import FOOT_CHARS
from dxsim.outputs.runtables import RunTables

PER_PAGE = 26               # bars per chart: one chart fits an A4 page at 16 cm wide
ROW_INCHES = 0.32            # two lines of 7 pt text per bar
LABEL_CHARS = 70             # characters per label line: 3.95 in at 7 pt


def due_targets(tables: RunTables) -> list[dict[str, Any]]:
    """Evaluable targets due in projected years, equivalent wordings merged (``chartkit.group_targets``),
    sorted by probability."""
    tp = tables.targets
    due = group_targets(tables, tp[tp["deadline"] >= tables.first_projected_year])
    return sorted(due, key=lambda t: (t["probability"], t["geo"]))


def probability_pages(tables: RunTables) -> int:
    """How many pages (files) the target chart takes."""
    return math.ceil(len(due_targets(tables)) / PER_PAGE)


def probability_chart(tables: RunTables, page: int = 0, lang: str = "en") -> Figure | None:
    """Horizontal bars of P(target met) per geo x target due in projected years (page ``page`` of
    ``PER_PAGE`` bars), sorted, coloured by likelihood, with ±2 Monte Carlo standard errors; equivalent
    targets (same geo, definition, deadline and value, worded '>' and '>=') are one bar naming every
    document. None when no such target exists."""
    tp = tables.targets
    first = tables.first_projected_year
    allt = due_targets(tables)
    merged = allt[page * PER_PAGE:(page + 1) * PER_PAGE]
    if not merged:
        return None
    n = len(merged)
    footnote = _footnote(tables, lang, width=FOOT_CHARS)
    # inches above and below the bars: below, the footnote's lines (7 pt, 1.2 apart) and the axis (0.56 in)
    head, foot = 1.2, 0.04 + 0.117 * (footnote.count("\n") + 1) + 0.56
    height = head + foot + ROW_INCHES * n
    fig = _new_figure(style.DOC_WIDTH, height)
    left, width = 4.0 / style.DOC_WIDTH, 1.4 / style.DOC_WIDTH
    ax = fig.add_axes((left, foot / height, width, 1 - (head + foot) / height))
    y = np.arange(n)
    p = np.array([t["probability"] for t in merged])
    se = np.nan_to_num(np.array([t["mc_se"] for t in merged]))
    bars = ax.barh(y, p, color=[style.likelihood(v)[1] for v in p], height=0.7, edgecolor="none", zorder=2)
    for k, bar in enumerate(bars):
        bar.set_gid(f"probability-bar-{k}")
    ax.errorbar(p, y, xerr=2 * se, fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2, zorder=3)
    ax.set_yticks(y, [""] * n)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n - 0.4, -0.6)                          # least likely at the top
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_locator(ticker.MultipleLocator(0.25))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: p_text(v, lang) if 0 < v < 1
                                                      else f"{v:g}"))
    ax.tick_params(axis="x", labelsize=style.MIN_FONT)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(style.text("probability_axis", lang), fontsize=style.MIN_FONT)
    ax.xaxis.set_label_coords(0.5, -0.38 / (height - head - foot))
    trans = ax.get_yaxis_transform()
    for k, t in enumerate(merged):
        ind = style.indicator_name(t["indicator"], lang, tables.labels.get(t["indicator"]), t["geo"])
        dfn = definition_label(t["definition"], t["evaluated_as"], lang, compact=True)
        # line 1 the series, line 2 the target, its definition and the documents: only the documents are cut,
        # so two targets of one indicator in different definitions never read alike
        what = textwrap.shorten(f"{style.geo_name(t['geo'], lang)} · {ind}", LABEL_CHARS, placeholder="…")
        docs = "; ".join(short_document(document_name(d, lang), chars=DOC_CHARS) for d in t["documents"])
        detail = textwrap.shorten(f"{target_text(t, lang)} {style.text('by', lang, year=t['deadline'])} ({dfn}) "
                                  f"· {docs}", LABEL_CHARS, placeholder="…")
        ax.text(-0.03, k - 0.17, what, transform=trans, fontsize=style.MIN_FONT, va="center", ha="right",
                clip_on=False)
        ax.text(-0.03, k + 0.22, detail, transform=trans, fontsize=style.MIN_FONT, va="center", ha="right",
                color=style.MUTED, clip_on=False)
        ax.text(1.03, k, p_text(t["probability"], lang), transform=trans, fontsize=style.MIN_FONT,
                va="center", ha="left", clip_on=False)
    n_past = int((tp["evaluable"] & (tp["deadline"] < first)).sum())
    caption = style.text("probability_caption", lang, draws=tables.draws, first=first, past=n_past,
                         unevaluable=int((~tp["evaluable"]).sum()))
    pages = math.ceil(len(allt) / PER_PAGE)
    title = style.text("probability_title", lang, scenario=tables.scenario)
    fig.text(0.01, 1 - 0.08 / height, title + (f" ({page + 1}/{pages})" if pages > 1 else ""),
             fontsize=9.5, fontweight="bold", va="top")
    fig.text(0.01, 1 - 0.33 / height, textwrap.fill(caption, 112), fontsize=style.MIN_FONT, va="top",
             color=style.MUTED)
    _legend(fig, [Patch(color=c, label=style.text(key, lang)) for _, key, c in style.LIKELIHOOD],
            0.01, 1 - 0.85 / height, ncol=3, fontsize=style.MIN_FONT, row_inches=0.16)
    fig.text(0.01, 0.04 / height, footnote, fontsize=style.MIN_FONT,
             color=style.MUTED, va="bottom", linespacing=1.2)
    return fig
