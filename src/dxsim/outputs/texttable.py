"""Plain-text tables for the terminal: fixed-width columns under a header and a rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def fixed_width(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> str:
    """``columns``: (header, width and alignment as a format spec, e.g. ``"<15"`` or ``">6"``); ``rows``: the
    cells as text, one per column. The header, a rule as long as it, then a line per row."""
    head = " ".join(f"{name:{spec}}" for name, spec in columns)
    lines = [head, "-" * len(head)]
    lines += [" ".join(f"{cell:{spec}}" for cell, (_, spec) in zip(row, columns, strict=True)) for row in rows]
    return "\n".join(lines)
