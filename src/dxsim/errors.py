"""The one exception type for bad user input (files, options): the CLI turns it into one line and exit 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class InputError(ValueError):
    """A user file or option is wrong. ``str(err)`` is the one line shown to the user."""

    def __init__(self, source: str | Path, where: str, problem: str) -> None:
        self.source = str(source)
        self.where = where
        self.problem = problem
        super().__init__(f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}")


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
