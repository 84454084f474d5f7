"""Agg drawing that reuses a chart's background: the figure and plot-area fill, the axes' ticks, tick labels, grid
and axis labels and the artists marked static (``mark``), when another chart drew the same background before.

Where a chart's background artists are drawn first (they are the lowest in z-order, as with
``axes.axisbelow``), a full draw paints them onto an empty canvas and then everything else over them; so filling
the canvas with the background's pixels and drawing everything else over them gives the same pixels (Agg blends
each artist onto whatever is below it). The background is cut at its last row that is not plain figure colour and
kept by a key of everything its pixels depend on (sizes and positions in pixels from the figure's top, limits, tick
positions and labels, axis labels, the static artists' geometry and colours, the drawing settings), so charts of
different heights share it when their plot area sits at the same pixels below the top. Figures this does not
cover (several axes, unmarked axes, artists under the background) are drawn as usual.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.colors import to_rgba

MAX_BACKGROUNDS = 12           # kept per process (a 16 cm fan chart's background at 300 dpi: ~7.5 MB)
_RC_PREFIXES = ("axes.", "xtick.", "ytick.", "grid.", "font.", "text.", "lines.", "patch.", "path.", "agg.",
                "figure.", "mathtext.", "hatch.")
_STATIC: weakref.WeakSet = weakref.WeakSet()            # axes whose background may be reused, and static artists
_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # key -> (top rows, the plain row below them), RGBA


def mark(ax: Any, *artists: Any) -> None:
    """Let ``ax``'s background (its fill, axis and ``artists``: grid-like artists under the data) be reused."""
    _STATIC.add(ax)
    _STATIC.update(artists)


def _plan(fig: Any) -> tuple[Any, list[Any]] | None:
    """(axes, background artists) when ``fig``'s background can be reused: one marked axes whose background
    artists come first in its drawing order and no figure-level artist drawn before the axes."""
    if len(fig.axes) != 1 or fig.axes[0] not in _STATIC:
        return None
    ax = fig.axes[0]
    if ax.child_axes or not (ax.axison and ax.get_frame_on()) or ax.get_rasterization_zorder() is not None:
        return None
    children = [a for a in ax.get_children() if a is not ax.patch]
    order = sorted(children, key=lambda a: a.zorder)                # as Axes.draw orders them (a stable sort)
    static = [a for a in order if a is ax.xaxis or a is ax.yaxis or a in _STATIC]
    first = order[:len(static)]
    if any(a is not b for a, b in zip(first, static, strict=True)):
        return None
    if any(a is not ax and a is not fig.patch and a.get_visible() and a.zorder <= ax.zorder
           for a in fig.get_children()):
        return None
    return ax, static


def _rc_key() -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in dict.items(rcParams) if k.startswith(_RC_PREFIXES)))


def _text_style(text: Any) -> tuple:
    return text.get_fontproperties(), to_rgba(text.get_color(), text.get_alpha())


def _tick_styles(axis: Any, which: str) -> tuple:
    """The distinct styles of the tick labels an axis has made (a label styled one by one keeps its style when
    the ticks move; new ticks copy the first's); none before its first draw, when they follow the settings."""
    ticks = vars(axis).get(which, ())               # the tick list as made, without making it (a lazy attribute)
    return tuple(dict.fromkeys((_text_style(t.label1), _text_style(t.label2)) for t in ticks))


def _axis_key(axis: Any) -> tuple:
    """An axis' ticks and labels as its next draw makes them (locator and formatter called as Axis.draw calls
    them, without making the tick artists), and their fonts and colours."""
    locs = axis.get_major_locator()()
    minor = axis.get_minor_locator()()
    return (axis.get_visible(), tuple(locs), tuple(axis.get_major_formatter().format_ticks(locs)), tuple(minor),
            tuple(axis.get_minor_formatter().format_ticks(minor)), axis.get_label_text(),
            axis.label.get_position(), axis.label.get_rotation(), _text_style(axis.label),
            repr(getattr(axis, "_major_tick_kw", None)), repr(getattr(axis, "_minor_tick_kw", None)),
            _tick_styles(axis, "majorTicks"), _tick_styles(axis, "minorTicks"), axis.get_scale(),
            axis.get_inverted())


def _artist_key(artist: Any, height: float) -> tuple:
    """What a static line collection draws: its segments in pixels from the top, colours, widths and styles."""
    if not hasattr(artist, "get_segments"):
        return (type(artist).__name__, id(artist))                # other artists: never shared
    segments = artist.get_segments()
    xy = artist.get_transform().transform(np.concatenate(segments)) if segments else np.empty((0, 2))
    return (type(artist).__name__, artist.zorder, artist.get_visible(), tuple(len(s) for s in segments),
            np.round(xy[:, 0], 4).tobytes(), np.round(height - xy[:, 1], 4).tobytes(),
            np.asarray(artist.get_colors()).tobytes(), np.asarray(artist.get_linewidths()).tobytes(),
            repr(artist.get_linestyles()), artist.get_antialiased().tobytes() if hasattr(
                artist.get_antialiased(), "tobytes") else repr(artist.get_antialiased()))


def _key(renderer: RendererAgg, fig: Any, ax: Any, static: list[Any]) -> tuple:
    width, height = int(renderer.width), int(renderer.height)
    box = ax.bbox

    def below_top(y: float) -> tuple[float, float]:        # paths flip at the whole-pixel height, text at the exact
        return round(height - y, 4), round(renderer.height - y, 4)

    return (width, round(renderer.width, 4), renderer.dpi, fig.get_facecolor(), ax.get_facecolor(),
            round(box.x0, 4), round(box.x1, 4), below_top(box.y0), below_top(box.y1), ax.get_xlim(), ax.get_ylim(),
            _axis_key(ax.xaxis), _axis_key(ax.yaxis),
            tuple(_artist_key(a, height) for a in static if a is not ax.xaxis and a is not ax.yaxis), _rc_key())


@contextmanager
def _hidden(artists: Iterable[Any]) -> Iterator[None]:
    shown = [a for a in artists if a.get_visible()]
    for a in shown:
        a.set_visible(False)
    try:
        yield
    finally:
        for a in shown:
            a.set_visible(True)


def _render_background(renderer: RendererAgg, fig: Any, ax: Any, static: list[Any]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The background drawn alone: its rows down to the last one that is not plain, and the plain row."""
    others = [a for a in fig.get_children() if a is not ax and a is not fig.patch]
    others += [a for a in ax.get_children() if a is not ax.patch and not any(a is s for s in static)]
    renderer.clear()
    with _hidden(others):
        fig.draw(renderer)
    pixels = np.asarray(renderer.buffer_rgba())
    plain = pixels[-1]
    differs = np.flatnonzero((pixels != plain).any(axis=(1, 2)))
    rows = int(differs[-1]) + 1 if len(differs) else 0
    return pixels[:rows].copy(), plain.copy()


def draw(canvas: FigureCanvasAgg) -> None:
    """``canvas.draw()``, its figure's background taken from an earlier chart where one drew the same."""
    fig = canvas.figure
    plan = _plan(fig)
    if plan is None:
        canvas.draw()
        return
    ax, static = plan
    renderer = canvas.get_renderer()
    key = _key(renderer, fig, ax, static)
    background = _CACHE.get(key)
    if background is None:
        background = _render_background(renderer, fig, ax, static)
        if len(_CACHE) >= MAX_BACKGROUNDS:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = background
    top, plain = background
    pixels = np.asarray(renderer.buffer_rgba())
    if len(top) > len(pixels) or pixels.shape[1:] != plain.shape:
        canvas.draw()
        return
    pixels[:len(top)] = top
    pixels[len(top):] = plain
    with _hidden([fig.patch, ax.patch, *static]):
        fig.draw(renderer)
