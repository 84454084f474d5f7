"""dxsim required-investment: bisection on the monotone response, and its answers on the shipped calibration.

Targets made here are SYNTHETIC (tests only, not data)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxsim.analyses.required_investment import bisect_smallest, required_investment
from dxsim.cli import main
from dxsim.errors import InputError
from dxsim.inputs.observations import known_geos
from dxsim.inputs.scenario import load_scenario

DRAWS, SEED = 80, 5


@settings(max_examples=40, deadline=None)
@given(k=st.lists(st.floats(0.05, 50.0), min_size=1, max_size=6), p=st.floats(0.05, 0.95),
       tol=st.sampled_from([0.1, 0.01, 0.001]))
def test_bisection_matches_the_closed_form(k, p, tol):
    """P(m) = 1 - exp(-k m): the smallest m with P >= p is -log(1 - p) / k; below 1 it is met at baseline,
    above the upper bound 10 it is not reachable."""
    k = np.array(k)
    res = bisect_smallest(lambda m: 1 - np.exp(-k * m), len(k), p, 1.0, 10.0, tol)
    exact = -np.log1p(-p) / k
    for j, m in enumerate(exact):
        if m <= 1.0:
            assert res.status[j] == "met_at_baseline"
        elif m > 10.0:
            assert res.status[j] == "not_reachable" and np.isnan(res.multiple[j])
        else:
            assert res.status[j] == "found"
            assert m <= res.multiple[j] <= m + tol + 1e-12
            assert res.probability[j] >= p


def synthetic_targets() -> pd.DataFrame:
    """SYNTHETIC targets (tests only): one reachable with more investment, one beyond any investment (just under
    the 70% ceiling of the digital economy's share), one already met, an upper-bound target and one of an
    indicator the model does not have."""
    return pd.DataFrame({
        "geo": ["long_an"] * 5,
        "indicator": ["fiber_household_share", "digital_economy_grdp_share", "fiber_household_share",
                      "digital_economy_grdp_share", "epayment_account_share"],
        "definition": ["subscription", "mic_method", "coverage", "mic_method", "adults_bank_account"],
        "deadline": [2030, 2028, 2030, 2030, 2030], "target": [94.0, 69.9, 50.0, 40.0, 51.0],
        "comparator": [">=", ">=", ">=", "<=", ">="], "document": ["synthetic"] * 5})


@pytest.fixture(scope="module")
def answer(calibrator, cfg, root):
    scen = load_scenario(root / "scenarios" / "baseline.toml", cfg, known_geos(cfg))
    scen = dataclasses.replace(scen, geos=("long_an", "vietnam"))
    return required_investment(calibrator, scen, synthetic_targets(), 0.8, DRAWS, SEED, max_multiple=8.0,
                               tolerance=0.01)


def test_answers(answer):
    table, curves = answer
    status = dict(zip(table["target"], table["status"], strict=True))
    assert status == {94.0: "found", 69.9: "not_reachable", 50.0: "met_at_baseline", 40.0: "not_applicable",
                      51.0: "not_evaluable"}
    assert "indicator epayment_account_share is not modelled" in table.loc[table["target"] == 51.0, "answer"].iloc[0]
    found = table[table["status"] == "found"].iloc[0]
    assert 1.0 < found["multiple"] <= 8.0 and found["probability"] >= 0.8
    assert found["mc_se"] == pytest.approx(np.sqrt(found["probability"] * (1 - found["probability"]) / DRAWS))
    assert "not reachable below multiple 8" in table.loc[table["target"] == 69.9, "answer"].iloc[0]
    assert "already met at baseline" in table.loc[table["target"] == 50.0, "answer"].iloc[0]


def test_probability_never_decreases_with_investment(answer):
    """Common random numbers: P(met) of a '>=' target is non-decreasing in the multiple (checked on the grid)."""
    table, curves = answer
    for output, rows in curves.groupby("output"):
        if "<=" in output:
            continue
        p = rows.sort_values("multiple")["probability"].to_numpy()
        assert np.all(np.diff(p) >= 0), output
    found = table[table["status"] == "found"].iloc[0]
    c = curves[curves["output"] == found["output"]]
    assert c.loc[c["multiple"] < found["multiple"] - 0.01, "probability"].max() < 0.8


@pytest.mark.parametrize("multiple", [7.0, 0.5])
def test_judged_at_the_scenarios_own_multiple(calibrator, cfg, root, answer, multiple):
    """A scenario investing 7 times the baseline effort in broadband already reaches P = 0.8 on the fibre target
    that needs about 5 (at multiple 1 it would not: the answer must not be judged at 1); one investing half of it
    starts lower: P at its own multiple is below P at 1, and the answer is still the smallest sufficient one."""
    scen = load_scenario(root / "scenarios" / "baseline.toml", cfg, known_geos(cfg))
    scen = dataclasses.replace(scen, geos=("long_an",),
                               investment={**scen.investment, ("*", "broadband"): {cfg.first_year: multiple}})
    table, curves = required_investment(calibrator, scen, synthetic_targets().iloc[:1], 0.8, DRAWS, SEED,
                                        max_multiple=8.0)
    row, at_one = table.iloc[0], answer[0].set_index("target").loc[94.0]
    assert row["scenario_multiple"] == row["scenario_multiple_max"] == multiple
    assert 1.0 < at_one["multiple"] < 7.0 and at_one["probability_at_baseline"] < 0.8    # needs more than 1
    if multiple == 7.0:
        assert row["status"] == "met_at_baseline" and np.isnan(row["multiple"])
        assert row["probability_at_baseline"] >= 0.8
        assert "already met at baseline (the scenario's multiple 7)" in row["answer"]
    else:
        assert row["status"] == "found" and row["probability_at_baseline"] < at_one["probability_at_baseline"]
        assert abs(row["multiple"] - at_one["multiple"]) <= 0.01 + 1e-12
    c = curves[curves["multiple"] == multiple]            # the curve passes through the scenario's multiple
    assert c["probability"].iloc[0] == row["probability_at_baseline"]


def test_spend_in_bn_vnd_where_configured(calibrator, cfg, root):
    """A SYNTHETIC baseline spend of 40 bn VND a year for Long An's broadband: the answer in bn VND is the
    multiple times it."""
    scen = load_scenario(root / "scenarios" / "baseline.toml", cfg, known_geos(cfg))
    scen = dataclasses.replace(scen, geos=("long_an",))
    spend_cfg = dataclasses.replace(cfg, baseline_spend_bn_vnd={("long_an", "broadband"): 40.0})
    cal = copy.copy(calibrator)                  # the fitted calibrator with the spend in its config
    cal.config = spend_cfg
    table, _ = required_investment(cal, scen, synthetic_targets().iloc[:1], 0.8, DRAWS, SEED, max_multiple=8.0)
    row = table.iloc[0]
    assert row["status"] == "found"
    assert row["spend_bn_vnd_per_year"] == pytest.approx(40.0 * row["multiple"])
    assert "bn VND a year" in row["answer"]


@pytest.mark.parametrize("args, field", [
    (["--probability", "1.5"], "--probability"),
    (["--max-multiple", "0.5"], "--max-multiple"),
    (["--target", "fibre_share"], "--target"),
    (["--geo", "tay_ninh_x"], "--geo"),
    (["--tolerance", "0"], "--tolerance"),
    (["--tolerance", "-0.1"], "--tolerance"),
])
def test_bad_arguments(tmp_path, capsys, args, field):
    code = main(["required-investment", "scenarios/baseline.toml", "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and field in err
    assert not (tmp_path / "o").exists()


def _counted(p_of):
    """``p_of`` that fails the test after 200 evaluations (a bisection that never ends fails instead of hanging)."""
    calls = []

    def counted(m: np.ndarray) -> np.ndarray:
        calls.append(1)
        assert len(calls) < 200, "the bisection does not end"
        return p_of(m)
    return counted


@pytest.mark.parametrize("tol", [0.0, -1.0, float("nan")])
def test_bisection_rejects_a_tolerance_not_above_zero(tol):
    with pytest.raises(InputError, match="tolerance"):
        bisect_smallest(_counted(lambda m: m / 10.0), 1, 0.5, 1.0, 10.0, tol)


def test_bisection_ends_below_float_resolution():
    """A tolerance finer than the floats between the bracket's ends: the search stops when the midpoint is an
    end."""
    res = bisect_smallest(_counted(lambda m: (m >= 3.0).astype(float)), 1, 0.5, 1.0, 10.0, 1e-300)
    assert res.status[0] == "found" and res.multiple[0] == 3.0
