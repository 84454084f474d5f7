"""Charts of the policy commands: ranked sensitivity bars per output (``dxsim sensitivity``) and P(target met)
against the investment multiple per target with the threshold (``dxsim required-investment``)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd

from dxsim.outputs import style
from dxsim.outputs.chartkit import _new_figure

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


def sensitivity_charts(result: SensitivityResult, folder: Path, lang: str = "en") -> list[Path]:
    """One PNG per analysed output of ``dxsim sensitivity`` (``sensitivity_charts_of`` its tables)."""
    return sensitivity_charts_of(result.table, result.outputs, result.method, result.evaluations, folder, lang,
                                 result.factors)


def output_title(o: object, lang: str) -> str:
    """An analysed output in words: 'Việt Nam: <indicator> (<definition>) 2030 ≥ 90%' (P of a target) or
    '..., median 2030'; the output's own name when its columns are missing."""
    from dxsim.outputs.report_words import target_text

    geo, indicator, definition = (getattr(o, k, None) for k in ("geo", "indicator", "definition"))
    if not all(isinstance(v, str) and v for v in (geo, indicator, definition)):
        return str(o.output)
    series = (f"{style.geo_name(geo, lang)}: {style.indicator_name(indicator, lang, geo=geo)} "
              f"({style.definition_name(definition, lang)})")
    if o.kind == "probability":
        return f"{series} {int(o.year)} {target_text(o.comparator, o.target, lang)}"
    return f"{series}, {style.text('median', lang).lower()} {int(o.year)}"


def sensitivity_charts_of(table: pd.DataFrame, outputs: pd.DataFrame, method: str, evaluations: int, folder: Path,
                          lang: str = "en", factors: Any = ()) -> list[Path]:
    """One PNG per analysed output (sensitivity.csv, sensitivity_outputs.csv), 16 cm wide, in ``lang``: its
    factors ranked by ST (Sobol, with S1 beside it) or mu* (Morris), with the confidence intervals; the
    factors named in words where ``factors`` (``Factor``s or factors.toml tables) describe them."""
    from dxsim.analyses.sensitivity import CONF_LEVEL, ranked
    from dxsim.outputs.report_words import factor_name, factor_names, value_text

    names = factor_names(factors, lang)

    def t(key: str, **values: object) -> str:
        return style.text(key, lang, **values)

    paths = []
    first = "S1" if method == "sobol" else "sigma"
    small = style.MIN_FONT
    with matplotlib.rc_context(style.rc()):
        for k, o in enumerate(outputs[outputs["analysed"].astype(bool)].itertuples()):
            main = ranked(table, o.output, method)
            rows = table[(table["output"] == o.output) & (table["index"] == first)]
            other = rows.set_index("factor").reindex(main["factor"])
            n = len(main)
            height = 1.6 + 0.34 * n                      # two lines per factor in words
            fig = _new_figure(style.DOC_WIDTH, height)
            ax = fig.add_axes((0.36, 0.85 / height, 0.6, 1 - 1.5 / height))     # room for factors in words
            y = np.arange(n)
            v = main["value"].to_numpy(float)
            ax.barh(y - 0.19, v, height=0.36, color=style.OKABE_ITO["blue"], zorder=2,
                    label=t("sens_total") if method == "sobol" else "mu*")
            ax.errorbar(v, y - 0.19, xerr=main["conf"].to_numpy(float), fmt="none", ecolor="#333333",
                        elinewidth=0.8, capsize=2, zorder=3)
            w = other["value"].to_numpy(float)
            ax.barh(y + 0.19, w, height=0.36, color=style.OKABE_ITO["sky_blue"], zorder=2,
                    label=t("sens_first") if method == "sobol" else "sigma")
            if method == "sobol":
                ax.errorbar(w, y + 0.19, xerr=other["conf"].to_numpy(float), fmt="none", ecolor="#333333",
                            elinewidth=0.8, capsize=2, zorder=3)
            ax.set_yticks(y, ["\n".join(textwrap.wrap(factor_name(f, names), 36, max_lines=2, placeholder="…"))
                              for f in main["factor"]], fontsize=small)
            ax.invert_yaxis()
            ax.grid(axis="y", visible=False)
            ax.axvline(0, color="#999999", lw=0.6)
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_text(v, lang)))
            ax.tick_params(axis="x", labelsize=small)
            unit = "" if method == "sobol" else t("sens_unit_p" if o.kind == "probability" else "sens_unit_pp")
            ax.set_xlabel(t("sens_sobol_axis" if method == "sobol" else "sens_morris_axis") + unit, fontsize=small)
            ax.legend(loc="lower right", fontsize=small)
            fig.text(0.01, 1 - 0.08 / height, "\n".join(textwrap.wrap(output_title(o, lang), 84)), va="top",
                     fontsize=9, fontweight="bold")
            fig.text(0.01, 0.012, t("sens_footnote", method=method, evaluations=evaluations,
                                    level=f"{CONF_LEVEL:.0%}", at=value_text(float(f"{o.at_scenario:.3g}"), lang)),
                     fontsize=small, color=style.MUTED)
            path = folder / f"sensitivity_{k:03d}_{chart_name(o.output)[:80]}.png"
            _save(fig, path)
            paths.append(path)
    return paths


def _curve(curves: pd.DataFrame, r: object) -> pd.DataFrame:
    """A target's P-against-multiple curve: by its output name, or (a row read back from required_investment.csv,
    which has no output column) by geo, series, deadline and value within the names."""
    name = getattr(r, "output", None)
    if isinstance(name, str) and name:
        return curves[curves["output"] == name]
    names = curves["output"].astype(str)
    mine = (names.str.startswith(f"P(met) {r.geo} {r.indicator}/")
            & (names.str.contains(f"/{r.definition} ", regex=False) | names.str.contains(f" as {r.definition} ",
                                                                                            regex=False))
            & names.str.endswith(f" {int(r.deadline)} {r.comparator}{float(r.target):g}"))
    first = names[mine].iloc[0] if mine.any() else None
    return curves[names == first]


def required_investment_charts(curves: pd.DataFrame, table: pd.DataFrame, probability: float,
                               folder: Path, lang: str = "en") -> list[Path]:
    """One PNG per geo, 16 cm wide: a panel per target, P(met) against the pillar's investment multiple (common
    random numbers: a non-decreasing step curve), the threshold and the answer, in ``lang``."""
    from dxsim.outputs.policyreport import answer_text
    from dxsim.outputs.report_words import pillar_name, value_text

    def decimal(v: float, _: object = None) -> str:
        return value_text(v, lang)

    small = style.MIN_FONT
    paths = []
    with matplotlib.rc_context(style.rc()):
        shown = table[~table["status"].isin(["not_applicable", "not_evaluable"])]
        # one panel per target: the same target stated in several documents is drawn once
        shown = shown.drop_duplicates(["geo", "indicator", "definition", "deadline", "comparator", "target"])
        for geo, rows in shown.groupby("geo", sort=False):
            n = len(rows)
            cols = min(2, n)
            nrows = -(-n // cols)
            fig = _new_figure(style.DOC_WIDTH, 0.9 + 2.2 * nrows)
            axes = fig.subplots(nrows, cols, squeeze=False)
            for ax in axes.flat[n:]:
                ax.set_visible(False)
            for ax, r in zip(axes.flat, rows.itertuples(), strict=False):
                c = _curve(curves, r)
                ax.plot(c["multiple"], c["probability"], drawstyle="steps-post", color=style.OKABE_ITO["blue"],
                        lw=1.3)
                ax.axhline(probability, color=style.TARGET_COLOR, lw=1, ls="--")
                own = r.scenario_multiple if np.isfinite(r.scenario_multiple) else 1.0
                ax.vlines(own, -0.02, 1.0, color="#999999", lw=0.6)      # stops under the answer
                if np.isfinite(r.multiple):
                    ax.plot([r.multiple], [r.probability], "o", color=style.TARGET_COLOR, ms=4)
                ax.set_ylim(-0.02, 1.3)                  # the answer and 'scenario' above P = 1
                ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1])
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(decimal))
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
                ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(decimal))
                ax.tick_params(labelsize=small)
                ax.set_xlabel(style.text("ri_multiple", lang, pillar=pillar_name(r.pillar, lang)), fontsize=small)
                ax.set_ylabel(style.text("ri_p_axis", lang), fontsize=small)
                head = (f"{style.indicator_name(r.indicator, lang, geo=r.geo)} "
                        f"({style.definition_name(r.definition, lang)}) {r.deadline} "
                        f"{style.comparator(r.comparator)}{value_text(r.target, lang)}%")
                ax.set_title("\n".join(textwrap.wrap(head, 40)), fontsize=small, loc="left")
                answer = textwrap.shorten(answer_text(r, lang), 104, placeholder="…")
                ax.text(0.02, 0.98, "\n".join(textwrap.wrap(answer, 46)[:2]), transform=ax.transAxes,
                        fontsize=small, color=style.MUTED, va="top")
                ax.text(own, 1.03, style.text("ri_scenario", lang), fontsize=small, color=style.MUTED, va="bottom")
            fig.suptitle(style.text("ri_title", lang, geo=style.geo_name(geo, lang), p=value_text(probability, lang)),
                         x=0.01, ha="left", fontsize=9.5, fontweight="bold")
            height = fig.get_figheight()
            fig.subplots_adjust(left=0.1, right=0.98, top=1 - 0.85 / height, bottom=0.45 / height, hspace=0.85,
                                wspace=0.3)
            path = folder / f"required_investment_{chart_name(geo)}.png"
            _save(fig, path)
            paths.append(path)
    return paths
