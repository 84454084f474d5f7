"""No result file holds an empty cell, NaN or infinity: a value that does not exist has no cell
(``outputs/explicit_tables.py``)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.outputs.explicit_tables import (
    implicit,
    numbers_of,
    read_explicit,
    read_fit,
    target_parts,
    write_fit,
    write_targets,
)
from dxsim.outputs.results import write_csv

# the input files as read (every column, empty cells included: a reading without a period is a year figure)
INPUT_COPIES = {"observations_used.csv", "targets_used.csv"}
NOT_A_VALUE = {"", "nan", "-nan", "inf", "-inf", "infinity", "-infinity", "null"}


def _json_problems(value: Any, where: str) -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _json_problems(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for k, v in enumerate(value) for p in _json_problems(v, f"{where}[{k}]")]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where} = {value}"]
    if isinstance(value, str) and value.strip().lower() in NOT_A_VALUE:
        return [f"{where} = {value!r}"]
    return []


def empty_cells(folder: Path) -> list[str]:
    """Every empty, NaN or infinite cell of the result files (CSV and JSON) under ``folder``, as
    'file: row N, column = value' (inputs copied into the folder are skipped). JSON ``null`` says "none"."""
    problems = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] == "inputs" or path.name in INPUT_COPIES:
            continue
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
            header = rows[0]
            problems += [f"{rel}: row {n}, {col} = {cell!r}" for n, row in enumerate(rows[1:], 1)
                         for col, cell in zip(header, row, strict=True) if cell.strip().lower() in NOT_A_VALUE]
        elif path.suffix == ".json":
            text = path.read_text(encoding="utf-8")
            problems += [f"{rel}: {p}" for p in _json_problems(json.loads(text), "")]
            problems += [f"{rel}: {w}" for w in ("NaN", "Infinity") if w in text]
    return problems


def test_a_run_folder_has_no_empty_or_nan_cell(small_run, tmp_path):
    folder = small_run(tmp_path / "run")
    assert (folder / "targets_not_evaluable.csv").is_file() and (folder / "fit_residuals.csv").is_file()
    assert empty_cells(folder) == []


def test_the_scan_finds_an_empty_cell_a_nan_and_an_infinity(small_run, tmp_path):
    folder = small_run(tmp_path / "run")
    frame = pd.read_csv(folder / "all_targets_probabilities.csv")
    frame.loc[0, "probability"] = np.nan
    frame.to_csv(folder / "all_targets_probabilities.csv", index=False)
    (folder / "extra.json").write_text('{"a": [1, NaN], "b": ""}', encoding="utf-8")
    found = empty_cells(folder)
    assert found == ["all_targets_probabilities.csv: row 1, probability = ''", "extra.json: .a[1] = nan",
                     "extra.json: .b = ''", "extra.json: NaN"]


def test_targets_and_the_fit_read_back_as_they_were_written(tmp_path):
    """Synthetic tables (made here): written as files without empty cells, read back with NaN and empty
    text where a value does not exist, row for row."""
    targets = pd.DataFrame({
        "geo": ["a", "b", "c"], "evaluable": [True, False, True], "probability": [0.25, np.nan, 1.0],
        "mc_se": [0.01, np.nan, 0.0], "reason": ["", "not modelled", ""], "assumption": ["", "", "MIC"],
        "outcome": [np.nan, 12.5, 79.4], "outcome_source": ["", "http://x", "http://y"],
        "probability_text": ["0.25", "", "> 0.99"], "evidence": ["own", "", "pooled"]})
    write_targets(targets, tmp_path)
    parts = target_parts(tmp_path, lambda path: pd.read_csv(path, keep_default_na=False, na_values=[""]))
    assert [p.name for p, _ in parts] == ["target_probabilities.csv", "targets_not_evaluable.csv"]
    back = pd.concat([f for _, f in parts], ignore_index=True).set_index("geo").loc[["a", "b", "c"]]
    assert back["reason"].tolist() == ["", "not modelled", ""] and back["assumption"].tolist() == ["", "", "MIC"]
    assert np.array_equal(back["outcome"].to_numpy(float), [np.nan, 12.5, 79.4], equal_nan=True)
    assert np.isnan(back.loc["b", "probability"]) and back.loc["c", "probability"] == 1.0
    fit = pd.DataFrame({"indicator": ["x", "x"], "geo": ["a", "b"], "n_observations": [2, 0],
                        "definitions_observed": ["d", ""], "pooled": [False, True],
                        "rms_residual_pp": [0.5, np.nan], "slope_per_year": [0.1, 0.2]})
    write_fit(fit, tmp_path)
    assert empty_cells(tmp_path) == []
    again = read_fit(tmp_path, lambda path, _columns: pd.read_csv(path, keep_default_na=False, na_values=[""]))
    assert again["definitions_observed"].tolist() == ["d", ""]
    assert np.array_equal(again["rms_residual_pp"].to_numpy(float), [0.5, np.nan], equal_nan=True)


def _morris_folder(folder: Path) -> Path:
    """A Morris sensitivity folder of a SYNTHETIC function (no model): y = 3 x1 + x2**2 on two factors made here."""
    from dxsim.analyses.factors import Factor
    from dxsim.analyses.sensitivity import OUTPUT_COLUMNS, SensitivityResult, analyse, sample, write_sensitivity

    factors = (Factor("x1", "cross_elasticity", 0.0, 1.0), Factor("x2", "cross_elasticity", 0.0, 1.0))
    X = sample(factors, "morris", 4, 1)
    table = analyse(factors, "morris", X, 3 * X[:, 0] + X[:, 1] ** 2, 1)
    table.insert(0, "output", "y")
    outputs = pd.DataFrame([["y", "value", "vietnam", "x", "d", 2030, "", np.nan, "", 1.0, 1.5, 0.5, True]],
                           columns=list(OUTPUT_COLUMNS))
    return write_sensitivity(SensitivityResult(table, outputs, factors, "morris", 4, len(X), 0.0, "here"), folder,
                             manifest={"method": "morris"}, charts=False)


def test_a_morris_folder_says_none_where_mu_and_sigma_have_no_interval(tmp_path):
    folder = _morris_folder(tmp_path / "morris")
    assert empty_cells(folder) == []
    back = read_explicit(folder / "sensitivity.csv").set_index(["factor", "index"])
    assert back["ci_low"].dtype.kind == "f" and np.isnan(back.loc[("x1", "mu"), "ci_low"])
    assert back.loc[("x1", "mu_star"), "ci_low"] <= back.loc[("x1", "mu_star"), "value"]


def test_result_tables_are_explicit_and_input_copies_as_read(tmp_path):
    """Synthetic tables (made here): a national comparison without a period (all-province runs), a skill row
    without a skill (CRPS 0), and an input copy whose empty cells stay empty."""
    national = pd.DataFrame({"indicator": ["x", "x"], "definition": ["d", "d"], "year": [2024, 2025],
                             "period": ["", "Q2"], "national_reading": [50.0, 52.5], "aggregate_q50": [49.0, 51.0],
                             "aggregate_q10": [45.0, 47.0], "aggregate_q90": [53.0, 55.0],
                             "distance_pp": [1.0, 1.5], "weight": ["population"] * 2, "source_url": ["u", "u"]})
    skill = pd.DataFrame({"method": ["dxsim"], "horizon": ["all"], "crps": [0.0], "dxsim_crps_skill": [np.nan],
                          "reading_crps_skill": [np.nan]})
    write_csv(national, tmp_path / "national_consistency.csv")
    write_csv(skill, tmp_path / "skill.csv")
    assert empty_cells(tmp_path) == []
    assert (tmp_path / "national_consistency.csv").read_text().splitlines()[1].split(",")[3] == "none"
    back = read_explicit(tmp_path / "skill.csv")
    assert back["dxsim_crps_skill"].dtype.kind == "f" and back["horizon"].tolist() == ["all"]
    again = implicit(pd.read_csv(tmp_path / "national_consistency.csv", keep_default_na=False),
                     "national_consistency.csv")
    assert again["period"].tolist() == ["", "Q2"]
    write_csv(national, tmp_path / "observations_used.csv", as_read=True)
    assert (tmp_path / "observations_used.csv").read_text().splitlines()[1].split(",")[3] == ""


def test_none_reads_back_by_the_file_s_numeric_columns(tmp_path):
    """Synthetic table (made here): a numeric column where every cell is 'none' reads as numbers; a text column
    of number-like values with one 'none' stays text."""
    table = pd.DataFrame({"geo": ["a", "b"], "document": ["749", np.nan], "multiple": [np.nan, np.nan],
                          "scenario_multiple": [np.nan, 2.0], "answer": ["x", "y"]})
    write_csv(table, tmp_path / "required_investment.csv")
    back = read_explicit(tmp_path / "required_investment.csv")
    assert back["multiple"].dtype.kind == "f" and back["scenario_multiple"].tolist()[1] == 2.0
    assert back["document"].tolist()[0] == "749" and pd.isna(back["document"].tolist()[1])
    assert numbers_of("fit_table.csv", ["coverage_at_jump_off", "geo"]) == {"coverage_at_jump_off"}


def test_a_residual_file_without_its_column_is_bad_input(small_run, tmp_path, capsys):
    from dxsim.cli import main

    folder = small_run(tmp_path / "run")
    path = folder / "fit_residuals.csv"
    pd.read_csv(path).drop(columns="rms_residual_pp").to_csv(path, index=False)
    assert main(["plot", str(folder), "--out", str(tmp_path / "charts")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fit_residuals.csv" in err[0] and "rms_residual_pp" in err[0], err
