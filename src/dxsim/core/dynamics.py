"""How the speed on the transformed scale evolves: constant, damped (estimated), or stochastic.

A damped slope decays by a factor ``phi`` a year: the speed at time ``s`` (years from the reference time t0) is
``slope * phi**s``, so z grows by the *warped time* ``W(s) = (phi**s - 1) / ln(phi)`` (``W(s) = s`` at phi = 1)
instead of ``s``: z = level + slope * W(t - t0). The model stays linear in level and slope for a given phi, so
the fit is the same Gaussian one with warped time columns; phi is estimated from the pooled data by its
posterior on ``DAMPING_GRID`` (uniform prior on the grid, likelihood = the marginal likelihood of the
indicator's readings at the fitted hyper-parameters), and the mixture parts of the posterior take phi at
stratified quantiles of that grid posterior, so the damping's uncertainty reaches the draws.
"""

from __future__ import annotations

import numpy as np

# Uniform prior for the yearly damping factor: from halving the speed each year (0.5) to no damping (1.0).
DAMPING_GRID = np.round(np.arange(0.50, 1.0001, 0.025), 3)


def warped_time(dt: np.ndarray, phi: np.ndarray | float) -> np.ndarray:
    """W(dt) = (phi**dt - 1) / ln(phi), the integral of phi**s from 0 to dt (= dt where phi = 1); broadcasts."""
    dt = np.asarray(dt, float)
    log_phi = np.log(np.asarray(phi, float))
    flat = np.abs(log_phi) < 1e-12
    safe = np.where(flat, 1.0, log_phi)
    return np.where(flat, dt, np.expm1(dt * safe) / safe)


def grid_posterior(log_likelihood: np.ndarray) -> np.ndarray:
    """Normalised posterior weights on the grid from log likelihoods under a uniform prior."""
    ll = np.asarray(log_likelihood, float)
    w = np.exp(ll - ll.max())
    return w / w.sum()


def stratified(grid: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """n grid values at the quantiles (i + 0.5) / n of the discrete distribution ``weights`` on ``grid``."""
    cdf = np.cumsum(weights)
    idx = np.searchsorted(cdf, (np.arange(n) + 0.5) / n * cdf[-1])
    return np.asarray(grid)[np.minimum(idx, len(grid) - 1)]
