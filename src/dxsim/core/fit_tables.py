"""Tables of a calibration for economists: the fit per geo and the posterior summaries (``dxsim calibrate``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dxsim.core.design import design_matrix
from dxsim.core.dynamics import DAMPING_GRID
from dxsim.core.merged_readings import split_merged
from dxsim.core.model import z_to_share
from dxsim.inputs.config import IndicatorSpec
from dxsim.inputs.geography import load_geomap
from dxsim.inputs.observations import NATIONAL

if TYPE_CHECKING:
    from dxsim.core.calibrate import Calibrator


def fit_table(calibrator: Calibrator) -> pd.DataFrame:
    """Per geo x indicator: readings used, pooled or not, RMS residual (pp; NaN without readings), speed
    and the posterior mean share (percent) of the indicator's anchor definition at the jump-off."""
    rows = []
    cfg = calibrator.config
    for spec in cfg.indicators:
        post = calibrator.posteriors_[spec.name]
        mean = post.means.mean(axis=0)        # the mixture mean (moments()[0]) without its covariance
        phi = post.damping_mean
        G = len(post.geos)
        obs = split_merged(calibrator.observations_[calibrator.observations_["indicator"] == spec.name],
                           load_geomap(cfg))[0]
        fitted = _percent(spec, obs["definition"],
                          design_matrix(spec, post.geos, obs, post.t0, cfg.aggregates, phi) @ mean)
        jump_off = pd.DataFrame({"geo": post.geos, "definition": spec.anchor,
                                 "time": calibrator.jump_off_year_ + spec.reading_month / 12.0})
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
                "anchor_definition": spec.anchor, "at_jump_off": at_jump_off[g],
            })
    return pd.DataFrame(rows)

def parameter_table(calibrator: Calibrator) -> pd.DataFrame:
    """Posterior summaries: national level/slope, offsets, hyper-parameters, per-geo deviations."""
    rows = []
    for spec in calibrator.config.indicators:
        post = calibrator.posteriors_[spec.name]
        mean, cov = post.moments()
        sd = np.sqrt(np.diag(cov))
        names = ([("level", NATIONAL, ""), ("slope", NATIONAL, "")]
                 + [("level_deviation", g, "") for g in post.geos[1:]]
                 + [("slope_deviation", g, "") for g in post.geos[1:]]
                 + [("definition_offset", "", d) for d in post.offsets]
                 + [("definition_own_slope" if d in post.own_speeds else "definition_slope_offset", "", d)
                    for d in post.slope_offsets]
                 + [("definition_break_offset", "", d) for d in post.break_offsets])
        n_obs = calibrator.observations_[calibrator.observations_["indicator"] == spec.name]["geo"].value_counts()
        for k, (param, geo, dfn) in enumerate(names):
            pooled = bool(geo and geo != NATIONAL and n_obs.get(geo, 0) == 0)
            if pooled and geo not in _REPORTED_GEOS:
                continue
            rows.append({"indicator": spec.name, "parameter": param, "geo": geo, "definition": dfn,
                         "mean": mean[k], "sd": sd[k], "q05": mean[k] - 1.645 * sd[k],
                         "q95": mean[k] + 1.645 * sd[k], "pooled": pooled, "scale": spec.law.name})
        if post.damping_weights is not None:
            rows.append({"indicator": spec.name, "parameter": "damping", "geo": "", "definition": "",
                         **_grid_summary(DAMPING_GRID, post.damping_weights), "pooled": False, "scale": "per year"})
        # the walk's yearly sd: its grid posterior (a typed value, or a posterior saved without it: one point)
        grid, weights = ((post.process_sd_grid, post.process_sd_weights) if post.process_sd_grid is not None
                         else (calibrator.walk_sd(spec.name, 1), np.ones(1)))
        rows.append({"indicator": spec.name, "parameter": "process_sd", "geo": "", "definition": "",
                     **_grid_summary(grid, weights), "pooled": False, "scale": spec.law.name})
        for name, value, samples in zip(post.hyper_names, post.hyper_map, post.hypers.T, strict=True):
            rows.append({"indicator": spec.name, "parameter": name, "geo": "", "definition": "",
                         "mean": value, "sd": float(np.std(samples)), "q05": float(np.quantile(samples, 0.05)),
                         "q95": float(np.quantile(samples, 0.95)), "pooled": False, "scale": spec.law.name})
    return pd.DataFrame(rows)


def _grid_summary(grid: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """mean, sd, q05 and q95 of a grid posterior (``weights`` on ``grid``; quantiles: the first grid value whose
    cumulative weight reaches them)."""
    mean = float(grid @ weights)
    cdf = np.cumsum(weights)
    return {"mean": mean, "sd": float(np.sqrt(weights @ (grid - mean) ** 2)),
            "q05": float(grid[min(np.searchsorted(cdf, 0.05), len(grid) - 1)]),
            "q95": float(grid[min(np.searchsorted(cdf, 0.95), len(grid) - 1)])}


_REPORTED_GEOS = ("long_an", "lang_son", "hau_giang", "tra_vinh", NATIONAL)


def _percent(spec: IndicatorSpec, definitions: pd.Series, z: np.ndarray) -> np.ndarray:
    """Transformed-scale values -> percent, each over its definition's ceiling."""
    return z_to_share(spec.law, z, np.array([spec.definition(d).ceiling for d in definitions]))
