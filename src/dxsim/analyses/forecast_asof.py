"""Forecasts as of a past year: ``dxsim forecast --as-of`` and the draws of a series at a reading's time.

``forecast_as_of`` calibrates on the readings dated up to the end of the origin year
(``Calibrator.fit(as_of=)``, so projections start the year after) and simulates the baseline scenario
(investment multiple 1 everywhere).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim import __version__
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import run_ensemble
from dxsim.core.paths import Ensemble
from dxsim.errors import ArgumentError, InputError
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.fingerprint import sha256_file
from dxsim.inputs.geography import model_regions
from dxsim.inputs.observations import NATIONAL, YEAR_RANGE, known_geos, used_observations
from dxsim.inputs.scenario import DEFAULT_GEOS, RunSettings, Scenario
from dxsim.outputs.results import atomic_output_dir, write_csv, write_json
from dxsim.pipeline import Inputs

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 0
DEFAULT_HORIZON = 2030


# ---- forecast as of a year ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Forecast:
    """A baseline-scenario forecast made with the readings dated up to the end of ``as_of``."""

    as_of: int
    calibrator: Calibrator
    ensemble: Ensemble
    manifest: dict

    @property
    def trajectories(self) -> pd.DataFrame:
        return self.ensemble.trajectories()


def baseline_scenario(geos: tuple[str, ...], horizon: int, draws: int, seed: int) -> Scenario:
    """The baseline scenario in code: investment multiple 1 in every pillar, no events."""
    return Scenario(name="baseline", description="investment at the calibrated baseline effort (multiple 1)",
                    geos=tuple(geos), unit="multiple", investment={},
                    settings=RunSettings(horizon=horizon, draws=draws, seed=seed), regions=model_regions(geos))


def forecast_geos(cfg: CalibrationConfig, available: pd.DataFrame,
                  extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Geos with a reading in ``available``, the national series, the default scenario geos and ``extra``, in
    the known-geo order (``vietnam`` first). A geo's values do not depend on which other geos are simulated
    (the ensemble draws its noise for every known geo)."""
    wanted = set(available["geo"]) | set(DEFAULT_GEOS) | {NATIONAL} | set(extra)
    return tuple(g for g in known_geos(cfg) if g in wanted)


def _check_year(value: int, argument: str) -> None:
    if not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise ArgumentError(argument, f"must be a year in {YEAR_RANGE[0]}-{YEAR_RANGE[1]}, got {value}")


def forecast_as_of(inputs: Inputs, as_of: int, horizon: int | None = None, draws: int = DEFAULT_DRAWS,
                   seed: int = DEFAULT_SEED) -> Forecast:
    """Calibrate on ``inputs`` using only readings dated up to the end of ``as_of`` and project the baseline
    scenario to ``horizon`` (default 2030, or the year after ``as_of``)."""
    cfg = inputs.config
    _check_year(as_of, "as_of")
    horizon = int(horizon) if horizon is not None else max(DEFAULT_HORIZON, as_of + 1)
    _check_year(horizon, "horizon")
    if horizon <= as_of:
        raise ArgumentError("horizon", f"must be after the as-of year {as_of}, got {horizon}")
    available = used_observations(inputs.observations, as_of)
    if available.empty:
        raise InputError(inputs.observations_path, "year", f"no usable reading is dated {as_of} or earlier")
    calibrator = Calibrator(cfg).fit(inputs.observations, as_of=as_of)
    scenario = baseline_scenario(forecast_geos(cfg, available), horizon, draws, seed)
    ensemble = run_ensemble(calibrator, [scenario], draws, seed)
    manifest = {
        "dxsim_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": "forecast",
        "as_of": as_of,
        "horizon": horizon,
        "scenario": {"name": scenario.name, "description": scenario.description, "geos": list(scenario.geos)},
        "observations": {"file": str(inputs.observations_path),
                         "sha256": sha256_file(inputs.observations_path),
                         "rows_used": int(len(calibrator.observations_)),
                         "last_year_used": int(calibrator.observations_["year"].max())},
        "calibration": {"config": str(cfg.path), "sha256": sha256_file(cfg.path),
                        "jump_off_year": calibrator.jump_off_year_, "as_of": as_of},
        "seed": seed,
        "draws": draws,
    }
    return Forecast(as_of, calibrator, ensemble, manifest)


def write_forecast(forecast: Forecast, out: str | Path) -> Path:
    """trajectories.csv (run schema), observations_used.csv and manifest.json, atomically to ``out``."""
    out = Path(out)
    with atomic_output_dir(out) as tmp:
        write_csv(forecast.trajectories, tmp / "trajectories.csv")
        write_csv(forecast.calibrator.observations_, tmp / "observations_used.csv", as_read=True)
        write_json(forecast.manifest, tmp / "manifest.json")
    return out


# ---- draws at a reading's time -----------------------------------------------------------------------------
def draws_at(ensemble: Ensemble, cfg: CalibrationConfig, geo: str, indicator: str, definition: str,
             times: np.ndarray) -> np.ndarray:
    """Latent draws (len(times), draw) in percent of one series at decimal ``times``: the yearly values sit at
    the indicator's reading month; between two of them each draw is interpolated linearly."""
    month = cfg.indicator(indicator).reading_month
    g, k = ensemble.geos.index(geo), ensemble.series.index((indicator, definition))
    pos = np.asarray(times, float) - month / 12.0
    year = np.floor(pos + 1e-9).astype(int)
    weight = np.where(pos - year < 1e-9, 0.0, pos - year)
    out = np.empty((len(pos), ensemble.draws))
    for j, (y, w) in enumerate(zip(year, weight, strict=True)):
        missing = [int(v) for v in (y, y + 1)[: 1 + (w > 0)] if int(v) not in ensemble.years]
        if missing:
            raise ValueError(f"the ensemble does not cover year(s) {missing} needed at time {pos[j]:.3f}")
        out[j] = ensemble.values(int(y), series=[k], geos=[g])[0, 0, 0]
        if w > 0:
            out[j] = (1 - w) * out[j] + w * ensemble.values(int(y) + 1, series=[k], geos=[g])[0, 0, 0]
    return out
