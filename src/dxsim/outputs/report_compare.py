"""The report's scenario comparison: P(target met) per scenario and the comparison charts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dxsim.outputs import style
from dxsim.outputs.report_html import esc, figure_html, table_html
from dxsim.outputs.report_words import note_text, num, target_text, word

if TYPE_CHECKING:
    from dxsim.outputs.charts import RunTables


def pairing_text(runs: Sequence[RunTables], labels: Sequence[str], lang: str) -> str:
    """Whether each run shares its random numbers with the first (``headline_draws.unpaired_reason``)."""
    from dxsim.outputs.headline_draws import unpaired_reason

    out = []
    for run, label in zip(runs[1:], labels[1:], strict=True):
        why = unpaired_reason(runs[0], run)
        out.append(word("paired", lang, name=label, base=labels[0]) if why is None else
                   word("unpaired", lang, name=label, base=labels[0], why=style.text(why, lang)))
    return " ".join(out)


def comparison_section(runs: Sequence[RunTables], tmp: Path, lang: str) -> str:
    """P(target met) of every target due in the projected years, one column per run, then per geo x headline
    series a chart of the runs' medians and 80% bands (drawn into ``tmp``)."""
    from dxsim.outputs.charts import render_compare, run_labels

    labels = run_labels(runs)
    keys = ["geo", "indicator", "definition", "deadline", "comparator", "target"]
    merged = None
    for run, label in zip(runs, labels, strict=True):
        tp = run.targets[run.targets["evaluable"] & (run.targets["deadline"] >= run.first_projected_year)]
        tp = tp.groupby(keys, sort=False)["probability"].first().rename(label).reset_index()
        merged = tp if merged is None else merged.merge(tp, on=keys, how="outer")
    rows = [[esc(style.geo_name(r[0], lang)), esc(style.indicator_name(r[1], lang, None, r[0])),
             esc(style.definition_name(r[2], lang)), esc(r[3]),
             esc(target_text(r[4], r[5], lang)), *(esc(num(v, 3, lang)) for v in r[6:])]
            for r in merged.sort_values(["geo", "deadline"]).itertuples(index=False)]
    header = [esc(word(k, lang)) for k in ("geo", "indicator", "definition", "deadline", "target")]
    from dxsim.outputs.comparability import comparability_warnings

    warnings = comparability_warnings([r.manifest for r in runs], labels)
    out = [f'<p class="note">{esc(pairing_text(runs, labels, lang))}</p>']
    if warnings:            # seed, draws, calibration or data differ: the differences include Monte Carlo noise
        out += [f'<p class="warning">{esc(word("not_comparable", lang))}</p>',
                "<ul>" + "".join(f"<li>{esc(note_text(w, lang))}</li>" for w in warnings) + "</ul>"]
    out += [
           f"<h3>{esc(word('p_by_scenario', lang))}</h3>",
           table_html([*header, *map(esc, labels)], rows, numeric=range(5, 5 + len(labels)))]
    charts = render_compare(runs, tmp / "compare", lang=lang, formats=("svg",))
    names = {f"compare_{geo}_{ind}_{dfn}": f"{style.geo_name(geo, lang)}: {style.indicator_name(ind, lang, None, geo)} "
             f"({style.definition_name(dfn, lang)})"
             for geo in runs[0].geos for ind, dfn in runs[0].headline_series()}
    out += ['<div class="grid">', *(figure_html(p, f"{names.get(p.stem, p.stem)}: {', '.join(labels)}",
                                            "scenario comparison", lang) for p in charts), "</div>"]
    return "\n".join(out)
