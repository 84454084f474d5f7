"""The simulated ensemble (``Ensemble``): latent paths per (year, scenario, geo, indicator, draw) and what is read
from them: percent values per reported series, their means and quantiles, the tidy trajectories table.

Layout: the latent paths ``z`` are stored as (year, scenario, geo, indicator, draw), draws last so that every
reduction over draws (quantiles, means, target checks) reads contiguous memory. Percent values per reported
series are computed from the paths when asked (``Ensemble.values``), never stored for all years. Ceiling lifts
(events and programmes) keep z, the adoption fraction: every definition's share rises by lift x fraction.

``simulate`` stores the paths year by year (``YearBlocks``): a fitted year, the same for every scenario, is stored
once and read for each scenario through a broadcast view (13 years of which 6 fitted, 4 scenarios: a third of the
memory of the full array).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from dxsim.core.axes import QUANTILE_COLUMNS, QUANTILES, TRAJECTORY_QUANTILE_COLUMNS
from dxsim.core.drivers import RolloutDrivers
from dxsim.core.model import Law
from dxsim.core.quantiles import draw_summary
from dxsim.core.threads import usable_cpus
from dxsim.inputs.geography import NATIONAL_MAP, PRE, Aggregation


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays of one shape hold the same values: the same view, else compared (first draws first)."""
    if a.__array_interface__ == b.__array_interface__:
        return True
    return bool(np.array_equal(a[..., 0], b[..., 0]) and np.array_equal(a, b))


@dataclass(frozen=True, eq=False)
class YearBlocks(np.lib.mixins.NDArrayOperatorsMixin):
    """A read-only array (year, scenario, ...) stored as one block (scenario, ...) per year; a block may be a
    broadcast view of one scenario's values (a year all scenarios share). ``blocks[y]`` is what ``array[y]``
    would be; other indexing and arithmetic read the stacked array (a copy)."""

    blocks: tuple[np.ndarray, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.blocks),) + self.blocks[0].shape

    @property
    def dtype(self) -> np.dtype:
        return self.blocks[0].dtype

    @property
    def ndim(self) -> int:
        return self.blocks[0].ndim + 1

    @property
    def nbytes(self) -> int:
        """Bytes stored (a shared year once)."""
        return sum(b.base.nbytes if b.strides[0] == 0 and b.base is not None else b.nbytes for b in self.blocks)

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            return self.blocks[key]
        if isinstance(key, tuple) and key and isinstance(key[0], (int, np.integer)):
            return self.blocks[key[0]][key[1:]]
        if isinstance(key, tuple) and len(key) > 1 and key[0] is Ellipsis:
            return np.stack([b[key] for b in self.blocks])          # ``...`` first: the year axis stays whole
        return np.asarray(self)[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.stack(self.blocks)
        return out if dtype is None else out.astype(dtype)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        arrays = [np.asarray(x) if isinstance(x, YearBlocks) else x for x in inputs]
        return getattr(ufunc, method)(*arrays, **kwargs)

    def astype(self, dtype: Any) -> np.ndarray:
        return np.stack(self.blocks).astype(dtype)


@dataclass(frozen=True)
class Ensemble:
    """A simulated ensemble. ``z``: latent paths (year, scenario, geo, indicator, draw) on each law's scale.
    ``values(year)`` gives percent values (scenario, geo, series, draw); ``quantiles`` (scenario, year, geo,
    series, quantile) and ``mean`` (scenario, year, geo, series) summarise them, in percent."""

    scenarios: tuple[str, ...]
    geos: tuple[str, ...]
    years: tuple[int, ...]
    indicators: tuple[str, ...]
    series: tuple[tuple[str, str], ...]
    draws: int
    first_projected_year: int
    laws: tuple[Law, ...]
    z: np.ndarray | YearBlocks
    series_offset: np.ndarray         # (series, draw): a definition's offset from its anchor's z
    series_ceiling: np.ndarray        # (series,) base ceilings, percent
    own_series: tuple[int, ...]       # series with a speed of their own (slope offset): paths in ``own_z``
    own_z: np.ndarray | YearBlocks    # (year, scenario, geo, own series, draw), offset included
    event_lift: np.ndarray            # (year, scenario, geo, indicator) points
    rollouts: RolloutDrivers | None = None
    # first projected year per series (the year after its last reading); default: ``first_projected_year``
    series_first_projected: tuple[int, ...] | None = None
    # With an aggregation, ``geos`` are the regions users asked for (geography.py) and ``model_geos`` the
    # simulated old provinces (the geo axis of z, own_z, event_lift, rollouts); ``values`` aggregates per draw.
    aggregation: Aggregation | None = None
    model_geos: tuple[str, ...] = ()

    def aggregated(self, aggregation: Aggregation) -> Ensemble:
        """This ensemble read on ``aggregation``'s regions (its model geos must be this ensemble's geos)."""
        if aggregation.model_geos != self.geos:
            raise ValueError("the aggregation's model geos are not the simulated geos")
        return replace(self, geos=aggregation.names, model_geos=self.geos, aggregation=aggregation)

    @property
    def geographies(self) -> tuple[str, ...]:
        """``geography`` of each geo: pre_2025, post_2025 or national."""
        if self.aggregation is not None:
            return self.aggregation.geographies
        return tuple(NATIONAL_MAP if g == "vietnam" else PRE for g in self.geos)

    @property
    def series_indicator(self) -> np.ndarray:
        return np.array([self.indicators.index(i) for i, _ in self.series])

    def values(self, year: int, series: Sequence[int] | None = None, geos: slice | Sequence[int] = slice(None),
               scenarios: slice | Sequence[int] = slice(None), dtype: type = np.float64) -> np.ndarray:
        """Percent values at ``year``: (scenario, geo, series, draw), for all or the given series indices; with
        an aggregation, each geo is the weighted mean of its parts, draw by draw. ``dtype=np.float32`` computes
        the shares in float32 (within ``VALUES_BOUND`` points of float64; the means of parts stay float64)."""
        agg = self.aggregation
        if agg is None:
            return self._part_values(year, series, geos, scenarios, dtype)
        rows = list(range(len(self.geos))[geos]) if isinstance(geos, slice) else list(geos)
        if agg.identity:
            cols = [int(np.flatnonzero(agg.matrix[0, r])[0]) for r in rows]
            return self._part_values(year, series, cols, scenarios, dtype)
        cols = agg.columns(rows)
        parts = self._part_values(year, series, cols, scenarios, dtype)
        ks = range(len(self.series)) if series is None else series
        return agg.apply(parts, self.series_indicator[list(ks)], rows, cols)

    def _part_values(self, year: int, series: Sequence[int] | None, geos: slice | Sequence[int],
                     scenarios: slice | Sequence[int], dtype: type = np.float64) -> np.ndarray:
        """``values`` on the simulated geos (no aggregation)."""
        y = self.years.index(int(year))
        ks = range(len(self.series)) if series is None else series
        z = self.z[y][scenarios][:, geos]
        lift = self.event_lift[y][scenarios][:, geos][..., None]
        if self.rollouts is not None and np.any(self.rollouts.ceiling_lift[y][scenarios][:, geos]):
            lift = lift + self.rollouts.at(self.rollouts.ceiling_lift, y, scenarios, geos)
        lifted = bool(np.any(lift))                      # else every ceiling is its series' base ceiling
        ind = self.series_indicator
        own = {k: j for j, k in enumerate(self.own_series)}
        out = np.empty(z.shape[:2] + (len(ks), z.shape[-1]), dtype=dtype)
        own_y = self.own_z[y][scenarios][:, geos] if any(k in own for k in ks) else None
        for j, k in enumerate(ks):
            i, part = ind[k], out[:, :, j]
            if k in own:
                zk = own_y[:, :, own[k]]
            elif dtype == np.float64:
                zk = z[:, :, i] + self.series_offset[k]
            else:
                zk = np.add(z[:, :, i], self.series_offset[k].astype(dtype), out=part)
            self.laws[i].to_fraction(zk, out=part)
            part *= np.minimum(self.series_ceiling[k] + lift[:, :, i], 100.0) if lifted else \
                min(self.series_ceiling[k], 100.0)
        return out

    def _summary_rows(self, year: int, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, quantiles) of every geo and series of scenario ``s`` at ``year`` from float32 shares (within
        ``VALUES_BOUND`` of float64): a geo that is one simulated geo is summarised once on the simulated geos,
        only a merged geo (a weighted mean of parts, draw by draw) is aggregated first."""
        with np.errstate(over="ignore"):                     # exp(700) is inf in float32: a share of 0
            parts = self._part_values(year, None, slice(None), slice(s, s + 1), np.float32)   # (1, model geo, K, D)
            agg = self.aggregation
            if agg is None:
                return draw_summary(parts[0], QUANTILES, overwrite=True)
            single = np.all(np.count_nonzero(agg.matrix, axis=2) == 1, axis=0)        # (region,)
            rows = np.flatnonzero(single)
            cols = agg.matrix[0, rows].argmax(axis=1)
            # only the simulated geos that are a region by themselves (not the parts of merged ones): a copy
            mean, quantiles = draw_summary(parts[0, cols], QUANTILES, overwrite=True)
            out_mean = np.empty((len(self.geos),) + mean.shape[1:])
            out_q = np.empty((len(self.geos),) + quantiles.shape[1:])
            out_mean[rows], out_q[rows] = mean, quantiles
            merged = list(np.flatnonzero(~single))
            if merged:
                every = np.arange(parts.shape[1])                # all simulated geos: no copy of the parts
                values = agg.apply(parts, self.series_indicator, merged, every)[0]
                out_mean[merged], out_q[merged] = draw_summary(values.astype(np.float32), QUANTILES, overwrite=True)
        return out_mean, out_q

    def series_draws(self, year: int, geo: str, series: tuple[str, str]) -> np.ndarray:
        """Percent values of one (geo, series) at ``year``: (scenario, draw)."""
        g, k = self.geos.index(geo), self.series.index(series)
        return self.values(year, series=[k], geos=[g])[:, 0, 0]

    @cached_property
    def _summary(self) -> tuple[np.ndarray, np.ndarray]:
        S, Y, G, K = len(self.scenarios), len(self.years), len(self.geos), len(self.series)
        mean = np.empty((S, Y, G, K))
        quantiles = np.empty((S, Y, G, K, len(QUANTILES)))

        def one(task: tuple[int, int]) -> None:
            y, s = task
            mean[s, y], quantiles[s, y] = self._summary_rows(self.years[y], s)

        same = {(y, s): self._same_as(y, s) for y in range(Y) for s in range(S)}
        tasks = [task for task, first in same.items() if first is None]
        # numpy releases the GIL in these kernels: threads use every core, results do not depend on them
        with ThreadPoolExecutor(max_workers=min(len(tasks), usable_cpus())) as pool:
            list(pool.map(one, tasks))
        for (y, s), first in same.items():
            if first is not None:
                mean[s, y], quantiles[s, y] = mean[first, y], quantiles[first, y]
        return mean, quantiles

    def _same_as(self, y: int, s: int) -> int | None:
        """An earlier scenario whose values at year index ``y`` are those of scenario ``s`` (same paths and
        ceiling lifts, e.g. every scenario before the jump-off), else None: its summary is copied, not redone."""
        for first in range(s):
            lifts = self.rollouts is None or np.array_equal(self.rollouts.ceiling_lift[y, s],
                                                            self.rollouts.ceiling_lift[y, first])
            # the first draw of every path first: paths that differ almost always differ there (no full pass);
            # a year stored once for all scenarios (``YearBlocks``) is the same memory: no pass at all
            if (lifts and np.array_equal(self.event_lift[y, s], self.event_lift[y, first])
                    and _same_values(self.z[y][s], self.z[y][first])
                    and _same_values(self.own_z[y][s], self.own_z[y][first])):
                return first
        return None

    @property
    def mean(self) -> np.ndarray:
        return self._summary[0]

    @property
    def quantiles(self) -> np.ndarray:
        return self._summary[1]

    def trajectories(self) -> pd.DataFrame:
        """Tidy table: scenario, geo, geography, indicator, definition, year, projected, mean, q05..q95, q025,
        q975 (percent)."""
        S, Y, G, K = self.mean.shape
        s, g, k, y = np.indices((S, G, K, Y)).reshape(4, -1)
        frame = pd.DataFrame({
            "scenario": np.array(self.scenarios)[s], "geo": np.array(self.geos)[g],
            "geography": np.array(self.geographies)[g], "indicator": np.array([i for i, _ in self.series])[k],
            "definition": np.array([d for _, d in self.series])[k],
            "year": np.array(self.years)[y],
        })
        first = np.array(self.series_first_projected or (self.first_projected_year,) * K)
        frame["projected"] = frame["year"].to_numpy() >= first[k]
        frame["mean"] = self.mean[s, y, g, k]
        for col in TRAJECTORY_QUANTILE_COLUMNS:
            frame[col] = self.quantiles[s, y, g, k, QUANTILE_COLUMNS.index(col)]
        return frame
