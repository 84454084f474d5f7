"""A results folder is self-contained: the config, targets, observations and weights it used are copied into
``inputs/`` and recorded in the manifest, and charts and the report read them from there, so a moved folder
gives the same report after its calibration is gone. Every folder here is made by the test in tmp_path."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

from dxsim.cli import main
from dxsim.outputs.runtables import read_run


def _report_text(path, folder) -> str:
    """The report without what differs between two writings of it: its creation time and the folder's path."""
    text = path.read_text(encoding="utf-8").replace(str(folder), "FOLDER")
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "TIME", text)


def test_a_moved_results_folder_gives_the_same_report(tmp_path, calibration_copy, root):
    project = tmp_path / "project"
    config = calibration_copy(project / "calibration", 2)
    (project / "scenarios").mkdir()
    (project / "scenarios" / "s.toml").write_text('name = "s"\ngeos = ["lang_son", "vietnam"]\n')
    out = tmp_path / "results" / "s"
    assert main(["run", str(project / "scenarios" / "s.toml"), "--draws", "40", "--no-charts", "--out",
                 str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    copied = manifest["inputs"]
    assert set(copied) == {f"inputs/{n}" for n in ("config.toml", "observations.csv", "targets.csv",
                                                    "merger_2025.csv", "census_2019.csv", "context.csv")}
    for rel, entry in copied.items():
        assert (out / rel).read_bytes() == (project / "calibration" / rel.split("/")[1]).read_bytes()
        assert entry["sha256"] == hashlib.sha256((out / rel).read_bytes()).hexdigest()
    assert manifest["calibration"]["config"] == str(config)
    before = read_run(out)
    assert main(["report", str(out), "--out", str(tmp_path / "before.html")]) == 0

    moved = tmp_path / "elsewhere" / "s"
    shutil.move(out, moved)
    shutil.rmtree(project)                              # the calibration the run named is gone
    after = read_run(moved)
    assert (after.headline, after.labels) == (before.headline, before.labels)
    assert main(["report", str(moved), "--out", str(tmp_path / "after.html")]) == 0
    assert _report_text(tmp_path / "after.html", moved) == _report_text(tmp_path / "before.html", out)


def test_the_copied_config_reproduces_the_run(tmp_path, calibration_copy, root):
    calibration_copy(tmp_path / "calibration", 2)
    scenario = root / "scenarios" / "accelerated.toml"
    args = ["run", str(scenario), "--draws", "30", "--seed", "3", "--no-charts"]
    assert main([*args, "--config", str(tmp_path / "calibration" / "config.toml"), "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--config", str(tmp_path / "a" / "inputs" / "config.toml"), "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "trajectories.csv").read_bytes() == (tmp_path / "b" / "trajectories.csv").read_bytes()
