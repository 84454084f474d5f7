"""One figure with one axes per chart kind and process, emptied and resized for each chart while ``reusing()`` is
active (the chart writer saves each chart before drawing the next). A new axes, and the ticks it makes when first
drawn, cost about as much as the rest of a fan chart; a reused one draws the same pixels and SVG (tested)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from matplotlib.figure import Figure

_POOL: dict[str, tuple[Figure, Any, dict[str, set[int]]]] = {}
_ACTIVE = [False]
_FIGURE_LISTS = ("artists", "lines", "patches", "texts", "images", "legends")
_AXES_LISTS = ("lines", "collections", "patches", "texts", "artists", "images", "tables")


@contextmanager
def reusing() -> Iterator[None]:
    """While active, ``axes_figure`` hands out this process's figure of a kind instead of a new one."""
    before = _ACTIVE[0]
    _ACTIVE[0] = True
    try:
        yield
    finally:
        _ACTIVE[0] = before


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
    ``reusing()``, this process's figure of ``kind`` emptied of the previous chart."""
    if not _ACTIVE[0]:
        fig = Figure(figsize=(width, height), dpi=100)
        return fig, fig.add_axes(tuple(rect))
    if kind not in _POOL:
        fig = Figure(figsize=(width, height), dpi=100)
        ax = fig.add_axes(tuple(rect))
        _POOL[kind] = (fig, ax, _artists(fig, ax))
        return fig, ax
    fig, ax, base = _POOL[kind]
    _empty(fig, ax, base)
    fig.dpi = 100
    fig.set_size_inches(width, height)
    ax.set_position(tuple(rect))
    return fig, ax
