"""The results-folder lifecycle (issue 17, findings 1 and 2): dxsim replaces only folders that carry its own
marker, never deletes a file it did not write, keeps files other dxsim commands wrote unless --clean, and
validates names before any work. Every folder here is made by the test in tmp_path."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dxsim import cli
from dxsim.errors import InputError
from dxsim.inputs.validate import check_name
from dxsim.outputs import marker, results
from dxsim.outputs.marker import MARKER
from dxsim.outputs.results import atomic_output_dir

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> text), markers left out."""
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MARKER}


def write_results(dest: Path, files: dict[str, str], clean: bool = False) -> None:
    with atomic_output_dir(dest, clean=clean) as tmp:
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")
            if rel.startswith("charts/"):
                marker.mark_folder(tmp / "charts")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(args)
    return code, capsys.readouterr().err


# ---- finding 1: --out never deletes user data ----------------------------------------------------------

@pytest.mark.parametrize("decoy", ["manifest.json", "fit_table.csv", ".dxsim-results"])
def test_user_folder_with_a_results_file_name_is_refused(decoy: str, root: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`mkdir -p webapp/src; echo '{}' > webapp/manifest.json; echo x > webapp/index.html; dxsim run ...
    --out webapp` used to delete index.html and src/. A file named like dxsim's does not make a folder dxsim's
    (nor does an old plain-text marker)."""
    webapp = tmp_path / "webapp"
    (webapp / "src").mkdir(parents=True)
    (webapp / decoy).write_text("{}\n", encoding="utf-8")
    (webapp / "index.html").write_text("x\n", encoding="utf-8")
    (webapp / "thesis.docx").write_text("precious\n", encoding="utf-8")
    before = tree(webapp) | {"src/": "dir"}
    code, err = run_cli(["run", str(root / "scenarios/baseline.toml"), "--draws", "20", "--no-charts",
                         "--out", str(webapp)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and str(webapp) in err and "dxsim did not write" in err
    assert tree(webapp) | {"src/": "dir"} == before and (webapp / "src").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["webapp"]


def test_a_parent_marker_does_not_make_a_child_folder_dxsims(tmp_path: Path) -> None:
    """`--out webapp2/src` (only the parent has manifest.json) and `--out results/baseline/mynotes` (a user
    folder inside a real results folder) are refused; the results folder and the user folder stay intact."""
    webapp2 = tmp_path / "webapp2"
    (webapp2 / "src").mkdir(parents=True)
    (webapp2 / "manifest.json").write_text("{}", encoding="utf-8")
    (webapp2 / "src" / "app.js").write_text("js", encoding="utf-8")
    baseline = tmp_path / "results" / "baseline"
    write_results(baseline, {"trajectories.csv": "t"})
    (baseline / "mynotes").mkdir()
    (baseline / "mynotes" / "n.txt").write_text("notes", encoding="utf-8")
    for out in (webapp2 / "src", baseline / "mynotes"):
        before = tree(out.parent)
        with pytest.raises(InputError, match="dxsim did not write"), atomic_output_dir(out) as tmp:
            (tmp / "trajectories.csv").write_text("new", encoding="utf-8")
        assert tree(out.parent) == before


def test_rerun_keeps_user_files_and_other_commands_files_unless_clean(tmp_path: Path) -> None:
    """A user's notes, a user folder inside the results folder and a user file inside charts/ survive every
    re-run; report.html (recorded by `dxsim report`) and another chart folder survive unless --clean."""
    res = tmp_path / "baseline"
    write_results(res, {"trajectories.csv": "v1", "charts/fan_a.png": "png1", "charts/fan_old.png": "old"})
    (res / "notes.txt").write_text("mine", encoding="utf-8")
    (res / "mynotes").mkdir()
    (res / "mynotes" / "n.txt").write_text("nested", encoding="utf-8")
    (res / "charts" / "my_edit.txt").write_text("user in charts", encoding="utf-8")
    (res / "report.html").write_text("<html>report</html>", encoding="utf-8")
    marker.record_written(res, "report.html")
    write_results(res / "charts-vi", {"fan_a.png": "vi"})
    assert marker.written_by_dxsim(res / "report.html") and not marker.written_by_dxsim(res / "notes.txt")

    write_results(res, {"trajectories.csv": "v2", "charts/fan_a.png": "png2"})
    assert tree(res) == {"trajectories.csv": "v2", "charts/fan_a.png": "png2", "charts/fan_old.png": "old",
                         "charts/my_edit.txt": "user in charts", "notes.txt": "mine", "mynotes/n.txt": "nested",
                         "report.html": "<html>report</html>", "charts-vi/fan_a.png": "vi"}
    assert marker.written_by_dxsim(res / "report.html") and not marker.written_by_dxsim(res / "notes.txt")
    assert marker.is_results_folder(res / "charts-vi") and marker.is_results_folder(res / "charts")

    write_results(res, {"trajectories.csv": "v3", "charts/fan_a.png": "png3"}, clean=True)
    assert tree(res) == {"trajectories.csv": "v3", "charts/fan_a.png": "png3", "charts/my_edit.txt": "user in charts",
                         "notes.txt": "mine", "mynotes/n.txt": "nested"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]     # no temporary or old folder left


def test_user_file_where_new_results_go_is_refused(tmp_path: Path) -> None:
    """A file dxsim did not write, at a name the new results need, stops the write; nothing changes."""
    res = tmp_path / "res"
    write_results(res, {"a.csv": "1"})
    (res / "b.csv").write_text("user's b", encoding="utf-8")
    before = tree(res)
    with pytest.raises(InputError, match="was not written by dxsim"):
        write_results(res, {"a.csv": "2", "b.csv": "dxsim's b"})
    assert tree(res) == before and sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_marker_carries_the_run_identity(tmp_path: Path) -> None:
    write_results(tmp_path / "a", {"x.csv": "1"})
    write_results(tmp_path / "b", {"x.csv": "1"})
    a, b = (json.loads((tmp_path / k / MARKER).read_text(encoding="utf-8")) for k in "ab")
    assert a["written_by"] == "dxsim" and a["files"] == ["x.csv"] and a["created_utc"] and a["dxsim_version"]
    assert a["run_id"] != b["run_id"] and "temp_for" not in a


def test_folders_named_like_temporary_ones_are_not_touched(tmp_path: Path) -> None:
    """A user's folder named like a temporary or old results folder of a dead process is left alone."""
    for name in (".res.tmp-999999-x", ".res.old-999999"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep.txt").write_text("mine", encoding="utf-8")
    write_results(tmp_path / "res", {"a.csv": "1"})
    for name in (".res.tmp-999999-x", ".res.old-999999"):
        assert (tmp_path / name / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_mode_of_an_empty_existing_out_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "private"
    out.mkdir(mode=0o700)
    os.chmod(out, 0o700)
    write_results(out, {"a.csv": "1"})
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


def test_stale_report_temp_files_are_removed(tmp_path: Path) -> None:
    """`.report.html.tmp-<pid>-*` files of killed report runs are removed; a live process's and a user's stay."""
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)
    stale = tmp_path / f".report.html.tmp-{dead}-abc123"
    live = tmp_path / f".report.html.tmp-{os.getpid()}-abc123"
    user = tmp_path / ".report.html.tmp-notes"
    for p in (stale, live, user):
        p.write_text("x", encoding="utf-8")
    results.remove_stale_files(tmp_path, ".report.html.tmp-")
    assert not stale.exists() and live.exists() and user.exists()


# ---- finding 2: names are file names, checked before any work -----------------------------------------

@pytest.mark.parametrize("name", [".", "..", ".baseline", ".baseline.tmp-999999-x", "a/b", "a\\b", "x" * 240,
                                  "", "a b"])
def test_bad_scenario_names_are_refused_before_simulating(name: str, root: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    scen = tmp_path / "s.toml"
    scen.write_text(f"name = {json.dumps(name)}\n", encoding="utf-8")
    monkeypatch.setattr("dxsim.core.calibrate.Calibrator.fit", lambda *a, **k: pytest.fail("simulated"))
    code, err = run_cli(["run", str(scen), "--config", str(root / "calibration/config.toml"), "--draws", "20",
                         "--no-charts"], capsys)
    assert code == 2 and err.count("\n") == 1 and f"{scen}: name: " in err, err
    assert ".tmp-" not in err.replace(name, "") and sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_check_name_accepts_ordinary_names() -> None:
    for name in ("baseline", "accelerated-2030", "v1.2_long", "tăng_tốc"):
        assert check_name("f", "name", name) == name


def test_geo_id_with_a_slash_is_refused(root: Path, tmp_path: Path) -> None:
    """A custom geos file with a geo id like ``a/b`` (it names chart files) is refused naming the file."""
    from dxsim.inputs.config import load_config
    from dxsim.inputs.observations import known_geos

    cfg = load_config(root / "calibration" / "config.toml")
    geos = tmp_path / "geos.csv"
    text = cfg.geos_file.read_text(encoding="utf-8").splitlines()
    header, first = text[0], text[1].split(",")
    col = header.split(",").index("old_province")
    first[col] = "a/b"
    geos.write_text("\n".join([header, ",".join(first), *text[2:]]) + "\n", encoding="utf-8")
    from dataclasses import replace

    with pytest.raises(InputError, match=r"geos\.csv: old_province: .*'a/b'"):
        known_geos(replace(cfg, geos_file=geos))


def test_a_users_file_named_like_the_marker_inside_results_is_kept(tmp_path: Path) -> None:
    res = tmp_path / "res"
    write_results(res, {"a.csv": "1"})
    (res / "old").mkdir()
    (res / "old" / MARKER).write_text("written by dxsim; dxsim may replace this folder\n", encoding="utf-8")
    (res / "old" / "t.csv").write_text("old run", encoding="utf-8")
    write_results(res, {"a.csv": "2"}, clean=True)
    assert tree(res) == {"a.csv": "2", "old/t.csv": "old run"} and (res / "old" / MARKER).is_file()
