"""Threads of a run: the CPUs this process may use, a projected year's blocks of geos on a pool of threads, and the
process noise drawn ahead on a thread of its own (``NoiseAhead``). numpy releases the GIL in its kernels, so
threads use the cores; each block writes its own slices, so results do not depend on the number of threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol

import numpy as np

AHEAD_BYTES = 2**27       # process noise drawn ahead of its use: up to this, at least two arrays (``ahead_arrays``)


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity where the platform has one (taskset, cgroup cpusets), else
    every CPU of the machine; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                            # no sched_getaffinity (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def threads_here() -> int:
    """Threads for a run's blocks of geos: one per usable CPU from the main thread; one from any other thread
    (parallel batches, which use the CPUs already)."""
    return usable_cpus() if threading.current_thread() is threading.main_thread() else 1


def blocks(n: int, parts: int) -> list[slice]:
    """``n`` items in ``parts`` consecutive blocks of (nearly) equal size (no empty block)."""
    edges = np.linspace(0, n, min(parts, n) + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


@contextmanager
def pool(workers: int) -> Iterator[ThreadPoolExecutor | None]:
    """A pool of ``workers`` threads (None: one, the calling thread)."""
    if workers < 2:
        yield None
        return
    with ThreadPoolExecutor(max_workers=workers) as threads:
        yield threads


class Normals(Protocol):
    """A source of standard normals: ``np.random.Generator``, ``streams.IndicatorNormals`` or a replay of one
    (``ensemble.Replay``)."""

    def standard_normal(self, shape: tuple[int, ...], out: np.ndarray | None = None) -> np.ndarray: ...


def ahead_arrays(shape: tuple[int, ...], count: int, thread: bool) -> int:
    """The arrays of ``shape`` (float64) a ``NoiseAhead`` of ``count`` arrays holds: up to ``AHEAD_BYTES`` of them,
    at least two, when drawn ahead on a thread; one, drawn into in turn, without a thread, for a single array or
    when one array is larger than ``AHEAD_BYTES``."""
    size = 8 * int(np.prod(shape))
    if not thread or count < 2 or size > AHEAD_BYTES:
        return min(count, 1)
    return min(count, max(2, AHEAD_BYTES // max(size, 1)))


class NoiseAhead:
    """The process noise of a run's projected years: ``count`` arrays ``source.standard_normal(shape)`` (kept as
    ``rng``), in turn (iterate once). With ``thread``, a thread of its own draws them, in order, from the moment
    this is made (a run makes it before sampling its parameters): the same numbers as drawn in turn.
    ``ahead_arrays`` of them are drawn ahead, into arrays allocated here (memory a thread allocates stays in its
    glibc arena after it is freed); an array is drawn into again once the year after its own has been handed
    out."""

    def __init__(self, source: Normals, shape: tuple[int, ...], count: int, thread: bool) -> None:
        self.rng = source
        self.shape, self.count = tuple(shape), int(count)
        n = ahead_arrays(self.shape, self.count, thread)
        self._ahead = ThreadPoolExecutor(max_workers=1) if n > 1 else None
        self._buffers: list[np.ndarray | None] = [np.empty(self.shape) for _ in range(n)]
        self._drawn: list[Future | None] = [self._draw(k) for k in range(n)] if self._ahead is not None else []

    def _draw(self, k: int) -> Future:
        return self._ahead.submit(self.rng.standard_normal, self.shape, out=self._buffers[k % len(self._buffers)])

    def __iter__(self) -> Iterator[np.ndarray]:
        n = len(self._buffers)
        for k in range(self.count):
            if self._ahead is None:
                yield self.rng.standard_normal(self.shape, out=self._buffers[0])
                continue
            if k and k - 1 + n < self.count:            # year k - 1 is done with its array: draw into it again
                self._drawn.append(self._draw(k - 1 + n))
            elif k:                                      # or free it
                self._buffers[(k - 1) % n] = None
            yield self._drawn[k].result()
            self._drawn[k] = None
        self.close()

    def close(self) -> None:
        """Stop drawing (what is being drawn is finished), end the thread and free the arrays."""
        if self._ahead is not None:
            self._ahead.shutdown(wait=True, cancel_futures=True)
        self._buffers, self._drawn = [], []
