"""End to end through the CLI on the shipped data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_explicit_cells import empty_cells

from dxsim.cli import main
from dxsim.core.axes import QUANTILE_COLUMNS

HEADLINE = {"fiber_household_share", "online_dossier_share", "digital_economy_grdp_share"}
GEOS = {"long_an", "lang_son", "hau_giang", "tra_vinh", "vietnam"}


@pytest.fixture(scope="module")
def run_dir(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "baseline"
    assert main(["run", str(root / "scenarios" / "baseline.toml"), "--draws", "600", "--out", str(out),
                 "--no-charts", "--config", str(root / "calibration" / "config.toml")]) == 0
    return out


def test_run_writes_the_contracted_files(run_dir):
    tr = pd.read_csv(run_dir / "trajectories.csv")
    assert list(tr.columns[:6]) == ["scenario", "geo", "geography", "indicator", "definition", "year"]
    assert {"mean", *QUANTILE_COLUMNS} <= set(tr.columns)
    assert set(tr["geo"]) >= GEOS and set(tr["indicator"]) >= HEADLINE
    assert tr["year"].max() == 2030 and tr["year"].min() <= 2023
    values = tr[["mean", *QUANTILE_COLUMNS]].to_numpy()
    assert np.all((values >= 0) & (values <= 100))
    assert np.all(np.diff(tr[list(QUANTILE_COLUMNS)].to_numpy(), axis=1) >= -1e-9)

    tp = pd.read_csv(run_dir / "target_probabilities.csv")
    assert list(tp.columns[:11]) == ["scenario", "geo", "geography", "indicator", "definition", "deadline",
                                     "target", "comparator", "probability", "mc_se", "document"]
    ev = tp[tp["evaluable"]]
    assert len(ev) == len(tp) > 30 and ev["probability"].between(0, 1).all() and (ev["mc_se"] >= 0).all()
    never = pd.read_csv(run_dir / "targets_not_evaluable.csv")         # the others, each with its reason
    assert len(never) > 0 and not never["evaluable"].any() and never["reason"].str.len().gt(0).all()
    assert "probability" not in never.columns and (never["reason"] != "none").all()
    # Long An's contradictory digital-economy targets (10% and 20%) are each evaluated
    la = ev[(ev["geo"] == "long_an") & (ev["indicator"] == "digital_economy_grdp_share")]
    assert {10.0, 20.0} <= set(la["target"])

    manifest = json.loads((run_dir / "manifest.json").read_text())
    for key in ("dxsim_version", "scenario", "observations", "targets", "calibration", "seed", "draws",
                "created_utc"):
        assert key in manifest
    assert len(manifest["observations"]["sha256"]) == 64 and manifest["draws"] == 600


def test_targets_are_evaluated_on_their_own_definition(run_dir):
    tp = pd.read_csv(run_dir / "target_probabilities.csv")
    tr = pd.read_csv(run_dir / "trajectories.csv")
    row = tp[(tp["geo"] == "long_an") & (tp["definition"] == "coverage") & (tp["target"] == 90)].iloc[0]
    cov = tr[(tr["geo"] == "long_an") & (tr["definition"] == "coverage") & (tr["year"] == 2025)].iloc[0]
    # P(coverage > 90) must agree with where 90 sits among the coverage quantiles
    assert (row["probability"] < 0.5) == (cov["q50"] < 89.5)


def test_calibrate_writes_parameters_draws_and_diagnostics(cheap_config, tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibrate", "--out", str(out), "--draws", "200", "--config", str(cheap_config)]) == 0
    printed = capsys.readouterr().out
    assert "pooled" in printed and "long_an" in printed
    params = pd.read_csv(out / "parameters.csv")
    assert {"indicator", "parameter", "geo", "mean", "sd"} <= set(params.columns)
    with np.load(out / "draws.npz", allow_pickle=False) as draws:
        assert draws["level"].shape[0] == 200
    fit = pd.read_csv(out / "fit_table.csv")
    assert {"n_observations", "pooled", "slope_per_year", "anchor_definition", "at_jump_off"} <= set(fit.columns)
    residuals = pd.read_csv(out / "fit_residuals.csv")
    assert len(residuals) == (fit["n_observations"] > 0).sum() and residuals["rms_residual_pp"].notna().all()
    assert empty_cells(out) == []
    assert any((out / "diagnostics").glob("fit_fiber_household_share_vietnam.png"))


def test_help_everywhere(capsys):
    for argv in (["--help"], ["run", "--help"], ["calibrate", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
    assert "--observations" in capsys.readouterr().out


def test_a_run_uses_the_2024_2025_readings_projects_from_2026_and_says_how_old_the_data_are(root, inputs, tmp_path,
                                                                                         capsys):
    obs = inputs.observations
    recent = obs[(obs["year"] >= 2024) & obs["indicator"].isin(inputs.config.indicator_names)]
    assert len(recent) >= 20 and (recent["status"] == "used").sum() >= 17
    # every reading left out says why: the 'over 51%' lower bound, a method not stated (the merged Tay Ninh's reading
    # is used: an observation of its parts' weighted mean, merged_readings.py)
    skipped = recent[recent["status"] != "used"]
    assert len(skipped) == 2 and skipped["status"].str.len().gt(20).all()
    assert (recent.loc[recent["geography"] == "post_2025", "status"] == "used").all()
    out = tmp_path / "run"
    assert main(["run", str(root / "scenarios" / "baseline.toml"), "--draws", "50", "--out", str(out),
                 "--no-charts", "--config", str(root / "calibration" / "config.toml")]) == 0
    printed = capsys.readouterr().out
    assert "projections from 2026" in printed
    assert "Newest reading per headline series" in printed and "(handled online end to end) 2025-10" in printed
    assert "2 readings of 2024-2025 not used by the fit, and why:" in printed and "is a lower bound" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    through = manifest["calibration"]["data_through"]
    assert manifest["calibration"]["jump_off_year"] == through["jump_off_year"] == 2025
    assert through["by_series"]["fiber_household_share/subscription"]["newest_reading"] == "2025-06"
    tr = pd.read_csv(out / "trajectories.csv")
    vn = tr[(tr["geo"] == "vietnam") & (tr["definition"].isin(["subscription", "full_process", "mic_method"]))]
    assert vn.groupby("definition").apply(lambda g: g.loc[g["projected"], "year"].min()).eq(2026).all()
    assert tr["year"].max() == 2030


def test_library_errors_name_the_argument_and_the_cli_names_the_option(inputs, tmp_path, capsys):
    from dxsim.analyses.forecast_asof import forecast_as_of
    from dxsim.errors import ArgumentError

    with pytest.raises(ArgumentError) as err:
        forecast_as_of(inputs, 2023, horizon=2022, draws=10)
    assert err.value.where == "horizon" and "--" not in str(err.value)
    assert main(["forecast", "--as-of", "2023", "--horizon", "2022", "--out", str(tmp_path / "f")]) == 2
    assert "command line: --horizon: must be after the as-of year 2023" in capsys.readouterr().err


def test_every_command_is_registered_in_one_package():
    from dxsim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    assert list(sub.choices) == ["run", "calibrate", "forecast", "backtest", "plot", "compare", "report", "scorecard",
                                 "sensitivity", "required-investment"]
    assert {sub.choices[c].get_default("func").__module__ for c in sub.choices} == {
        "dxsim.cli.run", "dxsim.cli.evaluate", "dxsim.cli.charts", "dxsim.cli.policy"}


def test_a_scenario_is_a_file_or_a_shipped_name_and_the_error_names_the_argument(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)                                        # any folder
    assert main(["run", "no_such_scenario", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "SCENARIO: no file 'no_such_scenario'" in err and "baseline" in err
    assert not (tmp_path / "o").exists()
