"""Shared fixtures: the shipped calibration inputs, loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):  # as dxsim/__init__.py, before numpy
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


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
    """A Calibrator fitted on the shipped observations."""
    from dxsim.calibrate import Calibrator

    return Calibrator(inputs.config).fit(inputs.observations)
