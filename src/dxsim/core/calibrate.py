"""Partial-pooling calibration of the adoption model, per indicator.

On the law's transformed scale every reading is linear in the parameters (``design.py``),
    y_j = level_nat + d_level_g + (slope_nat + d_slope_g + slope_offset_def) (t_j - t0) + offset_def + e_j,
with Gaussian priors (config) and Gaussian noise; the posterior is a Gaussian mixture over hyper-parameter
samples (``posterior.py``). A geo without readings gets the pooled distribution and is flagged ``pooled``.
A projection starts from the latent state at each series' last reading (``jumpoff.py``), not from the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim.core import fit_tables
from dxsim.core.design import Design, break_definitions, build_design, own_speed_definitions, warped
from dxsim.core.dynamics import DAMPING_GRID, grid_posterior, stratified
from dxsim.core.jumpoff import at_grid_edge, filter_states, sample_shift, walk_covariance, walk_sd_posterior
from dxsim.core.merged_readings import merged_weights, split_merged, with_merged_readings
from dxsim.core.model import path_z
from dxsim.core.posterior import (
    NOISE_START,
    IndicatorPosterior,
    _gaussian_posterior,
    _log_marginal,
    _prior_var,
    fit_hypers,
    hyper_mode,
    hyper_names,
    sparse_roots,
)
from dxsim.core.streams import named_stream
from dxsim.errors import ArgumentError
from dxsim.inputs.config import CalibrationConfig, IndicatorSpec
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.observations import NATIONAL, data_through, known_geos, used_observations
from dxsim.inputs.stream_keys import CROSS_ELASTICITY_STREAM, stream_key


def indicator_rng(seed: int, name: str) -> np.random.Generator:
    """The fit's random stream of one indicator: from the config's seed and the indicator's name
    (``streams.stream_key``), so its hyper-parameter samples do not depend on the other indicators' settings,
    readings or order in the config. Seeded as ``SeedSequence([seed, key])``, not ``streams.named_stream``: see
    that module for why."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream_key(name)]))


class Calibrator:
    """Fits every modelled indicator: ``Calibrator(config).fit(observations) -> self``.

    Learned attributes: ``posteriors_`` (indicator -> IndicatorPosterior), ``jump_off_year_`` (the last year
    with data, or ``as_of``), ``data_through_`` (the last year per indicator and series, ``DataThrough``),
    ``observations_`` (the readings used), ``geos_``, ``restored_from_`` (the saved calibration the posteriors
    were loaded from, ``restore``; None when fitted here)."""

    def __init__(self, config: CalibrationConfig) -> None:
        self.config = config

    def fit(self, observations: pd.DataFrame, as_of: int | None = None) -> Calibrator:
        cfg = self.config
        used = self._readings(observations, as_of)
        self.restored_from_: Path | None = None
        self.fit_table_: pd.DataFrame | None = None
        posteriors = {}
        for spec in cfg.indicators:
            rng = indicator_rng(cfg.seed, spec.name)
            obs = used[used["indicator"] == spec.name]
            t0 = cfg.reference_year + spec.reading_month / 12.0
            obs, merged = split_merged(obs, load_geomap(cfg))          # merged provinces: merged_readings.py
            plain = build_design(spec, self.geos_, obs, t0, cfg.share_clip, cfg.aggregates,
                                 stated_aggregates=cfg.aggregate_deviation == "stated")
            design = self._design(spec, obs, merged, t0, plain)
            damping = weights = None
            if spec.damped and len(obs):
                designs, damping, weights, hyper_map, hypers = self._fit_damping(spec, obs, merged, t0, plain, design,
                                                                                 rng)
                part_designs = [designs[d] for d in damping]
                design = designs[float(DAMPING_GRID[np.argmax(weights)])]         # at the damping's mode
            else:
                hyper_map, hypers = fit_hypers(design, spec, cfg.hyper_samples, rng)
                part_designs = [design] * len(hypers)
            parts = [_gaussian_posterior(d, h) for d, h in zip(part_designs, hypers, strict=True)]
            walk_grid, walk_weights = self._fit_walk_sd(spec, obs, design, hyper_map)
            process_sd = self._walk_parts(walk_grid, walk_weights, len(hypers), rng)
            states = self._states(spec, obs, part_designs, hypers, [m for m, _ in parts], process_sd)
            posteriors[spec.name] = IndicatorPosterior(
                indicator=spec.name, geos=self.geos_, offsets=tuple(d.name for d in spec.definitions[1:]),
                slope_offsets=tuple(d.name for d in spec.definitions[1:] if d.slope_offset is not None),
                t0=t0, hyper_map=hyper_map, hypers=hypers,
                means=np.stack([m for m, _ in parts]), **sparse_roots(np.stack([r for _, r in parts])),
                break_offsets=tuple(break_definitions(spec)), damping=damping, damping_weights=weights,
                own_speeds=own_speed_definitions(spec), hyper_names=hyper_names(spec), process_sd=process_sd,
                process_sd_grid=walk_grid, process_sd_weights=walk_weights, **states)
        self.posteriors_ = posteriors
        return self

    def restore(self, observations: pd.DataFrame, posteriors: dict[str, IndicatorPosterior],
                as_of: int | None = None, source: Path | None = None,
                fit_table: pd.DataFrame | None = None) -> Calibrator:
        """This calibrator as ``fit(observations, as_of)`` would leave it, with posteriors (and optionally the
        ``fit_table()``) fitted before on the same inputs and saved in ``source`` (``saved_calibration.py``)."""
        self._readings(observations, as_of)
        self.posteriors_ = {spec.name: posteriors[spec.name] for spec in self.config.indicators}
        self.fit_table_ = fit_table
        self.restored_from_ = source
        return self

    def _readings(self, observations: pd.DataFrame, as_of: int | None) -> pd.DataFrame:
        """Set the readings used (up to ``as_of``), where the data end and the geos; return the readings."""
        cfg = self.config
        every = used_observations(observations)
        through = data_through(cfg, every)
        latest = through.year
        if as_of is not None and not cfg.first_year - 5 <= as_of <= latest:
            raise ArgumentError("as_of", f"must be a year from {cfg.first_year - 5} to the "
                             f"last year with data {latest}, got {as_of}")
        used = every if as_of is None else used_observations(observations, as_of)
        self.data_through_ = through if as_of is None else data_through(cfg, used, as_of)
        self.jump_off_year_ = self.data_through_.year
        self.geos_ = known_geos(cfg)
        self.observations_ = used
        return used

    def _design(self, spec: IndicatorSpec, obs: pd.DataFrame, merged: pd.DataFrame, t0: float, plain: Design,
                damping: float = 1.0) -> Design:
        """The design of the readings of model geos (``plain``: built undamped, warped here), plus those of merged
        provinces (merged_readings.py)."""
        cfg = self.config
        design = warped(plain, spec, len(self.geos_), obs, t0, damping)
        if len(merged):
            design = with_merged_readings(design, spec, self.geos_, merged, t0, cfg.share_clip,
                                          merged_weights(cfg, spec, merged), cfg.aggregates, damping)
        return design

    def _series(self, spec: IndicatorSpec, obs: pd.DataFrame) -> tuple[np.ndarray, int]:
        """(n,) the series id of each reading of the model geos, geo x track (the anchor path, then each
        definition with a path of its own), and the number of tracks."""
        tracks = [d.name for d in spec.definitions[1:] if d.slope_offset is not None]
        T = 1 + len(tracks)
        gi = {g: i for i, g in enumerate(self.geos_)}
        track = np.array([1 + tracks.index(d) if d in tracks else 0 for d in obs["definition"]], dtype=int)
        return np.array([gi[g] for g in obs["geo"]], dtype=int) * T + track, T

    def _fit_walk_sd(self, spec: IndicatorSpec, obs: pd.DataFrame, design: Design, hyper: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """The walk's yearly sd on a grid and its posterior weights there: ``spec.process_sd`` as typed (one
        point), or with a prior (``process_sd_prior``) its grid posterior given the readings
        (``jumpoff.walk_sd_posterior``; the prior without readings): their marginal likelihood with parameters and
        noise at ``design`` and ``hyper`` (the hyper-parameters' and the damping's mode) plus the walk of each
        model geo's series (the readings of merged provinces carry none, as in ``_states``)."""
        prior = spec.process_sd_prior
        if prior is None:
            return np.array([spec.process_sd]), np.ones(1)
        if not len(obs):
            return walk_sd_posterior(np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0)), prior.median, prior.log_sd)
        X = design.X.toarray() if hasattr(design.X, "toarray") else np.asarray(design.X)
        base = (X * _prior_var(design, hyper[0], hyper[1])) @ X.T
        base.flat[::len(base) + 1] += hyper[NOISE_START + design.noise] ** 2
        n = len(obs)
        walk = np.zeros_like(base)
        walk[:n, :n] = walk_covariance(self._series(spec, obs)[0], obs["time"].to_numpy(float))
        return walk_sd_posterior(design.y - X @ design.prior_mean, base, walk, prior.median, prior.log_sd)

    @staticmethod
    def _walk_parts(grid: np.ndarray, weights: np.ndarray, parts: int, rng: np.random.Generator) -> np.ndarray:
        """(H,) the walk's yearly sd of each mixture part: at stratified quantiles of its grid posterior, in an
        order drawn from the indicator's stream (after its hyper-parameter samples), so that they are paired with
        the parts' damping (stratified in increasing order) and hyper-parameters at random (a Latin hypercube),
        not rank for rank. A typed value: every part's."""
        if len(grid) == 1:
            return np.full(parts, float(grid[0]))
        return rng.permutation(stratified(grid, weights, parts).astype(float))

    def _states(self, spec: IndicatorSpec, obs: pd.DataFrame, designs: list[Design], hypers: np.ndarray,
                means: list[np.ndarray], process_sd: np.ndarray) -> dict[str, np.ndarray]:
        """The latent state at each (geo, track)'s last reading per mixture part (``jumpoff.filter_states`` on
        the residuals of the model geos' readings from the part's fitted line, the walk's yearly sd of the part,
        ``process_sd`` (H,)): IndicatorPosterior's state_*."""
        series, T = self._series(spec, obs)
        G, n = len(self.geos_), len(obs)
        time = obs["time"].to_numpy(float)
        mean, var, gain = (np.zeros((len(hypers), G * T)) for _ in range(3))
        last = np.full(G * T, np.nan)
        for h, (design, m) in enumerate(zip(designs, means, strict=True)):
            resid = design.y[:n] - design.X[:n] @ m
            obs_var = hypers[h, NOISE_START + design.noise[:n]] ** 2          # each reading's noise group
            q = process_sd[h] ** 2
            st = filter_states(series, time, resid, G * T, obs_var, q, q)
            mean[h], var[h], gain[h], last = st.mean, st.var, st.gain, st.time
        return {"state_mean": mean.reshape(-1, G, T), "state_var": var.reshape(-1, G, T),
                "state_gain": gain.reshape(-1, G, T), "state_time": last.reshape(G, T)}

    def _fit_damping(self, spec: IndicatorSpec, obs: pd.DataFrame, merged: pd.DataFrame, t0: float,
                     plain: Design, undamped: Design, rng: np.random.Generator
                     ) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Damped dynamics: the damping's grid posterior (marginal likelihood at the hyper-parameters' mode,
        found first without damping, then again at the damping's mode), the hyper-parameters at that mode, and
        per mixture part a damping at stratified quantiles of the grid posterior."""
        cfg = self.config
        designs = {float(phi): self._design(spec, obs, merged, t0, plain, float(phi)) for phi in DAMPING_GRID}
        designs[1.0] = undamped
        pilot = hyper_mode(undamped, spec)
        first, _ = fit_hypers(undamped, spec, 1, np.random.default_rng(0), pilot)   # its random draw is unused
        weights = grid_posterior([_log_marginal(designs[float(phi)], first) for phi in DAMPING_GRID])
        mode = float(DAMPING_GRID[np.argmax(weights)])
        # no damping at the mode: the pilot's design, whose hyper-parameters' mode is found already
        hyper_map, hypers = fit_hypers(designs[mode], spec, cfg.hyper_samples, rng, pilot if mode == 1.0 else None)
        weights = grid_posterior([_log_marginal(designs[float(phi)], hyper_map) for phi in DAMPING_GRID])
        damping = stratified(DAMPING_GRID, weights, len(hypers)).astype(float)
        return designs, damping, weights, hyper_map, hypers

    def sample(self, draws: int, seed: np.random.SeedSequence | int) -> ParameterDraws:
        """Joint parameter draws for all indicators (axes: draw, geo, indicator). Each indicator's draws (its
        parameters, jump-off shifts, elasticity, pooled deviations, slope-shock sd) come from a stream of its own,
        ``streams.named_stream(seed, name)``, so they do not depend on the other indicators' definitions or on
        their order in the config; the cross elasticity has one of its own."""
        cfg = self.config
        rngs = {spec.name: np.random.default_rng(named_stream(seed, spec.name)) for spec in cfg.indicators}
        levels, slopes, offsets, slope_offsets = [], [], [], []
        for spec in cfg.indicators:
            level, slope, off, slope_off = self.posteriors_[spec.name].sample(draws, rngs[spec.name])
            levels.append(level)
            slopes.append(slope)
            offsets.append(off)
            slope_offsets.append(slope_off)
        # the jump-off state, before the draws whose number depends on the dynamics' settings
        jump_shift = self._jump_shift(draws, rngs, levels, slopes, offsets, slope_offsets)
        elasticity = np.stack([
            spec.elasticity.median * np.exp(spec.elasticity.log_sd * rngs[spec.name].standard_normal(draws))
            for spec in cfg.indicators], axis=1)
        cross = cfg.cross_elasticity
        cross_rng = np.random.default_rng(named_stream(seed, CROSS_ELASTICITY_STREAM))
        cross_elasticity = cross.median * np.exp(cross.log_sd * cross_rng.standard_normal(draws))
        # A definition pooled towards an aggregate: each province's own deviation from it, level and slope, from
        # the pooled distribution (sds of the draw's mixture part); no province has readings of it to fit one.
        series = tuple(cfg.series())
        centred = tuple(k for k, (i, d) in enumerate(series) if cfg.indicator(i).definition(d).centre)
        deviation = np.zeros((draws, len(self.geos_), len(centred), 2))
        for j, k in enumerate(centred):
            hypers = self.posteriors_[series[k][0]].hypers
            sd = hypers[np.arange(draws) % len(hypers), :2]                          # (D, 2) level_sd, slope_sd
            deviation[:, :, j] = (rngs[series[k][0]].standard_normal((draws, len(self.geos_), 2))
                                  * sd[:, None, :])
        damping = np.stack([self.posteriors_[spec.name].damping_of_draws(draws) for spec in cfg.indicators], axis=1)
        # a stochastic slope's yearly shock sd, per draw from its stated log-normal prior (0: constant slope)
        slope_shock_sd = np.stack([
            np.zeros(draws) if spec.slope_shock_sd is None else
            spec.slope_shock_sd.median * np.exp(spec.slope_shock_sd.log_sd * rngs[spec.name].standard_normal(draws))
            for spec in cfg.indicators], axis=1)
        return ParameterDraws(
            geos=self.geos_, indicators=cfg.indicator_names, series=series, jump_shift=jump_shift,
            level=np.stack(levels, axis=2), slope=np.stack(slopes, axis=2),
            offset=np.concatenate(offsets, axis=1), slope_offset=np.concatenate(slope_offsets, axis=1),
            elasticity=elasticity, cross_elasticity=cross_elasticity, centred_series=centred,
            centre_deviation=deviation, damping=damping, slope_shock_sd=slope_shock_sd,
            process_sd=np.stack([self.walk_sd(spec.name, draws) for spec in cfg.indicators], axis=1))

    def _jump_shift(self, draws: int, rngs: dict[str, np.random.Generator], levels: list[np.ndarray],
                    slopes: list[np.ndarray], offsets: list[np.ndarray], slope_offsets: list[np.ndarray]) -> np.ndarray:
        """(D, G, series) deviation of each series' latent path from its fitted line at its indicator's jump-off
        (``jumpoff.sample_shift``, from the indicator's stream ``rngs[name]``; draw i from mixture part i % H, as
        the parameters, whose line at the last reading is given per indicator). Zero for a definition that shares
        its anchor's path (it moves with the anchor's shift)."""
        cfg = self.config
        series = tuple(cfg.series())
        gi = {g: i for i, g in enumerate(self.geos_)}
        province = np.array([g not in (NATIONAL, *cfg.aggregates) for g in self.geos_])
        out = np.zeros((draws, len(self.geos_), len(series)))
        for k, (name, dfn) in enumerate(series):
            i = cfg.indicator_names.index(name)
            spec, post = cfg.indicator(name), self.posteriors_[name]
            if post.state_mean is None or (dfn != spec.anchor and dfn not in post.slope_offsets):
                continue
            t = 0 if dfn == spec.anchor else 1 + post.slope_offsets.index(dfn)
            j = 0 if dfn == spec.anchor else 1 + post.offsets.index(dfn)
            parts = np.arange(draws) % len(post.hypers)
            centre = spec.definition(dfn).centre
            # the line the readings were fitted to: a province's reading of a centred definition is the centre's
            on = np.where(province, gi[centre], np.arange(len(self.geos_))) if centre else slice(None)   # (a view)
            when = np.nan_to_num(post.state_time[:, t], nan=post.t0)[None, :] - post.t0
            own = dfn in post.own_speeds       # a speed of its own: the nation's, constant (design.design_matrix)
            speed = slopes[i][:, [0] if own else on] + slope_offsets[i][:, [j]]
            # the damping of each mixture part (a draw's is its part's): the warped time once per part
            damping, of_draw = (1.0, None) if own else (post.damping_of_draws(len(post.hypers))[:, None], parts)
            line = path_z(levels[i][:, on] + offsets[i][:, [j]], speed, when, damping, of_draw)
            jump_time = self.data_through_.indicator[name] + spec.reading_month / 12.0
            out[:, :, k] = sample_shift(post.state_mean[parts, :, t], post.state_var[parts, :, t],
                                        post.state_gain[parts, :, t], line, post.state_time[:, t], jump_time,
                                        self.walk_sd(name, draws)[:, None] ** 2, rngs[name])
        return out

    def walk_sd(self, name: str, draws: int) -> np.ndarray:
        """(draws,) the yearly sd of indicator ``name``'s walk (jumpoff.py) and projected process noise: draw i's
        is its mixture part's (i % H; estimated where the config gives a prior) or, for a posterior without it,
        the config's."""
        post = self.posteriors_[name]
        if post.process_sd is None:
            return np.full(draws, self.config.indicator(name).process_sd)
        return post.process_sd[np.arange(draws) % len(post.process_sd)]

    def walk_sd_at_edge(self) -> tuple[str, ...]:
        """The indicators whose walk's yearly sd has its posterior mode on its grid's first or last point
        (``jumpoff.at_grid_edge``): the readings ask for a value beyond the grid, WALK_GRID_WIDTH prior sds from the
        prior's median (``dxsim calibrate`` names them)."""
        return tuple(name for name, post in self.posteriors_.items()
                     if post.process_sd_weights is not None and at_grid_edge(post.process_sd_weights))

    def fit_table(self) -> pd.DataFrame:
        """Per geo x indicator: readings used, pooled or not, RMS residual (pp) and posterior mean at jump-off
        (computed once per fit; a restored calibration brings the one saved with it)."""
        if getattr(self, "fit_table_", None) is None:
            self.fit_table_ = fit_tables.fit_table(self)
        return self.fit_table_.copy()

    def parameter_table(self) -> pd.DataFrame:
        """Posterior summaries: national level/slope, offsets, hyper-parameters, per-geo deviations."""
        return fit_tables.parameter_table(self)


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
    jump_shift: np.ndarray | None = None         # (draw, geo, series) latent state minus the line at the
                                                 # jump-off (jumpoff.py): anchors and paths of their own only
    process_sd: np.ndarray | None = None         # (draw, indicator) yearly sd of the walk and process noise
                                                 # (None: the config's)

    def to_npz_dict(self) -> dict[str, np.ndarray]:
        """Plain arrays for ``numpy.savez`` (no pickled objects)."""
        out = {"geos": np.array(self.geos), "indicators": np.array(self.indicators),
               "series": np.array([f"{i}:{d}" for i, d in self.series]), "level": self.level,
               "slope": self.slope, "offset": self.offset, "slope_offset": self.slope_offset,
               "elasticity": self.elasticity, "cross_elasticity": self.cross_elasticity}
        if self.centred_series:
            out["centre_deviation"] = self.centre_deviation
        if self.jump_shift is not None:
            out["jump_shift"] = self.jump_shift
        if self.process_sd is not None:
            out["process_sd"] = self.process_sd
        for name in ("damping", "slope_shock_sd"):    # only when some indicator's dynamics use them
            value = getattr(self, name)
            if value is not None and np.any(value != (1.0 if name == "damping" else 0.0)):
                out[name] = value
        return out
