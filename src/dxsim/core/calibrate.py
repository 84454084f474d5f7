"""Partial-pooling calibration of the adoption model, per indicator.

On the law's transformed scale every reading is linear in the parameters,
    y_j = level_nat + d_level_g + (slope_nat + d_slope_g + slope_offset_def) (t_j - t0) + offset_def + e_j,
with Gaussian priors (config) and Gaussian noise. Given the hyper-parameters (pooling sds ``level_sd``,
``slope_sd`` and measurement sd ``obs_sd``) the posterior of the parameters is exactly Gaussian. The
hyper-parameters are set at their posterior mode (marginal likelihood x log-normal priors); their uncertainty
is carried by a Laplace approximation: ``hyper_samples`` hyper draws, each with its own Gaussian posterior,
mixed with equal weight. A geo without readings gets the pooled distribution and is flagged ``pooled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import linalg, optimize, sparse

from dxsim.core.dynamics import DAMPING_GRID, grid_posterior, stratified, warped_time
from dxsim.errors import InputError
from dxsim.inputs.config import CalibrationConfig, IndicatorSpec
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.merged_readings import merged_weights, split_merged, with_merged_readings
from dxsim.inputs.observations import NATIONAL, data_through, known_geos, used_observations

HYPER_NAMES = ("level_sd", "slope_sd", "obs_sd")


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
    hyper_map: np.ndarray      # (3,) level_sd, slope_sd, obs_sd at the mode
    hypers: np.ndarray         # (H, 3) hyper samples
    means: np.ndarray          # (H, P)
    roots: np.ndarray          # (H, P, P) square roots R of the covariances (R R' = cov)
    break_offsets: tuple[str, ...] = ()
    damping: np.ndarray | None = None          # (H,) yearly damping factor of each mixture part (None: 1)
    damping_weights: np.ndarray | None = None  # posterior weights on dynamics.DAMPING_GRID (damped dynamics)

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

    def sample(self, draws: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """level (D, G), slope (D, G), offset and slope offset (D, definitions) with zeros for the anchor, for
        ``draws`` draws; draw i uses mixture part i % H."""
        H, P = self.means.shape
        G = len(self.geos)
        z = rng.standard_normal((draws, P))
        beta = np.empty((draws, P))
        part = np.arange(draws) % H
        for h in range(H):
            rows = part == h
            beta[rows] = self.means[h] + z[rows] @ self.roots[h].T
        level = beta[:, [0]] + np.concatenate([np.zeros((draws, 1)), beta[:, 2:G + 1]], axis=1)
        slope = beta[:, [1]] + np.concatenate([np.zeros((draws, 1)), beta[:, G + 1:2 * G]], axis=1)
        n_off = len(self.offsets)
        offset = np.concatenate([np.zeros((draws, 1)), beta[:, 2 * G:2 * G + n_off]], axis=1)
        slope_offset = np.zeros_like(offset)
        for k, name in enumerate(self.slope_offsets):
            slope_offset[:, 1 + self.offsets.index(name)] = beta[:, 2 * G + n_off + k]
        return level, slope, offset, slope_offset

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mixture mean (P,) and covariance (P, P)."""
        mean = self.means.mean(axis=0)
        covs = np.einsum("hij,hkj->hik", self.roots, self.roots)
        dev = self.means - mean
        return mean, covs.mean(axis=0) + dev.T @ dev / len(dev)


@dataclass(frozen=True)
class Design:
    """The linear model of one indicator's readings."""

    X: np.ndarray | sparse.csr_matrix   # (n, P); sparse from build_design
    y: np.ndarray        # (n,) transformed readings
    prior_mean: np.ndarray
    fixed_var: np.ndarray  # prior variances not governed by hyper-parameters (nan where they are)
    level_cols: np.ndarray
    slope_cols: np.ndarray

    @cached_property
    def gram(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """X'X (P, P), X'y (P,), X'r (P,) and r'r with r = y - X m0: all the fit needs from the readings, so its
        cost per hyper-parameter step does not grow with their number."""
        resid = self.y - self.X @ self.prior_mean
        xt = sparse.csr_matrix(self.X).T        # a reading touches a few of the P columns: O(n) products
        return (xt @ xt.T).toarray(), xt @ self.y, xt @ resid, float(resid @ resid)


def transform_readings(spec: IndicatorSpec, definition: np.ndarray, value: np.ndarray,
                       clip: tuple[float, float]) -> np.ndarray:
    """Percent readings -> the law's transformed scale, each over its definition's ceiling."""
    ceilings = {d.name: d.ceiling for d in spec.definitions}
    ceiling = np.array([ceilings[d] for d in definition], dtype=float)
    fraction = np.clip(value / ceiling, clip[0], clip[1])
    return spec.law.to_linear(fraction)


def break_definitions(spec: IndicatorSpec) -> list[str]:
    """Definitions with a method break, in parameter order."""
    return [d.name for d in spec.definitions[1:] if d.break_year is not None]


def design_matrix(spec: IndicatorSpec, geos: tuple[str, ...], points: pd.DataFrame, t0: float,
                  aggregates: tuple[str, ...] = (), damping: float = 1.0) -> np.ndarray:
    """Rows of the linear predictor for ``points`` (columns geo, definition, time, and year): X @ beta is z
    there. A province's reading of a definition with a pooling ``centre`` is a reading of that aggregate (the
    few such readings inform the centre; a province's own deviation from it is drawn from the pooled
    distribution, ``Calibrator.sample``); ``vietnam`` and the ``aggregates`` are not provinces."""
    G = len(geos)
    offsets = [d.name for d in spec.definitions[1:]]
    slope_offsets = [d.name for d in spec.definitions[1:] if d.slope_offset is not None]
    breaks = break_definitions(spec)
    n_off, n_slope = len(offsets), len(slope_offsets)
    gi = {g: i for i, g in enumerate(geos)}
    centre = {d.name: gi[d.centre] for d in spec.definitions[1:] if d.centre}
    not_province = {NATIONAL, *aggregates}
    X = np.zeros((len(points), 2 * G + n_off + n_slope + len(breaks)))
    dt = points["time"].to_numpy(float) - t0
    # a point's year: its ``year`` column, else from its time (year + month/12, month 1-12)
    years = points["year"].to_numpy() if "year" in points else np.ceil(points["time"].to_numpy(float)) - 1
    X[:, 0] = 1.0
    X[:, 1] = dt
    pairs = pd.DataFrame({"geo": points["geo"].to_numpy(object), "dfn": points["definition"].to_numpy(object)})
    for (geo, dfn), rows in pairs.groupby(["geo", "dfn"], sort=False).indices.items():   # few pairs, many rows
        g = centre[dfn] if dfn in centre and geo not in not_province else gi[geo]
        if g > 0:
            X[rows, 1 + g] = 1.0
            X[rows, G + g] = dt[rows]
        if dfn != spec.anchor:
            X[rows, 2 * G + offsets.index(dfn)] = 1.0
        if dfn in slope_offsets:
            X[rows, 2 * G + n_off + slope_offsets.index(dfn)] = dt[rows]
        if dfn in breaks:
            X[rows[years[rows] < spec.definition(dfn).break_year], 2 * G + n_off + n_slope + breaks.index(dfn)] = 1.0
    if damping != 1.0:      # a damped slope: the slope columns carry warped time (dynamics.warped_time)
        cols = np.r_[1, G + 1:2 * G, 2 * G + n_off:2 * G + n_off + n_slope]
        X[:, cols] = np.where(X[:, cols] != 0, warped_time(dt, damping)[:, None], 0.0)
    return X


def build_design(spec: IndicatorSpec, geos: tuple[str, ...], obs: pd.DataFrame, t0: float,
                 clip: tuple[float, float], aggregates: tuple[str, ...] = (), damping: float = 1.0) -> Design:
    G = len(geos)
    offsets = [d.name for d in spec.definitions[1:]]
    slope_offsets = [d.name for d in spec.definitions[1:] if d.slope_offset is not None]
    n_off = len(offsets)
    X = sparse.csr_matrix(design_matrix(spec, geos, obs, t0, aggregates, damping))   # kept small: a grid of designs
    P = X.shape[1]
    y = transform_readings(spec, obs["definition"].to_numpy(), obs["value"].to_numpy(float), clip)
    prior_mean = np.zeros(P)
    fixed_var = np.full(P, np.nan)
    prior_mean[0], fixed_var[0] = spec.level_prior.mean, spec.level_prior.sd ** 2
    prior_mean[1], fixed_var[1] = spec.slope_prior.mean, spec.slope_prior.sd ** 2
    for k, dname in enumerate(offsets):
        prior = spec.definition(dname).offset
        prior_mean[2 * G + k], fixed_var[2 * G + k] = prior.mean, prior.sd ** 2
    for k, dname in enumerate(slope_offsets):
        prior = spec.definition(dname).slope_offset
        prior_mean[2 * G + n_off + k], fixed_var[2 * G + n_off + k] = prior.mean, prior.sd ** 2
    for k, dname in enumerate(break_definitions(spec)):
        prior, col = spec.definition(dname).break_offset, 2 * G + n_off + len(slope_offsets) + k
        prior_mean[col], fixed_var[col] = prior.mean, prior.sd ** 2
    return Design(X, y, prior_mean, fixed_var, np.arange(2, G + 1), np.arange(G + 1, 2 * G))


def _prior_var(design: Design, level_sd: float, slope_sd: float) -> np.ndarray:
    var = design.fixed_var.copy()
    var[design.level_cols] = level_sd ** 2
    var[design.slope_cols] = slope_sd ** 2
    return var


def _gaussian_posterior(design: Design, hyper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact posterior mean and a square root R of the covariance (R R' = cov) given the hyper-parameters."""
    var = _prior_var(design, hyper[0], hyper[1])
    xtx, xty, _, _ = design.gram
    precision = np.diag(1.0 / var) + xtx / hyper[2] ** 2
    rhs = design.prior_mean / var + xty / hyper[2] ** 2
    chol_prec = np.linalg.cholesky(precision)                      # precision = L L'
    mean = linalg.cho_solve((chol_prec, True), rhs)
    # cov = (L L')^-1 = L^-T L^-1, so R = L^-T is a square root of it
    inv_l = linalg.solve_triangular(chol_prec, np.eye(len(rhs)), lower=True)
    return mean, inv_l.T


def _log_marginal(design: Design, hyper: np.ndarray) -> float:
    """log N(y; X m0, C) with C = X V0 X' + s^2 I (V0 = prior variances, s = obs_sd), in the P x P parameter
    space: with A = V0^-1 + X'X / s^2 and r = y - X m0, Woodbury gives r'C^-1 r = r'r / s^2 - (X'r)' A^-1 (X'r)
    / s^4 and the determinant lemma log|C| = n log s^2 + log|V0| + log|A|. Exact, and O(P^3) per call."""
    n = len(design.y)
    if n == 0:
        return 0.0
    var = _prior_var(design, hyper[0], hyper[1])
    s2 = hyper[2] ** 2
    xtx, _, xtr, rtr = design.gram
    chol = np.linalg.cholesky(np.diag(1.0 / var) + xtx / s2)                  # A = L L'
    u = linalg.solve_triangular(chol, xtr / s2, lower=True)
    quad = rtr / s2 - u @ u
    log_det = n * np.log(s2) + np.log(var).sum() + 2.0 * np.log(np.diag(chol)).sum()
    return float(-0.5 * quad - 0.5 * log_det - 0.5 * n * np.log(2 * np.pi))


def _hyper_priors(spec: IndicatorSpec) -> tuple[np.ndarray, np.ndarray]:
    priors = [spec.level_sd, spec.slope_sd, spec.obs_sd]
    return np.log([p.median for p in priors]), np.array([p.log_sd for p in priors])


def fit_hypers(design: Design, spec: IndicatorSpec, samples: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """Mode of the hyper-parameters and ``samples`` Laplace draws around it (log scale), as (3,), (H, 3)."""
    centre, spread = _hyper_priors(spec)
    free = spread > 0

    def full(theta_free: np.ndarray) -> np.ndarray:
        theta = centre.copy()
        theta[free] = theta_free
        return theta

    def neg_log_post(theta_free: np.ndarray) -> float:
        theta = full(theta_free)
        prior = -0.5 * np.sum(((theta[free] - centre[free]) / spread[free]) ** 2)
        return -(_log_marginal(design, np.exp(theta)) + prior)

    if not free.any():
        return np.exp(centre), np.tile(np.exp(centre), (samples, 1))
    start = centre[free]
    res = optimize.minimize(neg_log_post, start, method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
    mode = res.x
    k = len(mode)
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
    half = rng.standard_normal(((samples + 1) // 2, k)) @ np.linalg.cholesky(cov).T
    draws = mode + np.concatenate([half, -half])[:samples] if samples > 1 else mode[None, :]
    thetas = np.tile(centre, (samples, 1))
    thetas[:, free] = draws
    return np.exp(full(mode)), np.exp(thetas)


class Calibrator:
    """Fits every modelled indicator: ``Calibrator(config).fit(observations) -> self``.

    Learned attributes: ``posteriors_`` (indicator -> IndicatorPosterior), ``jump_off_year_`` (the last year
    with data, or ``as_of``), ``data_through_`` (the last year per indicator and series, ``DataThrough``),
    ``observations_`` (the readings used), ``geos_``."""

    def __init__(self, config: CalibrationConfig) -> None:
        self.config = config

    def fit(self, observations: pd.DataFrame, as_of: int | None = None) -> Calibrator:
        cfg = self.config
        latest = data_through(cfg, used_observations(observations)).year
        if as_of is not None and not cfg.first_year - 5 <= as_of <= latest:
            raise InputError("command line", "--as-of", f"must be a year from {cfg.first_year - 5} to the "
                             f"last year with data {latest}, got {as_of}")
        used = used_observations(observations, as_of)
        self.data_through_ = data_through(cfg, used, as_of)
        self.jump_off_year_ = self.data_through_.year
        self.geos_ = known_geos(cfg)
        self.observations_ = used
        rng = np.random.default_rng(cfg.seed)
        posteriors = {}
        for spec in cfg.indicators:
            obs = used[used["indicator"] == spec.name]
            t0 = cfg.reference_year + spec.reading_month / 12.0
            obs, merged = split_merged(obs, load_geomap(cfg))          # merged provinces: merged_readings.py
            design = self._design(spec, obs, merged, t0)
            damping = weights = None
            if spec.damped and len(obs):
                designs, damping, weights, hyper_map, hypers = self._fit_damping(spec, obs, merged, t0, design, rng)
                parts = [_gaussian_posterior(designs[d], h) for d, h in zip(damping, hypers, strict=True)]
            else:
                hyper_map, hypers = fit_hypers(design, spec, cfg.hyper_samples, rng)
                parts = [_gaussian_posterior(design, h) for h in hypers]
            posteriors[spec.name] = IndicatorPosterior(
                indicator=spec.name, geos=self.geos_, offsets=tuple(d.name for d in spec.definitions[1:]),
                slope_offsets=tuple(d.name for d in spec.definitions[1:] if d.slope_offset is not None),
                t0=t0, hyper_map=hyper_map, hypers=hypers,
                means=np.stack([m for m, _ in parts]), roots=np.stack([r for _, r in parts]),
                break_offsets=tuple(break_definitions(spec)), damping=damping, damping_weights=weights)
        self.posteriors_ = posteriors
        return self

    def _design(self, spec: IndicatorSpec, obs: pd.DataFrame, merged: pd.DataFrame, t0: float,
                damping: float = 1.0) -> Design:
        """The design of the readings of model geos, plus those of merged provinces (merged_readings.py)."""
        cfg = self.config
        design = build_design(spec, self.geos_, obs, t0, cfg.share_clip, cfg.aggregates, damping)
        if len(merged):
            design = with_merged_readings(design, spec, self.geos_, merged, t0, cfg.share_clip,
                                          merged_weights(cfg, spec, merged), cfg.aggregates, damping)
        return design

    def _fit_damping(self, spec: IndicatorSpec, obs: pd.DataFrame, merged: pd.DataFrame, t0: float,
                     undamped: Design, rng: np.random.Generator
                     ) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Damped dynamics: the damping's grid posterior (marginal likelihood at the hyper-parameters' mode,
        found first without damping, then again at the damping's mode), the hyper-parameters at that mode, and
        per mixture part a damping at stratified quantiles of the grid posterior."""
        cfg = self.config
        designs = {float(phi): self._design(spec, obs, merged, t0, float(phi)) for phi in DAMPING_GRID}
        designs[1.0] = undamped
        first, _ = fit_hypers(undamped, spec, 1, np.random.default_rng(0))   # a pilot: its random draw is unused
        weights = grid_posterior([_log_marginal(designs[float(phi)], first) for phi in DAMPING_GRID])
        mode = float(DAMPING_GRID[np.argmax(weights)])
        hyper_map, hypers = fit_hypers(designs[mode], spec, cfg.hyper_samples, rng)
        weights = grid_posterior([_log_marginal(designs[float(phi)], hyper_map) for phi in DAMPING_GRID])
        damping = stratified(DAMPING_GRID, weights, len(hypers)).astype(float)
        return designs, damping, weights, hyper_map, hypers

    def sample(self, draws: int, rng: np.random.Generator) -> ParameterDraws:
        """Joint parameter draws for all indicators (axes: draw, geo, indicator)."""
        cfg = self.config
        levels, slopes, offsets, slope_offsets = [], [], [], []
        for spec in cfg.indicators:
            level, slope, off, slope_off = self.posteriors_[spec.name].sample(draws, rng)
            levels.append(level)
            slopes.append(slope)
            offsets.append(off)
            slope_offsets.append(slope_off)
        elasticity = np.stack([
            spec.elasticity.median * np.exp(spec.elasticity.log_sd * rng.standard_normal(draws))
            for spec in cfg.indicators], axis=1)
        cross = cfg.cross_elasticity
        cross_elasticity = cross.median * np.exp(cross.log_sd * rng.standard_normal(draws))
        # A definition pooled towards an aggregate: each province's own deviation from it, level and slope, from
        # the pooled distribution (sds of the draw's mixture part); no province has readings of it to fit one.
        series = tuple(cfg.series())
        centred = tuple(k for k, (i, d) in enumerate(series) if cfg.indicator(i).definition(d).centre)
        deviation = np.zeros((draws, len(self.geos_), len(centred), 2))
        for j, k in enumerate(centred):
            hypers = self.posteriors_[series[k][0]].hypers
            sd = hypers[np.arange(draws) % len(hypers), :2]                          # (D, 2) level_sd, slope_sd
            deviation[:, :, j] = rng.standard_normal((draws, len(self.geos_), 2)) * sd[:, None, :]
        damping = np.stack([self.posteriors_[spec.name].damping_of_draws(draws) for spec in cfg.indicators], axis=1)
        # a stochastic slope's yearly shock sd, per draw from its stated log-normal prior (0: constant slope)
        shock = [spec.slope_shock_sd for spec in cfg.indicators]
        slope_shock_sd = np.stack([np.zeros(draws) if p is None else
                                   p.median * np.exp(p.log_sd * rng.standard_normal(draws)) for p in shock], axis=1)
        return ParameterDraws(
            geos=self.geos_, indicators=cfg.indicator_names, series=series,
            level=np.stack(levels, axis=2), slope=np.stack(slopes, axis=2),
            offset=np.concatenate(offsets, axis=1), slope_offset=np.concatenate(slope_offsets, axis=1),
            elasticity=elasticity, cross_elasticity=cross_elasticity, centred_series=centred,
            centre_deviation=deviation, damping=damping, slope_shock_sd=slope_shock_sd)

    # ---- tables for economists -------------------------------------------------------------------------
    def fit_table(self) -> pd.DataFrame:
        """Per geo x indicator: readings used, pooled or not, RMS residual (pp) and posterior mean at jump-off."""
        rows = []
        cfg = self.config
        for spec in cfg.indicators:
            post = self.posteriors_[spec.name]
            mean, _ = post.moments()
            phi = post.damping_mean
            G = len(post.geos)
            obs = split_merged(self.observations_[self.observations_["indicator"] == spec.name],
                               load_geomap(cfg))[0]
            fitted = _percent(spec, obs["definition"],
                              design_matrix(spec, post.geos, obs, post.t0, cfg.aggregates, phi) @ mean)
            jump_off = pd.DataFrame({"geo": post.geos, "definition": spec.anchor,
                                     "time": self.jump_off_year_ + spec.reading_month / 12.0})
            at_jump_off = _percent(spec, jump_off["definition"],
                                   design_matrix(spec, post.geos, jump_off, post.t0, cfg.aggregates, phi) @ mean)
            for g, geo in enumerate(post.geos):
                mine = obs["geo"].to_numpy() == geo
                if not mine.any() and geo not in _REPORTED_GEOS:
                    continue
                slope = mean[1] + (mean[G + g] if g else 0.0)
                resid = obs["value"].to_numpy(float)[mine] - fitted[mine]
                rows.append({
                    "indicator": spec.name, "geo": geo, "n_observations": int(mine.sum()),
                    "definitions_observed": ";".join(sorted(set(obs["definition"][mine]))),
                    "pooled": bool(not mine.any()),
                    "rms_residual_pp": float(np.sqrt(np.mean(resid ** 2))) if mine.any() else np.nan,
                    "slope_per_year": slope,
                    f"{spec.anchor}_at_jump_off": at_jump_off[g],
                })
        return pd.DataFrame(rows)

    def parameter_table(self) -> pd.DataFrame:
        """Posterior summaries: national level/slope, offsets, hyper-parameters, per-geo deviations."""
        rows = []
        for spec in self.config.indicators:
            post = self.posteriors_[spec.name]
            mean, cov = post.moments()
            sd = np.sqrt(np.diag(cov))
            names = ([("level", NATIONAL, ""), ("slope", NATIONAL, "")]
                     + [("level_deviation", g, "") for g in post.geos[1:]]
                     + [("slope_deviation", g, "") for g in post.geos[1:]]
                     + [("definition_offset", "", d) for d in post.offsets]
                     + [("definition_slope_offset", "", d) for d in post.slope_offsets]
                     + [("definition_break_offset", "", d) for d in post.break_offsets])
            n_obs = self.observations_[self.observations_["indicator"] == spec.name]["geo"].value_counts()
            for k, (param, geo, dfn) in enumerate(names):
                pooled = bool(geo and geo != NATIONAL and n_obs.get(geo, 0) == 0)
                if pooled and geo not in _REPORTED_GEOS:
                    continue
                rows.append({"indicator": spec.name, "parameter": param, "geo": geo, "definition": dfn,
                             "mean": mean[k], "sd": sd[k], "q05": mean[k] - 1.645 * sd[k],
                             "q95": mean[k] + 1.645 * sd[k], "pooled": pooled, "scale": spec.law.name})
            if post.damping_weights is not None:
                w, phi = post.damping_weights, DAMPING_GRID
                cdf = np.cumsum(w)
                sd = float(np.sqrt(w @ (phi - post.damping_mean) ** 2))
                rows.append({"indicator": spec.name, "parameter": "damping", "geo": "", "definition": "",
                             "mean": post.damping_mean, "sd": sd, "q05": float(phi[np.searchsorted(cdf, 0.05)]),
                             "q95": float(phi[min(np.searchsorted(cdf, 0.95), len(phi) - 1)]), "pooled": False,
                             "scale": "per year"})
            for name, value, samples in zip(HYPER_NAMES, post.hyper_map, post.hypers.T, strict=True):
                rows.append({"indicator": spec.name, "parameter": name, "geo": "", "definition": "",
                             "mean": value, "sd": float(np.std(samples)), "q05": float(np.quantile(samples, 0.05)),
                             "q95": float(np.quantile(samples, 0.95)), "pooled": False, "scale": spec.law.name})
        return pd.DataFrame(rows)


_REPORTED_GEOS = ("long_an", "lang_son", "hau_giang", "tra_vinh", NATIONAL)


def _percent(spec: IndicatorSpec, definitions: pd.Series, z: np.ndarray) -> np.ndarray:
    """Transformed-scale values -> percent, each over its definition's ceiling."""
    ceilings = np.array([spec.definition(d).ceiling for d in definitions])
    return ceilings * spec.law.to_fraction(z)


@dataclass(frozen=True)
class ParameterDraws:
    """Posterior/prior draws for the ensemble. level, slope: (draw, geo, indicator) on the transformed scale;
    offset, slope_offset: (draw, series) with zeros for anchors; elasticity: (draw, indicator);
    cross_elasticity: (draw,)."""

    geos: tuple[str, ...]
    indicators: tuple[str, ...]
    series: tuple[tuple[str, str], ...]
    level: np.ndarray
    slope: np.ndarray
    offset: np.ndarray
    slope_offset: np.ndarray
    elasticity: np.ndarray
    cross_elasticity: np.ndarray
    centred_series: tuple[int, ...] = ()         # series pooled towards an aggregate (a definition's centre)
    centre_deviation: np.ndarray | None = None   # (draw, geo, centred series, level/slope): a province's own
    damping: np.ndarray | None = None            # (draw, indicator) yearly damping of the slope (1: none)
    slope_shock_sd: np.ndarray | None = None     # (draw, indicator) yearly sd of slope shocks (0: none)

    def to_npz_dict(self) -> dict[str, np.ndarray]:
        """Plain arrays for ``numpy.savez`` (no pickled objects)."""
        out = {"geos": np.array(self.geos), "indicators": np.array(self.indicators),
               "series": np.array([f"{i}:{d}" for i, d in self.series]), "level": self.level,
               "slope": self.slope, "offset": self.offset, "slope_offset": self.slope_offset,
               "elasticity": self.elasticity, "cross_elasticity": self.cross_elasticity}
        if self.centred_series:
            out["centre_deviation"] = self.centre_deviation
        for name in ("damping", "slope_shock_sd"):    # only when some indicator's dynamics use them
            value = getattr(self, name)
            if value is not None and np.any(value != (1.0 if name == "damping" else 0.0)):
                out[name] = value
        return out
