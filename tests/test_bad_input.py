"""Bad input gives exit code 2 and one line naming the file, the field and the value; real-world files load.

The corpus is ``tests/data/bad/`` (see its README); ``EXPECT.csv`` says what each error line must contain.
Every file is run in-process through ``dxsim.cli.main`` (fast: they fail during validation); a sample of
them also through a real ``python -m dxsim.cli`` process, to check the exit code and stderr as a shell sees
them. Full runs go through subprocesses with one BLAS thread (much faster on a shared machine).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dxsim import cli
from dxsim.errors import InputError
from dxsim.inputs.observations import load_observations, load_targets, parse_number
from dxsim.outputs.results import atomic_output_dir

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
with open(BAD / "EXPECT.csv", encoding="utf-8", newline="") as _fh:
    EXPECT = {row["file"]: row["expect"] for row in csv.DictReader(_fh)}
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")


def run_dxsim(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dxsim.cli", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300, **kwargs)


def command(rel: str, out: Path) -> list[str]:
    """The dxsim arguments that feed the bad file ``rel`` (relative to tests/data/bad) to a run."""
    path = f"tests/data/bad/{rel}"
    kind = rel.split("/")[0]
    inputs = {"scenarios": [path], "observations": ["scenarios/baseline.toml", "--observations", path],
              "targets": ["scenarios/baseline.toml", "--targets", path],
              "config": ["scenarios/baseline.toml", "--config", path]}[kind]
    return ["run", *inputs, "--out", str(out), "--no-charts", "--draws", "50"]


def check_error_line(stderr: str, rel: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith(f"dxsim: error: tests/data/bad/{rel}: "), line
    assert EXPECT[rel] in line, f"{line!r} lacks {EXPECT[rel]!r}"


def test_corpus_is_large_and_fully_listed() -> None:
    files = {p.relative_to(BAD).as_posix() for p in BAD.rglob("*") if p.is_file() and p.parent != BAD}
    assert len(files) >= 25
    assert files == set(EXPECT), (files ^ set(EXPECT))
    kinds = {f.split("/")[0] for f in files}
    assert kinds == {"scenarios", "observations", "targets", "config"}


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_bad_file_exit_2_one_line(rel: str, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    code = cli.main(command(rel, out))
    captured = capsys.readouterr()
    assert code == 2, captured.err
    check_error_line(captured.err, rel)
    assert captured.out == ""
    assert not out.exists() and list(tmp_path.iterdir()) == []


SUBPROCESS_SAMPLE = ["scenarios/negative_investment.toml", "observations/percent_over_100.csv"]


@pytest.mark.parametrize("rel", SUBPROCESS_SAMPLE)
def test_bad_file_in_a_real_process(rel: str, root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_dxsim(*command(rel, out), cwd=root)
    assert proc.returncode == 2, proc.stderr
    check_error_line(proc.stderr, rel)
    assert not out.exists()


def test_the_issue_example_message_exactly(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    rel = "scenarios/negative_investment.toml"
    assert cli.main(command(rel, tmp_path / "out")) == 2
    assert capsys.readouterr().err == (f"dxsim: error: tests/data/bad/{rel}: "
                                       "investment.long_an.broadband.2026: must be >= 0, got -5\n")


# ---- exit code 1 (internal error), --debug, output folder, memory guard ---------------------------------

def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_internal_error_exit_1_one_line(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    monkeypatch.setattr("dxsim.core.calibrate.Calibrator.fit", _boom)
    out = tmp_path / "out"
    args = ["run", "scenarios/baseline.toml", "--out", str(out), "--no-charts", "--draws", "20", "--refit"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err == "dxsim: internal error: RuntimeError: boom (run with --debug for details)\n"
    assert not out.exists()
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--debug", *args])
    assert not out.exists()


def test_debug_shows_the_input_error(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    with pytest.raises(InputError, match=r"investment\.long_an\.broadband\.2026"):
        cli.main(["--debug", *command("scenarios/negative_investment.toml", tmp_path / "out")])


def test_output_folder_not_written_by_dxsim_is_refused(tmp_path: Path) -> None:
    """--out naming a file, or a folder dxsim did not write, is refused and left untouched."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious", encoding="utf-8")
    for out, problem in ((a_file, "is not a folder"), (mine, "dxsim did not write")):
        with pytest.raises(InputError, match=problem), atomic_output_dir(out) as tmp:
            (tmp / "trajectories.csv").write_text("x", encoding="utf-8")
    assert a_file.read_text(encoding="utf-8") == "mine"
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents", "notes.txt"]


def test_memory_guard_refuses_a_huge_run(root: Path, tmp_path: Path) -> None:
    """A draw count that cannot fit in memory is refused with one line, exit 2, nothing written. The address
    space is capped so that the test can never eat the machine's memory if the guard regresses."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))

    out = tmp_path / "out"
    proc = run_dxsim("run", "scenarios/baseline.toml", "--draws", "100000000", "--out", str(out),
                     "--no-charts", cwd=root, preexec_fn=cap)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dxsim: error: ") and "memory" in lines[0], proc.stderr
    assert "draws" in lines[0]
    assert not out.exists()


def test_no_eval_exec_or_pickle_on_user_files() -> None:
    """User files are parsed as data only: no eval/exec/pickle anywhere in the package."""
    forbidden = re.compile(r"\b(eval|exec)\s*\(|\bpickle\b|allow_pickle\s*=\s*True|read_pickle|yaml\.load\(|"
                           r"\bmarshal\b|\bshelve\b")
    for path in sorted((ROOT / "src" / "dxsim").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        hits = [m.group(0) for m in forbidden.finditer(code)
                if m.group(0) != "pickle" or "no pickle" not in code[max(0, m.start() - 40):m.end()]]
        assert not hits, f"{path.name}: {hits}"
        for call in re.finditer(r"np\.load\(([^)]*)\)", code):
            assert "allow_pickle=False" in call.group(1), f"{path.name}: {call.group(0)}"


# ---- real-world files load ---------------------------------------------------------------------------

def _results(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes()
            for name in ("trajectories.csv", "target_probabilities.csv", "observations_used.csv")}


def test_bom_crlf_excel_copy_gives_byte_identical_results(root: Path, tmp_path: Path) -> None:
    """observations.csv saved by a Windows spreadsheet (BOM, CRLF, an empty trailing row, a blank line) gives
    the same bytes as the original."""
    text = (root / "calibration" / "observations.csv").read_text(encoding="utf-8")
    windows = tmp_path / "observations_windows.csv"
    windows.write_bytes(codecs.BOM_UTF8 + (text.replace("\n", "\r\n") + ",,,,,,,,,,\r\n\r\n").encode("utf-8"))
    runs = {}
    for name, obs in (("original", root / "calibration" / "observations.csv"), ("windows", windows)):
        out = tmp_path / name
        proc = run_dxsim("run", "scenarios/baseline.toml", "--observations", str(obs), "--out", str(out),
                         "--no-charts", "--draws", "100", "--seed", "3", cwd=root)
        assert proc.returncode == 0, proc.stderr
        runs[name] = _results(out)
    assert runs["windows"] == runs["original"]


@pytest.mark.parametrize("variant", ["semicolon_decimal_comma", "utf16_tab"])
def test_spreadsheet_exports_load_the_same(variant: str, root: Path, inputs, tmp_path: Path) -> None:
    """A semicolon-separated export with decimal commas (Vietnamese/European Excel) and Excel's "Unicode text"
    (UTF-16, tab-separated) load to the same table as the shipped CSV."""
    src = root / "calibration" / "observations.csv"
    with open(src, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    path = tmp_path / f"observations_{variant}.csv"
    if variant == "semicolon_decimal_comma":
        value = rows[0].index("value")
        for row in rows[1:]:
            row[value] = row[value].replace(".", ",")
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(rows)
    else:
        with open(path, "w", encoding="utf-16", newline="") as fh:
            csv.writer(fh, delimiter="\t", lineterminator="\r\n").writerows(rows)
    loaded = load_observations(inputs.config, path)
    pd.testing.assert_frame_equal(loaded, inputs.observations)
    assert any("Tính đến cuối năm 2023" in q for q in loaded["quote"])   # Vietnamese diacritics intact


def test_decimal_comma_value_is_read(root: Path, cfg, tmp_path: Path) -> None:
    """'12,5' in a value cell (quoted, as a CSV writer does) is 12.5; a semicolon file needs no quotes."""
    header = "geo,indicator,definition,year,period,release,value,unit,source_url,quote,note"
    row = 'long_an,fiber_household_share,subscription,2022,,,"12,5",%,https://example.org/synthetic,,SYNTHETIC'
    comma = tmp_path / "comma.csv"
    comma.write_text(f"{header}\n{row}\n", encoding="utf-8")
    semicolon = tmp_path / "semicolon.csv"
    semicolon.write_text(header.replace(",", ";") + "\n"
                         + "long_an;fiber_household_share;subscription;2022;;;12,5;%;https://example.org/s;;SYNTHETIC\n",
                         encoding="utf-8")
    for path in (comma, semicolon):
        assert load_observations(cfg, path)["value"].tolist() == [12.5]


def test_targets_with_bom_and_crlf_load_the_same(root: Path, inputs, tmp_path: Path) -> None:
    text = (root / "calibration" / "targets.csv").read_text(encoding="utf-8")
    path = tmp_path / "targets.csv"
    path.write_bytes(codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"))
    pd.testing.assert_frame_equal(load_targets(inputs.config, path), inputs.targets)


@pytest.mark.parametrize(("text", "value"), [
    ("12.5", 12.5), ("12,5", 12.5), ("-3,5", -3.5), ("1,300,000", 1300000.0), ("1.300.000", 1300000.0),
    ("1 300", 1300.0), ("1\u00a0300", 1300.0), ("1,300.5", 1300.5), ("1.300,5", 1300.5), ("0,25", 0.25),
    ("12,500", None), ("1,300", None), ("1.300", 1.3), ("1,2,3", None), ("n/a", None), ("55%", None),
    ("", None), ("+-5", None),
])
def test_parse_number(text: str, value: float | None) -> None:
    got = parse_number(text)
    if value is None:
        assert got is None
    else:
        assert got is not None and np.isclose(got, value)


@pytest.mark.parametrize(("text", "value"), [
    ("11,841", 11.841), ("12,5", 12.5), ("1.300,5", 1300.5), ("1.300.000,25", 1300000.25), ("12.5", 12.5),
    ("1300", 1300.0), ("-0,5", -0.5), ("1.300", None), ("1,2,3", None), ("+-5", None),
])
def test_parse_number_in_a_decimal_comma_file(text: str, value: float | None) -> None:
    got = parse_number(text, decimal_comma=True)
    if value is None:
        assert got is None
    else:
        assert got is not None and np.isclose(got, value)
