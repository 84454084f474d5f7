"""The walk's yearly sd (process noise) estimated from the readings where the config gives it a prior
(``process_sd = { median, log_sd }``), on SYNTHETIC readings made here: the marginal likelihood is the Kalman
filter's, the grid posterior is the prior where no series has two readings and centres on the walk's true sd where
long series show it, its quantiles are those of a direct numerical integration, each mixture part takes a sd of
its own from it, and the fit, the jump-off, the projections and draws.npz all use it per draw."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import dxsim.facade
from dxsim.cli import main
from dxsim.core.calibrate import Calibrator
from dxsim.core.dynamics import stratified
from dxsim.core.ensemble import run_ensemble
from dxsim.core.jumpoff import (
    WALK_GRID_POINTS,
    WALK_GRID_WIDTH,
    at_grid_edge,
    filter_states,
    walk_covariance,
    walk_log_likelihood,
    walk_sd_posterior,
)
from dxsim.core.model import Law
from dxsim.errors import InputError
from dxsim.inputs.config import DefinitionSpec, IndicatorSpec, LogNormalPrior, NormalPrior, load_config
from dxsim.inputs.scenario import RunSettings, Scenario

IND = "synthetic_share"
LOGIT = Law("logistic")


def test_the_walk_covariance_is_the_filters_model():
    """For each series, log N(r; 0, v I + q W) equals the filter's log-likelihood of the same residuals (state
    variance q at the first reading, + q a year): the estimate is the sd of the walk the filter runs."""
    rng = np.random.default_rng(0)
    series = np.array([0, 0, 0, 1, 1, 2, 0, 1])
    time = np.array([2016.5, 2018.0, 2019.25, 2017.0, 2020.0, 2021.0, 2023.0, 2022.5])
    resid = rng.normal(0, 0.3, len(series))
    v, q = 0.04, 0.09
    want = filter_states(series, time, resid, 3, v, q, q).log_likelihood
    got = walk_log_likelihood(resid, v * np.eye(len(series)), walk_covariance(series, time), q)
    assert got == pytest.approx(want, rel=1e-10)


STEP = 2 * WALK_GRID_WIDTH / (WALK_GRID_POINTS - 1)     # the grid's spacing in prior sds of log sd


def test_without_a_series_of_two_readings_the_posterior_is_the_prior():
    """SYNTHETIC single readings: the walk and the noise cannot be told apart, the grid posterior is the
    log-normal prior (median 0.15, log_sd 0.75) on the grid, centred on the median."""
    resid = np.random.default_rng(1).normal(0, 0.5, 6)
    walk = walk_covariance(np.arange(6), np.full(6, 2022.0))
    grid, weights = walk_sd_posterior(resid, 0.01 * np.eye(6), walk, 0.15, 0.75)
    prior = np.exp(-0.5 * (np.log(grid / 0.15) / 0.75) ** 2)
    np.testing.assert_allclose(weights, prior / prior.sum(), rtol=1e-12)
    assert grid[np.argmax(weights)] == pytest.approx(0.15) and not at_grid_edge(weights)
    assert grid[0] == pytest.approx(0.15 * np.exp(-WALK_GRID_WIDTH * 0.75))


@pytest.mark.parametrize("median", [0.01, 0.3])
def test_long_series_recover_the_walks_sd_from_a_wrong_prior(median):
    """SYNTHETIC: 8 series of 15 yearly readings, each a level (prior sd 2) plus a walk of sd 0.05 read with noise
    sd 0.02: from a prior median five times too small or six times too large, the mode lands near 0.05."""
    rng = np.random.default_rng(2)
    n_series, years = 8, np.arange(2010, 2025, dtype=float)
    series = np.repeat(np.arange(n_series), len(years))
    time = np.tile(years, n_series)
    walk = walk_covariance(series, time)
    base = 0.02**2 * np.eye(len(series)) + 2.0**2 * (series[:, None] == series[None, :])
    resid = np.linalg.cholesky(base + 0.05**2 * walk) @ rng.standard_normal(len(series))
    grid, weights = walk_sd_posterior(resid, base, walk, median, 0.75)
    assert 0.035 < grid[np.argmax(weights)] < 0.07
    assert 0.035 < stratified(grid, weights, 1)[0] < 0.07         # the posterior median


def test_the_grid_posterior_matches_a_direct_integration():
    """SYNTHETIC: 3 series of 4 yearly readings (walk sd 0.1, noise sd 0.1; a posterior about as wide as the
    shipped data's, sd of log sd 0.6): the parts' sds at stratified quantiles of the 41-point grid posterior are
    within one grid step (log scale) of the quantiles of the same posterior integrated numerically on 20001
    points, and its mean and sd (parameters.csv) within 3%."""
    rng = np.random.default_rng(5)
    series = np.repeat(np.arange(3), 4)
    time = np.tile(np.arange(2020, 2024, dtype=float), 3)
    walk = walk_covariance(series, time)
    base = 0.1**2 * np.eye(len(series)) + 1.0 * (series[:, None] == series[None, :])
    resid = np.linalg.cholesky(base + 0.1**2 * walk) @ rng.standard_normal(len(series))
    median, log_sd = 0.06, 0.75
    grid, weights = walk_sd_posterior(resid, base, walk, median, log_sd)
    assert np.sqrt(weights @ (np.log(grid) - np.log(grid) @ weights) ** 2) > 0.4     # a wide posterior
    theta = np.linspace(np.log(median) - 8 * log_sd, np.log(median) + 8 * log_sd, 20001)
    log_post = np.array([walk_log_likelihood(resid, base, walk, np.exp(2 * t)) for t in theta[::40]])
    log_post = np.interp(theta, theta[::40], log_post) - 0.5 * ((theta - np.log(median)) / log_sd) ** 2
    density = np.exp(log_post - log_post.max())
    cdf = np.cumsum(density) / density.sum()
    parts = 16
    want = np.exp(np.interp((np.arange(parts) + 0.5) / parts, cdf, theta))
    got = stratified(grid, weights, parts)
    np.testing.assert_array_less(np.abs(np.log(got / want)), STEP * log_sd)
    sd = np.exp(theta)
    mean = sd @ density / density.sum()
    assert grid @ weights == pytest.approx(mean, rel=0.03)
    assert np.sqrt(weights @ (grid - grid @ weights) ** 2) == pytest.approx(
        np.sqrt(density @ (sd - mean) ** 2 / density.sum()), rel=0.03)


def test_a_mode_at_the_grids_edge_is_named():
    """SYNTHETIC: a walk far above a prior of median 0.001 and log_sd 0.1 puts the mode on the grid's last point."""
    rng = np.random.default_rng(6)
    series = np.repeat(np.arange(4), 8)
    time = np.tile(np.arange(2016, 2024, dtype=float), 4)
    walk = walk_covariance(series, time)
    base = 0.01**2 * np.eye(len(series))
    resid = np.linalg.cholesky(base + 0.3**2 * walk) @ rng.standard_normal(len(series))
    grid, weights = walk_sd_posterior(resid, base, walk, 0.001, 0.1)
    assert at_grid_edge(weights) and np.argmax(weights) == len(grid) - 1
    assert not at_grid_edge(np.ones(1))


def _spec(process_sd: float, prior: LogNormalPrior | None) -> IndicatorSpec:
    """A SYNTHETIC logistic indicator read at year end, hyper-parameters fixed (log_sd = 0)."""
    return IndicatorSpec(
        name=IND, label="SYNTHETIC share", law=LOGIT, pillar="broadband", reading_month=12, headline=True,
        anchor="a", definitions=(DefinitionSpec("a", 90.0, None),), excluded_definitions={},
        level_prior=NormalPrior(0.0, 3.0), slope_prior=NormalPrior(0.2, 0.5), level_sd=LogNormalPrior(0.5, 0.0),
        slope_sd=LogNormalPrior(0.1, 0.0), obs_sd=LogNormalPrior(0.02, 0.0), process_sd=process_sd,
        elasticity=LogNormalPrior(0.5, 0.0), process_sd_prior=prior)


def _fit(cfg, *specs: IndicatorSpec, hyper_samples: int = 1, walk: float = 0.0) -> Calibrator:
    """Fitted on SYNTHETIC national year-end readings 2010-2023 of the first spec: a straight logit line, noise sd
    0.02, plus a random walk of yearly sd ``walk`` (any other spec: no reading)."""
    rng = np.random.default_rng(3)
    z = -1.5 + 0.2 * (np.arange(2010, 2024) - 2022) + rng.normal(0, 0.02, 14)
    z += np.cumsum(rng.normal(0, walk, 14)) if walk else 0.0
    obs = pd.DataFrame({"geo": "vietnam", "indicator": specs[0].name, "definition": "a",
                        "year": np.arange(2010, 2024), "period": "", "release": "",
                        "value": 90.0 * LOGIT.to_fraction(z), "unit": "%", "source_url": "synthetic", "quote": "",
                        "note": "SYNTHETIC test data", "status": "used", "time": np.arange(2010, 2024) + 1.0})
    conf = dataclasses.replace(cfg, indicators=specs, hyper_samples=hyper_samples, first_year=2016,
                               reference_year=2022, exclusions=(), baseline_spend_bn_vnd={})
    return Calibrator(conf).fit(obs)


def _yearly_spread(cal: Calibrator, draws: int = 20000) -> float:
    """Variance of one projected year's change of the synthetic series on the logit scale (slope constant: the
    walk's variance, averaged over the draws' sds)."""
    ens = run_ensemble(cal, [Scenario("synthetic", "SYNTHETIC", ("vietnam",), "multiple", {},
                                      settings=RunSettings(2030, draws, 1))], draws, 4)
    z = LOGIT.to_linear(np.array([ens.series_draws(y, "vietnam", (IND, "a"))[0] for y in (2029, 2030)]) / 90)
    return float(np.var(z[1] - z[0]))


def test_a_smooth_series_narrows_the_projection_and_a_typed_value_stays(cfg):
    """A typed process_sd of 0.3 is used as it is; the same value as a prior's median gives way to the readings
    of a smooth series (no walk): the posterior, the parameter draws and the projected yearly spread use it."""
    typed = _fit(cfg, _spec(0.3, None))
    estimated = _fit(cfg, _spec(0.3, LogNormalPrior(0.3, 0.75)))
    assert typed.posteriors_[IND].process_sd.tolist() == [0.3]
    sd = estimated.posteriors_[IND].process_sd[0]
    assert sd < 0.1
    for cal in (typed, estimated):
        np.testing.assert_array_equal(cal.sample(10, 0).process_sd[:, 0], cal.posteriors_[IND].process_sd[0])
    assert _yearly_spread(typed) == pytest.approx(0.3**2, rel=0.05)
    assert _yearly_spread(estimated) == pytest.approx(sd**2, rel=0.05)


def test_each_part_has_its_own_sd_and_the_draws_carry_it(cfg):
    """16 mixture parts take 16 sds at stratified quantiles of the grid posterior (in a shuffled order, not rank
    for rank with the parts' index); draw i has part i % 16's in the jump-off (its state) and in the projections
    (the yearly spread is the mean of the parts' variances); draws.npz holds them per draw."""
    cal = _fit(cfg, _spec(0.3, LogNormalPrior(0.3, 0.75)), hyper_samples=16)
    post = cal.posteriors_[IND]
    parts = post.process_sd
    assert parts.shape == (16,) and len(np.unique(parts)) >= 8
    np.testing.assert_array_equal(np.sort(parts), stratified(post.process_sd_grid, post.process_sd_weights, 16))
    assert not np.all(np.diff(parts) >= 0)
    assert len(np.unique(post.state_var[:, 0, 0])) == len(np.unique(parts))    # each part filtered with its own
    draws = cal.sample(40, 0)
    np.testing.assert_array_equal(draws.process_sd[:, 0], parts[np.arange(40) % 16])
    np.testing.assert_array_equal(draws.to_npz_dict()["process_sd"], draws.process_sd)
    assert _yearly_spread(cal) == pytest.approx(np.mean(parts**2), rel=0.05)


def test_a_silent_indicator_takes_the_priors_quantiles(cfg):
    """An indicator without readings (next to a SYNTHETIC one with readings): its parts' sds are the log-normal
    prior's quantiles (i + 0.5) / H, to the grid's spacing, and parameters.csv states the prior's spread."""
    silent = dataclasses.replace(_spec(0.1, LogNormalPrior(0.1, 0.75)), name="synthetic_silent")
    cal = _fit(cfg, _spec(0.3, LogNormalPrior(0.3, 0.75)), silent, hyper_samples=16)
    parts = np.sort(cal.posteriors_["synthetic_silent"].process_sd)
    want = 0.1 * np.exp(0.75 * norm.ppf((np.arange(16) + 0.5) / 16))
    np.testing.assert_array_less(np.abs(np.log(parts / want)), STEP * 0.75)
    row = cal.parameter_table().set_index(["indicator", "parameter"]).loc[("synthetic_silent", "process_sd")]
    assert row["q05"] < 0.1 * np.exp(-0.75 * 1.5) and row["q95"] > 0.1 * np.exp(0.75 * 1.5)
    assert row["sd"] > 0 and row["mean"] == pytest.approx(0.1 * np.exp(0.75**2 / 2), rel=0.02)


def test_the_config_states_a_prior_or_a_value(tmp_path, root):
    """``process_sd = { median, log_sd }`` is a prior centred on the median; a number is the value itself."""
    folder = tmp_path / "calibration"
    shutil.copytree(root / "calibration", folder)
    text = (folder / "config.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("process_sd"))
    lines[first] = "process_sd = 0.08"
    (folder / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    specs = load_config(folder / "config.toml").indicators
    assert (specs[0].process_sd, specs[0].process_sd_prior) == (0.08, None)
    shipped = load_config(root / "calibration" / "config.toml").indicator("digital_economy_grdp_share")
    assert shipped.process_sd_prior == LogNormalPrior(0.06, 0.75) and shipped.process_sd == 0.06


@pytest.mark.parametrize(("line", "field", "bound"), [
    ("process_sd = { median = 1e308, log_sd = 0.75 }", "process_sd.median", "must be <= 10, got"),
    ("process_sd = { median = 0.08, log_sd = 100 }", "process_sd.log_sd", "must be <= 3, got 100"),
    ("process_sd = 50", "process_sd", "must be <= 10, got 50"),
])
def test_an_absurd_process_sd_is_refused_at_load(tmp_path, root, line, field, bound):
    """A walk sd (or its prior's median) above 10 transformed-scale units a year, or a prior log_sd above 3, is a
    typing error: one message naming the field, not an infinite parameter or a silent edge of the grid."""
    folder = tmp_path / "calibration"
    shutil.copytree(root / "calibration", folder)
    lines = (folder / "config.toml").read_text(encoding="utf-8").splitlines()
    lines[next(i for i, text in enumerate(lines) if text.startswith("process_sd"))] = line
    (folder / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_config(folder / "config.toml")
    message = str(err.value)
    assert f"indicators.fiber_household_share.{field}:" in message and bound in message and "\n" not in message


def test_calibrate_names_an_estimate_at_the_grids_edge(cfg, root, tmp_path, monkeypatch, capsys):
    """A prior of median 0.01 and log_sd 0.1 against a SYNTHETIC series with a walk of sd 0.3: the posterior's
    mode is the grid's last point, and `dxsim calibrate` says so after its table; a prior the readings agree with
    gets no note."""
    cal = _fit(cfg, _spec(0.01, LogNormalPrior(0.01, 0.1)), walk=0.3)
    assert cal.walk_sd_at_edge() == (IND,)
    assert _fit(cfg, _spec(0.3, LogNormalPrior(0.3, 0.75))).walk_sd_at_edge() == ()
    monkeypatch.setattr(dxsim.facade, "write_calibration", lambda *args, **kwargs: cal)
    config = str(root / "calibration" / "config.toml")
    assert main(["calibrate", "--out", str(tmp_path / "cal"), "--config", config]) == 0
    printed = capsys.readouterr().out
    assert f"note: {IND}: the walk's yearly sd (process_sd) has its posterior mode at the edge of its grid" in printed
