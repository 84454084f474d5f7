"""Shortcuts of the calibration that must give the same answers: each indicator's design is built once and its
speed columns warped per damping (``design.warped``: the same matrix, entry for entry, as building the design
again at that damping); the hyper-parameter search uses the marginal likelihood's closed-form gradient (equal to
its finite differences). On the shipped config and observations."""

from __future__ import annotations

import numpy as np
import pytest

from dxsim.core.design import build_design, warped
from dxsim.core.dynamics import DAMPING_GRID
from dxsim.core.posterior import _log_marginal, _log_marginal_gradient
from dxsim.inputs.observations import known_geos, used_observations


@pytest.mark.parametrize("phi", [float(DAMPING_GRID[0]), 0.8, 0.975, 1.0])
def test_warped_design_is_the_design_built_at_that_damping(inputs, phi: float) -> None:
    cfg, obs = inputs.config, used_observations(inputs.observations)
    geos = known_geos(cfg)
    for spec in cfg.indicators:
        rows = obs[obs["indicator"] == spec.name]
        t0 = cfg.reference_year + spec.reading_month / 12.0
        plain = build_design(spec, geos, rows, t0, cfg.share_clip, cfg.aggregates)
        built = build_design(spec, geos, rows, t0, cfg.share_clip, cfg.aggregates, phi)
        fast = warped(plain, spec, len(geos), rows, t0, phi)
        assert np.array_equal(fast.X.toarray(), built.X.toarray()), spec.name
        assert np.array_equal(fast.y, built.y) and np.array_equal(fast.noise, built.noise)
        if phi != 1.0 and len(rows):
            assert not np.array_equal(fast.X.toarray(), plain.X.toarray())    # the test can see a change


def test_log_marginal_gradient_is_its_finite_differences(inputs) -> None:
    cfg, obs = inputs.config, used_observations(inputs.observations)
    geos = known_geos(cfg)
    log_hypers = np.log([0.4, 0.07, 0.2, 0.1, 0.3])     # pooling sds, then noise_groups: provincial, national, partial
    for spec in cfg.indicators:
        rows = obs[obs["indicator"] == spec.name]
        t0 = cfg.reference_year + spec.reading_month / 12.0
        design = build_design(spec, geos, rows, t0, cfg.share_clip, cfg.aggregates, 0.9)
        log_hyper = log_hypers[: 2 + design.n_noise]
        value, grad = _log_marginal_gradient(design, np.exp(log_hyper))
        assert value == _log_marginal(design, np.exp(log_hyper))
        h = 1e-5
        numeric = [(_log_marginal(design, np.exp(log_hyper + h * e)) - _log_marginal(design, np.exp(log_hyper - h * e)))
                   / (2 * h) for e in np.eye(len(log_hyper))]
        assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-5), spec.name
        assert np.any(np.abs(grad) > 1e-2)          # not a flat point, where any gradient would pass


def test_dense_and_sparse_gram_agree(inputs, monkeypatch) -> None:
    from dxsim.core import design as design_module

    cfg, obs = inputs.config, used_observations(inputs.observations)
    spec = cfg.indicators[0]
    rows = obs[obs["indicator"] == spec.name]
    t0 = cfg.reference_year + spec.reading_month / 12.0
    dense = build_design(spec, known_geos(cfg), rows, t0, cfg.share_clip, cfg.aggregates).gram
    monkeypatch.setattr(design_module, "DENSE_GRAM_ROWS", 0)
    sparse = build_design(spec, known_geos(cfg), rows, t0, cfg.share_clip, cfg.aggregates).gram
    for a, b in zip(dense, sparse, strict=True):
        for x, y in zip(a, b, strict=True):
            assert np.allclose(x, y, rtol=1e-12, atol=1e-12)
        assert a[4] > 0 or a[3] == 0
