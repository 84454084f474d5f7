"""The policy commands (sensitivity, required-investment) see the same targets as ``dxsim run``: a target of a
mapped definition is one output per meaning, never silently dropped. Shipped calibration and targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxsim.analyses.experiments import build_experiment
from dxsim.analyses.factors import Factor
from dxsim.analyses.required_investment import required_investment
from dxsim.analyses.sensitivity import run_sensitivity
from dxsim.core.ensemble import sample_run
from dxsim.pipeline import run_scenario

DRAWS, SEED = 40, 3


def _due(run, calibrator) -> pd.DataFrame:
    """The run's evaluable targets due after their series' data end, as (geo, indicator, evaluated_as, ...)."""
    tp = run.target_probabilities
    through = calibrator.data_through_
    tp = tp[tp["evaluable"].astype(bool)]
    due = [int(r.deadline) > through.series_jump_off(r.indicator, r.evaluated_as) for r in tp.itertuples()]
    return tp[np.array(due, dtype=bool)]


def _keys(frame: pd.DataFrame, definition: str, year: str) -> set[tuple]:
    return {(r["geo"], r["indicator"], r[definition], int(r[year]), r["comparator"], float(r["target"]))
            for _, r in frame.iterrows()}


def test_every_due_target_of_a_run_is_an_output(calibrator, inputs, root):
    scen_path = root / "scenarios" / "baseline.toml"
    run = run_scenario(scen_path, draws=DRAWS, seed=SEED, inputs=inputs)
    due = _due(run, calibrator)
    assert (due["evaluated_as"] != due["definition"]).any(), "the shipped targets include a mapped definition"
    want = _keys(due, "evaluated_as", "deadline")

    scen = run.scenario
    factors = (Factor("invest_broadband", "investment", 0.5, 2.0, "log_uniform", pillar="broadband"),)
    exp = build_experiment(calibrator, scen, inputs.targets, factors, sample_run(calibrator, DRAWS, SEED, scen))
    result = run_sensitivity(exp, "morris", 2, SEED)
    outs = result.outputs[result.outputs["kind"] == "probability"]
    assert _keys(outs, "definition", "year") == want

    table, _ = required_investment(calibrator, scen, inputs.targets, 0.8, DRAWS, SEED, tolerance=0.5)
    left_out = table["status"].eq("not_evaluable") | table["answer"].str.contains("not after the last year with data")
    assert _keys(table[~left_out], "definition", "deadline") == want
    # the others are listed with the reason
    assert left_out.any() and _keys(table[left_out], "definition", "deadline").isdisjoint(want)


def test_scorecard_judges_a_mapped_target_once_per_meaning(inputs, monkeypatch):
    """A SYNTHETIC judged target of the mapped digital-economy definition: one judged row per meaning."""
    import dataclasses

    from dxsim.analyses import scorecard

    target = pd.DataFrame({"geo": ["vietnam"], "indicator": ["digital_economy_grdp_share"],
                           "definition": ["unspecified_method"], "deadline": [2020], "target": [20.0],
                           "comparator": [">="], "document": ["synthetic"]})
    target = target.reindex(columns=inputs.targets.columns)
    monkeypatch.setattr(scorecard, "verdicts", lambda t, o: pd.DataFrame({"status": ["missed"] * len(t)}))
    judged = scorecard.judged_targets(dataclasses.replace(inputs, targets=target))
    assert list(judged["evaluated_as"]) == list(inputs.config.target_mappings[
        ("digital_economy_grdp_share", "unspecified_method")][0])
