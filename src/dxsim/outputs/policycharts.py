"""Charts of the policy commands: ranked sensitivity bars per output (``dxsim sensitivity``) and P(target met)
against the investment multiple per target with the threshold (``dxsim required-investment``)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd

from dxsim.outputs import style
from dxsim.outputs.chartkit import _new_figure, _title

if TYPE_CHECKING:
    from dxsim.analyses.sensitivity import SensitivityResult

DPI = 150


def chart_name(text: str) -> str:
    """A file-name-safe version of an output's name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.replace(">=", "ge").replace("<=", "le").replace(">", "gt")
                  .replace("<", "lt")).strip("_")


def _save(fig: matplotlib.figure.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})


def sensitivity_charts(result: SensitivityResult, folder: Path) -> list[Path]:
    """One PNG per analysed output: its factors ranked by ST (Sobol, with S1 beside it) or mu* (Morris), with
    the confidence intervals."""
    from dxsim.analyses.sensitivity import CONF_LEVEL, ranked

    paths = []
    first = "S1" if result.method == "sobol" else "sigma"
    with matplotlib.rc_context(style.rc()):
        for k, o in enumerate(result.outputs[result.outputs["analysed"]].itertuples()):
            main = ranked(result.table, o.output, result.method)
            rows = result.table[(result.table["output"] == o.output) & (result.table["index"] == first)]
            other = rows.set_index("factor").loc[main["factor"]]
            n = len(main)
            height = 1.3 + 0.28 * n
            fig = _new_figure(8.0, height)
            ax = fig.add_axes((0.34, 0.75 / height, 0.62, 1 - 1.25 / height))
            y = np.arange(n)
            v = main["value"].to_numpy(float)
            ax.barh(y - 0.19, v, height=0.36, color=style.OKABE_ITO["blue"], zorder=2,
                    label="total index ST" if result.method == "sobol" else "mu*")
            ax.errorbar(v, y - 0.19, xerr=main["conf"].to_numpy(float), fmt="none", ecolor="#333333",
                        elinewidth=0.8, capsize=2, zorder=3)
            w = other["value"].to_numpy(float)
            ax.barh(y + 0.19, w, height=0.36, color=style.OKABE_ITO["sky_blue"], zorder=2,
                    label="first-order S1" if result.method == "sobol" else "sigma")
            if result.method == "sobol":
                ax.errorbar(w, y + 0.19, xerr=other["conf"].to_numpy(float), fmt="none", ecolor="#333333",
                            elinewidth=0.8, capsize=2, zorder=3)
            ax.set_yticks(y, main["factor"].tolist(), fontsize=7.5)
            ax.invert_yaxis()
            ax.grid(axis="y", visible=False)
            ax.axvline(0, color="#999999", lw=0.6)
            unit = "" if result.method == "sobol" else (" (probability)" if o.kind == "probability"
                                                         else " (percentage points)")
            ax.set_xlabel(("Sobol index (share of the output's variance)" if result.method == "sobol"
                           else "Morris mean absolute elementary effect mu*") + unit)
            ax.legend(loc="lower right", fontsize=7)
            _title(ax, textwrap.shorten(o.output, 95), size=9.5, fits=80)
            fig.text(0.01, 0.012, f"{result.method}, {result.evaluations} evaluations; whiskers: "
                     f"{CONF_LEVEL:.0%} confidence intervals; at the scenario: {o.at_scenario:.3g}",
                     fontsize=6.5, color=style.MUTED)
            path = folder / f"sensitivity_{k:03d}_{chart_name(o.output)[:80]}.png"
            _save(fig, path)
            paths.append(path)
    return paths


def required_investment_charts(curves: pd.DataFrame, table: pd.DataFrame, probability: float,
                               folder: Path) -> list[Path]:
    """One PNG per geo: a panel per target, P(met) against the pillar's investment multiple (common random
    numbers: a non-decreasing step curve), the threshold and the answer."""
    paths = []
    with matplotlib.rc_context(style.rc()):
        shown = table[~table["status"].isin(["not_applicable", "not_evaluable"])]
        for geo, rows in shown.groupby("geo", sort=False):
            n = len(rows)
            cols = min(3, n)
            nrows = -(-n // cols)
            fig = _new_figure(3.6 * cols, 0.7 + 2.6 * nrows)
            axes = fig.subplots(nrows, cols, squeeze=False)
            for ax in axes.flat[n:]:
                ax.set_visible(False)
            for ax, r in zip(axes.flat, rows.itertuples(), strict=False):
                c = curves[curves["output"] == r.output]
                ax.plot(c["multiple"], c["probability"], drawstyle="steps-post", color=style.OKABE_ITO["blue"],
                        lw=1.3)
                ax.axhline(probability, color=style.TARGET_COLOR, lw=1, ls="--")
                own = r.scenario_multiple if np.isfinite(r.scenario_multiple) else 1.0
                ax.axvline(own, color="#999999", lw=0.6)
                if np.isfinite(r.multiple):
                    ax.plot([r.multiple], [r.probability], "o", color=style.TARGET_COLOR, ms=4)
                ax.set_ylim(-0.02, 1.02)
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
                ax.set_xlabel(f"{r.pillar} investment multiple", fontsize=7.5)
                ax.set_ylabel("P(target met)", fontsize=7.5)
                head = f"{r.indicator}/{r.definition} {r.deadline} {r.comparator}{r.target:g}"
                ax.set_title("\n".join(textwrap.wrap(head, 42)), fontsize=7.5, loc="left")
                ax.text(0.02, 0.04, textwrap.shorten(r.answer, 60), transform=ax.transAxes, fontsize=6.5,
                        color=style.MUTED)
                ax.text(own, 1.0, " scenario", transform=ax.get_xaxis_transform(), fontsize=6.5, color=style.MUTED,
                        va="top")
            fig.suptitle(f"{style.geo_name(geo)}: what investment reaches P = {probability:g}", x=0.01, ha="left",
                         fontsize=10, fontweight="bold")
            fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.75 / fig.get_figheight(), bottom=0.12,
                                hspace=0.75, wspace=0.35)
            path = folder / f"required_investment_{chart_name(geo)}.png"
            _save(fig, path)
            paths.append(path)
    return paths
