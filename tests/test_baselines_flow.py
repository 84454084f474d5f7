"""The baselines read a yearly flow's full-year readings, not a part of a year averaged with the year. Every
reading and draw below is SYNTHETIC, made in these tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dxsim.analyses import baselines, scoring
from dxsim.analyses.origins import OriginFit, baseline_forecasts
from dxsim.core.model import Law
from dxsim.core.paths import Ensemble

LEVELS = scoring.quasi_levels(1000)
DEV = baselines.step_deviation(np.array([1.0, 2.0, 3.0, 4.0]), LEVELS)
IND, DFN = "digital_economy_grdp_share", "mic_method"     # a yearly flow read mid-year (reading_month 6)
WHEN = np.array([2024.5, 2025.5])


def _readings(geo: str, rows: list[tuple[int, str, float, float]]) -> pd.DataFrame:
    """SYNTHETIC readings (year, period, decimal time, value) of one digital-economy series."""
    frame = pd.DataFrame(rows, columns=["year", "period", "time", "value"])
    return frame.assign(geo=geo, indicator=IND, definition=DFN)


# SYNTHETIC: annual figures 2021-2023 and a first-half 2023 figure placed at the same time as the annual one
ANNUAL = _readings("vietnam", [(2021, "", 2021.5, 12.0), (2022, "2022-12", 2022.5, 14.0),
                               (2023, "", 2023.5, 16.5)])
HALF = _readings("vietnam", [(2023, "2023-06", 2023.5, 15.0)])
# SYNTHETIC: a province with partial-year figures only (a first quarter, a first half)
PARTIAL_ONLY = _readings("da_nang", [(2022, "2022-03", 2022.25, 18.0), (2023, "2023-06", 2023.5, 19.0)])


@pytest.fixture(scope="module")
def fit(cfg):
    """An origin-2023 fit whose national draws stay at 15% every year (SYNTHETIC), with the readings above."""
    series = tuple(cfg.series())
    years = tuple(range(2020, 2027))
    I, K, D = len(cfg.indicators), len(series), 4
    z = np.full((len(years), 1, 1, I, D), np.log(15.0 / 85.0))
    ens = Ensemble(scenarios=("s",), geos=("vietnam",), years=years, indicators=cfg.indicator_names,
                   series=series, draws=D, first_projected_year=2024, laws=(Law("logistic"),) * I, z=z,
                   series_offset=np.zeros((K, D)), series_ceiling=np.full(K, 100.0), own_series=(),
                   own_z=np.zeros((len(years), 1, 1, 0, D)), event_lift=np.zeros((len(years), 1, 1, I)))
    history = pd.concat([ANNUAL, HALF, PARTIAL_ONLY], ignore_index=True)
    return OriginFit(2023, cfg, None, ens, history, DEV, LEVELS)


def test_a_flow_baseline_starts_from_the_annual_figure_not_its_mean_with_a_half_year(fit):
    out = baseline_forecasts(fit, "vietnam", IND, DFN, WHEN)
    assert set(out) == set(baselines.BASELINES)
    assert np.median(out["last_value"], axis=1) == pytest.approx([16.5, 16.5])     # not (16.5 + 15.0) / 2
    assert np.allclose(out["national_shift"], 16.5)                  # anchored on the annual figure
    t, v = ANNUAL["time"].to_numpy(), ANNUAL["value"].to_numpy()
    assert np.allclose(out["linear_trend"], baselines.linear_trend(t, v, WHEN, DEV, LEVELS))
    ets = baselines.ets_damped(ANNUAL["year"].to_numpy(), t, v, 6, WHEN, DEV)
    assert np.allclose(out["ets_damped"], ets)


def test_a_series_with_partial_year_readings_only_keeps_its_baselines(fit):
    out = baseline_forecasts(fit, "da_nang", IND, DFN, WHEN)
    assert {"last_value", "linear_trend", "national_shift", "combination"} <= set(out)
    assert np.median(out["last_value"], axis=1) == pytest.approx([19.0, 19.0])


def test_yearly_readings_leave_a_stock_untouched(cfg):
    stock = cfg.indicator("fiber_household_share")                   # not a flow: a March reading is a reading
    rows = pd.DataFrame({"period": ["2022-03", "", "2023-12"], "value": [1.0, 2.0, 3.0]})
    assert len(baselines.yearly_readings(stock, rows)) == 3
    assert list(baselines.yearly_readings(cfg.indicator(IND), rows)["value"]) == [2.0, 3.0]
