"""Where the batches of an experiment run: in-process (threads) or on a Dask cluster, with identical results.

``BatchRunner`` splits the variants of an experiment into memory-bounded batches (``Experiment.batch_size``) and
evaluates each with ``experiments.evaluate``; every batch draws its random numbers from the experiment's seed,
so neither the runner nor the order of the batches changes a result.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dxsim.analyses.experiments import Experiment, evaluate
from dxsim.core.threads import usable_cpus
from dxsim.errors import ArgumentError

# Environment of local Dask workers. Dask's default (MALLOC_TRIM_THRESHOLD_=65536) fixes glibc's thresholds, so
# every array of a batch is a fresh mmap, page-faulted on each use: workers then spent half their time in the
# kernel. Arrays up to 256 MiB come from the heap instead, which keeps them (BATCH_BYTES bounds a batch).
WORKER_ENVIRON = {"MALLOC_MMAP_THRESHOLD_": 2**28, "MALLOC_TRIM_THRESHOLD_": 2**29, "OMP_NUM_THREADS": 1,
                  "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}


def batches(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` rows covering ``n`` rows."""
    return [slice(a, min(a + size, n)) for a in range(0, n, size)]


class BatchRunner:
    """Evaluates variants in batches: in-process (default; batches on threads, one per usable CPU), on a local Dask
    cluster of ``workers`` processes, or on the Dask scheduler at ``scheduler``. Use as a context manager; results
    do not depend on the choice."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        if workers is not None and scheduler is not None:
            raise ArgumentError("workers", "give workers or a scheduler, not both")
        self.workers, self.scheduler = workers, scheduler
        self._client: Any = None
        self._cluster: Any = None
        self._shipped: dict[int, Any] = {}

    @property
    def where(self) -> str:
        if self.scheduler:
            return f"dask scheduler {self.scheduler}"
        return f"local dask cluster, {self.workers} workers" if self.workers else "in-process"

    def __enter__(self) -> BatchRunner:
        if self.workers is None and self.scheduler is None:
            return self
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ArgumentError("workers" if self.workers else "scheduler",
                             "needs dask.distributed, which is not installed: pip install 'dxsim[distributed]'") \
                from None
        if self.scheduler:
            self._client = Client(self.scheduler)
        else:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENVIRON}):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None)
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
        self._shipped.clear()

    def evaluate(self, experiment: Experiment, X: np.ndarray) -> np.ndarray:
        """Outputs (variant, output) of the variants ``X``, batch by batch."""
        X = np.asarray(X, float)
        parts = [X[b] for b in batches(len(X), experiment.batch_size)]
        if self._client is None:
            # numpy releases the GIL in its kernels: threads use every core; results do not depend on them
            with ThreadPoolExecutor(max_workers=min(len(parts), usable_cpus()) or 1) as pool:
                results = list(pool.map(lambda part: evaluate(experiment, part), parts))
        else:
            key = id(experiment)
            if key not in self._shipped:
                self._shipped[key] = (experiment, self._client.scatter(experiment, broadcast=True))
            shipped = self._shipped[key][1]
            futures = [self._client.submit(evaluate, shipped, part, pure=False) for part in parts]
            results = self._client.gather(futures)
        return np.concatenate(results, axis=0) if results else np.empty((0, len(experiment.outputs)))


def describe(n: int, batch_size: int) -> str:
    return f"{n} evaluations in {math.ceil(n / max(batch_size, 1))} batch(es) of up to {batch_size}"
