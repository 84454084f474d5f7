"""Report charts drawn from the tidy tables of a results folder (not from an in-memory ensemble), so
``dxsim plot`` re-renders them without simulating again and ``dxsim run`` goes through the same code.

Charts: a fan chart per geo x indicator x definition (``fan_<geo>_<indicator>_<definition>``), the target
probabilities (``target_probabilities``), an overview of all geos x headline indicators (``overview``) and
scenario comparisons (``compare_<geo>_<indicator>_<definition>``). Values are percent; years are calendar
years (a reading sits at its year, whatever its month).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import sys
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from matplotlib import rc_context, ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from PIL import Image

from . import results, style
from .errors import InputError, unknown
from .observations import YEAR_RANGE

TRAJECTORY_COLUMNS = ("scenario", "geo", "indicator", "definition", "year", "projected", "q10", "q25", "q50",
                      "q75", "q90")
TARGET_COLUMNS = ("geo", "indicator", "definition", "deadline", "target", "comparator", "probability",
                  "mc_se", "document", "evaluable")
OBSERVATION_COLUMNS = ("geo", "indicator", "definition", "year", "value", "source_url")
ALL_TARGET_COLUMNS = ("geo", "scope", "n_targets", "probability")
TRAJECTORY_NUMBERS = ("mean", "q025", "q05", "q10", "q25", "q50", "q75", "q90", "q95", "q975")   # percent
OVERVIEW_ROWS = 6          # geos per overview page


@dataclass(frozen=True)
class RunTables:
    """The tables of one results folder that charts and the report read (values in percent). ``headline``
    and ``anchors`` come from the calibration config named in the manifest, else from fit_table.csv."""

    folder: Path
    trajectories: pd.DataFrame
    targets: pd.DataFrame
    observations: pd.DataFrame
    fit_table: pd.DataFrame
    manifest: dict[str, Any]
    headline: tuple[str, ...]
    anchors: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    all_targets: pd.DataFrame | None = None         # all_targets_probabilities.csv, when the folder has it

    @property
    def scenario(self) -> str:
        return str(self.trajectories["scenario"].iloc[0])

    @property
    def geos(self) -> tuple[str, ...]:
        return tuple(pd.unique(self.trajectories["geo"]))

    @property
    def first_projected_year(self) -> int:
        proj = self.trajectories.loc[self.trajectories["projected"], "year"]
        return int(proj.min()) if len(proj) else int(self.trajectories["year"].max()) + 1

    @property
    def draws(self) -> int:
        return int(self.manifest.get("draws", 0))

    def headline_series(self) -> list[tuple[str, str]]:
        """(indicator, anchor definition) of the headline indicators present in the trajectories."""
        present = set(self.trajectories["indicator"])
        return [(i, self.anchors[i]) for i in self.headline if i in present and i in self.anchors]


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(path, "", "file not found; is this a folder written by `dxsim run`?")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])   # only an empty cell is missing
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not a readable CSV table ({type(exc).__name__}: {exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(path, "columns", f"missing {', '.join(missing)}")
    return frame.reset_index(drop=True)


def _shown(value: Any) -> str:
    """A cell as the user wrote it: strings quoted, numbers plain."""
    if isinstance(value, str):
        return repr(value)
    return str(value.item() if isinstance(value, np.generic) else value)


def check_numbers(frame: pd.DataFrame, path: Path, col: str, *, whole: bool = False, year: bool = False,
                  lo: float | None = None, hi: float | None = None, empty_ok: Any = False) -> pd.Series:
    """The column ``col`` as float (int64 when ``whole`` or ``year``); a cell that is not a finite number
    (or not whole, or outside ``lo``..``hi``) raises InputError naming the file, 'row N, col' (N counts data
    rows from 1) and the value. ``empty_ok`` (bool or a boolean mask per row) lets empty cells through as NaN."""
    if year:
        whole, lo, hi = True, YEAR_RANGE[0], YEAR_RANGE[1]
    raw = frame[col]
    empty = raw.isna().to_numpy()
    if pd.api.types.is_bool_dtype(raw):                           # True/False is not a number
        values = np.full(len(raw), np.nan)
    elif pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        text = raw.map(lambda v: v.strip() if isinstance(v, str) else "" if isinstance(v, bool) else v)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        number = np.isfinite(values) & (np.round(values) == values if whole else True)
        inside = number & (values >= (-np.inf if lo is None else lo)) & (values <= (np.inf if hi is None else hi))
    ok = inside | (empty & np.asarray(empty_ok, dtype=bool))
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        kind = "a year like 2023" if year else "a whole number" if whole else "a number"
        if empty[i]:
            problem = f"is empty; must be {kind}"
        elif not number[i]:
            problem = f"must be {kind}, got {_shown(raw.iat[i])}"
        else:
            bounds = (f"between {lo:g} and {hi:g}" if lo is not None and hi is not None
                      else f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
            problem = f"must be {bounds}, got {_shown(raw.iat[i])}"
        raise InputError(path, f"row {i + 1}, {col}", problem)
    return pd.Series(values.astype(np.int64) if whole and not empty.any() else values, index=frame.index,
                     name=col)


def _as_bool(series: pd.Series, path: Path, name: str) -> pd.Series:
    if series.dtype == bool:
        return series
    mapped = series.map(lambda v: {"true": True, "false": False}.get(str(v).strip().lower())
                        if not isinstance(v, bool) else v)
    bad = np.flatnonzero(mapped.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        problem = ("is empty; must be True or False" if pd.isna(series.iat[i])
                   else f"must be True or False, got {_shown(series.iat[i])}")
        raise InputError(path, f"row {i + 1}, {name}", problem)
    return mapped.astype(bool)


def _text(frame: pd.DataFrame, path: Path, col: str) -> pd.Series:
    """A name column (geo, indicator, ...) as str; an empty cell raises InputError naming its row."""
    empty = np.flatnonzero(frame[col].isna().to_numpy() | (frame[col].astype(str).str.strip() == "").to_numpy())
    if empty.size:
        raise InputError(path, f"row {int(empty[0]) + 1}, {col}", "is empty")
    return frame[col].astype(str)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise InputError(path, "", "file not found; is this a folder written by `dxsim run`?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(path, "", "must be a JSON object")
    _check_manifest(path, data)
    return data


def _check_manifest(path: Path, data: dict[str, Any]) -> None:
    """The types charts and the report rely on: sections are objects, counts are whole numbers, the
    hyper-parameters are numbers."""
    def whole(where: str, value: Any) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InputError(path, where, f"must be a whole number, got {json.dumps(value, ensure_ascii=False)}")

    for key in ("calibration", "observations", "targets", "scenario"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise InputError(path, key, "must be a JSON object")
    whole("draws", data.get("draws"))
    whole("seed", data.get("seed"))
    whole("observations.rows_used", (data.get("observations") or {}).get("rows_used"))
    cal = data.get("calibration") or {}
    whole("calibration.jump_off_year", cal.get("jump_off_year"))
    hyper = cal.get("hyper_parameters_at_mode")
    if hyper is None:
        return
    if not isinstance(hyper, dict):
        raise InputError(path, "calibration.hyper_parameters_at_mode", "must be a JSON object")
    for ind, values in hyper.items():
        where = f"calibration.hyper_parameters_at_mode.{ind}"
        if not isinstance(values, dict):
            raise InputError(path, where, "must be a JSON object")
        for k, v in values.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InputError(path, f"{where}.{k}", f"must be a number, got {json.dumps(v, ensure_ascii=False)}")


def _chart_meta(manifest: dict[str, Any], fit_table: pd.DataFrame, config: Any = None
                ) -> tuple[tuple[str, ...], dict[str, str], dict[str, str]]:
    """(headline indicators, anchor per indicator, config label per indicator) from the config object, else
    from the config file named in the manifest, else inferred from fit_table.csv (every fitted indicator is
    headline; the anchor is the definition whose ``<definition>_at_jump_off`` column is filled)."""
    if config is None:
        from .config import load_config

        path = (manifest.get("calibration") or {}).get("config")
        try:
            config = load_config(path) if path else None
        except (InputError, OSError):
            config = None
    if config is not None:
        return (config.headline, {i.name: i.anchor for i in config.indicators},
                {i.name: i.label for i in config.indicators})
    anchors = {}
    for row in fit_table.itertuples(index=False):
        for col in fit_table.columns:
            if col.endswith("_at_jump_off") and pd.notna(getattr(row, col)):
                anchors[row.indicator] = col[: -len("_at_jump_off")]
    return tuple(anchors), anchors, {}


def read_run(folder: str | Path, manifest: dict[str, Any] | None = None, config: Any = None) -> RunTables:
    """Read a results folder; a missing or malformed file, or a cell of the wrong type, raises InputError
    naming the file (and the row and column). ``manifest`` and ``config`` (a CalibrationConfig) are given by
    ``dxsim run``, which draws before manifest.json exists."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "", "not a results folder (no such directory)")
    tr_path = folder / "trajectories.csv"
    tr = _read_csv(tr_path, TRAJECTORY_COLUMNS)
    if tr.empty:
        raise InputError(tr_path, "", "has no rows")
    for col in ("scenario", "geo", "indicator", "definition"):
        tr[col] = _text(tr, tr_path, col)
    tr["year"] = check_numbers(tr, tr_path, "year", year=True)
    tr["projected"] = _as_bool(tr["projected"], tr_path, "projected")
    for col in TRAJECTORY_NUMBERS:
        if col in tr.columns:
            tr[col] = check_numbers(tr, tr_path, col, lo=0, hi=100)

    tp_path = folder / "target_probabilities.csv"
    tp = _read_csv(tp_path, TARGET_COLUMNS)
    for col in ("geo", "indicator", "comparator"):
        tp[col] = _text(tp, tp_path, col)
    for i, comp in enumerate(tp["comparator"]):
        if comp not in style.COMPARATORS:
            raise InputError(tp_path, f"row {i + 1}, comparator", unknown("comparator", comp, style.COMPARATORS))
    tp["evaluable"] = _as_bool(tp["evaluable"], tp_path, "evaluable")
    tp["deadline"] = check_numbers(tp, tp_path, "deadline", year=True)
    tp["target"] = check_numbers(tp, tp_path, "target")
    unevaluable = ~tp["evaluable"].to_numpy()                  # no probability for targets the model cannot judge
    tp["probability"] = check_numbers(tp, tp_path, "probability", lo=0, hi=1, empty_ok=unevaluable)
    tp["mc_se"] = check_numbers(tp, tp_path, "mc_se", lo=0, empty_ok=unevaluable)
    for col in ("document", "definition"):
        tp[col] = tp[col].fillna("").astype(str)

    obs_path = folder / "observations_used.csv"
    obs = _read_csv(obs_path, OBSERVATION_COLUMNS)
    for col in ("geo", "indicator"):
        obs[col] = _text(obs, obs_path, col)
    obs["definition"] = obs["definition"].fillna("").astype(str)
    obs["year"] = check_numbers(obs, obs_path, "year", year=True)
    obs["value"] = check_numbers(obs, obs_path, "value")
    obs["source_url"] = obs["source_url"].fillna("").astype(str)

    fit_path = folder / "fit_table.csv"
    fit = _read_csv(fit_path, ("indicator", "geo"))
    for col in ("indicator", "geo"):
        fit[col] = _text(fit, fit_path, col)
    if "n_observations" in fit.columns:
        fit["n_observations"] = check_numbers(fit, fit_path, "n_observations", whole=True, lo=0)
    if "pooled" in fit.columns:
        fit["pooled"] = _as_bool(fit["pooled"], fit_path, "pooled")
    for col in fit.columns:
        if col in ("rms_residual_pp", "slope_per_year") or col.endswith("_at_jump_off"):
            fit[col] = check_numbers(fit, fit_path, col, empty_ok=True)

    all_targets = None
    at_path = folder / "all_targets_probabilities.csv"
    if at_path.is_file():
        all_targets = _read_csv(at_path, ALL_TARGET_COLUMNS)
        for col in ("geo", "scope"):
            all_targets[col] = _text(all_targets, at_path, col)
        all_targets["n_targets"] = check_numbers(all_targets, at_path, "n_targets", whole=True, lo=0)
        all_targets["probability"] = check_numbers(all_targets, at_path, "probability", lo=0, hi=1)
        if "mc_se" in all_targets.columns:
            all_targets["mc_se"] = check_numbers(all_targets, at_path, "mc_se", lo=0)

    manifest = manifest if manifest is not None else read_manifest(folder)
    headline, anchors, labels = _chart_meta(manifest, fit, config)
    return RunTables(folder, tr, tp, obs, fit, manifest, headline, anchors, labels, all_targets)


# ---------------------------------------------------------------------------------------------- helpers

def short_document(document: str, words: int = 4) -> str:
    """The first few words of a plan document, before any parenthesis, colon or comma:
    'Decision 749/QĐ-TTg (3/6/2020) National DX Program' -> 'Decision 749/QĐ-TTg'."""
    head = str(document)
    for sep in ("(", ":", ",", ";", " — ", " - "):
        head = head.split(sep)[0]
    parts = head.split()
    if not parts:
        return "?"
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


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
    wanted |= set(zip(ev["geo"], ev["indicator"], ev["definition"], strict=True))
    wanted |= set(zip(tables.observations["geo"], tables.observations["indicator"],
                      tables.observations["definition"], strict=True))
    order = list(dict.fromkeys(zip(tables.trajectories["geo"], tables.trajectories["indicator"],
                                   tables.trajectories["definition"], strict=True)))
    return [k for k in order if k in wanted and k in present]


def _series(tables: RunTables, geo: str, indicator: str, definition: str) -> pd.DataFrame:
    tr = tables.trajectories
    rows = tr[(tr["geo"] == geo) & (tr["indicator"] == indicator) & (tr["definition"] == definition)]
    return rows.sort_values("year")


def _targets(tables: RunTables, geo: str, indicator: str, definition: str) -> list[dict[str, Any]]:
    """Evaluable targets of one series; identical ones (deadline, comparator, value) merged, documents
    joined."""
    tp = tables.targets
    rows = tp[tp["evaluable"] & (tp["geo"] == geo) & (tp["indicator"] == indicator)
              & (tp["definition"] == definition)]
    out = []
    for (deadline, comp, target), grp in rows.groupby(["deadline", "comparator", "target"], sort=True):
        docs = list(dict.fromkeys(short_document(d) for d in grp["document"]))
        out.append({"deadline": int(deadline), "comparator": str(comp), "target": float(target),
                    "probability": float(grp["probability"].iloc[0]), "documents": docs})
    return out


def p_text(p: float) -> str:
    """A probability to two decimals, '> 0.99' / '< 0.01' rather than a rounded 1.00 / 0.00."""
    return "> 0.99" if p > 0.995 else "< 0.01" if p < 0.005 else f"{p:.2f}"


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


def _calibration_sha(tables: RunTables) -> str:
    return str((tables.manifest.get("calibration") or {}).get("sha256", "?"))[:8]


def _footnote(tables: RunTables, lang: str) -> str:
    m = tables.manifest
    cal = m.get("calibration") or {}
    return style.text("footnote", lang, version=m.get("dxsim_version", "?"),
                      scenario=(m.get("scenario") or {}).get("name", tables.scenario),
                      config=cal.get("config", "?"), sha=_calibration_sha(tables),
                      jump_off=cal.get("jump_off_year", tables.first_projected_year - 1),
                      draws=m.get("draws", "?"), created=str(m.get("created_utc", ""))[:10])


def _title_names(tables: RunTables, geo: str, indicator: str, definition: str, lang: str) -> dict[str, str]:
    return {"geo": style.geo_name(geo, lang),
            "indicator": style.indicator_name(indicator, lang, tables.labels.get(indicator)),
            "definition": style.definition_name(definition, lang)}


def _draw_fan(ax: Any, rows: pd.DataFrame, color: str, bands: Sequence[tuple[str, str, int, float]]) -> None:
    years = rows["year"].to_numpy()
    for lo, hi, _, alpha in bands:
        if lo in rows and hi in rows:
            ax.fill_between(years, rows[lo].to_numpy(), rows[hi].to_numpy(), color=color, alpha=alpha, lw=0)
    ax.plot(years, rows["q50"].to_numpy(), color=color, lw=1.8)


def _mark_projection(ax: Any, first_projected: int, lang: str, labels: bool = True) -> None:
    x = first_projected - 0.5
    ax.axvline(x, color=style.MUTED, lw=0.8, ls=(0, (4, 3)))
    if labels:
        trans = ax.get_xaxis_transform()
        box = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7}
        ax.text(x - 0.12, 0.985, "← " + style.text("observed_period", lang), transform=trans, ha="right",
                va="top", fontsize=7, color=style.MUTED, bbox=box)
        ax.text(x + 0.12, 0.985, style.text("projected_period", lang) + " →", transform=trans, ha="left",
                va="top", fontsize=7, color=style.MUTED, bbox=box)


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=100)


# ------------------------------------------------------------------------------------------------- charts

FAN_SIZE = (6.6, 4.5)           # inches; at 300 dpi 1980 x 1350 pixels
FAN_AXES = (0.09, 0.31, 0.89, 0.60)
LABEL_FONTSIZE = 6.6


def _band_handles(bands: Sequence[tuple[str, str, int, float]], rows: pd.DataFrame, color: str,
                  lang: str) -> list[Patch]:
    """Legend patches, narrowest band first, each with the opacity it has where the bands overlap."""
    handles = []
    for k in range(len(bands) - 1, -1, -1):
        lo, hi, coverage, _ = bands[k]
        if lo in rows and hi in rows:
            alpha = 1 - float(np.prod([1 - b[3] for b in bands[: k + 1]]))
            label = style.text("band", lang, coverage=coverage)
            handles.append(Patch(color=color, alpha=alpha, lw=0, label=label))
    return handles


def _label_targets(ax: Any, targets: list[dict[str, Any]], xlim: tuple[float, float], top: float,
                   lang: str) -> None:
    """Label each target marker with its document(s), comparator, value and P(met): to the right of the
    marker where the label fits, else to the left, spread vertically so labels do not overlap."""
    fig_w = ax.figure.get_figwidth() * 72 * ax.get_position().width         # axes width, points
    units_per_pt = (xlim[1] - xlim[0]) / fig_w
    items = []
    for k, t in enumerate(targets):
        label = style.text("target_label", lang, document=_documents_text(t["documents"], 1, lang),
                           comparator=style.comparator(t["comparator"]), target=t["target"])
        if np.isfinite(t["probability"]):
            label += f" · P {p_text(t['probability'])}"
        width = len(label) * 0.56 * LABEL_FONTSIZE * units_per_pt + 0.4      # estimated, data units
        room_right, room_left = xlim[1] - t["deadline"], t["deadline"] - xlim[0]
        items.append((k, label, room_right >= width or room_right >= room_left))
    # one vertical spread for all labels, whatever their side: labels of different deadlines can overlap
    ys = _spread([t["target"] for t in targets], gap=0.07 * top, lo=0.05 * top, hi=0.92 * top)
    for (k, label, right), y in zip(items, ys, strict=True):
        t = targets[k]
        moved = abs(y - t["target"]) > 0.01 * top
        ax.annotate(label, (t["deadline"], t["target"]), (t["deadline"] + (0.3 if right else -0.3), y),
                    ha="left" if right else "right", va="center", fontsize=LABEL_FONTSIZE, color="#222222",
                    zorder=7, gid=f"target-label-{k}",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                    arrowprops={"arrowstyle": "-", "lw": 0.6, "color": style.MUTED, "shrinkA": 0,
                                "shrinkB": 4} if moved else None)


def _title(ax: Any, text: str, size: float = 10.5, fits: int = 60) -> None:
    """Left-aligned bold title, smaller when longer than about ``fits`` characters (so it fits the chart)."""
    ax.set_title(text, loc="left", fontsize=max(7.5, min(size, size * fits / max(len(text), 1))))


def _dodge(years: np.ndarray, step: float = 0.14) -> np.ndarray:
    """x positions of readings: several readings of one year are spread around it by ``step`` years."""
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
    ax.vlines(years, 0, 1, transform=ax.get_xaxis_transform(), colors="#eeeeee", lw=0.5, zorder=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_label_coords(0.5, -label_pad * 1.5)
    ax.yaxis.set_label_coords(-label_pad, 0.5)


def _legend(fig: Figure, handles: Sequence[Any], x0: float, y0: float, ncol: int, fontsize: float = 7.5,
            row_inches: float = 0.2) -> None:
    """A legend drawn as plain artists from (x0, y0) downwards, in figure coordinates, filled row by row
    (``fig.legend`` costs more than the rest of a fan chart)."""
    fig_w_pt = fig.get_figwidth() * 72
    sample, pad = 16 / fig_w_pt, 5 / fig_w_pt
    row_height = row_inches / fig.get_figheight()
    labels = [h.get_label() for h in handles]
    while True:
        widths = [max((len(labels[k]) * 0.53 * fontsize / fig_w_pt for k in range(c, len(handles), ncol)),
                      default=0) + sample + 2 * pad + 8 / fig_w_pt for c in range(ncol)]
        if ncol == 1 or x0 + sum(widths) <= 0.99:
            break
        ncol -= 1
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


def fan_chart(tables: RunTables, geo: str, indicator: str, definition: str, lang: str = "en") -> Figure:
    """Median with 50/80/95% bands, readings (one marker per source), targets at their deadlines labelled
    with their document, the observed/projected boundary, and a footnote with the run's provenance."""
    rows = _series(tables, geo, indicator, definition)
    if rows.empty:
        raise InputError(tables.folder / "trajectories.csv", "",
                         f"no rows for {geo}/{indicator}/{definition}")
    obs = tables.observations
    obs = obs[(obs["geo"] == geo) & (obs["indicator"] == indicator) & (obs["definition"] == definition)]
    targets = _targets(tables, geo, indicator, definition)
    names = _title_names(tables, geo, indicator, definition, lang)

    fig = _new_figure(*FAN_SIZE)
    ax = fig.add_axes(FAN_AXES)
    _draw_fan(ax, rows, style.FAN_COLOR, style.BANDS)
    handles: list[Any] = [Line2D([], [], color=style.FAN_COLOR, lw=1.8, label=style.text("median", lang))]
    handles += _band_handles(style.BANDS, rows, style.FAN_COLOR, lang)

    sources = [source_name(u) for u in obs["source_url"]]
    obs_x = _dodge(obs["year"].to_numpy())
    for k, src in enumerate(dict.fromkeys(sources)):
        mine = np.array([s == src for s in sources])
        line, = ax.plot(obs_x[mine], obs["value"].to_numpy()[mine], ls="none",
                        marker=style.OBSERVATION_MARKERS[k % len(style.OBSERVATION_MARKERS)], ms=5.5,
                        mfc=style.OBSERVED_COLOR, mec="white", mew=0.7, zorder=5,
                        label=style.text("reading", lang, source=src))
        line.set_gid(f"observations-{k}")
        handles.append(line)

    years = rows["year"].to_numpy()
    first_year = int(min(years.min(), obs["year"].min() if len(obs) else years.min()))
    last_year = int(years.max())
    top = _y_top(rows["q975"] if "q975" in rows else rows["q90"], obs["value"], [t["target"] for t in targets])
    xlim = (first_year - 0.6, last_year + 0.6)
    ax.set_xlim(*xlim)
    ax.set_ylim(0, top * 1.04)
    _mark_projection(ax, tables.first_projected_year, lang)
    if targets:
        line, = ax.plot([t["deadline"] for t in targets], [t["target"] for t in targets], ls="none",
                        marker="*", ms=11, mfc=style.TARGET_COLOR, mec="white", mew=0.6, zorder=6,
                        label=style.text("target", lang))
        line.set_gid("targets")
        handles.append(line)
        _label_targets(ax, targets, xlim, top, lang)

    _title(ax, f"{names['geo']}: {names['indicator']} ({names['definition']})")
    _axis_labels(ax, style.text("year", lang), style.indicator_unit(indicator, lang), top)
    _legend(fig, handles, FAN_AXES[0] - 0.02, FAN_AXES[1] - 0.12, ncol=3, row_inches=0.2)
    fig.text(0.01, 0.012, _footnote(tables, lang), fontsize=5.5, color=style.MUTED, ha="left", va="bottom")
    return fig


def probability_chart(tables: RunTables, lang: str = "en") -> Figure | None:
    """Horizontal bars of P(target met) per geo x target due in projected years, sorted, coloured by
    likelihood, with ±2 Monte Carlo standard errors. None when no such target exists."""
    tp = tables.targets
    first = tables.first_projected_year
    due = tp[tp["evaluable"] & (tp["deadline"] >= first)]
    if due.empty:
        return None
    keys = ["geo", "indicator", "definition", "deadline", "comparator", "target"]
    merged = (due.groupby(keys, sort=False)
              .agg(probability=("probability", "first"), mc_se=("mc_se", "first"),
                   documents=("document", lambda d: list(dict.fromkeys(short_document(x) for x in d))))
              .reset_index().sort_values(["probability", "geo"], ascending=[True, True], kind="stable"))
    n = len(merged)
    head, foot, width = 1.05, 0.75, 11.0                          # inches above and below the bars
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
        dfn = style.definition_name(r.definition, lang)
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
    fig.text(0.01, 0.1 / height, _footnote(tables, lang), fontsize=5.8, color=style.MUTED, va="bottom")
    return fig


def overview_pages(tables: RunTables, per_page: int = OVERVIEW_ROWS) -> list[tuple[str, ...]]:
    """Geos of each overview page (none when the run has no headline indicator)."""
    if not tables.headline_series():
        return []
    geos = tables.geos
    return [geos[k:k + per_page] for k in range(0, len(geos), per_page)]


def overview_chart(tables: RunTables, page: Sequence[str], lang: str = "en") -> Figure:
    """Small multiples: the page's geos (rows) x headline indicators (columns), median with 50% and 80%
    bands, readings and targets."""
    series = tables.headline_series()
    bands = tuple(b for b in style.BANDS if b[2] in (50, 80))
    nrow, ncol = len(page), len(series)
    height = 1.3 + 1.75 * nrow                                     # inches
    fig = _new_figure(max(8.0, 2.75 * ncol), height)
    grid = fig.add_gridspec(nrow, ncol, left=0.09, right=0.985, top=1 - 1.0 / height,
                            bottom=0.45 / height, hspace=0.3, wspace=0.22)
    for r, geo in enumerate(page):
        for c, (ind, dfn) in enumerate(series):
            ax = fig.add_subplot(grid[r, c])
            rows = _series(tables, geo, ind, dfn)
            _draw_fan(ax, rows, style.FAN_COLOR, bands)
            obs = tables.observations
            obs = obs[(obs["geo"] == geo) & (obs["indicator"] == ind) & (obs["definition"] == dfn)]
            if len(obs):
                ax.plot(obs["year"], obs["value"], ls="none", marker="o", ms=3.5, zorder=5,
                        color=style.OBSERVED_COLOR, gid=f"observations-{geo}-{ind}")
            tg = _targets(tables, geo, ind, dfn)
            if tg:
                ax.plot([t["deadline"] for t in tg], [t["target"] for t in tg], ls="none", marker="*",
                        ms=7, color=style.TARGET_COLOR, zorder=6)
            top = _y_top(rows["q90"], obs["value"], [t["target"] for t in tg])
            ax.set_ylim(0, top * 1.04)
            ax.set_xlim(int(rows["year"].min()) - 0.5, int(rows["year"].max()) + 0.5)
            _mark_projection(ax, tables.first_projected_year, lang, labels=False)
            ax.tick_params(labelsize=6.5)
            ax.xaxis.set_major_locator(ticker.MultipleLocator(2))
            if r == 0:
                name = style.indicator_name(ind, lang, tables.labels.get(ind))
                ax.set_title(textwrap.fill(f"{name} ({style.definition_name(dfn, lang)})", 34),
                             fontsize=8, fontweight="bold")
            if c == 0:
                ax.set_ylabel(style.geo_name(geo, lang), fontsize=8.5, fontweight="bold")
                ax.yaxis.set_label_coords(-0.2, 0.5)
            if r < nrow - 1:
                ax.tick_params(labelbottom=False)
    fig.text(0.01, 1 - 0.12 / height, style.text("overview_title", lang, scenario=tables.scenario),
             fontsize=10.5, fontweight="bold", va="top")
    handles = [Line2D([], [], color=style.FAN_COLOR, lw=1.8, label=style.text("median", lang))]
    handles += _band_handles(bands, _series(tables, page[0], *series[0]), style.FAN_COLOR, lang)
    handles += [Line2D([], [], ls="none", marker="o", ms=4, color=style.OBSERVED_COLOR,
                       label=style.text("observed", lang)),
                Line2D([], [], ls="none", marker="*", ms=7, color=style.TARGET_COLOR,
                       label=style.text("target", lang))]
    _legend(fig, handles, 0.01, 1 - 0.42 / height, ncol=6, fontsize=7)
    fig.text(0.01, 0.01, _footnote(tables, lang), fontsize=5.8, color=style.MUTED, va="bottom")
    return fig


def run_labels(runs: Sequence[RunTables]) -> list[str]:
    """Legend names of runs: the scenario name, with the folder name where two runs share it."""
    names = [r.scenario for r in runs]
    return [f"{n} ({r.folder.name})" if names.count(n) > 1 else n for n, r in zip(names, runs, strict=True)]


def compare_chart(runs: Sequence[RunTables], geo: str, indicator: str, definition: str,
                  lang: str = "en") -> Figure:
    """Medians and 80% bands of several runs for one series, with the first run's readings and targets."""
    names = _title_names(runs[0], geo, indicator, definition, lang)
    fig = _new_figure(*FAN_SIZE)
    ax = fig.add_axes(FAN_AXES)
    handles: list[Any] = []
    tops: list[float] = []
    for k, (run, label) in enumerate(zip(runs, run_labels(runs), strict=True)):
        colour = style.PALETTE[k % len(style.PALETTE)]
        rows = _series(run, geo, indicator, definition)
        if rows.empty:
            continue
        _draw_fan(ax, rows, colour, (("q10", "q90", 80, 0.18),))
        handles.append(Line2D([], [], color=colour, lw=1.8,
                              label=style.text("compare_band", lang, name=label)))
        tops += rows["q90"].tolist()
    first = runs[0]
    obs = first.observations
    obs = obs[(obs["geo"] == geo) & (obs["indicator"] == indicator) & (obs["definition"] == definition)]
    if len(obs):
        line, = ax.plot(_dodge(obs["year"].to_numpy()), obs["value"], ls="none", marker="o", ms=5, zorder=5,
                        mfc=style.OBSERVED_COLOR, mec="white", mew=0.7, label=style.text("observed", lang))
        line.set_gid("observations")
        handles.append(line)
    tg = _targets(first, geo, indicator, definition)
    if tg:
        line, = ax.plot([t["deadline"] for t in tg], [t["target"] for t in tg], ls="none", marker="*", ms=11,
                        mfc=style.TARGET_COLOR, mec="white", mew=0.6, zorder=6,
                        label=style.text("target", lang))
        line.set_gid("targets")
        handles.append(line)
    top = _y_top(tops, obs["value"], [t["target"] for t in tg])
    ax.set_ylim(0, top * 1.04)
    years = first.trajectories["year"]
    first_year = min(int(years.min()), int(obs["year"].min()) if len(obs) else int(years.min()))
    ax.set_xlim(first_year - 0.6, int(years.max()) + 0.6)
    _mark_projection(ax, first.first_projected_year, lang)
    _title(ax, style.text("compare_title", lang, **names))
    _axis_labels(ax, style.text("year", lang), style.indicator_unit(indicator, lang), top)
    _legend(fig, handles, FAN_AXES[0] - 0.02, FAN_AXES[1] - 0.12, ncol=2)
    foot = " | ".join(f"{label}: {r.draws} draws, calibration {_calibration_sha(r)}"
                      for r, label in zip(runs, run_labels(runs), strict=True))
    fig.text(0.01, 0.012, f"dxsim {first.manifest.get('dxsim_version', '?')} · {foot}", fontsize=5.5,
             color=style.MUTED, va="bottom")
    return fig


# ------------------------------------------------------------------------------------------------ writing

def _write_png(rgba: np.ndarray, path: Path) -> None:
    """RGB PNG with its resolution recorded; zlib level 1 (files ~15% larger than level 6, ~30% faster)."""
    rgb = Image.fromarray(rgba).convert("RGB")
    rgb.save(path, format="png", dpi=(style.DPI, style.DPI), compress_level=1)


class ChartWriter:
    """Saves figures into ``out_dir`` as ``stem.png`` (300 dpi) and/or ``stem.svg`` (text kept as text).
    PNG compression runs on one background thread (Pillow releases the GIL) while the next chart is drawn."""

    def __init__(self, out_dir: str | Path, formats: Sequence[str] = style.FORMATS) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.formats = tuple(formats)
        self.written: list[Path] = []
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future] = []

    def save(self, fig: Figure, stem: str) -> None:
        for fmt in self.formats:
            path = self.out_dir / f"{stem}.{fmt}"
            if fmt == "png":
                fig.dpi = style.DPI
                canvas = FigureCanvasAgg(fig)
                canvas.draw()
                # the canvas buffer belongs to this figure only: hand it over without a copy
                self._pending.append(self._pool.submit(_write_png, np.asarray(canvas.buffer_rgba()), path))
            else:
                fig.savefig(path, format="svg", metadata={"Date": None})
            self.written.append(path)

    def close(self) -> list[Path]:
        """Wait for the PNG files (re-raising any error) and return every file written."""
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        return self.written

    def __enter__(self) -> ChartWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class ChartJob:
    """One chart to draw: ``kind`` names the chart function, ``args`` follow its first argument (the run's
    tables, or the runs for ``compare``), ``stem`` is the file name without extension."""

    kind: str
    args: tuple
    stem: str


def _draw_job(subject: Any, job: ChartJob, lang: str) -> Figure | None:
    draw = {"fan": fan_chart, "probability": probability_chart, "overview": overview_chart,
            "compare": compare_chart}[job.kind]
    return draw(subject, *job.args, lang=lang)


def _draw_jobs(subject: Any, jobs: Sequence[ChartJob], out_dir: Path, lang: str, formats: Sequence[str]
               ) -> list[Path]:
    with rc_context(style.rc()), ChartWriter(out_dir, formats) as writer:
        for job in jobs:
            fig = _draw_job(subject, job, lang)
            if fig is not None:
                writer.save(fig, job.stem)
    return writer.written


_WORKER: dict[str, Any] = {}


def _init_worker(subject: Any, out_dir: Path, lang: str, formats: Sequence[str]) -> None:
    # Ctrl-C and SIGTERM are the parent's to handle: it cancels the queued charts and waits for these.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER.update(subject=subject, out_dir=out_dir, lang=lang, formats=formats)


def _draw_in_worker(job: ChartJob) -> list[Path]:
    try:
        return _draw_jobs(_WORKER["subject"], [job], _WORKER["out_dir"], _WORKER["lang"], _WORKER["formats"])
    except Exception as exc:  # noqa: BLE001 - re-raised in the parent as one picklable error
        raise RuntimeError(f"chart {job.stem}: {type(exc).__name__}: {exc}") from None


def default_workers(n_jobs: int) -> int:
    """Extra processes for drawing: one per spare CPU (at most 3); none for a few charts or where processes
    cannot be forked (fork on Linux only: children inherit the tables and never re-import __main__)."""
    if n_jobs < 8 or not sys.platform.startswith("linux"):
        return 0
    return max(0, min(3, len(os.sched_getaffinity(0)) - 1))


def draw_all(subject: Any, jobs: Sequence[ChartJob], out_dir: str | Path, lang: str = "en",
             formats: Sequence[str] = style.FORMATS, workers: int | None = None) -> list[Path]:
    """Draw ``jobs`` into ``out_dir``. With workers > 0 (Linux), forked helper processes take jobs from the
    end of the list while this process takes them from the front; files are the same either way."""
    out_dir = Path(out_dir)
    workers = default_workers(len(jobs)) if workers is None else workers
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        return _draw_jobs(subject, jobs, out_dir, lang, formats)
    written: list[Path] = []
    with warnings.catch_warnings():
        # Python >= 3.12 warns about fork() next to idle BLAS threads; the children never call BLAS.
        warnings.filterwarnings("ignore", message=".*multi-threaded.*fork", category=DeprecationWarning)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_worker,
                                   initargs=(subject, out_dir, lang, tuple(formats)))
        futures = [pool.submit(_draw_in_worker, job) for job in reversed(jobs)][::-1]
    try:
        mine = []
        with rc_context(style.rc()), ChartWriter(out_dir, formats) as writer:
            for job, future in zip(jobs, futures, strict=True):
                if future.cancel():
                    mine.append(job)
                    fig = _draw_job(subject, job, lang)
                    if fig is not None:
                        writer.save(fig, job.stem)
        written += writer.written
        for job, future in zip(jobs, futures, strict=True):
            if job in mine:
                continue
            try:
                written += future.result()
            except BrokenProcessPool:        # a helper died (e.g. out of memory): draw its chart here
                written += _draw_jobs(subject, [job], out_dir, lang, formats)
    except BaseException:          # error, Ctrl-C, SIGTERM: drop the queued charts, wait for running ones
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return written


def fan_stem(geo: str, indicator: str, definition: str) -> str:
    return f"fan_{geo}_{indicator}_{definition}"


def run_jobs(tables: RunTables, geos: Sequence[str] | None = None,
             indicators: Sequence[str] | None = None) -> list[ChartJob]:
    """A run's charts, largest first: the overview and probability chart (only without filters), then the
    fan charts (only of ``geos``/``indicators`` when given)."""
    jobs = []
    if not (geos or indicators):
        jobs += [ChartJob("overview", (tuple(page),), "overview" if k == 0 else f"overview_{k + 1}")
                 for k, page in enumerate(overview_pages(tables))]
        jobs.append(ChartJob("probability", (), "target_probabilities"))
    jobs += [ChartJob("fan", key, fan_stem(*key)) for key in fan_chart_keys(tables)
             if not (geos and key[0] not in geos) and not (indicators and key[1] not in indicators)]
    return jobs


def render_run(tables: RunTables, out_dir: str | Path, lang: str = "en",
               formats: Sequence[str] = style.FORMATS, geos: Sequence[str] | None = None,
               indicators: Sequence[str] | None = None, workers: int | None = None) -> list[Path]:
    """Draw a run's charts into ``out_dir`` (see ``run_jobs``). Returns the files written."""
    style.check_lang(lang)
    return draw_all(tables, run_jobs(tables, geos, indicators), out_dir, lang, formats, workers)


def render_compare(runs: Sequence[RunTables], out_dir: str | Path, lang: str = "en",
                   formats: Sequence[str] = style.FORMATS, workers: int | None = None) -> list[Path]:
    """Scenario comparison per geo x headline indicator (anchor) present in every run."""
    style.check_lang(lang)
    runs = tuple(runs)
    geos = [g for g in runs[0].geos if all(g in r.geos for r in runs[1:])]
    series = [s for s in runs[0].headline_series() if all(s in r.headline_series() for r in runs[1:])]
    jobs = [ChartJob("compare", (geo, ind, dfn), f"compare_{geo}_{ind}_{dfn}")
            for geo in geos for ind, dfn in series]
    return draw_all(runs, jobs, out_dir, lang, formats, workers)


def check_filters(tables: RunTables, geos: Sequence[str] | None, indicators: Sequence[str] | None) -> None:
    """InputError for a --geo or --indicator that the run does not have."""
    for geo in geos or ():
        if geo not in tables.geos:
            raise InputError(tables.folder / "trajectories.csv", "--geo", unknown("geo", geo, tables.geos))
    known = tuple(pd.unique(tables.trajectories["indicator"]))
    for ind in indicators or ():
        if ind not in known:
            raise InputError(tables.folder / "trajectories.csv", "--indicator",
                             unknown("indicator", ind, known))


def write_run_charts(result: Any, folder: str | Path, lang: str = "en") -> list[Path]:
    """Called by ``dxsim run`` inside the temporary results folder (tables already written, manifest not yet):
    draws ``folder/charts`` through the same path as ``dxsim plot``."""
    folder = Path(folder)
    tables = read_run(folder, manifest=result.manifest, config=result.calibrator.config)
    written = render_run(tables, folder / "charts", lang=lang)
    marker = getattr(results, "MARKER", None)        # lets `dxsim plot` replace the folder later
    if marker:
        (folder / "charts" / marker).write_text("written by dxsim; dxsim may replace this folder\n",
                                                encoding="utf-8")
    return written
