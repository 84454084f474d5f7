"""The fit draws each indicator's hyper-parameter samples from a stream of its own (config seed, indicator name):
changing one indicator's prior or readings, or the order of the indicators, leaves the others' fits and their
parameter draws exactly as they were. Shipped inputs, 2 hyper-parameter samples (a cheap fit)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dxsim.core.calibrate import Calibrator, indicator_rng


@pytest.fixture(scope="module")
def cheap(inputs):
    cfg = dataclasses.replace(inputs.config, hyper_samples=2)
    return cfg, inputs.observations, Calibrator(cfg).fit(inputs.observations)


def _changed(cfg, name, factor):
    """``cfg`` with ``name``'s level_sd prior ``factor`` times as wide (0: the sd fixed at its median, one
    hyper-parameter fewer to draw)."""
    specs = tuple(dataclasses.replace(s, level_sd=dataclasses.replace(s.level_sd, log_sd=factor * s.level_sd.log_sd))
                  if s.name == name else s for s in cfg.indicators)
    return dataclasses.replace(cfg, indicators=specs)


def _same_posterior(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f"{a.indicator}.{f.name}")
        else:
            assert x == y, f"{a.indicator}.{f.name}"


def _same_draws(a, b, names, draws=64):
    """The level/slope/offset draws of indicators ``names`` (seed 5) are identical."""
    da, db = a.sample(draws, 5), b.sample(draws, 5)
    for name in names:
        i = da.indicators.index(name)
        np.testing.assert_array_equal(da.level[:, :, i], db.level[:, :, i], err_msg=name)
        np.testing.assert_array_equal(da.slope[:, :, i], db.slope[:, :, i], err_msg=name)
        k = [j for j, (ind, _) in enumerate(da.series) if ind == name]
        np.testing.assert_array_equal(da.offset[:, k], db.offset[:, k], err_msg=name)
        np.testing.assert_array_equal(da.jump_shift[:, :, k], db.jump_shift[:, :, k], err_msg=name)


@pytest.fixture(params=[2.0, 0.0], ids=["wider", "fixed"])
def factor(request):
    return request.param


def test_one_indicator_prior_leaves_the_others(cheap, factor):
    cfg, obs, base = cheap
    first = cfg.indicators[0].name          # the first fitted: a shared stream would move all that follow
    other = Calibrator(_changed(cfg, first, factor)).fit(obs)
    assert not np.array_equal(other.posteriors_[first].hypers, base.posteriors_[first].hypers)
    rest = [s.name for s in cfg.indicators[1:]]
    for name in rest:
        _same_posterior(base.posteriors_[name], other.posteriors_[name])
    _same_draws(base, other, rest)


def test_one_indicator_readings_dropped_leaves_the_others(cheap):
    cfg, obs, base = cheap
    first = cfg.indicators[0].name
    other = Calibrator(cfg).fit(obs[obs["indicator"] != first])
    rest = [s.name for s in cfg.indicators[1:]
            if base.data_through_.indicator[s.name] == other.data_through_.indicator[s.name]]
    assert len(rest) == len(cfg.indicators) - 1
    for name in rest:
        _same_posterior(base.posteriors_[name], other.posteriors_[name])


def test_fit_does_not_depend_on_the_order_of_indicators(cheap):
    cfg, obs, base = cheap
    reordered = Calibrator(dataclasses.replace(cfg, indicators=cfg.indicators[::-1])).fit(obs)
    for spec in cfg.indicators:
        _same_posterior(base.posteriors_[spec.name], reordered.posteriors_[spec.name])


def test_streams_differ_by_name_and_seed():
    a = indicator_rng(0, "fiber_household_share").standard_normal(4)
    assert np.array_equal(a, indicator_rng(0, "fiber_household_share").standard_normal(4))
    assert not np.array_equal(a, indicator_rng(0, "online_submission_share").standard_normal(4))
    assert not np.array_equal(a, indicator_rng(1, "fiber_household_share").standard_normal(4))
