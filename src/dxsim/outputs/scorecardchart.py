"""``scorecard.png`` of ``dxsim scorecard`` (the numbers are ``analyses.scorecard``'s), in English or Vietnamese:
the report draws it again in its language."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from dxsim import __version__
from dxsim.outputs import style

MARKERS = "os^vD<>"


def _decimal_axes(lang: str, *axes: object) -> None:
    """Tick labels with the language's decimal mark (0,25 in Vietnamese)."""
    if lang != "en":
        for axis in axes:
            axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}".replace(".", ",")))


def plot_scorecard(table: pd.DataFrame, path: Path, lang: str = "en") -> Path:
    """scorecard.png: left, the probability each method gave each target against what happened (a reliability
    plot: outcome 1 = met; the binned share met per method where it has 5 or more targets); right, the share of
    later readings inside each method's 80% interval, per origin. Words in ``lang``."""
    from dxsim.analyses.origins import METHODS
    from dxsim.analyses.scorecard import summarise
    from dxsim.outputs.report_words import method_name

    def t(key: str, **values: object) -> str:
        return style.text(key, lang, **values)

    summary = summarise(table)
    targets = table[table["kind"] == "target"].drop_duplicates(["origin", "method", "geo", "indicator",
                                                                "definition", "year", "target", "comparator"])
    methods = [m for m in METHODS if m in set(table["method"])]
    origins = sorted(table["origin"].unique())
    colours = dict(zip(METHODS, style.PALETTE, strict=False))          # Okabe-Ito, as every chart
    with matplotlib.rc_context(style.rc()):
        fig = Figure(figsize=(style.DOC_WIDTH, 8.6))           # 16 cm wide: text >= 7 pt on an A4 page
        left, right = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1.1, 1]})
        left.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--", label=t("sc_reliable"))
        for k, method in enumerate(m for m in methods if m in set(targets["method"])):
            mine = targets[targets["method"] == method]
            p, o = mine["probability"].to_numpy(float), mine["outcome"].to_numpy(float)
            offset = (k - 2) * 0.018                               # keep methods' points apart at 0 and 1
            score = float(np.mean((p - o) ** 2))
            y = o + offset * np.where(o > 0.5, -1, 1)
            for origin, marker in zip(origins, MARKERS, strict=False):
                at = (mine["origin"] == origin).to_numpy()
                left.scatter(p[at], y[at], s=30, color=colours[method], marker=marker, alpha=0.85,
                             edgecolor="white", lw=0.5)
            left.scatter([], [], color=colours[method], label=t("sc_method", method=method_name(method, lang),
                                                                 score=style.number(score, 3, lang), n=len(p)))
            if len(p) >= 5:
                bins = np.clip((p * 5).astype(int), 0, 4)
                centres = [p[bins == b].mean() for b in range(5) if (bins == b).any()]
                freq = [o[bins == b].mean() for b in range(5) if (bins == b).any()]
                left.plot(centres, freq, color=colours[method], lw=1)
        left.set(xlim=(-0.03, 1.03), ylim=(-0.1, 1.1), xlabel=t("sc_p_axis"), ylabel=t("sc_outcome_axis"))
        left.set_title(t("sc_targets_title"), loc="left")
        left.set_yticks([0, 0.25, 0.5, 0.75, 1])
        for origin, marker in zip(origins, MARKERS, strict=False):
            left.scatter([], [], color="0.4", marker=marker, label=t("sc_origin", origin=origin))
        width = 0.8 / max(len(methods), 1)
        for k, method in enumerate(methods):
            rows = summary[(summary["method"] == method) & (summary["n_readings"] > 0)]
            x = np.array([origins.index(o) for o in rows["origin"]]) + (k - (len(methods) - 1) / 2) * width
            right.bar(x, rows["held_80"], width=width * 0.95, color=colours[method], label=method_name(method, lang))
            for xi, share, n in zip(x, rows["held_80"], rows["n_readings"], strict=True):
                right.text(xi, share + 0.01, f"{n}", ha="center", va="bottom", fontsize=style.MIN_FONT)
        right.axhline(0.8, color="0.3", lw=1, ls="--", label=t("sc_nominal"))
        right.set_xticks(range(len(origins)), [t("sc_origin", origin=o) for o in origins])
        right.set(ylim=(0, 1.3), ylabel=t("sc_inside_axis"))
        right.set_title(t("sc_inside_title"), loc="left")
        _decimal_axes(lang, left.xaxis, left.yaxis, right.yaxis)
        for ax in (left, right):                                  # legends under their panels, full width
            ax.legend(fontsize=style.MIN_FONT, loc="upper left", bbox_to_anchor=(-0.08, -0.14), ncol=2)
        foot = t("sc_footnote", version=__version__, origins=", ".join(map(str, origins)))
        fig.text(0.01, 0.01, textwrap.fill(foot, 105), fontsize=style.MIN_FONT, color=style.MUTED, va="bottom")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        fig.savefig(path, dpi=150, metadata={"Software": None} if Path(path).suffix == ".png" else None)
    return path
