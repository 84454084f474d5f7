"""Experiments: many variants of one scenario, evaluated as the scenario axis of the vectorised ensemble.

A variant is a row of factor values (``factors.py``; NaN: leave that lever as the scenario has it). Every
variant uses the same parameter draws, process noise and programme rollouts (common random numbers, the run's
seed streams), so an output is a deterministic function of the factors and differences between variants are
not Monte Carlo noise. At all-NaN factors a variant reproduces ``dxsim run`` of the scenario exactly.

Variants are evaluated in memory-bounded batches (``Experiment.batch_size``), each batch one ``simulate`` call (no
loop over variants); batches run in-process or on a Dask cluster (``batches.BatchRunner``) with identical
results: a batch's random numbers come from the seed, never from where or in which order it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from dxsim.analyses.factors import Factor
from dxsim.core.calibrate import Calibrator, ParameterDraws
from dxsim.core.drivers import Drivers, ModelFactors, RolloutDrivers
from dxsim.core.ensemble import Replay, Samples, data_ends, ensemble_years
from dxsim.core.paths import Ensemble
from dxsim.core.rollout import Rollouts
from dxsim.core.simulate import reference_times, simulate
from dxsim.core.streams import IndicatorNormals
from dxsim.core.targets import evaluation_targets, meets, unevaluable_reason
from dxsim.inputs.aggregations import aggregation_for
from dxsim.inputs.config import PILLARS, CalibrationConfig
from dxsim.inputs.geography import Aggregation, load_geomap
from dxsim.inputs.scenario import Scenario

# Working memory of one batch (paths, state, rollout effects). Small batches are faster per variant than large
# ones (the yearly temporaries stay in cache and need no fresh pages); ~64 MiB measured best (benchmarks/).
BATCH_BYTES = 64 * 2**20
HEADLINE_YEAR = 2030


@dataclass(frozen=True)
class Output:
    """One response of an experiment: P(target met) (``kind`` = 'probability') or the median of a headline
    series in ``year`` (``kind`` = 'median', percent)."""

    name: str
    kind: str
    geo: str
    indicator: str
    definition: str
    year: int
    comparator: str = ""
    target: float = float("nan")
    document: str = ""


@dataclass(frozen=True)
class Experiment:
    """Everything a batch needs, sampled once (picklable: it is what Dask ships to workers)."""

    cfg: CalibrationConfig
    params: ParameterDraws
    drivers: Drivers                 # the scenario's drivers (one scenario)
    geos: tuple[str, ...]
    years: np.ndarray
    jump_off_year: int
    noise_seed: np.random.SeedSequence
    rollouts: Rollouts | None
    factors: tuple[Factor, ...]
    targets: pd.DataFrame            # the targets behind the probability outputs, in output order
    outputs: tuple[Output, ...]
    data_ends: dict[str, Any]        # ``ensemble.data_ends``: where each indicator's and series' data end
    slope_seed: np.random.SeedSequence | None = None    # stochastic slopes' shocks (the run's fourth stream)
    # ``geos`` are the simulated (model) geos; the outputs read the scenario's geos through this (geography.py)
    aggregation: Aggregation | None = None

    @property
    def draws(self) -> int:
        return int(self.params.level.shape[0])

    @property
    def batch_size(self) -> int:
        """Variants per batch so that one batch stays within ``BATCH_BYTES``."""
        D, G, I, Y = self.draws, len(self.geos), len(self.cfg.indicators), len(self.years)
        per = 8 * D * G * I * (Y // 2 + 5)
        if self.rollouts is not None:
            per += 8 * 3 * Y * G * I * self.rollouts.n_rollouts * 2
        return max(1, BATCH_BYTES // per)


def scenario_outputs(calibrator: Calibrator, targets: pd.DataFrame, geos: tuple[str, ...], years: np.ndarray,
                     medians: bool = True) -> tuple[pd.DataFrame, tuple[Output, ...]]:
    """The outputs of an experiment: every evaluable target due in a projected year of its series on the
    scenario's geos, then (``medians``) each headline series' median in 2030 (or the horizon) per geo. Returns
    the targets and the outputs (targets first, in the same order)."""
    cfg = calibrator.config
    year_tuple = tuple(int(y) for y in years)
    if "evaluated_as" not in targets.columns:
        targets = evaluation_targets(cfg, targets)      # a target of a mapped definition: one row per meaning
    keep = [not _left_out(calibrator, row, geos, year_tuple) for _, row in targets.iterrows()]
    chosen = targets[np.array(keep, dtype=bool)] if len(targets) else targets
    chosen = _one_per_meaning(chosen)
    outs = [Output(f"P(met) {r.geo} {r.indicator}/{_label(r.definition, r.evaluated_as)} {int(r.deadline)} "
                   f"{r.comparator}{float(r.target):g}",
                   "probability", r.geo, r.indicator, r.evaluated_as, int(r.deadline), r.comparator, float(r.target),
                   str(r.document)) for r in chosen.itertuples()]
    if medians:
        year = min(HEADLINE_YEAR, year_tuple[-1])
        for geo in geos:
            for name in cfg.headline:
                anchor = cfg.indicator(name).anchor
                outs.append(Output(f"median {year} {geo} {name}/{anchor}", "median", geo, name, anchor, year))
    return chosen, tuple(outs)


def left_out_targets(calibrator: Calibrator, targets: pd.DataFrame, geos: tuple[str, ...],
                     years: np.ndarray) -> pd.DataFrame:
    """The targets of ``geos`` that are not outputs of an experiment, with the ``reason``: the model cannot
    evaluate them (``evaluable`` False), or they are due before the first projected year of their series."""
    year_tuple = tuple(int(y) for y in years)
    rows = targets[targets["geo"].isin(geos)]
    if "evaluated_as" not in rows.columns:
        rows = evaluation_targets(calibrator.config, rows)
    reasons = [_left_out(calibrator, row, geos, year_tuple) for _, row in rows.iterrows()]
    evaluable = [not unevaluable_reason(calibrator.config, row, geos, year_tuple) for _, row in rows.iterrows()]
    out = rows.assign(reason=reasons, evaluable=evaluable)
    return _one_per_meaning(out[out["reason"] != ""], ["reason", "evaluable"])


def _one_per_meaning(targets: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    """One row per target and meaning, however many documents state it (their names joined)."""
    key = ["geo", "indicator", "definition", "evaluated_as", "deadline", "comparator", "target", *(extra or [])]
    return (targets.groupby(key, sort=False, dropna=False)
            .agg(document=("document", lambda d: "; ".join(dict.fromkeys(str(x) for x in d))))
            .reset_index())


def _left_out(calibrator: Calibrator, row: pd.Series, geos: tuple[str, ...], years: tuple[int, ...]) -> str:
    """Why a target is not an output ('' when it is one)."""
    if reason := unevaluable_reason(calibrator.config, row, geos, years):
        return reason
    last = calibrator.data_through_.series_jump_off(row["indicator"], row["evaluated_as"])
    if int(row["deadline"]) <= last:
        return f"due in {int(row['deadline'])}, not after the last year with data of its series ({last})"
    return ""


def _label(definition: str, evaluated_as: str) -> str:
    """A target's series in an output's name: its own definition, or 'stated as evaluated_as' when mapped."""
    return definition if definition == evaluated_as else f"{definition} as {evaluated_as}"


def build_experiment(calibrator: Calibrator, scenario: Scenario, targets: pd.DataFrame,
                     factors: tuple[Factor, ...], samples: Samples, geos: tuple[str, ...] | None = None,
                     outputs: tuple[pd.DataFrame, tuple[Output, ...]] | None = None) -> Experiment:
    """An experiment of ``scenario`` on the run's ``samples`` (``ensemble.sample_run``: parameter draws, random
    streams and rollouts, sampled once and shared by every variant) for ``geos`` (default: the scenario's);
    ``outputs`` (targets, outputs) default to ``scenario_outputs``. Nothing is sampled here."""
    cfg = calibrator.config
    years = ensemble_years(calibrator, scenario.settings.horizon)
    first = calibrator.jump_off_year_ + 1
    drivers = Drivers.from_scenarios([scenario], cfg, years, first)
    regions = scenario.resolved_regions(cfg)
    aggregation = aggregation_for(cfg, regions)
    if geos is not None:
        aggregation = aggregation.select(tuple(geos))
    all_model = load_geomap(cfg).model_geos_of(regions)
    if aggregation.model_geos != all_model:
        drivers = drivers.select_geos([all_model.index(g) for g in aggregation.model_geos])
    if outputs is None:
        outputs = scenario_outputs(calibrator, targets, aggregation.names, years)
    params = samples.params
    return Experiment(cfg, params, drivers, aggregation.model_geos, years, calibrator.jump_off_year_, samples.noise,
                      samples.rollouts_of(scenario, cfg, years), factors, outputs[0], outputs[1],
                      data_ends(calibrator, params), samples.slope, aggregation)


def evaluate(experiment: Experiment, X: np.ndarray) -> np.ndarray:
    """Outputs (variant, output) of the variants ``X`` (variant, factor), as one ensemble run."""
    exp = experiment
    if len(X) == 0:
        return np.empty((0, len(exp.outputs)))
    ens = simulate_variants(exp, X)
    out = np.empty((len(X), len(exp.outputs)))
    for (year, geo), group in _output_groups(exp.outputs).items():
        series = list(dict.fromkeys((o.indicator, o.definition) for _, o in group))
        values = ens.values(year, series=[ens.series.index(k) for k in series], geos=[ens.geos.index(geo)])[:, 0]
        for j, o in group:                                                      # values: (variant, series, draw)
            v = values[:, series.index((o.indicator, o.definition))]
            if o.kind == "probability":
                ceiling = exp.cfg.indicator(o.indicator).definition(o.definition).ceiling
                out[:, j] = meets(v, o.target, o.comparator, ceiling).mean(axis=1)
            else:
                out[:, j] = np.median(v, axis=1)
    return out


def simulate_variants(exp: Experiment, X: np.ndarray) -> Ensemble:
    """The ensemble of the variants ``X`` (variant, factor): one scenario per variant, on the scenario's geos."""
    cfg, S = exp.cfg, len(X)
    drivers, model, rollouts, ceiling_points = _variant_inputs(exp, np.asarray(X, float))
    names = cfg.indicator_names
    ens = simulate(cfg, exp.params, drivers, tuple(f"v{s}" for s in range(S)), exp.geos, exp.years,
                   exp.jump_off_year, reference_times(cfg), Replay(IndicatorNormals(exp.noise_seed, names)), rollouts,
                   slope_rng=Replay(IndicatorNormals(exp.slope_seed, names)) if exp.slope_seed is not None else None,
                   model=model,
                   **exp.data_ends)
    if np.any(ceiling_points):
        ens = _lift_ceilings(ens, exp, ceiling_points)
    return ens.aggregated(exp.aggregation) if exp.aggregation is not None else ens


def _output_groups(outputs: tuple[Output, ...]) -> dict[tuple[int, str], list[tuple[int, Output]]]:
    """The outputs (with their index) by (year, geo): one read of the ensemble per group."""
    groups: dict[tuple[int, str], list[tuple[int, Output]]] = {}
    for j, o in enumerate(outputs):
        groups.setdefault((o.year, o.geo), []).append((j, o))
    return groups


def _variant_inputs(exp: Experiment, X: np.ndarray
                    ) -> tuple[Drivers, ModelFactors, RolloutDrivers | None, np.ndarray]:
    """The scenario's drivers repeated per variant with the factors applied (a loop over factors only), and the
    ceiling factors' points (variant, indicator), applied after the simulation (``_lift_ceilings``)."""
    cfg, S = exp.cfg, len(X)
    proj = slice(int(np.searchsorted(exp.years, exp.jump_off_year, side="right")), None)   # projected years
    log_inv = np.repeat(exp.drivers.log_investment, S, axis=0)
    lift = np.repeat(exp.drivers.ceiling_lift, S, axis=0)
    ceiling_points = np.zeros((S, len(cfg.indicators)))
    model = ModelFactors.neutral(cfg, S)
    P = len(exp.rollouts.programmes) if exp.rollouts is not None else 0
    delay, size = np.zeros((P, S)), np.ones((P, S))
    # '*' investment factors first, so that a geo's own factor overrides them there
    order = sorted(range(len(exp.factors)), key=lambda j: exp.factors[j].kind != "investment"
                   or exp.factors[j].geo != "*")
    for j in order:
        f, x = exp.factors[j], X[:, j]
        on = ~np.isnan(x)
        if not on.any():
            continue
        if f.kind == "investment":
            p = PILLARS.index(f.pillar)
            g = slice(None) if f.geo == "*" else _model_index(exp, f.geo)
            with np.errstate(divide="ignore"):
                value = np.log(np.where(on, x, 1.0))[:, None, None]
            sub = log_inv[:, proj]                                                  # a view: (S, year, G, pillar)
            sub[:, :, g, p] = np.where(on[:, None, None], value, sub[:, :, g, p])
        elif f.kind == "elasticity":
            idx = [i for i, spec in enumerate(cfg.indicators) if f.indicator in ("", spec.name)
                   and f.pillar in ("", spec.pillar)]
            for i in idx:
                model.elasticity_scale[on, i] = x[on] / cfg.indicators[i].elasticity.median
        elif f.kind == "cross_elasticity":
            model.cross_scale[on] = x[on] / cfg.cross_elasticity.median
        elif f.kind == "damping":
            model.damping[on, cfg.indicator_names.index(f.indicator)] = x[on]
        elif f.kind == "ceiling":
            i = cfg.indicator_names.index(f.indicator)
            ceiling_points[:, i] += np.where(on, x, 0.0)
        elif P:
            k = exp.rollouts.names.index(f.programme)
            if f.kind == "programme_delay":
                delay[k, on] = x[on] / 12.0
            else:
                size[k, on] = x[on]
    drivers = Drivers(log_inv, np.repeat(exp.drivers.event_speed, S, axis=0), lift)
    rollouts = None
    if exp.rollouts is not None:
        rollouts = RolloutDrivers.from_variants(exp.rollouts, delay, size, exp.geos, cfg.indicator_names, exp.years,
                                                exp.draws, exp.jump_off_year, _parts_of(exp))
    return drivers, model, rollouts, ceiling_points


def _lift_ceilings(ens: Ensemble, exp: Experiment, points: np.ndarray) -> Ensemble:
    """Every ceiling of an indicator ``points`` (variant, indicator) higher (capped at 100%) from the year after
    its data end, each series starting its projection from the same share: its state is re-expressed at the
    jump-off as the adoption fraction of its new ceiling (share / new ceiling) and keeps its yearly increments.
    So no share jumps at the jump-off (a lift that kept the fraction would raise every share by lift x fraction
    at once); after it, a higher ceiling leaves more room: a share rising from the jump-off rises faster. Series
    of a lifted indicator that share its state get a state of their own (their ceilings differ)."""
    jump_off = exp.data_ends["indicator_jump_off"]
    lifted = np.flatnonzero(np.any(points != 0, axis=0))
    shared = [k for k in range(len(ens.series)) if ens.series_indicator[k] in lifted and k not in ens.own_series]
    own_z = np.concatenate([ens.own_z] + [(ens.z[..., ens.series_indicator[k], :] + ens.series_offset[k])
                                           [:, :, :, None].astype(ens.own_z.dtype) for k in shared], axis=3)
    own_series = ens.own_series + tuple(shared)
    for i in lifted:
        y0 = ens.years.index(int(jump_off[i]))
        lift = points[:, i][:, None, None]                                          # (variant, 1, 1)
        before = np.minimum(ens.series_ceiling[:, None, None, None] + ens.event_lift[y0, :, :, i][..., None], 100.0)
        ens.event_lift[y0 + 1:, :, :, i] += lift[None, :, :, 0]
        for j, k in enumerate(own_series):
            if ens.series_indicator[k] != i:
                continue
            at = own_z[y0, :, :, j].astype(float)                                   # (variant, geo, draw)
            fraction = ens.laws[i].to_fraction(at) * before[k] / np.minimum(before[k] + lift, 100.0)
            shift = ens.laws[i].to_linear(np.clip(fraction, 1e-9, 1 - 1e-9)) - at
            own_z[y0 + 1:, :, :, j] += shift.astype(own_z.dtype)
    return replace(ens, own_series=own_series, own_z=own_z)


def _parts_of(exp: Experiment) -> dict[str, tuple[str, ...]] | None:
    return None if exp.aggregation is None else {r.name: r.parts for r in exp.aggregation.regions}


def _model_index(exp: Experiment, geo: str) -> list[int]:
    """The simulated geos a factor's geo acts on (all the parts of a merged province)."""
    parts = (_parts_of(exp) or {}).get(geo, (geo,))
    return [exp.geos.index(p) for p in parts if p in exp.geos]


def experiment_manifest(command: str, scenario: Scenario, inputs: Any, **fields: Any) -> dict[str, Any]:
    """manifest.json of an experiment command: version, time, the scenario's and inputs' files with hashes
    (``inputs``: ``pipeline.Inputs``), then ``fields``."""
    import datetime as dt

    from dxsim import __version__
    from dxsim.inputs.fingerprint import sha256_file

    return {
        "dxsim_version": __version__, "command": command,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "scenario": {"name": scenario.name, "file": None if scenario.path is None else str(scenario.path),
                     "sha256": None if scenario.path is None else sha256_file(scenario.path)},   # None: built in code
        "observations": {"file": str(inputs.observations_path), "sha256": sha256_file(inputs.observations_path)},
        "targets": {"file": str(inputs.targets_path), "sha256": sha256_file(inputs.targets_path)},
        "calibration": {"config": str(inputs.config.path), "sha256": sha256_file(inputs.config.path)},
        **fields, "common_random_numbers": True,
    }
