"""Random streams keyed by name: one indicator's (or one programme's) numbers come from a child of the run's stream
keyed by its name (``inputs.stream_keys.stream_key``: CRC-32 of its UTF-8 bytes, stable across processes), so
adding a definition to one indicator, or reordering the indicators in the config, leaves every other indicator's
draws exactly as they were. Two names with the same key would get the same numbers: the config and the scenarios
refuse them, and a name with the key of a shared stream (``stream_keys``).

The fit (``calibrate.indicator_rng``) keys its hyper-parameter samples by the same ``stream_key`` but seeds them
as ``SeedSequence([seed, key])``, not as a child of a stream: it was built so before this module, and changing it
would move every fitted number for no gain in independence (both constructions hash the key into the seed).
"""

from __future__ import annotations

import numpy as np

from dxsim.inputs.stream_keys import stream_key

# The layout of the random streams: the same seed gives the same draws only under the same version. Bump it with
# any change that reassigns a run's draws (recorded in manifest.json; runs of different versions are not compared
# draw by draw, ``outputs.comparability``). 1: one stream for every indicator; 2: a stream per indicator's name.
VERSION = 2

def as_seed_sequence(seed: np.random.SeedSequence | int) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def named_stream(base: np.random.SeedSequence | int, name: str) -> np.random.SeedSequence:
    """The child of ``base`` (a stream, or a seed) keyed by ``name``."""
    base = as_seed_sequence(base)
    return np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, stream_key(name)),
                                  pool_size=base.pool_size)


class IndicatorNormals:
    """Standard normals of shape (geo, indicator, draw) whose indicator ``k`` comes from the stream
    ``named_stream(seed, names[k])``: ``standard_normal(shape, out)`` as ``Generator.standard_normal`` (a run's
    process noise and slope shocks, ``threads.NoiseAhead``). Each indicator's numbers are drawn into a contiguous
    block (indicator, geo, draw) of ``out``'s memory (a fresh array without ``out``); the array returned is the
    (geo, indicator, draw) view of it."""

    def __init__(self, seed: np.random.SeedSequence, names: tuple[str, ...]) -> None:
        self.seed, self.names = seed, tuple(names)
        self._rngs = tuple(np.random.default_rng(named_stream(seed, name)) for name in self.names)

    @property
    def key(self) -> tuple:
        """What makes the numbers: sources with the same key give the same numbers."""
        return self.seed.entropy, self.seed.spawn_key, self.seed.pool_size, self.names

    def fresh(self) -> IndicatorNormals:
        """The same streams from their start."""
        return IndicatorNormals(self.seed, self.names)

    def standard_normal(self, shape: tuple[int, ...], out: np.ndarray | None = None) -> np.ndarray:
        G, I, D = shape
        if len(self._rngs) != I:
            raise ValueError(f"normals for {I} indicators from streams of {len(self._rngs)}")
        if out is None:
            out = np.empty(shape)
        elif out.shape != tuple(shape) or not out.flags.c_contiguous or out.dtype != np.float64:
            raise ValueError(f"out must be a C-contiguous float64 array of shape {tuple(shape)}")
        blocks = out.reshape(I, G, D)                   # the same memory, indicator-major (a view)
        for rng, block in zip(self._rngs, blocks, strict=True):
            rng.standard_normal((G, D), out=block)
        return blocks.transpose(1, 0, 2)
