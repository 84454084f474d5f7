"""Known-answer tests of the diffusion laws and of the investment lever."""

from __future__ import annotations

import numpy as np
import pytest

from dxsim.core.model import Law, bass_closed_form, gompertz_closed_form, logistic_closed_form, path_z

T = np.linspace(-5, 15, 81)


def _integrate_linear(law: Law, f0: float, speed: float, t: np.ndarray) -> np.ndarray:
    """Step the law the way the ensemble does: linear growth of z = T(F)."""
    z0 = law.to_linear(np.array(f0))
    return law.to_fraction(z0 + speed * (t - t[0]))


def test_logistic_matches_closed_form():
    law = Law("logistic")
    expected = logistic_closed_form(T, speed=0.6, midpoint=4.0)
    got = _integrate_linear(law, expected[0], 0.6, T)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert logistic_closed_form(np.array([4.0]), 0.6, 4.0)[0] == pytest.approx(0.5)


def test_gompertz_matches_closed_form():
    law = Law("gompertz")
    expected = gompertz_closed_form(T, speed=0.4, midpoint=2.0)
    got = _integrate_linear(law, expected[0], 0.4, T)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # Gompertz passes 1/e at its inflection point
    assert gompertz_closed_form(np.array([2.0]), 0.4, 2.0)[0] == pytest.approx(np.exp(-1))


def test_bass_matches_closed_form():
    p, q = 0.03, 0.38
    law = Law("bass", bass_shape=p / q)
    t = np.linspace(0, 20, 41)
    expected = bass_closed_form(t, p, q)
    # from F(0) = 0 the transformed scale starts at log(p/q) and grows at p + q per unit time
    got = law.to_fraction(np.log(p / q) + (p + q) * t)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_bass_rate_is_innovation_plus_imitation():
    p, q = 0.01, 0.5
    law = Law("bass", bass_shape=p / q)
    f = np.array([0.1, 0.4, 0.8])
    h = 1e-6
    # dF/dt along linear z growth at speed p+q equals (p + qF)(1 - F)
    z = law.to_linear(f)
    dfdt = (law.to_fraction(z + (p + q) * h) - law.to_fraction(z - (p + q) * h)) / (2 * h)
    np.testing.assert_allclose(dfdt, (p + q * f) * (1 - f), rtol=1e-5)


@pytest.mark.parametrize("law", [Law("logistic"), Law("gompertz"), Law("bass", 0.05)])
def test_round_trip_and_monotone(law):
    f = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(law.to_fraction(law.to_linear(f)), f, atol=1e-12)
    z = np.linspace(-8, 8, 201)
    assert np.all(np.diff(law.to_fraction(z)) >= 0)
    extreme = law.to_fraction(np.array([-1e6, 1e6]))
    assert np.all((extreme >= 0) & (extreme <= 1))


def test_path_z_per_mixture_part_is_the_path_of_each_draw():
    """The warped time computed once per mixture part and read per draw: the same values, bit for bit, as
    computed for every draw (SYNTHETIC inputs, made here)."""
    rng = np.random.default_rng(3)
    damping = np.array([0.85, 0.9, 1.0, 0.97])                     # per part; 1.0: undamped
    parts = np.arange(1001) % len(damping)
    level, slope = rng.normal(size=(1001, 5)), rng.normal(size=(1001, 5))
    dt = rng.uniform(-3, 6, size=(1, 5))
    per_draw = path_z(level, slope, dt, damping[parts][:, None])
    assert np.array_equal(path_z(level, slope, dt, damping[:, None], parts), per_draw)
    assert not np.array_equal(per_draw, path_z(level, slope, dt))   # the damping does act


def test_float32_fractions_need_no_clip_of_the_exponent():
    """In float32 the exponent is not clipped to +-700 (exp overflows past 88.7 and underflows below -103.9 either
    way): the same values, bit for bit, as with the clip, at the extremes too (SYNTHETIC inputs)."""
    z = np.array([-np.inf, -1e4, -701, -700, -104, -89, -88.7, -1, -0.0, 0.0, 1e-3, 88.7, 89, 104, 700, 701, 1e4,
                  np.inf, np.nan], dtype=np.float32)
    with np.errstate(over="ignore"):
        clipped = np.exp(np.clip(-z, -700, 700))
        expected = {"logistic": np.reciprocal(clipped + np.float32(1)), "gompertz": np.exp(-clipped)}
        for name, want in expected.items():
            got = Law(name).to_fraction(z, out=np.empty_like(z))
            assert got.dtype == np.float32 and np.array_equal(got, want, equal_nan=True), name
