"""The target chart: P(target met) per geo and target due in projected years, sorted, with MC errors."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from . import style
from .chartkit import _documents_text, _footnote, _legend, _new_figure, definition_label, p_text, short_document
from .runtables import RunTables


def probability_chart(tables: RunTables, lang: str = "en") -> Figure | None:
    """Horizontal bars of P(target met) per geo x target due in projected years, sorted, coloured by
    likelihood, with ±2 Monte Carlo standard errors. None when no such target exists."""
    tp = tables.targets
    first = tables.first_projected_year
    due = tp[tp["evaluable"] & (tp["deadline"] >= first)]
    if due.empty:
        return None
    keys = ["geo", "indicator", "definition", "evaluated_as", "deadline", "comparator", "target"]
    merged = (due.groupby(keys, sort=False)
              .agg(probability=("probability", "first"), mc_se=("mc_se", "first"),
                   documents=("document", lambda d: list(dict.fromkeys(short_document(x) for x in d))))
              .reset_index().sort_values(["probability", "geo"], ascending=[True, True], kind="stable"))
    n = len(merged)
    head, foot, width = 1.05, 0.85, 11.0                          # inches above and below the bars
    height = head + foot + 0.235 * n
    fig = _new_figure(width, height)
    ax = fig.add_axes((0.43, foot / height, 0.27, 1 - (head + foot) / height))
    y = np.arange(n)
    p = merged["probability"].to_numpy(float)
    se = np.nan_to_num(merged["mc_se"].to_numpy(float))
    bars = ax.barh(y, p, color=[style.likelihood(v)[1] for v in p], height=0.72, edgecolor="none", zorder=2)
    for k, bar in enumerate(bars):
        bar.set_gid(f"probability-bar-{k}")
    ax.errorbar(p, y, xerr=2 * se, fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2, zorder=3)
    labels = []
    for r in merged.itertuples(index=False):
        ind = style.indicator_name(r.indicator, lang, tables.labels.get(r.indicator))
        dfn = definition_label(r.definition, r.evaluated_as, lang)
        by = style.text("by", lang, year=r.deadline)
        target = f"{style.comparator(r.comparator)}{r.target:g}%"
        labels.append(f"{style.geo_name(r.geo, lang)} · {ind} ({dfn}) {target} {by}")
    ax.set_yticks(y, labels, fontsize=7)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_locator(ticker.MultipleLocator(0.2))
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(style.text("probability_axis", lang))
    ax.xaxis.set_label_coords(0.5, -0.4 / (height - head - foot))
    trans = ax.get_yaxis_transform()
    for k, r in enumerate(merged.itertuples(index=False)):
        docs = textwrap.shorten(_documents_text(r.documents, 2, lang), 58, placeholder="…")
        ax.text(1.03, k, f"{p_text(r.probability)}  {docs}", transform=trans, fontsize=6.5, va="center",
                ha="left", color="#333333", clip_on=False)
    n_past = int((tp["evaluable"] & (tp["deadline"] < first)).sum())
    caption = style.text("probability_caption", lang, draws=tables.draws, first=first, past=n_past,
                         unevaluable=int((~tp["evaluable"]).sum()))
    fig.text(0.01, 1 - 0.1 / height, style.text("probability_title", lang, scenario=tables.scenario),
             fontsize=10.5, fontweight="bold", va="top")
    fig.text(0.01, 1 - 0.38 / height, textwrap.fill(caption, 165), fontsize=7, va="top", color=style.MUTED)
    _legend(fig, [Patch(color=c, label=style.text(key, lang)) for _, key, c in style.LIKELIHOOD],
            0.01, 1 - 0.82 / height, ncol=5, fontsize=7)
    fig.text(0.01, 0.06 / height, _footnote(tables, lang), fontsize=5.8, color=style.MUTED, va="bottom")
    return fig


