"""Common random numbers: runs that share a seed share their parameter draws and noise, so a scenario's
differences from another are its levers' effects, not Monte Carlo noise; and runs that do not share them say so.
On the shipped calibration, observations and scenarios (few draws)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dxsim.cli import main
from dxsim.core.ensemble import sample_run
from dxsim.core.programme_impact import programme_table
from dxsim.core.streams import VERSION as STREAMS_VERSION
from dxsim.core.targets import evaluation_targets
from dxsim.inputs.scenario import SCENARIO_KEYS
from dxsim.outputs.comparability import comparability_message, comparability_warnings, run_identity
from dxsim.pipeline import run_scenario

DRAWS = 60


def shipped_scenarios(root: Path) -> dict[str, dict]:
    """Every shipped scenario file (files of other kinds, e.g. sensitivity factors, left out), as parsed TOML."""
    out = {}
    for path in sorted((root / "scenarios").glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        if set(raw) <= SCENARIO_KEYS:
            out[path.name] = raw
    return out


def test_shipped_scenarios_share_one_seed(root: Path) -> None:
    scenarios = shipped_scenarios(root)
    assert {"baseline.toml", "long_an_programmes.toml", "hau_giang_programmes.toml"} <= set(scenarios)
    seeds = {name: raw.get("seed") for name, raw in scenarios.items()}
    assert len(set(seeds.values())) == 1 and None not in seeds.values(), seeds


@pytest.fixture(scope="module")
def runs(root: Path, inputs):
    return {name: run_scenario(root / "scenarios" / f"{name}.toml", draws=DRAWS, inputs=inputs)
            for name in ("baseline", "long_an_programmes", "hau_giang_programmes")}


def touched(result) -> set[tuple[str, str]]:
    """(geo, indicator) that a scenario's programmes act on: the programme's geo and every geo it is part of."""
    regions = result.scenario.resolved_regions(result.calibrator.config)
    return {(r.name, p.indicator) for p in result.scenario.programmes for r in regions if p.geo in r.parts}


@pytest.mark.parametrize("name", ["long_an_programmes", "hau_giang_programmes"])
def test_series_no_programme_touches_are_identical_draw_for_draw(runs, name: str) -> None:
    base, prog = runs["baseline"].ensemble, runs[name].ensemble
    assert prog.geos == base.geos and prog.series == base.series and prog.years == base.years
    hit = touched(runs[name])
    assert hit
    same, moved = 0, set()
    for year in base.years:
        a, b = base.values(year)[0], prog.values(year)[0]           # (geo, series, draw)
        for g, geo in enumerate(base.geos):
            for k, (indicator, _) in enumerate(base.series):
                equal = np.array_equal(a[g, k], b[g, k])
                if (geo, indicator) in hit:
                    if not equal:
                        moved.add((geo, indicator))
                else:
                    assert equal, (year, geo, base.series[k])
                    same += 1
    assert same > 100
    assert moved, "the programmes move none of the series they act on: the check could not tell"


def test_programme_counterfactuals_reuse_the_runs_samples(runs, inputs, monkeypatch) -> None:
    """The runs without each programme evaluate the run's own samples: nothing is sampled again, and the result is
    the one the pipeline wrote."""
    result = runs["hau_giang_programmes"]
    samples = sample_run(result.calibrator, DRAWS, result.scenario.settings.seed, result.scenario)

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled again")

    monkeypatch.setattr("dxsim.core.ensemble.sample_parameters", no_sampling)
    monkeypatch.setattr("dxsim.core.ensemble.scenario_rollouts", no_sampling)
    targets = evaluation_targets(inputs.config, inputs.targets)
    table = programme_table(result.calibrator, result.scenario, targets, result.ensemble, samples)
    assert table["probability_without"].notna().any()
    pd.testing.assert_frame_equal(table, result.programmes)


def manifest(seed: int = 1, draws: int = 100, config: str = "a" * 64, data: str = "b" * 64,
             streams: int | None = STREAMS_VERSION) -> dict:
    out = {"seed": seed, "draws": draws, "calibration": {"sha256": config}, "observations": {"sha256": data}}
    return out if streams is None else out | {"random_streams": streams}


def test_comparability_names_what_differs() -> None:
    assert comparability_warnings([manifest(), manifest()]) == []
    assert comparability_message([manifest(), manifest()]) == ""
    lines = comparability_warnings([manifest(), manifest(seed=2, data="c" * 64)], ["base", "prog"])
    assert lines == ["different seed (base: 1, prog: 2)", "different data (base: bbbbbbbbbbbb, prog: cccccccccccc)"]
    for k, other in enumerate([manifest(draws=50), manifest(config="d" * 64), {}]):
        assert len(comparability_warnings([manifest(), other])) == (1 if k < 2 else 5)
    message = comparability_message([manifest(), manifest(seed=2)])
    assert "\n" not in message and "different seed" in message


def test_runs_of_other_random_streams_are_not_paired() -> None:
    """Another layout of the random streams gives other draws for the same seed; a run that does not record its
    layout may predate a change of it, so it pairs with no run, not even another such run."""
    assert comparability_warnings([manifest(), manifest(streams=STREAMS_VERSION + 1)], ["a", "b"]) == [
        f"different random streams (a: {STREAMS_VERSION}, b: {STREAMS_VERSION + 1})"]
    assert comparability_warnings([manifest(), manifest(streams=None)], ["a", "b"]) == [
        f"different random streams (a: {STREAMS_VERSION}, b: not recorded)"]
    assert comparability_warnings([manifest(streams=None)] * 2, ["a", "b"]) == [
        "unknown random streams (a: not recorded, b: not recorded)"]


def test_a_run_manifest_carries_what_comparability_reads(runs) -> None:
    identity = run_identity(runs["baseline"].manifest)
    assert None not in identity.values() and identity["draws"] == DRAWS
    assert identity["random streams"] == STREAMS_VERSION
    assert comparability_warnings([r.manifest for r in runs.values()]) == []


def test_compare_warns_in_one_line_when_seeds_differ(root: Path, tmp_path: Path, capsys, small_run) -> None:
    outs = [small_run(tmp_path / "scenario_seed"), tmp_path / "seed1"]      # 20 draws; the session's calibration
    assert json.loads((outs[0] / "manifest.json").read_text(encoding="utf-8"))["seed"] != 1
    text = (root / "scenarios" / "baseline.toml").read_text(encoding="utf-8")
    one_geo = re.sub(r'(?ms)^geos = \[.*?\]', 'geos = ["lang_son"]', text)       # compare draws 1 geo's charts
    assert one_geo != text
    (tmp_path / "baseline.toml").write_text(one_geo, encoding="utf-8")
    assert main(["--quiet", "run", str(tmp_path / "baseline.toml"), "--draws", "20", "--seed", "1",
                 "--no-charts", "--out", str(outs[1]), "--config", str(root / "calibration" / "config.toml")]) == 0
    outs.reverse()                                                  # the warning names the first folder's seed
    capsys.readouterr()
    assert main(["--quiet", "compare", *map(str, outs), "--out", str(tmp_path / "cmp"), "--format", "svg"]) == 0
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if "not comparable" in line]
    assert len(warning) == 1 and "different seed" in warning[0] and f"{outs[0]}: 1" in warning[0], err
    assert "different draws" not in err and "different data" not in err
