"""Known answers for the model core, on tiny SYNTHETIC designs made here (so changes to the shipped data cannot
break them): the conjugate posterior, definitions at their offsets, projected variances with and without process
noise, readings placed at their month, exact target comparisons, ``mc_se`` and the backtest's reading noise.

Every number below is either chosen here (the truth of a synthetic design) or computed from a closed form, never
copied from a run of dxsim. Hyper-parameter priors have ``log_sd = 0``, which fixes the pooling and noise sds at
their medians: the posterior is then exactly Gaussian with a known closed form.
"""

from __future__ import annotations

import dataclasses
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from dxsim.analyses.origins import with_measurement_noise
from dxsim.analyses.scoring import central_interval, covered, log_score
from dxsim.core import simulate as simulate_module
from dxsim.core.calibrate import Calibrator
from dxsim.core.drivers import RolloutDrivers
from dxsim.core.ensemble import _check_sampling_memory, run_ensemble
from dxsim.core.model import Law
from dxsim.core.paths import Ensemble
from dxsim.core.quantiles import VALUES_BOUND
from dxsim.core.simulate import BYTES_LIMIT, _step_share, check_memory
from dxsim.core.targets import CEILING_TOLERANCE, all_targets_probabilities, target_met, target_probabilities
from dxsim.inputs.config import DefinitionSpec, IndicatorSpec, LogNormalPrior, NormalPrior
from dxsim.inputs.observations import load_observations
from dxsim.inputs.scenario import Event, RunSettings, Scenario

IND = "synthetic_share"
REF = 2022                      # reference year: t0 = REF + month / 12, so dt = year - REF for a year-end reading
JUMP_OFF = 2023                 # the last year of the synthetic readings: the jump-off follows the data
LOGIT = Law("logistic")


def _spec(*, definitions=None, level_prior=(0.0, 3.0), slope_prior=(0.3, 0.5), level_sd=0.5, slope_sd=0.1,
          obs_sd=0.1, process_sd=0.0) -> IndicatorSpec:
    """A SYNTHETIC logistic indicator read at year end, with fixed hyper-parameters (log_sd = 0)."""
    return IndicatorSpec(
        name=IND, label="SYNTHETIC share", law=LOGIT, pillar="broadband", reading_month=12, headline=True,
        anchor="a", definitions=definitions or (DefinitionSpec("a", 90.0, None),), excluded_definitions={},
        level_prior=NormalPrior(*level_prior), slope_prior=NormalPrior(*slope_prior),
        level_sd=LogNormalPrior(level_sd, 0.0), slope_sd=LogNormalPrior(slope_sd, 0.0),
        obs_sd=LogNormalPrior(obs_sd, 0.0), process_sd=process_sd, elasticity=LogNormalPrior(0.5, 0.0))


def _config(cfg, spec: IndicatorSpec, first_year: int = 2016):
    """The shipped config's geos and files with only the SYNTHETIC indicator (one Gaussian posterior)."""
    return dataclasses.replace(cfg, indicators=(spec,), hyper_samples=1, first_year=first_year,
                               reference_year=REF, exclusions=(),
                               baseline_spend_bn_vnd={})


def _readings(rows: list[tuple[str, str, int, float]], spec: IndicatorSpec) -> pd.DataFrame:
    """SYNTHETIC year-end readings (geo, definition, year, z on the logit scale) as an observations frame."""
    out = []
    for geo, dfn, year, z in rows:
        ceiling = spec.definition(dfn).ceiling
        out.append({"geo": geo, "indicator": IND, "definition": dfn, "year": year, "period": "", "release": "",
                    "value": ceiling * float(LOGIT.to_fraction(np.array(z))), "unit": "%",
                    "source_url": "synthetic", "quote": "", "note": "SYNTHETIC test data", "status": "used",
                    "time": year + 1.0})
    return pd.DataFrame(out)


def _conjugate(X: np.ndarray, y: np.ndarray, m0: np.ndarray, v0: np.ndarray, noise_var: float):
    """Closed-form Gaussian posterior (covariance form): m0 + V0 X'(X V0 X' + s2 I)^-1 (y - X m0)."""
    V0 = np.diag(v0)
    gain = V0 @ X.T @ np.linalg.inv(X @ V0 @ X.T + noise_var * np.eye(len(y)))
    return m0 + gain @ (y - X @ m0), V0 - gain @ X @ V0


def _scenario(geos: tuple[str, ...], draws: int, horizon: int = 2030) -> Scenario:
    return Scenario("synthetic", "SYNTHETIC", geos, "multiple", {}, settings=RunSettings(horizon, draws, 1))


def _z(values: np.ndarray, ceiling: float) -> np.ndarray:
    return LOGIT.to_linear(np.asarray(values, float) / ceiling)


# ---- the pooled posterior ---------------------------------------------------------------------------------
def test_national_level_is_the_normal_normal_posterior(cfg):
    """Readings at t0 only: the level's posterior is the textbook precision-weighted mean; the slope keeps its
    prior; a province without readings adds the pooling sd to the national level's variance."""
    spec = _spec(level_prior=(0.4, 2.0), obs_sd=0.3)
    z = [-0.2, 0.1, 0.25]
    obs = _readings([("vietnam", "a", REF, v) for v in z], spec)
    post = Calibrator(_config(cfg, spec)).fit(obs).posteriors_[IND]
    mean, cov = post.moments()
    precision = 1 / 2.0**2 + len(z) / 0.3**2
    assert mean[0] == pytest.approx((0.4 / 2.0**2 + sum(z) / 0.3**2) / precision, abs=1e-9)
    assert cov[0, 0] == pytest.approx(1 / precision, rel=1e-9)
    assert (mean[1], cov[1, 1]) == pytest.approx((0.3, 0.5**2), rel=1e-9)
    g = post.geos.index("ben_tre")
    assert mean[1 + g] == pytest.approx(0.0, abs=1e-12) and cov[1 + g, 1 + g] == pytest.approx(0.5**2, rel=1e-9)


def _two_geo_design(cfg):
    spec = _spec(level_prior=(0.0, 3.0), slope_prior=(0.3, 0.5), level_sd=0.5, slope_sd=0.1, obs_sd=0.15)
    rng = np.random.default_rng(11)
    rows = [("vietnam", "a", y, -1.0 + 0.3 * (y - REF) + rng.normal(0, 0.15)) for y in range(2017, 2024)]
    rows += [("an_giang", "a", y, -0.4 + 0.2 * (y - REF) + rng.normal(0, 0.15)) for y in (2019, 2021, 2023)]
    obs = _readings(rows, spec)
    # the sub-problem (level_nat, slope_nat, d_level_an_giang, d_slope_an_giang): every other parameter is
    # untouched by the data
    dt = obs["time"].to_numpy() - (REF + 1.0)
    prov = (obs["geo"] == "an_giang").to_numpy(float)
    X = np.column_stack([np.ones_like(dt), dt, prov, prov * dt])
    m, c = _conjugate(X, _z(obs["value"], 90.0), np.array([0.0, 0.3, 0.0, 0.0]),
                      np.array([3.0**2, 0.5**2, 0.5**2, 0.1**2]), 0.15**2)
    return spec, obs, m, c


def test_posterior_mean_and_covariance_match_the_conjugate_closed_form(cfg):
    spec, obs, m, c = _two_geo_design(cfg)
    post = Calibrator(_config(cfg, spec)).fit(obs).posteriors_[IND]
    G = len(post.geos)
    g = post.geos.index("an_giang")
    idx = [0, 1, 1 + g, G + g]
    mean, cov = post.moments()
    np.testing.assert_allclose(mean[idx], m, atol=1e-9)
    np.testing.assert_allclose(cov[np.ix_(idx, idx)], c, atol=1e-10)
    assert abs(c[0, 1]) / np.sqrt(c[0, 0] * c[1, 1]) > 0.3           # correlated: a transposed root shows


def test_parameter_draws_have_the_closed_form_covariance(cfg):
    """Draws of (level, slope) of the nation and of a province with readings: sample mean and covariance match
    the closed form (20000 draws: a few standard errors of tolerance)."""
    spec, obs, m, c = _two_geo_design(cfg)
    cal = Calibrator(_config(cfg, spec)).fit(obs)
    draws = cal.sample(20000, 5)
    g = draws.geos.index("an_giang")
    got = np.column_stack([draws.level[:, 0, 0], draws.slope[:, 0, 0], draws.level[:, g, 0],
                           draws.slope[:, g, 0]])
    A = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]], float)   # per-geo level and slope
    want_mean, want_cov = A @ m, A @ c @ A.T
    sd = np.sqrt(np.diag(want_cov))
    assert np.all(np.abs(got.mean(axis=0) - want_mean) < 4 * sd / np.sqrt(len(got)))
    np.testing.assert_allclose(got.std(axis=0), sd, rtol=0.03)
    np.testing.assert_allclose(np.corrcoef(got.T), want_cov / np.outer(sd, sd), atol=0.03)


# ---- definitions at their offsets -------------------------------------------------------------------------
OFFSET_B, OFFSET_C, SLOPE_OFFSET_C = 0.7, -0.4, 0.15


def _definitions_fit(cfg):
    defs = (DefinitionSpec("a", 90.0, None), DefinitionSpec("b", 60.0, NormalPrior(0.0, 2.0)),
            DefinitionSpec("c", 100.0, NormalPrior(0.0, 2.0), NormalPrior(0.0, 1.0)))
    spec = _spec(definitions=defs, obs_sd=0.02)
    truth = {y: -1.0 + 0.3 * (y - REF) for y in range(2016, 2024)}
    rows = [("vietnam", "a", y, z) for y, z in truth.items()]
    rows += [("vietnam", "b", y, z + OFFSET_B) for y, z in truth.items() if y >= 2019]
    rows += [("vietnam", "c", y, z + OFFSET_C + SLOPE_OFFSET_C * (y - REF)) for y, z in truth.items() if y <= 2021]
    obs = _readings(rows, spec)
    cal = Calibrator(_config(cfg, spec)).fit(obs)
    return cal, obs


@pytest.fixture(scope="module")
def definitions(cfg):
    cal, obs = _definitions_fit(cfg)
    ens = run_ensemble(cal, [_scenario(("vietnam",), 2000)], 2000, 3)
    return cal, obs, ens


def test_offsets_are_fitted_with_their_sign(definitions):
    cal, _, _ = definitions
    table = cal.parameter_table().set_index(["parameter", "definition"])["mean"]
    assert table[("definition_offset", "b")] == pytest.approx(OFFSET_B, abs=0.03)
    assert table[("definition_offset", "c")] == pytest.approx(OFFSET_C, abs=0.03)
    assert table[("definition_slope_offset", "c")] == pytest.approx(SLOPE_OFFSET_C, abs=0.01)


def test_each_definition_reproduces_its_own_readings(definitions):
    _, obs, ens = definitions
    for row in obs.itertuples():
        draws = ens.series_draws(row.year, "vietnam", (IND, row.definition))[0]
        assert np.median(draws) == pytest.approx(row.value, abs=0.3), (row.definition, row.year)


def test_definitions_sit_at_their_offsets_from_the_anchor_in_every_year(definitions):
    """Per draw, on the logit scale: b - a is b's offset draw in every year; c - a grows by c's slope offset per
    year, in the fitted years and in projected ones (same shocks, speeds max(slope + offset, 0) vs max(slope, 0))."""
    cal, _, ens = definitions
    table = cal.parameter_table().set_index(["parameter", "definition"])["mean"]
    za, zb, zc = (np.array([_z(ens.series_draws(y, "vietnam", (IND, d))[0], ceiling) for y in ens.years])
                  for d, ceiling in (("a", 90.0), ("b", 60.0), ("c", 100.0)))
    gap_b = zb - za                                                    # (year, draw)
    np.testing.assert_allclose(gap_b, np.broadcast_to(gap_b[0], gap_b.shape), atol=1e-4)
    assert gap_b[0].mean() == pytest.approx(table[("definition_offset", "b")], abs=0.01)
    dt = np.array(ens.years, float) - REF
    gap_c = (zc - za).mean(axis=1)
    want = table[("definition_offset", "c")] + table[("definition_slope_offset", "c")] * dt
    np.testing.assert_allclose(gap_c, want, atol=0.01)
    assert ens.years[-1] > JUMP_OFF


# ---- projected variance ---------------------------------------------------------------------------------
@pytest.mark.parametrize("process_sd", [0.0, 0.25])
def test_projected_variance_matches_the_analytic_value(cfg, process_sd):
    """Constant slope (multiple 1, no damping, slope well above 0): z(y) = level + slope (y - REF) + sum of
    (y - jump-off) shocks, so Var z = c' Cov c + (y - jump-off) process_sd^2 with c = (1, y - REF)."""
    spec = _spec(level_prior=(0.0, 3.0), slope_prior=(0.2, 0.5), obs_sd=0.05, process_sd=process_sd)
    rng = np.random.default_rng(2)
    obs = _readings([("vietnam", "a", y, -1.5 + 0.2 * (y - REF) + rng.normal(0, 0.05))
                     for y in range(2016, 2024)], spec)
    cal = Calibrator(_config(cfg, spec)).fit(obs)
    mean, cov = cal.posteriors_[IND].moments()
    assert mean[1] > 10 * np.sqrt(cov[1, 1])                          # max(slope, 0) never binds
    D = 20000
    ens = run_ensemble(cal, [_scenario(("vietnam",), D)], D, 4)
    for year in (2020, 2026, 2030):
        z = _z(ens.series_draws(year, "vietnam", (IND, "a"))[0], 90.0)
        c = np.array([1.0, year - REF])
        var = c @ cov[:2, :2] @ c + max(year - JUMP_OFF, 0) * process_sd**2
        assert z.var() == pytest.approx(var, rel=0.05), year
        assert z.mean() == pytest.approx(c @ mean[:2], abs=4 * np.sqrt(var / D)), year


# ---- readings placed at their month ---------------------------------------------------------------------
def test_a_readings_month_moves_the_fit_by_the_slope_times_the_shift(cfg, tmp_path):
    """One national reading with the slope known (prior sd 1e-4): read in June instead of December, the same
    value implies a level higher by slope x 0.5 years at t0."""
    spec = _spec(level_prior=(0.0, 10.0), slope_prior=(0.3, 1e-4), obs_sd=0.1)
    conf = _config(cfg, spec)
    levels = {}
    for period in ("", "2022-06"):
        path = tmp_path / f"obs{period}.csv"
        pd.DataFrame([{"geo": "vietnam", "indicator": IND, "definition": "a", "year": 2022, "period": period,
                       "value": 45.0, "unit": "%", "source_url": "synthetic",
                       "note": "SYNTHETIC test data"}]).to_csv(path, index=False)
        obs = load_observations(conf, path)
        post = Calibrator(conf).fit(obs).posteriors_[IND]
        dt = obs["time"].iloc[0] - post.t0
        m, _ = _conjugate(np.array([[1.0, dt]]), np.array([0.0]), np.array([0.0, 0.3]),
                          np.array([10.0**2, 1e-8]), 0.1**2)
        levels[period] = post.moments()[0][0]
        assert levels[period] == pytest.approx(m[0], abs=1e-9)
    assert levels["2022-06"] - levels[""] == pytest.approx(0.3 * 0.5, abs=1e-3)


# ---- target comparisons on draws with exact answers ---------------------------------------------------------
#: logit-scale draws whose shares (ceiling 90) are exactly 0+, 45, 45, 90, 90 and about 24.2, 65.8, 79.3, 89.7
TARGET_Z = np.array([-800.0, -1.0, 0.0, 0.0, 1.0, 2.0, float(LOGIT.to_linear(np.array(89.7 / 90))), 800.0, 800.0])


def _target_ensemble(cfg):
    D = len(TARGET_Z)
    spec = _spec()
    conf = _config(cfg, spec)
    ens = Ensemble(scenarios=("s",), geos=("vietnam",), years=(2030,), indicators=(IND,), series=((IND, "a"),),
                   draws=D, first_projected_year=JUMP_OFF + 1, laws=(LOGIT,), z=TARGET_Z.reshape(1, 1, 1, 1, D),
                   series_offset=np.zeros((1, D)), series_ceiling=np.array([90.0]), own_series=(),
                   own_z=np.zeros((1, 1, 1, 0, D)), event_lift=np.zeros((1, 1, 1, 1)))
    return ens, conf


def _targets(rows: list[tuple[float, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"geo": "vietnam", "indicator": IND, "definition": "a", "deadline": 2030, "target": t,
                          "comparator": comp, "document": "SYNTHETIC", "source_url": "", "quote": ""}
                         for t, comp in rows])


def test_comparators_and_the_ceiling_rule_on_exact_draws(cfg):
    ens, conf = _target_ensemble(cfg)
    values = ens.series_draws(2030, "vietnam", (IND, "a"))[0]
    assert sorted(values[[2, 3]]) == [45.0, 45.0] and sorted(values[[7, 8]]) == [90.0, 90.0]
    assert 89.7 - CEILING_TOLERANCE < 89.5 < values[6] < 89.8
    rows = [(45.0, ">="), (45.0, ">"), (45.0, "<="), (45.0, "<"), (89.8, ">="), (90.0, ">=")]
    tp = target_probabilities(ens, conf, _targets(rows))
    D = len(TARGET_Z)
    # 45 is met by 7 draws at or above it, 5 strictly above, 4 at or below, 2 strictly below; 89.8 exactly by
    # the two draws at 90; the ceiling target 90 also by 89.7, within CEILING_TOLERANCE
    want = np.array([7, 5, 4, 2, 2, 3]) / D
    np.testing.assert_array_equal(tp["probability"].to_numpy(), want)
    np.testing.assert_allclose(tp["mc_se"].to_numpy(), np.sqrt(want * (1 - want) / D), rtol=1e-12)
    assert tp["evaluable"].all()


def test_joint_probability_and_its_mc_se_on_exact_draws(cfg):
    ens, conf = _target_ensemble(cfg)
    # >= 45 and <= 45 together: only the two draws exactly at 45
    joint = all_targets_probabilities(ens, conf, _targets([(45.0, ">="), (45.0, "<=")]))
    row = joint[joint["scope"] == "all"].iloc[0]
    D = len(TARGET_Z)
    assert row["probability"] == 2 / D and row["n_targets"] == 2
    assert row["mc_se"] == pytest.approx(np.sqrt(2 / D * (1 - 2 / D) / D), rel=1e-12)
    assert row["probability_text"] == f"{2 / D:.3f}"
    # a target the model cannot evaluate (above the 90% ceiling) is left out; a target due in the first projected
    # year is a projected one
    ens = dataclasses.replace(ens, first_projected_year=2030)
    joint = all_targets_probabilities(ens, conf, _targets([(45.0, ">="), (45.0, "<="), (95.0, ">=")]))
    assert joint["scope"].tolist() == ["all", "projected"]
    assert joint["n_targets"].tolist() == [2, 2] and joint["probability"].tolist() == [2 / D, 2 / D]


# ---- the backtest's forecast of a reading ---------------------------------------------------------------------
def test_a_readings_forecast_adds_the_fitted_measurement_noise(cfg):
    """On the logit scale the forecast of a reading is the latent draw plus N(0, obs_sd^2): its variance
    exceeds the latent's by obs_sd^2 (obs_sd fixed at 0.3 by the synthetic priors)."""
    spec = _spec(obs_sd=0.3)
    conf = _config(cfg, spec)
    cal = Calibrator(conf).fit(_readings([("vietnam", "a", y, 0.1 * (y - REF)) for y in range(2018, 2024)], spec))
    rng = np.random.default_rng(8)
    latent_z = rng.normal(0.2, 0.4, 40000)
    latent = 90.0 * LOGIT.to_fraction(latent_z)
    noisy = with_measurement_noise(conf, cal, IND, "a", latent, np.random.default_rng(9))
    noise = _z(noisy, 90.0) - latent_z
    assert noise.mean() == pytest.approx(0.0, abs=4 * 0.3 / np.sqrt(len(noise)))
    assert noise.std() == pytest.approx(0.3, rel=0.03)
    assert _z(noisy, 90.0).var() == pytest.approx(latent_z.var() + 0.3**2, rel=0.04)


# ---- the economists' tables and the saved draws -----------------------------------------------------------
def test_fit_and_parameter_tables_report_the_closed_form(cfg):
    spec, obs, m, c = _two_geo_design(cfg)
    cal = Calibrator(_config(cfg, spec)).fit(obs)
    sd = np.sqrt(np.diag(c))
    par = cal.parameter_table().set_index(["parameter", "geo"])
    for k, key in enumerate([("level", "vietnam"), ("slope", "vietnam"), ("level_deviation", "an_giang"),
                             ("slope_deviation", "an_giang")]):
        row = par.loc[key]
        assert (row["mean"], row["sd"]) == pytest.approx((m[k], sd[k]), abs=1e-9), key
        assert (row["q05"], row["q95"]) == pytest.approx((m[k] - 1.645 * sd[k], m[k] + 1.645 * sd[k]), abs=1e-9)
        assert not row["pooled"] and row["scale"] == "logistic" and row["definition"] == ""
    pooled = par.loc[("level_deviation", "long_an")]               # no readings, one of the reported geos
    assert pooled["pooled"] and (pooled["mean"], pooled["sd"]) == pytest.approx((0.0, 0.5), abs=1e-9)
    assert "ben_tre" not in par.index.get_level_values("geo")       # pooled and not reported: left out
    for name, value in (("level_sd", 0.5), ("slope_sd", 0.1), ("obs_sd", 0.15)):
        row = par.loc[(name, "")]
        assert (row["mean"], row["sd"], row["q05"], row["q95"]) == pytest.approx((value, 0.0, value, value))
        assert row["definition"] == "" and not row["pooled"] and row["scale"] == "logistic"

    fit = cal.fit_table().set_index("geo")
    row = fit.loc["an_giang"]
    mine = obs[obs["geo"] == "an_giang"]
    dt = mine["time"].to_numpy() - (REF + 1.0)
    fitted = 90.0 * LOGIT.to_fraction(m[0] + m[2] + (m[1] + m[3]) * dt)
    assert row["n_observations"] == 3 and row["definitions_observed"] == "a" and not row["pooled"]
    assert row["rms_residual_pp"] == pytest.approx(np.sqrt(np.mean((mine["value"] - fitted) ** 2)), rel=1e-9)
    assert row["slope_per_year"] == pytest.approx(m[1] + m[3], abs=1e-9)
    jump_off = 90.0 * LOGIT.to_fraction(m[0] + m[2] + (m[1] + m[3]) * (JUMP_OFF - REF))
    assert row["anchor_definition"] == "a" and row["at_jump_off"] == pytest.approx(jump_off, rel=1e-9)
    assert fit.loc["long_an", "pooled"] and fit.loc["long_an", "n_observations"] == 0
    assert np.isnan(fit.loc["long_an", "rms_residual_pp"]) and "ben_tre" not in fit.index


def test_hyper_parameter_rows_summarise_the_hyper_samples(cfg):
    spec, obs, _, _ = _two_geo_design(cfg)
    spec = dataclasses.replace(spec, obs_sd=LogNormalPrior(0.15, 0.5))           # a free measurement sd
    cal = Calibrator(dataclasses.replace(_config(cfg, spec), hyper_samples=8)).fit(obs)
    post = cal.posteriors_[IND]
    samples = post.hypers[:, 2]
    assert samples.std() > 0
    row = cal.parameter_table().set_index("parameter").loc["obs_sd"]
    assert row["mean"] == pytest.approx(post.hyper_map[2], rel=1e-12)
    assert (row["sd"], row["q05"], row["q95"]) == pytest.approx(
        (samples.std(), np.quantile(samples, 0.05), np.quantile(samples, 0.95)), rel=1e-12)


def test_saved_draws_are_the_sampled_arrays(cfg):
    spec, obs, _, _ = _two_geo_design(cfg)
    draws = Calibrator(_config(cfg, spec)).fit(obs).sample(50, 1)
    saved = draws.to_npz_dict()
    assert saved["geos"].tolist() == list(draws.geos) and saved["indicators"].tolist() == [IND]
    assert saved["series"].tolist() == [f"{IND}:a"]
    for name in ("level", "slope", "offset", "slope_offset", "elasticity", "cross_elasticity"):
        np.testing.assert_array_equal(saved[name], getattr(draws, name))


# ---- scores: bounds and bandwidths with exact answers ------------------------------------------------------
def test_coverage_includes_both_bounds_of_the_central_interval():
    samples = np.arange(101.0)[None, :].repeat(4, axis=0)         # SYNTHETIC: the 50% interval is exactly [25, 75]
    lo, hi = central_interval(samples, 0.5)
    assert lo.tolist() == [25.0] * 4 and hi.tolist() == [75.0] * 4
    assert covered(samples, np.array([25.0, 75.0, 24.99, 75.01]), 0.5).tolist() == [True, True, False, False]


def _silverman_log_score(x: np.ndarray, y: float) -> float:
    """The documented rule, one forecast at a time: Gaussian KDE, bandwidth 0.9 min(sd, IQR/1.34) n^-1/5 (sd
    when that minimum is 0), at least 0.1; the log density floored at -10."""
    n = len(x)
    sd = float(np.std(x, ddof=1)) if n > 1 else 0.0
    q75, q25 = np.percentile(x, [75, 25])
    spread = min(sd, (q75 - q25) / 1.34)
    if spread <= 0:
        spread = sd
    h = max(0.9 * spread * n ** -0.2, 0.1)
    density = np.mean(np.exp(-0.5 * ((y - x) / h) ** 2)) / (h * np.sqrt(2 * np.pi))
    with np.errstate(divide="ignore"):
        return max(float(np.log(density)), -10.0)


@pytest.mark.parametrize("x, y", [
    ([50.0], 50.0),                                               # one sample: the bandwidth floor
    ([40.0, 60.0], 52.0),                                         # two samples: IQR/1.34 < sd
    ([0.0] * 5 + [10.0] * 5, 3.0),                                # sd < IQR/1.34: the sd (ddof 1) decides
    ([50.0] * 8 + [45.0, 56.0], 50.5),                            # IQR 0: the sd takes over
    (list(50 + np.linspace(-0.6, 0.6, 16)) + [44.0, 47.0, 53.0, 58.0], 50.2),   # IQR/1.34 below 1 point
    ([50.0, 51.0, 52.0], 90.0),                                   # far outside: the floor
])
def test_log_score_follows_the_documented_bandwidth_rule(x, y):
    x = np.array(x)
    assert log_score(x[None, :], np.array([y]))[0] == pytest.approx(_silverman_log_score(x, y), rel=1e-12)


def test_log_score_scores_each_forecast_with_its_own_bandwidth():
    rows = np.array([[0.0] * 5 + [10.0] * 5, list(50 + np.linspace(-0.6, 0.6, 8)) + [47.0, 53.0]])
    y = np.array([3.0, 50.2])
    got = log_score(rows, y)
    np.testing.assert_allclose(got, [_silverman_log_score(r, v) for r, v in zip(rows, y, strict=True)], rtol=1e-12)


# ---- programme effects enter per draw -----------------------------------------------------------------------
def _fake_rollouts(n: int, years: tuple[int, ...], value: float = 2.0) -> SimpleNamespace:
    """SYNTHETIC rollouts (two geos, one indicator) whose effects act in EVERY year, the past included."""
    shape = (n, len(years), 2, 1)
    speed = np.full(shape, value) * np.arange(1, n + 1)[:, None, None, None]
    return SimpleNamespace(n_rollouts=n, years=years, geos=("g0", "g1"), indicators=(IND,),
                           effects=lambda: (speed, np.full(shape, 1.0), np.full(shape, 3.0)))


def test_rollout_effects_are_neutral_up_to_the_jump_off_and_paired_by_draw():
    years = np.arange(2022, 2027)
    ro = _fake_rollouts(2, tuple(range(2020, 2031)))
    drivers = RolloutDrivers.from_rollouts([ro, None], ("g1",), (IND,), years, 5, 2023)
    assert drivers.speed.shape == (5, 2, 1, 1, 2)
    assert np.all(drivers.speed[:2] == 1) and np.all(drivers.ceiling_lift[:2] == 0)   # 2022, 2023: history
    assert np.all(drivers.share_step[:2] == 0)
    assert drivers.speed[2:, 0, 0, 0].tolist() == [[2.0, 4.0]] * 3 and np.all(drivers.speed[:, 1] == 1)
    assert np.all(drivers.ceiling_lift[2:, 0] == 1.0) and np.all(drivers.share_step[2:, 0] == 3.0)
    assert drivers.rollout_of_draw.tolist() == [0, 1, 0, 1, 0]
    with pytest.raises(ValueError, match="same number of rollouts"):
        RolloutDrivers.from_rollouts([ro, _fake_rollouts(3, ro.years)], ("g1",), (IND,), years, 5, 2023)


def test_rollout_multipliers_reach_every_draw_when_draws_are_not_a_multiple_of_rollouts():
    array = np.array([2.0, 3.0]).reshape(1, 1, 1, 1, 2)               # (year, scenario, geo, indicator, rollout)
    drivers = RolloutDrivers(array, array, array, np.arange(5) % 2)
    target = np.ones((1, 1, 1, 5))
    drivers.multiply_into(target, array, 0)
    assert target.ravel().tolist() == [2.0, 3.0, 2.0, 3.0, 2.0]
    assert drivers.at(array, 0).ravel().tolist() == [2.0, 3.0, 2.0, 3.0, 2.0]


def test_a_share_step_raises_the_share_by_its_points_below_the_ceiling():
    z = np.zeros((1, 1, 1, 4))                                    # share 45 of a 90 ceiling in every draw
    _step_share(z, (LOGIT,), np.full(z.shape, 90.0), np.array([0.0, 9.0, 500.0, 0.5]).reshape(z.shape))
    share = 90.0 * LOGIT.to_fraction(z).ravel()
    assert share[0] == 45.0 and share[1] == pytest.approx(54.0, abs=1e-9) and share[3] == pytest.approx(45.5)
    assert 90.0 - 1e-6 < share[2] < 90.0                          # capped just below the ceiling


def test_scores_refuse_forecasts_and_readings_of_different_lengths():
    with pytest.raises(ValueError, match="2 forecasts for 3 readings"):
        covered(np.ones((2, 4)), np.ones(3), 0.5)


# ---- levers: exact speed factors per draw ------------------------------------------------------------------
def test_investment_events_and_damping_scale_each_years_step_exactly(cfg):
    """Without process noise every projected step is slope x damping**h x m_own**e x m_broadband**e_cross x event
    speed, per draw. Elasticities are fixed (log_sd 0): own 0.5, cross 0.25; broadband x4 from 2024 doubles the
    broadband indicator's steps and multiplies the other's by 4**0.25; its own x9 from 2026 by 3 more; an event
    x1.5 from 2027; damping 0.8 and 0.9. A programme whose rollouts change nothing changes nothing."""
    a = dataclasses.replace(_spec(slope_prior=(0.15, 0.01), slope_sd=0.01, obs_sd=0.05), damping=0.8)
    b = dataclasses.replace(_spec(slope_prior=(0.2, 0.01), slope_sd=0.01, obs_sd=0.05), name="synthetic_other",
                            pillar="digital_economy", damping=0.9)
    conf = dataclasses.replace(_config(cfg, a), indicators=(a, b), cross_elasticity=LogNormalPrior(0.25, 0.0))
    obs = pd.concat([_readings([("vietnam", "a", y, -2.0 + 0.15 * (y - REF)) for y in range(2018, 2024)], a),
                     _readings([("vietnam", "a", y, -1.0 + 0.2 * (y - REF)) for y in range(2018, 2024)], b)
                     .assign(indicator="synthetic_other")], ignore_index=True)
    cal = Calibrator(conf).fit(obs)
    base = _scenario(("vietnam", "ha_noi"), 200)
    lever = dataclasses.replace(base, name="lever", investment={("*", "broadband"): {2024: 4.0},
                                                                 ("*", "digital_economy"): {2026: 9.0}},
                                events=(Event("mandate", "synthetic_other", ("vietnam",), 2027, speed_multiplier=1.5),))
    years = np.arange(2022, 2031)            # the 2022-2023 step is the fitted slope itself, per draw
    shape = (2, len(years), 2, 2)                                      # (rollout, year, geo, indicator)
    neutral = SimpleNamespace(n_rollouts=2, years=tuple(int(y) for y in years), geos=base.geos,
                              indicators=(IND, "synthetic_other"),
                              effects=lambda: (np.ones(shape), np.zeros(shape), np.zeros(shape)))
    lift = SimpleNamespace(n_rollouts=2, years=neutral.years, geos=base.geos, indicators=neutral.indicators,
                           effects=lambda: (np.ones(shape), np.full(shape, 4.5), np.zeros(shape)))
    ens = run_ensemble(cal, [base, lever, dataclasses.replace(lever, name="programme"),
                             dataclasses.replace(lever, name="lift")], 200, 6, rollouts=[None, None, neutral, lift])
    # a programme's ceiling lift of 4.5 points keeps the adoption fraction: shares x (90 + 4.5) / 90 after the
    # jump-off, unchanged up to it
    for year, factor in ((2023, 1.0), (2024, 94.5 / 90.0), (2030, 94.5 / 90.0)):
        got = ens.series_draws(year, "ha_noi", (IND, "a"))
        np.testing.assert_allclose(got[3], got[1] * factor, rtol=1e-12)

    def close(got: np.ndarray, want) -> None:
        np.testing.assert_allclose(got, np.broadcast_to(want, got.shape), rtol=1e-4)

    def steps(indicator: str, geo: str) -> np.ndarray:                  # (scenario, year, draw)
        z = np.stack([_z(ens.series_draws(int(y), geo, (indicator, "a"))[:3], 90.0) for y in years], axis=1)
        return np.diff(z, axis=1)

    for geo in ("vietnam", "ha_noi"):
        sa, sb = steps(IND, geo), steps("synthetic_other", geo)
        assert np.all(sa[0] > 0) and np.all(sb[0] > 0)
        h = np.maximum(years[1:] - JUMP_OFF, 0)                             # 0: the fitted step
        close(sa[0] / sa[0, :1], (0.8 ** h)[:, None])                        # damping
        close(sa[1] / sa[0], np.where(h > 0, 2.0, 1.0)[:, None])             # 4 ** 0.5 after the jump-off
        own = np.where(years[1:] >= 2026, 3.0, 1.0)
        event = np.where((years[1:] >= 2027) & (geo == "vietnam"), 1.5, 1.0)
        close(sb[1] / sb[0], (np.where(h > 0, 4 ** 0.25, 1.0) * own * event)[:, None])
        close(sb[0] / sb[0, :1], (0.9 ** h)[:, None])
        close(np.stack([sa[2], sb[2]]), np.stack([sa[1], sb[1]]))             # the neutral programme


def test_trajectories_summarise_the_draws_of_every_row(definitions):
    _, obs, ens = definitions
    tr = ens.trajectories()
    assert len(tr) == len(ens.years) * len(ens.series) and set(tr["scenario"]) == {"synthetic"}
    last = obs.groupby("definition")["year"].max()                # a series is projected after its last reading
    assert last.to_dict() == {"a": 2023, "b": 2023, "c": 2021}
    assert (tr["projected"] == (tr["year"] > tr["definition"].map(last))).all()
    levels = {"q025": 0.025, "q05": 0.05, "q10": 0.1, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q90": 0.9,
              "q95": 0.95, "q975": 0.975}
    for row in tr.sample(12, random_state=1).itertuples():
        draws = ens.series_draws(row.year, row.geo, (row.indicator, row.definition))[0]
        # means and quantiles are read from float32 shares (core/quantiles.py): within its bound
        assert row.mean == pytest.approx(draws.mean(), rel=0, abs=VALUES_BOUND)
        for col, q in levels.items():
            assert getattr(row, col) == pytest.approx(np.quantile(draws, q), rel=0, abs=VALUES_BOUND), col


def test_targets_the_model_cannot_evaluate_say_why(cfg):
    ens, conf = _target_ensemble(cfg)
    spec = dataclasses.replace(conf.indicators[0], excluded_definitions={"old": "SYNTHETIC reason"})
    conf = dataclasses.replace(conf, indicators=(spec,))
    rows = _targets([(45.0, ">=")] * 7)
    rows.loc[0, "indicator"] = "unknown_share"
    rows.loc[1, "definition"] = "old"
    rows.loc[2, "definition"] = ""
    rows.loc[3, "definition"] = "zzz"
    rows.loc[4, "geo"] = "ha_noi"
    rows.loc[5, "deadline"] = 2031
    rows.loc[6, "target"] = 95.0
    tp = target_probabilities(ens, conf, rows)
    assert tp["reason"].tolist()[:6] == [
        "indicator unknown_share is not modelled", "definition old is not modelled: SYNTHETIC reason",
        "definition (none) is not modelled", "definition zzz is not modelled", "geo ha_noi is not in the scenario",
        "deadline 2031 is outside the simulated years 2030-2030"]
    assert "above the 90% ceiling" in tp["reason"].iloc[6]
    assert not tp["evaluable"].any() and tp["probability"].isna().all() and tp["mc_se"].isna().all()
    assert (tp["probability_text"] == "").all()


def test_probabilities_per_scenario_with_their_texts(cfg):
    ens, conf = _target_ensemble(cfg)
    D = len(TARGET_Z)
    z = np.concatenate([ens.z, ens.z + 2000.0], axis=1)          # scenario t: every draw at the ceiling
    ens = dataclasses.replace(ens, scenarios=("s", "t"), z=z, event_lift=np.zeros((1, 2, 1, 1)))
    info, met = target_met(ens, conf, _targets([(45.0, ">="), (0.0, "<")]))
    assert met.dtype == bool and met.shape == (2, 2, D)
    tp = target_probabilities(ens, conf, _targets([(45.0, ">="), (0.0, "<")]))
    assert tp.index.tolist() == [0, 1, 2, 3] and tp["scenario"].tolist() == ["s", "s", "t", "t"]
    assert tp["probability"].tolist() == [7 / D, 0.0, 1.0, 0.0]
    assert tp["probability_text"].tolist() == [f"{7 / D:.3f}", f"< 1/{D}", f"> 1 - 1/{D}", f"< 1/{D}"]
    joint = all_targets_probabilities(ens, conf, _targets([(45.0, ">=")]))
    joint = joint[joint["scope"] == "all"]
    assert joint["scenario"].tolist() == ["s", "t"] and joint["probability"].tolist() == [7 / D, 1.0]
    assert joint["probability_text"].tolist() == [f"{7 / D:.3f}", f"> 1 - 1/{D}"]


def test_a_method_break_shifts_only_the_readings_before_it(cfg):
    """SYNTHETIC readings of a definition measured another way before 2021 (+1.2 on the logit scale): the fit
    finds the definition's offset (+0.5) and the break's (+1.2), and the definition after the break reproduces
    its readings."""
    defs = (DefinitionSpec("a", 90.0, None),
            DefinitionSpec("m", 80.0, NormalPrior(0.0, 2.0), break_year=2021, break_offset=NormalPrior(0.0, 2.0)))
    spec = _spec(definitions=defs, obs_sd=0.02)
    truth = {y: -1.0 + 0.3 * (y - REF) for y in range(2016, 2024)}
    rows = [("vietnam", "a", y, z) for y, z in truth.items()]
    rows += [("vietnam", "m", y, z + 0.5 + (1.2 if y < 2021 else 0.0)) for y, z in truth.items() if y >= 2017]
    obs = _readings(rows, spec)
    cal = Calibrator(_config(cfg, spec)).fit(obs)
    table = cal.parameter_table().set_index(["parameter", "definition"])["mean"]
    assert table[("definition_offset", "m")] == pytest.approx(0.5, abs=0.03)
    assert table[("definition_break_offset", "m")] == pytest.approx(1.2, abs=0.03)
    ens = run_ensemble(cal, [_scenario(("vietnam",), 500)], 500, 2)
    for row in obs[(obs["definition"] == "m") & (obs["year"] >= 2021)].itertuples():
        assert np.median(ens.series_draws(row.year, "vietnam", (IND, "m"))[0]) == pytest.approx(row.value, abs=0.3)


# ---- hyper-parameters: the mode and its Laplace spread ---------------------------------------------------------
def test_hyper_parameter_mode_and_laplace_samples_match_an_independent_computation(cfg):
    """Level pooling sd and the two measurement sds (provincial readings, national readings) free (log-normal
    priors, both noise sds on the obs_sd prior), the rest fixed: the mode of the marginal posterior, found here
    by BFGS on the closed-form marginal likelihood, and the Laplace covariance (inverse Hessian) are what the
    calibration uses; its antithetic samples are centred on the mode exactly."""
    spec, obs, _, _ = _two_geo_design(cfg)
    spec = dataclasses.replace(spec, level_sd=LogNormalPrior(0.5, 0.8), obs_sd=LogNormalPrior(0.15, 0.6))
    dt = obs["time"].to_numpy() - (REF + 1.0)
    prov = (obs["geo"] == "an_giang").to_numpy(float)
    X = np.column_stack([np.ones_like(dt), dt, prov, prov * dt])
    resid = _z(obs["value"], 90.0) - X @ np.array([0.0, 0.3, 0.0, 0.0])
    centre, spread = np.log([0.5, 0.15, 0.15]), np.array([0.8, 0.6, 0.6])

    def neg_log_post(theta: np.ndarray) -> float:
        level_sd, obs_sd, obs_sd_national = np.exp(theta)
        noise = np.where(prov == 1, obs_sd**2, obs_sd_national**2)
        cov = X @ np.diag([3.0**2, 0.5**2, level_sd**2, 0.1**2]) @ X.T + np.diag(noise)
        _, logdet = np.linalg.slogdet(cov)
        loglik = -0.5 * (resid @ np.linalg.solve(cov, resid) + logdet + len(resid) * np.log(2 * np.pi))
        return -(loglik - 0.5 * np.sum(((theta - centre) / spread) ** 2))

    best = optimize.minimize(neg_log_post, centre + 0.3, method="BFGS", options={"gtol": 1e-10})
    h = 1e-4
    eye = np.eye(3)
    hess = np.array([[(neg_log_post(best.x + h * (ea + eb)) - neg_log_post(best.x + h * (ea - eb))
                       - neg_log_post(best.x - h * (ea - eb)) + neg_log_post(best.x - h * (ea + eb))) / (4 * h * h)
                      for eb in eye] for ea in eye])
    assert np.linalg.eigvalsh(hess).min() > 1.0 / spread.min() ** 2          # the prior floor does not bind
    want_cov = np.linalg.inv(hess)

    with warnings.catch_warnings():
        warnings.simplefilter("error", optimize.OptimizeWarning)            # e.g. a misspelt solver option
        cal = Calibrator(dataclasses.replace(_config(cfg, spec), hyper_samples=2000)).fit(obs)
    post = cal.posteriors_[IND]
    free = [0, 2, 3]
    np.testing.assert_allclose(np.log(post.hyper_map[free]), best.x, atol=2e-5)
    assert post.hyper_map[1] == pytest.approx(0.1, rel=1e-12)                 # fixed: its prior median
    logs = np.log(post.hypers[:, free])
    np.testing.assert_allclose(logs.mean(axis=0), np.log(post.hyper_map[free]), atol=1e-12)
    scale = want_cov.diagonal().prod() ** (1 / len(free))                    # a typical variance
    np.testing.assert_allclose(np.cov(logs.T), want_cov, rtol=0.08, atol=0.05 * scale)
    np.testing.assert_allclose(post.hypers[:, 1], 0.1, rtol=1e-12)


def test_an_indicator_whose_data_end_earlier_is_projected_from_its_own_last_year(cfg):
    """Two indicators, data through 2023 and through 2021: the second starts from its filtered state at the
    last reading (jumpoff.py: mean m, variance P, readings' weight K) and gets process noise from 2022 on, so
    Var z(y) = (c_y - K c_l)' Cov (c_y - K c_l) + P + (y - 2021) process_sd^2 from its jump-off year 2021
    (constant slope, c_y = (1, y - REF), c_l at the last reading); before it, the fitted line's c_y' Cov c_y."""
    a = _spec(obs_sd=0.05, process_sd=0.0)
    b = dataclasses.replace(_spec(slope_prior=(0.2, 0.5), obs_sd=0.05, process_sd=0.25), name="synthetic_early",
                            pillar="digital_economy")
    conf = dataclasses.replace(_config(cfg, a), indicators=(a, b))
    rng = np.random.default_rng(3)
    obs = pd.concat([_readings([("vietnam", "a", y, -1.0 + 0.3 * (y - REF)) for y in range(2016, 2024)], a),
                     _readings([("vietnam", "a", y, -1.5 + 0.2 * (y - REF) + rng.normal(0, 0.05))
                                for y in range(2016, 2022)], b).assign(indicator="synthetic_early")],
                    ignore_index=True)
    cal = Calibrator(conf).fit(obs)
    mean, cov = cal.posteriors_["synthetic_early"].moments()
    D = 20000
    ens = run_ensemble(cal, [_scenario(("vietnam",), D)], D, 4)
    post = cal.posteriors_["synthetic_early"]
    gain, state_var = post.state_gain[:, 0, 0].mean(), post.state_var[:, 0, 0].mean()
    assert 0.5 < gain < 1.0                     # precise readings, a large walk: the state follows the readings
    c_last = np.array([1.0, post.state_time[0, 0] - post.t0])
    for year in (2020, 2021, 2023, 2030):
        z = _z(ens.series_draws(year, "vietnam", ("synthetic_early", "a"))[0], 90.0)
        c = np.array([1.0, year - REF])
        if year < 2021:
            want = c @ cov[:2, :2] @ c
        else:
            d = c - gain * c_last
            want = d @ cov[:2, :2] @ d + state_var + (year - 2021) * 0.25**2
        assert z.var() == pytest.approx(want, rel=0.05), year


def test_memory_limits_refuse_exactly_above_the_byte_limit(monkeypatch):
    """Paths and working arrays need 8 S D G I (Y + 4) bytes, the process noise 8 n N I D (n arrays of the N
    known geos: one when an array exceeds ``AHEAD_BYTES``, as here, or without threads), parameter draws
    8 D (4 G I + 2 P): at the limit a run is accepted, one draw more is refused with the limit in GiB."""
    from dxsim.core import threads

    assert BYTES_LIMIT == 6 * 2**30
    S, G, I, Y, N, steps = 2, 3, 5, 6, 66, 4
    D = BYTES_LIMIT // (8 * S * G * I * (Y + 4) + 8 * N * I)
    check_memory(S, D, G, I, Y, N, steps)
    with pytest.raises(MemoryError, match=r"limit 6 GiB"):
        check_memory(S, D + 1, G, I, Y, N, steps)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)      # drawn ahead on a thread: both years' arrays
    D = 2**20 // (N * I)                                            # arrays of 8 MiB
    need = 8 * S * D * G * I * (Y + 4) + 2 * 8 * N * I * D
    monkeypatch.setattr(simulate_module, "BYTES_LIMIT", need)
    check_memory(S, D, G, I, Y, N, 2)
    monkeypatch.setattr(simulate_module, "BYTES_LIMIT", need - 1)
    with pytest.raises(MemoryError):
        check_memory(S, D, G, I, Y, N, 2)
    post = SimpleNamespace(n_params=40)
    cal = SimpleNamespace(geos_=("a",) * G, config=SimpleNamespace(indicators=(None,) * I), posteriors_={"x": post})
    draws = BYTES_LIMIT // (8 * (4 * G * I + 2 * 40))
    _check_sampling_memory(cal, draws)
    with pytest.raises(MemoryError, match=r"limit 6 GiB"):
        _check_sampling_memory(cal, draws + 1)
