"""The walk's yearly sd (process noise) estimated from the readings where the config gives it a prior
(``process_sd = { median, log_sd }``), on SYNTHETIC readings made here: the marginal likelihood is the Kalman
filter's, the estimate is the prior's median where no series has two readings and the walk's true sd where long
series show it, and the fit, the jump-off and the projections all use it."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pandas as pd
import pytest

from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import run_ensemble
from dxsim.core.jumpoff import filter_states, walk_covariance, walk_log_likelihood, walk_sd_mode
from dxsim.core.model import Law
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


def test_without_a_series_of_two_readings_the_prior_median_stays():
    """SYNTHETIC single readings: the walk and the noise cannot be told apart, the stated value is kept."""
    resid = np.random.default_rng(1).normal(0, 0.5, 6)
    walk = walk_covariance(np.arange(6), np.full(6, 2022.0))
    assert walk_sd_mode(resid, 0.01 * np.eye(6), walk, 0.15, 0.75) == 0.15


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
    got = walk_sd_mode(resid, base, walk, median, 0.75)
    assert 0.035 < got < 0.07


def _spec(process_sd: float, prior: LogNormalPrior | None) -> IndicatorSpec:
    """A SYNTHETIC logistic indicator read at year end, hyper-parameters fixed (log_sd = 0)."""
    return IndicatorSpec(
        name=IND, label="SYNTHETIC share", law=LOGIT, pillar="broadband", reading_month=12, headline=True,
        anchor="a", definitions=(DefinitionSpec("a", 90.0, None),), excluded_definitions={},
        level_prior=NormalPrior(0.0, 3.0), slope_prior=NormalPrior(0.2, 0.5), level_sd=LogNormalPrior(0.5, 0.0),
        slope_sd=LogNormalPrior(0.1, 0.0), obs_sd=LogNormalPrior(0.02, 0.0), process_sd=process_sd,
        elasticity=LogNormalPrior(0.5, 0.0), process_sd_prior=prior)


def _fit(cfg, spec: IndicatorSpec) -> Calibrator:
    """Fitted on SYNTHETIC national year-end readings 2010-2023: a straight logit line, noise sd 0.02, no walk."""
    rng = np.random.default_rng(3)
    z = -1.5 + 0.2 * (np.arange(2010, 2024) - 2022) + rng.normal(0, 0.02, 14)
    obs = pd.DataFrame({"geo": "vietnam", "indicator": IND, "definition": "a", "year": np.arange(2010, 2024),
                        "period": "", "release": "", "value": 90.0 * LOGIT.to_fraction(z), "unit": "%",
                        "source_url": "synthetic", "quote": "", "note": "SYNTHETIC test data", "status": "used",
                        "time": np.arange(2010, 2024) + 1.0})
    conf = dataclasses.replace(cfg, indicators=(spec,), hyper_samples=1, first_year=2016, reference_year=2022,
                               exclusions=(), baseline_spend_bn_vnd={})
    return Calibrator(conf).fit(obs)


def test_a_smooth_series_narrows_the_projection_and_a_typed_value_stays(cfg):
    """A typed process_sd of 0.3 is used as it is; the same value as a prior's median gives way to the readings
    of a smooth series (no walk): the posterior, the parameter draws and the projected yearly spread use it."""
    typed = _fit(cfg, _spec(0.3, None))
    estimated = _fit(cfg, _spec(0.3, LogNormalPrior(0.3, 0.75)))
    assert typed.posteriors_[IND].process_sd == 0.3
    sd = estimated.posteriors_[IND].process_sd
    assert sd < 0.1
    draws = 20000
    spreads = []
    for cal in (typed, estimated):
        assert cal.sample(10, 0).process_sd[0] == cal.posteriors_[IND].process_sd
        ens = run_ensemble(cal, [Scenario("synthetic", "SYNTHETIC", ("vietnam",), "multiple", {},
                                          settings=RunSettings(2030, draws, 1))], draws, 4)
        z = LOGIT.to_linear(np.array([ens.series_draws(y, "vietnam", (IND, "a"))[0] for y in (2029, 2030)]) / 90)
        spreads.append(np.var(z[1] - z[0]))         # one projected year: the walk's variance, slope constant
    assert spreads[0] == pytest.approx(0.3**2, rel=0.05)
    assert spreads[1] == pytest.approx(sd**2, rel=0.05)


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
