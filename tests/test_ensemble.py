"""Ensemble mechanics: damping, paths layout, float32 storage, events."""

from __future__ import annotations

import dataclasses

import numpy as np

from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import run_ensemble
from dxsim.inputs.scenario import DEFAULT_GEOS, Event, RunSettings, Scenario

BASE = Scenario("baseline", "", DEFAULT_GEOS, "multiple", {}, settings=RunSettings(2030, 500, 5))


def _median(ens, year, geo, series):
    return np.median(ens.series_draws(year, geo, series), axis=-1)[0]


def test_damping_slows_projections_but_not_history(inputs, calibrator):
    spec = inputs.config.indicator("digital_economy_grdp_share")
    damped_cfg = dataclasses.replace(inputs.config, indicators=tuple(
        dataclasses.replace(s, damping=0.8) if s.name == spec.name else s for s in inputs.config.indicators))
    damped = Calibrator(damped_cfg).fit(inputs.observations)
    a = run_ensemble(calibrator, [BASE], 500, 5)
    b = run_ensemble(damped, [BASE], 500, 5)
    series = ("digital_economy_grdp_share", "mic_method")
    assert _median(b, 2023, "vietnam", series) == _median(a, 2023, "vietnam", series)
    # the typed damping acts on top of the estimated one (about 0.7 a year): 21.2% -> 20.2% for 2030
    assert _median(b, 2030, "vietnam", series) < _median(a, 2030, "vietnam", series) - 0.5
    fibre = ("fiber_household_share", "subscription")
    assert _median(b, 2030, "vietnam", fibre) == _median(a, 2030, "vietnam", fibre)


def test_values_match_the_trajectory_summaries(calibrator):
    ens = run_ensemble(calibrator, [BASE], 500, 5)
    tr = ens.trajectories()
    row = tr[(tr["geo"] == "tra_vinh") & (tr["definition"] == "coverage") & (tr["year"] == 2027)].iloc[0]
    draws = ens.series_draws(2027, "tra_vinh", ("fiber_household_share", "coverage"))[0]
    assert np.isclose(row["q50"], np.quantile(draws, 0.5)) and np.isclose(row["mean"], draws.mean())
    assert row["q025"] <= row["q05"] <= row["q50"] <= row["q95"] <= row["q975"]


def test_paths_are_float32_and_close_to_float64(calibrator):
    a = run_ensemble(calibrator, [BASE], 500, 5)
    b = run_ensemble(calibrator, [BASE], 500, 5, path_dtype=np.float64)
    assert a.z.dtype == np.float32 and b.z.dtype == np.float64
    assert np.abs(a.trajectories()["q50"] - b.trajectories()["q50"]).max() < 1e-3


def test_a_ceiling_lift_event_never_lowers_any_definition(calibrator):
    lifted = dataclasses.replace(BASE, name="lift", events=(
        Event("fibre ceiling", "fiber_household_share", DEFAULT_GEOS, 2026, ceiling_lift=3.0),))
    ens = run_ensemble(calibrator, [BASE, lifted], 500, 5)
    for year in (2025, 2026, 2030):
        v = ens.values(year)
        assert np.all(v[1] >= v[0] - 1e-9)
    k = ens.series.index(("fiber_household_share", "subscription"))
    assert np.any(ens.values(2026)[1, :, k] > ens.values(2026)[0, :, k] + 1e-6)


def test_a_definition_with_its_own_speed_does_not_fall_when_investment_stops(calibrator):
    stop = dataclasses.replace(BASE, name="stop", investment={("*", "digital_economy"): {2026: 0.0},
                                                              ("*", "broadband"): {2026: 0.0}})
    ens = run_ensemble(calibrator, [BASE, stop], 500, 5)
    gso = ("digital_economy_grdp_share", "gso_method")
    at = {y: np.median(ens.series_draws(y, "vietnam", gso), axis=-1) for y in (2025, 2030)}
    assert abs(at[2030][1] - at[2025][1]) < 1.5          # no investment: stays where it was (GSO 2025: 14.02)
    assert at[2030][0] >= at[2030][1]                     # and investment can only raise it
    assert abs(at[2025][0] - 14.02) < 1.0


def test_threaded_steps_give_the_paths_of_one_thread(calibrator, monkeypatch):
    """A projected year steps its geos in blocks on threads, the next year's noise drawn on a thread of its own
    (the main thread); a run from another thread does it all in that thread: the same paths, bit for bit."""
    import threading

    from dxsim.core import threads

    scenarios = [BASE, dataclasses.replace(BASE, name="more", investment={("*", "broadband"): {2026: 1.7}}),
                 dataclasses.replace(BASE, name="lift", events=(
                     Event("fibre ceiling", "fiber_household_share", DEFAULT_GEOS, 2026, ceiling_lift=3.0,
                           speed_multiplier=1.2),))]
    monkeypatch.setattr(threads, "usable_cpus", lambda: 3)     # three blocks of unequal size
    threaded = run_ensemble(calibrator, scenarios, 301, 5)
    alone = []
    worker = threading.Thread(target=lambda: alone.append(run_ensemble(calibrator, scenarios, 301, 5)))
    worker.start()
    worker.join()
    monkeypatch.setattr(threads, "AHEAD_BYTES", 8)     # a year's noise exceeds it: drawn in turn, no thread
    alone.append(run_ensemble(calibrator, scenarios, 301, 5))
    for other in alone:
        for a, b in ((threaded.z, other.z), (threaded.own_z, other.own_z)):
            assert all(np.array_equal(x, y) for x, y in zip(a.blocks, b.blocks, strict=True))
    assert not np.array_equal(threaded.z[-1][0], threaded.z[-1][1])     # the scenarios do differ


def test_investment_multipliers_computed_once_per_distinct_row_are_those_of_every_geo():
    """m_own**e * m_bb**e_cross, computed once per distinct (log multiples, model scales) row and copied to its
    geos, equals the plain formula for every (scenario, geo), bit for bit (SYNTHETIC multiples and draws)."""
    from dxsim.core.drivers import ModelFactors
    from dxsim.core.simulate import _investment_multipliers

    rng = np.random.default_rng(8)
    S, G, I, D = 4, 6, 3, 257
    with np.errstate(divide="ignore"):
        log_inv = np.log(rng.choice([1.0, 1.0, 0.7, 1.5, 0.0], (S, G, 3)))   # pillars; 0: no investment (-inf)
    log_inv[0] = 0.0                                                           # scenario 0: multiples of 1
    pillar_of, broadband, cross_ind = np.array([0, 1, 2]), 0, np.array([1, 2])
    elasticity, cross = rng.lognormal(-0.7, 0.3, (I, D)), rng.lognormal(-1.0, 0.3, D)
    model = ModelFactors(rng.choice([0.5, 1.0], (S, I)), rng.choice([1.0, 2.0], S), np.ones((S, I)))
    for factors in (None, model):
        got = _investment_multipliers(log_inv, pillar_of, broadband, cross_ind, elasticity, cross, factors)
        assert sorted(got) == [1, 2, 3]
        for s, m in got.items():                          # the plain formula, in the same order of operations
            plain = elasticity * log_inv[s][:, pillar_of][..., None]                   # (G, I, D)
            bb = cross * log_inv[s][:, broadband][:, None]                             # (G, D)
            if factors is not None:
                plain *= factors.elasticity_scale[s][:, None]
                bb *= factors.cross_scale[s]
            plain[:, cross_ind] += bb[:, None, :]
            assert np.array_equal(m, np.exp(plain)), s


def test_noise_drawn_ahead_on_a_thread_is_the_noise_drawn_in_turn(monkeypatch):
    """``NoiseAhead`` hands out the arrays that successive ``standard_normal`` calls give, whether drawn in the
    calling thread or ahead on a thread of its own, reusing its arrays when few fit, or, when one array exceeds
    ``AHEAD_BYTES``, in turn into one array without a thread (SYNTHETIC shape)."""
    from dxsim.core import threads

    shape, count = (3, 2, 50), 7
    rng = np.random.default_rng(4)
    expected = [rng.standard_normal(shape) for _ in range(count)]
    for limit, thread, arrays in ((3 * 8 * 300, True, 3), (3 * 8 * 300, False, 1), (8 * 300 - 8, True, 1)):
        monkeypatch.setattr(threads, "AHEAD_BYTES", limit)   # three arrays ahead, then drawn into again; one
        ahead = threads.NoiseAhead(np.random.default_rng(4), shape, count, thread)
        assert len(ahead._buffers) == arrays and (ahead._ahead is not None) == (arrays > 1)
        assert threads.ahead_arrays(shape, count, thread) == arrays
        got = [a.copy() for a in ahead]                               # an array is reused after the next year
        assert len(got) == count and all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))


def test_noise_drawn_ahead_from_another_seed_is_refused(calibrator):
    """``evaluate`` takes noise drawn ahead only from its samples' process-noise stream: the noise of another
    seed, or of a generator whose seed is unknown, raises instead of giving results that do not follow the
    samples; the same stream derived again is taken."""
    import pytest

    from dxsim.core.ensemble import _steps, ensemble_years, evaluate, indicator_normals, sample_run, seed_streams
    from dxsim.core.streams import IndicatorNormals
    from dxsim.core.threads import NoiseAhead

    samples = sample_run(calibrator, 20, 5)
    shape = (len(calibrator.geos_), len(calibrator.config.indicators), 20)
    steps = _steps(calibrator, ensemble_years(calibrator, BASE.settings.horizon))
    names = calibrator.config.indicator_names
    for wrong in (indicator_normals(calibrator, seed_streams(6)[1]), indicator_normals(calibrator, seed_streams(5)[0]),
                  IndicatorNormals(seed_streams(5)[1], names[::-1]), np.random.default_rng(seed_streams(5)[1])):
        with pytest.raises(ValueError, match="not of the samples' process-noise stream"):
            evaluate(calibrator, [BASE], samples, noise=NoiseAhead(wrong, shape, steps, False))
    plain = evaluate(calibrator, [BASE], samples)
    ahead = evaluate(calibrator, [BASE], samples,
                     noise=NoiseAhead(indicator_normals(calibrator, seed_streams(5)[1]), shape, steps, False))
    assert all(np.array_equal(x, y) for x, y in zip(plain.z.blocks, ahead.z.blocks, strict=True))
