"""The Gaussian posterior of one indicator's parameters given its design (``design.py``).

Given the hyper-parameters (pooling sds ``level_sd``, ``slope_sd`` and a measurement sd per noise group,
``design.noise_groups``: the indicator's provincial readings, its national ones and, for a ``flow`` indicator,
its partial-year ones) the posterior of the parameters is exactly Gaussian. The hyper-parameters are set at their
posterior mode (marginal likelihood x log-normal priors); their uncertainty is carried by a Laplace approximation:
``hyper_samples`` hyper draws, each with its own Gaussian posterior, mixed with equal weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dxsim.core.design import Design, noise_groups
from dxsim.core.dynamics import DAMPING_GRID
from dxsim.core.model import Layout
from dxsim.inputs.config import IndicatorSpec

# The pooling sds, then one measurement sd per noise group (design.noise_groups), each with the config's obs_sd
# prior, independently: a group without readings keeps its prior.
POOLING_NAMES = ("level_sd", "slope_sd")
NOISE_START = len(POOLING_NAMES)     # the column of the first noise group's sd among the hyper-parameters
COARSE_XATOL = 1e-2      # log scale: the simplex search's tolerance before the gradient polish


def hyper_names(spec: IndicatorSpec) -> tuple[str, ...]:
    """Names of the hyper-parameters of ``spec``, in the order of ``IndicatorPosterior.hypers``' columns."""
    return POOLING_NAMES + noise_groups(spec)


@dataclass(frozen=True)
class IndicatorPosterior:
    """Gaussian-mixture posterior of one indicator's parameters.

    Parameter vector: [level_nat, slope_nat, d_level (G-1), d_slope (G-1), offsets (O), slope offsets (S),
    break offsets (B)], geos in ``geos`` order with ``vietnam`` first (its deviations are zero by definition).
    A break offset shifts only the readings of a definition dated before its method break (``break_year``):
    it describes the old measurement and never enters projections."""

    indicator: str
    geos: tuple[str, ...]
    offsets: tuple[str, ...]
    slope_offsets: tuple[str, ...]
    t0: float
    hyper_map: np.ndarray      # (K,) hyper-parameters (``hyper_names``) at the mode
    hypers: np.ndarray         # (H, K) hyper samples
    means: np.ndarray          # (H, P)
    # The square roots R of the covariances (R R' = cov, upper triangular), stored sparse: most of their entries
    # are exact zeros (~97% in the shipped fit: the parameters of geos without readings are independent a
    # posteriori), so mixing many parts costs little memory or disk. root_index (2, N): row and column of every
    # entry that is nonzero in some part, in row-major order; root_values (H, N): those entries per part.
    root_index: np.ndarray
    root_values: np.ndarray
    break_offsets: tuple[str, ...] = ()
    damping: np.ndarray | None = None          # (H,) yearly damping factor of each mixture part (None: 1)
    damping_weights: np.ndarray | None = None  # posterior weights on dynamics.DAMPING_GRID (damped dynamics)
    # The latent state at each series' last reading (jumpoff.py), per track: the anchor path, then each
    # definition in ``slope_offsets`` (a path of its own). state_mean, state_var (H, G, tracks): deviation from
    # the fitted line per mixture part; state_time (G, tracks): decimal time of the last reading (nan: none).
    state_mean: np.ndarray | None = None
    state_var: np.ndarray | None = None
    state_gain: np.ndarray | None = None       # (H, G, tracks) weight of the readings in state_mean
    state_time: np.ndarray | None = None
    own_speeds: tuple[str, ...] = ()           # slope offsets that are a definition's own speed (model.Layout)
    hyper_names: tuple[str, ...] = ()          # names of the hypers' columns (``hyper_names``)
    # The walk's yearly sd (jumpoff.py): process_sd (H,) each mixture part's, at stratified quantiles of its grid
    # posterior, process_sd_weights (N,) on process_sd_grid (N,) (a typed value: one point of weight 1)
    process_sd: np.ndarray | None = None
    process_sd_grid: np.ndarray | None = None
    process_sd_weights: np.ndarray | None = None

    def obs_sd(self, group: int, draws: int) -> np.ndarray:
        """(draws,) measurement sd of a reading of noise group ``group`` (``design.noise_group_of``); draw i
        uses mixture part i % H, as ``sample``."""
        return self.hypers[np.arange(draws) % len(self.hypers), NOISE_START + group]

    def damping_of_draws(self, draws: int) -> np.ndarray:
        """(draws,) damping factor; draw i uses mixture part i % H, as ``sample``."""
        parts = np.arange(draws) % len(self.hypers)
        return np.ones(draws) if self.damping is None else self.damping[parts]

    @property
    def damping_mean(self) -> float:
        return 1.0 if self.damping_weights is None else float(DAMPING_GRID @ self.damping_weights)

    @property
    def n_params(self) -> int:
        return self.means.shape[1]

    @property
    def roots(self) -> np.ndarray:
        """(H, P, P) the covariances' square roots R (R R' = cov), dense."""
        H, P = self.means.shape
        dense = np.zeros((H, P, P))
        dense[:, self.root_index[0], self.root_index[1]] = self.root_values
        return dense

    def root(self, part: int) -> np.ndarray:
        """(P, P) the square root R of mixture part ``part``'s covariance, dense."""
        P = self.means.shape[1]
        dense = np.zeros((P, P))
        dense[self.root_index[0], self.root_index[1]] = self.root_values[part]
        return dense

    @property
    def layout(self) -> Layout:
        return Layout(len(self.geos), self.offsets, self.slope_offsets, self.break_offsets, self.own_speeds)

    def sample(self, draws: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """level (D, G), slope (D, G), offset and slope offset (D, definitions) with zeros for the anchor, for
        ``draws`` draws; draw i uses mixture part i % H."""
        H, P = self.means.shape
        # the draws as (rounds, part, P), zeros after the last one; each part's R z for its draws in one product,
        # its dense root built for that product only (never all H at once: H x P x P floats)
        rounds = -(-draws // H)
        padded = np.zeros((rounds, H, P))
        rng.standard_normal(out=padded.reshape(rounds * H, P)[:draws])
        beta = np.empty_like(padded)
        for h in range(H):
            np.add(self.means[h], np.matmul(padded[:, h], self.root(h).T), out=beta[:, h])
        return self.layout.split(beta.reshape(rounds * H, P)[:draws])

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mixture mean (P,) and covariance (P, P)."""
        H, P = self.means.shape
        mean = self.means.mean(axis=0)
        side = self.roots.transpose(1, 0, 2).reshape(P, H * P)      # [R_1 ... R_H]: sum_h R_h R_h' in one product
        dev = self.means - mean
        return mean, (side @ side.T + dev.T @ dev) / H


def sparse_roots(roots: np.ndarray) -> dict[str, np.ndarray]:
    """``IndicatorPosterior``'s root_index and root_values of dense square roots ``roots`` (H, P, P): the entries
    nonzero (or -0.0) in some part, so ``IndicatorPosterior.roots`` restores ``roots`` bit for bit."""
    index = np.array(np.nonzero(np.any((roots != 0.0) | np.signbit(roots), axis=0)))
    return {"root_index": index, "root_values": roots[:, index[0], index[1]]}


def _prior_var(design: Design, level_sd: float, slope_sd: float) -> np.ndarray:
    var = design.fixed_var.copy()
    var[design.level_cols] = level_sd ** 2
    var[design.slope_cols] = slope_sd ** 2
    return var


def _gaussian_posterior(design: Design, hyper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact posterior mean and a square root R of the covariance (R R' = cov) given the hyper-parameters."""
    from scipy import linalg  # scipy on use: a run that loads a saved calibration never fits

    var = _prior_var(design, hyper[0], hyper[1])
    xtx, xty, _, _, _ = design.weighted_gram(hyper[NOISE_START:])
    precision = np.diag(1.0 / var) + xtx
    rhs = design.prior_mean / var + xty
    chol_prec = np.linalg.cholesky(precision)                      # precision = L L'
    mean = linalg.cho_solve((chol_prec, True), rhs)
    # cov = (L L')^-1 = L^-T L^-1, so R = L^-T is a square root of it
    inv_l = linalg.solve_triangular(chol_prec, np.eye(len(rhs)), lower=True)
    return mean, inv_l.T


def _log_marginal(design: Design, hyper: np.ndarray) -> float:
    """log N(y; X m0, C) with C = X V0 X' + S (V0 = prior variances, S = diagonal noise variances: the squared
    sd of each reading's noise group), in the P x P parameter space: with
    A = V0^-1 + X'S^-1 X and r = y - X m0, Woodbury gives r'C^-1 r = r'S^-1 r - (X'S^-1 r)' A^-1 (X'S^-1 r) and
    the determinant lemma log|C| = log|S| + log|V0| + log|A|. Exact, and O(P^3) per call."""
    return _log_marginal_gradient(design, hyper, gradient=False)[0]


def _log_marginal_gradient(design: Design, hyper: np.ndarray, gradient: bool = True
                           ) -> tuple[float, np.ndarray | None]:
    """``_log_marginal`` and its gradient (K,) in the log of each hyper-parameter (``hyper_names``), closed
    form: with m = A^-1 X'S^-1 r, for a prior variance v_i (level or slope sd^2, ``d log v_i = 2 d log sd``)
    d/d log sd = sum_i (m_i^2 + (A^-1)_ii) / v_i - 1, and for a noise group g (precision w = 1/sd^2, readings
    n_g, X_g'X_g, X_g'r_g, r_g'r_g) d/d log sd_g = w (r_g'r_g - 2 m'X_g'r_g + m'X_g'X_g m + tr(A^-1 X_g'X_g)) - n_g.
    One Cholesky factor serves both; the gradient adds an inverse of A (O(P^3))."""
    n = len(design.y)
    if n == 0:
        return 0.0, np.zeros(len(hyper))
    from scipy.linalg import lapack  # LAPACK directly: the wrappers' checks cost as much as the 150 x 150 work

    var = _prior_var(design, hyper[0], hyper[1])
    xtx, _, xtr, rtr, log_noise = design.weighted_gram(hyper[NOISE_START:])
    a = xtx.copy()
    a.flat[::len(var) + 1] += 1.0 / var
    chol, info = lapack.dpotrf(a, lower=1, clean=1)                          # A = L L'
    if info:
        raise np.linalg.LinAlgError("the posterior precision is not positive definite")
    u = lapack.dtrtrs(chol, xtr, lower=1)[0]
    quad = rtr - u @ u
    log_det = log_noise + np.log(var).sum() + 2.0 * np.log(np.diag(chol)).sum()
    value = float(-0.5 * quad - 0.5 * log_det - 0.5 * n * np.log(2 * np.pi))
    if not gradient:
        return value, None
    lower = lapack.dpotri(chol, lower=1)[0]                                  # A^-1, lower triangle
    a_inv = lower + np.tril(lower, -1).T
    m = lapack.dtrtrs(chol, u, lower=1, trans=1)[0]                         # A^-1 X'S^-1 r
    per_col = (m ** 2 + np.diag(a_inv)) / var
    grad = np.zeros(len(hyper))
    grad[0] = per_col[design.level_cols].sum() - len(design.level_cols)
    grad[1] = per_col[design.slope_cols].sum() - len(design.slope_cols)
    for g, ((gxx, _, gxr, grr, count), sd) in enumerate(zip(design.gram, hyper[NOISE_START:], strict=True)):
        if count:
            grad[NOISE_START + g] = (grr - 2.0 * m @ gxr + m @ gxx @ m + np.sum(a_inv * gxx)) / sd ** 2 - count
    return value, grad


def _hyper_priors(spec: IndicatorSpec) -> tuple[np.ndarray, np.ndarray]:
    """Log medians and log sds of the hyper-parameters' priors (``hyper_names`` order)."""
    priors = [spec.level_sd, spec.slope_sd] + [spec.obs_sd] * len(noise_groups(spec))
    return np.log([p.median for p in priors]), np.array([p.log_sd for p in priors])


def _free(design: Design, spread: np.ndarray) -> np.ndarray:
    """Hyper-parameters the fit searches: those with a prior spread, except the sd of a noise group without
    readings (the readings do not depend on it: it stays at its prior, ``fit_hypers``)."""
    return (spread > 0) & np.r_[np.ones(NOISE_START, bool), design.counts > 0]


def _objectives(design: Design, centre: np.ndarray, spread: np.ndarray, free: np.ndarray
                ) -> tuple[Callable, Callable]:
    """The negative log posterior of the free log hyper-parameters (log-normal priors ``centre``, ``spread``),
    and the same with its gradient."""

    def neg_log_post(theta_free: np.ndarray) -> float:
        return neg_log_post_gradient(theta_free, gradient=False)[0]

    def neg_log_post_gradient(theta_free: np.ndarray, gradient: bool = True) -> tuple[float, np.ndarray | None]:
        theta = centre.copy()
        theta[free] = theta_free
        z = (theta[free] - centre[free]) / spread[free]
        value, grad = _log_marginal_gradient(design, np.exp(theta), gradient)
        if not gradient:
            return -(value - 0.5 * np.sum(z ** 2)), None
        return -(value - 0.5 * np.sum(z ** 2)), -(grad[free] - z / spread[free])

    return neg_log_post, neg_log_post_gradient


def _search(design: Design, centre: np.ndarray, spread: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The posterior mode of the ``free`` log hyper-parameters."""
    from scipy import optimize

    neg_log_post, neg_log_post_gradient = _objectives(design, centre, spread, free)
    # a coarse simplex search picks the mode's basin as a full one does (the posterior can have two modes with
    # few readings), then quasi-Newton on the closed-form gradient polishes it: ~120 evaluations, not ~330
    coarse = optimize.minimize(neg_log_post, centre[free], method="Nelder-Mead",
                               options={"xatol": COARSE_XATOL, "fatol": COARSE_XATOL, "maxiter": 4000})
    res = optimize.minimize(neg_log_post_gradient, coarse.x, jac=True, method="L-BFGS-B",
                            options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 500})
    return res.x


def hyper_mode(design: Design, spec: IndicatorSpec) -> np.ndarray:
    """The posterior mode of the free log hyper-parameters (those with a prior spread, noise groups with
    readings)."""
    centre, spread = _hyper_priors(spec)
    free = _free(design, spread)
    return _search(design, centre, spread, free) if free.any() else centre[free]


def fit_hypers(design: Design, spec: IndicatorSpec, samples: int, rng: np.random.Generator,
               mode: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mode of the hyper-parameters and ``samples`` Laplace draws around it (log scale), as (K,), (H, K).
    ``mode``: ``hyper_mode`` of the same design and spec when already found (the search is not repeated). The
    sd of a noise group without readings is drawn from its prior (log-normal, antithetic pairs, after the
    Laplace draws): the readings say nothing of it, yet a forecast of such a reading carries its noise."""
    centre, spread = _hyper_priors(spec)
    free = _free(design, spread)
    unseen = (spread > 0) & ~free
    if not free.any():
        thetas = np.tile(centre, (samples, 1))
        thetas[:, unseen] += _antithetic(rng, samples, int(unseen.sum())) * spread[unseen]
        return np.exp(centre), np.exp(thetas)
    neg_log_post, _ = _objectives(design, centre, spread, free)
    mode = hyper_mode(design, spec) if mode is None else mode

    def full(theta_free: np.ndarray) -> np.ndarray:
        theta = centre.copy()
        theta[free] = theta_free
        return theta

    k = len(mode)
    if samples == 1:       # the mode itself: no curvature needed (the stream advances as with a Laplace draw)
        rng.standard_normal((1, k))
        return np.exp(full(mode)), np.exp(full(mode))[None, :]
    h = 1e-3
    hess = np.empty((k, k))
    f0 = neg_log_post(mode)
    for a in range(k):
        for b in range(a, k):
            ea, eb = np.eye(k)[a] * h, np.eye(k)[b] * h
            val = (neg_log_post(mode + ea + eb) - neg_log_post(mode + ea - eb)
                   - neg_log_post(mode - ea + eb) + neg_log_post(mode - ea - eb)) / (4 * h * h) \
                if a != b else (neg_log_post(mode + ea) - 2 * f0 + neg_log_post(mode - ea)) / (h * h)
            hess[a, b] = hess[b, a] = val
    # the posterior of a log-sd is never wider than its prior: floor the curvature at the prior precision
    evals, evecs = np.linalg.eigh(hess)
    evals = np.maximum(evals, (1.0 / spread[free] ** 2).min())
    cov = (evecs / evals) @ evecs.T
    # antithetic pairs around the mode keep the mixture centred (exactly for an even count; a single sample is
    # the mode itself)
    draws = mode + _antithetic(rng, samples, k) @ np.linalg.cholesky(cov).T
    thetas = np.tile(centre, (samples, 1))
    thetas[:, free] = draws
    thetas[:, unseen] += _antithetic(rng, samples, int(unseen.sum())) * spread[unseen]
    return np.exp(full(mode)), np.exp(thetas)


def _antithetic(rng: np.random.Generator, samples: int, k: int) -> np.ndarray:
    """(samples, k) standard normal draws in antithetic pairs (+x, -x); no draw is taken when k = 0."""
    if k == 0:
        return np.zeros((samples, 0))
    half = rng.standard_normal(((samples + 1) // 2, k))
    return np.concatenate([half, -half])[:samples]
