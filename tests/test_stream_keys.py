"""Names that key random streams (core/streams.py): an indicator's name is [a-z0-9_]+, and two indicators, or two
programmes, whose names have the same key (CRC-32), or an indicator with the cross elasticity's key, are refused
at load with one line. The colliding names are SYNTHETIC, found for this test."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from dxsim.errors import InputError
from dxsim.inputs.config import load_config
from dxsim.inputs.observations import known_geos
from dxsim.inputs.scenario import load_scenario
from dxsim.inputs.stream_keys import CROSS_ELASTICITY_STREAM, key_clash, stream_key

A, B = "qx2rbeenso", "r3yypzh8xs"          # two names with the same CRC-32


def test_the_colliding_names_collide():
    assert A != B and zlib.crc32(A.encode()) == zlib.crc32(B.encode()) == stream_key(A) == stream_key(B)


def test_key_clash_finds_a_shared_key_and_a_reserved_one():
    assert key_clash(["fiber", A, "other", B]) == (A, B)
    assert key_clash(["fiber", A, "other"]) is None
    assert key_clash(["fiber", B], reserved=[A]) == (A, B)
    assert key_clash(["fiber", "dossiers"], reserved=[CROSS_ELASTICITY_STREAM]) is None


def _config(root, tmp_path, renames: dict[str, str]):
    text = (root / "calibration" / "config.toml").read_text(encoding="utf-8")
    for old, new in renames.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "calibration" / "config.toml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("renames", "message"), [
    ({"[indicators.level4_service_share]": f'[indicators."{CROSS_ELASTICITY_STREAM}"]'},
     r"indicators.cross elasticity: an indicator's name is lower-case letters, digits and '_'"),
    ({"[indicators.level4_service_share]": "[indicators.Level4]"}, "name is lower-case letters"),
    ({"fiber_household_share": A, "level4_service_share": B},
     rf"indicators.{B}: its random numbers would be those of '{A}' \(the same CRC-32 key of the name\): rename it"),
])
def test_an_indicator_name_that_could_share_a_stream_is_refused(root, tmp_path, renames, message):
    path = _config(root, tmp_path, renames)
    with pytest.raises(InputError, match=message) as err:
        load_config(path)
    assert "\n" not in str(err.value)


def test_the_shipped_names_load(root, tmp_path):
    assert load_config(_config(root, tmp_path, {})).indicator_names


def test_programmes_whose_names_share_a_stream_are_refused(root, cfg, tmp_path):
    text = (root / "scenarios" / "long_an_programmes.toml").read_text(encoding="utf-8")
    text = text.replace('name = "fiber_remaining_villages"', f'name = "{A}"')
    text = text.replace('name = "commune_pilots"', f'name = "{B}"')
    path = tmp_path / "clash.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=rf"programmes\[2\].name: its random numbers would be those of '{A}'"):
        load_scenario(path, cfg, known_geos(cfg))


def test_the_streams_version_moves_with_the_streams():
    """The first numbers of a named stream and of the run's per-indicator normals, pinned with ``VERSION``: a change
    that reassigns the draws fails here until VERSION is bumped (and these numbers updated with it)."""
    from dxsim.core.streams import VERSION, IndicatorNormals, named_stream

    first = np.random.default_rng(named_stream(7, "fiber_household_share")).standard_normal(2)
    normals = IndicatorNormals(np.random.SeedSequence(7), ("a", "b")).standard_normal((1, 2, 1))
    assert (VERSION, *np.round(first, 10), *np.round(normals.ravel(), 10)) == PINNED


PINNED = (2, 0.4827319434, 0.3674321354, -1.5473490051, 1.4748724829)
