"""Experiments as the ensemble's scenario axis, and dxsim sensitivity (SALib), in-process and on Dask.

The targets here are SYNTHETIC (made in the tests, not data); the calibration is the shipped one.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os

import numpy as np
import pandas as pd
import pytest

from dxsim.analyses import experiments
from dxsim.analyses.batches import BatchRunner
from dxsim.analyses.experiments import build_experiment, evaluate
from dxsim.analyses.factors import Factor, default_factors, factors_toml, load_factors
from dxsim.analyses.sensitivity import analyse, run_sensitivity, sample
from dxsim.cli import main
from dxsim.core.ensemble import run_ensemble, sample_run
from dxsim.core.targets import target_met
from dxsim.inputs.observations import known_geos
from dxsim.inputs.scenario import load_scenario

DRAWS, SEED = 60, 11
GEOS = ("long_an", "vietnam")


def synthetic_targets() -> pd.DataFrame:
    """SYNTHETIC targets (tests only): a fibre target and a digital-economy target in 2028."""
    return pd.DataFrame({
        "geo": ["long_an", "long_an"], "indicator": ["fiber_household_share", "digital_economy_grdp_share"],
        "definition": ["subscription", "mic_method"], "deadline": [2028, 2028], "target": [94.0, 35.0],
        "comparator": [">=", ">="], "document": ["synthetic", "synthetic"]})


@pytest.fixture(scope="module")
def scenario(cfg, root):
    scen = load_scenario(root / "scenarios" / "baseline.toml", cfg, known_geos(cfg))
    return dataclasses.replace(scen, geos=GEOS)


FACTORS = (
    Factor("invest_broadband", "investment", 0.5, 2.0, "log_uniform", pillar="broadband"),
    Factor("invest_digital_economy", "investment", 0.5, 2.0, "log_uniform", pillar="digital_economy"),
    Factor("elasticity_digital_economy", "elasticity", 0.3, 0.8, indicator="digital_economy_grdp_share"),
)


def test_neutral_variant_is_the_run(calibrator, cfg, inputs, root):
    """All factors left as the scenario has them: exactly the probabilities of run_ensemble (same streams),
    programmes included."""
    scen = load_scenario(root / "scenarios" / "long_an_programmes.toml", cfg, known_geos(cfg))
    factors = default_factors(cfg, scen)
    exp = build_experiment(calibrator, scen, inputs.targets, factors, sample_run(calibrator, DRAWS, SEED, scen))
    got = evaluate(exp, np.full((2, len(factors)), np.nan))
    ens = run_ensemble(calibrator, [scen], DRAWS, SEED)
    _, met = target_met(ens, cfg, exp.targets)
    np.testing.assert_array_equal(got[0, :len(exp.targets)], met.mean(axis=2)[:, 0])
    np.testing.assert_array_equal(got[0], got[1])


def _synthetic_experiment(calibrator, scenario):
    """The experiment of ``scenario`` with the synthetic targets and ``FACTORS``, on the run's samples of SEED."""
    return build_experiment(calibrator, scenario, synthetic_targets(), FACTORS, sample_run(calibrator, DRAWS, SEED,
                                                                                           scenario))


def test_variants_equal_separate_runs(calibrator, cfg, scenario):
    """A variant in a batch gives what the same levers give as a scenario of its own (common random numbers)."""
    exp = _synthetic_experiment(calibrator, scenario)
    X = np.array([[1.5, np.nan, np.nan], [np.nan, 0.7, np.nan], [2.0, 2.0, np.nan]])
    got = evaluate(exp, X)
    for row, x in zip(got, X, strict=True):
        inv = {("*", p): {cfg.first_year: float(v)} for p, v in (("broadband", x[0]), ("digital_economy", x[1]))
               if np.isfinite(v)}
        alone = dataclasses.replace(scenario, investment={**scenario.investment, **inv})
        ens = run_ensemble(calibrator, [alone], DRAWS, SEED)
        _, met = target_met(ens, cfg, exp.targets)
        np.testing.assert_array_equal(row[:len(exp.targets)], met.mean(axis=2)[:, 0])


def test_batches_do_not_change_results(calibrator, scenario, monkeypatch):
    exp = _synthetic_experiment(calibrator, scenario)
    X = np.random.default_rng(0).uniform(0.5, 2.0, (7, 3))
    whole = evaluate(exp, X)
    monkeypatch.setattr(experiments, "BATCH_BYTES", 1)          # one variant per batch
    np.testing.assert_array_equal(BatchRunner().evaluate(exp, X), whole)


def test_lever_without_effect_has_zero_total_index(calibrator, scenario):
    """On a SYNTHETIC configuration (targets and factors made here, the shipped calibration), digital-economy
    investment and elasticity cannot move fibre (no cross-pillar path into broadband):
    their Sobol total index for the fibre target is within its confidence interval of 0; investment in
    broadband moves it."""
    exp = _synthetic_experiment(calibrator, scenario)
    res = run_sensitivity(exp, "sobol", 32, SEED)
    fibre = res.outputs["output"].iloc[0]
    assert "fiber_household_share" in fibre
    st = res.table[(res.table["output"] == fibre) & (res.table["index"] == "ST")].set_index("factor")
    for name in ("invest_digital_economy", "elasticity_digital_economy"):
        assert st.loc[name, "ci_low"] <= 0.0 <= st.loc[name, "ci_high"]
    assert st.loc["invest_broadband", "ci_low"] > 0.0
    assert res.evaluations == 32 * (2 * 3 + 2)


def test_sobol_indices_of_a_known_function():
    """Known answer without the model: y = sin(x1) + 7 sin(x2)**2 with a third factor that does nothing, all
    uniform on [-pi, pi] (a SYNTHETIC configuration made here): V1 = 1/2, V2 = 49/8, so S1 = ST = 0.0755 and
    0.9245; the idle factor's total index is within its confidence interval of 0."""
    factors = tuple(Factor(f"x{j}", "cross_elasticity", -np.pi, np.pi) for j in (1, 2, 3))
    X = sample(factors, "sobol", 1024, SEED)
    y = np.sin(X[:, 0]) + 7 * np.sin(X[:, 1]) ** 2
    table = analyse(factors, "sobol", X, y, SEED).set_index(["factor", "index"])
    exact = {"x1": 0.5 / 6.625, "x2": 6.125 / 6.625}
    for name, value in exact.items():
        for index in ("S1", "ST"):
            row = table.loc[(name, index)]
            assert abs(row["value"] - value) <= max(row["conf"], 0.02), (name, index)
    idle = table.loc[("x3", "ST")]
    assert idle["ci_low"] <= 0.0 <= idle["ci_high"] and abs(idle["value"]) < 0.01
    assert table.loc[("x1", "ST"), "ci_low"] > 0.0


def test_morris_ranks_the_lever_that_acts(calibrator, scenario):
    exp = _synthetic_experiment(calibrator, scenario)
    res = run_sensitivity(exp, "morris", 6, SEED)
    fibre = res.outputs["output"].iloc[0]
    mu = res.table[(res.table["output"] == fibre) & (res.table["index"] == "mu_star")].set_index("factor")
    assert mu.loc["invest_digital_economy", "value"] == 0.0
    assert mu.loc["invest_broadband", "value"] > 0.0
    # reported with mu*: its confidence interval, and sigma (spread of the elementary effects: interactions)
    assert mu.loc["invest_broadband", "ci_low"] <= mu.loc["invest_broadband", "value"] \
        <= mu.loc["invest_broadband", "ci_high"] and np.isfinite(mu["conf"]).all()
    sigma = res.table[(res.table["output"] == fibre) & (res.table["index"] == "sigma")].set_index("factor")
    assert set(sigma.index) == {f.name for f in FACTORS} and sigma.loc["invest_digital_economy", "value"] == 0.0


def test_default_factors_round_trip(cfg, root, tmp_path):
    scen = load_scenario(root / "scenarios" / "long_an_programmes.toml", cfg, known_geos(cfg))
    factors = default_factors(cfg, scen)
    path = tmp_path / "f.toml"
    path.write_text(factors_toml(factors))
    assert load_factors(path, cfg, scen) == factors
    base = load_scenario(root / "scenarios" / "baseline.toml", cfg, known_geos(cfg))
    assert load_factors(root / "scenarios" / "factors_default.toml", cfg, base) == default_factors(cfg, base)


@pytest.mark.parametrize("body, field", [
    ('[[factors]]\nname = "a"\nkind = "investment"\npillar = "fibre"\nrange = [0.5, 2]\n', "factors[0].pillar"),
    ('[[factors]]\nname = "a"\nkind = "damping"\nindicator = "fiber_household_share"\nrange = [0.5, 1.2]\n',
     "factors[0].range"),
    ('[[factors]]\nname = "a"\nkind = "investment"\npillar = "broadband"\nrange = [2, 1]\n', "factors[0].range"),
])
def test_bad_factors_file(tmp_path, capsys, body, field):
    path = tmp_path / "factors.toml"
    path.write_text(body)
    code = main(["sensitivity", "scenarios/baseline.toml", "--factors", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(path) in err and field in err
    assert not (tmp_path / "o").exists()


def _csv_bytes(calibrator, scenario, tmp_path, name, runner):
    from dxsim.analyses.sensitivity import write_sensitivity

    exp = _synthetic_experiment(calibrator, scenario)
    res = run_sensitivity(exp, "sobol", 8, SEED, runner)
    write_sensitivity(res, tmp_path / name, {}, charts=False)
    return (tmp_path / name / "sensitivity.csv").read_bytes()


def test_same_bytes_in_process_and_on_a_local_cluster(calibrator, scenario, tmp_path, monkeypatch):
    if importlib.util.find_spec("distributed") is None:       # it is in the test extra: CI must run this test
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("dask.distributed is not installed (CI=true: this test may not be skipped)")
        pytest.skip("dask.distributed is not installed (pip install -e '.[distributed]')")
    monkeypatch.setattr(experiments, "BATCH_BYTES", 2 * 8 * DRAWS * 2 * 5 * 20)   # several batches per worker
    here = _csv_bytes(calibrator, scenario, tmp_path, "here", BatchRunner())
    there = _csv_bytes(calibrator, scenario, tmp_path, "there", BatchRunner(workers=2))
    assert here == there
    assert here.count(b"\n") > 10


def test_programme_factors(calibrator, cfg, inputs, root):
    """Size 0 for every programme is the scenario without programmes; a delay changes only what programmes
    touch (Long An and the merged Tay Ninh it is part of), with the same draws elsewhere."""
    scen = load_scenario(root / "scenarios" / "long_an_programmes.toml", cfg, known_geos(cfg))
    factors = default_factors(cfg, scen)
    exp = build_experiment(calibrator, scen, inputs.targets, factors, sample_run(calibrator, DRAWS, SEED, scen))
    X = np.full((2, len(factors)), np.nan)
    for j, f in enumerate(factors):
        if f.kind == "programme_budget":
            X[0, j] = 0.0
        if f.kind == "programme_delay":
            X[1, j] = 12.0
    got = evaluate(exp, X)
    ens = run_ensemble(calibrator, [dataclasses.replace(scen, programmes=())], DRAWS, SEED)
    _, met = target_met(ens, cfg, exp.targets)
    np.testing.assert_array_equal(got[0, :len(exp.targets)], met.mean(axis=2)[:, 0])
    neutral = evaluate(exp, np.full((1, len(factors)), np.nan))[0]
    # elsewhere: geos without Long An among their parts (the merged Tay Ninh contains it)
    touched = {r.name for r in exp.aggregation.regions if "long_an" in r.parts}
    assert touched == {"long_an", "tay_ninh"}
    elsewhere = np.array([o.geo not in touched for o in exp.outputs])
    np.testing.assert_array_equal(got[1, elsewhere], neutral[elsewhere])
    assert np.any(got[1, ~elsewhere] != neutral[~elsewhere])
