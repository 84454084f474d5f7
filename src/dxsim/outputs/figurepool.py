"""One figure with one axes per chart kind and thread, emptied and resized for each chart while ``reusing()`` is
active (the chart writer saves each chart before drawing the next). A new axes, and the ticks it makes when first
drawn, cost about as much as the rest of a fan chart; a reused one draws the same pixels and SVG (tested)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from matplotlib.figure import Figure


class _Pool(threading.local):
    """Each thread's figures by kind and whether ``reusing()`` is active in it (two threads drawing at once never
    share a figure)."""

    def __init__(self) -> None:
        self.figures: dict[str, tuple[Figure, Any, dict[str, set[int]]]] = {}
        self.active = False


_LOCAL = _Pool()
_FIGURE_LISTS = ("artists", "lines", "patches", "texts", "images", "legends")
_AXES_LISTS = ("lines", "collections", "patches", "texts", "artists", "images", "tables")


@contextmanager
def reusing() -> Iterator[None]:
    """While active, ``axes_figure`` hands out this thread's figure of a kind instead of a new one."""
    before = _LOCAL.active
    _LOCAL.active = True
    try:
        yield
    finally:
        _LOCAL.active = before


def _artists(fig: Figure, ax: Any) -> dict[str, set[int]]:
    return {**{f"fig.{n}": {id(a) for a in getattr(fig, n)} for n in _FIGURE_LISTS},
            **{f"ax.{n}": {id(a) for a in getattr(ax, n)} for n in _AXES_LISTS}}


def _empty(fig: Figure, ax: Any, base: dict[str, set[int]]) -> None:
    """Remove what charts added to ``fig`` and ``ax`` (not their own parts) and clear the titles and labels."""
    for owner, names in ((fig, _FIGURE_LISTS), (ax, _AXES_LISTS)):
        prefix = "fig." if owner is fig else "ax."
        for name in names:
            for artist in list(getattr(owner, name)):
                if id(artist) not in base[prefix + name]:
                    artist.remove()
    for title in (ax.title, ax._left_title, ax._right_title):
        title.set_text("")
    ax.set_xlabel("")
    ax.set_ylabel("")


def axes_figure(kind: str, width: float, height: float, rect: Sequence[float]) -> tuple[Figure, Any]:
    """A figure ``width`` x ``height`` inches with one axes at ``rect`` (figure fractions): new, or, while
    ``reusing()``, this thread's figure of ``kind`` emptied of the previous chart."""
    if not _LOCAL.active:
        fig = Figure(figsize=(width, height), dpi=100)
        return fig, fig.add_axes(tuple(rect))
    pool = _LOCAL.figures
    if kind not in pool:
        fig = Figure(figsize=(width, height), dpi=100)
        ax = fig.add_axes(tuple(rect))
        pool[kind] = (fig, ax, _artists(fig, ax))
        return fig, ax
    fig, ax, base = pool[kind]
    _empty(fig, ax, base)
    fig.dpi = 100
    fig.set_size_inches(width, height)
    ax.set_position(tuple(rect))
    return fig, ax
