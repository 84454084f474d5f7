"""Labelled array axes of the ensemble, documented in one place.

Every array in the core is plain numpy with axes in this order (a subset, never permuted):

=========  ===========================================================  ===========
axis       meaning                                                      label type
=========  ===========================================================  ===========
scenario   scenarios simulated together (common random numbers)         str name
draw       Monte Carlo draw: one parameter draw + one noise path        int 0..D-1
year       calendar year; value at the indicator's reading month        int
geo        province (pre-2025 boundaries) or ``vietnam``                str geo id
indicator  modelled indicator (its anchor definition's latent share)    str id
series     (indicator, definition) pair reported to users               (str, str)
=========  ===========================================================  ===========

The latent state ``z`` lives on the transformed scale of the indicator's diffusion law
(``model.LAWS``); user-facing values are percent in [0, 100].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ENSEMBLE_AXES = ("scenario", "draw", "geo", "indicator")
QUANTILES = (0.025, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.975)
QUANTILE_COLUMNS = ("q025", "q05", "q10", "q25", "q50", "q75", "q90", "q95", "q975")   # in QUANTILES order
# trajectories.csv keeps the contracted q05..q95 first; the 95% interval's ends follow them
TRAJECTORY_QUANTILE_COLUMNS = QUANTILE_COLUMNS[1:-1] + (QUANTILE_COLUMNS[0], QUANTILE_COLUMNS[-1])


@dataclass(frozen=True)
class Axes:
    """Labels of the ensemble axes for one run."""

    scenarios: tuple[str, ...]
    geos: tuple[str, ...]
    indicators: tuple[str, ...]
    years: tuple[int, ...]
    draws: int

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Shape of a state array: (scenario, draw, geo, indicator)."""
        return (len(self.scenarios), self.draws, len(self.geos), len(self.indicators))

    def year_index(self, year: int) -> int:
        return self.years.index(int(year))

    def geo_index(self, geo: str) -> int:
        return self.geos.index(geo)


def year_array(first: int, last: int) -> np.ndarray:
    return np.arange(first, last + 1, dtype=np.int64)
