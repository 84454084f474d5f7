"""Words that both the terminal summary of ``dxsim run`` and the charts print: a plan document's short name, the
date of the newest reading per series. Without matplotlib, so that a run without charts does not import it
(0.6-1.3 s)."""

from __future__ import annotations

from collections.abc import Iterable

from dxsim.outputs import style


def short_document(document: str, words: int = 4, chars: int | None = None) -> str:
    """The first few words of a plan document, before any parenthesis, colon or comma:
    'Decision 749/QĐ-TTg (3/6/2020) National DX Program' -> 'Decision 749/QĐ-TTg'. With ``chars``, as many
    words as fit in that many characters (Vietnamese words are syllables: a word count cuts them short)."""
    head = str(document)
    for sep in ("(", ":", ",", ";", " — ", " - "):
        head = head.split(sep)[0]
    parts = head.split()
    if not parts:
        return "?"
    if chars is not None:
        words = max(1, sum(1 for k in range(1, len(parts) + 1) if len(" ".join(parts[:k])) <= chars))
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def newest_readings(manifest: dict) -> dict[tuple[str, str], str]:
    """(indicator, definition) -> date of its newest reading used ('2025-10', or the year where the source gives
    no month), from the manifest's ``calibration.data_through``; empty for a manifest without it."""
    through = (manifest.get("calibration") or {}).get("data_through")
    by_series = through.get("by_series") if isinstance(through, dict) else None
    if not isinstance(by_series, dict):
        return {}
    return {tuple(str(key).partition("/")[::2]): str(value.get("newest_reading", "?"))
            for key, value in by_series.items() if isinstance(value, dict)}


def newest_readings_text(manifest: dict, headline: tuple[str, ...], lang: str = "en",
                         series: Iterable[tuple[str, str]] | None = None) -> str:
    """'Newest reading per headline series: <indicator> (<definition>) 2025-06, (<definition>) 2025 · ...':
    stale data are said. Every definition of the ``headline`` indicators, or only the given ``series``; ''
    for a manifest without dates."""
    wanted = None if series is None else set(series)
    parts: dict[str, list[str]] = {}
    for (indicator, definition), date in newest_readings(manifest).items():
        if indicator in headline and (wanted is None or (indicator, definition) in wanted):
            parts.setdefault(indicator, []).append(f"({style.definition_name(definition, lang)}) {date}")
    if not parts:
        return ""
    return style.text("newest_readings", lang) + " · ".join(
        f"{style.indicator_name(ind, lang)} {', '.join(dates)}" for ind, dates in parts.items())
