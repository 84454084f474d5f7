"""The linear model of one indicator's readings on its law's transformed scale.

Every reading is linear in the parameters (columns: ``model.Layout``),
    y_j = level_nat + d_level_g + (slope_nat + d_slope_g + slope_offset_def) W(t_j - t0) + offset_def
          [+ break_offset_def before a method break] + e_j,
where a definition with a speed of its own (``own_slope``) has its own constant national speed in place of
slope_nat + slope_offset_def (and W(s) = s), and W is the damped slope's warped time (``dynamics.warped_time``;
W(s) = s without damping). ``design_matrix`` gives the rows (the linear predictor at any points),
``build_design`` the readings' design with its priors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dxsim.core.dynamics import warped_time
from dxsim.core.model import Layout, share_to_z
from dxsim.inputs.config import IndicatorSpec
from dxsim.inputs.observations import NATIONAL

if TYPE_CHECKING:          # scipy is imported when a fit needs it: a run with a saved calibration never does
    from scipy import sparse


DENSE_GRAM_ROWS = 1000    # designs with at most this many readings form their Gram matrices densely


def noise_groups(spec: IndicatorSpec) -> tuple[str, ...]:
    """The measurement-noise groups of an indicator's readings, each with a noise sd of its own: provincial
    readings (``obs_sd``), readings of vietnam and the national aggregates (``obs_sd_national``: the statistics
    office and the ministries, not a provincial newspaper), and for a yearly flow (``spec.flow``) its partial-year
    figures (``obs_sd_partial``, any geo: ``partial_year``)."""
    return ("obs_sd", "obs_sd_national", "obs_sd_partial") if spec.flow else ("obs_sd", "obs_sd_national")


def partial_year(spec: IndicatorSpec, period: np.ndarray) -> np.ndarray:
    """(n,) bool: readings of a yearly flow (``spec.flow``) that cover part of a year only: their ``period``
    (YYYY-MM) ends before December (the first quarter's share of GDP, dossiers of one month or of January to
    October). Such a figure measures a part of the year the model's yearly value does not describe."""
    months = pd.Series(np.asarray(period, object)).astype("string").str.slice(5, 7)
    month = pd.to_numeric(months, errors="coerce").to_numpy(float)
    return np.asarray(spec.flow & (month < 12), bool)


def noise_group_of(spec: IndicatorSpec, geo: np.ndarray, period: np.ndarray, aggregates: tuple[str, ...]
                   ) -> np.ndarray:
    """(n,) index into ``noise_groups(spec)`` of readings of ``geo`` with ``period`` (YYYY-MM or missing)."""
    national = np.isin(np.asarray(geo, object), (NATIONAL, *aggregates))
    return np.where(partial_year(spec, period), 2, national.astype(int))


@dataclass(frozen=True)
class Design:
    """The linear model of one indicator's readings."""

    X: np.ndarray | sparse.csr_matrix   # (n, P); sparse from build_design
    y: np.ndarray        # (n,) transformed readings
    prior_mean: np.ndarray
    fixed_var: np.ndarray  # prior variances not governed by hyper-parameters (nan where they are)
    level_cols: np.ndarray
    slope_cols: np.ndarray
    noise: np.ndarray                    # (n,) int: each reading's noise group (``noise_groups``)
    n_noise: int = 1                     # number of noise groups (len(noise_groups(spec)))

    @cached_property
    def gram(self) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, float, int], ...]:
        """Per noise group (``noise_groups``): X'X (P, P), X'y (P,), X'r (P,), r'r with r = y - X m0, and the
        number of readings: all the fit needs from the readings, so its cost per hyper-parameter step does not
        grow with their number."""
        from scipy import sparse

        resid = self.y - self.X @ self.prior_mean
        # few readings: dense products (sparse ones cost ~1 ms each in overhead); many: sparse, O(n) products (a
        # reading touches a few of the P columns)
        if self.X.shape[0] > DENSE_GRAM_ROWS:
            X = sparse.csr_matrix(self.X)
        else:
            X = self.X.toarray() if sparse.issparse(self.X) else np.asarray(self.X)
        out = []
        for group in range(self.n_noise):
            rows = self.noise == group
            xt = X[np.flatnonzero(rows)].T
            r = resid[rows]
            xtx = xt @ xt.T
            out.append((xtx.toarray() if sparse.issparse(xtx) else xtx, xt @ self.y[rows], xt @ r, float(r @ r),
                        int(rows.sum())))
        return tuple(out)

    @property
    def counts(self) -> np.ndarray:
        """(n_noise,) readings per noise group."""
        return np.array([g[4] for g in self.gram], dtype=int)

    def weighted_gram(self, obs_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """X'W X, X'W y, X'W r, r'W r and log|W^-1| with W the readings' noise precision: 1 / obs_sd[k]^2 for a
        reading of noise group k."""
        parts = [(g, s ** 2) for g, s in zip(self.gram, np.asarray(obs_sd, float), strict=True)]
        return (sum(g[0] / s2 for g, s2 in parts), sum(g[1] / s2 for g, s2 in parts),
                sum(g[2] / s2 for g, s2 in parts), sum(g[3] / s2 for g, s2 in parts),
                sum(g[4] * np.log(s2) for g, s2 in parts))


def transform_readings(spec: IndicatorSpec, definition: np.ndarray, value: np.ndarray,
                       clip: tuple[float, float]) -> np.ndarray:
    """Percent readings -> the law's transformed scale, each over its definition's ceiling."""
    ceilings = {d.name: d.ceiling for d in spec.definitions}
    return share_to_z(spec.law, value, np.array([ceilings[d] for d in definition], dtype=float), clip)


def break_definitions(spec: IndicatorSpec) -> list[str]:
    """Definitions with a method break, in parameter order."""
    return [d.name for d in spec.definitions[1:] if d.break_year is not None]


def layout(spec: IndicatorSpec, n_geos: int) -> Layout:
    """The parameter layout of ``spec`` over ``n_geos`` geos."""
    return Layout(n_geos, tuple(d.name for d in spec.definitions[1:]),
                  tuple(d.name for d in spec.definitions[1:] if d.slope_offset is not None),
                  tuple(break_definitions(spec)), own_speed_definitions(spec))


def own_speed_definitions(spec: IndicatorSpec) -> tuple[str, ...]:
    """Definitions with a speed of their own (``own_slope``): their readings do not load the anchor's national
    slope, their slope-offset column is their national speed."""
    return tuple(d.name for d in spec.definitions[1:] if d.own_speed)


def design_matrix(spec: IndicatorSpec, geos: tuple[str, ...], points: pd.DataFrame, t0: float,
                  aggregates: tuple[str, ...] = (), damping: float = 1.0) -> np.ndarray:
    """Rows of the linear predictor for ``points`` (columns geo, definition, time, and year): X @ beta is z
    there. A province's reading of a definition with a pooling ``centre`` is a reading of that aggregate (the
    few such readings inform the centre; a province's own deviation from it is drawn from the pooled
    distribution, ``Calibrator.sample``); ``vietnam`` and the ``aggregates`` are not provinces."""
    lay = layout(spec, len(geos))
    G = len(geos)
    gi = {g: i for i, g in enumerate(geos)}
    centre = {d.name: gi[d.centre] for d in spec.definitions[1:] if d.centre}
    not_province = {NATIONAL, *aggregates}
    X = np.zeros((len(points), lay.n_params))
    dt = points["time"].to_numpy(float) - t0
    # a point's year: its ``year`` column, else from its time (year + month/12, month 1-12)
    years = points["year"].to_numpy() if "year" in points else np.ceil(points["time"].to_numpy(float)) - 1
    X[:, 0] = 1.0
    X[:, 1] = np.where(points["definition"].isin(lay.own_speeds).to_numpy(bool), 0.0, dt)
    pairs = pd.DataFrame({"geo": points["geo"].to_numpy(object), "dfn": points["definition"].to_numpy(object)})
    for (geo, dfn), rows in pairs.groupby(["geo", "dfn"], sort=False).indices.items():   # few pairs, many rows
        g = centre[dfn] if dfn in centre and geo not in not_province else gi[geo]
        if g > 0:
            X[rows, 1 + g] = 1.0
            if dfn not in lay.own_speeds:      # a speed of its own is the nation's: no geo deviation from it
                X[rows, G + g] = dt[rows]
        if dfn != spec.anchor:
            X[rows, lay.offset_col(dfn)] = 1.0
        if dfn in lay.slope_offsets:
            X[rows, lay.slope_offset_col(dfn)] = dt[rows]
        if dfn in lay.breaks:
            X[rows[years[rows] < spec.definition(dfn).break_year], lay.break_col(dfn)] = 1.0
    if damping != 1.0:      # a damped slope: the slope columns carry warped time (dynamics.warped_time)
        cols = lay.speed_cols()
        # a definition with a speed of its own keeps it constant: the damping is estimated on the anchor's
        # readings and is not lent to a series that moves at another speed
        damped = ~points["definition"].isin(lay.own_speeds).to_numpy(bool)
        warp = np.where(damped, warped_time(dt, damping), dt)
        X[:, cols] = np.where(X[:, cols] != 0, warp[:, None], 0.0)
    return X


def warped(design: Design, spec: IndicatorSpec, n_geos: int, points: pd.DataFrame, t0: float,
           damping: float) -> Design:
    """``design`` of ``points`` (the readings), built undamped by ``build_design``, with its speed columns carrying
    warped time at ``damping`` instead: what ``build_design(..., damping)`` builds, without building it again (a
    grid of dampings changes only these entries)."""
    from scipy import sparse

    if damping == 1.0:
        return design
    lay = layout(spec, n_geos)
    dt = points["time"].to_numpy(float) - t0
    damped = ~points["definition"].isin(lay.own_speeds).to_numpy(bool)       # as in design_matrix
    warp = np.where(damped, warped_time(dt, damping), dt)
    X = sparse.csr_matrix(design.X, copy=True)
    row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    speed = np.isin(X.indices, lay.speed_cols())
    X.data[speed] = warp[row[speed]]
    return replace(design, X=X)


def build_design(spec: IndicatorSpec, geos: tuple[str, ...], obs: pd.DataFrame, t0: float,
                 clip: tuple[float, float], aggregates: tuple[str, ...] = (), damping: float = 1.0,
                 stated_aggregates: bool = False) -> Design:
    """The design of the readings ``obs`` with its priors. ``stated_aggregates``: the ``aggregates``' level and
    slope deviations have fixed priors of their own (``aggregate_priors``), not the provinces' pooling sds."""
    from scipy import sparse

    lay = layout(spec, len(geos))
    X = sparse.csr_matrix(design_matrix(spec, geos, obs, t0, aggregates, damping))   # kept small: a grid of designs
    y = transform_readings(spec, obs["definition"].to_numpy(), obs["value"].to_numpy(float), clip)
    prior_mean = np.zeros(lay.n_params)
    fixed_var = np.full(lay.n_params, np.nan)
    prior_mean[0], fixed_var[0] = spec.level_prior.mean, spec.level_prior.sd ** 2
    prior_mean[1], fixed_var[1] = spec.slope_prior.mean, spec.slope_prior.sd ** 2
    priors = ([(lay.offset_col(d), spec.definition(d).offset) for d in lay.offsets]
              + [(lay.slope_offset_col(d), spec.definition(d).slope_offset) for d in lay.slope_offsets]
              + [(lay.break_col(d), spec.definition(d).break_offset) for d in lay.breaks])
    for col, prior in priors:
        prior_mean[col], fixed_var[col] = prior.mean, prior.sd ** 2
    noise = noise_group_of(spec, obs["geo"].to_numpy(object), _periods(obs), aggregates)
    level_cols, slope_cols = lay.level_cols, lay.slope_cols
    if stated_aggregates:
        level_cols, slope_cols = aggregate_priors(spec, geos, aggregates, fixed_var, level_cols, slope_cols)
    return Design(X, y, prior_mean, fixed_var, level_cols, slope_cols, noise, len(noise_groups(spec)))


def aggregate_priors(spec: IndicatorSpec, geos: tuple[str, ...], aggregates: tuple[str, ...],
                     fixed_var: np.ndarray, level_cols: np.ndarray, slope_cols: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Give the aggregates' deviation columns fixed prior variances in ``fixed_var`` (in place): the squared prior
    medians of ``level_sd`` and ``slope_sd``, the config's stated spread of one unit around the nation. An
    aggregate (the provinces' or the ministries' bloc) is a dossier-weighted mean of many units, not one province
    drawn from the provinces' spread: its deviation does not inform the pooling sds, which the provinces' readings
    estimate, and is not governed by them. Returns the level and slope columns left to the pooling sds."""
    agg = np.isin(np.asarray(geos[1:], object), aggregates)       # deviation columns follow geos[1:]
    fixed_var[level_cols[agg]] = spec.level_sd.median ** 2
    fixed_var[slope_cols[agg]] = spec.slope_sd.median ** 2
    return level_cols[~agg], slope_cols[~agg]


def _periods(obs: pd.DataFrame) -> np.ndarray:
    """The readings' ``period`` column (missing where the table has none)."""
    return obs["period"].to_numpy(object) if "period" in obs else np.full(len(obs), None, object)
