"""The evidence behind each target's probability: own readings, pooling only, or a prior-only definition."""

from __future__ import annotations

import pandas as pd

from dxsim.core.evidence import target_evidence
from dxsim.pipeline import run_scenario


def test_evidence_known_answers():
    # SYNTHETIC readings and targets, made here
    used = pd.DataFrame({"geo": ["a", "b"], "indicator": ["x", "x"], "definition": ["d1", "d1"]})
    targets = pd.DataFrame({"geo": ["a", "c", "a", "c"], "indicator": ["x"] * 4,
                            "definition": ["d1", "d1", "d2", "d1"], "evaluable": [True, True, True, False]})
    assert target_evidence(used, targets).tolist() == ["own", "pooled", "prior", ""]


def test_run_reports_evidence_per_target(root, inputs):
    result = run_scenario(root / "scenarios" / "baseline.toml", draws=100, inputs=inputs)
    tp = result.target_probabilities
    ev = tp.set_index(["geo", "indicator", "definition"])["evidence"]
    assert set(tp.loc[tp["evaluable"], "evidence"]) <= {"own", "pooled", "prior"}
    assert (tp.loc[~tp["evaluable"], "evidence"] == "").all()
    # Lang Son has its own 2022 digital-economy reading, Hau Giang none: it borrows from the 13-province batch
    assert ev.loc[("lang_son", "digital_economy_grdp_share", "mic_method")].iloc[0] == "own"
    assert ev.loc[("hau_giang", "digital_economy_grdp_share", "mic_method")].iloc[0] == "pooled"
