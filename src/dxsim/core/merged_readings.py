"""Readings of merged provinces (``geography = post_2025``, e.g. the merged Tay Ninh's 99.6% of dossiers
submitted online, October 2025) as observations of the weighted mean of their parts.

On the share scale such a reading is exact: value = sum_p w_p c F(z_p) with z_p = X_p beta (each part's
linear predictor at the reading's time and definition, c the definition's ceiling). The calibration is linear
on the transformed scale, so the reading enters through a first-order expansion of T(sum_p w_p F(z_p)) around
the current fit z0 (stated approximation):

    T(A) ~ T(A0) + sum_p a_p (z_p - z0_p),   A0 = sum_p w_p F(z0_p),   a_p = w_p F'(z0_p) / F'(T(A0)),

i.e. a design row sum_p a_p X_p with the reading moved by -T(A0) + sum_p a_p z0_p. z0 is re-centred on the
posterior mean a few times (at the prior-median hyper-parameters), so the expansion is taken where the fit
ends; ``exact_gap`` measures what remains (tested against the exact aggregate).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from dxsim.inputs.config import IndicatorSpec
from dxsim.inputs.geography import GeoMap, is_merged_reading

ITERATIONS = 6
_H = 1e-5


def split_merged(obs: pd.DataFrame, geomap: GeoMap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(readings of model geos, readings of merged provinces)."""
    if "geography" not in obs.columns:
        return obs, obs.iloc[:0]
    merged = np.array([is_merged_reading(geomap, g, gg) for g, gg in zip(obs["geo"], obs["geography"], strict=True)],
                      dtype=bool)
    return obs[~merged], obs[merged]


def _slope(law, z: np.ndarray) -> np.ndarray:  # noqa: ANN001 - model.Law
    """dF/dz by central differences (any law)."""
    return (law.to_fraction(z + _H) - law.to_fraction(z - _H)) / (2 * _H)


def _part_rows(spec: IndicatorSpec, geos: tuple[str, ...], merged: pd.DataFrame, t0: float,
               weights: dict[str, dict[str, float]], aggregates: tuple[str, ...] = (), damping: float = 1.0
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per merged reading: (weights (P,), design rows of its parts (P, n_params))."""
    from dxsim.core.design import design_matrix

    out = []
    for geo, dfn, time, year in zip(merged["geo"], merged["definition"], merged["time"], merged["year"],
                                    strict=True):
        w = weights[geo]
        parts = pd.DataFrame({"geo": list(w), "definition": dfn, "time": float(time), "year": int(year)})
        out.append((np.array(list(w.values())), design_matrix(spec, geos, parts, t0, aggregates, damping)))
    return out


def _expansion(spec: IndicatorSpec, w: np.ndarray, rows: np.ndarray, centre: np.ndarray,
               clip: tuple[float, float]) -> tuple[float, np.ndarray, np.ndarray]:
    """T(A0), the coefficients a_p and z0_p of the expansion around ``centre``."""
    z0 = rows @ centre
    za = float(spec.law.to_linear(np.clip(w @ spec.law.to_fraction(z0), clip[0], clip[1])))
    return za, w * _slope(spec.law, z0) / _slope(spec.law, np.array([za]))[0], z0


def linearised_rows(spec: IndicatorSpec, merged: pd.DataFrame, parts: list[tuple[np.ndarray, np.ndarray]],
                    beta: np.ndarray, clip: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Design rows (n, P) and transformed readings (n,) of the merged readings, linearised around ``beta``."""
    from dxsim.core.design import transform_readings

    y = transform_readings(spec, merged["definition"].to_numpy(), merged["value"].to_numpy(float), clip)
    X = np.empty((len(parts), len(beta)))
    y_adj = np.empty(len(parts))
    for j, (w, rows) in enumerate(parts):
        za, a, z0 = _expansion(spec, w, rows, beta, clip)
        X[j] = a @ rows
        y_adj[j] = y[j] - za + a @ z0
    return X, y_adj


def exact_gap(spec: IndicatorSpec, parts: list[tuple[np.ndarray, np.ndarray]], centre: np.ndarray,
              beta: np.ndarray) -> np.ndarray:
    """Linearised minus exact transformed aggregate at ``beta``, expanded around ``centre``: (reading,)."""
    clip = (1e-12, 1 - 1e-12)
    gap = np.empty(len(parts))
    for j, (w, rows) in enumerate(parts):
        za, a, z0 = _expansion(spec, w, rows, centre, clip)
        exact = spec.law.to_linear(np.clip(w @ spec.law.to_fraction(rows @ beta), *clip))
        gap[j] = za + a @ (rows @ beta - z0) - exact
    return gap


def with_merged_readings(design, spec: IndicatorSpec, geos: tuple[str, ...], merged: pd.DataFrame,  # noqa: ANN001
                         t0: float, clip: tuple[float, float], weights: dict[str, dict[str, float]],
                         aggregates: tuple[str, ...] = (), damping: float = 1.0):
    """``design`` (calibrate.Design) plus one linearised row per merged reading, re-centred ITERATIONS times at
    the posterior mean (prior-median hyper-parameters)."""
    from dxsim.core.design import _periods, noise_group_of
    from dxsim.core.posterior import _gaussian_posterior, _hyper_priors

    hyper = np.exp(_hyper_priors(spec)[0])
    parts = _part_rows(spec, geos, merged, t0, weights, aggregates, damping)
    noise = noise_group_of(spec, merged["geo"].to_numpy(object), _periods(merged), ())      # provincial
    beta = _gaussian_posterior(design, hyper)[0]
    for _ in range(ITERATIONS):
        rows = linearised_rows(spec, merged, parts, beta, clip)
        beta = _gaussian_posterior(_with_rows(design, *rows, noise), hyper)[0]
    return _with_rows(design, *linearised_rows(spec, merged, parts, beta, clip), noise)


def _with_rows(design, X: np.ndarray, y: np.ndarray, noise: np.ndarray):  # noqa: ANN001, ANN202 - calibrate.Design
    """``design`` with rows appended, of noise groups ``noise`` (its X dense or sparse; the result keeps X
    sparse)."""
    from scipy import sparse  # on use, as design.py

    stacked = sparse.vstack([sparse.csr_matrix(design.X), sparse.csr_matrix(X)], format="csr")
    return replace(design, X=stacked, y=np.concatenate([design.y, y]), noise=np.r_[design.noise, noise])


def merged_weights(cfg, spec: IndicatorSpec, merged: pd.DataFrame) -> dict[str, dict[str, float]]:  # noqa: ANN001
    """Merged province -> {part: weight} for this indicator, as the run's aggregation uses them."""
    from dxsim.inputs.aggregations import aggregation_for
    from dxsim.inputs.geography import load_geomap

    geomap = load_geomap(cfg)
    regions = geomap.regions(sorted(set(merged["geo"])))
    agg = aggregation_for(cfg, regions)
    i = cfg.indicator_names.index(spec.name)
    return {r.name: {g: float(agg.matrix[i, k, agg.model_geos.index(g)]) for g in r.parts}
            for k, r in enumerate(regions)}
