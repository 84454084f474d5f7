"""Overview pages left by an earlier run with more geos: the report embeds only the pages the current tables call
for, and a run with charts removes the stale pages dxsim wrote (never a file written or changed by hand). The
runs draw only their overview pages (a cheaper drawing); the scenarios and the hand-made files are made here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxsim import cli
from dxsim.outputs import charts, report_run
from dxsim.outputs.charts import read_run

BASELINE_GEOS = ('["tay_ninh", "can_tho", "vinh_long", "lang_son", "long_an", "hau_giang", "tra_vinh", '
                 '"vinh_long@pre2025", "vietnam"]')


def _overview_only(monkeypatch: pytest.MonkeyPatch) -> None:
    everything = charts.run_jobs
    monkeypatch.setattr(charts, "run_jobs", lambda tables, geos=None, indicators=None: [
        job for job in everything(tables, geos, indicators) if job.kind == "overview"])


def _run(root: Path, tmp_path: Path, out: Path, geos: str) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text(f'name = "s"\ndraws = 40\ngeos = {geos}\n', encoding="utf-8")
    assert cli.main(["--quiet", "run", str(scen), "--config", str(root / "calibration/config.toml"),
                     "--out", str(out)]) == 0


def _overviews(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "charts").glob("overview*"))


def test_the_report_embeds_only_the_overview_pages_of_the_tables(small_run, tmp_path, monkeypatch):
    folder = small_run(tmp_path / "run")                      # the baseline's nine geos: two pages of six
    pages = folder / "charts"
    pages.mkdir()
    for name in ("overview", "overview_2", "overview_3"):     # the third: left by a run with more geos
        (pages / f"{name}.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg" id="{name}"/>',
                                           encoding="utf-8")
    embedded = []
    monkeypatch.setattr(report_run, "figure_html", lambda path, *args: embedded.append(path) or "")
    report_run.charts_section(read_run(folder), pages, "en")
    assert [p.name for p in embedded if p is not None and p.name.startswith("overview")] == [
        "overview.svg", "overview_2.svg"]


def test_a_run_with_charts_removes_the_overview_pages_of_its_earlier_tables(root, tmp_path, monkeypatch):
    _overview_only(monkeypatch)
    out = tmp_path / "out"
    _run(root, tmp_path, out, BASELINE_GEOS)
    assert _overviews(out) == ["overview.png", "overview.svg", "overview_2.png", "overview_2.svg"]
    (out / "charts" / "overview_2.png").write_bytes(b"changed by hand")
    (out / "charts" / "overview_3.svg").write_text("a user's file", encoding="utf-8")
    _run(root, tmp_path, out, '["lang_son", "vietnam"]')       # one page
    assert _overviews(out) == ["overview.png", "overview.svg", "overview_2.png", "overview_3.svg"]
    assert (out / "charts" / "overview_2.png").read_bytes() == b"changed by hand"
    recorded = json.loads((out / "charts" / ".dxsim-results").read_text(encoding="utf-8"))
    assert "overview_2.svg" not in recorded["files"] and "drop" not in recorded


def test_plot_removes_leftover_pages_only_when_it_draws_the_overview(root, tmp_path, monkeypatch):
    _overview_only(monkeypatch)
    out = tmp_path / "out"
    _run(root, tmp_path, out, BASELINE_GEOS)
    tables = read_run(out)
    first = tables.geos[:2]
    monkeypatch.setattr(charts, "overview_pages", lambda t, per_page=6: [first])   # the tables now need one page
    assert cli.main(["--quiet", "plot", str(out), "--geo", "lang_son"]) == 0     # no overview drawn: kept
    assert "overview_2.svg" in _overviews(out)
    assert cli.main(["--quiet", "plot", str(out)]) == 0
    assert _overviews(out) == ["overview.png", "overview.svg"]
