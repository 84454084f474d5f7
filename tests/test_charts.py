"""Charts drawn from a results folder: every headline fan chart as PNG and SVG, target labels and readings
findable in the SVG, Vietnamese names and labels without missing glyphs, and the chart helpers."""

from __future__ import annotations

import json
import re
import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import rc_context
from matplotlib.colors import to_rgb
from PIL import Image

from dxsim.core.threads import usable_cpus
from dxsim.errors import InputError
from dxsim.outputs import style
from dxsim.outputs.chart_keys import current, run_key
from dxsim.outputs.charts import (
    _spread,
    document_list,
    draw_all,
    fan_chart,
    fan_chart_keys,
    fan_stem,
    install_charts,
    png_bytes,
    probability_chart,
    probability_pages,
    read_run,
    run_jobs,
    short_document,
    source_name,
)
from dxsim.outputs.report import plot_run
from dxsim.outputs.words import words

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def run_dir(baseline_charts):
    """`dxsim run scenarios/baseline.toml`, charts written by the run's chart writer (the session's, read-only)."""
    return baseline_charts


@pytest.fixture(scope="module")
def tables(run_dir):
    return read_run(run_dir)


def _svg_groups(path, prefix):
    root = ET.parse(path).getroot()
    return [g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith(prefix)]


def _texts(element):
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def test_every_geo_x_headline_fan_chart_exists_as_png_and_svg(run_dir, cfg):
    geos = ("long_an", "lang_son", "hau_giang", "tra_vinh", "vietnam")
    assert len(cfg.headline) == 3
    for geo in geos:
        for ind in cfg.headline:
            stem = fan_stem(geo, ind, cfg.indicator(ind).anchor)
            png, svg = run_dir / "charts" / f"{stem}.png", run_dir / "charts" / f"{stem}.svg"
            assert png.stat().st_size > 20_000 and svg.stat().st_size > 5_000, stem
            with Image.open(png) as im:
                assert im.format == "PNG"
                assert im.info["dpi"] == pytest.approx((300, 300), abs=0.5)
                assert im.size[0] >= 1800
            ET.parse(svg)                       # well-formed
    for name in ("target_probabilities", "overview"):
        for ext in ("png", "svg"):
            assert (run_dir / "charts" / f"{name}.{ext}").is_file()


def test_fan_charts_also_cover_every_series_with_a_target_or_a_reading(tables, run_dir):
    keys = set(fan_chart_keys(tables))
    assert ("lang_son", "fiber_household_share", "coverage") in keys           # coverage targets only
    assert ("vietnam", "online_dossier_share", "processed_online") in keys     # readings only
    ev = tables.targets[tables.targets["evaluable"]]
    for row in ev.itertuples():                # a mapped target (method not stated) on each series it means
        assert (row.geo, row.indicator, row.evaluated_as) in keys
    assert ("vietnam", "digital_economy_grdp_share", "gso_method") in keys
    for key in keys:
        assert (run_dir / "charts" / f"{fan_stem(*key)}.svg").is_file()


def test_svg_contains_target_labels_and_observation_points(run_dir, tables):
    geo, ind, dfn = "vietnam", "digital_economy_grdp_share", "mic_method"
    svg = run_dir / "charts" / f"{fan_stem(geo, ind, dfn)}.svg"
    labels = [" ".join(_texts(g)) for g in _svg_groups(svg, "target-label-")]
    ev = tables.targets[tables.targets["evaluable"] & (tables.targets["geo"] == geo)
                        & (tables.targets["indicator"] == ind) & (tables.targets["evaluated_as"] == dfn)]
    # equivalent wordings are one label; a target mapped from another definition has its own
    assert len(labels) == len(ev.groupby(["definition", "deadline", "target"]))
    for target in ev["target"].unique():
        assert any(f" {target:g}%" in label for label in labels), (target, labels)
    # the numbered list below the chart names every document in full
    documents = " ".join(" ".join(_texts(g)) for g in _svg_groups(svg, "documents"))
    for doc in ev["document"].unique():
        assert " ".join(doc.split()) in " ".join(documents.split()), doc
    # every reading of the series is one marker (<use>) in an "observations-*" group
    obs = tables.observations
    n_obs = len(obs[(obs["geo"] == geo) & (obs["indicator"] == ind) & (obs["definition"] == dfn)])
    groups = _svg_groups(svg, "observations-")
    assert n_obs >= 4
    assert sum(len(list(g.iter(f"{SVG}use"))) for g in groups) == n_obs
    mine = obs[(obs["geo"] == geo) & (obs["indicator"] == ind) & (obs["definition"] == dfn)]
    assert len(groups) == mine["source_url"].map(source_name).nunique() >= 2      # one marker per source
    # title, axis label with the unit, footnote with version, scenario, calibration and draws
    texts = " | ".join(_texts(ET.parse(svg).getroot()))
    assert "Vietnam: Digital economy, share of GDP (MIC method)" in texts        # the nation's is GDP
    assert "% of GDP" in texts and "Year" in texts and "GRDP" not in texts
    flowing = " ".join(_texts(ET.parse(svg).getroot()))               # the footnote wraps onto two lines
    draws = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["draws"]
    assert "scenario baseline" in flowing and f"{draws} draws" in flowing and "calibration" in flowing


def test_rendering_vietnamese_names_reports_no_missing_glyph(tables, tmp_path):
    named = ("lang_son", "hau_giang", "tra_vinh")
    jobs = [j for j in run_jobs(tables) if j.kind != "fan" or j.args[0] in named]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lang in style.LANGS:
            draw_all(tables, jobs[:6], tmp_path / lang, lang=lang, formats=("png",), workers=0)
        with rc_context(style.rc()):
            fig = fan_chart(tables, "lang_son", "fiber_household_share", "subscription", lang="vi")
            fig.text(0, 0, " ".join(style.GEO_NAMES_VI.values()) + " " + " ".join(
                name for entry in words("vi")["indicators"].values() for name in entry.values()))
            fig.savefig(tmp_path / "all_names.png", dpi=100)
    assert (tmp_path / "vi" / "overview.png").is_file()


def test_lang_vi_puts_vietnamese_labels_in_the_svg(tables, tmp_path):
    key = ("lang_son", "digital_economy_grdp_share", "mic_method")
    jobs = [j for j in run_jobs(tables) if j.args == key]
    draw_all(tables, jobs, tmp_path, lang="vi", formats=("svg",), workers=0)
    texts = " | ".join(_texts(ET.parse(tmp_path / f"{fan_stem(*key)}.svg").getroot()))
    for expected in ("Lạng Sơn", "Tỷ trọng kinh tế số trong GRDP", "phương pháp Bộ TT&TT", "Năm",
                     "Trung vị", "Khoảng 80%", "Mục tiêu", "dự báo", "kịch bản baseline"):
        assert expected in texts, expected
    assert "Median" not in texts and "Year" not in texts


def test_geo_names_cover_every_pre_2025_province_with_diacritics(root):
    old = pd.read_csv(root / "calibration" / "merger_2025.csv")["old_province"]
    assert len(old) == 63
    for geo in old:
        assert geo in style.GEO_NAMES and geo in style.GEO_NAMES_VI, geo
    assert style.geo_name("lang_son") == "Lạng Sơn"
    assert style.geo_name("hau_giang") == "Hậu Giang"
    assert style.geo_name("tra_vinh") == "Trà Vinh"
    assert style.geo_name("long_an") == "Long An"
    assert (style.geo_name("vietnam"), style.geo_name("vietnam", "vi")) == ("Vietnam", "Việt Nam")
    for lang in style.LANGS:
        assert {k: set(v) for k, v in words(lang).items()} == {k: set(v) for k, v in words("en").items()}


def test_probability_chart_bars_are_sorted_and_coloured_by_likelihood(tables):
    bars = []
    with rc_context(style.rc()):
        for page in range(probability_pages(tables)):
            ax = probability_chart(tables, page).axes[0]
            assert ax.yaxis_inverted()                     # least likely target on top
            bars += [p for p in ax.patches if p.get_gid() and p.get_gid().startswith("probability-bar-")]
    widths = [b.get_width() for b in bars]
    tp = tables.targets
    due = tp[tp["evaluable"] & (tp["deadline"] >= tables.first_projected_year)]
    # equivalent targets (same geo, definition, deadline, value; '>' in one document, '>=' in another): one bar
    assert len(bars) == len(due.drop_duplicates(["geo", "indicator", "definition", "evaluated_as", "deadline",
                                                 "target"]))
    assert len(bars) < len(due.drop_duplicates(["geo", "indicator", "definition", "evaluated_as", "deadline",
                                                "comparator", "target"]))
    assert widths == sorted(widths)
    for bar in bars:
        expected = style.likelihood(bar.get_width())[1]
        assert np.allclose(bar.get_facecolor()[:3], to_rgb(expected))


def test_forked_helpers_draw_the_same_files_as_one_process(tables, tmp_path):
    jobs = run_jobs(tables, geos=["hau_giang"])
    serial = draw_all(tables, jobs, tmp_path / "serial", formats=("svg",), workers=0)
    forked = draw_all(tables, jobs, tmp_path / "forked", formats=("svg",), workers=1)
    assert sorted(p.name for p in serial) == sorted(p.name for p in forked) and len(serial) >= 3
    for p in serial:
        assert p.read_bytes() == (tmp_path / "forked" / p.name).read_bytes(), p.name


def test_a_reused_figure_draws_the_files_of_a_new_one_in_any_order(tables, tmp_path, monkeypatch):
    from contextlib import nullcontext

    from dxsim.outputs import figurepool

    jobs = run_jobs(tables, geos=["lang_son"])[:4]
    forward = draw_all(tables, jobs, tmp_path / "forward", workers=0)
    draw_all(tables, jobs[::-1], tmp_path / "backward", workers=0)
    monkeypatch.setattr(figurepool, "reusing", nullcontext)
    draw_all(tables, jobs, tmp_path / "new", workers=0)
    assert len(forward) == 2 * len(jobs) == 8
    for p in forward:
        for other in ("backward", "new"):
            assert p.read_bytes() == (tmp_path / other / p.name).read_bytes(), (other, p.name)


def test_run_key_follows_the_tables_and_the_date_not_the_time(run_dir, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    key = run_key(folder, manifest)
    later = {**manifest, "created_utc": manifest["created_utc"][:10] + "T23:59:59+00:00", "inputs": {}}
    assert run_key(folder, later) == key                        # charts show the date, not the time
    assert run_key(folder, {**manifest, "created_utc": "1999-01-01T00:00:00+00:00"}) != key
    assert run_key(folder, {**manifest, "draws": 7}) != key
    calibration = manifest["calibration"]
    assert run_key(folder, {**manifest, "calibration": {**calibration, "loaded_from": "/x/calibration.json"}}) == key
    assert run_key(folder, {**manifest, "calibration": {**calibration, "sha256": "0" * 64}}) != key
    path = folder / "trajectories.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n", 1))
    assert run_key(folder, manifest) != key


def test_plot_keeps_unchanged_charts_and_redraws_changed_ones_byte_identical(run_dir, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    charts = folder / "charts"
    before = {p.name: p.stat().st_mtime_ns for p in charts.iterdir()}
    files = plot_run(folder)                               # the run drew them: nothing to draw again
    assert {p.name for p in files} == {n for n in before if not n.startswith(".")} and len(files) >= 100
    assert all(p.stat().st_mtime_ns == before[p.name] for p in files)
    stem = fan_stem("hau_giang", "online_dossier_share", "submitted_online")
    original = (charts / f"{stem}.svg").read_bytes()
    (charts / f"{stem}.svg").write_bytes(original.replace(b"</svg>", b"<!-- edited --></svg>"))   # changed by hand
    (charts / f"{stem}.png").unlink()                                              # deleted by hand
    files = plot_run(folder)
    redrawn = {p.name for p in files if p.stat().st_mtime_ns != before[p.name]}
    assert redrawn == {f"{stem}.svg", f"{stem}.png"}
    assert (charts / f"{stem}.svg").read_bytes() == original
    assert (charts / f"{stem}.png").read_bytes() == (run_dir / "charts" / f"{stem}.png").read_bytes()


def test_a_run_takes_unchanged_charts_from_the_folder_it_replaces(run_dir, tables, tmp_path):
    old = tmp_path / "old" / "charts"
    shutil.copytree(run_dir / "charts", old)
    stem = fan_stem("lang_son", "fiber_household_share", "subscription")
    (old / f"{stem}.png").write_bytes(b"edited")                # this one is drawn again, the others linked
    new = tmp_path / "new"
    files = install_charts(tables, new, previous=old)
    linked = {p.name for p in files if p.stat().st_ino == (old / p.name).stat().st_ino}
    assert {p.name for p in files} - linked == {f"{stem}.png", f"{stem}.svg"}
    assert (new / f"{stem}.png").read_bytes() == (run_dir / "charts" / f"{stem}.png").read_bytes()
    assert current(new, {p.name: json.loads((new / ".dxsim-results").read_text())["chart_keys"][p.name][0]
                         for p in files}).keys() == {p.name for p in files}


def test_overview_starts_where_the_fan_charts_start(tables):
    from dxsim.outputs.comparechart import overview_chart, overview_pages

    page = overview_pages(tables)[0]
    with rc_context(style.rc()):
        fig = overview_chart(tables, page)
    obs = tables.observations
    mine = obs[obs["geo"].isin(page) & pd.Series(list(zip(obs["indicator"], obs["definition"], strict=True)),
                                                 index=obs.index).isin(tables.headline_series())]
    start = min([tables.first_projected_year - 6, *tables.reading_x(mine)])
    assert {ax.get_xlim()[0] for ax in fig.axes} == {np.floor(start - 0.25)}


def test_cached_text_draws_matplotlibs_pixels(tables):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from dxsim.outputs.glyphcache import CachingCanvas

    with rc_context(style.rc()):
        figs = [fan_chart(tables, *key, lang=lang) for key in fan_chart_keys(tables)[:2] for lang in style.LANGS]
        for k, fig in enumerate(figs):
            fig.dpi = style.DPI
            fig.text(0.3 + k * 0.0137, 0.5 + k * 0.0071, "Lạng Sơn 2025 → 14,5%", rotation=30 * k, fontsize=7.3)
            plain = FigureCanvasAgg(fig)
            plain.draw()
            expected = np.asarray(plain.buffer_rgba()).copy()
            for _ in range(2):                           # cold, then from the cache
                cached = CachingCanvas(fig)
                cached.draw()
                assert np.array_equal(np.asarray(cached.buffer_rgba()), expected)


def test_a_reused_background_draws_the_pixels_of_a_full_draw(tables):
    """Every fan chart of the baseline run, drawn over a background kept from an earlier chart (or drawn for it),
    has the pixels of matplotlib's full draw; the charts share fewer backgrounds than there are charts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from dxsim.outputs import background

    background._CACHE.clear()
    keys = fan_chart_keys(tables)
    with rc_context(style.rc()):
        for key in keys:
            fig = fan_chart(tables, *key)
            fig.dpi = style.DPI
            plain = FigureCanvasAgg(fig)
            plain.draw()
            expected = np.asarray(plain.buffer_rgba()).copy()
            reused = FigureCanvasAgg(fig)
            background.draw(reused)
            assert np.array_equal(np.asarray(reused.buffer_rgba()), expected), key
    assert 0 < len(background._CACHE) < len(keys) / 2


def test_a_background_is_not_reused_under_an_artist_drawn_before_it(tables):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from dxsim.outputs import background

    with rc_context(style.rc()):
        fig = fan_chart(tables, *fan_chart_keys(tables)[0])
        ax = fig.axes[0]
        assert background._plan(fig) is not None
        ax.axhspan(10, 20, color="red", zorder=0.1)       # under the grid: the grid must be drawn over it
        assert background._plan(fig) is None
        fig.dpi = style.DPI
        plain, reused = FigureCanvasAgg(fig), FigureCanvasAgg(fig)
        plain.draw()
        background.draw(reused)
        assert np.array_equal(np.asarray(reused.buffer_rgba()), np.asarray(plain.buffer_rgba()))


@pytest.mark.parametrize("restyle", ["label size", "label colour", "tick label size", "tick label colour"])
def test_a_background_is_not_reused_for_axis_text_styled_otherwise(tables, restyle):
    """An axis label or tick labels styled on one chart (not through the drawing settings) do not take the
    background of a chart styled otherwise."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from dxsim.outputs import background

    background._CACHE.clear()
    key = fan_chart_keys(tables)[0]
    with rc_context(style.rc()):
        first = fan_chart(tables, *key)
        first.axes[0].set_xlabel("Year")
        first.dpi = style.DPI
        background.draw(FigureCanvasAgg(first))
        fig = fan_chart(tables, *key)
        ax = fig.axes[0]
        ax.set_xlabel("Year")
        if restyle.startswith("label"):
            ax.xaxis.label.set(**{"label size": {"fontsize": 4}, "label colour": {"color": "red"}}[restyle])
        else:
            for label in ax.get_yticklabels():
                label.set(**{"tick label size": {"fontsize": 4}, "tick label colour": {"color": "red"}}[restyle])
        fig.dpi = style.DPI
        plain, reused = FigureCanvasAgg(fig), FigureCanvasAgg(fig)
        plain.draw()
        background.draw(reused)
        assert np.array_equal(np.asarray(reused.buffer_rgba()), np.asarray(plain.buffer_rgba()))


def test_cached_line_metrics_lay_out_text_as_matplotlib_does():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from dxsim.outputs import glyphcache

    glyphcache._HEIGHTS.clear()
    with rc_context(style.rc()):
        for dpi in (72, 300):
            fig = Figure(figsize=(3, 2), dpi=dpi)
            texts = [fig.text(0.1, 0.2 * k, "Lạng Sơn (trước 7/2025)\n2025 → 14,5%", fontsize=size, weight=weight)
                     for k, (size, weight) in enumerate([(7, "normal"), (7.5, "normal"), (9.5, "bold")])]
            plain = FigureCanvasAgg(fig).get_renderer()
            cached = glyphcache.CachingCanvas(fig).get_renderer()
            assert [t.get_window_extent(cached).bounds for t in texts] == \
                [t.get_window_extent(plain).bounds for t in texts]
    assert len(glyphcache._HEIGHTS) == 6          # three fonts at two resolutions, each computed once


def _layouts_cached() -> int:
    from dxsim.outputs import glyphcache

    return len(glyphcache._LAYOUTS)


def test_a_forked_helper_lays_out_text_with_its_own_fonts(tables):
    import multiprocessing

    from dxsim.outputs.glyphcache import CachingCanvas

    with rc_context(style.rc()):
        CachingCanvas(fan_chart(tables, *fan_chart_keys(tables)[0])).draw()
    assert _layouts_cached() > 0
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_layouts_cached) == 0           # the parent's font objects are not used in the child


def test_grouped_targets_are_those_of_a_groupby(tables):
    """group_targets over plain records groups as DataFrame.groupby(sort=True) does: synthetic rows (made here)
    with equivalent wordings, a missing key and a non-evaluable row."""
    from dxsim.outputs.chartkit import group_targets

    rows = pd.DataFrame({
        "geo": ["b", "a", "a", "a", "a"], "indicator": ["fiber"] * 5, "definition": ["d", "d", "d", None, "d"],
        "evaluated_as": ["d"] * 5, "deadline": [2030, 2030, 2030, 2030, 2025], "target": [80.0, 80.0, 80.0, 1.0, 50],
        "comparator": [">=", ">", ">=", ">=", ">="], "probability": [0.5, 0.4, 0.7, 0.1, 0.2],
        "mc_se": [0.01, 0.02, 0.03, 0.04, 0.05], "document": ["x", "y", "z", "w", "v"],
        "evaluable": [True, True, True, True, False]})
    got = group_targets(tables, rows)
    expected = []
    keys = ["geo", "indicator", "definition", "evaluated_as", "deadline", "target"]
    for key, grp in rows[rows["evaluable"]].groupby(keys, sort=True):
        best = int(np.argmax(grp["probability"].to_numpy(float)))
        expected.append((key, tuple(dict.fromkeys(grp["comparator"])), float(grp["probability"].iloc[best]),
                         float(grp["mc_se"].iloc[best]), list(dict.fromkeys(grp["document"]))))
    assert [((t["geo"], t["indicator"], t["definition"], t["evaluated_as"], t["deadline"], t["target"]),
             t["comparators"], t["probability"], t["mc_se"], t["documents"]) for t in got] == expected
    assert [t["geo"] for t in got] == ["a", "b"] and got[0]["comparator"] == "> / >="


def test_document_list_numbers_each_name_once():
    # synthetic targets: one plan cited in two wordings that read the same (spaces), and a second plan
    targets = [{"documents": ["Plan 1/KH-UBND", "Plan  1/KH-UBND"]},
               {"documents": ["Plan 2/KH-UBND", "Plan 1/KH-UBND"]}]
    numbers, lines = document_list(targets, "en")
    assert numbers == ["[1]", "[1,2]"]
    assert lines == ["[1] Plan 1/KH-UBND", "[2] Plan 2/KH-UBND"]


def test_short_document_keeps_the_first_words_before_details():
    assert short_document("Decision 749/QĐ-TTg (3/6/2020) National DX Program") == "Decision 749/QĐ-TTg"
    assert short_document("Vietnam Business Forum, 11/3/2022: Long An Resolute") == "Vietnam Business Forum"
    assert short_document("Long An DX targets to 2025 as reported by Báo Long An") == "Long An DX targets…"
    assert short_document("") == "?"
    assert short_document("Chương trình công tác năm 2026 của Ban Chỉ đạo Trung ương", chars=34) == \
        "Chương trình công tác năm 2026 của…"
    assert short_document("Đề án CĐS tỉnh Lạng Sơn đến năm 2030", chars=40) == "Đề án CĐS tỉnh Lạng Sơn đến năm 2030"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=8))
def test_spread_labels_keep_their_gap_and_bounds(ys):
    gap, lo, hi = 6.0, 5.0, 92.0
    placed = _spread(ys, gap, lo, hi)
    order = np.argsort(placed)
    assert np.all(np.diff(np.array(placed)[order]) >= gap - 1e-9)
    if len(ys) * gap <= hi - lo:
        assert min(placed) >= lo - 1e-9 and max(placed) <= hi + 1e-9
    assert np.all(np.argsort(ys, kind="stable") == np.argsort(placed, kind="stable"))   # order kept


def test_malformed_results_folders_name_the_file(run_dir, tmp_path):
    with pytest.raises(InputError, match="no such directory"):
        read_run(tmp_path / "nope")
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    (bad / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"manifest\.json.*not valid JSON"):
        read_run(bad)
    (bad / "manifest.json").write_text(json.dumps({"draws": 3}), encoding="utf-8")
    tr = pd.read_csv(bad / "trajectories.csv").drop(columns=["q50"])
    tr.to_csv(bad / "trajectories.csv", index=False)
    with pytest.raises(InputError, match=r"trajectories\.csv: columns: missing q50"):
        read_run(bad)
    (bad / "trajectories.csv").unlink()
    with pytest.raises(InputError, match=r"trajectories\.csv: file not found"):
        read_run(bad)


def _corrupt(folder, name, column, row, value):
    """Write ``value`` into data row ``row`` (1-based) of ``column`` in ``folder/name``, other cells as read."""
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    frame.loc[row - 1, column] = value
    frame.to_csv(folder / name, index=False)


@pytest.mark.parametrize("name,column,row,value,problem", [
    ("trajectories.csv", "q50", 3, "abc", "must be a number, got 'abc'"),
    ("trajectories.csv", "year", 1, "20x0", "must be a year like 2023, got '20x0'"),
    ("trajectories.csv", "year", 2, "2020.5", "must be a year like 2023, got 2020.5"),
    ("trajectories.csv", "q90", 2, "150", "must be between 0 and 100"),
    ("trajectories.csv", "mean", 4, "NaN", "must be a number, got 'NaN'"),
    ("trajectories.csv", "projected", 5, "maybe", "must be True or False, got 'maybe'"),
    ("trajectories.csv", "geo", 2, "", "is empty"),
    ("target_probabilities.csv", "probability", 1, "1.5", "must be between 0 and 1, got 1.5"),
    ("target_probabilities.csv", "probability", 1, "", "is empty; must be a number"),
    ("target_probabilities.csv", "mc_se", 1, "-0.1", "must be at least 0"),
    ("target_probabilities.csv", "deadline", 4, "soon", "must be a year like 2023, got 'soon'"),
    ("target_probabilities.csv", "target", 4, "80%", "must be a number, got '80%'"),
    ("target_probabilities.csv", "evaluable", 2, "yes", "must be True or False, got 'yes'"),
    ("target_probabilities.csv", "comparator", 2, "=>", "unknown comparator '=>'"),
    ("observations_used.csv", "value", 6, "12,5", "must be a number, got '12,5'"),
    ("observations_used.csv", "year", 6, "", "is empty; must be a year like 2023"),
    ("all_targets_probabilities.csv", "n_targets", 2, "3.5", "must be a whole number, got 3.5"),
    ("fit_table.csv", "n_observations", 2, "x", "must be a whole number, got 'x'"),
])
def test_cells_of_the_wrong_type_name_file_row_column_and_value(run_dir, tmp_path, name, column, row, value,
                                                                 problem):
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    _corrupt(bad, name, column, row, value)
    with pytest.raises(InputError) as err:
        read_run(bad)
    assert str(err.value).startswith(f"{bad / name}: row {row}, {column}: {problem}")


def test_results_tables_are_read_with_their_types(tables, run_dir, tmp_path):
    tr, tp = tables.trajectories, tables.targets
    assert tr["year"].dtype == np.int64 and tr["projected"].dtype == bool and tr["q50"].dtype == np.float64
    assert tp["deadline"].dtype == np.int64 and tp["evaluable"].dtype == bool
    assert tp.loc[tp["evaluable"], "probability"].notna().all()
    assert tables.all_targets is not None and tables.all_targets["n_targets"].dtype == np.int64
    ok = tmp_path / "ok"                                 # TRUE/false as a spreadsheet saves them are booleans
    shutil.copytree(run_dir, ok)
    frame = pd.read_csv(ok / "trajectories.csv", dtype=str, keep_default_na=False)
    frame["projected"] = frame["projected"].str.upper()
    frame.to_csv(ok / "trajectories.csv", index=False)
    assert read_run(ok).trajectories["projected"].tolist() == tr["projected"].tolist()
    unevaluable = tp.index[~tp["evaluable"]]
    assert len(unevaluable) and tp.loc[unevaluable, "probability"].isna().all()   # empty is fine there


@pytest.mark.parametrize("change,where", [
    ({"draws": "abc"}, 'draws: must be a whole number, got "abc"'),
    ({"calibration": "config.toml"}, "calibration: must be a JSON object"),
    ({"calibration": {"hyper_parameters_at_mode": {"fiber": {"level_sd": "x"}}}},
     'calibration.hyper_parameters_at_mode.fiber.level_sd: must be a number, got "x"'),
])
def test_manifest_of_the_wrong_type_names_the_key(run_dir, tmp_path, change, where):
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    manifest = json.loads((bad / "manifest.json").read_text(encoding="utf-8"))
    (bad / "manifest.json").write_text(json.dumps({**manifest, **change}), encoding="utf-8")
    with pytest.raises(InputError, match=f"manifest\\.json: {re.escape(where)}$"):
        read_run(bad)


def test_a_changed_word_file_changes_the_code_key(tmp_path, monkeypatch):
    from dxsim.outputs import chart_keys
    from dxsim.outputs import words as words_module

    folder = tmp_path / "words"
    shutil.copytree(words_module.FOLDER, folder)
    monkeypatch.setattr(words_module, "FOLDER", folder)
    chart_keys.code_key.cache_clear()
    try:
        before = chart_keys.code_key()
        (folder / "en.toml").write_text((folder / "en.toml").read_text(encoding="utf-8") + "\n# corrected label\n",
                                        encoding="utf-8")
        chart_keys.code_key.cache_clear()
        assert chart_keys.code_key() != before         # a corrected label draws the charts again
    finally:
        chart_keys.code_key.cache_clear()


def test_a_chart_drawn_as_nothing_leaves_its_old_file_unrecorded(run_dir, tables, tmp_path, monkeypatch):
    import dxsim.outputs.charts as charts_module

    dest = tmp_path / "charts"
    shutil.copytree(run_dir / "charts", dest)
    stem = fan_stem("lang_son", "fiber_household_share", "subscription")
    (dest / f"{stem}.png").write_bytes(b"old")               # not current: its job is drawn again ...
    real = charts_module._draw_job
    monkeypatch.setattr(charts_module, "_draw_job",          # ... and draws nothing this time
                        lambda subject, job, lang: None if job.stem == stem else real(subject, job, lang))
    files = install_charts(tables, dest, workers=0)
    recorded = json.loads((dest / ".dxsim-results").read_text())["chart_keys"]
    assert f"{stem}.png" not in recorded and f"{stem}.svg" not in recorded     # old files: not taken as drawn
    assert {p.name for p in files} == set(files.kept) and not files.drawn


def test_plot_counts_the_charts_it_drew_whatever_the_clock(run_dir, tmp_path, monkeypatch, capsys):
    import time
    from types import SimpleNamespace

    import dxsim.cli.charts as cli_charts
    from dxsim.cli import main

    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    stem = fan_stem("lang_son", "fiber_household_share", "subscription")
    (folder / "charts" / f"{stem}.png").write_bytes(b"edited")          # drawn again with its SVG
    n_charts = len(json.loads((folder / "charts" / ".dxsim-results").read_text())["chart_keys"])
    ahead = SimpleNamespace(perf_counter=time.perf_counter, time=lambda: time.monotonic() + 1e10)  # a clock ahead
    monkeypatch.setattr(cli_charts, "time", ahead)
    assert main(["plot", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote 2 files to ")
    assert f"({n_charts - 2} unchanged charts kept;" in out


def test_two_threads_drawing_at_once_draw_the_files_of_one(tables, tmp_path):
    """Two threads drawing charts at the same time (two ``dxsim.plot_results`` calls) each draw into figures of
    their own and with fonts of their own: the files are those drawn one after the other."""
    import threading

    jobs = {geo: run_jobs(tables, geos=[geo])[:3] for geo in ("lang_son", "hau_giang")}
    for geo, some in jobs.items():
        draw_all(tables, some, tmp_path / "one" / geo, workers=0)
    with rc_context(style.rc()):                  # rcParams are global: each thread's context restores the same
        threads = [threading.Thread(target=draw_all, args=(tables, some, tmp_path / "two" / geo),
                                    kwargs={"workers": 0}) for geo, some in jobs.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    drawn = sorted((tmp_path / "one").rglob("*.*"))
    assert len(drawn) == 12
    for p in drawn:
        assert p.read_bytes() == (tmp_path / "two" / p.relative_to(tmp_path / "one")).read_bytes(), p.name


def test_without_a_private_matplotlib_attribute_charts_draw_with_matplotlibs_own_text(tables, tmp_path,
                                                                                      monkeypatch):
    """A matplotlib without one of the private attributes the glyph cache uses: charts are drawn by matplotlib's
    own renderer and SVG writer, the same files."""
    from matplotlib.backends.backend_agg import RendererAgg

    from dxsim.outputs import glyphcache

    jobs = run_jobs(tables, geos=["hau_giang"])[:2]
    cached = draw_all(tables, jobs, tmp_path / "cached", workers=0)
    calls = []
    monkeypatch.setattr(glyphcache, "PRIVATE", (*glyphcache.PRIVATE, (RendererAgg, ("_gone_in_a_later_version",))))
    monkeypatch.setattr(glyphcache.CachingRenderer, "draw_text", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(glyphcache.CachingSVGRenderer, "__init__", lambda *a, **k: calls.append(a))
    plain = draw_all(tables, jobs, tmp_path / "plain", workers=0)
    assert not glyphcache.supported() and not calls and len(plain) == len(cached) == 4
    for p in cached:
        assert p.read_bytes() == (tmp_path / "plain" / p.name).read_bytes(), p.name


def test_grouped_rows_are_dropped_with_their_tables(run_dir):
    import gc

    from dxsim.outputs import chartkit

    tables = read_run(run_dir)
    key = id(tables)
    assert len(chartkit.rows_of(tables, "observations", ("geo",), ("lang_son",))) > 0 and key in chartkit._GROUPS
    del tables
    gc.collect()
    assert key not in chartkit._GROUPS


# ------------------------------------------------------------------------------------ the run's chart process

def _fake_run(folder, cfg):
    """What the run's chart writer reads of a run's result: its manifest and calibration config."""
    from types import SimpleNamespace

    return SimpleNamespace(manifest=json.loads((folder / "manifest.json").read_text(encoding="utf-8")),
                           calibrator=SimpleNamespace(config=cfg))


def _few_jobs(monkeypatch):
    """Charts of one geo only (the forked process inherits the patch): a cheaper drawing."""
    from dxsim.outputs import charts

    everything = charts.run_jobs
    monkeypatch.setattr(charts, "run_jobs", lambda tables, geos=None, indicators=None: everything(
        tables, ["hau_giang"], indicators))


def _gone(pid: int) -> bool:
    import os

    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_run_draws_in_its_forked_process_without_importing_matplotlib(small_run, root, tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "run"
    script = ("import sys; from dxsim.cli import main; rc = main(sys.argv[1:]); "
              "print('matplotlib' in sys.modules, file=sys.stderr); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", script, "run", "scenarios/baseline.toml", "--draws", "20",
                           "--out", str(folder)], cwd=root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "False"
    # the run drew them, current by their keys (a new process: this one's matplotlib settings may differ)
    plot = subprocess.run([sys.executable, "-m", "dxsim.cli", "plot", str(folder)], cwd=root, capture_output=True,
                          text=True, timeout=600)
    assert plot.returncode == 0 and plot.stdout.startswith("wrote 0 files"), plot.stdout + plot.stderr
    assert len(list((folder / "charts").glob("fan_*.svg"))) >= 20


def test_the_chart_process_draws_what_this_process_draws(small_run, cfg, tmp_path, monkeypatch):
    from dxsim.outputs.charts import write_run_charts
    from dxsim.outputs.chartserver import ChartProcess

    _few_jobs(monkeypatch)
    here, there = small_run(tmp_path / "here"), small_run(tmp_path / "there")
    write_run_charts(_fake_run(here, cfg), here)
    writer = ChartProcess("en")
    writer(_fake_run(there, cfg), there)
    assert _gone(writer.pid)
    names = sorted(p.name for p in (here / "charts").iterdir())
    assert len(names) > 6 and names == sorted(p.name for p in (there / "charts").iterdir())
    for name in names:
        if name.endswith((".png", ".svg")):
            assert (here / "charts" / name).read_bytes() == (there / "charts" / name).read_bytes(), name


def test_charts_are_drawn_here_when_the_chart_process_died(small_run, cfg, tmp_path, monkeypatch):
    import os
    import signal

    from dxsim.outputs.chartserver import ChartProcess

    _few_jobs(monkeypatch)
    folder = small_run(tmp_path / "run")
    writer = ChartProcess("en")
    os.kill(writer.pid, signal.SIGKILL)
    writer(_fake_run(folder, cfg), folder)
    assert _gone(writer.pid)
    assert len(list((folder / "charts").glob("fan_hau_giang_*.png"))) >= 3


def test_a_drawing_error_is_raised_by_the_run(small_run, cfg, tmp_path):
    from dxsim.outputs.chartserver import ChartProcess

    folder = small_run(tmp_path / "run")
    (folder / "trajectories.csv").write_text("geo\nx\n", encoding="utf-8")
    writer = ChartProcess("en")
    with pytest.raises(InputError, match="trajectories.csv"):
        writer(_fake_run(folder, cfg), folder)
    assert _gone(writer.pid)


def test_a_drawing_error_keeps_the_chart_processs_traceback(small_run, cfg, tmp_path):
    """The error raised by the run carries, as its cause, the traceback where the chart process raised it (shown by
    --debug); its own text is unchanged (the one line without --debug)."""
    import traceback

    from dxsim.outputs.chartserver import ChartProcess

    folder = small_run(tmp_path / "run")
    (folder / "trajectories.csv").write_text("geo\nx\n", encoding="utf-8")
    writer = ChartProcess("en")
    with pytest.raises(InputError) as raised:
        writer(_fake_run(folder, cfg), folder)
    shown = "".join(traceback.format_exception(raised.value))
    assert "in draw_run_charts" in shown and "in read_run" in shown, shown
    assert "\n" not in str(raised.value)


def test_a_run_that_ends_before_its_charts_stops_the_chart_process():
    import gc

    from dxsim.outputs.chartserver import ChartProcess

    writer = ChartProcess("en")
    pid = writer.pid
    del writer
    gc.collect()                    # the writer's finalizer stops the process and reaps it before returning
    assert _gone(pid)


def test_a_chart_process_that_ignores_sigterm_is_killed(monkeypatch):
    """Stopping the chart process waits a bounded time, then kills it."""
    import os
    import signal
    import time

    from dxsim.outputs import chartserver

    monkeypatch.setattr(chartserver, "STOP_SECONDS", 0.2)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                  # a process stuck where SIGTERM does not end it
        try:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.write(write, b"x")
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"x"
    os.close(read)
    conn, other = __import__("multiprocessing").Pipe()
    other.close()
    began = time.monotonic()
    chartserver._stop(pid, conn, kill=True)
    assert _gone(pid) and time.monotonic() - began < 20              # not the 60 s it would take to end


def test_charts_are_drawn_here_when_no_process_can_be_forked(small_run, cfg, tmp_path, monkeypatch):
    import os

    from dxsim.outputs import chartserver

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    _few_jobs(monkeypatch)
    monkeypatch.setattr(os, "fork", no_fork)
    open_fds = set(os.listdir("/proc/self/fd"))
    writer = chartserver.ChartProcess("en")
    assert set(os.listdir("/proc/self/fd")) <= open_fds          # the pipe's two ends closed
    folder = small_run(tmp_path / "run")
    writer(_fake_run(folder, cfg), folder)
    assert len(list((folder / "charts").glob("fan_hau_giang_*.png"))) >= 3


def _processes_of_session(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    import os

    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()   # noqa: SIM115
        except (OSError, IndexError):
            continue
        if entry.isdigit() and fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(entry))
    return found


@pytest.mark.skipif(usable_cpus() < 2, reason="the run draws its charts in a process of their own on a spare CPU")
@pytest.mark.parametrize(("signum", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_while_charts_are_drawn_ends_the_run_at_once(root, tmp_path, signum, code):
    """`dxsim run` stopped while its chart process draws (here: inside a finalizer, where an exception raised by a
    Python signal handler would be ignored): one line on stderr, the exit code of the signal within seconds, no
    process left and no results folder. SIGINT goes to the process group, as a terminal's Ctrl-C."""
    import os
    import signal
    import subprocess
    import sys
    import time

    folder, marker = tmp_path / "run", tmp_path / "drawing"
    script = f"""if True:
        import os, sys, time
        from dxsim.cli import main
        from dxsim.outputs import charts

        class Busy:
            def __del__(self):
                open({str(marker)!r}, "w").close()
                time.sleep(60)

        def draw_run_charts(*args, **kwargs):
            Busy()
        charts.draw_run_charts = draw_run_charts
        sys.exit(main(sys.argv[1:]))"""
    proc = subprocess.Popen([sys.executable, "-c", script, "run", "scenarios/baseline.toml", "--draws", "20", "--out",
                             str(folder)], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the charts were not drawn"
        if signum == "SIGINT":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == code, err
    assert len(err.splitlines()) <= 1, err
    assert _processes_of_session(proc.pid) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drawing"]          # no results nor temporary folder


def test_png_bytes_decode_to_the_image_pixels() -> None:
    """Synthetic random opaque image (made here): the PNG decodes to its RGB pixels, at 300 dpi."""
    import io

    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, (7, 13, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    with Image.open(io.BytesIO(png_bytes(rgba))) as image:
        assert image.mode == "RGB"
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        np.testing.assert_array_equal(np.asarray(image), rgba[..., :3])


def test_cached_text_extents_are_matplotlibs():
    """Width, height and descent measured from the cached layouts equal matplotlib's own (FT2Font.set_text), for
    strings of several sizes, weights and dpi, measured before and after drawing them rotated (which leaves the
    fonts transformed), and from the cache."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    from dxsim.outputs import glyphcache

    strings = ["Lạng Sơn (trước 7/2025)", "AV To fi ffi WAVE", "2025 → 14,5%", " ", "yjg|", "Đắk Lắk · P < 0.01",
               "[1] Quyết định số 749/QĐ-TTg"]
    glyphcache._METRICS.clear()
    glyphcache._BOXES.clear()
    with rc_context(style.rc()):
        for dpi in (72, 300):
            plain, cached = RendererAgg(400, 300, dpi), glyphcache.CachingRenderer(400, 300, dpi)
            gc = cached.new_gc()
            for size, weight in ((7, "normal"), (7.5, "normal"), (9.5, "bold")):
                prop = FontProperties(size=size, weight=weight)
                for rotation in (0, 30, 0):
                    for s in strings:
                        assert cached.get_text_width_height_descent(s, prop, False) == \
                            plain.get_text_width_height_descent(s, prop, False), (s, size, dpi)
                        cached.draw_text(gc, 50.3, 60.7, s, prop, rotation)
                    glyphcache._METRICS.clear()        # measured again from the cached layouts,
                    if rotation:                       # and boxes loaded from fonts left rotated by drawing
                        glyphcache._BOXES.clear()
    assert glyphcache._BOXES
