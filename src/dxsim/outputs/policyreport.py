"""The report's policy section: a folder written by ``dxsim sensitivity`` (what moves each output) or by
``dxsim required-investment`` (what it would take), as HTML."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim.errors import InputError
from dxsim.outputs.report_html import esc, figure_html, table_html

MAX_CHARTS = 6


def is_policy_folder(folder: Path) -> bool:
    return (folder / "sensitivity.csv").is_file() or (folder / "required_investment.csv").is_file()


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV table ({type(exc).__name__})") from None


def policy_section(folder: Path) -> tuple[str, str]:
    """(title, HTML) of one policy folder."""
    manifest = {}
    if (folder / "manifest.json").is_file():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    scenario = esc(manifest.get("scenario", {}).get("name", folder.name))
    if (folder / "sensitivity.csv").is_file():
        return f"What moves the targets ({scenario})", _sensitivity_html(folder, manifest)
    return f"What it would take ({scenario})", _required_html(folder, manifest)


def _sensitivity_html(folder: Path, manifest: dict) -> str:
    table = _read(folder / "sensitivity.csv")
    outputs = _read(folder / "sensitivity_outputs.csv") if (folder / "sensitivity_outputs.csv").is_file() \
        else pd.DataFrame({"output": table["output"].unique(), "at_scenario": np.nan, "analysed": True})
    method = manifest.get("method", "sobol" if "ST" in set(table["index"]) else "morris")
    index = "ST" if method == "sobol" else "mu_star"
    rows = []
    for o in outputs.itertuples():
        if not bool(o.analysed):
            rows.append([esc(o.output), esc(f"{o.at_scenario:.3g}"), "the same in every sample"])
            continue
        top = table[(table["output"] == o.output) & (table["index"] == index)]
        top = top.sort_values(["value", "factor"], ascending=[False, True]).head(3)
        cells = "; ".join(f"{esc(r.factor)} {r.value:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in top.itertuples())
        rows.append([esc(o.output), esc(f"{o.at_scenario:.3g}"), cells])
    what = ("Sobol total index ST (share of the output's variance due to the factor, interactions included)"
            if method == "sobol" else "Morris mu* (mean absolute effect of a step in the factor)")
    out = [f'<p class="note">From {esc(folder)}: {esc(method)} analysis, {esc(manifest.get("evaluations", "?"))} '
           f"evaluations of {esc(manifest.get('draws', '?'))} draws each, every one with the same draws and noise "
           f"(common random numbers). Largest three factors per output by {esc(what)}, with "
           f"{esc(format(manifest.get('confidence_level', 0.95), '.0%'))} confidence intervals; all indices in "
           "sensitivity.csv.</p>",
           table_html(["output", "at the scenario", "largest factors"], rows)]
    charts = sorted((folder / "charts").glob("sensitivity_*.png"))[:MAX_CHARTS]
    out += [figure_html(c, c.stem.replace("_", " "), "sensitivity chart") for c in charts]
    return "\n".join(out)


def _required_html(folder: Path, manifest: dict) -> str:
    table = _read(folder / "required_investment.csv")
    p = manifest.get("probability", table["probability_requested"].iloc[0] if len(table) else np.nan)
    shown = table[~table["status"].isin(["not_applicable", "not_evaluable"])]
    rows = [[esc(r.geo), esc(f"{r.indicator}/{r.definition}"), esc(f"{r.deadline} {r.comparator}{r.target:g}"),
             esc(r.pillar), esc(f"{r.probability_at_baseline:.3f}"), esc(r.answer)] for r in shown.itertuples()]
    out = [f'<p class="note">From {esc(folder)}: for each target, the smallest investment multiple of its pillar in '
           f"its geo (1 = the calibrated baseline effort, replacing the scenario's from the first projected year) "
           f"from which P(met) reaches {esc(p)}, found by bisection with the same draws and noise at every multiple "
           f"({esc(manifest.get('draws', '?'))} draws).</p>",
           table_html(["geo", "series", "target", "pillar", "P in the scenario", "answer"], rows)]
    if len(shown) < len(table):
        out.append(f'<p class="note">{len(table) - len(shown)} more target(s) cannot be moved by investment (due '
                   "before it acts, upper bounds, or not evaluable); listed with the reason in "
                   "required_investment.csv.</p>")
    charts = sorted((folder / "charts").glob("required_investment_*.png"))[:MAX_CHARTS]
    out += [figure_html(c, f"P(target met) against the investment multiple: {c.stem[20:]}", "required investment")
            for c in charts]
    return "\n".join(out)
