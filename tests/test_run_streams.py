"""A run draws each indicator's random numbers (parameters, jump-off shifts, elasticity, process noise, slope shocks)
from a stream of its own (the run's seed, the indicator's name): reordering the indicators in the config, or adding
a definition to one of them, leaves every other indicator's trajectories byte-identical. Shipped inputs, a cheap
fit (2 hyper-parameter samples), 200 draws of the baseline scenario; the added definition is made up here."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dxsim
from dxsim.core.calibrate import Calibrator
from dxsim.core.streams import IndicatorNormals, named_stream
from dxsim.inputs.config import DefinitionSpec, NormalPrior

DRAWS = 200


def _trajectories(inputs, cfg) -> dict[str, str]:
    """The baseline's trajectories.csv under ``cfg``, as CSV text per indicator (rows in a fixed order)."""
    changed = dataclasses.replace(inputs, config=cfg)
    run = dxsim.run("baseline", changed, Calibrator(cfg).fit(inputs.observations), draws=DRAWS)
    table = run.trajectories
    out = {}
    for name, rows in table.groupby("indicator"):
        rows = rows.sort_values(["geo", "definition", "year"]).reset_index(drop=True)
        out[name] = rows.to_csv(index=False)
    return out


@pytest.fixture(scope="module")
def cheap(inputs):
    cfg = dataclasses.replace(inputs.config, hyper_samples=2)
    return cfg, _trajectories(inputs, cfg)


def test_reordering_the_indicators_leaves_every_trajectory(inputs, cheap):
    cfg, base = cheap
    reordered = _trajectories(inputs, dataclasses.replace(cfg, indicators=cfg.indicators[::-1]))
    assert reordered.keys() == base.keys()
    for name, text in base.items():
        assert reordered[name] == text, name


def test_a_definition_added_to_one_indicator_leaves_the_others(inputs, cheap):
    cfg, base = cheap
    first = cfg.indicators[0]             # the first drawn: one shared stream would move every indicator after it
    extra = DefinitionSpec(name="made_up_for_this_test", ceiling=100.0, offset=NormalPrior(0.0, 1.0))
    specs = (dataclasses.replace(first, definitions=(*first.definitions, extra)), *cfg.indicators[1:])
    other = _trajectories(inputs, dataclasses.replace(cfg, indicators=specs))
    rest = [s.name for s in cfg.indicators[1:]]
    assert rest and set(rest) <= set(base)
    for name in rest:
        assert other[name] == base[name], name
    assert other[first.name] != base[first.name]      # its own draws did move: the test can see a change


def test_indicator_normals_are_each_indicators_own_stream():
    """Indicator k's normals are those of its named stream, whatever the other names and their order; drawn into
    ``out``'s memory and handed back as its (geo, indicator, draw) view."""
    seed = np.random.SeedSequence(11)
    shape = (3, 2, 5)
    a = IndicatorNormals(seed, ("x", "y")).standard_normal(shape)
    out = np.empty(shape)
    b = IndicatorNormals(seed, ("y", "x")).standard_normal(shape, out=out)
    assert np.shares_memory(b, out) and b.shape == shape
    for k, name in enumerate(("x", "y")):
        own = np.random.default_rng(named_stream(seed, name)).standard_normal(shape[::2])
        np.testing.assert_array_equal(a[:, k], own)
    np.testing.assert_array_equal(a, b[:, ::-1])
    with pytest.raises(ValueError, match="3 indicators"):
        IndicatorNormals(seed, ("x", "y")).standard_normal((3, 3, 5))
