"""Hostile and careless input (issue 17, findings 3 and 8; the schedule keys of issue 13): every accepted number
gives finite results, everything else is one line naming the file and field, exit 2. Scenario files are made by
each test in tmp_path."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dxsim import cli

PROGRAMME = """
[[programmes]]
name = "fast"
geo = "long_an"
indicator = "fiber_household_share"
budget_bn_vnd = 100
start = 2027
"""


def scenario(tmp_path: Path, body: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\ngeos = ["long_an", "vietnam"]\n' + textwrap.dedent(body), encoding="utf-8")
    return path


def run(root: Path, scen: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = cli.main(["run", str(scen), "--config", str(root / "calibration/config.toml"), "--draws", "40",
                     "--no-charts", "--out", str(out), *extra])
    return code, capsys.readouterr().err


def one_line(err: str, *parts: str) -> None:
    assert err.count("\n") == 1 and err.startswith("dxsim: error: ") and "Traceback" not in err, err
    for part in parts:
        assert part in err, err


@pytest.mark.parametrize(("body", "field"), [
    ("[investment]\nbroadband = 1e300\n", "investment.broadband: must be <= 1000, got 1e+300"),
    ("[investment]\nbroadband = { 2027 = 1e100 }\n", "investment.broadband.2027: must be <= 1000"),
    (PROGRAMME + "duration_years = 5e-324\neffect = { kind = \"step\", points = 5 }\n",
     "programmes[0].duration_years: must be >= 0.1, got 5e-324"),
    (PROGRAMME + "duration_years = 2\noverrun = { median = 5e-324, log_sd = 3 }\n"
     "effect = { kind = \"step\", points = 5 }\n", "programmes[0].overrun.median: must be >= 0.1"),
    (PROGRAMME.replace("100", "1e300") + "duration_years = 2\neffect = { kind = \"step\", points = 5 }\n",
     "programmes[0].budget_bn_vnd: must be <= 10000000"),
    ("draws = 1e7\n", "draws: must be a whole number written without a decimal point or exponent, got 10000000.0; "
     "write 10000000"),
    ("[investment]\nbroadband = { \"2027²\" = 1.5 }\n", "investment.broadband.2027²: must be a year in 2026-"
     "2030"),
    ("[investment]\nbroadband = { \"２０２７\" = 1.5 }\n", "(write four digits 0-9)"),
    ("[investment]\nbroadband = { 2027 = 1.5, 02027 = 0.5 }\n", "investment.broadband.02027: must be a year"),
    (PROGRAMME + "duration_years = 2\nyearly_release_bn_vnd = { \"2027²\" = 50 }\n"
     "effect = { kind = \"step\", points = 5 }\n", "programmes[0].yearly_release_bn_vnd.2027²: must be a year"),
    (PROGRAMME + "duration_years = 2\nyearly_release_bn_vnd = { 2027 = 50, \"２０２８\" = 50 }\n"
     "effect = { kind = \"step\", points = 5 }\n", "(write four digits 0-9)"),
    # "2025²" wherever a year is written: a geo's schedule, a bare key, a programme's start, an event's year
    ('[investment]\nlong_an = { broadband = { "2025²" = 1.5 } }\n', "investment.long_an.broadband.2025²: must be a "
     "year in 2026-2030, got '2025²'"),
    ("[investment]\nbroadband = { 2025² = 1.5 }\n", "line 4, column 19: not valid TOML"),
    (PROGRAMME.replace("start = 2027", 'start = "2025²"') + "duration_years = 2\neffect = { kind = \"step\", "
     "points = 5 }\n", "programmes[0].start: must be a whole number, got '2025²'"),
    ('[[events]]\nindicator = "fiber_household_share"\nyear = "2025²"\nceiling_lift = 2\n',
     "events[0].year: must be a whole number, got '2025²'"),
])
def test_out_of_bounds_numbers_and_bad_years_are_one_line_errors(body: str, field: str, root: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    scen = scenario(tmp_path, body)
    code, err = run(root, scen, tmp_path / "out", capsys)
    assert code == 2
    one_line(err, str(scen), field)
    assert not (tmp_path / "out").exists()


def test_extreme_accepted_inputs_give_finite_results(root: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The largest multiple, the shortest programme with the widest overrun: no NaN, probabilities in [0, 1],
    and the speed-up programme never lowers a probability."""
    body = ("[investment]\nbroadband = 1000\ndigital_government = 0\n" + PROGRAMME +
            "duration_years = 0.1\noverrun = { median = 0.1, log_sd = 3 }\n"
            "effect = { kind = \"speed_multiplier\", multiplier = 10 }\n")
    out = tmp_path / "out"
    code, err = run(root, scenario(tmp_path, body), out, capsys)
    assert code == 0, err
    assert err == ""                                      # no numpy warnings either
    tr = pd.read_csv(out / "trajectories.csv")
    assert np.isfinite(tr.select_dtypes("number").to_numpy()).all()
    tp = pd.read_csv(out / "target_probabilities.csv")
    p = tp.loc[tp["evaluable"], "probability"]
    assert p.notna().all() and p.between(0, 1).all()
    prog = pd.read_csv(out / "programmes.csv", na_values=["none"]).dropna(subset=["probability_delta"])
    assert (prog["probability_delta"] >= 0).all()


def test_a_nan_reaching_the_outputs_fails_loudly(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Should a NaN ever reach the trajectories, the run stops with exit 1 naming the stage; nothing written."""
    from dxsim.core.paths import Ensemble

    original = Ensemble.trajectories

    def poisoned(self):  # noqa: ANN001, ANN202
        frame = original(self)
        frame.loc[frame.index[3], "q50"] = np.nan
        return frame

    monkeypatch.setattr(Ensemble, "trajectories", poisoned)
    code, err = run(root, scenario(tmp_path, ""), tmp_path / "out", capsys)
    assert code == 1 and err.count("\n") == 1 and "ensemble (trajectories.csv)" in err and "NaN" in err, err
    assert not (tmp_path / "out").exists()


def test_dev_zero_and_utf16_without_bom(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(root, Path("/dev/zero"), tmp_path / "out", capsys)
    assert code == 2
    one_line(err, "/dev/zero: is a device, not a text file")
    u16 = tmp_path / "u16.toml"
    u16.write_bytes('name = "x"\n'.encode("utf-16-le"))
    code, err = run(root, u16, tmp_path / "out", capsys)
    assert code == 2 and "\x00" not in err
    one_line(err, f"{u16}: line 1: contains NUL bytes", "UTF-8")


@pytest.mark.parametrize("args", [["run", "--draws", "5", "x.toml"], ["run"], ["frobnicate"], ["run", "--bogus"],
                                  ["report", "--lang", "fr", "r"]])
def test_option_errors_are_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    one_line(err, "--help")
    assert "usage:" not in err


@pytest.mark.parametrize(("args", "line"), [
    (["run", "x.toml", "--bogus"], "dxsim: error: command line: unrecognized arguments: --bogus (see dxsim run "
     "--help)\n"),
    (["--bogus", "run", "x.toml"], "dxsim: error: command line: unrecognized arguments: --bogus (see dxsim run "
     "--help)\n"),
    (["--bogus"], "dxsim: error: command line: the following arguments are required: COMMAND (see dxsim --help)\n"),
    (["run", "--draws", "5", "x.toml"], "dxsim: error: command line: argument --draws: must be >= 10 (as in a "
     "scenario file), got 5 (see dxsim run --help)\n")])
def test_option_errors_name_the_program_once(args: list[str], line: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(args) == 2
    assert capsys.readouterr().err == line


def test_disk_errors_name_the_users_folder(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A full disk or a read-only folder: one line naming --out (never the hidden temporary folder), exit 2."""
    import errno

    import dxsim.outputs.results as results

    real = results.write_csv

    def full(frame, path, **_kw):  # noqa: ANN001, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(results, "write_csv", full)
    monkeypatch.setattr("dxsim.pipeline.write_csv", full)
    out = tmp_path / "out"
    code, err = run(root, scenario(tmp_path, ""), out, capsys)
    assert code == 2
    one_line(err, f"{out}: cannot write the results: No space left on device")
    assert ".tmp-" not in err and sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
    monkeypatch.setattr("dxsim.pipeline.write_csv", real)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, err = run(root, scenario(tmp_path, ""), locked / "out", capsys)
    finally:
        locked.chmod(0o700)
    import os
    if os.geteuid() != 0:                                 # root may write anywhere
        assert code == 2
        one_line(err, str(locked / "out"))
        assert ".tmp-" not in err


# ---- finding 7: CSV formula injection --------------------------------------------------------------------

def test_neutralise_formulas_follows_the_owasp_rule(tmp_path: Path) -> None:
    from dxsim.outputs.results import neutralise_formulas, write_csv

    assert neutralise_formulas(pd.DataFrame({"t": ["\rx", "x"]}))["t"].tolist() == ["'\rx", "x"]
    frame = pd.DataFrame({"text": ["=HYPERLINK(\"http://x\")", "+1+1", "-5.2", "@SUM(A1)", "\tx", "-cmd|x",
                                   "plain", "1e5"],
                          "number": [-1.5, 2.0, -3.0, 0.0, 1.0, 2.0, 3.0, 4.0]})
    write_csv(frame, tmp_path / "x.csv")
    back = pd.read_csv(tmp_path / "x.csv", keep_default_na=False)
    assert back["text"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1+1", "-5.2", "'@SUM(A1)", "'\tx",
                                     "'-cmd|x", "plain", "1e5"]
    assert back["number"].dtype == float and back["number"].iloc[0] == -1.5


def test_formula_cells_from_inputs_are_neutralised_in_results(root: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A quote and a target document starting with '=' or '@' (made here from copies of the shipped files) reach
    observations_used.csv and target_probabilities.csv prefixed with a quote."""
    obs = pd.read_csv(root / "calibration/observations.csv", dtype=str, keep_default_na=False)
    used = obs.index[(obs["geo"] == "long_an") & (obs["indicator"] == "fiber_household_share")][0]
    obs.loc[used, "quote"] = "=HYPERLINK(\"http://evil\",\"x\")"
    tg = pd.read_csv(root / "calibration/targets.csv", dtype=str, keep_default_na=False)
    row = tg.index[tg["geo"] == "long_an"][0]
    tg.loc[row, "document"] = "@SUM(1+1)*cmd"
    obs.to_csv(tmp_path / "obs.csv", index=False)
    tg.to_csv(tmp_path / "targets.csv", index=False)
    out = tmp_path / "out"
    code, err = run(root, scenario(tmp_path, ""), out, capsys, "--observations", str(tmp_path / "obs.csv"),
                    "--targets", str(tmp_path / "targets.csv"))
    assert code == 0, err
    text = (out / "observations_used.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and "\"=HYPERLINK" not in text
    tp = (out / "target_probabilities.csv").read_text(encoding="utf-8")
    assert "'@SUM(1+1)*cmd" in tp and ",@SUM" not in tp


# ---- finding 8: tampered results folders -----------------------------------------------------------------

@pytest.fixture(scope="module")
def made(small_run, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001 - the session fixture
    """A copy of the session's 20-draw baseline run (``dxsim run ... --no-charts``)."""
    return small_run(tmp_path_factory.mktemp("made") / "res")


def tampered(made: Path, tmp_path: Path, change) -> Path:  # noqa: ANN001
    import shutil

    folder = tmp_path / "t"
    shutil.copytree(made, folder)
    tr = pd.read_csv(folder / "trajectories.csv")
    change(tr).to_csv(folder / "trajectories.csv", index=False)
    return folder


def test_tampered_results_are_one_line_errors(made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dup = tampered(made, tmp_path / "a", lambda tr: pd.concat([tr, tr[tr["year"] == 2025].iloc[[0]]]))
    assert cli.main(["report", str(dup), "--out", str(tmp_path / "r.html")]) == 2
    one_line(capsys.readouterr().err, str(dup / "trajectories.csv"), "repeats the row")

    def extra_geo(tr: pd.DataFrame) -> pd.DataFrame:
        row = tr.iloc[[0]].copy()
        row["geo"] = "atlantis"
        return pd.concat([tr, row])

    unknown = tampered(made, tmp_path / "b", extra_geo)
    assert cli.main(["plot", str(unknown), "--format", "svg"]) == 2
    one_line(capsys.readouterr().err, str(unknown / "trajectories.csv"), "geo atlantis")
    assert not (tmp_path / "r.html").exists()


def test_report_reads_only_files_inside_the_results_folder(made: Path, tmp_path: Path) -> None:
    """A manifest naming a targets file elsewhere (here a made-up one) is not read; the folder's own copy is."""
    import json
    import shutil

    from dxsim.outputs.report import write_report

    folder = tmp_path / "res"
    shutil.copytree(made, folder)
    outside = tmp_path / "outside.csv"
    outside.write_text("geo,document,source_url\nlong_an,SECRET-OUTSIDE-DOCUMENT,https://x.invalid\n",
                       encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["targets"]["file"] = str(outside)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    html = write_report([folder], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "SECRET-OUTSIDE-DOCUMENT" not in html
    own = pd.read_csv(folder / "targets_used.csv")
    assert own["document"].iloc[0] in html.replace("&#x27;", "'").replace("&amp;", "&")


def test_the_dxsim_process_starts_without_collector_passes_and_runs_with_them(monkeypatch: pytest.MonkeyPatch
                                                                               ) -> None:
    """`dxsim` itself (``entry``, the console script): the command's modules are imported with the garbage
    collector off, then frozen out of its reach, and the command runs with the collector on; a caller's main(),
    with or without argv (a test, a library, a notebook), leaves the collector alone."""
    import gc
    import tomllib

    from dxsim.cli import run as run_cli

    seen = []

    def command(args: object) -> int:
        seen.append((gc.isenabled(), gc.get_freeze_count(), "dxsim.pipeline" in sys.modules))
        return 0

    monkeypatch.setattr(run_cli, "cmd_run", command)
    frozen = gc.get_freeze_count()
    try:
        assert cli.main(["run", "x.toml"]) == 0
        assert seen[-1][:2] == (True, frozen) and gc.get_freeze_count() == frozen
        monkeypatch.setattr(sys, "argv", ["dxsim", "run", "x.toml"])
        assert cli.main() == 0
        assert seen[-1][:2] == (True, frozen) and gc.get_freeze_count() == frozen
        with pytest.raises(SystemExit) as ended:
            cli.entry()
        enabled, during, imported = seen[-1]
        assert ended.value.code == 0 and enabled and during > frozen and imported and gc.isenabled()
        monkeypatch.setattr(sys, "argv", ["dxsim", "run", "x.toml", "--bogus"])
        with pytest.raises(SystemExit) as ended:
            cli.entry()
        assert ended.value.code == 2 and gc.isenabled()          # also after a start-up that failed
        scripts = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
        assert scripts == {"dxsim": "dxsim.cli:entry"}
    finally:
        gc.unfreeze()
