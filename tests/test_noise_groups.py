"""Measurement-noise groups (core/design.py ``noise_groups``): provincial readings, national ones, and partial-year
readings of a yearly flow each have a noise sd of their own, fitted from their readings and carried into the
forecast of such a reading; a saved calibration of the older layout (one noise per provincial/national) is refitted.
All readings here are SYNTHETIC, made in the tests."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from dxsim.analyses.origins import with_measurement_noise
from dxsim.core import saved_calibration as sc
from dxsim.core.calibrate import Calibrator
from dxsim.core.design import noise_group_of, noise_groups
from dxsim.core.model import Law
from dxsim.inputs.config import DefinitionSpec, IndicatorSpec, LogNormalPrior, NormalPrior

IND = "synthetic_flow"
LOGIT = Law("logistic")


def _spec(flow: bool) -> IndicatorSpec:
    """A SYNTHETIC yearly flow (read mid-year) with free measurement sds (log-normal prior, median 0.1)."""
    return IndicatorSpec(
        name=IND, label="SYNTHETIC flow", law=LOGIT, pillar="digital_economy", reading_month=6, headline=True,
        anchor="a", definitions=(DefinitionSpec("a", 70.0, None),), excluded_definitions={},
        level_prior=NormalPrior(-1.0, 3.0), slope_prior=NormalPrior(0.2, 0.5),
        level_sd=LogNormalPrior(0.5, 0.0), slope_sd=LogNormalPrior(0.1, 0.0),
        obs_sd=LogNormalPrior(0.1, 1.0), process_sd=0.0, elasticity=LogNormalPrior(0.5, 0.0), flow=flow)


def test_partial_year_readings_of_a_flow_form_their_own_group():
    geo = np.array(["vietnam", "vietnam", "an_giang", "an_giang", "vietnam_provincial_bloc"], object)
    period = np.array(["2023-03", "2023-12", None, "2024-06", np.nan], object)
    assert noise_groups(_spec(True)) == ("obs_sd", "obs_sd_national", "obs_sd_partial")
    assert noise_group_of(_spec(True), geo, period, ("vietnam_provincial_bloc",)).tolist() == [2, 1, 0, 2, 1]
    # a stock (flow = false): a period only dates the reading, and no reading is partial
    assert noise_groups(_spec(False)) == ("obs_sd", "obs_sd_national")
    assert noise_group_of(_spec(False), geo, period, ("vietnam_provincial_bloc",)).tolist() == [1, 1, 0, 0, 1]


def _readings() -> pd.DataFrame:
    """SYNTHETIC national readings: yearly values exactly on a logit line, and quarter/half-year figures of the same
    years 0.4 logit units off it, alternately below and above."""
    rows = []
    for k, year in enumerate(range(2016, 2024)):
        z = -1.5 + 0.15 * (year - 2022)
        rows.append((year, "", year + 0.5, z))
        rows.append((year, f"{year}-0{3 + 3 * (k % 2)}", year + (0.25 if k % 2 == 0 else 0.5),
                     z + (-0.4 if k % 2 == 0 else 0.4)))
    return pd.DataFrame([{"geo": "vietnam", "indicator": IND, "definition": "a", "year": y, "period": p,
                          "release": "", "value": 70.0 * float(LOGIT.to_fraction(np.array(z))), "unit": "%",
                          "source_url": "synthetic", "quote": "", "note": "SYNTHETIC test data", "status": "used",
                          "time": t} for y, p, t, z in rows])


def test_partial_year_noise_is_fitted_and_reaches_the_forecast_of_such_a_reading(cfg):
    conf = dataclasses.replace(cfg, indicators=(_spec(True),), hyper_samples=1, first_year=2016, reference_year=2022,
                               exclusions=(), baseline_spend_bn_vnd={})
    cal = Calibrator(conf).fit(_readings())
    post = cal.posteriors_[IND]
    sd = dict(zip(post.hyper_names, post.hyper_map, strict=True))
    assert sd["obs_sd_partial"] > 0.25 and sd["obs_sd_national"] < 0.05       # the off-line figures are the noise
    assert sd["obs_sd"] == pytest.approx(0.1, rel=1e-12)                      # no provincial reading: its prior
    latent = np.full(40000, 15.0)
    spread = {}
    for period in ("2024-03", ""):
        noisy = with_measurement_noise(conf, cal, IND, "a", latent, np.random.default_rng(3), "vietnam", period)
        spread[period] = float(np.std(LOGIT.to_linear(noisy / 70.0)))
    assert spread["2024-03"] == pytest.approx(sd["obs_sd_partial"], rel=0.03)
    assert spread[""] == pytest.approx(sd["obs_sd_national"], rel=0.03)
    # as a stock the same readings share one national noise, between the two
    stock = Calibrator(dataclasses.replace(conf, indicators=(_spec(False),))).fit(_readings()).posteriors_[IND]
    national = dict(zip(stock.hyper_names, stock.hyper_map, strict=True))["obs_sd_national"]
    assert sd["obs_sd_national"] < national < sd["obs_sd_partial"]


def test_a_saved_calibration_of_another_layout_is_refitted(tmp_path, calibration_copy):
    from dxsim.pipeline import load_inputs

    inputs = load_inputs(calibration_copy(tmp_path / "calibration", 2))
    cal = Calibrator(inputs.config).fit(inputs.observations)
    key = sc.calibration_key(inputs.config, inputs.observations)
    sc.save(cal, inputs.observations, tmp_path / "saved", key=key)
    assert sc.load(tmp_path / "saved", key) is not None
    meta = json.loads((tmp_path / "saved" / sc.META).read_text(encoding="utf-8"))
    for change in ("format 1", "old hyper names"):
        old = json.loads(json.dumps(meta))
        if change == "format 1":
            old["format"] = 1
        else:                            # the format-1 layout: four hyper-parameters, no names saved
            for fields in old["indicators"].values():
                fields.pop("hyper_names", None)
        folder = tmp_path / change.replace(" ", "_")
        folder.mkdir()
        (folder / sc.ARRAYS).write_bytes((tmp_path / "saved" / sc.ARRAYS).read_bytes())
        (folder / sc.META).write_text(json.dumps(old), encoding="utf-8")
        assert sc.load(folder, key) is None, change



def test_noise_sds_follow_the_pooling_sds_in_the_hyper_parameters(calibrator, cfg):
    """The hyper-parameters are the pooling sds, then one sd per noise group from ``NOISE_START``: the names, the
    priors, the fit's free set (a group without readings is not free) and the sd of a group's readings
    (``obs_sd``) all index them so."""
    from dxsim.core.design import Design
    from dxsim.core.posterior import NOISE_START, POOLING_NAMES, _free, _hyper_priors, hyper_names

    assert len(POOLING_NAMES) == NOISE_START
    for spec in cfg.indicators:
        post = calibrator.posteriors_[spec.name]
        names, (_, spread) = hyper_names(spec), _hyper_priors(spec)
        assert names[NOISE_START:] == noise_groups(spec) and len(spread) == len(names) == post.hypers.shape[1]
        groups = len(noise_groups(spec))                    # SYNTHETIC design: three provincial readings
        design = Design(np.ones((3, 2)), np.zeros(3), np.zeros(2), np.full(2, np.nan), np.array([0]), np.array([1]),
                        np.zeros(3, int), groups)
        assert list(_free(design, np.ones(len(names)))) == [True] * (NOISE_START + 1) + [False] * (groups - 1)
        for group in range(len(noise_groups(spec))):
            assert np.array_equal(post.obs_sd(group, 3), post.hypers[np.arange(3) % len(post.hypers),
                                                                      NOISE_START + group])
