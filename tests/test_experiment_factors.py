"""What the model-assumption factors of an experiment mean: damping and ceiling (factors.py, experiments.py).

The calibration is the shipped one; the factor values are chosen by the tests (no data is made up).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dxsim.analyses.experiments import build_experiment, simulate_variants
from dxsim.analyses.factors import Factor
from dxsim.core.ensemble import ensemble_years, run_ensemble, sample_run
from dxsim.inputs.observations import known_geos
from dxsim.inputs.scenario import load_scenario

DRAWS, SEED = 50, 7


@pytest.fixture(scope="module")
def scenario(cfg, root):
    scen = load_scenario(root / "scenarios" / "baseline.toml", cfg, known_geos(cfg))
    return dataclasses.replace(scen, geos=("long_an", "vietnam"))


def _experiment(calibrator, scenario, factors):
    """An experiment without outputs: the tests read its ensemble."""
    samples = sample_run(calibrator, DRAWS, SEED, scenario)
    return build_experiment(calibrator, scenario, pd.DataFrame(), factors, samples, outputs=(pd.DataFrame(), ()))


def test_damping_multiplies_the_speed_h_years_after_the_jump_off_by_d_to_the_h(calibrator, cfg, scenario):
    """factors_default.toml: 'damping: the damping d of indicator's projected speed, per year'. With the same
    noise in every variant, z's yearly step is d**h x speed + noise (h = years since the indicator's last data),
    so (step at d=1 - step at d1) / (step at d=1 - step at d2) = (1 - d1**h) / (1 - d2**h), exactly, for every
    indicator whatever its calibrated dynamics."""
    names = cfg.indicator_names
    factors = tuple(Factor(f"damp_{n}", "damping", 0.1, 1.0, indicator=n) for n in names)
    d1, d2 = 0.9, 0.6
    X = np.array([[1.0] * len(names), [d1] * len(names), [d2] * len(names)])
    exp = _experiment(calibrator, scenario, factors)
    ens = simulate_variants(exp, X)
    z = ens.z.astype(float)                                                   # (year, variant, geo, indicator, draw)
    years = np.array(ens.years)
    for i, name in enumerate(names):
        jump_off = int(exp.data_ends["indicator_jump_off"][i])
        for h in (1, 2, 4):
            y = int(np.flatnonzero(years == jump_off + h)[0])
            step = z[y, :, :, i] - z[y - 1, :, :, i]                            # (variant, geo, draw)
            moved = np.abs(step[0] - step[2]) > 1e-3                            # draws with some speed
            assert moved.mean() > 0.5, name
            ratio = (step[0] - step[1])[moved] / (step[0] - step[2])[moved]
            np.testing.assert_allclose(ratio, (1 - d1 ** h) / (1 - d2 ** h), rtol=2e-3, err_msg=f"{name} h={h}")


@pytest.mark.parametrize("points", [5.0, -3.0])
def test_a_ceiling_factor_moves_no_share_at_the_jump_off(calibrator, cfg, scenario, points):
    """'ceiling: points added to every ceiling of indicator; the projection starts from the same share'. Read
    back from the shares: the lifted state at the first projected year, less that year's increment of the
    unlifted state, is the jump-off share under the new ceiling (keeping the adoption fraction instead would
    add lift x fraction at once, ~4.5 points here). Afterwards, where a share has risen since the jump-off, a
    higher ceiling never gives a lower share (more room: it rises faster)."""
    name = "fiber_household_share"             # two definitions: subscription (95% ceiling) and coverage (100%)
    law = cfg.indicator(name).law
    exp = _experiment(calibrator, scenario, (Factor("ceiling", "ceiling", -5, 5, indicator=name),
                                             Factor("unused", "investment", 0.5, 2.0, pillar="broadband")))
    ens = simulate_variants(exp, np.array([[np.nan, np.nan], [points, np.nan]]))
    jump_off = int(exp.data_ends["indicator_jump_off"][cfg.indicator_names.index(name)])
    single = [g for g, region in enumerate(exp.aggregation.regions) if len(region.parts) == 1]   # not averaged
    for k in (k for k, (i, _) in enumerate(ens.series) if i == name):
        before = ens.series_ceiling[k]
        after = min(before + points, 100.0)
        s0 = ens.values(jump_off, [k], single)[:, :, 0]                          # (variant, geo, draw)
        s1 = ens.values(jump_off + 1, [k], single)[:, :, 0]
        np.testing.assert_array_equal(s0[1], s0[0])
        increment = law.to_linear(s1[0] / before) - law.to_linear(s0[0] / before)
        start = after * law.to_fraction(law.to_linear(s1[1] / after) - increment)
        room = s0[0] < after - 0.5                 # a share above a lowered ceiling cannot stay where it was
        assert room.mean() > 0.8
        np.testing.assert_allclose(start[room], s0[0][room], atol=0.02, err_msg=str(ens.series[k]))
        for year in range(jump_off + 1, ens.years[-1] + 1):
            v = ens.values(year, [k], single)[:, :, 0]
            rising = v[0] > s0[0]                                               # the state grew since the jump-off
            assert np.all(((v[1] - v[0]) * np.sign(points))[rising] >= -1e-3), (ens.series[k], year)
            assert rising.mean() > 0.5


def test_a_multiple_acts_from_the_year_it_is_set(calibrator, cfg, scenario):
    """The investment multiple is computed again only when a year's multiples differ from the last year's: a
    schedule of 1 until 2027 and 3 from 2028 steps exactly as multiple 1 before 2028 and as multiple 3 after
    (same draws and noise; each scenario simulated alone)."""
    def alone(schedule):
        inv = {**scenario.investment, ("*", "digital_government"): schedule}
        return run_ensemble(calibrator, [dataclasses.replace(scenario, investment=inv)], DRAWS, SEED).z

    first = calibrator.jump_off_year_ + 1
    switch = first + 2
    mixed, low, high = alone({first: 1.0, switch: 3.0}), alone({first: 1.0}), alone({first: 3.0})
    years = ensemble_years(calibrator, scenario.settings.horizon).tolist()
    assert len(years) == len(mixed)
    for y in range(1, len(years)):
        want = high if years[y] >= switch else low
        np.testing.assert_allclose(mixed[y] - mixed[y - 1], want[y] - want[y - 1], atol=1e-5,
                                   err_msg=str(years[y]))          # paths are float32
    assert np.any(high[-1] != low[-1])
