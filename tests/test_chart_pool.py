"""The pool of drawing processes of ``charts.draw_all``: where no process can be forked the charts are drawn in this
process (the same files), and an error in a drawing process is one line naming the chart, with that process's
traceback as its cause (what ``--debug`` shows). The failing fork and the failing chart function are made up here."""

from __future__ import annotations

import multiprocessing
import os
import traceback

import pytest

from dxsim import cli
from dxsim.outputs import charts
from dxsim.outputs.charts import draw_all, read_run, run_jobs


def _no_fork() -> int:
    raise BlockingIOError(11, "Resource temporarily unavailable")


@pytest.fixture
def few(small_run, tmp_path):
    """A 20-draw baseline run's tables and three of its fan charts."""
    tables = read_run(small_run(tmp_path / "run"))
    return tables, run_jobs(tables, ["hau_giang"])[:3]


def _same_files(drawn, expected) -> None:
    assert sorted(p.name for p in drawn) == sorted(p.name for p in expected) and expected
    for path in expected:
        assert next(p for p in drawn if p.name == path.name).read_bytes() == path.read_bytes(), path.name


def test_charts_are_drawn_here_when_no_drawing_process_can_be_forked(few, tmp_path, monkeypatch):
    tables, jobs = few
    serial = draw_all(tables, jobs, tmp_path / "serial", formats=("svg",), workers=0)
    monkeypatch.setattr(os, "fork", _no_fork)
    _same_files(draw_all(tables, jobs, tmp_path / "here", formats=("svg",), workers=2), serial)


def test_a_fork_that_fails_after_one_succeeded_leaves_no_process(few, tmp_path, monkeypatch):
    tables, jobs = few
    serial = draw_all(tables, jobs, tmp_path / "serial", formats=("svg",), workers=0)
    real_fork, pids = os.fork, []

    def second_fails() -> int:
        if pids:
            _no_fork()
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    before = set(multiprocessing.active_children())
    monkeypatch.setattr(os, "fork", second_fails)
    _same_files(draw_all(tables, jobs, tmp_path / "here", formats=("svg",), workers=2), serial)
    assert len(pids) == 1 and set(multiprocessing.active_children()) <= before
    with pytest.raises(ChildProcessError):             # killed and reaped
        os.waitpid(pids[0], os.WNOHANG)


def _fail_in_drawing_processes(monkeypatch) -> None:
    """Fan charts that raise in a drawing process; in this process they wait until one has raised, then draw
    nothing (so the pool, not this process, meets the error)."""
    parent = os.getpid()
    raised = multiprocessing.get_context("fork").Event()

    def broken_chart(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if os.getpid() != parent:
            raised.set()
            raise ValueError("made up for this test")
        raised.wait(120)
        return None

    monkeypatch.setattr(charts, "fan_chart", broken_chart)


def test_an_error_in_a_drawing_process_is_one_line_with_its_traceback_as_cause(few, tmp_path, monkeypatch):
    tables, jobs = few
    _fail_in_drawing_processes(monkeypatch)
    with pytest.raises(RuntimeError) as raised:
        draw_all(tables, jobs, tmp_path / "charts", formats=("svg",), workers=1)
    line = str(raised.value)
    assert line.startswith("chart fan_hau_giang_") and line.endswith("ValueError: made up for this test")
    assert "\n" not in line
    shown = "".join(traceback.format_exception(raised.value))
    assert "in broken_chart" in shown and "in _draw_in_worker" in shown, shown


def test_the_command_line_shows_the_drawing_processs_traceback_only_with_debug(small_run, tmp_path, monkeypatch,
                                                                                  capsys):
    folder = small_run(tmp_path / "run")
    everything = charts.run_jobs
    monkeypatch.setattr(charts, "run_jobs", lambda tables, geos=None, indicators=None: everything(
        tables, ["hau_giang"], indicators)[:3])
    monkeypatch.setattr(charts, "default_workers", lambda n_jobs: 1)
    _fail_in_drawing_processes(monkeypatch)
    assert cli.main(["plot", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "chart fan_hau_giang_" in err and "ValueError: made up for this test" in err, err
    with pytest.raises(RuntimeError) as raised:
        cli.main(["--debug", "plot", str(folder)])
    assert "in broken_chart" in "".join(traceback.format_exception(raised.value))
