"""dxsim scorecard: Brier scores and interval hits with known answers, and the command end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dxsim.analyses.scorecard import SCORECARD_COLUMNS, SUMMARY_COLUMNS, brier, run_scorecard, summarise
from dxsim.cli import main
from dxsim.pipeline import load_inputs

DRAWS = 400


def test_brier_known_answers():
    assert brier(np.array([1.0, 0.0, 0.5, 0.9]), np.array([1, 0, 1, 0])).tolist() == \
        pytest.approx([0.0, 0.0, 0.25, 0.81])


def test_summary_counts_a_target_once_and_compares_on_the_same_items():
    """A hand-made scorecard (synthetic, made here): the same target in two documents counts once; a baseline's
    Brier and interval hits sit next to dxsim's on exactly its items."""
    base = {"origin": 2023, "indicator": "i", "definition": "d", "period": "", "comparator": ">=",
            "source_url": "", "value": 1.0, "median": 1.0, "lo80": 0.0, "hi80": 2.0}
    rows = [
        {**base, "kind": "target", "method": "dxsim", "geo": "a", "year": 2025, "target": 20.0, "document": "p1",
         "probability": 0.9, "outcome": 0.0},
        {**base, "kind": "target", "method": "dxsim", "geo": "a", "year": 2025, "target": 20.0, "document": "p2",
         "probability": 0.9, "outcome": 0.0},
        {**base, "kind": "target", "method": "dxsim", "geo": "b", "year": 2025, "target": 20.0, "document": "p1",
         "probability": 0.6, "outcome": 1.0},
        {**base, "kind": "target", "method": "last_value", "geo": "a", "year": 2025, "target": 20.0,
         "document": "p1", "probability": 0.2, "outcome": 0.0},
        {**base, "kind": "reading", "method": "dxsim", "geo": "a", "year": 2024, "row": 7, "held": True},
        {**base, "kind": "reading", "method": "dxsim", "geo": "b", "year": 2024, "row": 8, "held": False},
        {**base, "kind": "reading", "method": "last_value", "geo": "b", "year": 2024, "row": 8, "held": True},
    ]
    table = pd.DataFrame(rows)
    table["brier"] = brier(table["probability"], table["outcome"])
    summary = summarise(table)
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    summary = summary.set_index("method")
    assert summary.at["dxsim", "n_targets"] == 2
    assert summary.at["dxsim", "brier"] == pytest.approx((0.81 + 0.16) / 2)
    assert summary.at["last_value", "brier"] == pytest.approx(0.04)
    assert summary.at["last_value", "dxsim_brier_same_targets"] == pytest.approx(0.81)
    assert summary.at["dxsim", "held_80"] == 0.5 and summary.at["dxsim", "n_readings"] == 2
    assert summary.at["last_value", "held_80"] == 1.0 and summary.at["last_value", "dxsim_held_80_same_readings"] == 0


def _synthetic_inputs(config, tmp_path):
    """Synthetic national fibre readings (made in this test, not data): a smooth logistic rise to 74% in 2023,
    then 78.7% in 2024 (on the trend) and 20% in 2025 (far off it); three 2025 targets."""
    common = {"indicator": "fiber_household_share", "definition": "subscription", "release": "", "unit": "%",
              "quote": "", "note": "synthetic test reading"}
    values = {2018: 40.0, 2019: 48.0, 2020: 56.0, 2021: 63.0, 2022: 69.0, 2023: 74.0, 2024: 78.7}
    obs = [{"geo": "vietnam", **common, "year": y, "period": f"{y}-12", "value": v,
            "source_url": f"https://example.test/{y}"} for y, v in values.items()]
    obs.append({"geo": "vietnam", **common, "year": 2025, "period": "", "value": 20.0,
                "source_url": "https://example.test/2025"})
    pd.DataFrame(obs).to_csv(tmp_path / "obs.csv", index=False)
    targets = [{"geo": "vietnam", "indicator": "fiber_household_share", "definition": "subscription",
                "deadline": 2025, "target": t, "comparator": ">=", "document": f"plan {t:g}", "source_url": "",
                "quote": ""} for t in (10.0, 50.0, 90.0)]
    pd.DataFrame(targets).to_csv(tmp_path / "targets.csv", index=False)
    # fibre's walk as typed (0.08): these made-up readings are smooth by construction, so a walk estimated from
    # them would be near zero and whether 78.7 is held would rest on how round the made-up numbers are
    text = config.read_text(encoding="utf-8")
    typed = text.replace("process_sd = { median = 0.08, log_sd = 0.75 }", "process_sd = 0.08", 1)
    assert typed != text
    config.write_text(typed, encoding="utf-8")
    return load_inputs(config, tmp_path / "obs.csv", tmp_path / "targets.csv")


def test_scorecard_known_answers_on_a_synthetic_series(cheap_config, tmp_path):
    card = run_scorecard(_synthetic_inputs(cheap_config, tmp_path), (2023,), DRAWS, 5)
    table = card.table
    assert tuple(table.columns) == SCORECARD_COLUMNS
    dx = table[(table["kind"] == "target") & (table["method"] == "dxsim")].set_index("target")
    # 2025 reading 20%: ">= 10" met, ">= 50" and ">= 90" missed; from 2023 the trend says about 82%
    assert dx["outcome"].to_dict() == {10.0: 1.0, 50.0: 0.0, 90.0: 0.0}
    assert dx.at[10.0, "probability"] > 0.99 and dx.at[10.0, "brier"] < 1e-4
    assert dx.at[50.0, "probability"] > 0.99 and dx.at[50.0, "brier"] > 0.98      # sure and wrong
    assert dx.at[90.0, "probability"] < 0.05 and dx.at[90.0, "brier"] < 0.0025
    assert (dx["value"] == 20.0).all() and (dx["source_url"] == "https://example.test/2025").all()
    assert np.allclose(dx["brier"], (dx["probability"] - dx["outcome"]) ** 2)
    # the baselines extrapolate the same rise: all are sure of ">= 50" and wrong
    base = table[(table["kind"] == "target") & (table["method"] != "dxsim") & (table["target"] == 50.0)]
    assert set(base["method"]) >= {"last_value", "linear_trend", "national_shift"}
    assert (base["brier"] > 0.9).all()
    # interval hits: 78.7 (2024, on the trend) inside dxsim's 80% interval, 20 (2025) far outside
    rd = table[(table["kind"] == "reading") & (table["method"] == "dxsim")].set_index("year")
    assert rd.at[2024, "held"] and rd.at[2024, "lo80"] <= 78.7 <= rd.at[2024, "hi80"]
    assert not rd.at[2025, "held"] and rd.at[2025, "lo80"] > 60
    summary = card.summary.set_index("method")
    assert summary.at["dxsim", "n_targets"] == 3 and summary.at["dxsim", "held_80"] == 0.5
    assert summary.at["dxsim", "brier"] == pytest.approx(dx["brier"].mean())


def test_scorecard_command_on_the_shipped_data(cheap_config, tmp_path, capsys):
    out = tmp_path / "scorecard"
    assert main(["scorecard", "--draws", "50", "--out", str(out), "--config", str(cheap_config)]) == 0
    printed = capsys.readouterr().out
    assert "Brier" in printed and "wrote" in printed
    table = pd.read_csv(out / "scorecard.csv", keep_default_na=False)
    assert tuple(table.columns) == SCORECARD_COLUMNS
    assert set(table["origin"]) == {2023, 2024} and {"target", "reading"} == set(table["kind"])
    targets = table[table["kind"] == "target"]
    assert (targets["year"] > targets["origin"]).all()
    # the national digital-economy target of 20% (MIC method) for 2025 was missed: the 2025 figure is 18.72%
    de = targets[(targets["geo"] == "vietnam") & (targets["indicator"] == "digital_economy_grdp_share")
                 & (targets["year"] == 2025) & (targets["target"].astype(float) == 20.0)]
    assert len(de) and (de["outcome"].astype(float) == 0).all() and (de["value"].astype(float) == 18.72).all()
    readings = table[table["kind"] == "reading"]
    assert (readings["year"] > readings["origin"]).all() and set(readings["held"].astype(str)) <= {"True", "False"}
    assert set(targets["outcome"].astype(float)) <= {0.0, 1.0}
    assert (out / "scorecard.png").stat().st_size > 10_000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "scorecard" and manifest["draws"] == 50
    again = tmp_path / "again"
    assert main(["scorecard", "--draws", "50", "--out", str(again), "--config", str(cheap_config)]) == 0
    assert (again / "scorecard.csv").read_bytes() == (out / "scorecard.csv").read_bytes()   # same seed, same bytes
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Track record" in html and "data:image/png;base64" in html


@pytest.mark.parametrize("origin", ["2049", "1990"])
def test_scorecard_rejects_an_origin_with_nothing_to_score(cheap_config, tmp_path, capsys, origin):
    code = main(["scorecard", "--origins", origin, "--out", str(tmp_path / "x"), "--draws", "20",
                 "--config", str(cheap_config)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--origins" in err and origin in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()
