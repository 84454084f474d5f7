"""The report's track-record section from a folder written by ``dxsim scorecard`` (the numbers are
``analyses.scorecard``'s), in the report's language."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dxsim.analyses.scorecard import SCORECARD_COLUMNS, summarise
from dxsim.errors import InputError
from dxsim.outputs import style
from dxsim.outputs.document_names import document_name
from dxsim.outputs.explicit_tables import read_explicit
from dxsim.outputs.report_html import esc, figure_html, link, table_html
from dxsim.outputs.report_words import method_name, num, status_name, target_text, value_text, word, yes_no


def _read(path: Path) -> pd.DataFrame:
    try:
        table = read_explicit(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV table ({type(exc).__name__})") from None
    missing = [c for c in SCORECARD_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, "header", f"missing column(s) {', '.join(missing)}")
    return table


def _series(r: object, lang: str) -> str:
    return f"{style.indicator_name(r.indicator, lang, geo=r.geo)} ({style.definition_name(r.definition, lang)})"


def _given(r: object, lang: str) -> str:
    return f"{num(r.median, 1, lang)} [{num(r.lo80, 1, lang)}–{num(r.hi80, 1, lang)}]"


def _chart(folder: Path, table: pd.DataFrame, lang: str, scratch: Path | None) -> Path | None:
    """The folder's scorecard.png (English), or the chart drawn in ``lang`` into ``scratch``."""
    if lang == "en" or scratch is None:
        return folder / "scorecard.png" if lang == "en" and (folder / "scorecard.png").is_file() else None
    from dxsim.outputs.scorecardchart import plot_scorecard

    scratch.mkdir(parents=True, exist_ok=True)
    return plot_scorecard(table, scratch / "scorecard.png", lang)


def track_record_section(folder: str | Path, lang: str = "en", scratch: Path | None = None) -> str:
    """What dxsim (and the simple rules) said at each origin and what happened, as HTML; the chart in another
    language than English is drawn into ``scratch``."""
    folder = Path(folder)
    table = _read(folder / "scorecard.csv")
    summary = summarise(table)
    rows = [[esc(str(r.origin)), esc(method_name(r.method, lang)), str(r.n_targets), num(r.brier, 3, lang),
             num(r.dxsim_brier_same_targets, 3, lang), str(r.n_readings), num(r.held_80, 3, lang),
             num(r.dxsim_held_80_same_readings, 3, lang)] for r in summary.itertuples()]
    dx = table[(table["kind"] == "target") & (table["method"] == "dxsim")]
    said = [[esc(str(r.origin)), esc(style.geo_name(r.geo, lang)), esc(_series(r, lang)),
             esc(f"{r.year} {target_text(r.comparator, r.target, lang)}"), num(r.probability, 3, lang),
             _given(r, lang), value_text(r.value, lang), esc(status_name("met" if r.outcome == 1 else "missed", lang)),
             link(r.source_url), esc(document_name(r.document, lang))] for r in dx.itertuples()]
    dr = table[(table["kind"] == "reading") & (table["method"] == "dxsim")]
    held = [[esc(str(r.origin)), esc(style.geo_name(r.geo, lang)), esc(_series(r, lang)),
             esc(r.period if isinstance(r.period, str) and r.period else r.year), value_text(r.value, lang),
             _given(r, lang), esc(yes_no(r.held in (True, "True"), lang)), link(r.source_url)]
            for r in dr.itertuples()]
    w = [esc(word(k, lang)) for k in ("origin", "skill_method", "n_targets", "brier", "brier_same", "later_readings",
                                      "inside_80", "inside_80_same")]
    said_head = [esc(word(k, lang)) for k in ("origin", "geo", "indicator", "target", "p_given", "median_given",
                                              "reading", "outcome", "source", "document")]
    held_head = [esc(word(k, lang)) for k in ("origin", "geo", "indicator", "date", "reading", "median_given",
                                              "inside", "source")]
    return "\n".join([
        f'<p class="note">{esc(word("track_note", lang, folder=folder.name))}</p>',
        table_html(w, rows, numeric=range(2, 8)),
        f"<h3>{esc(word('track_said', lang))}</h3>",
        table_html(said_head, said, numeric=(4, 5, 6)),
        f"<details><summary>{esc(word('track_held', lang, n=len(held)))}</summary>",
        table_html(held_head, held, numeric=(4, 5)),
        "</details>",
        figure_html(_chart(folder, table, lang, scratch), word("track_chart", lang), "scorecard chart", lang),
    ])
