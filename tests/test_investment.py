"""Investment matters: accelerated >= baseline >= austerity for medians and target probabilities."""

from __future__ import annotations

import pytest

from dxsim.pipeline import run_scenario

DRAWS, SEED = 1000, 11


@pytest.fixture(scope="module")
def runs(root, inputs):
    return {name: run_scenario(root / "scenarios" / f"{name}.toml", draws=DRAWS, seed=SEED, inputs=inputs)
            for name in ("austerity", "baseline", "accelerated")}


def _medians(result, cfg):
    tr = result.trajectories
    tr = tr[tr["indicator"].isin(cfg.headline) & tr["year"].isin([2025, 2030])]
    return tr.set_index(["geo", "indicator", "definition", "year"])["q50"]


def test_medians_move_with_investment(runs, cfg):
    low, mid, high = (_medians(runs[n], cfg) for n in ("austerity", "baseline", "accelerated"))
    assert len(mid) >= 5 * 3 * 2
    assert (high >= mid).all() and (mid >= low).all()
    # and the lever is not idle: the anchor series move by a visible amount somewhere by 2030
    assert ((high - low).xs(2030, level="year") > 1.0).sum() >= 5


def test_target_probabilities_move_with_investment(runs):
    probs = {n: r.target_probabilities.set_index(["geo", "indicator", "definition", "deadline", "target",
                                                   "comparator", "document"])["probability"]
             for n, r in runs.items()}
    low, mid, high = probs["austerity"].dropna(), probs["baseline"].dropna(), probs["accelerated"].dropna()
    assert (high >= mid).all() and (mid >= low).all()
    assert (high - low > 0.02).sum() >= 5


def test_history_is_not_changed_by_a_scenario(runs):
    def past(r):
        tr = r.trajectories
        return tr[~tr["projected"]].drop(columns="scenario").reset_index(drop=True)

    assert past(runs["accelerated"]).equals(past(runs["austerity"]))
