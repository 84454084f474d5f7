"""The CPUs a run uses: ``threads.usable_cpus`` follows the process's CPU affinity (taskset, cgroup cpusets), and a
run on one usable CPU draws its charts in its own process (no drawing process competing with the run)."""

from __future__ import annotations

import os

from dxsim.core import threads
from dxsim.outputs import chartserver


def test_usable_cpus_follow_the_affinity_else_the_cpu_count(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert threads.usable_cpus() == 1 and threads.threads_here() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert threads.usable_cpus() == 3 and threads.threads_here() == 3
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)           # macOS, Windows: the machine's CPUs
    assert threads.usable_cpus() == 64
    monkeypatch.setattr(os, "cpu_count", lambda: None)                     # unknown: one
    assert threads.usable_cpus() == 1


def test_one_usable_cpu_draws_the_charts_in_this_process(monkeypatch):
    def fork() -> int:
        raise AssertionError("a drawing process was forked")

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 1)
    writer = chartserver.chart_writer("en")
    assert callable(writer) and not isinstance(writer, chartserver.ChartProcess)
