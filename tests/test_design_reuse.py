"""The calibration builds each indicator's design once and warps its speed columns per damping
(``design.warped``): the same matrix, entry for entry, as building the design again at that damping. On the
shipped config and observations."""

from __future__ import annotations

import numpy as np
import pytest

from dxsim.core.design import build_design, warped
from dxsim.core.dynamics import DAMPING_GRID
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
        assert np.array_equal(fast.y, built.y) and np.array_equal(fast.national, built.national)
        if phi != 1.0 and len(rows):
            assert not np.array_equal(fast.X.toarray(), plain.X.toarray())    # the test can see a change
