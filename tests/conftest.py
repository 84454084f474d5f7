"""Shared fixtures: the shipped calibration inputs, loaded once per test session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):  # as dxsim/__init__.py, before numpy
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Calibrations that runs save for the next run go into a folder of this session, never into the user's cache or
# results/ (core/saved_calibration.py). Set here, before the test modules are imported: several copy os.environ
# for their subprocesses at import time.
_PREVIOUS_CACHE = os.environ.get("DXSIM_CACHE_DIR")
os.environ["DXSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="dxsim_test_calibration_")


@pytest.fixture(scope="session", autouse=True)
def calibration_cache():  # noqa: ANN201
    """The session's calibration cache ($DXSIM_CACHE_DIR, inherited by subprocesses); removed at the end."""
    folder = Path(os.environ["DXSIM_CACHE_DIR"])
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
    if _PREVIOUS_CACHE is None:
        os.environ.pop("DXSIM_CACHE_DIR", None)
    else:
        os.environ["DXSIM_CACHE_DIR"] = _PREVIOUS_CACHE


@pytest.fixture(scope="session")
def inputs():
    """The shipped config, observations and targets (read-only: do not mutate the frames)."""
    from dxsim.pipeline import load_inputs

    return load_inputs(ROOT / "calibration" / "config.toml")


@pytest.fixture(scope="session")
def cfg(inputs):
    return inputs.config


@pytest.fixture(scope="session")
def calibrator(inputs):
    """A Calibrator fitted on the shipped observations: fitted and saved into the session's calibration cache
    (or loaded from it, bit for bit the fit), so that the runs of the session on the shipped inputs, in process
    or not, load it instead of fitting again."""
    from dxsim.core.saved_calibration import fitted_calibrator

    return fitted_calibrator(inputs.config, inputs.observations)


def _copy_calibration(folder: Path, hyper_samples: int) -> Path:
    """The shipped calibration folder copied into ``folder`` byte for byte, except ``hyper_samples``
    hyper-parameter samples instead of 16 (a cheaper fit); returns the config's path."""
    import re

    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "calibration").iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    text = (folder / "config.toml").read_text(encoding="utf-8")
    cheap = re.sub(r"(?m)^hyper_samples = \d+", f"hyper_samples = {hyper_samples}", text)
    assert cheap != text
    (folder / "config.toml").write_text(cheap, encoding="utf-8")
    return folder / "config.toml"


@pytest.fixture(scope="session")
def calibration_copy():
    """``_copy_calibration``: (folder, hyper_samples) -> config path, for tests of what is done with a fit
    rather than of the fit itself."""
    return _copy_calibration


@pytest.fixture
def cheap_config(tmp_path) -> Path:
    """A copy of the shipped calibration with 2 hyper-parameter samples (a fit ~8x cheaper)."""
    return _copy_calibration(tmp_path / "calibration", 2)


@pytest.fixture(scope="session")
def _small_run_made(tmp_path_factory) -> Path:
    """``dxsim run scenarios/baseline.toml --draws 20 --no-charts``, made once per session (never handed out)."""
    from dxsim.cli import main

    out = tmp_path_factory.mktemp("small_run") / "res"
    config = ROOT / "calibration" / "config.toml"
    assert main(["run", str(ROOT / "scenarios" / "baseline.toml"), "--config", str(config), "--draws", "20",
                 "--no-charts", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def small_run(_small_run_made) -> Callable[[Path], Path]:
    """``dest`` -> a fresh copy at ``dest`` of a 20-draw baseline run without charts (for tests of what is done
    with a results folder, not of the numbers in it); a copy is the test's to change."""
    def copy(dest: Path) -> Path:
        shutil.copytree(_small_run_made, dest)
        return dest

    return copy


@pytest.fixture(scope="session")
def baseline_charts(inputs, tmp_path_factory) -> Path:
    """`dxsim run scenarios/baseline.toml` (9 geos, both maps) with 200 draws and its English charts (PNG and
    SVG) written by the run's chart writer, made once per session. READ-ONLY: copy it (``shutil.copytree``,
    cheap) to change or add anything."""
    from dxsim.outputs.charts import write_run_charts
    from dxsim.pipeline import run_scenario, write_run

    result = run_scenario(ROOT / "scenarios" / "baseline.toml", draws=200, inputs=inputs)
    out = tmp_path_factory.mktemp("baseline_charts") / "baseline"
    write_run(result, out, (lambda res, folder: write_run_charts(res, folder, lang="en"),))
    return out
