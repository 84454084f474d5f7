"""``dxsim run``'s charts drawn by a process forked when the run starts: it imports the drawing code (matplotlib,
about half a second of CPU) on the spare CPU while this process reads the inputs and simulates, then draws the
charts of the tables this process wrote (``charts.draw_run_charts``, with its own drawing helpers on the other
CPUs), so that the run itself never imports matplotlib. Where processes cannot be forked, or the drawing process
died, the charts are drawn in this process. This module imports nothing of matplotlib.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import sys
import time
import traceback
import weakref
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

STOP_SECONDS = 2.0          # how long stopping the drawing process waits for it to end before killing it


def die_with_parent(parent: int) -> None:
    """Linux: this process gets SIGKILL when its parent dies, however it dies (kill -9, out of memory), so a
    drawing process never lingers blocked on the pipe of a dead parent; if the parent is already gone, exit now."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)            # PR_SET_PDEATHSIG
    except (OSError, AttributeError):                       # not Linux/glibc: the pipe's end-of-file remains
        pass
    if os.getppid() != parent:
        os._exit(1)


def _serve(conn: Connection, parent: int, lang: str) -> None:
    """The drawing process: import and warm up, wait for (results folder, manifest, config), draw, reply None or
    the error and its traceback."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C is the run's to handle: it stops this process
    # SIGTERM (from the run) ends this process at once, wherever it is (a Python handler's exception would be
    # ignored inside a finalizer); its helpers die with it and the run removes its temporary folder
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from dxsim.outputs import chart_keys, charts

    chart_keys.code_key()                               # hashes dxsim's code: cached for the chart keys
    charts.warm_up(lang)
    try:
        folder, manifest, config = conn.recv()
    except EOFError:                                    # the run ended without charts (an error, Ctrl-C)
        return
    reply: tuple | None = None
    try:
        charts.draw_run_charts(Path(folder), manifest, config, lang)
    except BaseException as exc:  # noqa: BLE001 - re-raised by the run
        reply = (type(exc), exc.args, vars(exc), traceback.format_exc())
    try:
        conn.send(reply)
    except Exception:  # noqa: BLE001 - an error that does not pickle: sent as its text
        conn.send((RuntimeError, (f"{reply[0].__name__}: {reply[1]}",), {}, reply[3]))


class ChartProcessError(Exception):
    """The traceback of an error raised in the drawing process: the cause of the error the run raises, so that
    ``--debug`` shows where the chart failed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"in the chart process:\n{self.text.rstrip()}"


def _error(kind: type[BaseException], args: tuple, state: dict[str, Any], trace: str) -> BaseException:
    """The drawing process's error as raised there: its class, arguments and attributes (InputError's source,
    where, problem), without calling its ``__init__``, whose arguments are not its ``args``; its traceback there
    as its cause."""
    error = kind.__new__(kind, *args)
    error.args = args
    error.__dict__.update(state)
    error.__cause__ = ChartProcessError(trace)
    return error


def _ended(pid: int, seconds: float) -> bool:
    """Whether the child ``pid`` ended (and was reaped) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while os.waitpid(pid, os.WNOHANG)[0] == 0:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


def _stop(pid: int, conn: Connection, kill: bool) -> None:
    """Close the pipe, stop the drawing process (``kill``: SIGTERM, which stops its helpers too) and reap it;
    killed if it has not ended after ``STOP_SECONDS``."""
    conn.close()
    try:
        if kill:
            os.kill(pid, signal.SIGTERM)
        if not _ended(pid, STOP_SECONDS):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _draw_here(result: Any, folder: Path, lang: str) -> None:
    from dxsim.outputs.charts import write_run_charts

    write_run_charts(result, folder, lang)


class ChartProcess:
    """The run's chart writer (called as ``writer(result, folder)`` inside the run's temporary folder), drawing in
    the process forked when this object is made (drawing here if none can be forked)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._conn, child = multiprocessing.Pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:                             # no process to be had (a process limit, memory): draw here
            self._conn.close()
            child.close()
            self.pid = None
            return
        if pid == 0:                                # the drawing process: never returns into the run's code
            try:
                self._conn.close()
                _serve(child, parent, lang)
            finally:
                os._exit(0)
        child.close()
        self.pid = pid
        # a run that ends before its charts (an error, Ctrl-C) stops the process when this object goes
        self._kill = weakref.finalize(self, _stop, pid, self._conn, True)

    def __call__(self, result: Any, folder: Path) -> None:
        if self.pid is None:
            _draw_here(result, folder, self.lang)
            return
        try:
            self._conn.send((str(folder), result.manifest, result.calibrator.config))
            reply = self._conn.recv()
        except (EOFError, OSError):                 # the drawing process died: draw here
            self._kill()
            _draw_here(result, folder, self.lang)
            return
        except BaseException:                       # Ctrl-C, SIGTERM: stop it before the folder is removed
            self._kill()
            raise
        self._kill.detach()
        _stop(self.pid, self._conn, kill=False)     # it ends after its reply
        if reply is not None:
            raise _error(*reply)


def chart_writer(lang: str) -> Any:
    """The run's chart writer: a ``ChartProcess`` where processes can be forked (Linux) and a CPU is spare for it,
    else drawing here."""
    from dxsim.core.threads import usable_cpus

    if (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and usable_cpus() > 1):
        return ChartProcess(lang)
    return functools.partial(_draw_here, lang=lang)
