"""Property test (issue 17): for random scenarios with numbers anywhere within the documented bounds (and some
just outside them), ``dxsim run`` exits 0 or 2, never 1; when it exits 0 every trajectory value is finite and
every probability lies in [0, 1]. The calibration is fitted once (the session fixture) and reused, so each
example only simulates. Scenario files are generated here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxsim import cli

finite = {"allow_nan": False, "allow_infinity": False}
multiple = st.one_of(st.just(0.0), st.floats(0.0, 1000.0, **finite), st.floats(1e-300, 1e-3, **finite))
years = st.integers(2026, 2030)


@st.composite
def scenarios(draw: st.DrawFn) -> str:
    lines = ['name = "prop"', 'geos = ["long_an", "tra_vinh", "vietnam"]', "[investment]"]
    for pillar in draw(st.sets(st.sampled_from(["broadband", "digital_government", "digital_economy"]))):
        if draw(st.booleans()):
            lines.append(f"{pillar} = {draw(multiple)!r}")
        else:
            sched = draw(st.dictionaries(years, multiple, min_size=1, max_size=3))
            lines.append(f"{pillar} = {{ {', '.join(f'{y} = {v!r}' for y, v in sorted(sched.items()))} }}")
    if draw(st.booleans()):
        lines += ["[[events]]", 'name = "e"', 'indicator = "online_dossier_share"', f"year = {draw(years)}",
                  f"speed_multiplier = {draw(st.floats(1e-3, 1000.0, **finite))!r}"]
    for k in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["speed_multiplier", "ceiling_lift", "step"]))
        value = draw(st.floats(1.0001, 10.0, **finite)) if kind == "speed_multiplier" \
            else draw(st.floats(0.01, 5.0, **finite))
        key = "multiplier" if kind == "speed_multiplier" else "points"
        median, log_sd = draw(st.floats(0.1, 10.0, **finite)), draw(st.floats(0, 3, **finite))
        overrun = f"{{ median = {median!r}, log_sd = {log_sd!r} }}"
        lines += ["[[programmes]]", f'name = "p{k}"', f'geo = "{draw(st.sampled_from(["long_an", "tra_vinh"]))}"',
                  'indicator = "fiber_household_share"',
                  f"budget_bn_vnd = {draw(st.floats(1e-3, 1e7, **finite))!r}", f"start = {draw(years)}",
                  f"duration_years = {draw(st.floats(0.1, 50.0, **finite))!r}", f"overrun = {overrun}",
                  f"procurement_months = {draw(st.floats(0, 600, **finite))!r}",
                  f'effect = {{ kind = "{kind}", {key} = {value!r} }}']
    return "\n".join(lines) + "\n"


@pytest.fixture
def fitted(calibrator, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """Reuse the session's fitted calibrator instead of fitting again for every example."""
    monkeypatch.setattr("dxsim.core.calibrate.Calibrator.fit", lambda self, observations, as_of=None: calibrator)
    return calibrator


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(text=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_random_valid_scenarios_give_finite_results(text: str, seed: int, fitted, root: Path,  # noqa: ANN001
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("prop")
    (folder / "s.toml").write_text(text, encoding="utf-8")
    out = folder / "out"
    code = cli.main(["run", str(folder / "s.toml"), "--config", str(root / "calibration/config.toml"), "--draws",
                     "20", "--seed", str(seed), "--no-charts", "--out", str(out)])
    assert code in (0, 2), text
    if code == 2:
        return
    tr = pd.read_csv(out / "trajectories.csv")
    assert np.isfinite(tr.select_dtypes("number").to_numpy()).all(), text
    tp = pd.read_csv(out / "target_probabilities.csv")
    p = tp.loc[tp["evaluable"], "probability"]
    assert p.notna().all() and p.between(0, 1).all(), text
    joint = pd.read_csv(out / "all_targets_probabilities.csv")["probability"]
    assert joint.between(0, 1).all(), text
