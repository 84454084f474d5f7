"""Argument types and option groups shared by the sub-commands, and the parser that fails in one line."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from dxsim.errors import ArgumentError, InputError
from dxsim.inputs.locate import find_config
from dxsim.outputs import style

CLI_SOURCE = "command line"
LANG = {"choices": style.LANGS, "default": "en", "help": "chart language (default: %(default)s)"}
POSITIONAL = {"scenario": "SCENARIO"}       # library argument -> the positional argument that gives it
FORMAT = {"choices": style.FORMATS, "help": "only this format (default: PNG at 300 dpi and SVG)"}


def _whole(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    return _whole(text, 1)


def seed(text: str) -> int:
    """A random seed: a whole number >= 0."""
    return _whole(text, 0)


def draws(text: str) -> int:
    """Monte Carlo draws: a whole number >= 10, as in a scenario file."""
    value = positive_int(text)
    if value < 10:
        raise argparse.ArgumentTypeError(f"must be >= 10 (as in a scenario file), got {value}")
    return value


def formats(value: str | None) -> tuple[str, ...]:
    """--format as the tuple of formats to draw (every format when not given)."""
    return style.FORMATS if value is None else (value,)


def add_inputs(p: argparse.ArgumentParser, targets: bool = True) -> None:
    """--config, --observations and (unless ``targets`` is False) --targets."""
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="calibration config (default: calibration/config.toml beside or above the scenario file, "
                   "else in the working directory, else the one installed with dxsim)")
    p.add_argument("--observations", type=Path, metavar="FILE",
                   help="observations CSV to calibrate on (default: the config's)")
    if targets:
        p.add_argument("--targets", type=Path, metavar="FILE", help="targets CSV (default: the config's)")


def config_of(args: argparse.Namespace) -> Path:
    """The calibration config of a command: --config, else found from its scenario file (``locate.py``)."""
    return find_config(args.config, getattr(args, "scenario", None))


def add_scale_out(p: argparse.ArgumentParser) -> None:
    """--workers / --scheduler (Dask), shared by the experiment commands."""
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="run batches on a local Dask cluster of N worker processes (needs dxsim[distributed])")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run batches on an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")


def as_option(exc: ArgumentError, names: dict[str, str] | None = None) -> InputError:
    """A library error about an argument, named as the command line's option: ``names[argument]`` where the
    command names it otherwise (``geos`` -> ``--geo``), else ``as_of`` -> ``--as-of``."""
    source = CLI_SOURCE if exc.source == ArgumentError.SOURCE else exc.source
    shown = {**POSITIONAL, **(names or {})}.get(exc.where) or "--" + exc.where.replace("_", "-")
    return InputError(source, shown, exc.problem)


def add_command(subparsers: argparse._SubParsersAction, name: str, func: Callable[[argparse.Namespace], int],
                summary: str, scenario: bool = False, option_names: dict[str, str] | None = None
                ) -> argparse.ArgumentParser:
    """A sub-command that runs ``func``, described in ``dxsim --help`` by ``summary`` and in its own --help by
    ``func``'s docstring; its SCENARIO argument first with ``scenario``. ``option_names``: its options by the
    library's argument names where they differ (``{"geos": "--geo"}``, for ``as_option``)."""
    p = subparsers.add_parser(name, help=summary, description=" ".join((func.__doc__ or "").split()))
    if scenario:
        p.add_argument("scenario", type=Path, metavar="SCENARIO",
                       help="scenario TOML file, or the name of a shipped one (baseline)")
    p.set_defaults(func=func, option_names=option_names or {})
    return p


class OneLineParser(argparse.ArgumentParser):
    """Option errors as one line (exit 2 through InputError), not argparse's usage block; sub-command parsers
    are of the same class. The line names the command line as its source, like a library argument's error
    (``as_option``): ``dxsim: error: command line: unrecognized arguments: --x (see dxsim run --help)``."""

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        """argparse's, remembering the sub-command given: options it does not know are reported by the top-level
        parser, but the help that lists the right ones is the sub-command's."""
        parsed, extras = super().parse_known_args(args, namespace)
        self._command = getattr(parsed, "command", None)
        return parsed, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        command = getattr(self, "_command", None)
        prog = f"{self.prog} {command}" if command else self.prog
        raise InputError(CLI_SOURCE, "", f"{message} (see {prog} --help)")
