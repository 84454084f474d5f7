"""The calibration and the shipped scenarios are found from any folder (package data, dxsim/inputs/locate.py)."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from dxsim.inputs.locate import SHIPPED_CALIBRATION, SHIPPED_SCENARIOS, find_config

ENV = {**os.environ, "MPLBACKEND": "Agg"}


def dxsim(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dxsim.cli", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=600)


def config_used(folder: Path) -> Path:
    return Path(json.loads((folder / "manifest.json").read_text())["calibration"]["config"])


def test_lookup_order(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "calibration").mkdir(parents=True)
    (project / "calibration" / "config.toml").write_text("")
    (project / "scenarios" / "deep").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert find_config() == SHIPPED_CALIBRATION / "config.toml"                        # package data last
    assert find_config(scenario=elsewhere / "s.toml") == SHIPPED_CALIBRATION / "config.toml"
    assert find_config(scenario=project / "scenarios" / "deep" / "s.toml") == project / "calibration" / "config.toml"
    assert find_config("mine.toml", project / "scenarios" / "s.toml") == Path("mine.toml")  # --config first
    monkeypatch.chdir(project)
    assert find_config(scenario=elsewhere / "s.toml") == Path("calibration/config.toml")  # ./calibration


def test_run_from_an_empty_folder_with_an_absolute_scenario_path(tmp_path, root):
    out = dxsim(["run", str(root / "scenarios" / "baseline.toml"), "--draws", "200", "--no-charts"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert config_used(tmp_path / "results" / "baseline").resolve() == (root / "calibration/config.toml").resolve()


def test_run_from_inside_scenarios(tmp_path, root):
    out = dxsim(["run", "baseline.toml", "--draws", "200", "--no-charts", "--out", str(tmp_path / "b")],
                root / "scenarios")
    assert out.returncode == 0, out.stderr
    assert config_used(tmp_path / "b").resolve() == (root / "calibration/config.toml").resolve()


def test_a_scenario_with_no_calibration_near_uses_the_shipped_one(tmp_path, root):
    shutil.copy(root / "scenarios" / "accelerated.toml", tmp_path / "acc.toml")
    out = dxsim(["run", "acc.toml", "--draws", "50", "--no-charts", "--out", "res"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert config_used(tmp_path / "res") == SHIPPED_CALIBRATION / "config.toml"


def test_package_data_ships_every_calibration_and_scenario_file(root):
    """Each file of calibration/ and scenarios/ matches a package-data pattern, and the package links to them."""
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["dxsim"]
    for folder, shipped in (("calibration", SHIPPED_CALIBRATION), ("scenarios", SHIPPED_SCENARIOS)):
        for f in (root / folder).iterdir():
            assert any(fnmatch.fnmatch(f"data/{folder}/{f.name}", p) for p in patterns), f
            assert (shipped / f.name).read_bytes() == f.read_bytes()
