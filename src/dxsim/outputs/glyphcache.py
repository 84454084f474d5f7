"""An Agg canvas whose text drawing reuses what it has rendered: a string's glyph layout and each glyph's bitmap
at a sub-pixel position. Text is most of a chart's raster time (every label of every chart is laid out and each of
its glyphs rendered by FreeType again); the same strings and glyphs recur across charts.

The pixels are matplotlib's own: a glyph placed at ``p`` (26.6 fixed point) is rendered once at ``p mod 64`` and
shifted by whole pixels (FreeType's rasteriser is exact under whole-pixel translation); a layout depends only on
the string, the font and its size (and the thread: matplotlib's font objects are per thread). Where matplotlib
lacks the per-glyph text path (before 3.11) or any private attribute used here (``PRIVATE``), or the text needs
what the cache does not key on (math, font features, a language), drawing falls back to matplotlib's.
"""

from __future__ import annotations

import codecs
import math
import os
import threading
from typing import Any

import numpy as np
from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.font_manager import FontManager, fontManager, get_font
from matplotlib.ft2font import FT2Font
from matplotlib.textpath import TextToPath

try:                                                      # matplotlib >= 3.11: glyphs drawn one by one
    from matplotlib.backends.backend_agg import get_hinting_flag
    from matplotlib.ft2font import RenderMode

    IMPORTED = True
except ImportError:                                       # pragma: no cover - older matplotlib
    IMPORTED = False

PRIVATE = ((RendererAgg, ("_draw_text_glyphs_and_boxes", "_prepare_font")),   # matplotlib internals used here
           (FT2Font, ("_layout", "_set_transform", "_render_glyph")),
           (FigureCanvasAgg, ("_lastKey",)), (FontManager, ("_find_fonts_by_props",)))
MAX_ENTRIES = 200_000          # glyph bitmaps (a 7 pt glyph at 300 dpi: ~0.5 kB), layouts, extents kept per process
_LAYOUTS: dict[tuple, tuple] = {}
_GLYPHS: dict[tuple, tuple[np.ndarray, int, int]] = {}
_METRICS: dict[tuple, tuple[float, float, float]] = {}
_HEIGHTS: dict[tuple, tuple[float | None, float | None, float | None]] = {}
_BOXES: dict[tuple, tuple[int, int, int]] = {}    # a glyph's lowest and highest point and advance, 26.6 pixels


def _font_key(prop: Any) -> tuple:
    """What of a ``FontProperties`` chooses the font and its size (the fields of its ``__hash__``)."""
    return (tuple(prop.get_family()), prop.get_slant(), prop.get_variant(), prop.get_weight(), prop.get_stretch(),
            prop.get_size_in_points(), prop.get_file(), prop.get_math_fontfamily())


def _forget_fonts() -> None:
    """In a forked child: drop the layouts, which hold the parent's font objects (their font files are open file
    descriptions shared with the parent: reading glyphs through them races the parent's reads). matplotlib drops
    its own font cache at fork for the same reason."""
    _LAYOUTS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_fonts)


def supported() -> bool:
    """Whether this matplotlib has everything the cached drawing uses (else: matplotlib's own drawing)."""
    return IMPORTED and all(hasattr(owner, name) for owner, names in PRIVATE for name in names)


def _bounded(cache: dict) -> dict:
    """``cache``, emptied first when it holds ``MAX_ENTRIES``."""
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    return cache


def font_height_metrics(prop: Any, dpi: float) -> tuple[float | None, float | None, float | None]:
    """(ascent, descent, line gap) of a font in pixels at ``dpi``, from its OS/2 or hhea table, computed as
    matplotlib's ``Text._get_layout`` computes them (>= 3.11, for every line of every text drawn), once per font,
    size and dpi; None where the font has neither table (matplotlib then measures "lp")."""
    key = (_font_key(prop), dpi)
    out = _HEIGHTS.get(key)
    if out is None:
        out = (None, None, None)
        font = get_font(fontManager._find_fonts_by_props(prop))
        for table_name, linegap_key, ascent_key, descent_key in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"), ("hhea", "lineGap", "ascent", "descent")):
            table = font.get_sfnt_table(table_name)
            if table is None:
                continue
            fontsize = prop.get_size_in_points()
            units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
            scale = 1 / units_per_em * fontsize * dpi / 72
            out = (table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale)
            break
        _bounded(_HEIGHTS)[key] = out
    return out


class CachingRenderer(RendererAgg):
    """``RendererAgg`` with cached text layouts, glyph bitmaps and text extents (see the module's docstring)."""

    figure_dpi: float | None = None         # the dpi of the figure drawn (CachingCanvas sets it), else ``dpi``

    def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False,
                  mtext: Any = None) -> None:
        if ismath or (mtext is not None and (mtext.get_fontfeatures() or mtext.get_language())):
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        flags = get_hinting_flag()
        self._draw_glyphs(gc, x, y, angle, prop.get_size_in_points(), flags, self._layout(s, prop, flags))
        return None

    def _layout(self, s: str, prop: Any, flags: Any) -> tuple:
        """(font, glyph index, x, y in pixels) of each glyph of ``s``, laid out once per string, font and dpi."""
        key = (s, _font_key(prop), self.dpi, flags, threading.get_ident())
        items = _LAYOUTS.get(key)
        if items is None:
            font = self._prepare_font(prop)
            items = tuple((item.ft_object, item.glyph_index, item.x, item.y)
                          for item in font._layout(s, flags=flags, features=None, language=None))
            _bounded(_LAYOUTS)[key] = items
        return items

    def _measure(self, s: str, prop: Any, flags: Any) -> tuple[float, float, float]:
        """matplotlib's (width, height, descent) of ``s`` in pixels, from its layout (the one drawing uses) instead
        of laying it out again with ``FT2Font.set_text``: the width is the pen's advance past the last glyph, the
        height and descent those of the union of the glyphs' boxes (FreeType's control boxes, 26.6 fixed point),
        as ``set_text`` computes them; each glyph's box and advance loaded once."""
        items = self._layout(s, prop, flags)
        if not items:
            return 0.0, 0.0, 0.0
        size = prop.get_size_in_points()
        low, high, advance = 32000, -32000, 0
        prepared = False
        for font, index, _, y in items:
            key = (font.fname, size, self.dpi, index, flags)
            box = _BOXES.get(key)
            if box is None:
                if not prepared:         # the fonts at this size, unrotated (drawing glyphs leaves them otherwise)
                    self._prepare_font(prop)
                    prepared = True
                glyph = font.load_glyph(index, flags=flags)
                box = _bounded(_BOXES)[key] = (glyph.bbox[1], glyph.bbox[3], glyph.horiAdvance)
            shift = round(y * 64)
            low, high, advance = min(low, box[0] + shift), max(high, box[1] + shift), box[2]
        return (round(items[-1][2] * 64) + advance) / 64, (high - low) / 64, -low / 64

    def _draw_glyphs(self, gc: Any, x: float, y: float, angle: float, size: float, flags: Any,
                     items: tuple) -> None:
        """Each glyph as ``RendererAgg._draw_text_glyphs_and_boxes`` draws it (y downwards), bitmaps cached."""
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        antialiased = gc.get_antialiased()
        height = self.height
        draw = self._renderer.draw_text_image
        _bounded(_GLYPHS)
        for font, index, dx, dy in items:
            ox = round(0x40 * (x + dx * cos - dy * sin))
            oy = round(0x40 * (height - y + dx * sin + dy * cos))
            key = (font.fname, size, self.dpi, index, angle, ox & 63, oy & 63, antialiased, flags)
            glyph = _GLYPHS.get(key)
            if glyph is None:
                font.set_size(size, self.dpi)
                font._set_transform(matrix, [ox & 63, oy & 63])
                bitmap = font._render_glyph(index, flags, RenderMode.NORMAL if antialiased else RenderMode.MONO)
                buffer = np.array(bitmap.buffer)
                if not antialiased:
                    buffer *= 0xff
                glyph = _GLYPHS[key] = (buffer, bitmap.left, bitmap.top)
            buffer, left, top = glyph
            draw(buffer, left + (ox >> 6), int(height) - (top + (oy >> 6)) + buffer.shape[0], 0, gc)

    def _get_font_height_metrics(self, prop: Any) -> tuple[float | None, float | None, float | None]:
        return font_height_metrics(prop, self.dpi if self.figure_dpi is None else self.figure_dpi)

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        flags = get_hinting_flag()
        key = (s, _font_key(prop), self.dpi, flags)
        out = _METRICS.get(key)
        if out is None:
            out = _bounded(_METRICS)[key] = self._measure(s, prop, flags)
        return out


class CachingTextToPath(TextToPath):
    """Text extents of SVG text (72 dpi, unhinted) computed once per string and font."""

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, _font_key(prop), "svg")
        out = _METRICS.get(key)
        if out is None:
            out = _bounded(_METRICS)[key] = super().get_text_width_height_descent(s, prop, ismath)
        return out


class CachingSVGRenderer(RendererSVG):
    """``RendererSVG`` measuring text with ``CachingTextToPath``."""

    figure_dpi = 72.0                       # the figure's dpi while it is drawn as SVG (print_svg)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._text2path = _TEXT2PATH

    def _get_font_height_metrics(self, prop: Any) -> tuple[float | None, float | None, float | None]:
        return font_height_metrics(prop, self.figure_dpi)


_TEXT2PATH = CachingTextToPath()


class CachingCanvas(FigureCanvasAgg):
    """``FigureCanvasAgg`` drawing with ``CachingRenderer`` (where matplotlib supports it); ``savefig(...,
    format="svg")`` of its figure writes through ``CachingSVGRenderer``."""

    def print_svg(self, filename: Any, *, bbox_inches_restore: Any = None, metadata: Any = None,
                  **_applied: Any) -> None:
        """``FigureCanvasSVG.print_svg`` with the caching renderer. ``savefig`` has already applied the options
        that matplotlib's own print_svg is not given (dpi, facecolor, edgecolor, orientation). Without the cached
        drawing (``supported()``), matplotlib's own print_svg."""
        if not supported():
            return FigureCanvasSVG.print_svg(self, filename, bbox_inches_restore=bbox_inches_restore,
                                             metadata=metadata)
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
            if not cbook.file_requires_unicode(fh):
                fh = codecs.getwriter("utf-8")(fh)
            dpi = self.figure.dpi
            self.figure.dpi = 72
            width, height = self.figure.get_size_inches()
            renderer = MixedModeRenderer(self.figure, width, height, dpi,
                                         CachingSVGRenderer(width * 72, height * 72, fh, image_dpi=dpi,
                                                            metadata=metadata),
                                         bbox_inches_restore=bbox_inches_restore)
            self.figure.draw(renderer)
            renderer.finalize()

    def get_renderer(self) -> RendererAgg:
        if not supported():
            return super().get_renderer()
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = CachingRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        self.renderer.figure_dpi = self.figure.dpi         # the dpi matplotlib scales line metrics by
        return self.renderer
