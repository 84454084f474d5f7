"""The Monte Carlo simulation: parameter draws x yearly process noise, vectorised over (scenario, geo, indicator,
draw); the only Python loop is over years (a projected year's step runs on one block of geos per usable CPU, threads).

Up to the jump-off year the latent path is the calibrated fit (parameter uncertainty only). After it,
    z[y] = z[y-1] + max(slope, 0) * damping**h * m_own**e * m_broadband**e_cross * event_speed
           + process_sd * noise,        (h = years since the jump-off; damping = 1 unless configured;
                                         process_sd per draw: its mixture part's, calibrate.py)
so a larger investment multiple can only raise z, hence every share. Scenarios share the same draws and noise
(common random numbers), so differences between scenarios are not Monte Carlo noise.

Ceiling lifts (events and programmes) keep z, the adoption fraction, so a lift can only raise shares.
Programmes (``rollout.py``) enter per draw: draw d is paired with rollout d % R, whose delivered effects multiply
the speed, lift the ceiling and jump the share at completion.

The state is stepped in float64; the stored paths are float32 (``PATH_DTYPE``): half the memory, and a
rounding error of about 1e-7 on z, i.e. at most ~1e-5 percentage points on a share (the benchmark measures it).
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from functools import partial

import numpy as np

from dxsim import progress
from dxsim.core.calibrate import ParameterDraws
from dxsim.core.drivers import Drivers, ModelFactors, RolloutDrivers
from dxsim.core.dynamics import warped_time
from dxsim.core.model import Law
from dxsim.core.paths import Ensemble, YearBlocks
from dxsim.core.threads import NoiseAhead, Normals, ahead_arrays, blocks, pool, threads_here
from dxsim.inputs.config import PILLARS, CalibrationConfig

BYTES_LIMIT = 6 * 2**30   # refuse runs whose arrays would exceed this
PATH_DTYPE = np.float32


def simulate(cfg: CalibrationConfig, params: ParameterDraws, drivers: Drivers, scenarios: tuple[str, ...],
             geos: tuple[str, ...], years: np.ndarray, jump_off_year: int, t0: np.ndarray,
             noise_rng: Normals | NoiseAhead, rollouts: RolloutDrivers | None = None,
             path_dtype: type = PATH_DTYPE, indicator_jump_off: np.ndarray | None = None,
             series_first_projected: tuple[int, ...] | None = None,
             slope_rng: Normals | None = None, model: ModelFactors | None = None) -> Ensemble:
    """Run the ensemble. ``t0`` (indicator,) is each indicator's reference time; ``rollouts`` optionally adds
    programme effects per draw (speed multiplier, ceiling lift, share step; see ``RolloutDrivers``).
    ``indicator_jump_off`` (indicator,): the last year with data per indicator (default ``jump_off_year`` for
    all): an indicator follows its calibrated fit up to it and is projected after it. ``slope_rng``: the stream
    of a stochastic slope's shocks (indicators with ``slope_shock_sd``). ``model`` optionally changes the
    model's stated assumptions per scenario (experiments, see ``ModelFactors``)."""
    D = params.level.shape[0]
    S, G, I, Y = len(scenarios), len(geos), len(cfg.indicators), len(years)
    gidx = np.array([params.geos.index(g) for g in geos])
    # noise is drawn for every known geo, so a geo's values do not depend on which others are simulated; a
    # contiguous run of geos is a slice (views, not copies)
    noise_geos = slice(gidx[0], gidx[-1] + 1) if np.array_equal(gidx, np.arange(gidx[0], gidx[-1] + 1)) else gidx
    level = np.ascontiguousarray(params.level[:, noise_geos, :].transpose(1, 2, 0))     # (G, I, D)
    slope = np.ascontiguousarray(params.slope[:, noise_geos, :].transpose(1, 2, 0))
    speed = np.maximum(slope, 0.0)                        # adoption speed is non-negative by construction
    laws = tuple(spec.law for spec in cfg.indicators)
    months = np.array([spec.reading_month for spec in cfg.indicators], float)
    dt = years[:, None] + months / 12.0 - t0                                      # (Y, I) years from t0
    process_sd = (np.array([spec.process_sd for spec in cfg.indicators])[:, None] if params.process_sd is None
                  else np.ascontiguousarray(params.process_sd.T))   # (I, D) per draw (Calibrator.walk_sd), or (I, 1)
    damping = np.array([spec.damping for spec in cfg.indicators])[:, None]            # (I, 1)
    if model is not None:
        damping = model.damping[:, None, :, None]                                    # (S, 1, I, 1)
    config_damped = bool(np.any(damping != 1))
    # dynamics (dynamics.py): a damped slope grows z by warped time W(dt) (per draw: its damping), a stochastic
    # slope takes yearly shocks in projections (``slope_shock``, common to all scenarios)
    phi = np.ones((I, D)) if params.damping is None else params.damping.T                # (I, D)
    damped = bool(np.any(phi != 1))
    wdt = warped_time(dt[:, :, None], phi[None]) if damped else np.broadcast_to(dt[:, :, None], (Y, I, D))
    shock_sd = params.slope_shock_sd
    shock_sd = shock_sd.T if shock_sd is not None and np.any(shock_sd) and slope_rng is not None else None
    dslope = np.zeros((S, G, I, D)) if shock_sd is not None else None
    broadband = PILLARS.index("broadband")
    pillar_of = np.array([PILLARS.index(spec.pillar) for spec in cfg.indicators])
    not_broadband = pillar_of != broadband
    anchor_ceiling = np.array([spec.definition(spec.anchor).ceiling for spec in cfg.indicators])
    elasticity = params.elasticity.T                      # (I, D)
    cross = params.cross_elasticity                       # (D,)
    all_geos = len(params.geos)
    fit_until = np.full(I, jump_off_year) if indicator_jump_off is None else np.asarray(indicator_jump_off)
    first_step = int(fit_until.min())

    cross_ind = np.flatnonzero(not_broadband)
    steps_on = rollouts is not None and rollouts.has_steps
    # Definitions with a slope offset grow at a speed of their own, max(slope + slope offset, 0), scaled by the
    # same multipliers and shocks as their anchor: a state of their own (few; none for most configs).
    series_ind = np.array([cfg.indicator_names.index(i) for i, _ in params.series])
    own = tuple(k for k, (i, d) in enumerate(params.series) if cfg.indicator(i).definition(d).slope_offset)
    own_ind = series_ind[list(own)]
    own_offset = np.broadcast_to(params.offset.T[list(own)], (G, len(own), D)).copy()   # (G, n_own, D)
    own_slope = slope[:, own_ind] + params.slope_offset.T[list(own)]              # (G, n_own, D)
    # a definition with a speed of its own (design.design_matrix): every geo moves at the national own speed
    own_flag = np.array([cfg.indicator(params.series[k][0]).definition(params.series[k][1]).own_speed
                         for k in own], bool)
    mine = np.array(own, dtype=int)[own_flag]
    own_slope[:, own_flag] = (params.slope[:, 0, own_ind[own_flag]] + params.slope_offset[:, mine]).T
    # A definition pooled towards an aggregate (its ``centre``): a province's path is the centre's plus the
    # province's own pooled deviation (level and slope), in place of its deviation from the nation.
    province = np.array([g not in (params.geos[0], *cfg.aggregates) for g in geos])
    for j, k in enumerate(own):
        centre = cfg.indicator(params.series[k][0]).definition(params.series[k][1]).centre
        if centre and province.any():
            c, i, m = params.geos.index(centre), own_ind[j], params.centred_series.index(k)
            dev = params.centre_deviation[:, gidx[province], m].transpose(1, 0, 2)           # (P, D, 2)
            own_offset[province, j] += params.level[:, c, i] - level[province, i] + dev[..., 0]
            own_slope[province, j] += params.slope[:, c, i] - slope[province, i] + dev[..., 1]
    own_speed = np.maximum(own_slope, 0.0)
    # a definition with a speed of its own keeps it constant (design.design_matrix): its time is not warped
    own_constant = own_flag & damped
    own_wdt = np.where(own_constant[None, :, None], dt[:, own_ind, None], wdt[:, own_ind])   # (Y, n_own, D)
    own_paths: list[np.ndarray] = []
    z_own = np.empty((S, G, len(own), D))

    # the latent state's deviation from the line at each indicator's jump-off (calibrate/jumpoff.py): added to
    # the path in the jump-off year, so the projection starts where the series is, not on the fitted line
    shift = anchors = None
    if params.jump_shift is not None:
        shift = params.jump_shift[:, noise_geos]         # (D, G, series): a view for a contiguous run of geos
        anchors = [params.series.index((spec.name, spec.anchor)) for spec in cfg.indicators]

    def start_state(year: int, rows: slice = slice(None), b: slice = slice(None)) -> None:
        """Add the jump-off shifts of the series whose data end in ``year`` (to the scenarios ``rows``, geos
        ``b``)."""
        if shift is None:
            return
        for i in np.flatnonzero(year == fit_until):       # per series: views, no fancy-indexed copies
            z[rows, b, i] += shift[:, b, anchors[i]].T
        for j in np.flatnonzero(year == fit_until[own_ind]):
            z_own[rows, b, j] += shift[:, b, own[j]].T

    def fit(y: int, out: tuple[np.ndarray, np.ndarray], b: slice) -> None:
        """The fitted line of year index ``y`` for the geos ``b``, in scenario 0's state (every scenario's in the
        year of the first step), and its paths into ``out``."""
        np.multiply(slope[b], wdt[y], out=z[0, b])              # level + slope W, without temporaries
        z[0, b] += level[b]
        np.multiply(own_slope[b], own_wdt[y], out=z_own[0, b])
        for j, i in enumerate(own_ind):
            z_own[0, b, j] += level[b, i]
        z_own[0, b] += own_offset[b]
        start_state(int(years[y]), slice(0, 1), b)
        if years[y] == first_step:                        # the state every scenario steps from
            z[1:, b], z_own[1:, b] = z[0, b], z_own[0, b]
        out[0][b], out[1][b] = z[0, b], z_own[0, b]

    # numpy releases the GIL in its kernels: a year computes its geos in blocks on threads (each block writes
    # its own slices) while a thread of its own draws the noise ahead (``NoiseAhead``: the same numbers in the same
    # order); from other threads all in the calling thread (``threads_here``)
    workers = threads_here()
    steps = int(np.sum(years > first_step))
    geo_blocks = blocks(G, workers)
    # year by year (``YearBlocks``): a year before any step is the fit, the same for every scenario, stored once
    z_paths: list[np.ndarray] = []
    z = np.empty((S, G, I, D))
    invest_mult: dict[int, np.ndarray] = {}              # per invested scenario: m_own**e * m_bb**e_cross (G, I, D)
    invest_year = None                                     # the year index they were computed for
    last_fitted = int(fit_until.max())
    # the steps' working arrays, allocated here: memory freed by a thread stays with it (glibc's arenas)
    work = np.empty((G, I, D)), np.empty((G, D))
    if not isinstance(noise_rng, NoiseAhead):
        noise_rng = NoiseAhead(noise_rng, (all_geos, I, D), steps, workers > 1)
    elif (noise_rng.shape, noise_rng.count) != ((all_geos, I, D), steps):
        raise ValueError(f"noise drawn ahead for {noise_rng.count} steps of {noise_rng.shape}, not {steps} of "
                         f"{(all_geos, I, D)}")
    with pool(workers) as threads, closing(noise_rng):
        normals = iter(noise_rng)
        for y, year in progress.track(enumerate(years), "ensemble years", total=Y, unit="year"):
            if year > last_fitted and dslope is None:       # the fitted line is not read again: memory for the paths
                level = slope = own_offset = own_slope = None
            if year <= first_step:                            # the fit: the same for every scenario, computed once
                out = np.empty(z.shape[1:], path_dtype), np.empty(z_own.shape[1:], path_dtype)
                if threads is None:
                    fit(y, out, slice(None))
                else:
                    list(threads.map(partial(fit, y, out), geo_blocks))
                z_paths.append(np.broadcast_to(out[0], z.shape))
                own_paths.append(np.broadcast_to(out[1], z_own.shape))
                continue
            # m ** e = exp(e log m), computed only for scenarios where some multiple differs from 1 this year, and
            # again only when a multiple changed since last year (the yearly multiples are mostly constant)
            if invest_year is None or not np.array_equal(drivers.log_investment[:, y],
                                                         drivers.log_investment[:, invest_year]):
                invest_mult = _investment_multipliers(drivers.log_investment[:, y], pillar_of, broadband, cross_ind,
                                                      elasticity, cross, model)
                invest_year = y
            # the other multipliers of this year's step, in a fixed order: damping of the config, warped time, events
            common = []
            if config_damped:
                common.append(damping ** np.maximum(year - fit_until, 0)[:, None])         # (I, 1) or (S, 1, I, 1)
            warp = wdt[y] - wdt[y - 1] if damped else None           # this year's warped time (1 where undamped)
            if damped:
                common.append(warp)
            event = drivers.event_speed[:, y]
            events_on = bool(np.any(event != 1))
            sp, own_sp = speed, own_speed
            if dslope is not None:
                sp = np.maximum(slope + dslope, 0.0)                                    # (S, G, I, D)
                own_sp = np.maximum(own_slope + dslope[:, :, own_ind], 0.0)
                dslope += shock_sd * slope_rng.standard_normal((all_geos, I, D))[noise_geos]
            noise = next(normals)[noise_geos]
            fitted = year <= fit_until                       # indicators whose data reach this year: still the fit
            late = fitted.any() or (steps_on and bool(np.any(rollouts.share_step[y])))   # changes after the step
            out = None if late else (np.empty(z.shape, path_dtype), np.empty(z_own.shape, path_dtype))
            step = _YearStep(z, z_own, sp, own_sp, tuple(common), warp, event if events_on else None, invest_mult,
                             rollouts, y, own_ind, own_constant, noise, process_sd, out, work)
            if threads is None:
                step(slice(None))
            else:                                            # one block of geos per thread
                list(threads.map(step, geo_blocks))
            del step, noise, sp, own_sp
            if y == Y - 1:
                invest_mult = {}
            if steps_on:
                _rollout_steps(z, laws, anchor_ceiling, drivers.ceiling_lift[:, y], rollouts, y)
            if fitted.any():
                z[:, :, fitted] = (level[:, fitted] + slope[:, fitted] * wdt[y][fitted])[None]
                if dslope is not None:
                    dslope[:, :, fitted] = 0.0
                mine = fitted[own_ind]
                z_own[:, :, mine] = (level[:, own_ind[mine]] + own_slope[:, mine] * own_wdt[y][mine]
                                     + own_offset[:, mine])[None]
                start_state(year)
            if out is None:
                out = z.astype(path_dtype), z_own.astype(path_dtype)
            z_paths.append(out[0])
            own_paths.append(out[1])

    # a subset of its anchor (``within``: a path of its own, the anchor's ceiling) never exceeds it: its path is
    # bounded by the anchor's, draw by draw and year by year (the same bound on z as on the share)
    bounded = within_pairs(cfg, params.series, own)
    if bounded:
        own_paths = [_bounded(o, zy, bounded) for o, zy in zip(own_paths, z_paths, strict=True)]
    return Ensemble(
        scenarios=scenarios, geos=geos, years=tuple(int(y) for y in years), indicators=cfg.indicator_names,
        series=params.series, draws=D, first_projected_year=jump_off_year + 1, laws=laws,
        z=YearBlocks(tuple(z_paths)), series_offset=params.offset.T.copy(),
        series_ceiling=np.array([cfg.indicator(i).definition(d).ceiling for i, d in params.series]),
        own_series=own, own_z=YearBlocks(tuple(own_paths)), event_lift=np.moveaxis(drivers.ceiling_lift, 1, 0),
        rollouts=rollouts,
        series_first_projected=series_first_projected)


def within_pairs(cfg: CalibrationConfig, series: tuple[tuple[str, str], ...], own: tuple[int, ...]
                 ) -> list[tuple[int, int]]:
    """(own series, indicator) of each subset bounded by its anchor (``within``): its place among the ``own``
    series (indices into ``series``) and its indicator's index."""
    return [(j, cfg.indicator_names.index(series[k][0])) for j, k in enumerate(own)
            if cfg.indicator(series[k][0]).definition(series[k][1]).within]


def at_bound_shares(ensemble: Ensemble, cfg: CalibrationConfig) -> dict[tuple[str, str], np.ndarray]:
    """Per subset bounded by its anchor (``within``), as (indicator, definition): the share (simulated geo,) of
    its projected draws (every scenario and projected year) that sit exactly on the anchor's path, where the
    bound binds. A subset without projected years is left out."""
    out = {}
    for j, i in within_pairs(cfg, ensemble.series, ensemble.own_series):
        k = ensemble.own_series[j]
        first = (ensemble.series_first_projected or {k: ensemble.first_projected_year})[k]
        years = [y for y, year in enumerate(ensemble.years) if year >= first]
        if years:
            out[ensemble.series[k]] = sum(np.mean(ensemble.own_z[y][:, :, j] == ensemble.z[y][:, :, i], axis=(0, 2))
                                          for y in years) / len(years)
    return out


def _bounded(own: np.ndarray, z: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """One year's paths of their own (scenario, geo, own series, draw) bounded by their anchors' paths ``z``
    (scenario, geo, indicator, draw): ``pairs`` of (own series, indicator). A year stored once for all scenarios
    (a broadcast view) stays stored once."""
    shared = own.strides[0] == 0 and z.strides[0] == 0
    out = own[:1].copy() if shared else own if own.flags.writeable else own.copy()
    anchor = z[:1] if shared else z
    for j, i in pairs:
        np.minimum(out[:, :, j], anchor[:, :, i], out=out[:, :, j])
    return np.broadcast_to(out, own.shape) if shared else out


@dataclass(frozen=True)
class _YearStep:
    """One projected year's step of the state, every scenario: speed x multipliers + process noise, applied to a
    block of geos at a time (``step(slice)``; blocks on threads write disjoint slices) and, when nothing changes
    the state after it this year (``out`` given), the year's paths stored."""

    z: np.ndarray                       # (S, G, I, D) latent state, stepped in place
    z_own: np.ndarray                   # (S, G, own series, D)
    speed: np.ndarray                   # (G, I, D), or (S, G, I, D) with slope shocks
    own_speed: np.ndarray               # (G, own series, D), or (S, G, own series, D)
    common: tuple[np.ndarray, ...]      # every scenario's multipliers: damping (I, 1) or (S, 1, I, 1), warp (I, D)
    warp: np.ndarray | None             # this year's warped time (I, D), None: undamped
    event: np.ndarray | None            # (S, G, I) event speed multipliers, None: none this year
    invest: dict[int, np.ndarray]       # invested scenario -> its investment multipliers (G, I, D)
    rollouts: RolloutDrivers | None
    y: int
    own_ind: np.ndarray                 # the indicator of each own series
    own_constant: np.ndarray            # own series whose speed is constant (no warped time)
    noise: np.ndarray                   # (G, I, D) this year's standard normals, scaled in place
    process_sd: np.ndarray              # (I, D) per draw, or (I, 1)
    out: tuple[np.ndarray, np.ndarray] | None   # the year's paths (z, own z) in the path dtype, written here
    work: tuple[np.ndarray, np.ndarray]         # working arrays (G, I, D) and (G, D), sliced by the blocks

    def __call__(self, b: slice) -> None:
        z, z_own, rollouts, y, warp = self.z, self.z_own, self.rollouts, self.y, self.warp
        step, own_step = self.work[0][b], self.work[1][b]   # a scenario's speed multiplier, then its step; an own
        # series' step
        for s in range(z.shape[0]):
            sp_s, own_sp_s = ((self.speed[b], self.own_speed[b]) if self.speed.ndim == 3
                              else (self.speed[s, b], self.own_speed[s, b]))
            factors = [f[s, 0] if f.ndim == 4 else f for f in self.common]
            if self.event is not None and np.any(self.event[s] != 1):
                factors.append(self.event[s, b][..., None])
            if s in self.invest:
                factors.insert(0, self.invest[s][b])
            programmes = rollouts is not None and bool(np.any(rollouts.speed[y, s] != 1))
            if not factors and not programmes:                 # a multiplier of 1 everywhere
                z[s, b] += sp_s
                z_own[s, b] += own_sp_s
                continue
            if len(factors) > 1:
                np.multiply(factors[0], factors[1], out=step)
                for f in factors[2:]:
                    step *= f
            elif programmes or not factors:
                step[...] = factors[0] if factors else 1.0
            if programmes:
                rollouts.multiply_into(step[None], rollouts.speed[:, s:s + 1, b], y)
            # one factor: the step's multiplier is that factor itself (no copy into ``step``)
            multiplier = step if len(factors) > 1 or programmes else np.broadcast_to(factors[0], step.shape)
            for j, i in enumerate(self.own_ind):           # few own series: no fancy-indexed copy of the step
                if self.own_constant[j]:   # a constant own speed: this year's multipliers without the warped time
                    inc = own_step
                    inc[...] = own_sp_s[..., j, :]
                    for f in factors:
                        if f is not warp:
                            inc *= f[..., i, :]
                    if programmes:
                        rollouts.multiply_into(inc[None, :, None], rollouts.speed[:, s:s + 1, b, i:i + 1], y)
                else:
                    inc = np.multiply(own_sp_s[..., j, :], multiplier[:, i], out=own_step)
                z_own[s, b, j] += inc
            z[s, b] += np.multiply(multiplier, sp_s, out=step)
        noise = self.noise[b]
        noise *= self.process_sd
        z[:, b] += noise
        for j, i in enumerate(self.own_ind):                # views, not a fancy-indexed copy of the noise
            z_own[:, b, j] += noise[:, i]
        if self.out is not None:
            self.out[0][:, b] = z[:, b]
            self.out[1][:, b] = z_own[:, b]


def _investment_multipliers(log_investment: np.ndarray, pillar_of: np.ndarray, broadband: int,
                            cross_ind: np.ndarray, elasticity: np.ndarray, cross: np.ndarray,
                            model: ModelFactors | None) -> dict[int, np.ndarray]:
    """m_own**e * m_broadband**e_cross (geo, indicator, draw) of each scenario with a multiple other than 1 in
    ``log_investment`` (scenario, geo, pillar): one year's speed multipliers from investment."""
    log_own = log_investment[:, :, pillar_of]                                   # (S, G, I)
    log_bb = log_investment[:, :, broadband]                                    # (S, G)
    invested = np.flatnonzero(np.any(log_own, axis=(1, 2)) | np.any(log_bb, axis=1))
    if not len(invested):
        return {}
    A, G = len(invested), log_own.shape[1]
    # a (scenario, geo)'s multipliers depend on its log multiples (and the model's scales) only: computed once
    # per distinct row (often one per scenario: the same multiple everywhere), then copied to its geos
    key = [log_own[invested].reshape(A * G, -1), log_bb[invested].reshape(A * G, 1)]
    if model is not None:
        key += [np.repeat(model.elasticity_scale[invested], G, axis=0),
                np.repeat(model.cross_scale[invested], G)[:, None]]
    rows, first, of_row = np.unique(np.concatenate(key, axis=1), axis=0, return_index=True, return_inverse=True)
    a, g = np.divmod(first, G)                                                  # one (scenario, geo) per row
    m = elasticity * log_own[invested[a], g][..., None]                         # (row, I, D)
    if model is not None:
        m *= model.elasticity_scale[invested[a]][:, :, None]
    if np.any(log_bb[invested]):
        bb = cross * log_bb[invested[a], g][:, None]   # (row, D); cross > 0, so log(0) gives -inf, never nan
        if model is not None:
            bb *= model.cross_scale[invested[a]][:, None]
        m[:, cross_ind] += bb[:, None, :]
    np.exp(m, out=m)
    out = m[of_row.reshape(A, G)]                                               # (A, G, I, D)
    return {int(s): out[k] for k, s in enumerate(invested)}


def _rollout_steps(z: np.ndarray, laws: tuple[Law, ...], anchor_ceiling: np.ndarray, event_lift: np.ndarray,
                   rollouts: RolloutDrivers, y: int) -> None:
    """In place: the rollouts' share steps of year ``y`` (``_step_share``) at the anchor ceilings lifted by events
    (``event_lift`` (scenario, geo, indicator), points) and rollouts; one indicator and one scenario at a time
    and only where a step acts, so no (scenario, geo, indicator, draw) array of ceilings is made."""
    draw = rollouts.rollout_of_draw
    for i in range(len(laws)):
        for s in np.flatnonzero(np.any(rollouts.share_step[y][:, :, i], axis=(1, 2))):   # scenarios with a step
            ceiling = np.minimum(anchor_ceiling[i] + event_lift[s, :, i][..., None]
                                 + rollouts.ceiling_lift[y][s, :, i][..., draw], 100.0)
            points = rollouts.share_step[y][s, :, i][..., draw]
            _step_share(z[s:s + 1, :, i:i + 1], laws[i:i + 1], ceiling[None, :, None], points[None, :, None])


def _step_share(z: np.ndarray, laws: tuple[Law, ...], ceiling: np.ndarray, points: np.ndarray) -> None:
    """In place: raise the anchor share by ``points`` (scenario, geo, indicator, draw) at anchor ceilings
    ``ceiling`` (same shape), capped just below the ceiling; z never decreases."""
    for i, law in enumerate(laws):
        jump = points[:, :, i] > 0
        if jump.any():
            zi = z[:, :, i][jump]
            fraction = np.clip(law.to_fraction(zi) + points[:, :, i][jump] / ceiling[:, :, i][jump], 1e-9, 1 - 1e-9)
            z[:, :, i][jump] = np.maximum(law.to_linear(fraction), zi)


def check_memory(S: int, D: int, G: int, I: int, Y: int, noise_geos: int, steps: int) -> None:
    """Refuse a run whose latent paths, per-year working arrays and process noise would not fit in
    ``BYTES_LIMIT``. The noise is drawn for every known geo (``noise_geos``), in ``NoiseAhead``'s arrays for the
    ``steps`` projected years (``threads.ahead_arrays``: drawn ahead on a thread from the main thread)."""
    noise = 8 * ahead_arrays((noise_geos, I, D), steps, threads_here() > 1) * noise_geos * I * D
    need = 8 * S * D * G * I * (Y + 4) + noise
    if need > BYTES_LIMIT:
        raise MemoryError(f"{S} scenario(s) x {D} draws x {G} geos x {Y} years needs about {need / 2**30:.1f} GiB "
                          f"(limit {BYTES_LIMIT / 2**30:.0f} GiB); use fewer draws or geos")


def reference_times(cfg: CalibrationConfig) -> np.ndarray:
    """t0 per indicator: the reference year at the indicator's reading month."""
    return np.array([cfg.reference_year + spec.reading_month / 12.0 for spec in cfg.indicators])
