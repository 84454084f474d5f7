"""Command line: a thin layer over the library (parse, call, print). Exit codes: 0 success, 2 bad input, 1 internal
error. One module per group of sub-commands; each registers its parsers, which set ``func`` to a function of the
parsed arguments that returns the exit code."""

from __future__ import annotations

import argparse
import gc
import importlib
import signal
import sys
import threading
from collections.abc import Sequence

from dxsim import __version__, progress
from dxsim.cli.options import OneLineParser, as_option
from dxsim.errors import ArgumentError, InputError, Terminated, raise_terminated

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2
# (module, its register function, the commands it adds), in the order of `dxsim --help`
GROUPS = (("run", "register", ("run", "calibrate")), ("evaluate", "register_backtest", ("forecast", "backtest")),
          ("charts", "register", ("plot", "compare", "report")), ("evaluate", "register_scorecard", ("scorecard",)),
          ("policy", "register", ("sensitivity", "required-investment")))
# a command's own heavy imports (numpy, pandas, the core), imported at start-up with the garbage collector off
COMMAND_IMPORTS = {"run": ("dxsim.pipeline",), "calibrate": ("dxsim.pipeline",)}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with a known ``command``, only that command's group is registered (its module
    alone is imported: `dxsim run` does not import the analyses), else every command."""
    parser = OneLineParser(
        prog="dxsim", description="Calibrated forecasts of provincial digital transformation in Vietnam and the "
        "probability of meeting plan targets.")
    parser.add_argument("--version", action="version", version=f"dxsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--quiet", action="store_true", help="no progress bars on stderr (shown only on a terminal)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    known = command in {name for *_, names in GROUPS for name in names}
    for module, register, names in GROUPS:
        if not known or command in names:
            getattr(importlib.import_module(f"dxsim.cli.{module}"), register)(sub)
    return parser


def entry() -> None:
    """The ``dxsim`` command (its console script, and ``python -m dxsim.cli``): ``main`` in a process that ends
    with it, so start-up and exit skip the garbage collector's passes over the imported modules."""
    sys.exit(main(own_process=True))


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    """Run the command line (``argv``, default ``sys.argv[1:]``). Exit codes: 0 success, 2 bad input (one line on
    stderr), 1 internal error (one line; the traceback with --debug), 130 interrupted (Ctrl-C), 143 terminated
    (SIGTERM). ``own_process`` (``entry``: the process ends with this call): the command's modules are imported
    without the garbage collector's passes, then frozen out of its reach (``_started``), and so is everything
    at exit; a library or notebook caller leaves it False."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, raise_terminated) if in_main_thread else None
    if own_process:
        gc.disable()                 # imports make many long-lived objects and next to no garbage
    try:
        command = next((a for a in argv if not a.startswith("-")), None)    # global options take no value
        args = build_parser(command).parse_args(argv)
        progress.set_quiet(args.quiet)
        if own_process:
            _started(command)
        try:
            return args.func(args)
        except ArgumentError as exc:             # a library argument, named as the option the user gave
            raise as_option(exc, getattr(args, "option_names", {})) from None
    except InputError as exc:
        if debug:
            raise
        return _fail(f"error: {exc}", EXIT_INPUT)
    except MemoryError as exc:
        if debug:
            raise
        advice = "" if "draws" in str(exc) else "; use fewer draws (--draws)"
        return _fail(f"error: not enough memory ({exc or 'out of memory'}){advice}", EXIT_INPUT)
    except BrokenPipeError:                  # output piped into e.g. `head`, which stopped reading: not an error
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt as exc:
        kind, code = ("terminated", 143) if isinstance(exc, Terminated) else ("interrupted", 130)
        return _fail(f"{kind}; no partial results are left behind", code)
    except OSError as exc:
        if debug:
            raise
        if exc.filename:                     # a folder or file the user named cannot be read or written
            return _fail(f"error: {exc.filename}: {exc.strerror or exc}", EXIT_INPUT)
        return _internal(exc)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 1
        if debug:
            raise
        return _internal(exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if own_process:              # the process ends: its last collection need not visit everything it made
            gc.freeze()
            gc.enable()


def _started(command: str | None) -> None:
    """Start-up done: the command's heavy modules (``COMMAND_IMPORTS``) imported with the garbage collector off,
    every object made so far moved out of its reach (``gc.freeze``: modules, classes and functions live as long as
    the process), then collection resumed for the command's own work. A run's CPU time is ~0.1 s lower (the
    collections during the imports and the passes of later ones over numpy's and pandas' objects); what it
    computes does not change."""
    for module in COMMAND_IMPORTS.get(command or "", ()):
        importlib.import_module(module)
    gc.freeze()
    gc.enable()


def _fail(message: str, code: int) -> int:
    """Print one line to stderr and return the exit code."""
    print(f"dxsim: {' '.join(message.splitlines())}", file=sys.stderr)
    return code


def _internal(exc: BaseException) -> int:
    return _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", EXIT_INTERNAL)

