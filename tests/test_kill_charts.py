"""Chart worker processes die with their parent (issue 17, finding 4): ``dxsim plot`` (forked chart workers) is
killed with SIGKILL at known moments while it draws, each signalled by the plot process itself (no timing loop):
(1) a worker is forked but has not yet asked the kernel to kill it with its parent, (2) every worker is in the
middle of a chart while the parent draws its own. Afterwards no process of it is left and the next command
removes every temporary folder. Processes are found by a tag in their environment (inherited by forks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
WORKERS = 2
# ``dxsim plot`` with two chart workers; with DXSIM_KILL_AT set, the workers announce a moment by a file in
# DXSIM_KILL_SIGNALS and hold there until the test has killed the plot process:
#   "fork": a worker, before its _die_with_parent check, waits until its parent is gone (the fork/prctl race);
#   "draw": a worker, on taking a chart, sleeps (a slow chart) so that it is busy when the parent dies.
PLOT = f"""
import os, sys, time
from pathlib import Path
import dxsim.outputs.charts as c
c.default_workers = lambda n: {WORKERS}
at, signals = os.environ.get("DXSIM_KILL_AT"), Path(os.environ.get("DXSIM_KILL_SIGNALS", "."))
def _announce(what):
    (signals / f"{{what}}-{{os.getpid()}}").write_text("")
if at == "fork":
    _die = c._die_with_parent
    def _die_with_parent(parent):
        _announce("fork")
        deadline = time.monotonic() + 60
        while os.getppid() == parent and time.monotonic() < deadline:
            time.sleep(0.01)
        _die(parent)
    c._die_with_parent = _die_with_parent
elif at == "draw":
    _draw = c._draw_in_worker
    def _draw_in_worker(job):
        _announce("draw")
        time.sleep(60)
        return _draw(job)
    _draw_in_worker.__qualname__ = _draw_in_worker.__name__    # pickled by name: the patched one
    c._draw_in_worker = _draw_in_worker
from dxsim.cli import main
sys.exit(main(sys.argv[1:]))
"""

def tagged(tag: str) -> list[int]:
    """PIDs of live processes whose environment carries ``tag``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if tag.encode() in (proc / "environ").read_bytes():
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


def _wait_for(signals: Path, count: int, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    """Wait until ``count`` announcements are in ``signals`` (the plot process still running)."""
    deadline = time.monotonic() + timeout
    while len(list(signals.iterdir())) < count:
        assert proc.poll() is None, f"plot ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.01)


def test_kill_9_during_charts_leaves_no_process_and_no_temp_folder(small_run: Path, tmp_path: Path) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc (Linux)")
    res = small_run(tmp_path / "res")
    tag = uuid.uuid4().hex
    env = dict(ENV, DXSIM_KILL_TEST=tag)
    plot = [sys.executable, "-c", PLOT, "plot", str(res), "--format", "png"]
    try:
        for at in ("fork", "draw"):
            signals = tmp_path / f"signals-{at}"
            signals.mkdir()
            proc = subprocess.Popen(plot, env=dict(env, DXSIM_KILL_AT=at, DXSIM_KILL_SIGNALS=str(signals)),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if at == "fork":
                _wait_for(signals, 1, proc, "forked worker")
            else:          # both workers inside a chart (the parent draws the charts from the front meanwhile)
                _wait_for(signals, WORKERS, proc, "busy workers")
            workers = tagged(tag)
            assert len(workers) > 1, f"{at}: the plot process and its workers are running"
            assert list(res.rglob(".charts.tmp-*")), f"{at}: killed while its temporary folder exists"
            proc.kill()
            proc.wait()
            for _ in range(100):                            # the kernel delivers the workers' SIGKILL at once
                if not tagged(tag):
                    break
                time.sleep(0.05)
            assert tagged(tag) == [], f"{at}: chart workers outlived their killed parent"
        # the next command (its own two workers; a few charts suffice) removes the killed ones' temporary folders
        done = subprocess.run([*plot, "--geo", "vietnam"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert tagged(tag) == []
        assert [p for p in tmp_path.rglob("*") if ".tmp-" in p.name] == []
        assert list((res / "charts").glob("fan_vietnam_*.png"))
    finally:                                            # a failure leaves no process behind either
        for pid in tagged(tag):
            os.kill(pid, signal.SIGKILL)
