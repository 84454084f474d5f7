"""The saved inputs (core/saved_inputs.py): a damaged file is detected, read around and replaced."""

from __future__ import annotations

import pytest

from dxsim import pipeline
from dxsim.core import saved_calibration as sc
from dxsim.core import saved_inputs
from dxsim.pipeline import load_inputs


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], _flip_last_byte, lambda b: b""],
                         ids=["truncated", "changed byte", "empty"])
def test_a_damaged_saved_inputs_file_is_read_around_and_replaced(damage, tmp_path, calibration_copy, monkeypatch):
    config = calibration_copy(tmp_path / "calibration", 2)
    cache = tmp_path / "cache"
    monkeypatch.setenv(sc.CACHE_ENV, str(cache))
    fresh = load_inputs(config, reuse=True)                      # reads the files and saves the tables
    path = cache / saved_inputs.FILE
    good = path.read_bytes()
    key = saved_inputs.key_of(fresh.config, fresh.observations_path, fresh.targets_path)
    assert saved_inputs.load(key, cache) is not None
    path.write_bytes(damage(good))
    assert saved_inputs.load(key, cache) is None                # detected, not read as tables
    reads = []
    read = pipeline.load_observations
    monkeypatch.setattr(pipeline, "load_observations", lambda *a: reads.append(a) or read(*a))
    again = load_inputs(config, reuse=True)
    assert len(reads) == 1 and again.observations.equals(fresh.observations)
    assert path.read_bytes() == good                            # replaced by a good save
    load_inputs(config, reuse=True)
    assert len(reads) == 1                                      # and reused by the next command


def test_an_older_dxsim_save_is_replaced_and_a_users_file_is_not(tmp_path, calibration_copy, monkeypatch):
    config = calibration_copy(tmp_path / "calibration", 2)
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv(sc.CACHE_ENV, str(cache))
    path = cache / saved_inputs.FILE
    path.write_text('{"format": 2, "key": "' + "0" * 64 + '", "observations": []}', encoding="utf-8")
    load_inputs(config, reuse=True)
    assert path.read_bytes().startswith(saved_inputs.MAGIC)
    path.write_bytes(b'{"mine": "not dxsim\'s"')                 # damaged or not, not a file dxsim wrote
    load_inputs(config, reuse=True)
    assert path.read_bytes() == b'{"mine": "not dxsim\'s"'
