"""The diffusion laws: each law's transform between the adoption fraction and its linear scale (the maths is
explained in ``dxsim.core.model``, which uses them). Below every stage, like ``errors``: the config names a law and
the core steps on its scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LAW_NAMES = ("logistic", "gompertz", "bass")


@dataclass(frozen=True)
class Law:
    """A diffusion law: the transform to its linear scale and back. ``bass_shape`` is p/q (Bass only)."""

    name: str
    bass_shape: float = 0.0

    def to_linear(self, fraction: np.ndarray) -> np.ndarray:
        """T(F): adoption fraction in (0, 1) -> transformed scale."""
        f = np.asarray(fraction, dtype=float)
        if self.name == "logistic":
            return np.log(f) - np.log1p(-f)
        if self.name == "gompertz":
            return -np.log(-np.log(f))
        if self.name == "bass":
            return np.log(self.bass_shape + f) - np.log1p(-f)
        raise ValueError(f"unknown law {self.name!r}")

    def to_fraction(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """T^-1(z): transformed scale -> adoption fraction in [0, 1]. Works in place when ``out`` is given."""
        z = np.asarray(z, dtype=float if out is None else out.dtype)     # float32 when ``out`` is
        if out is None:
            out = np.empty_like(z)
        if self.name == "logistic":
            # 1 / (1 + exp(-z)), written to avoid overflow warnings for very negative z
            out = _exp_clipped(np.negative(z, out=out))
            out += 1.0
            return np.reciprocal(out, out=out)
        if self.name == "gompertz":
            out = _exp_clipped(np.negative(z, out=out))
            np.negative(out, out=out)
            return np.exp(out, out=out)
        if self.name == "bass":
            a = self.bass_shape
            e = np.exp(np.clip(z, -700, 700))
            res = (e - a) / (1.0 + e)
            out[...] = np.clip(res, 0.0, 1.0)
            return out
        raise ValueError(f"unknown law {self.name!r}")


def _exp_clipped(x: np.ndarray) -> np.ndarray:
    """exp(x) in place, x clipped to +-700 first in float64 (finite there); in float32 exp overflows past 88.7 and
    underflows to 0 below -103.9 whatever the clip, so it is skipped: the same values, a pass fewer."""
    if x.dtype != np.float32:
        np.clip(x, -700, 700, out=x)
    return np.exp(x, out=x)
