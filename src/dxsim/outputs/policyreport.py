"""The report's policy section: a folder written by ``dxsim sensitivity`` (what moves each output) or by
``dxsim required-investment`` (what it would take), as HTML in the report's language."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim.errors import InputError
from dxsim.outputs import style
from dxsim.outputs.document_names import document_name
from dxsim.outputs.explicit_tables import read_explicit
from dxsim.outputs.policycharts import chart_name, output_title
from dxsim.outputs.report_html import esc, figure_html, table_html
from dxsim.outputs.report_words import (
    factor_name,
    factor_names,
    num,
    pillar_name,
    target_text,
    value_text,
    word,
)

MAX_CHARTS = 6


def is_policy_folder(folder: Path) -> bool:
    return (folder / "sensitivity.csv").is_file() or (folder / "required_investment.csv").is_file()


def _read(path: Path) -> pd.DataFrame:
    try:
        return read_explicit(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV table ({type(exc).__name__})") from None


def folder_factors(folder: Path) -> list[dict]:
    """The factors of a sensitivity folder (its factors.toml); none for a folder without a readable one."""
    try:
        with (folder / "factors.toml").open("rb") as fh:
            factors = tomllib.load(fh).get("factors", [])
    except (OSError, tomllib.TOMLDecodeError):
        return []
    return [f for f in factors if isinstance(f, dict)] if isinstance(factors, list) else []


def policy_section(folder: Path, lang: str = "en", scratch: Path | None = None) -> tuple[str, str]:
    """(title, HTML) of one policy folder; charts in another language than English are drawn into ``scratch``."""
    manifest = {}
    if (folder / "manifest.json").is_file():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    scenario = esc(manifest.get("scenario", {}).get("name", folder.name))
    if (folder / "sensitivity.csv").is_file():
        return word("what_moves", lang, scenario=scenario), _sensitivity_html(folder, manifest, lang, scratch)
    return word("what_takes", lang, scenario=scenario), _required_html(folder, manifest, lang, scratch)


def _interval(value: float, lo: float, hi: float, lang: str) -> str:
    return f"{num(value, 2, lang)} [{num(lo, 2, lang)}; {num(hi, 2, lang)}]"


def _sensitivity_charts(folder: Path, table: pd.DataFrame, outputs: pd.DataFrame, manifest: dict, lang: str,
                        scratch: Path | None) -> list[Path]:
    """The folder's charts (English), or the same drawn in ``lang`` into ``scratch`` from its tables."""
    if lang == "en" or scratch is None or "conf" not in table.columns or "kind" not in outputs.columns:
        return sorted((folder / "charts").glob("sensitivity_*.png")) if lang == "en" else []
    from dxsim.outputs.policycharts import sensitivity_charts_of

    method = manifest.get("method", "sobol" if "ST" in set(table["index"]) else "morris")
    return sorted(sensitivity_charts_of(table, outputs, method, manifest.get("evaluations", "?"), scratch, lang,
                                        folder_factors(folder)))


def _sensitivity_html(folder: Path, manifest: dict, lang: str, scratch: Path | None = None) -> str:
    table = _read(folder / "sensitivity.csv")
    outputs = _read(folder / "sensitivity_outputs.csv") if (folder / "sensitivity_outputs.csv").is_file() \
        else pd.DataFrame({"output": table["output"].unique(), "at_scenario": np.nan, "analysed": True})
    method = manifest.get("method", "sobol" if "ST" in set(table["index"]) else "morris")
    index = "ST" if method == "sobol" else "mu_star"
    names = factor_names(folder_factors(folder), lang)
    rows = []
    for o in outputs.itertuples():
        at = esc(value_text(float(f"{o.at_scenario:.3g}"), lang)) if pd.notna(o.at_scenario) else ""
        if not bool(o.analysed):
            rows.append([esc(output_title(o, lang)), at, esc(word("same_every_sample", lang))])
            continue
        top = table[(table["output"] == o.output) & (table["index"] == index)]
        top = top.sort_values(["value", "factor"], ascending=[False, True]).head(3)
        cells = "; ".join(f"{esc(factor_name(r.factor, names))} {_interval(r.value, r.ci_low, r.ci_high, lang)}"
                          for r in top.itertuples())
        rows.append([esc(output_title(o, lang)), at, cells])
    level = float(manifest.get("confidence_level", 0.95))
    out = ['<p class="note">' + esc(word("sensitivity_note", lang, folder=folder.name, method=method,
                                          evaluations=manifest.get("evaluations", "?"),
                                          draws=manifest.get("draws", "?"), what=word(f"{method}_what", lang),
                                          level=f"{style.number(100 * level, 0, lang)}%")) + "</p>",
           table_html([esc(word(k, lang)) for k in ("output", "at_scenario", "largest_factors")], rows,
                      numeric=(1,))]
    charts = _sensitivity_charts(folder, table, outputs, manifest, lang, scratch)[:MAX_CHARTS]
    analysed = list(outputs[outputs["analysed"].astype(bool)].itertuples())      # chart k: analysed output k
    names = [output_title(analysed[int(c.stem[12:15])], lang) if c.stem[12:15].isdigit()
             and int(c.stem[12:15]) < len(analysed) else c.stem[16:].replace("_", " ") for c in charts]
    out += [figure_html(c, word("sensitivity_chart", lang, name=name), "sensitivity chart", lang)
            for c, name in zip(charts, names, strict=True)]
    return "\n".join(out)


ANSWERS_VI = {
    "found": "bội số {multiple}{spend}: xác suất {p}",
    "met_at_baseline": "đã đạt ở mức của kịch bản: xác suất {p0}",
    "not_reachable": "không đạt được dưới bội số {max}",
    "not_applicable": "không áp dụng: đầu tư không làm mục tiêu này dễ đạt hơn (đến hạn trước khi đầu tư có tác "
                      "dụng, hoặc là giới hạn trên)",
    "not_evaluable": "không đánh giá được",
}


def answer_text(r: object, lang: str) -> str:
    """A required-investment answer (a row of required_investment.csv) in ``lang`` (English: the file's own
    words)."""
    if lang == "en":
        return str(r.answer)
    spend = getattr(r, "spend_bn_vnd_per_year", np.nan)
    return ANSWERS_VI.get(str(r.status), str(r.status)).format(
        multiple=num(getattr(r, "multiple", np.nan), 2, lang),
        spend=f" (khoảng {style.number(spend, 0, lang)} tỷ đồng/năm)" if pd.notna(spend) else "",
        p=num(getattr(r, "probability", np.nan), 3, lang), p0=num(r.probability_at_baseline, 3, lang),
        max=value_text(getattr(r, "max_multiple", np.nan), lang))


def _required_charts(folder: Path, table: pd.DataFrame, p: float, lang: str, scratch: Path | None) -> list[Path]:
    """The folder's charts (English), or the same drawn in ``lang`` into ``scratch`` from the curves file."""
    if lang == "en" or scratch is None or not (folder / "required_investment_curves.csv").is_file():
        return sorted((folder / "charts").glob("required_investment_*.png")) if lang == "en" else []
    from dxsim.outputs.policycharts import required_investment_charts

    curves = _read(folder / "required_investment_curves.csv")
    return sorted(required_investment_charts(curves, table, float(p), scratch, lang))


def _required_html(folder: Path, manifest: dict, lang: str, scratch: Path | None = None) -> str:
    table = _read(folder / "required_investment.csv")
    p = manifest.get("probability", table["probability_requested"].iloc[0] if len(table) else np.nan)
    shown = table[~table["status"].isin(["not_applicable", "not_evaluable"])]
    rows = [[esc(style.geo_name(r.geo, lang)),
             esc(f"{style.indicator_name(r.indicator, lang, geo=r.geo)} ({style.definition_name(r.definition, lang)})"),
             esc(f"{r.deadline} {target_text(r.comparator, r.target, lang)}"), esc(pillar_name(r.pillar, lang)),
             esc(num(r.probability_at_baseline, 3, lang)), esc(answer_text(r, lang)),
             esc(document_name(getattr(r, "document", ""), lang))] for r in shown.itertuples()]
    out = ['<p class="note">' + esc(word("required_note", lang, folder=folder.name, p=value_text(p, lang),
                                          draws=manifest.get("draws", "?"))) + "</p>",
           table_html([esc(word(k, lang))
                       for k in ("geo", "series", "target", "pillar", "p_scenario", "answer", "document")],
                      rows, numeric=(4,))]
    if len(shown) < len(table):
        out.append(f'<p class="note">{esc(word("required_more", lang, n=len(table) - len(shown)))}</p>')
    charts = _required_charts(folder, table, p, lang, scratch)[:MAX_CHARTS]
    names = {chart_name(g): style.geo_name(g, lang) for g in table["geo"].astype(str)}
    out += [figure_html(c, word("required_chart", lang, name=names.get(c.stem[20:], c.stem[20:])),
                        "required investment", lang) for c in charts]
    return "\n".join(out)
