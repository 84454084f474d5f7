"""The jump-off state (core/jumpoff.py): known answers of the local-level filter, the vectorised filter equals
one series at a time, and the sampled shift's cancellation of the line's error. All data here
are SYNTHETIC."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxsim.core.jumpoff import filter_states, sample_shift


def test_one_reading_is_the_textbook_update():
    p0, r_var, resid = 0.04, 0.01, 0.5
    out = filter_states(np.array([0]), np.array([2023.5]), np.array([resid]), 1, r_var, q=0.09, p0=p0)
    gain = p0 / (p0 + r_var)
    assert out.mean[0] == pytest.approx(gain * resid)
    assert out.var[0] == pytest.approx(p0 * r_var / (p0 + r_var))
    assert out.gain[0] == pytest.approx(gain)
    assert out.time[0] == 2023.5
    assert out.log_likelihood == pytest.approx(-0.5 * (resid**2 / (p0 + r_var) + np.log(2 * np.pi * (p0 + r_var))))


def test_two_readings_walk_between_them():
    """Second reading 2 years later: prior variance P1 + 2 q, then the same update; the total weight of the
    residuals is 1 - (1 - g1)(1 - g2)."""
    p0, r_var, q = 0.04, 0.01, 0.02
    out = filter_states(np.array([0, 0]), np.array([2022.0, 2020.0]), np.array([0.3, -0.1]), 1, r_var, q, p0)
    g1 = p0 / (p0 + r_var)
    m1, p1 = g1 * -0.1, (1 - g1) * p0            # the earlier reading (2020) comes first whatever the order
    prior = p1 + 2 * q
    g2 = prior / (prior + r_var)
    assert out.mean[0] == pytest.approx(m1 + g2 * (0.3 - m1))
    assert out.var[0] == pytest.approx((1 - g2) * prior)
    assert out.gain[0] == pytest.approx(1 - (1 - g1) * (1 - g2))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(2015, 2025), st.floats(-1, 1)), min_size=1, max_size=12))
def test_vectorised_filter_equals_one_series_at_a_time(rows):
    series = np.array([r[0] for r in rows])
    time, resid = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    together = filter_states(series, time, resid, 4, 0.02, 0.05, 0.05)
    total = 0.0
    for s in range(4):
        mine = series == s
        alone = filter_states(np.zeros(mine.sum(), int), time[mine], resid[mine], 1, 0.02, 0.05, 0.05)
        total += alone.log_likelihood
        if not mine.any():
            assert np.isnan(together.time[s]) and together.mean[s] == 0.0
            continue
        assert together.mean[s] == pytest.approx(alone.mean[0])
        assert together.var[s] == pytest.approx(alone.var[0])
        assert together.gain[s] == pytest.approx(alone.gain[0])
    assert together.log_likelihood == pytest.approx(total)


def test_shift_cancels_the_line_error_and_walks_to_the_jump_off():
    rng = np.random.default_rng(0)
    D = 20000
    line = rng.normal(0.0, 0.3, (D, 3))
    mean, var, gain = np.full((D, 3), 0.2), np.full((D, 3), 0.01), np.full((D, 3), 1.0)
    time = np.array([2023.0, np.nan, 2021.0])          # geo 1 has no reading: it stays on its line
    shift = sample_shift(mean, var, gain, line, time, 2023.0, 0.04, rng)
    assert not shift[:, 1].any()
    state = shift + line                               # gain 1: the line's error cancels in line + shift
    assert state[:, 0].mean() == pytest.approx(0.2 + line[:, 0].mean(), abs=0.01)
    assert state[:, 0].var() == pytest.approx(0.01, rel=0.05)
    assert state[:, 2].var() == pytest.approx(0.01 + 2 * 0.04, rel=0.05)       # two years of the walk
