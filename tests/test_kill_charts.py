"""Chart worker processes die with their parent (issue 17, finding 4): ``dxsim plot`` (forked chart workers) is
killed with SIGKILL at 10 random moments while it draws; afterwards no process of it is left and the next
command removes every temporary folder. Processes are found by a tag in their environment (inherited by forks)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")


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


def test_kill_9_during_charts_leaves_no_process_and_no_temp_folder(root: Path, tmp_path: Path) -> None:
    if not Path("/proc/self/environ").exists():
        import pytest

        pytest.skip("needs /proc (Linux)")
    res = tmp_path / "res"
    made = subprocess.run([sys.executable, "-m", "dxsim.cli", "run", "scenarios/baseline.toml", "--draws", "20",
                           "--no-charts", "--out", str(res)], cwd=root, env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stderr
    tag = f"DXSIM_KILL_TEST={uuid.uuid4().hex}"
    env = dict(ENV, DXSIM_KILL_TEST=tag.split("=")[1])
    rng = random.Random(17)
    plot = [sys.executable, "-c", "import sys; import dxsim.outputs.charts as c; "
            "c.default_workers = lambda n: 2; from dxsim.cli import main; sys.exit(main(sys.argv[1:]))",
            "plot", str(res), "--format", "png"]
    for _ in range(10):
        proc = subprocess.Popen(plot, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not list(res.rglob(".charts.tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)                            # wait until it draws
        time.sleep(rng.uniform(0.0, 1.0))
        proc.kill()
        proc.wait()
        for _ in range(100):                            # the kernel delivers the workers' SIGKILL at once
            if not tagged(tag):
                break
            time.sleep(0.05)
        assert tagged(tag) == [], "chart workers outlived their killed parent"
    done = subprocess.run(plot, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert tagged(tag) == []
    assert [p for p in tmp_path.rglob("*") if ".tmp-" in p.name] == []
    assert (res / "charts" / "overview.png").is_file()
