"""Diffusion laws as linear growth on a transformed scale.

For each law the adoption fraction ``F = share / ceiling`` (in [0, 1)) obeys ``dF/dt = r * g(F)`` and the
transform ``z = T(F)`` with ``dT/dF = 1/g`` (up to a constant) turns it into ``dz/dt = r``:

- logistic  ``g = F (1 - F)``            ``T(F) = log(F / (1 - F))``
- Gompertz  ``g = -F log F``             ``T(F) = -log(-log F)``
- Bass      ``g = (a + F)(1 - F)``       ``T(F) = log((a + F) / (1 - F))`` with ``a = p / q``;
  then ``r = p + q`` (innovation p, imitation q).

So every law steps as ``z[t+1] = z[t] + speed`` and the speed is where investment acts: a positive speed
multiplier can only raise ``z`` and hence the share (more investment never lowers a trajectory).

This module is the one home of the model's maths: the laws (defined in ``dxsim.laws``, below the stages, so the
config that names them does not import the core), shares <-> the transformed scale (ceilings and
clipping: ``share_to_z``, ``z_to_share``), the linear predictor of a path (``path_z``) and the layout of an
indicator's parameter vector (``Layout``). Other modules call these instead of writing the formulas again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dxsim.core.dynamics import warped_time
from dxsim.laws import LAW_NAMES as LAW_NAMES  # re-exported: the model's users import the laws from here
from dxsim.laws import Law


def share_to_z(law: Law, share: np.ndarray, ceiling: np.ndarray | float,
               clip: tuple[float, float]) -> np.ndarray:
    """Percent shares over ``ceiling`` (percent) -> the law's scale; the fraction is clipped into ``clip`` first
    (a reading at 0% or at the ceiling is read as that far inside)."""
    fraction = np.clip(np.asarray(share, float) / ceiling, clip[0], clip[1])
    return law.to_linear(fraction)


def z_to_share(law: Law, z: np.ndarray, ceiling: np.ndarray | float) -> np.ndarray:
    """The law's scale -> percent shares of ``ceiling`` (percent)."""
    return law.to_fraction(z) * ceiling


def reading_share(law: Law, z: np.ndarray, ceiling: np.ndarray | float, clip: tuple[float, float]) -> np.ndarray:
    """A published reading from its transformed value: a fraction within ``clip`` of 0 or of 1 is published as
    0% or as the ceiling itself (the inverse of ``share_to_z``'s clipping), percent."""
    fraction = law.to_fraction(z)
    return np.where(fraction >= clip[1], 1.0, np.where(fraction <= clip[0], 0.0, fraction)) * ceiling


def path_z(level: np.ndarray, slope: np.ndarray, dt: np.ndarray, damping: np.ndarray | float = 1.0,
           parts: np.ndarray | None = None) -> np.ndarray:
    """The linear predictor of a fitted path: ``level + slope * W(dt)`` (W = ``dynamics.warped_time``: dt
    itself without damping), ``dt`` in years from the reference time; broadcasts. ``parts`` (draw,): the
    mixture part of each draw, with ``damping`` given per part (part, ...): W is computed once per part."""
    warp = warped_time(dt, damping)
    return level + slope * (warp if parts is None else warp[parts])


@dataclass(frozen=True)
class Layout:
    """Columns of one indicator's parameter vector: [level_nat, slope_nat, d_level (G-1), d_slope (G-1),
    offsets (O), slope offsets (S), break offsets (B)]; geos with the nation first (its deviations are zero by
    definition), offsets for every definition but the anchor. A slope offset of a definition in ``own_speeds``
    is that definition's whole national speed (its readings do not load the anchor's national slope)."""

    n_geos: int
    offsets: tuple[str, ...]
    slope_offsets: tuple[str, ...] = ()
    breaks: tuple[str, ...] = ()
    own_speeds: tuple[str, ...] = ()

    @property
    def n_params(self) -> int:
        return 2 * self.n_geos + len(self.offsets) + len(self.slope_offsets) + len(self.breaks)

    @property
    def level_cols(self) -> np.ndarray:
        """Columns of the geos' level deviations (geos 1..G-1)."""
        return np.arange(2, self.n_geos + 1)

    @property
    def slope_cols(self) -> np.ndarray:
        return np.arange(self.n_geos + 1, 2 * self.n_geos)

    def offset_col(self, definition: str) -> int:
        return 2 * self.n_geos + self.offsets.index(definition)

    def slope_offset_col(self, definition: str) -> int:
        return 2 * self.n_geos + len(self.offsets) + self.slope_offsets.index(definition)

    def break_col(self, definition: str) -> int:
        return 2 * self.n_geos + len(self.offsets) + len(self.slope_offsets) + self.breaks.index(definition)

    def speed_cols(self) -> np.ndarray:
        """Every column multiplied by time: national slope, slope deviations, slope offsets."""
        start = 2 * self.n_geos + len(self.offsets)
        return np.r_[1, self.slope_cols, start:start + len(self.slope_offsets)]

    def split(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Parameter vectors (.., P) -> level (.., G), slope (.., G) per geo (nation + deviation), offset and
        slope offset (.., 1 + O) per definition (zeros for the anchor, then ``offsets`` order). A geo's speed on a
        definition is always its slope plus the definition's slope offset: for a definition with a speed of its
        own the slope offset returned is that speed minus the anchor's national slope."""
        G, O = self.n_geos, len(self.offsets)
        zero = np.zeros(beta.shape[:-1] + (1,))
        level = beta[..., [0]] + np.concatenate([zero, beta[..., 2:G + 1]], axis=-1)
        slope = beta[..., [1]] + np.concatenate([zero, beta[..., G + 1:2 * G]], axis=-1)
        offset = np.concatenate([zero, beta[..., 2 * G:2 * G + O]], axis=-1)
        slope_offset = np.zeros_like(offset)
        for name in self.slope_offsets:
            own = beta[..., self.slope_offset_col(name)]
            slope_offset[..., 1 + self.offsets.index(name)] = own - beta[..., 1] if name in self.own_speeds else own
        return level, slope, offset, slope_offset


def logistic_closed_form(t: np.ndarray, speed: float, midpoint: float) -> np.ndarray:
    """Known answer: logistic fraction at time t, F = 1 / (1 + exp(-speed (t - midpoint)))."""
    return 1.0 / (1.0 + np.exp(-speed * (np.asarray(t, float) - midpoint)))


def gompertz_closed_form(t: np.ndarray, speed: float, midpoint: float) -> np.ndarray:
    """Known answer: Gompertz fraction, F = exp(-exp(-speed (t - midpoint)))."""
    return np.exp(-np.exp(-speed * (np.asarray(t, float) - midpoint)))


def bass_closed_form(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Known answer: Bass cumulative adoption from F(0) = 0."""
    e = np.exp(-(p + q) * np.asarray(t, float))
    return (1.0 - e) / (1.0 + (q / p) * e)
