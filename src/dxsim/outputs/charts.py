"""Report charts drawn from the tidy tables of a results folder (not from an in-memory ensemble), so
``dxsim plot`` re-renders them without simulating again and ``dxsim run`` goes through the same code.

Charts: a fan chart per geo x indicator x definition (``fan_<geo>_<indicator>_<definition>``), the target
probabilities (``target_probabilities``), an overview of all geos x headline indicators (``overview``) and
scenario comparisons (``compare_<geo>_<indicator>_<definition>``). Values are percent; years are calendar
years (a reading sits at its year, whatever its month).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import shutil
import signal
import struct
import sys
import warnings
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from dxsim.core.threads import usable_cpus
from dxsim.errors import ArgumentError, unknown
from dxsim.outputs import background, chart_keys, figurepool, marker, results, style
from dxsim.outputs.chartkit import _spread, fan_chart_keys, p_text, short_document, source_name  # noqa: F401
from dxsim.outputs.chartserver import die_with_parent as _die_with_parent
from dxsim.outputs.comparechart import compare_chart, overview_chart, overview_pages, run_labels  # noqa: F401
from dxsim.outputs.fanchart import document_list, fan_chart  # noqa: F401
from dxsim.outputs.glyphcache import CachingCanvas
from dxsim.outputs.run_inputs import run_config_file
from dxsim.outputs.runtables import RunTables, check_numbers, read_manifest, read_run  # noqa: F401
from dxsim.outputs.targetchart import probability_chart, probability_pages

# ------------------------------------------------------------------------------------------------ writing

PNG_LEVEL = 3      # zlib level: a 16 cm fan chart in 22 ms (Pillow's adaptive filters at level 1: 63 ms, 4% smaller)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(rgba: np.ndarray, dpi: float = style.DPI) -> bytes:
    """An 8-bit RGB PNG of an opaque RGBA image (rows x columns x 4) with its resolution recorded. Every row is
    stored unfiltered (filter type 0): charts are mostly flat colour, where zlib alone finds the runs, so the
    per-row filter search of general encoders costs 3x the time for a few percent of size."""
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0
    rgb = rows[:, 1:].reshape(height, width, 3)          # a view: each row's pixels after its filter byte
    for channel in range(3):     # one channel at a time: 5x faster than copying 3 of every 4 bytes at once
        rgb[..., channel] = rgba[..., channel]
    per_metre = round(dpi / 0.0254)
    return b"".join((b"\x89PNG\r\n\x1a\n",
                     _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
                     _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
                     _png_chunk(b"IDAT", zlib.compress(rows.data, PNG_LEVEL)),
                     _png_chunk(b"IEND", b"")))


def _write_png(rgba: np.ndarray, path: Path) -> None:
    path.write_bytes(png_bytes(rgba))


class ChartWriter:
    """Saves figures into ``out_dir`` as ``stem.png`` (300 dpi) and/or ``stem.svg`` (text kept as text).
    PNG compression and the writing of files run on one background thread (zlib releases the GIL) while the next
    chart is drawn."""

    def __init__(self, out_dir: str | Path, formats: Sequence[str] = style.FORMATS) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.formats = tuple(formats)
        self.written: list[Path] = []
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future] = []

    def save(self, fig: Figure, stem: str) -> None:
        canvas = CachingCanvas(fig)       # text laid out and rendered once per process: matplotlib's output
        for fmt in self.formats:
            path = self.out_dir / f"{stem}.{fmt}"
            if fmt == "png":
                fig.dpi = style.DPI
                background.draw(canvas)     # the plot area's background drawn once per kind and layout
                # the canvas buffer belongs to this figure only: hand it over without a copy
                self._pending.append(self._pool.submit(_write_png, np.asarray(canvas.buffer_rgba()), path))
            else:          # drawn here, written (opened, the slow part on a busy disk) by the thread
                text = io.StringIO()
                fig.savefig(text, format="svg", metadata={"Date": None})
                self._pending.append(self._pool.submit(path.write_text, text.getvalue(), encoding="utf-8"))
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
    with rc_context(style.rc()), figurepool.reusing(), ChartWriter(out_dir, formats) as writer:
        for job in jobs:
            fig = _draw_job(subject, job, lang)
            if fig is not None:
                writer.save(fig, job.stem)
    return writer.written


_WORKER: dict[str, Any] = {}


def _init_worker(subject: Any, out_dir: Path, lang: str, formats: Sequence[str], parent: int) -> None:
    _die_with_parent(parent)
    # Ctrl-C and SIGTERM are the parent's to handle: it cancels the queued charts and waits for these.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER.update(subject=subject, out_dir=out_dir, lang=lang, formats=formats)


def _draw_in_worker(job: ChartJob) -> list[Path]:
    try:
        return _draw_jobs(_WORKER["subject"], [job], _WORKER["out_dir"], _WORKER["lang"], _WORKER["formats"])
    except Exception as exc:  # noqa: BLE001 - re-raised in the parent as one picklable error, one line
        # chained: the pool sends the traceback of both, the cause of the error raised in the parent (--debug)
        raise RuntimeError(f"chart {job.stem}: {type(exc).__name__}: {exc}") from exc


def default_workers(n_jobs: int) -> int:
    """Extra processes for drawing: one per spare CPU (at most 3); none for a few charts or where processes
    cannot be forked (fork on Linux only: children inherit the tables and never re-import __main__)."""
    if n_jobs < 8 or not sys.platform.startswith("linux"):
        return 0
    return max(0, min(3, usable_cpus() - 1))


def draw_all(subject: Any, jobs: Sequence[ChartJob], out_dir: str | Path, lang: str = "en",
             formats: Sequence[str] = style.FORMATS, workers: int | None = None) -> list[Path]:
    """Draw ``jobs`` into ``out_dir``. With workers > 0 (Linux), forked helper processes take jobs from the
    end of the list while this process takes them from the front; files are the same either way."""
    out_dir = Path(out_dir)
    workers = default_workers(len(jobs)) if workers is None else workers
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        return _draw_jobs(subject, jobs, out_dir, lang, formats)
    try:
        pool, futures = _start_helpers(subject, jobs, out_dir, lang, formats, workers)
    except OSError:                   # no process to be had (a process limit, memory): draw here
        return _draw_jobs(subject, jobs, out_dir, lang, formats)
    written: list[Path] = []
    try:
        mine = []
        with rc_context(style.rc()), figurepool.reusing(), ChartWriter(out_dir, formats) as writer:
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


def _start_helpers(subject: Any, jobs: Sequence[ChartJob], out_dir: Path, lang: str, formats: Sequence[str],
                   workers: int) -> tuple[ProcessPoolExecutor, list[Future]]:
    """``workers`` forked drawing processes with ``jobs`` queued for them from the end of the list (a future per
    job, in the order of ``jobs``). OSError when a process cannot be forked, after killing those that were."""
    with warnings.catch_warnings():
        # Python >= 3.12 warns about fork() next to idle BLAS threads; the children never call BLAS.
        warnings.filterwarnings("ignore", message=".*multi-threaded.*fork", category=DeprecationWarning)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_worker,
                                   initargs=(subject, out_dir, lang, tuple(formats), os.getpid()))
        try:                          # the first job forks every process
            return pool, [pool.submit(_draw_in_worker, job) for job in reversed(jobs)][::-1]
        except OSError:
            # the pool has no thread yet to stop the processes it forked before failing: they are killed here
            forked = list((getattr(pool, "_processes", None) or {}).values())
            for process in forked:
                process.kill()
            for process in forked:
                process.join()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def fan_stem(geo: str, indicator: str, definition: str) -> str:
    return f"fan_{geo}_{indicator}_{definition}"


PAGED = ("overview", "target_probabilities")       # charts drawn on as many pages as the tables need


def page_stem(chart: str, k: int) -> str:
    """File stem of page ``k`` (from 0) of a paged chart: ``overview``, ``overview_2``, ..."""
    return chart if k == 0 else f"{chart}_{k + 1}"


def leftover_pages(folder: Path, keys: dict[str, str]) -> list[str]:
    """Pages of the paged charts in ``keys`` (their first page is there) that dxsim recorded in ``folder`` beyond
    the pages ``keys`` draws (an earlier run with more geos or targets), with their recorded bytes (never a file
    written or changed by hand): ``chart_keys.stale`` files no longer called for."""
    stems = {name.rsplit(".", 1)[0] for name in keys}
    pages = re.compile(rf"({'|'.join(PAGED)})_[0-9]+\.[a-z]+")
    return [name for name in chart_keys.stale(folder, keys)
            if (page := pages.fullmatch(name)) and page[1] in stems and name.rsplit(".", 1)[0] not in stems]


def run_jobs(tables: RunTables, geos: Sequence[str] | None = None,
             indicators: Sequence[str] | None = None) -> list[ChartJob]:
    """A run's charts, largest first: the overview and probability chart (only without filters), then the
    fan charts (only of ``geos``/``indicators`` when given)."""
    jobs = []
    if not (geos or indicators):
        jobs += [ChartJob("overview", (tuple(page),), page_stem("overview", k))
                 for k, page in enumerate(overview_pages(tables))]
        jobs += [ChartJob("probability", (k,), page_stem("target_probabilities", k))
                 for k in range(probability_pages(tables))]
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
    """ArgumentError for a geo or indicator that the run does not have."""
    for geo in geos or ():
        if geo not in tables.geos:
            raise ArgumentError("geo", unknown("geo", geo, tables.geos), tables.folder / "trajectories.csv")
    known = tuple(pd.unique(tables.trajectories["indicator"]))
    for ind in indicators or ():
        if ind not in known:
            raise ArgumentError("indicator", unknown("indicator", ind, known), tables.folder / "trajectories.csv")


def charts_dir(folder: str | Path, lang: str = "en") -> Path:
    """Where a results folder keeps its charts in ``lang``: ``charts/`` for English, ``charts/<lang>/`` for
    another language, so that drawing one language never overwrites the other."""
    folder = Path(folder) / "charts"
    return folder if style.check_lang(lang) == "en" else folder / lang


class ChartFiles(list[Path]):
    """The chosen charts' files in a charts folder (a list of paths), with the names of those drawn now
    (``drawn``) and of those kept because they were current (``kept``)."""

    def __init__(self, files: Iterable[Path], drawn: Iterable[str], kept: Iterable[str]) -> None:
        super().__init__(files)
        self.drawn, self.kept = frozenset(drawn), frozenset(kept)


def run_chart_keys(tables: RunTables, jobs: Sequence[ChartJob], lang: str, formats: Sequence[str]) -> dict[str, str]:
    """The key of each file (``stem.format``) of ``jobs`` drawn from ``tables`` in ``lang`` (``chart_keys``)."""
    run = chart_keys.run_key(tables.folder, tables.manifest, run_config_file(tables.folder, tables.manifest))
    return {f"{job.stem}.{fmt}": chart_keys.chart_key(run, f"{job.stem}.{fmt}", lang, (job.kind, job.args))
            for job in jobs for fmt in formats}


def install_charts(tables: RunTables, dest: str | Path, lang: str = "en", formats: Sequence[str] = style.FORMATS,
                   geos: Sequence[str] | None = None, indicators: Sequence[str] | None = None,
                   workers: int | None = None, previous: str | Path | None = None) -> ChartFiles:
    """Make the chosen charts current in ``dest``: a chart whose file there (or in ``previous``, the charts folder
    a run replaces) was drawn from the same tables, code, language and format and is unchanged is kept (linked
    from ``previous``); the others are drawn into a temporary folder beside ``dest`` and moved in. Every other
    file in ``dest`` (other charts, formats, languages) is left as it was, and an interrupted drawing leaves
    ``dest`` untouched. Returns the chosen charts' files in ``dest`` that were drawn now or kept (not an older file
    of a chart that drew nothing), with the names of each."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if marker.read_marker(dest) is None and not any(dest.iterdir()):
        marker.mark_folder(dest)                   # a new charts folder (e.g. charts/vi/) is dxsim's
    jobs = run_jobs(tables, geos, indicators)
    keys = run_chart_keys(tables, jobs, lang, formats)
    source = Path(previous) if previous is not None else dest
    kept = chart_keys.current(source, keys)
    leftover = leftover_pages(source, keys)
    if source == dest:
        chart_keys.remove_stale(dest, keys, leftover)
    else:                                          # the run's new folder: they stay with the folder it replaces
        results.drop_on_commit(dest, leftover)
    todo = [job for job in jobs if not all(f"{job.stem}.{fmt}" in kept for fmt in formats)]
    for name in {f"{job.stem}.{fmt}" for job in todo for fmt in formats}:
        kept.pop(name, None)                       # drawn again with the job's other formats
    if source != dest:
        for name in sorted(kept):
            results._link(source / name, dest / name)   # a hard link (a copy where there are none)
    tmp = results.temp_folder(dest, ".charts.tmp-")   # pid-named: a killed run's is removed by the next
    try:
        drawn = draw_all(tables, todo, tmp, lang, formats, workers) if todo else []
        for path in drawn:
            os.replace(path, dest / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    names = {path.name for path in drawn} | kept.keys()   # not other files of those names: a chart may draw nothing
    files = ChartFiles([dest / name for name in keys if name in names], {p.name for p in drawn}, kept)
    marker.record_written(dest, *(p.name for p in files))
    chart_keys.record(dest, keys, [p.name for p in files], kept)
    return files


def write_run_charts(result: Any, folder: str | Path, lang: str = "en") -> ChartFiles:
    """Called by ``dxsim run`` inside the temporary results folder (tables already written, manifest not yet):
    ``draw_run_charts`` with the run's manifest and calibration config."""
    return draw_run_charts(folder, result.manifest, result.calibrator.config, lang)


def draw_run_charts(folder: str | Path, manifest: dict[str, Any], config: Any, lang: str = "en") -> ChartFiles:
    """Draw ``charts/`` (``charts/<lang>/`` for a language other than English) of the run whose tables are in
    ``folder`` (its ``manifest`` and ``config`` given: manifest.json is not written yet) through the same path as
    ``dxsim plot``; charts unchanged since the results folder this run replaces are taken from it."""
    folder = Path(folder)
    tables = read_run(folder, manifest=manifest, config=config)
    replaces = (marker.read_marker(folder) or {}).get("temp_for")
    previous = charts_dir(folder.parent / replaces, lang) if isinstance(replaces, str) and replaces else None
    if previous is not None and not previous.is_dir():
        previous = None
    return install_charts(tables, charts_dir(folder, lang), lang=lang, previous=previous)


def warm_up(lang: str = "en") -> None:
    """Load what a process's first chart would (the style, the fonts at the sizes charts use), e.g. in a process
    that waits for a run's tables."""
    with rc_context(style.rc()):
        fig = Figure(figsize=(2, 1), dpi=style.DPI)
        for k, size in enumerate((style.MIN_FONT, 7.5, 8.0, 9.5)):
            fig.text(0.0, 0.2 * k, style.text("year", lang) + " 2020 2025 2030 0123456789 %", fontsize=size,
                     weight="bold" if size == 9.5 else "normal")
        CachingCanvas(fig).draw()
