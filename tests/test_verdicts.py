"""Verdicts on targets whose deadline year has readings: which reading decides, comparators, not-counted rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dxsim.core.targets import TARGET_PROBABILITY_COLUMNS
from dxsim.core.verdicts import STATUSES, VERDICT_COLUMNS, verdicts, with_verdicts


def _obs(rows):
    """Synthetic readings made in the test (not data): one row per reading, as load_observations returns."""
    frame = pd.DataFrame(rows)
    for col, default in (("definition", "d"), ("period", ""), ("status", "used"), ("geography", "pre_2025")):
        if col not in frame:
            frame[col] = default
        frame[col] = frame[col].fillna(default)
    frame["indicator"] = "ind"
    frame["source_url"] = [f"https://example.test/{i}" for i in range(len(frame))]
    month = frame["period"].map(lambda p: int(p[5:]) if p else 12)
    frame["time"] = frame["year"] + month / 12.0
    return frame


def _targets(rows):
    frame = pd.DataFrame(rows)
    frame["indicator"] = "ind"
    frame["definition"] = frame.get("definition", "d")
    if "geography" not in frame:
        frame["geography"] = "pre_2025"
    frame["document"] = "test plan"
    return frame


def test_year_figure_decides_and_in_year_readings_do_not():
    obs = _obs([
        {"geo": "a", "year": 2023, "period": "2023-06", "value": 90.0},     # in-year: above target, not decisive
        {"geo": "a", "year": 2023, "period": "2023-12", "value": 79.4},     # year-end: decides
        {"geo": "b", "year": 2023, "value": 12.0},                          # stated for the year: decides
        {"geo": "c", "year": 2025, "period": "2025-06", "value": 85.0},     # only in-year: nowcast
        {"geo": "d", "year": 2025, "value": 80.0},
        {"geo": "d", "year": 2024, "value": 99.0},                          # another year: irrelevant
    ])
    targets = _targets([
        {"geo": "a", "deadline": 2023, "target": 85.0, "comparator": ">"},
        {"geo": "b", "deadline": 2023, "target": 10.0, "comparator": ">="},
        {"geo": "c", "deadline": 2025, "target": 80.0, "comparator": ">="},
        {"geo": "d", "deadline": 2025, "target": 80.0, "comparator": ">="},   # equality meets >=
        {"geo": "d", "deadline": 2025, "target": 80.0, "comparator": ">"},    # ... and misses >
        {"geo": "d", "deadline": 2024, "target": 5.0, "comparator": "<="},
        {"geo": "e", "deadline": 2024, "target": 5.0, "comparator": ">="},
        {"geo": "a", "deadline": 2030, "target": 95.0, "comparator": ">="},
    ])
    v = verdicts(targets, obs)
    assert list(v.columns) == list(VERDICT_COLUMNS)
    assert list(v["status"]) == ["missed", "met", "no reading", "met", "missed", "missed", "no reading", "not due"]
    assert v["outcome"].iloc[0] == 79.4 and v["outcome_source"].iloc[0] == "https://example.test/1"
    assert "90 (2023-06)" in v["outcome_note"].iloc[0]
    assert v["outcome"].iloc[1] == 12.0
    assert np.isnan(v["outcome"].iloc[2]) and "nowcast" in v["outcome_note"].iloc[2]
    assert "85 (2025-06)" in v["outcome_note"].iloc[2]
    assert v["outcome"].iloc[5] == 99.0
    assert "after the newest reading (2025)" in v["outcome_note"].iloc[7]
    assert set(v["status"]) <= set(STATUSES)


def test_superseded_and_excluded_readings_do_not_count_and_geographies_do_not_mix():
    obs = _obs([
        {"geo": "a", "year": 2023, "value": 90.0, "status": "superseded by a later release"},
        {"geo": "a", "year": 2023, "value": 70.0},
        {"geo": "b", "year": 2023, "value": 90.0, "status": "excluded in config: not this definition"},
        {"geo": "c", "year": 2023, "value": 90.0, "geography": "post_2025"},
        {"geo": "u", "year": 2023, "value": 90.0, "status": "indicator not modelled"},
    ])
    targets = _targets([
        {"geo": g, "deadline": 2023, "target": 80.0, "comparator": ">="} for g in ("a", "b", "c", "u")])
    v = verdicts(targets, obs)
    assert list(v["status"]) == ["missed", "no reading", "no reading", "met"]


def test_disagreeing_year_figures_are_disputed_and_agreeing_ones_decide():
    obs = _obs([
        {"geo": "a", "year": 2025, "value": 18.7},
        {"geo": "a", "year": 2025, "period": "2025-12", "value": 21.0},
        {"geo": "b", "year": 2025, "value": 21.0},
        {"geo": "b", "year": 2025, "period": "2025-12", "value": 22.0},
    ])
    targets = _targets([{"geo": g, "deadline": 2025, "target": 20.0, "comparator": ">="} for g in ("a", "b")])
    v = verdicts(targets, obs)
    assert list(v["status"]) == ["disputed", "met"]
    assert np.isnan(v["outcome"].iloc[0]) and "18.7 (missed)" in v["outcome_note"].iloc[0]
    assert v["outcome"].iloc[1] == 22.0 and "agree" in v["outcome_note"].iloc[1]


def test_with_verdicts_keeps_every_column_and_repeats_per_scenario():
    obs = _obs([{"geo": "a", "year": 2023, "value": 70.0}])
    targets = _targets([{"geo": "a", "deadline": 2023, "target": 80.0, "comparator": ">="},
                        {"geo": "a", "deadline": 2024, "target": 80.0, "comparator": ">="}])
    table = pd.DataFrame({"scenario": ["s1", "s1", "s2", "s2"], "probability": [0.1, 0.2, 0.3, 0.4]})
    out = with_verdicts(table, targets, obs)
    assert list(out.columns) == ["scenario", "probability", *VERDICT_COLUMNS]
    assert list(out["status"]) == ["missed", "not due", "missed", "not due"]
    with pytest.raises(ValueError):
        with_verdicts(table.iloc[:3], targets, obs)


def test_shipped_run_keeps_its_columns_and_judges_past_targets(tmp_path, root):
    from dxsim.pipeline import run_scenario, write_run

    result = run_scenario(root / "scenarios" / "baseline.toml", draws=50, seed=1)
    write_run(result, tmp_path / "run")
    tp = pd.read_csv(tmp_path / "run" / "target_probabilities.csv", keep_default_na=False)
    assert list(tp.columns)[:len(TARGET_PROBABILITY_COLUMNS)] == list(TARGET_PROBABILITY_COLUMNS)
    assert {"status", "outcome", "outcome_source"} <= set(tp.columns)
    assert set(tp["status"]) <= set(STATUSES)
    judged = tp[tp["status"].isin(["met", "missed"])]
    assert len(judged) > 0 and (judged["outcome"] != "").all() and (judged["outcome_source"] != "").all()
    # the 2023 national fibre targets (> 85%, >= 84%) were missed: the December 2023 reading is 79.4%
    fibre = tp[(tp["geo"] == "vietnam") & (tp["indicator"] == "fiber_household_share")
               & (tp["deadline"] == 2023) & (tp["definition"] == "subscription")]
    assert len(fibre) == 2 and (fibre["status"] == "missed").all()
    assert (fibre["outcome"].astype(float) == 79.4).all()


def test_report_shows_the_status_of_judged_targets(tmp_path, small_run):
    from dxsim.cli import main

    out = small_run(tmp_path / "run")            # a copy of the session's baseline run (statuses need no draws)
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="run-verdicts">'):]
    section = section[:section.index("</section>")]
    assert "targets judged on their readings" in section and "<strong>missed</strong>" in section
    assert "79.4%" in section and "vietbao.vn" in section


def test_a_nowcast_conditions_on_the_readings_of_its_year(cheap_config, tmp_path, root):
    """Synthetic national fibre readings (made in this test, not data) to December 2024, then one June 2025
    reading, low or high. A 2025 target has no year figure yet (status "no reading", a nowcast), and its
    probability follows the June reading: 2025 is the series' last year with data, so the ensemble's 2025 value
    is the fit, which uses it."""
    from dxsim.pipeline import load_inputs, run_scenario

    common = {"geo": "vietnam", "indicator": "fiber_household_share", "definition": "subscription", "release": "",
              "unit": "%", "quote": "", "note": "synthetic test reading"}
    history = [{**common, "year": y, "period": f"{y}-12", "value": v, "source_url": f"https://example.test/{y}"}
               for y, v in {2019: 48.0, 2020: 56.0, 2021: 63.0, 2022: 69.0, 2023: 74.0, 2024: 78.7}.items()]
    pd.DataFrame([{"geo": "vietnam", "indicator": "fiber_household_share", "definition": "subscription",
                   "deadline": 2025, "target": 83.0, "comparator": ">=", "document": "plan", "source_url": "",
                   "quote": ""}]).to_csv(tmp_path / "targets.csv", index=False)
    p, median = {}, {}
    for name, june in (("low", 76.0), ("high", 86.0)):
        june_row = {**common, "year": 2025, "period": "2025-06", "value": june, "source_url": "https://example.test/j"}
        pd.DataFrame(history + [june_row]).to_csv(tmp_path / f"{name}.csv", index=False)
        inputs = load_inputs(cheap_config, tmp_path / f"{name}.csv", tmp_path / "targets.csv")
        result = run_scenario(root / "scenarios" / "baseline.toml", draws=400, seed=2, inputs=inputs)
        tp = result.target_probabilities.iloc[0]
        assert tp["status"] == "no reading" and "nowcast" in tp["outcome_note"]
        assert f"{june:g} (2025-06)" in tp["outcome_note"]
        tr = result.trajectories
        row = tr[(tr["geo"] == "vietnam") & (tr["indicator"] == "fiber_household_share")
                 & (tr["definition"] == "subscription") & (tr["year"] == 2025)].iloc[0]
        assert not row["projected"]                      # the fitted year, not a projection from 2024
        p[name], median[name] = tp["probability"], row["q50"]
    assert median["low"] < 82.0 < median["high"]
    assert p["low"] < 0.2 and p["high"] > 0.8


def test_every_2025_national_target_with_a_year_figure_has_its_verdict(inputs):
    """On the shipped data: each national 2025 target whose series has a 2025 year figure is met or missed; the
    20% digital-economy target (MIC method, two decisions) is missed at 18.72%."""
    v = pd.concat([inputs.targets, verdicts(inputs.targets, inputs.observations)], axis=1)
    national = v[(v["geo"] == "vietnam") & (v["deadline"] == 2025)]
    obs = inputs.observations
    figures = obs[(obs["year"] == 2025) & (obs["period"].fillna("").isin(["", "2025-12"]))
                  & (obs["status"] == "used")]
    has_figure = national.set_index(["indicator", "definition"]).index.isin(
        figures.set_index(["indicator", "definition"]).index[figures["geo"].to_numpy() == "vietnam"])
    assert has_figure.any()
    assert national.loc[has_figure, "status"].isin(["met", "missed"]).all()
    de = national[(national["indicator"] == "digital_economy_grdp_share") & (national["definition"] == "mic_method")]
    assert len(de) == 2 and (de["status"] == "missed").all() and (de["outcome"] == 18.72).all()
