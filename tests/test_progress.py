"""Progress bars: on stderr when it is a terminal (a pseudo-terminal here), absent when piped or with --quiet,
never on stdout or in the output files."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def run_dxsim(args: list[str], tty_stderr: bool) -> tuple[str, str]:
    """Run ``dxsim args`` with stdout piped and stderr a pseudo-terminal (or piped): (stdout, stderr)."""
    cmd = [sys.executable, "-m", "dxsim.cli", *args]
    env = {**os.environ, "COLUMNS": "100"}
    if not tty_stderr:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:                   # drain the terminal while the run writes, or it blocks on a full buffer
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:               # the child closed its end (EIO on Linux)
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, text=True, env=env, timeout=120)
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert done.returncode == 0, err
    return done.stdout, err


@pytest.fixture(scope="module")
def run_args(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("progress")
    return ["run", "scenarios/baseline.toml", "--draws", "50", "--no-charts", "--out", str(out / "run")]


def test_progress_shown_on_a_terminal(run_args):
    out, err = run_dxsim(run_args, tty_stderr=True)
    for stage in ("dxsim calibrate", "dxsim ensemble years", "dxsim targets", "dxsim outputs"):
        assert stage in err
    assert "year/s" in err or "s/year" in err          # counts with a rate and time left
    assert "ensemble years" not in out and "\r" not in out       # nothing of the bars on stdout


def test_progress_absent_when_piped_or_quiet(run_args, tmp_path):
    out, err = run_dxsim(run_args, tty_stderr=False)
    assert err == ""
    assert "ensemble years" not in out
    quiet = ["--quiet", *run_args[:-1], str(tmp_path / "quiet")]
    _, err = run_dxsim(quiet, tty_stderr=True)
    assert "dxsim calibrate" not in err and "ensemble years" not in err


def test_outputs_free_of_progress(run_args):
    run_dxsim(run_args, tty_stderr=True)
    folder = Path(run_args[-1])
    for csv in folder.glob("*.csv"):
        text = csv.read_text()
        assert "\r" not in text and "it/s" not in text and "ensemble years" not in text
