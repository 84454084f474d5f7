"""An interrupted run leaves the previous complete results or none, never a mix, and no temporary folder.

Real ``dxsim run`` processes are stopped with SIGTERM during the simulation (before the temporary folder
exists) and with SIGINT while the files are written into the temporary folder (where a test-only pause holds
the run); a small script holding ``atomic_output_dir`` open is stopped with SIGTERM, SIGINT and SIGKILL. The
moment to signal is found by watching the process (its memory while it simulates, the temporary folder while it
writes), not by guessing a delay.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from dxsim.errors import InputError
from dxsim.outputs import marker
from dxsim.outputs.marker import MARKER
from dxsim.outputs.results import atomic_output_dir
from dxsim.pipeline import TEST_PAUSE_ENV

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
RESULT_FILES = ("trajectories.csv", "target_probabilities.csv", "all_targets_probabilities.csv",
                "fit_table.csv", "observations_used.csv", "manifest.json")


def default_sigint() -> None:
    """In the child: Ctrl-C acts even if the test runner was started with SIGINT ignored (background jobs)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def dxsim(*args: str, root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dxsim.cli", *args], cwd=root, env=ENV, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=default_sigint)


def rss_mib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def wait_until(proc: subprocess.Popen, ready, timeout: float = 120.0) -> bool:  # noqa: ANN001 - a callable
    """Poll until ``ready()`` (True) or the process ends (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():
            return True
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("the process never reached the point to interrupt")


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def read_complete(folder: Path) -> dict:
    """Every result file is there and parses; returns the manifest."""
    for name in RESULT_FILES:
        assert (folder / name).is_file(), name
    tr = pd.read_csv(folder / "trajectories.csv")
    tp = pd.read_csv(folder / "target_probabilities.csv")
    assert len(tr) > 0 and len(tp) > 0
    assert {"q05", "q50", "q95"} <= set(tr.columns) and {"probability", "mc_se"} <= set(tp.columns)
    assert tr[["q05", "q50", "q95"]].notna().all().all()
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def previous(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A complete run (seed 1) to be overwritten: its folder and the bytes of its files."""
    out = tmp_path_factory.mktemp("interrupt") / "res"
    proc = dxsim("run", "scenarios/baseline.toml", "--out", str(out), "--draws", "300", "--seed", "1",
                 "--no-charts", root=root)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return {"out": out, "files": {name: (out / name).read_bytes() for name in RESULT_FILES}}


def check_previous_or_new(previous: dict, expect_previous: bool) -> None:
    out = previous["out"]
    assert leftovers(out.parent, out.name) == []
    manifest = read_complete(out)
    if manifest["seed"] == 1:       # the previous results, byte for byte: nothing of the new run mixed in
        assert {name: (out / name).read_bytes() for name in RESULT_FILES} == previous["files"]
    else:
        assert not expect_previous, "the interrupted run replaced the results"
        assert manifest["seed"] == 2
        assert (out / "trajectories.csv").read_bytes() != previous["files"]["trajectories.csv"]


def test_sigterm_during_simulation(previous: dict, root: Path) -> None:
    """SIGTERM while simulating (its memory has grown well past start-up): the old results stay."""
    out = previous["out"]
    proc = dxsim("run", "scenarios/baseline.toml", "--out", str(out), "--draws", "40000", "--seed", "2",
                 "--no-charts", root=root)
    assert wait_until(proc, lambda: rss_mib(proc.pid) > 350), "finished before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err == "dxsim: terminated; no partial results are left behind\n"
    check_previous_or_new(previous, expect_previous=True)


def test_ctrl_c_while_writing_charts(previous: dict, root: Path) -> None:
    """Ctrl-C (SIGINT) while the files are being written into the temporary folder: the temporary folder is
    removed and the old results stay. The run pauses inside its temporary folder (the test-only
    ``DXSIM_TEST_PAUSE_WRITING``), so the signal always lands before the results are complete."""
    out = previous["out"]
    proc = subprocess.Popen([sys.executable, "-m", "dxsim.cli", "run", "scenarios/baseline.toml", "--out", str(out),
                             "--draws", "300", "--seed", "2"], cwd=root, env={**ENV, TEST_PAUSE_ENV: "120"},
                            text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=default_sigint)
    assert wait_until(proc, lambda: any((p / "trajectories.csv").exists()
                                        for p in out.parent.glob(f".{out.name}.tmp-*"))), proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == "dxsim: interrupted; no partial results are left behind\n"
    check_previous_or_new(previous, expect_previous=True)


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from dxsim.outputs.results import atomic_output_dir
    with atomic_output_dir(sys.argv[1]) as tmp:
        (tmp / "trajectories.csv").write_text("half,written\\n")
        print("inside", flush=True)
        time.sleep(120)
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_signal_inside_atomic_output_dir(tmp_path: Path, signum: int) -> None:
    """Deterministic: the writer is stopped for sure while its temporary folder is open."""
    dest = tmp_path / "res"
    with atomic_output_dir(dest) as tmp:
        (tmp / "trajectories.csv").write_text("old,complete\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(dest)], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    assert proc.stdout.readline() == "inside\n"
    assert len(leftovers(tmp_path, "res")) == 1            # the temporary folder exists now
    proc.send_signal(signum)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert (dest / "trajectories.csv").read_text(encoding="utf-8") == "old,complete\n"
    if signum == signal.SIGKILL:
        # Nothing can clean up after SIGKILL: the hidden temporary folder stays, the results are intact, and
        # the next write removes it.
        assert len(leftovers(tmp_path, "res")) == 1
        with atomic_output_dir(dest) as tmp:
            (tmp / "trajectories.csv").write_text("new,complete\n", encoding="utf-8")
        assert (dest / "trajectories.csv").read_text(encoding="utf-8") == "new,complete\n"
    assert leftovers(tmp_path, "res") == []


def test_error_inside_keeps_previous_and_cleans_up(tmp_path: Path) -> None:
    dest = tmp_path / "res"
    with pytest.raises(RuntimeError), atomic_output_dir(dest) as tmp:
        (tmp / "a.csv").write_text("x", encoding="utf-8")
        raise RuntimeError("half-way")
    assert not dest.exists() and list(tmp_path.iterdir()) == []
    with atomic_output_dir(dest) as tmp:
        (tmp / "a.csv").write_text("first", encoding="utf-8")
    for exc in (RuntimeError("half-way"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), atomic_output_dir(dest) as tmp:
            (tmp / "a.csv").write_text("second", encoding="utf-8")
            raise exc
        assert (dest / "a.csv").read_text(encoding="utf-8") == "first"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    assert sorted(p.name for p in dest.iterdir()) == sorted([MARKER, "a.csv"])


def test_results_folder_is_readable_by_others(tmp_path: Path) -> None:
    """The temporary folder (created private) gets the usual permissions before it becomes the results."""
    dest = tmp_path / "res"
    with atomic_output_dir(dest):
        pass
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o777 & ~umask


def test_previous_results_restored_after_a_kill_between_renames(tmp_path: Path) -> None:
    """A process killed between moving the old results aside and moving the new ones in left only the old
    folder: the next write starts by putting it back, so the previous results are never lost."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    old = tmp_path / f".res.old-{pid}"
    old.mkdir()
    (old / "manifest.json").write_text("{}", encoding="utf-8")
    marker.mark_folder(old)
    stale_tmp = tmp_path / f".res.tmp-{pid}-abc"
    stale_tmp.mkdir()
    marker.write_marker(stale_tmp, marker.new_marker(temp_for="res"))
    with pytest.raises(RuntimeError), atomic_output_dir(tmp_path / "res"):
        raise RuntimeError("stop before writing")
    assert (tmp_path / "res" / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_results_and_folders_inside_them_are_replaceable(tmp_path: Path) -> None:
    """A results folder (and e.g. its charts/ folder, re-drawn by ``dxsim plot``) can be replaced; a folder
    with only a manifest.json is not dxsim's (anyone can write one) and is refused."""
    dest = tmp_path / "res"
    with atomic_output_dir(dest) as tmp:
        (tmp / "charts").mkdir()
        (tmp / "charts" / "old.png").write_bytes(b"old")
        marker.mark_folder(tmp / "charts")
    with atomic_output_dir(dest / "charts", clean=True) as tmp:
        (tmp / "new.png").write_bytes(b"new")
    assert sorted(p.name for p in (dest / "charts").iterdir()) == sorted([MARKER, "new.png"])
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="dxsim did not write"), atomic_output_dir(legacy) as tmp:
        (tmp / "manifest.json").write_text('{"new": true}', encoding="utf-8")
    assert json.loads((legacy / "manifest.json").read_text(encoding="utf-8")) == {}
