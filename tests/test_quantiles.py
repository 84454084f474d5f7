"""Quantiles by one float32 sort (core/quantiles.py) against np.quantile in float64, on SYNTHETIC draws."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dxsim.core.axes import QUANTILES
from dxsim.core.quantiles import FLOAT32_BOUND, draw_summary

PERCENT = st.floats(0.0, 100.0, allow_nan=False, allow_subnormal=False)


@settings(max_examples=60, deadline=None)
@given(values=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 40)), elements=PERCENT),
       probabilities=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=9))
def test_within_the_float32_bound_of_numpy(values: np.ndarray, probabilities: list[float]) -> None:
    mean, q = draw_summary(values, probabilities)
    exact = np.moveaxis(np.quantile(values, probabilities, axis=-1), 0, -1)
    assert q.shape == exact.shape and q.dtype == np.float64
    assert np.abs(q - exact).max() <= FLOAT32_BOUND
    assert np.array_equal(mean, values.mean(axis=-1))            # the mean is float64, unrounded


def test_the_bound_is_needed_and_suffices_on_many_draws() -> None:
    rng = np.random.default_rng(3)
    values = 100 / (1 + np.exp(-rng.normal(0, 2, (50, 4001))))           # SYNTHETIC shares in percent
    _, q = draw_summary(values, QUANTILES)
    error = np.abs(q - np.moveaxis(np.quantile(values, QUANTILES, axis=-1), 0, -1)).max()
    assert 0 < error <= FLOAT32_BOUND                                     # float32 rounding shows, bounded


def test_order_and_nan_rows() -> None:
    values = np.array([[3.0, 1.0, 2.0, 4.0, 5.0], [1.0, np.nan, 2.0, 3.0, 4.0]])
    mean, q = draw_summary(values, (0.0, 0.25, 0.5, 1.0))
    assert q[0].tolist() == [1.0, 2.0, 3.0, 5.0] and mean[0] == 3.0
    assert np.isnan(q[1]).all() and np.isnan(mean[1])                      # like np.quantile: never a number
