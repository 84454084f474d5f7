"""The 34-province map in outputs (issue 11): a merged province's chart shows its parts' readings, the merger
date and its map and weights; the brief's latest reading of a merged province names its parts; the provinces'
aggregate against national readings; NAME@pre2025 as a --geo filter and in the Python API. Fan-chart layout
(issue 14): the document list clear of the footnote, the observed/projected labels clear of readings, a
definition with a method break drawn from its break."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dxsim.cli import main
from dxsim.core.national import national_consistency
from dxsim.inputs.geography import MERGER_YEAR
from dxsim.outputs import style
from dxsim.outputs.chartkit import _mark_projection
from dxsim.outputs.charts import fan_chart, read_run
from dxsim.outputs.mapparts import national_comparison, parts_mean, parts_of
from dxsim.outputs.report import plot_run
from dxsim.outputs.report_brief import _latest
from dxsim.pipeline import run_scenario, write_run

SVG = "{http://www.w3.org/2000/svg}"
SCENARIO = """name = "map34"
horizon = 2030
draws = 60
seed = 5
geos = ["tay_ninh", "tay_ninh@pre2025", "long_an", "lang_son@pre2025", "vietnam"]
"""


@pytest.fixture(scope="module")
def folder(inputs, tmp_path_factory):
    scenario = tmp_path_factory.mktemp("map34") / "map34.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return write_run(run_scenario(scenario, inputs=inputs), scenario.parent / "map34")


@pytest.fixture(scope="module")
def tables(folder):
    return read_run(folder)


def _svg(fig: Figure, path) -> ET.Element:
    with rc_context(style.rc()):
        fig.savefig(path, format="svg")
    return ET.parse(path).getroot()


def _group_texts(root: ET.Element, gid: str) -> str:
    return " ".join("".join(t.itertext()) for g in root.iter(f"{SVG}g") if g.get("id", "").startswith(gid)
                    for t in g.iter(f"{SVG}text"))


def test_a_merged_province_chart_shows_its_parts_the_merger_and_its_weights(tables, tmp_path):
    obs = tables.observations
    long_an = obs[(obs["geo"] == "long_an") & (obs["indicator"] == "fiber_household_share")
                  & (obs["definition"] == "subscription")]
    assert len(long_an), "the shipped data have Long An's fibre subscription reading"
    fig = fan_chart(tables, "tay_ninh", "fiber_household_share", "subscription")
    ax = fig.axes[0]
    merger = [line for line in ax.get_lines() if line.get_gid() == "merger"]
    assert len(merger) == 1 and merger[0].get_xdata()[0] == MERGER_YEAR
    parts_line = [line for line in ax.get_lines() if line.get_gid() and line.get_gid().startswith("observations-")]
    ys = np.concatenate([line.get_ydata() for line in parts_line])
    assert set(long_an["value"]) <= set(ys)
    root = _svg(fig, tmp_path / "tay_ninh.svg")
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Long An: reading" in texts and "merger 1 Jul 2025" in _group_texts(root, "merger-label")
    weights = pd.read_csv(tables.folder / "weights.csv")
    w = weights[(weights["geo"] == "tay_ninh") & (weights["indicator"] == "fiber_household_share")]
    foot = _group_texts(root, "footnote")
    assert "34 provinces" in foot and "weights.csv" in foot
    for part, share in zip(w["part"], w["weight"], strict=True):
        assert f"{share:.0%} {style.geo_name(part)}" in foot.replace("\n", " ")
    assert "no reading" not in texts          # its parts have readings: the series is observed
    old = " ".join("".join(t.itertext()) for t in _svg(fan_chart(tables, "long_an", "fiber_household_share",
                                                                 "subscription"), tmp_path / "la.svg")
                   .iter(f"{SVG}text"))
    assert "63 provinces" in old and "part of Tây Ninh" in old


def test_weighted_mean_of_the_parts_readings_only_where_every_part_has_one(tables):
    # SYNTHETIC readings: both parts read in 2023, only Long An in 2024
    rows = pd.DataFrame({"geo": ["long_an", "tay_ninh@pre2025", "long_an"], "indicator": ["online_dossier_share"] * 3,
                         "definition": ["submitted_online"] * 3, "year": [2023, 2023, 2024],
                         "value": [80.0, 60.0, 90.0], "source_url": ["https://a.vn/x"] * 3,
                         "time": [2023.5, 2023.75, 2024.5]})
    synthetic = dataclasses.replace(tables, observations=rows)
    parts = parts_of(synthetic, "tay_ninh", "online_dossier_share")
    w = dict(zip(parts.names, parts.weights, strict=True))
    means = parts_mean(synthetic, "tay_ninh", "online_dossier_share", "submitted_online")
    assert list(means["year"]) == [2023]
    assert means["value"].iloc[0] == pytest.approx(80 * w["long_an"] + 60 * w["tay_ninh@pre2025"])
    assert _latest(synthetic, "tay_ninh", "online_dossier_share", "submitted_online", "en") == \
        "Tây Ninh (before 7/2025) 60.0 (2023); Long An 90.0 (2024)"


def test_brief_latest_reading_of_a_merged_province_names_its_part_or_uses_its_own(tables):
    assert _latest(tables, "tay_ninh", "fiber_household_share", "subscription", "en") == "Long An 88.9 (2024-06)"
    own = _latest(tables, "tay_ninh", "online_dossier_share", "submitted_online", "en")
    assert own.startswith("99.6 (2025-") and "Long An" not in own       # its own post-merger reading


def test_provinces_aggregate_against_national_readings(inputs, tables, tmp_path):
    from dxsim.core.calibrate import Calibrator
    from dxsim.core.ensemble import run_ensemble
    from dxsim.inputs.geography import load_geomap
    from dxsim.inputs.scenario import RunSettings, Scenario

    status = tables.manifest["geography"]["national_consistency"]
    assert status.startswith("not available: the run simulates 3 of the 63")
    assert not (tables.folder / "national_consistency.csv").exists()
    _, rows, sentence = national_comparison(tables, "en")
    assert rows == [] and "not available" in sentence and "3 of the 63" in sentence
    calibrator = Calibrator(inputs.config).fit(inputs.observations)
    geomap = load_geomap(inputs.config)
    ens = run_ensemble(calibrator, [Scenario("all", "", tuple(sorted(geomap.new)), "multiple", {},
                                              settings=RunSettings(2026, 40, 1))],
                       40, 1)
    table, status = national_consistency(ens, inputs.config, calibrator.observations_)
    assert not table.empty and status.startswith("national_consistency.csv")
    assert np.allclose(table["distance_pp"], table["national_reading"] - table["aggregate_q50"])
    assert (table["aggregate_q10"] <= table["aggregate_q50"]).all()
    assert (table["aggregate_q50"] <= table["aggregate_q90"]).all()
    # known answer: the aggregate of the 34 new provinces is the population-weighted mean of the 63 per draw
    fibre = table[table["indicator"] == "fiber_household_share"].iloc[0]
    old = tuple(geomap.old)
    ens63 = run_ensemble(calibrator, [Scenario("old", "", tuple(geomap.resolve(o + "@pre2025").name for o in old),
                                                   "multiple", {}, settings=RunSettings(2026, 40, 1))], 40, 1)
    k = ens63.series.index((fibre["indicator"], fibre["definition"]))
    values = ens63.values(int(fibre["year"]), series=[k])[0, :, 0]               # (63, draw)
    pop = np.array([geomap.population[o] for o in old])
    assert np.median(pop @ values / pop.sum()) == pytest.approx(fibre["aggregate_q50"], abs=1e-9)


def test_name_at_pre2025_as_a_geo_filter_in_the_cli_and_the_python_api(folder, tmp_path, capsys):
    out = tmp_path / "charts"
    assert main(["plot", str(folder), "--geo", "tay_ninh@pre2025", "--format", "png", "--out", str(out)]) == 0
    names = {p.name for p in out.glob("*.png")}
    assert names and all(n.startswith("fan_tay_ninh@pre2025_") for n in names)
    out2 = tmp_path / "charts2"
    assert main(["plot", str(folder), "--geo", "lang_son@pre2025", "--format", "png", "--out", str(out2)]) == 0
    assert {p.name for p in out2.glob("*.png")} and all(p.name.startswith("fan_lang_son_") for p in out2.glob("*.png"))
    files = plot_run(folder, formats=("svg",), geos=["tay_ninh@pre2025"], out=tmp_path / "api")
    assert files and all(f.name.startswith("fan_tay_ninh@pre2025_") for f in files)
    assert main(["plot", str(folder), "--geo", "tay_ninh@pre2024", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--geo" in err[0] and "tay_ninh@pre2024" in err[0]


def test_document_list_legend_and_footnote_do_not_overlap(tables):
    fig = fan_chart(tables, "vietnam", "online_dossier_share", "full_process")
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    boxes = {t.get_gid(): t.get_window_extent(renderer) for t in fig.texts if t.get_gid()}
    legend_bottom = min(t.get_window_extent(renderer).y0 for t in fig.texts if not t.get_gid())
    assert boxes["documents"].y0 > boxes["footnote"].y1
    assert legend_bottom > boxes["documents"].y1
    # the EMC series exists since its 2024 method break: the chart starts there, not in 2020
    assert fig.axes[0].get_xlim()[0] >= 2023


def test_observed_label_moves_away_from_readings_near_the_jump_off():
    for ys, where in (([99.5, 98.0], "bottom"), ([5.0, 50.0], "top")):
        fig = Figure()
        ax = fig.add_subplot()
        ax.set_xlim(2020, 2031)
        ax.set_ylim(0, 104)
        _mark_projection(ax, 2026, "en", points=[(2025.8, ys[0]), (2025.2, ys[1])])
        label = next(t for t in ax.texts if t.get_gid() == "observed-period")
        assert label.get_va() == where and (label.get_position()[1] < 0.5) == (where == "bottom")
