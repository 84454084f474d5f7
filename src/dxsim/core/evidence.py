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

import pandas as pd

EVIDENCE = ("own", "pooled", "prior")


def target_evidence(used: pd.DataFrame, targets: pd.DataFrame) -> pd.Series:
    """``evidence`` per row of ``targets`` (columns geo, indicator, definition or, where present, evaluated_as:
    the definition the probability is about; evaluable) from the readings the fit used (``used``: columns geo,
    indicator, definition). A mapped target's own assumption is in its ``assumption`` column."""
    own = set(zip(used["geo"], used["indicator"], used["definition"], strict=True))
    seen = set(zip(used["indicator"], used["definition"], strict=True))
    out = []
    about = targets["evaluated_as"] if "evaluated_as" in targets else targets["definition"]
    for geo, ind, dfn, ok in zip(targets["geo"], targets["indicator"], about, targets["evaluable"], strict=True):
        if not ok:
            out.append("")
        elif (geo, ind, dfn) in own:
            out.append("own")
        else:
            out.append("pooled" if (ind, dfn) in seen else "prior")
    return pd.Series(out, index=targets.index, name="evidence")
