"""Progress on stderr for long commands: one bar per stage (calibrate, rollouts, ensemble years, targets, outputs,
charts) with counts, elapsed time and time left.

Shown only when stderr is a terminal and progress is not silenced (``dxsim --quiet``); never on stdout or in any
file, so piped or redirected runs and the CSV outputs are unchanged. tqdm draws the bars and limits redraws.

    with progress.stage("calibrate"):          # one step: shows what runs and for how long
        fit()
    for year in progress.track(years, "ensemble years"):
        ...
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

T = TypeVar("T")
_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence (True) or allow (False) progress for this process."""
    global _quiet
    _quiet = bool(quiet)


def enabled() -> bool:
    """True when progress is drawn: not silenced and stderr is a terminal."""
    try:
        return not _quiet and sys.stderr is not None and sys.stderr.isatty()
    except (ValueError, AttributeError):     # stderr closed or replaced by an object without isatty
        return False


def _bar(name: str, total: int | None, unit: str) -> tqdm:
    from tqdm import tqdm  # on use: a piped or quiet command does not import it

    try:
        sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
    except (OSError, ValueError):
        sized = False
    # a terminal that reports no size (some pseudo-terminals): a fixed width, else tqdm would draw nothing
    return tqdm(total=total, desc=f"dxsim {name}", unit=unit, file=sys.stderr, leave=False, mininterval=0.2,
                dynamic_ncols=sized, ncols=None if sized else 80, nrows=None if sized else 20)


def track(items: Iterable[T], name: str, total: int | None = None, unit: str = "step") -> Iterator[T]:
    """Iterate ``items`` with a bar named ``name`` (``total`` defaults to ``len(items)`` when it has one)."""
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)  # type: ignore[arg-type]
    if not enabled() or total == 0:
        yield from items
        return
    with _bar(name, total, unit) as bar:
        for item in items:
            yield item
            bar.update(1)


@contextmanager
def stage(name: str, total: int = 1, unit: str = "step") -> Iterator[Callable[[int], None]]:
    """A stage of ``total`` steps; yields ``advance(n=1)``. Steps not advanced are counted done at a normal exit."""
    if not enabled():
        yield lambda n=1: None
        return
    with _bar(name, total, unit) as bar:
        yield bar.update
        if bar.n < total:
            bar.update(total - bar.n)
