"""Charts drawn for earlier tables: `run --no-charts` into the same folder removes dxsim's recorded ones (keeps a
user's files and charts changed by hand), and `report` never embeds a chart whose key is not current."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest

from dxsim.cli import main
from dxsim.outputs import chart_keys
from dxsim.outputs.charts import read_run, run_chart_keys, run_jobs
from dxsim.pipeline import run_scenario, write_run

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = """name = "two"
description = "Two geos, for tests of stale charts."
horizon = 2030
draws = 20
seed = 3
geos = ["lang_son", "vietnam"]
"""


def _run(scenario: Path, folder: Path, *extra: str) -> None:
    assert main(["run", str(scenario), "--config", str(ROOT / "calibration" / "config.toml"),
                 "--out", str(folder), *extra]) == 0


@pytest.fixture(scope="module")
def charted(tmp_path_factory) -> Path:
    """A 20-draw, 2-geo run with its charts (READ-ONLY: copy it; rerun from the same scenario file, whose path
    is in the manifest)."""
    base = tmp_path_factory.mktemp("stale")
    (base / "two.toml").write_text(SCENARIO, encoding="utf-8")
    _run(base / "two.toml", base / "res")
    return base / "res"


def _copy(charted: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(charted, tmp_path / "res"))


def _keys(folder: Path, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, str]:
    tables = read_run(folder)
    return run_chart_keys(tables, run_jobs(tables), "en", formats)


def test_no_charts_with_another_seed_removes_the_stale_recorded_charts_only(charted, tmp_path):
    folder = _copy(charted, tmp_path)
    charts = folder / "charts"
    (charts / "notes.txt").write_text("mine", encoding="utf-8")
    changed = charts / "overview.svg"
    changed.write_bytes(changed.read_bytes() + b"<!-- edited -->\n")
    edited = changed.read_bytes()
    drawn = sorted(p.name for p in charts.iterdir() if p.suffix in (".png", ".svg"))
    assert len(drawn) > 4
    _run(charted.parent / "two.toml", folder, "--no-charts", "--seed", "7")
    assert sorted(p.name for p in charts.iterdir() if not p.name.startswith(".")) == ["notes.txt", "overview.svg"]
    assert changed.read_bytes() == edited
    assert set(chart_keys.recorded_in(charts)) <= {"overview.svg"}
    assert not chart_keys.current(charts, _keys(folder))


def test_no_charts_with_the_same_seed_and_inputs_keeps_the_charts(charted, tmp_path):
    folder = _copy(charted, tmp_path)
    charts = folder / "charts"
    before = {p.name: p.read_bytes() for p in charts.iterdir()}
    _run(charted.parent / "two.toml", folder, "--no-charts")
    assert {p.name: p.read_bytes() for p in charts.iterdir() if p.name != ".dxsim-results"} == \
        {k: v for k, v in before.items() if k != ".dxsim-results"}
    keys = _keys(folder)
    assert set(chart_keys.current(charts, keys)) == set(keys)


def test_report_embeds_only_charts_drawn_from_its_tables(charted, tmp_path, inputs):
    folder = _copy(charted, tmp_path)
    stale = (folder / "charts" / "overview.svg").read_bytes()
    # new tables written without touching charts/ (as a run --no-charts of an older dxsim did)
    write_run(run_scenario(charted.parent / "two.toml", draws=20, seed=7, inputs=inputs), folder)
    assert (folder / "charts" / "overview.svg").read_bytes() == stale
    assert main(["report", str(folder)]) == 0
    text = (folder / "report.html").read_text(encoding="utf-8")
    embedded = {base64.b64decode(m) for m in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", text)}
    assert stale not in embedded
    keys = _keys(folder, ("svg",))
    current = chart_keys.current(folder / "charts", keys)
    assert set(current) == set(keys)                    # the stale charts were drawn again from the new tables
    assert (folder / "charts" / "overview.svg").read_bytes() in embedded


def test_report_neither_embeds_nor_replaces_a_chart_changed_by_hand(charted, tmp_path):
    folder = _copy(charted, tmp_path)
    changed = folder / "charts" / "overview.svg"
    changed.write_bytes(changed.read_bytes() + b"<!-- edited -->\n")
    edited = changed.read_bytes()
    _run(charted.parent / "two.toml", folder, "--no-charts", "--seed", "7")
    assert main(["report", str(folder)]) == 0
    text = (folder / "report.html").read_text(encoding="utf-8")
    embedded = {base64.b64decode(m) for m in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", text)}
    assert changed.read_bytes() == edited and edited not in embedded
    assert any(b"<svg" in e for e in embedded)
