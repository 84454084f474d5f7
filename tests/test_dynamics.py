"""Dynamics that can slow down: warped time of a damped slope, the damping estimated from the data, a stochastic
slope whose uncertainty grows with the horizon, and their config. Data labelled SYNTHETIC exist only here."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dxsim.analyses.forecast_asof import baseline_scenario
from dxsim.core.calibrate import Calibrator
from dxsim.core.design import design_matrix, layout
from dxsim.core.dynamics import DAMPING_GRID, grid_posterior, stratified, warped_time
from dxsim.core.ensemble import evaluate, run_ensemble, sample_run
from dxsim.errors import InputError
from dxsim.inputs.config import LogNormalPrior, load_config

DRAWS = 400


def test_warped_time_known_answers():
    dt = np.array([-2.0, 0.0, 1.0, 3.0])
    assert np.allclose(warped_time(dt, 1.0), dt)
    # integral of 0.5**s from 0 to 3 = (0.125 - 1) / ln 0.5
    assert warped_time(3.0, 0.5) == pytest.approx(0.875 / np.log(2))
    # a year's step is the speed at its start times (phi - 1) / ln(phi): it shrinks by phi each year
    steps = np.diff(warped_time(np.arange(6.0), 0.8))
    assert np.allclose(steps[1:] / steps[:-1], 0.8)
    assert warped_time(-1.0, 0.8) == pytest.approx(-(1 / 0.8 - 1) / -np.log(0.8))


def test_grid_posterior_and_stratified_draws():
    w = grid_posterior(np.array([0.0, np.log(3.0)]))
    assert np.allclose(w, [0.25, 0.75])
    assert stratified(np.array([0.6, 0.9]), w, 4).tolist() == [0.6, 0.9, 0.9, 0.9]


def _with_dynamics(cfg, dynamics: str, shock: LogNormalPrior | None = None):
    specs = tuple(dataclasses.replace(s, dynamics=dynamics, slope_shock_sd=shock) for s in cfg.indicators)
    return dataclasses.replace(cfg, indicators=specs)


@pytest.fixture(scope="module")
def damped_fit(inputs):
    cfg = dataclasses.replace(_with_dynamics(inputs.config, "damped"), hyper_samples=4)
    return Calibrator(cfg).fit(inputs.observations)


def test_damping_is_estimated_from_the_pooled_data(damped_fit):
    table = damped_fit.parameter_table()
    damping = table[table["parameter"] == "damping"].set_index("indicator")
    assert set(damping.index) == set(damped_fit.config.indicator_names)
    # the digital economy slowed (+3.7, +2.35, +1.8, +0.4 points a year to 2025): the data rule out no damping
    assert damping.loc["digital_economy_grdp_share", "q95"] < 1.0
    post = damped_fit.posteriors_["digital_economy_grdp_share"]
    assert post.damping_weights.sum() == pytest.approx(1.0) and len(post.damping_weights) == len(DAMPING_GRID)
    assert set(post.damping) <= set(DAMPING_GRID) and len(set(post.damping)) > 1   # its uncertainty is kept


def test_damped_projection_slows_and_constant_is_unchanged(damped_fit, inputs):
    scen = baseline_scenario(("vietnam",), 2035, DRAWS, 3)
    k = ("digital_economy_grdp_share", "mic_method")
    damped = run_ensemble(damped_fit, [scen], DRAWS, 3)
    med = np.array([np.median(damped.series_draws(y, "vietnam", k)) for y in range(2025, 2036)])
    steps = np.diff(med)
    assert steps[-1] < steps[0]                         # yearly gains shrink
    # the constant law (the shipped config damps the digital economy too: compare with a constant fit)
    constant = Calibrator(dataclasses.replace(_with_dynamics(inputs.config, "constant"), hyper_samples=4))
    const = run_ensemble(constant.fit(inputs.observations), [scen], DRAWS, 3)
    const_med = np.median(const.series_draws(2035, "vietnam", k))
    assert med[-1] < const_med                          # the constant logit slope accelerates in points


def test_stochastic_slope_widens_with_the_horizon(inputs, calibrator):
    shock = LogNormalPrior(0.3, 0.0)          # SYNTHETIC, large: the effect must show
    cfg = _with_dynamics(inputs.config, "local_linear", shock)
    fit = Calibrator(dataclasses.replace(cfg, hyper_samples=calibrator.config.hyper_samples))
    fit.__dict__.update(calibrator.__dict__)   # same posterior, new dynamics
    fit.config = cfg
    scen = baseline_scenario(("vietnam",), 2035, DRAWS, 5)
    k = ("fiber_household_share", "subscription")

    def width(ens, year):
        lo, hi = np.quantile(ens.series_draws(year, "vietnam", k), [0.1, 0.9])
        return hi - lo

    llt, const = run_ensemble(fit, [scen], DRAWS, 5), run_ensemble(calibrator, [scen], DRAWS, 5)
    assert width(llt, 2035) > width(const, 2035) + 1.0
    assert width(llt, 2026) == pytest.approx(width(const, 2026))   # the first step uses the fitted slope
    # more investment still never lowers a share (the speed stays >= 0 under slope shocks)
    up = dataclasses.replace(scen, name="more", investment={("*", "broadband"): {2026: 2.0}}, unit="multiple")
    both = run_ensemble(fit, [scen, up], DRAWS, 5)
    base, more = both.series_draws(2035, "vietnam", k)
    assert np.all(more >= base - 1e-6) and np.mean(more) > np.mean(base) + 0.1


@pytest.mark.parametrize("line,field", [('dynamics = "accelerating"', "dynamics"),
                                        ('slope_shock_sd = { median = 0.05, log_sd = 0.5 }', "slope_shock_sd")])
def test_bad_dynamics_config_is_refused(root, tmp_path, line, field):
    text = (root / "calibration" / "config.toml").read_text(encoding="utf-8")
    text = text.replace('dynamics = "constant"', line, 1)
    assert line in text
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=field):
        load_config(tmp_path / "config.toml")


def test_a_definition_with_its_own_speed_borrows_neither_the_anchors_speed_nor_its_damping(cfg, calibrator):
    spec = cfg.indicator("digital_economy_grdp_share")
    assert spec.definition("gso_method").own_speed
    geos = calibrator.geos_
    t0 = cfg.reference_year + spec.reading_month / 12.0
    points = pd.DataFrame({"geo": ["vietnam", "vietnam", "lang_son", "lang_son"],
                           "definition": ["mic_method", "gso_method"] * 2, "time": [t0 + 3.0] * 4, "year": [2025] * 4})
    X = design_matrix(spec, geos, points, t0, cfg.aggregates, damping=0.7)
    lay = layout(spec, len(geos))
    col, g = lay.slope_offset_col("gso_method"), geos.index("lang_son")
    assert X[0, 1] == pytest.approx(warped_time(3.0, 0.7)) and X[0, col] == 0.0     # the anchor: damped speed
    assert X[1, 1] == 0.0 and X[1, col] == pytest.approx(3.0)                         # GSO: its own, constant
    # a province keeps its level deviation on GSO but moves at the national GSO speed (no MIC slope deviation)
    assert X[3, 1 + g] == 1.0 and X[3, len(geos) + g] == 0.0 and X[2, len(geos) + g] != 0.0
    # the GSO series' 2030 median sits above its 2025 one: the ministry series' damping does not flatten it
    ens = run_ensemble(calibrator, [baseline_scenario(("vietnam",), 2030, DRAWS, 3)], DRAWS, 3)
    series = ("digital_economy_grdp_share", "gso_method")
    gso = [np.median(ens.series_draws(y, "vietnam", series)) for y in (2025, 2030)]
    assert gso[1] > gso[0] + 0.3


def test_an_own_speed_step_never_carries_the_warped_time(calibrator):
    # the draws' estimated damping overridden in the test (SYNTHETIC, extreme: 1e-3 a year), far below the grid:
    # a year's warped time then rounds to 0 within a few years, and the own speed must not be divided by it
    scen = baseline_scenario(("vietnam",), 2045, 50, 3)
    samples = sample_run(calibrator, 50, 3)
    series = ("digital_economy_grdp_share", "gso_method")

    def gso(phi: float) -> np.ndarray:
        params = dataclasses.replace(samples.params, damping=np.full_like(samples.params.damping, phi))
        ens = evaluate(calibrator, [scen], dataclasses.replace(samples, params=params))
        return np.array([ens.series_draws(y, "vietnam", series) for y in range(2025, 2046)])

    tiny, mild = gso(1e-3), gso(0.9)
    assert np.isfinite(tiny).all()
    # the GSO series keeps its own constant speed: the anchor's damping, small or mild, leaves it the same
    assert np.allclose(tiny, mild, rtol=0, atol=1e-6)


def test_own_slope_and_slope_offset_together_are_refused(root, tmp_path):
    text = (root / "calibration" / "config.toml").read_text(encoding="utf-8")
    own = 'own_slope = { mean = 0.0, sd = 0.5 }'
    assert own in text
    (tmp_path / "config.toml").write_text(text.replace(own, own + "\nslope_offset = { mean = 0.0, sd = 0.3 }"),
                                          encoding="utf-8")
    with pytest.raises(InputError, match="own_slope"):
        load_config(tmp_path / "config.toml")
