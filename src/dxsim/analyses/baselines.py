"""The simple rules dxsim must beat, each as a predictive distribution in percent, clipped to [0, 100].

Every baseline forecasts one series (geo, indicator, definition) from that series' own readings available at
the forecast origin, at the decimal times of the readings to score, and returns samples (time, sample): a
quasi-sample (its quantile function at ``scoring.quasi_levels``) or, for ``national_shift``, dxsim's national
draws. ``None`` means the rule is not available for the series (too few points); skill is then compared on the
points every method being compared can forecast.

For a yearly flow (``spec.flow``: a share of the year's GDP or dossiers) a baseline reads the series' full-year
readings only (``yearly_readings``): a quarter's, a half-year's, a month's or a year-to-date figure
(``core.design.partial_year``) measures a part of the year, not the year, and averaging it with the annual
figure of the same time (``collapse``) would start the rule from neither. A series with no full-year reading up
to the origin keeps its partial-year ones, so no baseline disappears where it had data. The scored readings are
not filtered: every method forecasts the same points.

- ``last_value``: the last reading carried forward. Band: the empirical distribution of year-on-year changes
  across every percent series available at the origin (``empirical_steps``: |change| / sqrt(years) between
  consecutive readings), made symmetric, scaled by sqrt(years since the last reading) (random-walk scaling).
- ``linear_trend``: least squares on the series' own readings against time (>= 2 distinct times). Band: the
  t prediction interval with n - 2 degrees of freedom when n >= 3; with n = 2 the residual sd is not
  identified, so the last-value band (scaled by sqrt(years since the last reading)) is put around the line.
- ``ets_damped``: statsmodels ``ETSModel`` (additive error, additive damped trend, maximum likelihood) on the
  series made annual: one value per year (the year's latest reading; gaps between readings filled by linear
  interpolation), taken as the value at the indicator's reading month; needs readings in >= 3 distinct years.
  The forecast path is interpolated linearly between whole steps (step 0 = the model's last level). With 3-5
  annual points ETS has as many parameters as points and its own prediction interval collapses to ~0, so the
  last-value band (scaled by sqrt(years since the last annual point)) is used instead.
- ``national_shift``: the province moves as the nation moves. dxsim's national draws of the same indicator and
  definition, each shifted on the law's transformed scale (logit) to pass through the series' last reading:
  ``T(last) + T(national(t)) - T(national(t_last))``. The band is the national path's uncertainty only.
- ``combination``: the equal-weight MIXTURE of the other baselines available for the series (at least two):
  each one's quantile function at the same quasi-sample levels, pooled, so each baseline carries the same
  probability mass (a mixture, not a mean of quantiles: its spread includes the baselines' disagreement).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from dxsim.core.design import partial_year
from dxsim.core.model import Law, share_to_z, z_to_share
from dxsim.inputs.config import IndicatorSpec

BASELINES = ("last_value", "linear_trend", "ets_damped", "national_shift", "combination")
COMBINED = BASELINES[:-1]             # the baselines mixed by ``combination``
SERIES_KEY = ["geo", "indicator", "definition"]
MIN_STEP_YEARS = 1.0 / 12.0     # consecutive readings closer than a month are not a change over time


def yearly_readings(spec: IndicatorSpec, readings: pd.DataFrame) -> pd.DataFrame:
    """The rows of one series' ``readings`` (column ``period``) a baseline reads: for a yearly flow its
    full-year readings, or all of them when none covers a full year; every row for any other indicator."""
    partial = partial_year(spec, readings["period"].to_numpy())
    return readings if partial.all() else readings[~partial]


def collapse(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct times and the mean reading at each (two sources of one month become one point)."""
    t = np.round(np.asarray(times, float), 6)
    distinct, inverse = np.unique(t, return_inverse=True)
    means = np.bincount(inverse, weights=np.asarray(values, float)) / np.bincount(inverse)
    return distinct, means


def empirical_steps(frame: pd.DataFrame) -> np.ndarray:
    """|change| / sqrt(years) between consecutive readings of every series in ``frame`` (columns geo,
    indicator, definition, time, value), in percentage points per sqrt-year, sorted."""
    out = [np.empty(0)]
    for _, rows in frame.groupby(SERIES_KEY, sort=True):
        t, v = collapse(rows["time"].to_numpy(), rows["value"].to_numpy())
        dt, dv = np.diff(t), np.diff(v)
        keep = dt >= MIN_STEP_YEARS - 1e-9
        out.append(np.abs(dv[keep]) / np.sqrt(dt[keep]))
    return np.sort(np.concatenate(out))


def step_deviation(steps: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantile function at ``levels`` of +-S, S drawn from ``steps`` (the symmetric empirical change)."""
    magnitude = np.quantile(steps, np.abs(2 * np.asarray(levels) - 1))
    return np.sign(np.asarray(levels) - 0.5) * magnitude


def _clip(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 100.0)


def last_value(times: np.ndarray, values: np.ndarray, when: np.ndarray, deviation: np.ndarray) -> np.ndarray:
    """Last reading carried forward, band ``deviation * sqrt(years since it)``; (len(when), levels)."""
    t, v = collapse(times, values)
    gap = np.maximum(np.asarray(when, float) - t[-1], 0.0)
    return _clip(v[-1] + np.sqrt(gap)[:, None] * deviation[None, :])


def linear_trend(times: np.ndarray, values: np.ndarray, when: np.ndarray, deviation: np.ndarray,
                 levels: np.ndarray) -> np.ndarray | None:
    """Straight line through the readings (percent against decimal year); None with fewer than 2 times."""
    t, v = collapse(times, values)
    n = len(t)
    if n < 2:
        return None
    when = np.asarray(when, float)
    tbar = t.mean()
    sxx = np.sum((t - tbar) ** 2)
    slope = np.sum((t - tbar) * (v - v.mean())) / sxx
    centre = v.mean() + slope * (when - tbar)
    if n == 2:
        spread = np.sqrt(np.maximum(when - t[-1], 0.0))[:, None] * deviation[None, :]
    else:
        resid = v - (v.mean() + slope * (t - tbar))
        s = np.sqrt(np.sum(resid**2) / (n - 2))
        se = s * np.sqrt(1 + 1 / n + (when - tbar) ** 2 / sxx)
        from scipy import stats  # scipy on use: importing it costs every command ~0.3-1 s

        spread = se[:, None] * stats.t.ppf(levels, n - 2)[None, :]
    return _clip(centre[:, None] + spread)


def annualise(years: np.ndarray, times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One value per calendar year from first to last (the year's latest reading, gaps interpolated) and the
    number of years that had a reading."""
    frame = pd.DataFrame({"year": years, "time": np.round(times, 6), "value": values})
    latest = frame[frame["time"] == frame.groupby("year")["time"].transform("max")]
    per_year = latest.groupby("year")["value"].mean()
    grid = np.arange(per_year.index.min(), per_year.index.max() + 1)
    return grid, np.interp(grid, per_year.index.to_numpy(), per_year.to_numpy()), len(per_year)


def ets_damped(years: np.ndarray, times: np.ndarray, values: np.ndarray, reading_month: int, when: np.ndarray,
               deviation: np.ndarray) -> np.ndarray | None:
    """Damped-trend ETS on the annualised series; None with readings in fewer than 3 years or a failed fit."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    grid, annual, n_years = annualise(years, times, values)
    if n_years < 3:
        return None
    step = np.asarray(when, float) - (grid[-1] + reading_month / 12.0)     # years after the last annual point
    steps = int(np.ceil(step.max() - 1e-9))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ETSModel(pd.Series(annual), error="add", trend="add", damped_trend=True).fit(disp=False)
            level = float(np.asarray(fit.level)[-1])
            path = np.concatenate([[level], np.asarray(fit.forecast(steps), float)])
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not np.all(np.isfinite(path)):
        return None
    centre = np.interp(step, np.arange(len(path)), path)
    return _clip(centre[:, None] + np.sqrt(np.maximum(step, 0.0))[:, None] * deviation[None, :])


def national_shift(last: float, national_last: np.ndarray, national_when: np.ndarray, law: Law,
                   ceiling: float, clip: tuple[float, float]) -> np.ndarray:
    """National draws (len(when), D) shifted on the law's scale through ``last``; ``national_last`` (D,) are
    the same draws at the time of the last reading. Percent, (len(when), D)."""

    z = (share_to_z(law, np.array(last), ceiling, clip) + share_to_z(law, national_when, ceiling, clip)
         - share_to_z(law, national_last, ceiling, clip)[None, :])
    return _clip(z_to_share(law, z, ceiling))


def combination(forecasts: dict[str, np.ndarray], levels: np.ndarray) -> np.ndarray | None:
    """Equal-weight mixture of the ``COMBINED`` baselines in ``forecasts`` (each (time, samples)): every one
    reduced to its quantiles at ``levels``, pooled, and the pool's quantile function taken at ``levels`` again
    (a quasi-sample of the mixture), (time, len(levels)); None with fewer than two."""
    parts = [np.quantile(forecasts[m], levels, axis=1).T for m in COMBINED if m in forecasts]
    if len(parts) < 2:
        return None
    return np.quantile(np.concatenate(parts, axis=1), levels, axis=1).T
