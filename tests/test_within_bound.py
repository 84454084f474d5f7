"""A subset bounded by its anchor (``within``: full-process dossiers within those submitted online) is a bound on the
draws, not on the fit: the run records, per simulated geo, the share of the subset's projected draws that sit on
the bound (manifest.json ``within_bound``), computed here again from the percent values. On the shipped inputs."""

from __future__ import annotations

import numpy as np
import pytest

from dxsim.pipeline import run_scenario

IND, SUB, FP = "online_dossier_share", "submitted_online", "full_process"


@pytest.fixture(scope="module")
def result(root, inputs, calibrator):
    return run_scenario(root / "scenarios" / "baseline.toml", draws=200, inputs=inputs, calibrator=calibrator)


def test_the_share_of_draws_on_the_bound_is_recorded_per_geo(result):
    ens = result.ensemble
    recorded = result.manifest["within_bound"][IND][FP]
    assert recorded["within"] == SUB
    shares = recorded["projected_draws_at_bound"]
    geos = ens.model_geos or ens.geos
    assert list(shares) == list(geos)
    fp, sub = ens.series.index((IND, FP)), ens.series.index((IND, SUB))
    first = ens.series_first_projected[fp]
    years = [y for y in ens.years if y >= first]
    assert years
    values = [ens._part_values(y, [fp, sub], slice(None), slice(None)) for y in years]    # (S, G, 2, D)
    on_bound = np.mean([np.mean(v[:, :, 0] == v[:, :, 1], axis=(0, 2)) for v in values], axis=0)
    assert [shares[g] for g in geos] == pytest.approx(np.round(on_bound, 4).tolist(), abs=1e-12)
    assert all(0.0 <= s <= 1.0 for s in shares.values())
    assert max(shares.values()) > 0.05            # the bound binds somewhere: the check is not of zeros
