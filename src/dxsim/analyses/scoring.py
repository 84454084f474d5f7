"""Scores of probabilistic forecasts against single readings, all from samples.

Every forecast is an array of samples per point, shape (point, sample), in percent: dxsim's Monte Carlo draws,
or a baseline's quasi-sample (its quantile function at ``quasi_levels(n)``, i.e. n equally likely quantiles).
One code path then scores every method the same way:

- CRPS (percentage points, lower is better): the energy form on the samples' empirical distribution,
  ``E|X - y| - E|X - X'| / 2``, exact for that distribution (a point mass gives the absolute error);
- PIT: ``P(X < y) + P(X = y) / 2`` (mid-PIT, so ties with clipped mass at 0 or 100 count half);
- coverage of the central interval at a nominal level, from the samples' quantiles (bounds included);
- log score (higher is better): ln of a Gaussian kernel density estimate of the samples at the reading, per
  percentage point, Silverman's bandwidth with a floor of ``MIN_BANDWIDTH`` points, and the score floored at
  ``LOG_SCORE_FLOOR`` so that one reading far outside a narrow forecast does not swamp a mean over few points.
"""

from __future__ import annotations

import numpy as np

MIN_BANDWIDTH = 0.1      # percentage points: readings are published to 0.01-0.1 pp
LOG_SCORE_FLOOR = -10.0  # ln density per pp; exp(-10) ~ 4.5e-5 per pp


def quasi_levels(n: int) -> np.ndarray:
    """n equally likely probability levels (i + 0.5) / n: a quantile function evaluated there is a sample."""
    return (np.arange(n) + 0.5) / n


def _rows(samples: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.atleast_2d(np.asarray(samples, dtype=float))
    obs = np.atleast_1d(np.asarray(y, dtype=float))
    if x.shape[0] != obs.shape[0]:
        raise ValueError(f"{x.shape[0]} forecasts for {obs.shape[0]} readings")
    return x, obs


def crps_samples(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS per point (same unit as y) of the empirical distribution of each row of ``samples``."""
    x, obs = _rows(samples, y)
    n = x.shape[1]
    xs = np.sort(x, axis=1)
    weights = (2.0 * np.arange(1, n + 1) - n - 1) / n**2      # sum_i w_i x_(i) = E|X - X'| / 2
    return np.abs(x - obs[:, None]).mean(axis=1) - xs @ weights


def pit(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mid-PIT per point: P(X < y) + P(X = y) / 2, in [0, 1]."""
    x, obs = _rows(samples, y)
    below = (x < obs[:, None]).mean(axis=1)
    tied = (x == obs[:, None]).mean(axis=1)
    return below + 0.5 * tied


def central_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound per point of the central interval holding ``level`` of the probability."""
    x = np.atleast_2d(np.asarray(samples, dtype=float))
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2], axis=1)
    return lo, hi


def covered(samples: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """Whether each reading lies in its forecast's central ``level`` interval (bounds included)."""
    x, obs = _rows(samples, y)
    lo, hi = central_interval(x, level)
    return (lo <= obs) & (obs <= hi)


def log_score(samples: np.ndarray, y: np.ndarray, floor: float = LOG_SCORE_FLOOR,
              min_bandwidth: float = MIN_BANDWIDTH) -> np.ndarray:
    """ln predictive density per point (per unit of y) from a Gaussian KDE of the samples, floored."""
    x, obs = _rows(samples, y)
    n = x.shape[1]
    sd = x.std(axis=1, ddof=1) if n > 1 else np.zeros(len(x))
    q75, q25 = np.quantile(x, [0.75, 0.25], axis=1)
    spread = np.minimum(sd, (q75 - q25) / 1.34)
    spread = np.where(spread > 0, spread, sd)
    bandwidth = np.maximum(0.9 * spread * n ** -0.2, min_bandwidth)
    u = (obs[:, None] - x) / bandwidth[:, None]
    density = np.exp(-0.5 * u**2).mean(axis=1) / (bandwidth * np.sqrt(2 * np.pi))
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(density), floor)
