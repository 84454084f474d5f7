"""``headline_draws.npz``: each draw's value of the headline series, per geo and projected year, so that a scenario
comparison can take the difference draw by draw (runs with the same seed and draws share their random numbers: the
paired difference has a much narrower interval than the difference of quantiles).

Arrays: ``values`` (year, geo, series, draw) float32 percent; ``years``, ``geos``, ``series``
(``indicator/definition``); ``seed`` and ``draws``. Size: 4 bytes x years x geos x 3 x draws (the baseline,
2000 draws, 9 geos, 2025-2030: 1.3 MB, stored uncompressed).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dxsim.outputs.runtables import RunTables

FILE = "headline_draws.npz"


@dataclass(frozen=True)
class HeadlineDraws:
    """Per-draw headline values of one run (see the module docstring)."""

    values: np.ndarray                  # (year, geo, series, draw) percent
    years: tuple[int, ...]
    geos: tuple[str, ...]
    series: tuple[tuple[str, str], ...]
    seed: int
    draws: int

    def select(self, geo: str, series: tuple[str, str]) -> np.ndarray | None:
        """(year, draw) values of one geo x series; None where the run does not have it."""
        if geo not in self.geos or series not in self.series:
            return None
        return self.values[:, self.geos.index(geo), self.series.index(series), :]


def write_headline_draws(result: Any, folder: str | Path) -> Path:
    """Write ``headline_draws.npz`` of a run (``pipeline.RunResult``) into ``folder``: the first scenario, every
    geo, the anchor definition of each headline indicator, from the jump-off year to the horizon."""
    ens, cfg = result.ensemble, result.calibrator.config
    anchors = {i.name: i.anchor for i in cfg.indicators}
    series = [(i, anchors[i]) for i in cfg.headline if (i, anchors[i]) in ens.series]
    index = [ens.series.index(s) for s in series]
    years = [y for y in ens.years if y >= ens.first_projected_year - 1]
    values = np.stack([ens.values(y, series=index, scenarios=[0])[0] for y in years]).astype(np.float32)
    path = Path(folder) / FILE
    arrays = {"values": values, "years": np.array(years, np.int32), "geos": np.array(ens.geos),
              "series": np.array(["/".join(s) for s in series]), "seed": np.int64(result.manifest.get("seed", -1)),
              "draws": np.int64(ens.draws)}
    # np.savez stamps each member with the time of writing; fixed stamps keep a run's files byte-reproducible.
    # Stored, not deflated: random float32 draws deflate by ~15% (1.30 -> 1.11 MB) for ~0.1 s of a run's time
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)
    return path


def read_headline_draws(folder: str | Path) -> HeadlineDraws | None:
    """The run's per-draw headline values; None for a folder without a readable ``headline_draws.npz`` (older
    runs: comparisons then fall back to the difference of quantiles)."""
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            series = tuple(tuple(str(s).split("/", 1)) for s in z["series"])
            return HeadlineDraws(z["values"], tuple(int(y) for y in z["years"]), tuple(str(g) for g in z["geos"]),
                                 series, int(z["seed"]), int(z["draws"]))
    except (OSError, ValueError, KeyError):
        return None


def _cached(folder: str | Path) -> HeadlineDraws | None:
    path = Path(folder) / FILE
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    return _read_cached(str(path.parent), stamp)


@lru_cache(maxsize=8)
def _read_cached(folder: str, stamp: int) -> HeadlineDraws | None:     # stamp: re-read a rewritten file
    return read_headline_draws(folder)


def unpaired_reason(base: RunTables, other: RunTables) -> str | None:
    """None when two runs share their random numbers (both have ``headline_draws.npz``; same seed, draws,
    calibration, data and random streams: ``comparability.run_identity``), else why not: ``unpaired_file``,
    ``unpaired_seed``, ``unpaired_draws``, ``unpaired_calibration``, ``unpaired_data`` or
    ``unpaired_random_streams`` (keys of the ``chart`` word table)."""
    from dxsim.outputs.comparability import IDENTITY, run_identity, unpaired

    a, b = _cached(base.folder), _cached(other.folder)
    if a is None or b is None:
        return "unpaired_file"
    ia, ib = run_identity(base.manifest), run_identity(other.manifest)
    for what, _ in IDENTITY:
        if unpaired(what, (ia[what], ib[what])):
            return f"unpaired_{what.replace(' ', '_')}"
    if a.seed != b.seed:                # the files disagree with their manifests: not paired either
        return "unpaired_seed"
    return None if a.draws == b.draws else "unpaired_draws"


def paired_difference(base: RunTables, other: RunTables, geo: str, series: tuple[str, str]
                      ) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(years, {q10, q50, q90}) of ``other`` minus ``base`` taken draw by draw, in points; None where either run
    lacks the series or the runs are not paired (``unpaired_reason``)."""
    if unpaired_reason(base, other) is not None:
        return None
    a, b = _cached(base.folder), _cached(other.folder)
    va, vb = a.select(geo, series), b.select(geo, series)
    if va is None or vb is None:
        return None
    years = np.array(sorted(set(a.years) & set(b.years)))
    diff = vb[[b.years.index(y) for y in years]] - va[[a.years.index(y) for y in years]]     # (year, draw)
    q10, q50, q90 = np.quantile(diff, [0.1, 0.5, 0.9], axis=1)
    return years, {"q10": q10, "q50": q50, "q90": q90}
