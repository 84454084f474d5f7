"""Exceptions the CLI turns into one line: InputError for bad user input (exit 2), Terminated for SIGTERM."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """A user file or option is wrong. ``str(err)`` is the one line shown to the user."""

    def __init__(self, source: str | Path, where: str, problem: str) -> None:
        self.source = _one_line(str(source))
        self.where = _one_line(str(where))
        self.problem = _one_line(str(problem))
        super().__init__(f"{self.source}: {self.where}: {self.problem}" if self.where
                         else f"{self.source}: {self.problem}")


class ArgumentError(InputError):
    """A function argument is wrong, named as the library names it (``as_of``); the command line shows it as its
    option (``--as-of``). ``source`` is the file the value was checked against, when there is one."""

    SOURCE = "argument"

    def __init__(self, argument: str, problem: str, source: str | Path = SOURCE) -> None:
        super().__init__(source, argument, problem)


_LINE_BREAKS = {ord(c): c.encode("unicode_escape").decode() for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def _one_line(text: str) -> str:
    """Line breaks (e.g. inside a quoted TOML key) shown escaped, so an error is always one line."""
    return text.translate(_LINE_BREAKS)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def unknown(kind: str, value: object, choices: Iterable[str]) -> str:
    """Message for a value that is not one of the known choices."""
    choices = sorted(choices)
    hint = did_you_mean(str(value), choices)
    listed = ", ".join(choices) if len(choices) <= 8 else ", ".join(choices[:8]) + ", ..."
    return f"unknown {kind} {value!r}{hint}; known: {listed}"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that clean-up code runs (the CLI exits with 143)."""


def raise_terminated(signum: int, frame: Any) -> None:
    """Signal handler: turn SIGTERM into ``Terminated``."""
    raise Terminated(f"signal {signum}")
