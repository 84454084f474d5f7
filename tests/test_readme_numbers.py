"""The numbers the README's planner tour quotes from `dxsim required-investment scenarios/baseline.toml
--probability 0.8` (1,000 draws, the scenario's seed) are what that command gives on the shipped data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def answers(calibrator, inputs):
    import dxsim

    table = dxsim.required_investment("baseline", inputs, calibrator, probability=0.8, draws=1000).table
    return table.set_index(["geo", "indicator", "definition", "deadline", "comparator", "target"])


def _row(answers, geo, indicator, definition, deadline, comparator, target):  # noqa: ANN001, ANN202
    return answers.loc[(geo, indicator, definition, deadline, comparator, target)]


def _at_ten(row) -> float:  # noqa: ANN001
    return float(re.search(r"P = ([\d.]+) there", row["answer"]).group(1))


def test_the_planner_tour_quotes_a_run(answers):
    text = " ".join(README.read_text(encoding="utf-8").split())
    a = lambda *key: _row(answers, *key)            # noqa: E731
    province = a("tra_vinh", "internal_work_online_share", "province_level", 2030, ">=", 100.0)
    district = a("tra_vinh", "internal_work_online_share", "district_level", 2030, ">=", 90.0)
    commune = a("tra_vinh", "internal_work_online_share", "commune_level", 2030, ">=", 70.0)
    above25 = a("tra_vinh", "digital_economy_grdp_share", "mic_method", 2030, ">", 25.0)
    least30 = a("tra_vinh", "digital_economy_grdp_share", "mic_method", 2030, ">=", 30.0)
    vinh_long = a("vinh_long", "digital_economy_grdp_share", "gso_method", 2030, ">=", 10.08)
    level4 = a("long_an", "level4_service_share", "all_services", 2025, ">=", 80.0)
    eligible = a("long_an", "level4_service_share", "eligible_base", 2025, ">=", 100.0)
    high = [a("long_an", "internal_work_online_share", f"{lv}_level", 2025, ">=", t)
            for lv, t in (("province", 90.0), ("district", 80.0), ("commune", 60.0))]
    high += [a("long_an", "fiber_household_share", "coverage", 2025, c, t) for c, t in ((">=", 80.0), (">", 90.0))]
    lows = [r["probability_at_baseline"] for r in high]
    quoted = [
        f"P = {province['probability_at_baseline']:.3f} as the scenario stands, a digital-government multiple of "
        f"{province['multiple']:.2f} reaches {province['probability']:.3f} (Monte Carlo standard error "
        f"{province['mc_se']:.3f})",
        f"already met at baseline (P = {district['probability_at_baseline']:.3f} and "
        f"{commune['probability_at_baseline']:.3f})",
        f"(P = {above25['probability_at_baseline']:.3f} and {least30['probability_at_baseline']:.3f} as written, "
        f"{_at_ten(above25):.3f} and {_at_ten(least30):.3f} at ten times",
        f"already met at baseline (P = {vinh_long['probability_at_baseline']:.3f};",
        f"P(met): {level4['probability_at_baseline']:.3f} (level-4 services 80%), "
        f"{eligible['probability_at_baseline']:.3f} (100% of eligible services), {min(lows):.3f} to "
        f"{max(lows):.3f} (internal work online",
    ]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"the README quotes other numbers than a run gives: {missing}"
