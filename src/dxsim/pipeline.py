"""The whole job as library calls: observations -> calibration -> scenario -> ensemble -> targets -> files.

    from dxsim.pipeline import run_scenario
    result = run_scenario("scenarios/baseline.toml", draws=500, seed=1)
    result.trajectories.head()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim import __version__, progress
from dxsim.core.calibrate import Calibrator
from dxsim.core.ensemble import evaluate, sample_run
from dxsim.core.evidence import target_evidence
from dxsim.core.national import national_consistency
from dxsim.core.paths import Ensemble
from dxsim.core.programme_impact import programme_table
from dxsim.core.saved_calibration import fitted_calibrator
from dxsim.core.simulate import at_bound_shares
from dxsim.core.streams import VERSION as STREAMS_VERSION
from dxsim.core.targets import all_targets_probabilities, evaluation_targets, target_met, target_probabilities
from dxsim.core.verdicts import with_verdicts
from dxsim.inputs.config import CalibrationConfig, load_config
from dxsim.inputs.fingerprint import sha256_file
from dxsim.inputs.geography import geography_manifest, load_geomap, readings_of
from dxsim.inputs.observations import known_geos, load_observations, load_targets, with_jump_off
from dxsim.inputs.scenario import Scenario, load_scenario
from dxsim.outputs.explicit_tables import write_fit, write_targets
from dxsim.outputs.headline_draws import write_headline_draws
from dxsim.outputs.results import atomic_output_dir, write_csv, write_json
from dxsim.outputs.run_inputs import copy_run_inputs


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads, validated."""

    config: CalibrationConfig
    observations: pd.DataFrame
    observations_path: Path
    targets: pd.DataFrame
    targets_path: Path


def load_inputs(config: str | Path | None = None, observations: str | Path | None = None,
                targets: str | Path | None = None, reuse: bool = False) -> Inputs:
    """Read and validate the config, observations and targets; with ``reuse``, the tables an earlier command
    saved for the same files and code instead of reading them again (``saved_inputs.py``: identical values)."""
    cfg = load_config(config)
    obs_path = Path(observations) if observations else cfg.observations
    tgt_path = Path(targets) if targets else cfg.targets
    key = saved = None
    if reuse:
        from dxsim.core import saved_inputs

        key = saved_inputs.key_of(cfg, obs_path, tgt_path)
        saved = saved_inputs.load(key)
    if saved:
        obs, tgt, jump_off = saved
        return Inputs(replace(cfg, jump_off_year=jump_off), obs, obs_path, tgt, tgt_path)
    obs = load_observations(cfg, obs_path)
    cfg = with_jump_off(cfg, obs)
    tgt = load_targets(cfg, tgt_path)
    if key and saved_inputs.key_of(cfg, obs_path, tgt_path) == key:     # no file changed while it was read
        saved_inputs.save(key, obs, tgt, cfg.jump_off_year)
    return Inputs(cfg, obs, obs_path, tgt, tgt_path)


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    calibrator: Calibrator
    ensemble: Ensemble
    trajectories: pd.DataFrame
    target_probabilities: pd.DataFrame
    all_targets: pd.DataFrame
    observations: pd.DataFrame        # readings used by the fit, for the scenario's geos
    manifest: dict
    programmes: pd.DataFrame = field(default_factory=pd.DataFrame)   # programme_impact.PROGRAMME_COLUMNS
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)      # the targets file as read (validated)
    national: pd.DataFrame = field(default_factory=pd.DataFrame)     # core.national: provinces vs nation


def within_bound(ensemble: Ensemble, cfg: CalibrationConfig) -> dict[str, dict[str, dict]]:
    """manifest.json's ``within_bound``: per indicator and subset definition bounded by its anchor (``within``),
    the share of each simulated geo's projected draws on the bound (``simulate.at_bound_shares``), 4 decimals."""
    out: dict[str, dict[str, dict]] = {}
    geos = ensemble.model_geos or ensemble.geos
    for (ind, definition), shares in at_bound_shares(ensemble, cfg).items():
        out.setdefault(ind, {})[definition] = {
            "within": cfg.indicator(ind).definition(definition).within,
            "projected_draws_at_bound": {g: round(float(s), 4) for g, s in zip(geos, shares, strict=True)}}
    return out


def run_scenario(scenario: str | Path | Scenario, draws: int | None = None, seed: int | None = None,
                 inputs: Inputs | None = None, as_of: int | None = None,
                 calibrator: Calibrator | None = None, refit: bool = False) -> RunResult:
    """Simulate one scenario (a file or a ``Scenario``) with ``calibrator``, fitted to the inputs (default: the
    shipped calibration) here when not given (a given one must be fitted on ``inputs`` with this ``as_of``).
    Fitting here loads the calibration saved by ``dxsim calibrate`` for the same inputs instead, unless ``refit``
    (``core/saved_calibration.py``); results are identical either way."""
    inputs = inputs or load_inputs()
    cfg = inputs.config
    scen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, cfg, known_geos(cfg))
    draws = int(draws if draws is not None else scen.settings.draws)
    seed = int(seed if seed is not None else scen.settings.seed)
    if calibrator is None:
        with progress.stage("calibrate"):
            calibrator = fitted_calibrator(cfg, inputs.observations, as_of, refit=refit)
    with progress.stage("rollouts") if scen.programmes else contextlib.nullcontext():
        samples = sample_run(calibrator, draws, seed, scen)       # once: every evaluation of the run reuses them
    ensemble = evaluate(calibrator, [scen], samples)
    targets = evaluation_targets(cfg, inputs.targets)     # a target of a mapped definition: one row per meaning
    rollouts = samples.rollouts
    programmes = pd.DataFrame() if rollouts is None else \
        programme_table(calibrator, scen, targets, ensemble, samples)
    used = readings_of(load_geomap(cfg), calibrator.observations_, ensemble.aggregation)
    national, national_status = national_consistency(ensemble, cfg, calibrator.observations_)
    manifest = {
        "dxsim_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "scenario": {"name": scen.name, "file": None if scen.path is None else str(scen.path),
                     "sha256": None if scen.path is None else sha256_file(scen.path)},   # None: built in code
        "observations": {"file": str(inputs.observations_path), "sha256": sha256_file(inputs.observations_path),
                         "rows_used": int(len(calibrator.observations_)),
                         "recent_left_out": recent_left_out(cfg, inputs.observations, calibrator.jump_off_year_)},
        "targets": {"file": str(inputs.targets_path), "sha256": sha256_file(inputs.targets_path)},
        "calibration": {"config": str(cfg.path), "sha256": sha256_file(cfg.path),
                        "jump_off_year": calibrator.jump_off_year_, "as_of": as_of,
                        "loaded_from": str(getattr(calibrator, "restored_from_", None) or "") or None,
                        "data_through": calibrator.data_through_.to_json(),
                        "hyper_parameters_at_mode": {
                            name: dict(zip(post.hyper_names,
                                           np.round(post.hyper_map, 6).tolist(), strict=True))
                            for name, post in calibrator.posteriors_.items()}},
        "seed": seed,
        "draws": draws,
        "random_streams": STREAMS_VERSION,
        "within_bound": within_bound(ensemble, cfg),
        "geography": {**geography_manifest(cfg, ensemble.aggregation), "national_consistency": national_status},
    }
    if rollouts is not None:
        manifest["rollouts"] = rollouts.n_rollouts
    with progress.stage("targets", total=2) as advance:
        evaluated = target_met(ensemble, cfg, targets)
        probabilities = with_verdicts(target_probabilities(ensemble, cfg, targets, evaluated), targets,
                                      inputs.observations)
        probabilities["evidence"] = target_evidence(calibrator.observations_, probabilities)
        advance(1)
        all_targets = all_targets_probabilities(ensemble, cfg, targets, evaluated)
    with progress.stage("trajectory quantiles"):
        trajectories = ensemble.trajectories()
    result = RunResult(scen, calibrator, ensemble, trajectories, probabilities, all_targets, used, manifest,
                       programmes, inputs.targets, national)
    check_finite(result)
    return result


def recent_left_out(cfg: CalibrationConfig, observations: pd.DataFrame, jump_off: int) -> list[dict]:
    """The readings of modelled indicators dated in the last two years of data that the fit does not use, each
    with the reason (a lower bound, the 34-province map, a method not stated, a superseded release, ...)."""
    rows = observations[observations["indicator"].isin(cfg.indicator_names) & (observations["status"] != "used")
                        & observations["year"].between(jump_off - 1, jump_off)]
    return [{"geo": r.geo, "indicator": r.indicator, "definition": r.definition, "year": int(r.year),
             "period": r.period or None, "value": float(r.value), "reason": r.status} for r in rows.itertuples()]


class NonFiniteOutputError(RuntimeError):
    """A NaN or infinity reached an output table: a defect (exit 1), never written as empty cells."""


def check_finite(result: RunResult) -> None:
    """NonFiniteOutputError naming the stage if a trajectory value, an evaluable target's probability or a
    programme's probability is NaN or infinite, or a probability lies outside [0, 1] (a delta outside [-1, 1])."""
    tr = result.trajectories
    tp = result.target_probabilities
    checks = [("ensemble (trajectories.csv)", tr.select_dtypes("number").to_numpy(float), None),
              ("targets (target_probabilities.csv)", tp.loc[tp["evaluable"].astype(bool), "probability"], (0, 1)),
              ("targets (all_targets_probabilities.csv)", result.all_targets["probability"], (0, 1))]
    if not result.programmes.empty:
        pr = result.programmes.dropna(subset=["probability_delta"])
        checks += [("programmes (programmes.csv)", pr[["probability_with", "probability_without"]], (0, 1)),
                   ("programmes (programmes.csv)", pr["probability_delta"], (-1, 1))]
    for stage, values, bounds in checks:
        arr = np.asarray(values, dtype=float)
        bad = int((~np.isfinite(arr)).sum())
        if bad:
            raise NonFiniteOutputError(f"the {stage} stage produced {bad} NaN or infinite value(s); nothing was "
                                       "written")
        if bounds and arr.size and (arr.min() < bounds[0] or arr.max() > bounds[1]):
            raise NonFiniteOutputError(f"the {stage} stage produced a probability outside [{bounds[0]}, "
                                       f"{bounds[1]}]; nothing was written")


def write_run(result: RunResult, out: str | Path, extra_writers: tuple = (), clean: bool = False) -> Path:
    """Write a run's files into ``out`` atomically. ``extra_writers`` are callables (result, folder) that add
    files (charts, programme tables) inside the same temporary folder. Files dxsim wrote into ``out`` with
    other commands (report.html, charts in another language) are kept unless ``clean``; files it did not
    write are always kept."""
    out = Path(out)
    with atomic_output_dir(out, clean=clean) as tmp:
        with progress.stage("outputs"):
            _write_tables(result, tmp)
            m = result.manifest               # the inputs copied in make the folder self-contained (run_inputs.py)
            copied = copy_run_inputs(result.calibrator.config, m["observations"]["file"], m["targets"]["file"], tmp)
        _test_pause()
        for writer in progress.track(extra_writers, "charts", unit="set"):
            writer(result, tmp)
        write_json({**result.manifest, "inputs": copied}, tmp / "manifest.json")
    return out


def _write_tables(result: RunResult, tmp: Path) -> None:
    """The run's tables (and a copy of its scenario file) into the temporary folder ``tmp``."""
    write_csv(result.trajectories, tmp / "trajectories.csv")
    write_targets(result.target_probabilities, tmp)      # and targets_not_evaluable.csv
    write_csv(result.all_targets, tmp / "all_targets_probabilities.csv")
    write_csv(result.observations, tmp / "observations_used.csv", as_read=True)
    write_fit(result.calibrator.fit_table(), tmp)        # and fit_residuals.csv
    if not result.programmes.empty:
        write_csv(result.programmes, tmp / "programmes.csv")
    if result.ensemble.aggregation is not None:
        write_csv(result.ensemble.aggregation.table, tmp / "weights.csv")
    if not result.national.empty:
        write_csv(result.national, tmp / "national_consistency.csv")
    if result.scenario.path is not None:
        (tmp / "scenario.toml").write_bytes(Path(result.scenario.path).read_bytes())
    if not result.targets.empty:          # the report's target documents come from here, inside the folder
        write_csv(result.targets, tmp / "targets_used.csv", as_read=True)
    write_headline_draws(result, tmp)     # per-draw headline values: paired scenario differences (compare, report)


TEST_PAUSE_ENV = "DXSIM_TEST_PAUSE_WRITING"


def _test_pause() -> None:
    """Test-only: with ``DXSIM_TEST_PAUSE_WRITING=S`` a run sleeps S seconds inside its temporary folder, after
    the tables and before the charts and the manifest, so that a test can interrupt the writing for sure."""
    seconds = os.environ.get(TEST_PAUSE_ENV)
    if seconds:
        time.sleep(float(seconds))
