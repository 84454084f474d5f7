"""Where a projection starts: the posterior of each series' latent state at its last reading.

The calibrated line ``level + slope * W(t - t0)`` describes a series' course; the series itself wanders around
it. On the transformed scale a series is ``z(t) = line(t) + u(t)``, with ``u`` a random walk (yearly variance
``q``, the projection's process variance: the same wander continues after the jump-off) and each reading
``y = z + e``, ``e ~ N(0, obs_sd^2)``. A Kalman filter on the residuals ``y - line`` of one series gives
``u`` at its last reading as ``N(m, P)``: near the last residual when readings are precise and the wander
large, near zero (the line) when readings are noisy. A forecast then starts within measurement noise of where
the series is, instead of on a line pulled towards other provinces and older readings; pooling informs the
slope more than the level at the jump-off. From the last reading to the indicator's jump-off the walk goes on
(variance ``q`` per year).

The filtered state and the line are estimated from the same readings: where the state rests on the readings
(total weight ``K`` of the residuals in ``m``: 1 when the last reading is exact), an error of the line at the
last reading is an error of the residuals too and cancels. So a draw's state is
``m - K (line - E line) + sqrt(P) eps``: the jump-off's spread is ``(1 - K)^2 Var(line) + P``, a Kalman-style
blend of the line's prediction and the readings, never both uncertainties added.

A track is what one latent path carries: the anchor path (shared by every definition without a speed of its
own, through their offsets) or a definition with its own speed (``slope_offset``). Geos without a reading of a
track start on their (pooled) line: their level's pooled spread already holds more than the wander. (Taking the
state of the series they are pooled towards instead changed the backtest's mean CRPS by +0.02 points and moved
the one-year coverage of readings without history out of its band, so it is not done.)

The walk's variance ``q`` is the config's ``process_sd`` squared, or, where the config gives it a prior
(``process_sd = { median, log_sd }``), estimated: ``walk_sd_posterior`` is its posterior on a grid of log sd, the
log-normal prior times the readings' marginal likelihood with the walk (``walk_covariance``: the covariance of the
walk this filter runs, so the estimate is of the same model), and each mixture part of the posterior takes the sd
at a stratified quantile of it (calibrate.py), as the damping does, so its uncertainty reaches the draws. Only
readings of one series at two times separate the walk from the measurement noise; without such a pair the grid
posterior is the prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dxsim.core.dynamics import grid_posterior

# The grid of the walk's yearly sd: WALK_GRID_POINTS values evenly spaced in log sd, the prior's median +-
# WALK_GRID_WIDTH prior sds (the prior density there is exp(-8) of its peak; the median is a grid point).
WALK_GRID_POINTS = 41
WALK_GRID_WIDTH = 4.0

@dataclass(frozen=True)
class FilteredStates:
    """Filtered deviation from the line at each series' last reading: ``mean``, ``var``, ``gain`` (the total
    weight of the residuals in ``mean``), ``time`` (decimal year) per series (nan time: no reading), and the
    filter's log-likelihood of the residuals."""

    mean: np.ndarray
    var: np.ndarray
    gain: np.ndarray
    time: np.ndarray
    log_likelihood: float


def filter_states(series: np.ndarray, time: np.ndarray, resid: np.ndarray, n_series: int,
                  obs_var: float | np.ndarray, q: float, p0: float) -> FilteredStates:
    """Local-level Kalman filter of ``resid`` (transformed-scale residuals from the line) per series id in
    ``series`` (0..n_series-1), readings in any order; vectorised over series (the loop is over the rank of a
    reading within its series). ``obs_var``: the readings' noise variance, one for all or (n,) per reading
    (readings of one series may come from sources with different noise); ``q``: the walk's variance per year;
    ``p0``: the state's variance at a series' first reading (its mean is 0: the line's level is fitted)."""
    order = np.lexsort((time, series))
    s, t, r = series[order], np.asarray(time, float)[order], np.asarray(resid, float)[order]
    v = np.broadcast_to(np.asarray(obs_var, float), np.shape(series))[order]
    start = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    rank = np.arange(len(s)) - np.repeat(start, np.diff(np.r_[start, len(s)]))
    mean, var, weight = np.zeros(n_series), np.full(n_series, float(p0)), np.zeros(n_series)
    last = np.full(n_series, np.nan)
    loglik = 0.0
    for k in range(int(rank.max()) + 1 if len(s) else 0):
        rows = rank == k
        g, tk, rk = s[rows], t[rows], r[rows]
        if k:
            var[g] += q * np.maximum(tk - last[g], 0.0)
        total = var[g] + v[rows]
        innovation = rk - mean[g]
        loglik += float(-0.5 * np.sum(innovation ** 2 / total + np.log(2 * np.pi * total)))
        gain = var[g] / total
        mean[g] += gain * innovation
        weight[g] += gain * (1.0 - weight[g])          # the filter's mean of residuals that are all 1
        var[g] *= 1.0 - gain
        last[g] = tk
    return FilteredStates(mean, var, weight, last, loglik)


def sample_shift(mean: np.ndarray, var: np.ndarray, gain: np.ndarray, line: np.ndarray, time: np.ndarray,
                 jump_time: float, q: float, rng: np.random.Generator) -> np.ndarray:
    """Draws (D, G) of the deviation from the line at ``jump_time``: ``mean``, ``var``, ``gain`` (D, G) at the
    last reading (``time`` (G,), nan: none, zero shift), ``line`` (D, G) the draws' fitted line at that reading
    (their error cancels by ``gain``), the walk's variance ``q`` per year from there to the jump-off: one for all
    or (D, 1) per draw (a draw's mixture part's)."""
    seen = ~np.isnan(time)
    gap = np.where(seen, np.maximum(jump_time - np.nan_to_num(time), 0.0), 0.0)
    shift = (mean - gain * (line - line.mean(axis=0)) + np.sqrt(var + q * gap) * rng.standard_normal(mean.shape))
    return np.where(seen, shift, 0.0)


# ---- the walk's yearly variance, estimated ------------------------------------------------------------------
def walk_covariance(series: np.ndarray, time: np.ndarray) -> np.ndarray:
    """(n, n) covariance per unit of ``q`` of the walk at readings of series ``series`` at decimal ``time``, as
    ``filter_states`` models it: a series' wander has variance ``q`` (``p0``) at its first reading and gains
    ``q`` a year, so Cov(u_j, u_k) = q (1 + min(t_j, t_k) - t_first) within a series, 0 across series."""
    series, time = np.asarray(series), np.asarray(time, float)
    first = np.full(int(series.max()) + 1 if len(series) else 0, np.inf)
    np.minimum.at(first, series, time)
    same = series[:, None] == series[None, :]
    return np.where(same, 1.0 + np.minimum(time[:, None], time[None, :]) - first[series][:, None], 0.0)


def walk_log_likelihood(resid: np.ndarray, base: np.ndarray, walk: np.ndarray, q: float) -> float:
    """log N(resid; 0, base + q walk): the readings' marginal likelihood (``resid`` from the prior mean,
    ``base`` their covariance without the walk: parameters' prior and measurement noise) with a walk of yearly
    variance ``q``."""
    chol = np.linalg.cholesky(base + q * walk)
    u = np.linalg.solve(chol, resid)
    return float(-0.5 * u @ u - np.log(np.diag(chol)).sum() - 0.5 * len(resid) * np.log(2 * np.pi))


def walk_sd_grid(median: float, log_sd: float) -> np.ndarray:
    """(N,) yearly sds evenly spaced in log sd around the log-normal prior's ``median`` (``WALK_GRID_POINTS``
    within ``WALK_GRID_WIDTH`` prior sds; the median alone for a prior of ``log_sd`` 0: a stated value)."""
    if log_sd == 0:
        return np.array([float(median)])
    return float(median) * np.exp(np.linspace(-WALK_GRID_WIDTH, WALK_GRID_WIDTH, WALK_GRID_POINTS) * log_sd)


def walk_sd_posterior(resid: np.ndarray, base: np.ndarray, walk: np.ndarray, median: float,
                      log_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """The walk's yearly sd on ``walk_sd_grid``, and its posterior weights there: the log-normal prior (``median``,
    ``log_sd``) times ``walk_log_likelihood`` of ``resid``. The prior alone where the readings say nothing of the
    walk (no series with two readings: the walk cannot be told from the measurement noise)."""
    grid = walk_sd_grid(median, log_sd)
    log_prior = -0.5 * ((np.log(grid) - np.log(median)) / (log_sd or 1.0)) ** 2
    if len(grid) == 1 or not np.any(walk[np.triu_indices(len(walk), 1)]):
        return grid, grid_posterior(log_prior)
    return grid, grid_posterior(log_prior + [walk_log_likelihood(resid, base, walk, sd ** 2) for sd in grid])


def at_grid_edge(weights: np.ndarray) -> bool:
    """Whether a grid posterior's mode is the grid's first or last point: the grid (the prior) cuts it off."""
    return len(weights) > 1 and int(np.argmax(weights)) in (0, len(weights) - 1)
