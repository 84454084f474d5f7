"""``[data] aggregate_deviation = "pooled"`` keeps the structure from before aggregates had a stated prior, bit for
bit: an aggregate's deviation columns are pooled like a province's (the parameter layout's columns) and keep the
prior variances the layout gives them; every other array of the design is the same under either choice. Readings
are SYNTHETIC (made here)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from dxsim.core import calibrate
from dxsim.core.design import build_design, layout

IND, SUB = "online_dossier_share", "submitted_online"
BLOC = "vietnam_provincial_bloc"
GEOS = ("vietnam", BLOC, "p1", "p2", "p3")


def _readings() -> pd.DataFrame:
    rows = [("vietnam", 2022, 50.0), ("vietnam", 2023, 58.0), ("p1", 2022, 40.0), ("p2", 2023, 70.0),
            ("p3", 2023, 45.0), (BLOC, 2023, 30.0)]
    frame = pd.DataFrame(rows, columns=["geo", "year", "value"])
    return frame.assign(definition=SUB, period=None, time=frame["year"] + 1.0)


def _design(spec, stated: bool):
    return build_design(spec, GEOS, _readings(), 2023.0, (0.005, 0.995), (BLOC,), stated_aggregates=stated)


def test_pooled_aggregates_are_the_layout_s_deviations_bit_for_bit(cfg):
    spec = cfg.indicator(IND)
    pooled, stated = _design(spec, False), _design(spec, True)
    lay = layout(spec, len(GEOS))
    assert np.array_equal(pooled.level_cols, lay.level_cols) and np.array_equal(pooled.slope_cols, lay.slope_cols)
    bloc = [lay.level_cols[GEOS.index(BLOC) - 1], lay.slope_cols[GEOS.index(BLOC) - 1]]
    assert np.isnan(pooled.fixed_var[bloc]).all() and not np.isnan(stated.fixed_var[bloc]).any()
    others = np.setdiff1d(np.arange(len(pooled.fixed_var)), bloc)
    assert pooled.fixed_var[others].tobytes() == stated.fixed_var[others].tobytes()
    for name in ("y", "prior_mean", "noise"):
        assert getattr(pooled, name).tobytes() == getattr(stated, name).tobytes()
    assert (pooled.X != stated.X).nnz == 0 and pooled.n_noise == stated.n_noise


def test_the_config_s_pooled_choice_reaches_the_design(inputs, monkeypatch):
    flags = []
    build = calibrate.build_design

    def record(*args, stated_aggregates=False, **kwargs):
        flags.append(stated_aggregates)
        return build(*args, stated_aggregates=stated_aggregates, **kwargs)

    monkeypatch.setattr(calibrate, "build_design", record)
    cfg = dataclasses.replace(inputs.config, indicators=(inputs.config.indicator(IND),), hyper_samples=2)
    for choice in ("pooled", "stated"):
        calibrate.Calibrator(dataclasses.replace(cfg, aggregate_deviation=choice)).fit(inputs.observations)
    assert flags and set(flags[:len(flags) // 2]) == {False} and set(flags[len(flags) // 2:]) == {True}
