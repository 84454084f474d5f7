"""National aggregates and subsets: an aggregate's deviation from the nation has a stated prior of its own and
does not inform the provinces' spread (``[data] aggregate_deviation = "stated"``); a definition that is a subset of
its anchor (``within``) never exceeds the anchor's share in any draw or year."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest

from dxsim.core.calibrate import Calibrator
from dxsim.core.design import build_design
from dxsim.core.ensemble import run_ensemble
from dxsim.core.posterior import hyper_mode
from dxsim.core.simulate import _bounded
from dxsim.errors import InputError
from dxsim.inputs.config import load_config
from dxsim.inputs.scenario import DEFAULT_GEOS, RunSettings, Scenario

IND, SUB, FP = "online_dossier_share", "submitted_online", "full_process"
BLOC = "vietnam_provincial_bloc"
GEOS = ("vietnam", BLOC, "p1", "p2", "p3", "p4")


def _readings(bloc_value: float) -> pd.DataFrame:
    """SYNTHETIC readings made here: four provinces and the nation (submitted online), and one bloc reading."""
    rows = [("vietnam", 2022, 50.0), ("vietnam", 2023, 58.0), ("p1", 2022, 40.0), ("p1", 2023, 47.0),
            ("p2", 2022, 62.0), ("p2", 2023, 70.0), ("p3", 2023, 45.0), ("p4", 2023, 66.0),
            (BLOC, 2023, bloc_value)]
    frame = pd.DataFrame(rows, columns=["geo", "year", "value"])
    return frame.assign(definition=SUB, period=None, time=frame["year"] + 1.0)


def _pooling_sd(spec, bloc_value: float, stated: bool) -> float:
    design = build_design(spec, GEOS, _readings(bloc_value), 2023.0, (0.005, 0.995), (BLOC,),
                          stated_aggregates=stated)
    return float(np.exp(hyper_mode(design, spec)[0]))


def test_an_aggregate_has_a_stated_prior_and_does_not_inform_the_province_spread(cfg):
    spec = cfg.indicator(IND)
    design = build_design(spec, GEOS, _readings(50.0), 2023.0, (0.005, 0.995), (BLOC,), stated_aggregates=True)
    bloc = 1 + GEOS.index(BLOC)                      # its level column (the nation has none)
    assert bloc not in design.level_cols and bloc + len(GEOS) - 1 not in design.slope_cols
    assert design.fixed_var[bloc] == pytest.approx(spec.level_sd.median ** 2)
    assert design.fixed_var[bloc + len(GEOS) - 1] == pytest.approx(spec.slope_sd.median ** 2)
    # a bloc far from the nation leaves the provinces' spread where the provinces put it (within 1%: the bloc's
    # reading still moves the national level a little, and the provinces' deviations from it) ...
    near, far = _pooling_sd(spec, 58.0, True), _pooling_sd(spec, 5.0, True)
    assert far == pytest.approx(near, rel=0.01)
    # ... while a bloc drawn like a province triples it (0.44 -> 1.44 logit): the test can fail
    assert _pooling_sd(spec, 5.0, False) > 2 * _pooling_sd(spec, 58.0, False)


def _config_text(root, old: str, new: str) -> str:
    text = (root / "calibration" / "config.toml").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('aggregate_deviation = "stated"', 'aggregate_deviation = "mean"', "must be one of"),
    ('slope_offset = { mean = 0.0, sd = 0.3 }\n', "", "needs a path of its own"),
    ('within = "submitted_online"', 'within = "processed_online"', "bounded by the anchor definition"),
    ('note = "dossiers received online, at any level of online service; what provinces report"',
     'within = "submitted_online"', "submitted_online.within: the anchor definition cannot be bounded by itself"),
    ('centre = "vietnam_provincial_bloc"\n', 'centre = "vietnam_provincial_bloc"\nceiling = 90.0\n', None),
])
def test_bad_aggregate_and_subset_settings_are_refused(root, tmp_path, old, new, message):
    path = tmp_path / "config.toml"
    text = _config_text(root, old, new)
    if "slope_offset" in old:      # the full-process definition without a path of its own (and no centre)
        text = text.replace('centre = "vietnam_provincial_bloc"\n', "")
    if message is None:            # a ceiling of 90 on the subset, the anchor's 100: both named
        text = text.replace("[indicators.online_dossier_share.definitions.full_process]\nceiling = 100.0\n",
                            "[indicators.online_dossier_share.definitions.full_process]\n")
        message = "full_process.within: .*its ceiling is 90, the anchor's 100"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_config(path)


def test_bounded_keeps_a_shared_year_shared_and_bounds_every_draw():
    rng = np.random.default_rng(0)
    own, z = rng.normal(size=(1, 3, 2, 50)), rng.normal(size=(1, 3, 1, 50))
    shared = _bounded(np.broadcast_to(own, (4, 3, 2, 50)), np.broadcast_to(z, (4, 3, 1, 50)), [(1, 0)])
    assert shared.strides[0] == 0 and shared.shape == (4, 3, 2, 50)
    np.testing.assert_array_equal(shared[2, :, 1], np.minimum(own[0, :, 1], z[0, :, 0]))
    np.testing.assert_array_equal(shared[2, :, 0], own[0, :, 0])     # a series without a bound is untouched


@pytest.fixture(scope="module")
def prior_only(inputs):
    """Calibrated as of 2023: no full-process reading yet, the series is its prior mapping from submission."""
    specs = tuple(dataclasses.replace(s, dynamics="constant") for s in inputs.config.indicators)
    cfg = dataclasses.replace(inputs.config, hyper_samples=4, indicators=specs)
    return Calibrator(cfg).fit(inputs.observations, as_of=2023)


def _gap(calibrator: Calibrator) -> np.ndarray:
    """Full-process minus submitted-online share (points), every year, geo and draw of a baseline run."""
    geos = DEFAULT_GEOS + (BLOC, "vietnam_ministerial_bloc")
    scen = Scenario(name="b", description="", geos=geos, unit="multiple", investment={},
                    settings=RunSettings(horizon=2030, draws=400, seed=0))
    ens = run_ensemble(calibrator, [scen], 400, 1)
    k = [ens.series.index((IND, FP)), ens.series.index((IND, SUB))]
    return np.stack([np.diff(ens.values(y, series=k)[0], axis=1)[:, 0] * -1 for y in ens.years])


def test_full_process_never_exceeds_submission(prior_only):
    assert _gap(prior_only).max() <= 1e-4
    # without the bound the prior-only mapping puts some draws above submission: the test can fail
    free = copy.copy(prior_only)
    spec = free.config.indicator(IND)
    defs = tuple(dataclasses.replace(d, within="") for d in spec.definitions)
    free.config = dataclasses.replace(free.config, indicators=tuple(
        dataclasses.replace(s, definitions=defs) if s.name == IND else s for s in free.config.indicators))
    assert _gap(free).max() > 1.0
