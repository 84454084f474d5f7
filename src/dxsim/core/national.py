"""National consistency: the provinces' aggregate against the nation's own readings.

Where a run simulates every pre-2025 province (e.g. a scenario of all 34 new provinces), the weighted mean of the
63, draw by draw (each indicator's weight, population where a province lacks it: the same rule as a merged
province), is compared with each national reading of the same series and year: the distance is the reading minus
the aggregate's median, in percentage points. Elsewhere the comparison is not available, and the run says why.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from dxsim.core.paths import Ensemble
from dxsim.inputs.aggregations import aggregation_for
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.geography import NATIONAL_MAP, Aggregation, Region, load_geomap

NATIONAL_COLUMNS = ("indicator", "definition", "year", "period", "national_reading", "aggregate_q50",
                    "aggregate_q10", "aggregate_q90", "distance_pp", "weight", "source_url")
PROVINCES = "provinces_aggregate"


def national_consistency(ensemble: Ensemble, cfg: CalibrationConfig, used: pd.DataFrame
                         ) -> tuple[pd.DataFrame, str]:
    """(table of NATIONAL_COLUMNS, status sentence). ``used``: the readings the fit used (``vietnam`` rows are
    the national readings). The table is empty when the run does not simulate every pre-2025 province."""
    geomap = load_geomap(cfg)
    simulated = set(ensemble.model_geos or ensemble.geos)
    have = [g for g in geomap.old if g in simulated]
    empty = pd.DataFrame(columns=list(NATIONAL_COLUMNS))
    if len(have) < len(geomap.old):
        return empty, (f"not available: the run simulates {len(have)} of the {len(geomap.old)} pre-2025 provinces "
                       f"and the provinces' aggregate needs all of them (run a scenario of all "
                       f"{len(geomap.new)} provinces)")
    region = Region(PROVINCES, NATIONAL_MAP, tuple(geomap.old))
    agg = aggregation_for(cfg, [region])
    model = ensemble.model_geos or ensemble.geos
    matrix = np.zeros((agg.matrix.shape[0], 1, len(model)))
    matrix[:, :, [model.index(g) for g in agg.model_geos]] = agg.matrix
    whole = replace(ensemble, geos=(PROVINCES,), model_geos=model,
                    aggregation=Aggregation((region,), model, matrix, agg.table))
    kinds = agg.table.groupby("indicator")["weight_kind"].first().to_dict()
    national = used[(used["geo"] == geomap.national[0]) & used["year"].isin(ensemble.years)]
    rows = []
    for r in national.itertuples(index=False):
        if (r.indicator, r.definition) not in ensemble.series:
            continue
        k = ensemble.series.index((r.indicator, r.definition))
        draws = whole.values(int(r.year), series=[k], scenarios=[0])[0, 0, 0]
        q10, q50, q90 = np.quantile(draws, [0.1, 0.5, 0.9])
        rows.append({"indicator": r.indicator, "definition": r.definition, "year": int(r.year),
                     "period": str(getattr(r, "period", "") or ""), "national_reading": float(r.value),
                     "aggregate_q50": q50, "aggregate_q10": q10, "aggregate_q90": q90,
                     "distance_pp": float(r.value) - q50, "weight": kinds.get(r.indicator, "population"),
                     "source_url": str(getattr(r, "source_url", ""))})
    if not rows:
        return empty, "not available: no national reading of a simulated series in the simulated years"
    table = pd.DataFrame(rows, columns=list(NATIONAL_COLUMNS)).sort_values(
        ["indicator", "definition", "year", "period"], kind="stable").reset_index(drop=True)
    return table, f"national_consistency.csv: {len(table)} national readings against the provinces' aggregate"
