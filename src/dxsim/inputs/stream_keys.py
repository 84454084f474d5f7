"""The keys of the random streams that names select (``core/streams.py``): an indicator's or a programme's numbers
come from the stream keyed by its name. The config and the scenarios refuse two names with the same key, or a name
with the key of a shared stream, since they would draw the same numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

# The cross elasticity's stream in the run's parameter draws; no indicator name can be it (names are
# [a-z0-9_]+, ``inputs.config``), nor have its key (``key_clash``).
CROSS_ELASTICITY_STREAM = "cross elasticity"


def stream_key(name: str) -> int:
    """The key of ``name``'s stream: CRC-32 of its UTF-8 bytes."""
    return zlib.crc32(name.encode("utf-8"))


def key_clash(names: Iterable[str], reserved: Iterable[str] = ()) -> tuple[str, str] | None:
    """The first two of ``names`` (distinct) with the same ``stream_key``, the second of ``names``; a name whose
    key is that of a ``reserved`` one pairs with it. None when every key is distinct."""
    seen = {stream_key(r): r for r in reserved}
    for name in names:
        other = seen.setdefault(stream_key(name), name)
        if other != name:
            return other, name
    return None


def clash_problem(other: str) -> str:
    """The error for a name whose ``stream_key`` is that of ``other``."""
    return f"its random numbers would be those of {other!r} (the same CRC-32 key of the name): rename it"
