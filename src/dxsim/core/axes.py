"""Labelled array axes of the ensemble, documented in one place.

Arrays in the core are plain numpy; their axes come in this order (a subset, never permuted):

===========  ===========================================================  ===========
axis         meaning                                                      label type
===========  ===========================================================  ===========
year         calendar year; value at the indicator's reading month        int
scenario     scenarios simulated together (common random numbers)         str name
geo          province (pre-2025 boundaries) or ``vietnam``                str geo id
indicator    modelled indicator (its anchor definition's latent share)    str id
series       (indicator, definition) pair reported to users               (str, str)
draw         Monte Carlo draw: one parameter draw + one noise path        int 0..D-1
===========  ===========================================================  ===========

Draws are always the last axis, so reductions over them (quantiles, means, target checks) read contiguous
memory: latent paths are (year, scenario, geo, indicator, draw), percent values (scenario, geo, series, draw).
Parameter draws from the calibration are the exception, (draw, geo, indicator), transposed once.
The latent state ``z`` lives on the transformed scale of the indicator's diffusion law (``model.Law``);
user-facing values are percent in [0, 100].
"""

from __future__ import annotations

PATH_AXES = ("year", "scenario", "geo", "indicator", "draw")
VALUE_AXES = ("scenario", "geo", "series", "draw")
QUANTILES = (0.025, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.975)
QUANTILE_COLUMNS = ("q025", "q05", "q10", "q25", "q50", "q75", "q90", "q95", "q975")   # in QUANTILES order
# trajectories.csv keeps the contracted q05..q95 first; the 95% interval's ends follow them
TRAJECTORY_QUANTILE_COLUMNS = QUANTILE_COLUMNS[1:-1] + (QUANTILE_COLUMNS[0], QUANTILE_COLUMNS[-1])

