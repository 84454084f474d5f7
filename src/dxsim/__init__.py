"""dxsim: calibrated forecasts of Vietnam's provincial digital transformation and target probabilities.

From Python (every name is imported on first use, so ``import dxsim`` stays fast)::

    import dxsim
    inputs = dxsim.load_inputs()                   # the calibration: ./calibration, else the one installed
    results = dxsim.run(["baseline", "accelerated"], inputs, draws=500)
    dxsim.target_probabilities(results)            # a tidy DataFrame

Functions
    load_inputs           read and validate the calibration config, observations and targets
    calibrate             fit the model (optionally to the readings up to a year); pass it to run
    save_calibration      save a fitted calibration (as `dxsim calibrate` does), for later sessions
    write_calibration     fit afresh and write a calibration folder (tables, draws, diagnostics), as `dxsim calibrate`
    load_calibration      load a saved calibration of the same inputs: calibrate once, run many scenarios
    load_scenario         a scenario from a TOML file, or a shipped one by name ("baseline")
    make_scenario         a scenario built in code from the fields of a scenario file
    run                   simulate one scenario (-> RunResult) or several (-> list), with one calibration
    target_probabilities  P(target met) of one or several runs as one tidy DataFrame
    trajectories          medians, means and quantiles per scenario, geo, series and year (DataFrame)
    write_results         write a run's results folder (tables, manifest, charts), as `dxsim run` does
    read_results          read a results folder's tables back (RunTables)
    plot_results          (re-)draw a results folder's charts, as `dxsim plot` does
    write_report          write the self-contained report.html of one or more results folders
    compare               draw several results folders together; warns when they differ in seed, draws, data
    sensitivity           which levers and assumptions move each target probability (Sobol or Morris)
    write_sensitivity     write a sensitivity study's folder, as `dxsim sensitivity` does
    required_investment   the smallest investment multiple from which each target reaches a probability
    write_required_investment  write its folder, as `dxsim required-investment` does
    shipped_scenarios     the names of the scenarios installed with dxsim

Types
    Inputs, Calibrator, Scenario (levers), RunSettings (horizon, draws, seed, rollouts: Scenario.settings), Event,
    RunResult, RunTables, Comparison, SensitivityResult, RequiredInvestment; InputError (bad input: names the
    file and field or the argument), ArgumentError (an InputError about a function argument).

The command line (``dxsim --help``) is a thin layer over the same calls.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# dxsim's linear algebra is on small matrices (~150 x 150), where a multi-threaded BLAS costs more than it saves
# (an order of magnitude on a busy 2-core machine). Effective only if numpy is not imported yet; results do not
# depend on it. Set the variables yourself to override.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# the package's version, also its metadata's (pyproject.toml reads it from here): no importlib.metadata at start-up
__version__ = "0.1.0"

# name -> module it lives in; imported on first access (PEP 562)
_FACADE = {
    **dict.fromkeys(("load_inputs", "calibrate", "save_calibration", "write_calibration", "load_calibration",
                     "load_scenario",
                     "make_scenario", "run", "target_probabilities",
                     "trajectories", "write_results", "read_results", "plot_results", "write_report",
                     "compare", "sensitivity", "write_sensitivity", "required_investment",
                     "write_required_investment"),
                    "dxsim.facade"),
    "shipped_scenarios": "dxsim.inputs.locate",
    "Inputs": "dxsim.pipeline", "RunResult": "dxsim.pipeline",
    "Calibrator": "dxsim.core.calibrate",
    "Scenario": "dxsim.inputs.scenario", "RunSettings": "dxsim.inputs.scenario", "Event": "dxsim.inputs.scenario",
    "RunTables": "dxsim.outputs.runtables", "Comparison": "dxsim.outputs.comparability",
    "SensitivityResult": "dxsim.analyses.sensitivity", "RequiredInvestment": "dxsim.analyses.required_investment",
    "InputError": "dxsim.errors", "ArgumentError": "dxsim.errors",
}

__all__ = ["__version__", *_FACADE]


def __getattr__(name: str) -> Any:
    if name in _FACADE:
        value = getattr(importlib.import_module(_FACADE[name]), name)
        globals()[name] = value            # later lookups skip this function
        return value
    raise AttributeError(f"module 'dxsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FACADE})
