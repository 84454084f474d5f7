"""The readings' marginal likelihood has two homes: the hyper-parameters' (``posterior._log_marginal``, Woodbury in
the parameter space) and the walk's (``jumpoff.walk_log_likelihood`` on the n x n covariance the fit builds for
``process_sd``). Without the walk they are the same quantity: the fit's covariance must make them agree, or the
walk's sd would be estimated under another model than the one fitted. On the shipped readings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dxsim.core import calibrate
from dxsim.core.jumpoff import walk_log_likelihood
from dxsim.core.posterior import _log_marginal


@pytest.mark.parametrize("name", ["fiber_household_share", "online_dossier_share", "digital_economy_grdp_share"])
def test_the_walk_likelihood_without_the_walk_is_the_marginal_likelihood(inputs, monkeypatch, name):
    seen = {}
    fit_walk_sd, walk_sd_posterior = calibrate.Calibrator._fit_walk_sd, calibrate.walk_sd_posterior

    def record_fit(self, spec, obs, design, hyper):
        seen["design"], seen["hyper"] = design, hyper
        return fit_walk_sd(self, spec, obs, design, hyper)

    def record_posterior(resid, base, walk, *args):
        if len(resid):
            seen["likelihood"] = walk_log_likelihood(resid, base, walk, 0.0)
            seen["walk"] = walk
        return walk_sd_posterior(resid, base, walk, *args)

    monkeypatch.setattr(calibrate.Calibrator, "_fit_walk_sd", record_fit)
    monkeypatch.setattr(calibrate, "walk_sd_posterior", record_posterior)
    cfg = inputs.config
    calibrate.Calibrator(dataclasses.replace(cfg, indicators=(cfg.indicator(name),))).fit(inputs.observations)
    assert np.any(seen["walk"])                                  # the readings inform the walk: a real check
    expected = _log_marginal(seen["design"], seen["hyper"])
    assert seen["likelihood"] == pytest.approx(expected, rel=1e-9, abs=1e-9)
