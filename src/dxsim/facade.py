"""The library in a few calls, for notebooks and scripts in any folder (re-exported by ``import dxsim``).

Inputs -> calibration -> scenarios -> runs -> tidy tables, files, charts and the report. Each call is one stage;
pass what one returns to the next, so a calibration is fitted once and reused by every scenario.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Callable

    from dxsim.analyses.required_investment import RequiredInvestment
    from dxsim.analyses.sensitivity import SensitivityResult
    from dxsim.core.calibrate import Calibrator
    from dxsim.inputs.scenario import Scenario
    from dxsim.outputs.comparability import Comparison
    from dxsim.outputs.runtables import RunTables
    from dxsim.pipeline import Inputs, RunResult

def load_inputs(config: str | Path | None = None, observations: str | Path | None = None,
                targets: str | Path | None = None) -> Inputs:
    """Read and validate the calibration config, observations and targets (default: ``./calibration``, else the
    calibration installed with dxsim)."""
    from dxsim.pipeline import load_inputs as _load

    return _load(config, observations, targets)


def calibrate(inputs: Inputs | None = None, as_of: int | None = None) -> Calibrator:
    """Fit the model to the inputs' readings (those dated up to the end of ``as_of``, a year, when given)."""
    from dxsim import progress
    from dxsim.core.saved_calibration import fitted_calibrator

    inputs = inputs or load_inputs()
    with progress.stage("calibrate"):       # a calibration saved for the same inputs is the same fit, reused
        return fitted_calibrator(inputs.config, inputs.observations, as_of)


def save_calibration(calibrator: Calibrator, inputs: Inputs | None = None, folder: str | Path | None = None,
                     as_of: int | None = None) -> Path:
    """Save a calibration fitted to ``inputs`` (with ``as_of``, as given to ``calibrate``) into ``folder``
    (default: where ``dxsim run`` looks, ``results/calibration`` or ``$DXSIM_CACHE_DIR``), as ``dxsim calibrate``
    does; returns the folder."""
    from dxsim.core import saved_calibration

    folder = saved_calibration.cache_folder() if folder is None else Path(folder)
    saved_calibration.save(calibrator, (inputs or load_inputs()).observations, folder, as_of)
    return folder


def write_calibration(folder: str | Path | None = None, inputs: Inputs | None = None, draws: int = 2000,
                      seed: int = 0, as_of: int | None = None) -> Calibrator:
    """Fit the model afresh and write a calibration folder, as ``dxsim calibrate`` does: parameters.csv,
    fit_table.csv and fit_residuals.csv, ``draws`` parameter draws (draws.npz, seeded by ``seed``), the saved
    calibration that ``run`` loads (calibration.npz, .json) and diagnostics/ (each fitted curve with its
    readings). ``folder``: default where ``dxsim run`` looks (``results/calibration`` or ``$DXSIM_CACHE_DIR``);
    written atomically. Returns the fitted Calibrator."""
    import numpy as np

    from dxsim import progress
    from dxsim.core import saved_calibration
    from dxsim.core.calibrate import Calibrator
    from dxsim.outputs.explicit_tables import write_fit
    from dxsim.outputs.plots import calibration_diagnostics
    from dxsim.outputs.results import atomic_output_dir, check_output_dir, write_csv

    folder = saved_calibration.cache_folder() if folder is None else Path(folder)
    check_output_dir(folder)
    inputs = inputs or load_inputs()
    with progress.stage("calibrate"):
        cal = Calibrator(inputs.config).fit(inputs.observations, as_of=as_of)
        sampled = cal.sample(draws, seed)
    with progress.stage("outputs"), atomic_output_dir(folder) as tmp:
        write_csv(cal.parameter_table(), tmp / "parameters.csv")
        write_fit(cal.fit_table(), tmp)
        np.savez_compressed(tmp / "draws.npz", **sampled.to_npz_dict())
        saved_calibration.save(cal, inputs.observations, tmp, as_of=as_of)
        calibration_diagnostics(cal, sampled, tmp / "diagnostics")
    return cal


def load_calibration(inputs: Inputs | None = None, folder: str | Path | None = None,
                     as_of: int | None = None) -> Calibrator:
    """The calibration saved by ``dxsim calibrate`` or ``save_calibration`` in ``folder`` (default: where
    ``dxsim run`` looks), for these inputs (and ``as_of``, a year); fit once, then run many scenarios with it.
    An InputError naming the file when it is missing or was fitted to other inputs (then: ``calibrate``)."""
    from dxsim.core import saved_calibration
    from dxsim.core.calibrate import Calibrator
    from dxsim.errors import InputError

    inputs = inputs or load_inputs()
    folder = saved_calibration.cache_folder() if folder is None else Path(folder)
    key = saved_calibration.calibration_key(inputs.config, inputs.observations, as_of)
    posteriors = saved_calibration.load(folder, key)
    if posteriors is None or set(posteriors) != set(inputs.config.indicator_names):
        raise InputError(str(folder / saved_calibration.META), "calibration",
                         "no saved calibration of these inputs there (missing, or fitted to another config, "
                         "readings or as_of); fit one with dxsim.calibrate or `dxsim calibrate`")
    return Calibrator(inputs.config).restore(inputs.observations, posteriors, as_of,
                                              source=folder / saved_calibration.META)


def load_scenario(scenario: str | Path, inputs: Inputs | None = None) -> Scenario:
    """A scenario from its TOML file, or a shipped scenario by name (``"baseline"``), validated against the
    inputs' calibration."""
    from dxsim.inputs.locate import find_scenario
    from dxsim.inputs.observations import known_geos
    from dxsim.inputs.scenario import load_scenario as _load

    cfg = (inputs or load_inputs()).config
    return _load(find_scenario(scenario), cfg, known_geos(cfg))


def make_scenario(name: str, inputs: Inputs | None = None, **fields: Any) -> Scenario:
    """A scenario built in code from the fields of a scenario file (``investment={"broadband": 1.5}``,
    ``events=[...]``, ``geos=[...]``, ``horizon``, ...; see scenarios/README.md), validated as a file is."""
    from dxsim.inputs.observations import known_geos
    from dxsim.inputs.scenario import parse_scenario

    cfg = (inputs or load_inputs()).config
    return parse_scenario({"name": name, **fields}, cfg, known_geos(cfg))


def run(scenarios: str | Path | Scenario | Sequence[str | Path | Scenario], inputs: Inputs | None = None,
        calibrator: Calibrator | None = None, draws: int | None = None, seed: int | None = None
        ) -> RunResult | list[RunResult]:
    """Simulate one scenario (-> a RunResult) or several (-> a list), all with one calibration (fitted here when
    not given). ``draws``/``seed``: Monte Carlo draws and random seed (default: each scenario's own)."""
    from dxsim.inputs.scenario import Scenario
    from dxsim.pipeline import run_scenario

    one = isinstance(scenarios, str | Path | Scenario)
    inputs = inputs or load_inputs()
    calibrator = calibrator or calibrate(inputs)
    results = [run_scenario(s if isinstance(s, Scenario) else load_scenario(s, inputs), draws, seed, inputs,
                            calibrator=calibrator) for s in ([scenarios] if one else scenarios)]
    return results[0] if one else results


def _scenario(scenario: str | Path | Scenario, inputs: Inputs) -> Scenario:
    from dxsim.inputs.scenario import Scenario

    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario, inputs)


def sensitivity(scenario: str | Path | Scenario, inputs: Inputs | None = None, calibrator: Calibrator | None = None,
                method: str = "sobol", n: int | None = None, factors: str | Path | None = None, draws: int = 1000,
                seed: int | None = None, workers: int | None = None, scheduler: str | None = None,
                announce: Callable[[str], None] | None = None) -> SensitivityResult:
    """Which factors (levers and assumptions; ``factors``: a TOML file, default generated) move each target
    probability and headline median of a scenario: Sobol (``n`` base samples, a power of two) or Morris (``n``
    trajectories), every sample with the same ``draws`` and ``seed`` (default: the scenario's). Batches run
    in-process, or on ``workers`` local Dask processes or a Dask ``scheduler``. Write it with
    ``write_sensitivity(result, folder)``, as ``dxsim sensitivity`` does."""
    from dxsim.analyses.batches import BatchRunner
    from dxsim.analyses.sensitivity import samples_of
    from dxsim.analyses.sensitivity import sensitivity as _study

    samples_of(method, n)                                       # refuse a bad method or n before calibrating
    inputs = inputs or load_inputs()
    scenario = _scenario(scenario, inputs)
    calibrator = calibrator or calibrate(inputs)
    return _study(calibrator, scenario, inputs, method, n, factors, draws, seed, BatchRunner(workers, scheduler),
                  announce)


def required_investment(scenario: str | Path | Scenario, inputs: Inputs | None = None,
                        calibrator: Calibrator | None = None, probability: float = 0.8, draws: int = 1000,
                        seed: int | None = None, pillars: Sequence[str] | None = None,
                        geos: Sequence[str] | None = None, target_names: Sequence[str] | None = None,
                        max_multiple: float = 10.0, tolerance: float = 0.01, workers: int | None = None,
                        scheduler: str | None = None) -> RequiredInvestment:
    """The smallest investment multiple of each target's pillar in its geo from which P(met) reaches
    ``probability`` (targets filtered by ``pillars``, ``geos`` and ``target_names``, 'indicator' or
    'indicator/definition'), searched between the scenario's multiple and ``max_multiple`` to ``tolerance``, with
    the same ``draws`` and ``seed`` (default: the scenario's) at every multiple. Write it with
    ``write_required_investment(result, folder)``, as ``dxsim required-investment`` does."""
    from dxsim.analyses.batches import BatchRunner
    from dxsim.analyses.required_investment import check_arguments, required_investment_study

    inputs = inputs or load_inputs()
    scenario = _scenario(scenario, inputs)
    filters = [list(f) if f else None for f in (pillars, geos, target_names)]
    check_arguments(inputs.config, scenario, probability, max_multiple, tolerance, filters[1], filters[2])
    calibrator = calibrator or calibrate(inputs)
    return required_investment_study(calibrator, scenario, inputs, probability, draws, seed, *filters,
                                     max_multiple, tolerance, BatchRunner(workers, scheduler))


def write_sensitivity(result: SensitivityResult, folder: str | Path, charts: bool = True) -> Path:
    """Write a sensitivity study's folder (sensitivity.csv, sensitivity_outputs.csv, factors.toml, manifest.json,
    ranked charts unless ``charts`` is False), atomically."""
    from dxsim.analyses.sensitivity import write_sensitivity as _write

    return _write(result, folder, charts=charts)


def write_required_investment(result: RequiredInvestment, folder: str | Path, charts: bool = True) -> Path:
    """Write a required-investment folder (required_investment.csv, the curves, manifest.json, charts unless
    ``charts`` is False), atomically."""
    from dxsim.analyses.required_investment import write_required_investment as _write

    return _write(result, folder, charts)


def compare(folders: Sequence[str | Path], out: str | Path = "results/compare", lang: str = "en",
            formats: Sequence[str] | None = None) -> Comparison:
    """Draw the medians and 80% bands of two or more results folders together (per geo x headline indicator),
    as ``dxsim compare`` does; the result's ``warning`` says in one line when the runs differ in seed, draws,
    calibration or data (then their differences include Monte Carlo noise)."""
    from dxsim.outputs.comparability import compare_runs

    return compare_runs(folders, out, lang, formats)


def _results(results: RunResult | Iterable[RunResult]) -> list[RunResult]:
    from dxsim.pipeline import RunResult

    return [results] if isinstance(results, RunResult) else list(results)


def target_probabilities(results: RunResult | Iterable[RunResult]) -> pd.DataFrame:
    """P(target met) of one or several runs as one tidy table: a row per scenario and target (the columns of
    ``target_probabilities.csv``)."""
    return pd.concat([r.target_probabilities for r in _results(results)], ignore_index=True)


def trajectories(results: RunResult | Iterable[RunResult]) -> pd.DataFrame:
    """Median, mean and quantiles (percent) per scenario, geo, series and year, as in ``trajectories.csv``."""
    return pd.concat([r.trajectories for r in _results(results)], ignore_index=True)


def write_results(result: RunResult, folder: str | Path, charts: bool = True, lang: str = "en",
                  clean: bool = False) -> Path:
    """Write a run's results folder (tables, manifest, and charts unless ``charts`` is False), atomically, as
    ``dxsim run`` does."""
    from dxsim.pipeline import write_run

    writers = ()
    if charts:
        from dxsim.outputs.charts import write_run_charts

        writers = (lambda res, tmp: write_run_charts(res, tmp, lang=lang),)
    return write_run(result, folder, writers, clean=clean)


def read_results(folder: str | Path) -> RunTables:
    """A results folder's tables (trajectories, target probabilities, manifest, ...), validated."""
    from dxsim.outputs.runtables import read_run

    return read_run(folder)


def plot_results(folder: str | Path, lang: str = "en", formats: Sequence[str] | None = None,
                 geos: Sequence[str] | None = None, indicators: Sequence[str] | None = None,
                 out: str | Path | None = None) -> list[Path]:
    """(Re-)draw a results folder's charts into its ``charts/`` (or ``out``), as ``dxsim plot`` does; returns the
    files drawn."""
    from dxsim.outputs import style
    from dxsim.outputs.report import plot_run

    return plot_run(folder, lang, tuple(formats or style.FORMATS), geos, indicators, out)


def write_report(folders: str | Path | Sequence[str | Path], out: str | Path | None = None,
                 lang: str = "en") -> Path:
    """Write the self-contained HTML report of one or more results folders (default: report.html in the
    first); returns its path."""
    from dxsim.outputs.report import write_report as _write

    return _write([folders] if isinstance(folders, str | Path) else list(folders), out, lang)
