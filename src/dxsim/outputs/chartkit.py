"""Shared pieces of the report charts: series and target selection, labels, axes, legend, footnote."""

from __future__ import annotations

import math
import textwrap
import weakref
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from dxsim.outputs import background, style
from dxsim.outputs.runtables import RunTables
from dxsim.outputs.summary_words import newest_readings, newest_readings_text, short_document  # noqa: F401

# ---------------------------------------------------------------------------------------------- helpers

DOC_CHARS = 34             # characters of a document's short name in tables and the target chart


def source_name(url: str) -> str:
    """Host of a source URL without 'www.', e.g. 'baolongan.vn'."""
    host = urlparse(str(url)).netloc.lower()
    return host.removeprefix("www.") or "source not given"


def fan_chart_keys(tables: RunTables) -> list[tuple[str, str, str]]:
    """Fan charts to draw: every geo x headline indicator (anchor definition), plus every
    (geo, indicator, definition) with an evaluable target or a reading in the run, in table order."""
    present = set(zip(tables.trajectories["geo"], tables.trajectories["indicator"],
                      tables.trajectories["definition"], strict=True))
    wanted = {(g, i, d) for g in tables.geos for i, d in tables.headline_series()}
    ev = tables.targets[tables.targets["evaluable"]]
    wanted |= set(zip(ev["geo"], ev["indicator"], ev["evaluated_as"], strict=True))
    wanted |= set(zip(tables.observations["geo"], tables.observations["indicator"],
                      tables.observations["definition"], strict=True))
    order = list(dict.fromkeys(zip(tables.trajectories["geo"], tables.trajectories["indicator"],
                                   tables.trajectories["definition"], strict=True)))
    return [k for k in order if k in wanted and k in present]


_GROUPS: dict[int, dict[tuple[str, tuple[str, ...]], dict[tuple, pd.DataFrame]]] = {}   # dropped with the tables


def rows_of(tables: RunTables, name: str, columns: tuple[str, ...], key: tuple) -> pd.DataFrame:
    """The rows of table ``name`` of ``tables`` (e.g. "observations") whose ``columns`` equal ``key``, in table
    order: a filter of the table, from its groups made once per tables object (a chart filters tens of times)."""
    frame = getattr(tables, name)
    entry = _GROUPS.get(id(tables))
    if entry is None:
        entry = _GROUPS[id(tables)] = {}
        weakref.finalize(tables, _GROUPS.pop, id(tables), None)
    groups = entry.get((name, columns))
    if groups is None:
        groups = entry[(name, columns)] = dict(iter(frame.groupby(list(columns), sort=False)))
    rows = groups.get(key)
    return frame.iloc[:0] if rows is None else rows


def _series(tables: RunTables, geo: str, indicator: str, definition: str) -> pd.DataFrame:
    rows = rows_of(tables, "trajectories", ("geo", "indicator", "definition"), (geo, indicator, definition))
    return rows.sort_values("year")


def series_readings(tables: RunTables, geo: str, indicator: str, definition: str) -> pd.DataFrame:
    """The run's readings of one series, in table order."""
    return rows_of(tables, "observations", ("geo", "indicator", "definition"), (geo, indicator, definition))


def _targets(tables: RunTables, geo: str, indicator: str, definition: str) -> list[dict[str, Any]]:
    """Evaluable targets evaluated on one series (mapped ones included), equivalent ones merged: the same
    deadline and value worded with '>' in one document and '>=' in another is one target listing both
    documents (and both comparators). ``x`` is the deadline on the continuous time axis."""
    return group_targets(tables, rows_of(tables, "targets", ("geo", "indicator", "evaluated_as"),
                                         (geo, indicator, definition)))


def group_targets(tables: RunTables, rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Evaluable targets of ``rows`` grouped by (geo, indicator, definition stated, definition evaluated on,
    deadline, value), in that order; each with its comparators, documents (full names, as given),
    probability (the highest of the group's wordings: they differ only at the ceiling) and Monte Carlo
    standard error."""
    rows = rows[rows["evaluable"]]
    keys = ["geo", "indicator", "definition", "evaluated_as", "deadline", "target"]
    groups: dict[tuple, list[int]] = {}     # plain records, not DataFrame.groupby: a chart has a few targets
    for k, key in enumerate(zip(*(rows[c].tolist() for c in keys), strict=True)):
        if not any(pd.isna(v) for v in key):             # as groupby: a row with a missing key is in no group
            groups.setdefault(key, []).append(k)
    probability, mc_se = rows["probability"].to_numpy(float), rows["mc_se"].to_numpy(float)
    comparators, documents = [str(c) for c in rows["comparator"]], [str(d) for d in rows["document"]]
    out = []
    for key in sorted(groups):
        geo, ind, dfn, evaluated, deadline, target = key
        members = groups[key]
        best = members[int(np.argmax(probability[members]))]
        out.append({"geo": geo, "indicator": ind, "definition": dfn, "evaluated_as": evaluated,
                    "deadline": int(deadline),
                    "target": float(target), "x": float(tables.year_x(ind, [deadline])[0]),
                    "comparator": " / ".join(dict.fromkeys(comparators[k] for k in members)),
                    "comparators": tuple(dict.fromkeys(comparators[k] for k in members)),
                    "probability": float(probability[best]), "mc_se": float(mc_se[best]),
                    "documents": list(dict.fromkeys(documents[k] for k in members))})
    return out


def definition_label(definition: str, evaluated_as: str, lang: str = "en", compact: bool = False) -> str:
    """A target's definition as shown: 'method not stated, as MIC method' where a mapping evaluated it
    ('method not stated → MIC method' when ``compact``)."""
    name = style.definition_name(definition, lang)
    if evaluated_as in ("", definition):
        return name
    evaluated = style.definition_name(evaluated_as, lang)
    return f"{name} → {evaluated}" if compact else style.text("evaluated_as", lang, definition=name,
                                                              evaluated=evaluated)


def target_text(t: dict[str, Any], lang: str = "en") -> str:
    """'≥ 80%' or, for equivalent wordings, '≥ / > 80%'."""
    value = f"{t['target']:g}".replace(".", "," if lang == "vi" else ".")
    return " / ".join(style.comparator(c).strip() for c in t["comparators"]) + f" {value}%"


def reading_note(tables: RunTables, geo: str, indicator: str, definition: str, lang: str = "en") -> str | None:
    """None when the series has readings; else what its values rest on: the definition mapping from the
    definitions the geo has readings of, or the pooled distribution of the provinces with readings."""
    mine = rows_of(tables, "observations", ("geo", "indicator"), (geo, indicator))
    if (mine["definition"] == definition).any():
        return None
    if len(mine):
        names = ", ".join(style.definition_name(d, lang) for d in dict.fromkeys(mine["definition"]))
        return style.text("no_reading_mapped", lang, definition=names)
    fit = tables.fit_table
    n = 0
    if "n_observations" in fit.columns:
        with_readings = fit[(fit["indicator"] == indicator) & (fit["n_observations"] > 0)]
        n = int((with_readings["geo"] != style.NATIONAL).sum())
    return style.text("no_reading_pooled", lang, n=n)


def p_text(p: float, lang: str = "en") -> str:
    """A probability to two decimals, '> 0.99' / '< 0.01' rather than a rounded 1.00 / 0.00 (decimal comma
    in Vietnamese)."""
    text = "> 0.99" if p > 0.995 else "< 0.01" if p < 0.005 else f"{p:.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def _documents_text(docs: list[str], limit: int = 2, lang: str = "en") -> str:
    more = len(docs) - limit
    return "; ".join(docs[:limit]) + (style.text("more", lang, n=more) if more > 0 else "")


def _y_top(*values: Iterable[float]) -> float:
    """Upper y limit: the largest value with 8% headroom, rounded up to 10 points, at most 100."""
    finite = [float(v) for vals in values for v in vals if np.isfinite(v)]
    top = max(finite, default=100.0) * 1.08
    return float(min(100.0, max(10.0, math.ceil(top / 10.0) * 10.0)))


def _spread(ys: list[float], gap: float, lo: float, hi: float) -> list[float]:
    """Label heights at least ``gap`` apart, kept inside [lo, hi], as close to ``ys`` as the gaps allow."""
    order = np.argsort(ys, kind="stable")
    placed = np.array(ys, float)[order]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    if len(placed) and placed[-1] > hi:
        placed -= placed[-1] - hi
    for k in range(len(placed)):
        placed[k] = max(placed[k], lo + k * gap)
    out = np.empty_like(placed)
    out[order] = placed
    return out.tolist()


def short_path(path: object) -> str:
    """A calibration config's short name for print: its folder and file ('calibration/config.toml'), never the
    absolute path, so charts and reports do not depend on where the repository or the run sits."""
    parts = Path(str(path or "?")).parts
    return "/".join(parts[-2:]) if len(parts) > 1 else str(path or "?")


def _calibration_sha(tables: RunTables) -> str:
    return str((tables.manifest.get("calibration") or {}).get("sha256", "?"))[:8]


def _footnote(tables: RunTables, lang: str, series: tuple[str, str] | None = None, width: int = 0) -> str:
    """The run's provenance, and the date of the newest reading: of the chart's ``series``, else (a second
    line) of each headline series. ``width``: wrap lines at that many characters."""
    m = tables.manifest
    cal = m.get("calibration") or {}
    jump_off = cal.get("jump_off_year", tables.first_projected_year - 1)
    newest = newest_readings(m)
    if series is not None and series in newest:
        jump_off = style.text("newest_series", lang, jump_off=jump_off, date=newest[series])
    text = style.text("footnote", lang, version=m.get("dxsim_version", "?"),
                      scenario=(m.get("scenario") or {}).get("name", tables.scenario),
                      config=short_path(cal.get("config")), sha=_calibration_sha(tables), jump_off=jump_off,
                      draws=m.get("draws", "?"), created=str(m.get("created_utc", ""))[:10])
    if series is None:
        headline = newest_readings_text(m, tables.headline, lang, tables.headline_series())
        text = f"{headline}\n{text}" if headline else text
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n")) if width else text


def _title_names(tables: RunTables, geo: str, indicator: str, definition: str, lang: str) -> dict[str, str]:
    return {"geo": style.geo_name(geo, lang),
            "indicator": style.indicator_name(indicator, lang, tables.labels.get(indicator), geo),
            "definition": style.definition_name(definition, lang)}


def _draw_fan(ax: Any, x: np.ndarray, rows: pd.DataFrame, color: str,
              bands: Sequence[tuple[str, str, int, float]]) -> None:
    """Bands and median at ``x`` (continuous time of each row), drawn through the months between them."""
    for lo, hi, _, alpha in bands:
        if lo in rows and hi in rows:
            ax.fill_between(x, rows[lo].to_numpy(), rows[hi].to_numpy(), color=color, alpha=alpha, lw=0)
    ax.plot(x, rows["q50"].to_numpy(), color=color, lw=1.8)


def _mark_projection(ax: Any, first_projected: int, lang: str, labels: bool = True,
                     note: str | None = None, points: Sequence[tuple[float, float]] = ()) -> bool:
    """A dashed line where projections start (1 January of the first projected year), labelled
    '← observed | projected →'; ``note`` replaces 'observed' for a series without readings. The labels go at the
    top of the plot, or at its bottom where more of ``points`` (x, y in data units: readings) would sit under them
    at the top than at the bottom. Returns True where the labels are at the top."""
    x = float(first_projected)
    ax.axvline(x, color=style.MUTED, lw=0.8, ls=(0, (4, 3)))
    if not labels:
        return True
    y, va = _label_height(ax, x, points)
    trans = ax.get_xaxis_transform()
    box = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8}
    if note:        # no reading: say what the values rest on, at the top left of the plot
        ax.text(0.015, 0.985, note, transform=ax.transAxes, ha="left", va="top", fontsize=style.MIN_FONT,
                color=style.TARGET_COLOR, bbox=box, gid="no-reading", zorder=8)
        y, va = 0.985, "top"
    else:
        ax.text(x - 0.12, y, "← " + style.text("observed_period", lang), transform=trans, ha="right",
                va=va, fontsize=style.MIN_FONT, color=style.MUTED, bbox=box, gid="observed-period")
    ax.text(x + 0.12, y, style.text("projected_period", lang) + " →", transform=trans, ha="left",
            va=va, fontsize=style.MIN_FONT, color=style.MUTED, bbox=box, gid="projected-period")
    return va == "top"


def _label_height(ax: Any, x: float, points: Sequence[tuple[float, float]]) -> tuple[float, str]:
    """(y in axes fraction, vertical alignment) of the labels beside the line at ``x``: the top unless more of
    ``points`` lie in the top strip near the line than in the bottom strip."""
    lo, hi = ax.get_ylim()
    span = (hi - lo) or 1.0
    near = [(y - lo) / span for px, y in points if abs(px - x) <= 1.4 and np.isfinite(y)]
    top = sum(1 for f in near if f >= 0.86)
    bottom = sum(1 for f in near if f <= 0.14)
    return (0.015, "bottom") if top > bottom else (0.985, "top")


@lru_cache(maxsize=8)
def _config(path: str) -> Any:
    from dxsim.errors import InputError
    from dxsim.inputs.config import load_config

    try:
        return load_config(path)
    except (InputError, OSError):
        return None


def run_config(tables: RunTables) -> Any:
    """The calibration config of the run: its results folder's copy (older folders: the file the manifest names;
    None where it cannot be read)."""
    from dxsim.outputs.run_inputs import run_config_file

    path = run_config_file(tables.folder, tables.manifest)
    return _config(str(path)) if path else None


def method_break(tables: RunTables, indicator: str, definition: str) -> int | None:
    """The year from which a definition is measured the way its projections mean (its ``break_year`` in the run's
    calibration config: e.g. end-to-end handling measured automatically since 2024), or None."""
    cfg = run_config(tables)
    if cfg is None or indicator not in cfg.indicator_names:
        return None
    spec = cfg.indicator(indicator)
    if definition not in spec.definition_names:
        return None
    return spec.definition(definition).break_year


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=100)


def _title(ax: Any, text: str, size: float = 10.5, fits: int = 60) -> None:
    """Left-aligned bold title, smaller when longer than about ``fits`` characters (so it fits the chart)."""
    ax.set_title(text, loc="left", fontsize=max(7.5, min(size, size * fits / max(len(text), 1))))


def _dodge(years: np.ndarray, step: float = 0.14) -> np.ndarray:
    """x positions of readings: several readings at the same time are spread around it by ``step`` years."""
    x = years.astype(float)
    for year in np.unique(years):
        idx = np.flatnonzero(years == year)
        x[idx] += (np.arange(len(idx)) - (len(idx) - 1) / 2) * step
    return x


def _axis_labels(ax: Any, xlabel: str, ylabel: str, top: float, label_pad: float = 0.065) -> None:
    """Year ticks every 5 years with a faint line at every year, about five percent ticks, axis labels at
    fixed positions (ticks and matplotlib's automatic label placement are the slow parts of a chart)."""
    ax.xaxis.set_major_locator(ticker.MultipleLocator(5))
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%d"))
    ax.yaxis.set_major_locator(ticker.MultipleLocator(next(s for s in (2, 5, 10, 20, 25) if top / s <= 6)))
    lo, hi = ax.get_xlim()
    years = [y for y in range(math.ceil(lo), math.floor(hi) + 1) if y % 5]
    lines = ax.vlines(years, 0, 1, transform=ax.get_xaxis_transform(), colors="#eeeeee", lw=0.5, zorder=0.5)
    background.mark(ax, lines)            # the same in charts of the same limits: drawn once (background.py)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_label_coords(0.5, -label_pad * 1.5)
    ax.yaxis.set_label_coords(-label_pad, 0.5)


def legend_columns(labels: Sequence[str], width_inches: float, x0: float, ncol: int, fontsize: float = 7.5
                   ) -> list[float]:
    """Column widths (figure fractions) of a legend of ``labels`` starting at ``x0`` on a figure ``width_inches``
    wide: at most ``ncol`` columns, fewer where the labels would not fit. ``len(result)`` is the column count."""
    fig_w_pt = width_inches * 72
    sample, pad = 16 / fig_w_pt, 5 / fig_w_pt
    while True:
        widths = [max((len(labels[k]) * 0.53 * fontsize / fig_w_pt for k in range(c, len(labels), ncol)),
                      default=0) + sample + 2 * pad + 8 / fig_w_pt for c in range(ncol)]
        if ncol == 1 or x0 + sum(widths) <= 0.99:
            return widths
        ncol -= 1


def legend_rows(handles: Sequence[Any], width_inches: float, x0: float, ncol: int, fontsize: float = 7.5) -> int:
    """Rows the legend of ``handles`` takes (see ``legend_columns``)."""
    labels = [h.get_label() for h in handles]
    return math.ceil(len(labels) / len(legend_columns(labels, width_inches, x0, ncol, fontsize)))


def _legend(fig: Figure, handles: Sequence[Any], x0: float, y0: float, ncol: int, fontsize: float = 7.5,
            row_inches: float = 0.2) -> int:
    """A legend drawn as plain artists from (x0, y0) downwards, in figure coordinates, filled row by row
    (``fig.legend`` costs more than the rest of a fan chart). Returns the number of rows."""
    fig_w_pt = fig.get_figwidth() * 72
    sample, pad = 16 / fig_w_pt, 5 / fig_w_pt
    row_height = row_inches / fig.get_figheight()
    labels = [h.get_label() for h in handles]
    widths = legend_columns(labels, fig.get_figwidth(), x0, ncol, fontsize)
    ncol = len(widths)
    for k, handle in enumerate(handles):
        row, col = divmod(k, ncol)
        x, y = x0 + sum(widths[:col]), y0 - row * row_height
        if isinstance(handle, Patch):
            fig.add_artist(Rectangle((x, y - row_height * 0.22), sample, row_height * 0.44,
                                     transform=fig.transFigure, fc=handle.get_facecolor(), lw=0))
        elif handle.get_linestyle() not in ("None", "none", ""):
            fig.add_artist(Line2D([x, x + sample], [y, y], transform=fig.transFigure,
                                  color=handle.get_color(), lw=handle.get_linewidth()))
        else:
            fig.add_artist(Line2D([x + sample / 2], [y], transform=fig.transFigure, ls="none",
                                  marker=handle.get_marker(), ms=handle.get_markersize(),
                                  mfc=handle.get_markerfacecolor(), mec=handle.get_markeredgecolor(),
                                  mew=handle.get_markeredgewidth()))
        fig.text(x + sample + pad, y, labels[k], fontsize=fontsize, va="center", ha="left")
    return math.ceil(len(handles) / ncol)


