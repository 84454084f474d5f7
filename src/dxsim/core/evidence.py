"""What a target's probability rests on: the geo's own readings, pooling only, or a prior-only definition.

- ``own``: the geo has a reading of the target's indicator and definition (the one it is evaluated as) used by
  the fit;
- ``pooled``: it has none, but other geos (or the aggregate the definition pools towards) have readings of that
  definition: the geo's path is the pooled distribution, as narrow as the cross-section allows;
- ``prior``: no geo has a reading of that definition: it is the anchor's path moved by the definition's prior
  offset (a stated mapping, no data decide it).
Targets that are not evaluable get an empty ``evidence``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

EVIDENCE = ("own", "pooled", "prior")


def target_evidence(used: pd.DataFrame, targets: pd.DataFrame) -> pd.Series:
    """``evidence`` per row of ``targets`` (columns geo, indicator, definition or, where present, evaluated_as:
    the definition the probability is about; evaluable) from the readings the fit used (``used``: columns geo,
    indicator, definition). A mapped target's own assumption is in its ``assumption`` column."""
    about = targets["evaluated_as"] if "evaluated_as" in targets else targets["definition"]
    out = evidence_of(used, targets["geo"], targets["indicator"], about)
    return pd.Series(np.where(targets["evaluable"].to_numpy(bool), out, ""), index=targets.index, name="evidence")


def evidence_of(used: pd.DataFrame, geo: Iterable[str], indicator: Iterable[str],
                definition: Iterable[str]) -> list[str]:
    """``own``, ``pooled`` or ``prior`` for each (geo, indicator, definition) given the readings ``used``."""
    own = set(zip(used["geo"], used["indicator"], used["definition"], strict=True))
    seen = set(zip(used["indicator"], used["definition"], strict=True))
    return ["own" if (g, i, d) in own else "pooled" if (i, d) in seen else "prior"
            for g, i, d in zip(geo, indicator, definition, strict=True)]
