"""The words of charts and reports, one file per language: ``dxsim/data/words/<lang>.toml`` (package data).

Each file has the same tables (``report``, ``chart``, ``map``, ``status``, ``evidence``, ``methods``, ``pillars``,
``weight_kinds``, ``indicators``, ``definitions``) with the same keys; a value may hold ``{name}`` fields that the
caller fills in. To add a language, add its file and its code to ``style.LANGS``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parents[1] / "data" / "words"


@cache
def words(lang: str) -> dict[str, dict[str, Any]]:
    """Every table of ``lang``'s word file, read once."""
    with (FOLDER / f"{lang}.toml").open("rb") as fh:
        return tomllib.load(fh)


def table(name: str, lang: str) -> dict[str, Any]:
    """One table (e.g. ``chart``) of ``lang``."""
    return words(lang)[name]
