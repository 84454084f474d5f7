"""Forecast skill: forecasts as of a past year use no later reading, the backtest scores dxsim and every
baseline, and the scores agree with known answers. Data labelled SYNTHETIC below exist only in these tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dxsim.analyses import baselines, scoring
from dxsim.analyses.backtest import SKILL_COLUMNS, default_origins
from dxsim.analyses.forecast_asof import draws_at
from dxsim.analyses.origins import METHODS, SCORE_COLUMNS
from dxsim.cli import main
from dxsim.core.model import Law
from dxsim.core.paths import Ensemble
from dxsim.inputs.observations import load_observations

DRAWS = 150
POISON_NOTE = "SYNTHETIC poison row written by tests/test_backtest.py; not a real reading"


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory, calibration_copy):
    """The shipped calibration folder with 2 hyper-parameter samples instead of 16 (a fit is ~8x cheaper). The
    data are the shipped files, byte for byte; these tests check what the forecasts may use, not the fit."""
    return calibration_copy(tmp_path_factory.mktemp("calibration"), 2)


def _normal_sample(mu: float, sigma: float, n: int = 4000) -> np.ndarray:
    return mu + sigma * stats.norm.ppf(scoring.quasi_levels(n))


def _crps_normal(mu: float, sigma: float, y: float) -> float:
    """Closed form CRPS of N(mu, sigma^2) at y (Gneiting & Raftery 2007)."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))


# ---- scores: known answers ---------------------------------------------------------------------------------
def test_crps_of_a_point_mass_is_the_absolute_error():
    samples = np.full((3, 50), 40.0)
    assert np.allclose(scoring.crps_samples(samples, np.array([40.0, 43.5, 31.0])), [0.0, 3.5, 9.0])


@pytest.mark.parametrize("mu,sigma,y", [(50.0, 5.0, 50.0), (50.0, 5.0, 58.0), (20.0, 2.0, 13.0)])
def test_crps_of_a_normal_matches_the_closed_form(mu, sigma, y):
    got = scoring.crps_samples(_normal_sample(mu, sigma)[None, :], np.array([y]))[0]
    assert got == pytest.approx(_crps_normal(mu, sigma, y), rel=2e-3)


def test_crps_of_two_draws_by_hand():
    # X uniform on {0, 10}, y = 4: E|X - y| = 5, E|X - X'| = 5, so CRPS = 5 - 2.5
    assert scoring.crps_samples(np.array([[0.0, 10.0]]), np.array([4.0]))[0] == pytest.approx(2.5)


def test_pit_coverage_and_log_score_of_a_normal_forecast():
    samples = np.tile(_normal_sample(50.0, 5.0), (3, 1))
    y = np.array([50.0, 50.0 + 5.0 * stats.norm.ppf(0.85), 80.0])
    assert np.allclose(scoring.pit(samples, y)[:2], [0.5, 0.85], atol=1e-3)
    assert scoring.pit(samples, y)[2] == 1.0
    assert scoring.covered(samples, y, 0.8).tolist() == [True, True, False]
    assert scoring.covered(samples, y, 0.5).tolist() == [True, False, False]
    # the KDE smooths a little (Silverman bandwidth): the log density is close to the normal's
    assert scoring.log_score(samples[:1], y[:1])[0] == pytest.approx(stats.norm.logpdf(50, 50, 5), abs=0.02)
    assert scoring.log_score(samples[2:], y[2:])[0] == scoring.LOG_SCORE_FLOOR      # 6 sd away: floored


def test_mid_pit_counts_ties_half():
    assert scoring.pit(np.array([[100.0, 100.0, 90.0, 80.0]]), np.array([100.0]))[0] == pytest.approx(0.75)


# ---- baselines on SYNTHETIC series -------------------------------------------------------------------------
LEVELS = scoring.quasi_levels(1000)
DEV = baselines.step_deviation(np.array([1.0, 2.0, 3.0, 4.0]), LEVELS)


def test_step_deviation_is_symmetric_around_zero():
    assert np.median(DEV) == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(DEV, -DEV[::-1])
    assert DEV.max() <= 4.0 and DEV.min() >= -4.0


def test_empirical_steps_scale_changes_by_sqrt_years():
    frame = pd.DataFrame({"geo": "x", "indicator": "i", "definition": "d",       # SYNTHETIC
                          "time": [2020.0, 2021.0, 2025.0, 2025.01], "value": [10.0, 13.0, 7.0, 50.0]})
    # 2025.01 is closer than a month to 2025.0: not a change over time
    assert np.allclose(baselines.empirical_steps(frame), [3.0, 3.0])


def test_last_value_and_linear_trend_known_answers():
    t, v = np.array([2020.0, 2021.0, 2022.0]), np.array([10.0, 14.0, 18.0])      # SYNTHETIC, exactly linear
    when = np.array([2023.0, 2024.5])
    lv = baselines.last_value(t, v, when, DEV)
    assert np.allclose(np.median(lv, axis=1), 18.0)
    assert np.ptp(lv[1]) > np.ptp(lv[0])                  # the band widens with sqrt(years since the reading)
    lt = baselines.linear_trend(t, v, when, DEV, LEVELS)
    assert np.allclose(np.median(lt, axis=1), [22.0, 28.0])
    assert baselines.linear_trend(t[:1], v[:1], when, DEV, LEVELS) is None
    two = baselines.linear_trend(t[:2], v[:2], when, DEV, LEVELS)           # n = 2: the empirical band
    assert np.allclose(np.median(two, axis=1), [22.0, 28.0]) and np.ptp(two[0]) > 0


def test_baselines_clip_to_percent():
    t, v = np.array([2020.0, 2021.0]), np.array([90.0, 99.0])                   # SYNTHETIC
    lt = baselines.linear_trend(t, v, np.array([2025.0]), DEV, LEVELS)
    assert lt.max() == 100.0 and lt.min() >= 0.0


def test_ets_needs_three_years_and_follows_a_trend():
    years = np.array([2019, 2020, 2021, 2022])                                   # SYNTHETIC
    times = years + 1.0
    values = np.array([10.0, 15.0, 20.0, 25.0])
    assert baselines.ets_damped(years[:2], times[:2], values[:2], 12, np.array([2024.0]), DEV) is None
    fc = baselines.ets_damped(years, times, values, 12, np.array([2024.0, 2025.0]), DEV)
    med = np.median(fc, axis=1)
    assert 25.0 < med[0] < med[1] <= 35.0 + 1e-6            # grows, at most as fast as the undamped trend


def test_national_shift_passes_through_the_last_reading():
    law = Law("logistic")
    rng = np.random.default_rng(1)
    national_last = rng.uniform(30, 60, 500)                                     # SYNTHETIC draws
    national_when = np.stack([national_last, national_last + 5.0])
    out = baselines.national_shift(70.0, national_last, national_when, law, 100.0, (0.005, 0.995))
    assert np.allclose(out[0], 70.0)                          # at the reading's own time: the reading itself
    assert np.all(out[1] > 70.0)                              # the nation grows, so does the province


def test_draws_are_interpolated_between_reading_months(cfg):
    series = tuple(cfg.series())
    I, K = len(cfg.indicators), len(series)
    share = np.array([21.0, 22.0])                                               # SYNTHETIC yearly values
    z = np.broadcast_to(np.log(share / (100 - share))[:, None, None, None, None], (2, 1, 1, I, 4)).copy()
    ens = Ensemble(scenarios=("s",), geos=("vietnam",), years=(2021, 2022), indicators=cfg.indicator_names,
                   series=series, draws=4, first_projected_year=2022, laws=(Law("logistic"),) * I, z=z,
                   series_offset=np.zeros((K, 4)), series_ceiling=np.full(K, 100.0), own_series=(),
                   own_z=np.zeros((2, 1, 1, 0, 4)),
                   event_lift=np.zeros((2, 1, 1, I)))
    assert ens.series_draws(2021, "vietnam", ("fiber_household_share", "subscription"))[0, 0] == pytest.approx(21.0)
    # fibre is read in December: the 2021 value sits at 2022.0, the 2022 value at 2023.0
    got = draws_at(ens, cfg, "vietnam", "fiber_household_share", "subscription", np.array([2022.0, 2022.5]))
    assert np.allclose(got[0], 21.0) and np.allclose(got[1], 21.5)
    with pytest.raises(ValueError, match="does not cover"):
        draws_at(ens, cfg, "vietnam", "fiber_household_share", "subscription", np.array([2023.5]))


# ---- forecast as of a year: no later reading leaks in ------------------------------------------------------
POISON_ROWS = [  # SYNTHETIC: a reading of an existing series and one of a province with no readings
    {"geo": "vietnam", "indicator": "fiber_household_share", "definition": "subscription", "year": 2023,
     "period": "2023-03", "value": 3.0},
    {"geo": "an_giang", "indicator": "online_dossier_share", "definition": "submitted_online", "year": 2023,
     "period": "", "value": 1.0},
]


def _poisoned_copy(root, tmp_path):
    clean = pd.read_csv(root / "calibration" / "observations.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame([{**row, "release": "", "unit": "%", "source_url": "", "quote": "",
                           "note": POISON_NOTE, "geography": ""} for row in POISON_ROWS]).astype(str)
    path = tmp_path / "observations_poisoned.csv"
    pd.concat([clean, extra[clean.columns]], ignore_index=True).to_csv(path, index=False)
    return path


def test_forecast_as_of_2022_ignores_a_poison_2023_reading(root, tmp_path, cfg, fast_config):
    poisoned = _poisoned_copy(root, tmp_path)
    frame = load_observations(cfg, poisoned)
    live = frame[frame["note"] == POISON_NOTE]
    assert len(live) == 2 and (live["status"] == "used").all()       # the poison would enter an undated fit
    outs = {}
    for name, obs in (("clean", root / "calibration" / "observations.csv"), ("poisoned", poisoned)):
        outs[name] = tmp_path / name
        assert main(["forecast", "--as-of", "2022", "--horizon", "2026", "--draws", str(DRAWS), "--seed", "3",
                     "--observations", str(obs), "--out", str(outs[name]), "--config", str(fast_config)]) == 0
    for name in ("trajectories.csv", "observations_used.csv"):
        assert (outs["clean"] / name).read_bytes() == (outs["poisoned"] / name).read_bytes(), name
    tr = pd.read_csv(outs["clean"] / "trajectories.csv")
    # every year after the origin is projected; a series whose last reading is older is projected from then on
    assert tr.loc[tr["year"] > 2022, "projected"].all() and tr["year"].max() == 2026
    assert "an_giang" not in set(tr["geo"]) and {"vietnam", "long_an"} <= set(tr["geo"])
    assert set(zip(tr["indicator"], tr["definition"], strict=True)) == set(cfg.series())
    used = pd.read_csv(outs["clean"] / "observations_used.csv")
    assert used["year"].max() == 2022


def test_forecast_rejects_a_horizon_before_the_origin(root, tmp_path, capsys):
    code = main(["forecast", "--as-of", "2022", "--horizon", "2022", "--out", str(tmp_path / "x"),
                 "--config", str(root / "calibration" / "config.toml")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--horizon" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


# ---- the backtest on the shipped data ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def backtest_dir(tmp_path_factory, fast_config):
    out = tmp_path_factory.mktemp("bt") / "backtest"
    assert main(["backtest", "--draws", str(DRAWS), "--out", str(out), "--config", str(fast_config)]) == 0
    return out


def test_default_origins_leave_later_readings(inputs):
    # the shipped readings run to 2025: every year from 2020 that leaves a later reading
    assert default_origins(inputs.config, inputs.observations) == (2020, 2021, 2022, 2023, 2024)


def test_backtest_reports_every_metric_for_every_method(backtest_dir, inputs):
    skill = pd.read_csv(backtest_dir / "skill.csv", dtype={"horizon": str})
    scores = pd.read_csv(backtest_dir / "scores.csv")
    assert tuple(skill.columns) == SKILL_COLUMNS and tuple(scores.columns) == SCORE_COLUMNS
    assert (backtest_dir / "pit.png").stat().st_size > 10_000
    overall = skill[(skill["indicator"] == "all") & (skill["horizon"] == "all") & (skill["history"] == "any")]
    assert overall["method"].tolist() == list(METHODS)
    metrics = ["mae_median", "coverage_50", "coverage_80", "coverage_95", "crps", "log_score", "mean_pit"]
    assert overall[metrics].notna().all().all() and (overall["n"] > 0).all()
    for level in (50, 80, 95):
        assert skill[f"coverage_{level}"].between(0, 1).all()
    assert (skill[["crps", "mae_median"]] >= 0).all().all()
    assert skill["log_score"].between(scoring.LOG_SCORE_FLOOR, 5).all()
    assert scores["pit"].between(0, 1).all()
    # wider intervals cover at least as often
    assert (scores["covered_95"] >= scores["covered_80"]).all()
    assert (scores["covered_80"] >= scores["covered_50"]).all()

    # every later used reading is scored by dxsim, once per origin, never a reading dated at or before it
    obs = inputs.observations
    used = obs[obs["status"] == "used"]
    dx = scores[scores["method"] == "dxsim"]
    for origin in (2020, 2021, 2022):
        later = used[used["year"] > origin]
        assert sorted(dx.loc[dx["origin"] == origin, "row"]) == sorted(later.index + 1)
    assert (scores["year"] > scores["origin"]).all()
    assert (scores["horizon"] == scores["year"] - scores["origin"]).all()
    # a baseline is scored only on readings dxsim also forecast, and dxsim's same-point CRPS is its own there
    keys = set(zip(dx["origin"], dx["row"], strict=True))
    assert set(zip(scores["origin"], scores["row"], strict=True)) == keys
    assert (scores.loc[scores["method"].isin(baselines.BASELINES), "n_history"] >= 1).all()
    mine = overall.set_index("method")
    assert mine.loc["dxsim", "dxsim_crps_same_points"] == pytest.approx(mine.loc["dxsim", "crps"])
    lv = scores[scores["method"] == "last_value"].merge(dx, on=["origin", "row"], suffixes=("", "_dx"))
    assert mine.loc["last_value", "dxsim_crps_same_points"] == pytest.approx(lv["crps_dx"].mean(), abs=1e-3)
    # the baselines need their points: ETS >= 3 years, linear trend >= 2 distinct times
    assert (scores.loc[scores["method"] == "ets_damped", "n_history"] >= 3).all()
    assert (scores.loc[scores["method"] == "linear_trend", "n_history"] >= 2).all()


def test_backtest_forecasts_ignore_a_poison_later_reading(backtest_dir, root, tmp_path, fast_config):
    out = tmp_path / "bt_poison"
    assert main(["backtest", "--origins", "2022", "--draws", str(DRAWS), "--out", str(out),
                 "--observations", str(_poisoned_copy(root, tmp_path)), "--config", str(fast_config)]) == 0
    poisoned = pd.read_csv(out / "scores.csv")
    clean = pd.read_csv(backtest_dir / "scores.csv")
    clean = clean[clean["origin"] == 2022].reset_index(drop=True)
    n_rows = len(pd.read_csv(root / "calibration" / "observations.csv"))
    poison = poisoned["row"] > n_rows
    # the poison is scored (it is a later reading) but changes no forecast of the real readings
    assert poisoned.loc[poison & (poisoned["method"] == "dxsim"), "row"].tolist() == [n_rows + 1, n_rows + 2]
    pd.testing.assert_frame_equal(poisoned[~poison].reset_index(drop=True), clean)


def test_backtest_rejects_an_origin_without_later_readings(root, tmp_path, capsys):
    code = main(["backtest", "--origins", "2025", "--out", str(tmp_path / "x"),
                 "--config", str(root / "calibration" / "config.toml")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--origins" in err and len(err.splitlines()) == 1


# ---- the judge: combination baseline, paired comparisons, coverage bands ----------------------------------
def test_combination_is_the_equal_weight_mixture():
    # SYNTHETIC: two point-mass-free forecasts far apart; the mixture puts half its mass on each
    levels = scoring.quasi_levels(400)
    a = np.full((1, 400), 10.0) + np.linspace(-1, 1, 400)
    b = np.full((1, 400), 30.0) + np.linspace(-1, 1, 400)
    mixed = baselines.combination({"last_value": a, "linear_trend": b}, levels)
    assert mixed.shape == (1, 400)
    assert (mixed < 20).mean() == pytest.approx(0.5) and mixed.min() >= 9 and mixed.max() <= 31
    assert baselines.combination({"last_value": a}, levels) is None


def test_binomial_band_and_verdicts():
    from dxsim.analyses import judging

    lo, hi = judging.binomial_band(100, 0.8)
    assert lo == pytest.approx(stats.binom.ppf(0.025, 100, 0.8) / 100) and lo < 0.8 < hi
    assert judging.verdict(25, -0.1, -0.5, 0.3) == "dxsim better"
    assert judging.verdict(25, 0.1, -0.5, 0.3) == "baseline better"
    assert judging.verdict(5, -0.1, -0.5, 0.3) == "tie, favours dxsim"
    assert judging.verdict(5, 0.4, 0.1, 0.6) == "baseline better"


def test_backtest_judges_the_reading_forecast_on_each_baselines_points(backtest_dir):
    from dxsim.analyses import judging

    scores = pd.read_csv(backtest_dir / "scores.csv")
    paired = pd.read_csv(backtest_dir / "paired.csv")
    coverage = pd.read_csv(backtest_dir / "coverage.csv", dtype={"horizon": str})
    assert tuple(paired.columns) == judging.PAIRED_COLUMNS and tuple(coverage.columns) == judging.COVERAGE_COLUMNS
    assert "combination" in set(paired["baseline"])
    dx = scores[scores["method"] == "dxsim_reading"].set_index(["origin", "row"])["crps"]
    row = paired[(paired["indicator"] == "all") & (paired["baseline"] == "combination")].iloc[0]
    comb = scores[scores["method"] == "combination"]
    assert row["n"] == len(comb)
    mine = dx.loc[list(zip(comb["origin"], comb["row"], strict=True))]
    assert row["dxsim_reading_crps"] == pytest.approx(mine.mean(), abs=1e-3)
    assert row["difference_lo90"] <= row["difference"] <= row["difference_hi90"]
    total = coverage[(coverage["method"] == "dxsim_reading") & (coverage["horizon"] == "all")
                     & (coverage["history"] == "any") & (coverage["level"] == 80)].iloc[0]
    assert total["n"] == (scores["method"] == "dxsim_reading").sum()
    assert total["inside"] == scores.loc[scores["method"] == "dxsim_reading", "covered_80"].sum()
    cells = coverage[(coverage["method"] == "dxsim_reading") & (coverage["level"] == 80)
                     & (coverage["horizon"] != "all")].groupby("history")["n"].sum()
    assert cells["yes"] + cells["no"] == total["n"]
    assert cells["pooled"] + cells["prior"] == cells["no"]          # "no" history split by what it rests on
    # own readings <=> history; prior <=> no geo had a reading of the definition at the origin
    reading = scores[scores["method"] == "dxsim_reading"]
    assert ((reading["evidence"] == "own") == (reading["n_history"] > 0)).all()
    for (origin, ind, dfn), part in reading.groupby(["origin", "indicator", "definition"]):
        earlier = scores[(scores["origin"] < origin) & (scores["indicator"] == ind) & (scores["definition"] == dfn)
                         & (scores["year"] <= origin)]
        if len(earlier):       # a reading scored from an earlier origin and dated by this one: the definition is seen
            assert (part["evidence"] != "prior").all()


def test_a_reading_at_the_ceiling_is_inside_the_reading_forecast(backtest_dir, calibrator, cfg):
    from dxsim.analyses.origins import with_measurement_noise

    # SYNTHETIC latent draws just below the ceiling: readings of them are published at the ceiling itself
    latent = np.full((1, 400), 99.8)
    noisy = with_measurement_noise(cfg, calibrator, "level4_service_share", "eligible_base", latent,
                                   np.random.default_rng(1))
    assert (noisy == 100.0).mean() > 0.3 and noisy.max() <= 100.0
    scores = pd.read_csv(backtest_dir / "scores.csv")
    full = scores[(scores["method"] == "dxsim_reading") & (scores["value"] == 100.0)]
    assert len(full) >= 3 and full["covered_95"].all()      # the 100% of eligible services readings
