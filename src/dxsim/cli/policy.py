"""``dxsim sensitivity`` and ``required-investment``: what moves each target, and what it would take."""

from __future__ import annotations

import argparse
from pathlib import Path

from dxsim import progress
from dxsim.cli import options as opt
from dxsim.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sensitivity`` and ``required-investment``."""
    _register_sensitivity(subparsers)
    _register_required_investment(subparsers)


def _add_experiment_options(p: argparse.ArgumentParser, draws_help: str, seed_help: str, suffix: str) -> None:
    """--draws, --seed, --out (default results/<scenario>_<suffix>), --no-charts, scale-out and input options."""
    p.add_argument("--draws", type=opt.draws, help=draws_help)
    p.add_argument("--seed", type=opt.seed, help=seed_help)
    p.add_argument("--out", type=Path, metavar="DIR", help=f"output folder (default: results/<scenario>_{suffix})")
    p.add_argument("--no-charts", action="store_true", help="skip the charts")
    opt.add_scale_out(p)
    opt.add_inputs(p)


def _register_sensitivity(subparsers: argparse._SubParsersAction) -> None:
    from dxsim.analyses.sensitivity import METHODS

    p = subparsers.add_parser(
        "sensitivity", help="which levers and assumptions move each target probability (Sobol or Morris)",
        description="Global sensitivity analysis of SCENARIO: sample the factors (SALib), evaluate every sample "
        "with the same draws and noise, and write sensitivity.csv (output, factor, index, value, confidence "
        "interval), sensitivity_outputs.csv, factors.toml and ranked bar charts to results/<scenario>_sensitivity/ "
        "or --out. Factors: --factors FILE (see scenarios/factors_default.toml) or the default ones.")
    p.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--method", choices=METHODS, default="sobol", help="sobol (default) or morris")
    p.add_argument("--n", type=opt.positive_int, metavar="N",
                   help="Sobol base samples, a power of two (default 256: N(2k+2) evaluations for k factors); "
                   "Morris trajectories (default 32)")
    p.add_argument("--factors", type=Path, metavar="FILE", help="factors TOML file (default: generated from the "
                   "scenario and the config, as in scenarios/factors_default.toml)")
    _add_experiment_options(p, "Monte Carlo draws per evaluation (default 1000)",
                            "seed of the draws and the samples (default: the scenario's)", "sensitivity")
    p.set_defaults(func=cmd_sensitivity)


def _register_required_investment(subparsers: argparse._SubParsersAction) -> None:
    from dxsim.inputs.config import PILLARS

    p = subparsers.add_parser(
        "required-investment", help="the smallest investment multiple from which each target reaches a probability",
        description="For each evaluable target of SCENARIO due in a projected year (filtered by --pillar, --geo, "
        "--target), find by bisection the smallest investment multiple of its pillar in its geo from which "
        "P(met) >= --probability (same draws and noise at every multiple), with its Monte Carlo error and the "
        "bn VND equivalent where a baseline spend is configured. Writes required_investment.csv, the curves and "
        "a chart per geo to results/<scenario>_required_investment/ or --out.")
    p.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--probability", type=float, default=0.8, help="the probability to reach (default: 0.8)")
    p.add_argument("--pillar", action="append", choices=PILLARS, help="only targets of this pillar (repeatable)")
    p.add_argument("--geo", action="append", metavar="GEO", help="only targets of this geo (repeatable)")
    p.add_argument("--target", action="append", metavar="INDICATOR[/DEFINITION]",
                   help="only targets of this indicator or series (repeatable)")
    p.add_argument("--max-multiple", type=float, default=10.0, metavar="M",
                   help="upper bound of the search: beyond it a target is 'not reachable' (default: 10)")
    p.add_argument("--tolerance", type=float, default=0.01, help="precision of the multiple (default: 0.01)")
    _add_experiment_options(p, "Monte Carlo draws (default 1000)", "random seed (default: the scenario's)",
                            "required_investment")
    p.set_defaults(func=cmd_required_investment)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from dxsim.analyses.batches import BatchRunner, describe
    from dxsim.analyses.experiments import build_experiment, experiment_manifest
    from dxsim.analyses.factors import default_factors, load_factors
    from dxsim.analyses.sensitivity import CONF_LEVEL, run_sensitivity, sample, summary_text, write_sensitivity
    from dxsim.core.saved_calibration import fitted_calibrator
    from dxsim.inputs.fingerprint import sha256_file
    from dxsim.inputs.observations import known_geos
    from dxsim.inputs.scenario import load_scenario
    from dxsim.outputs.results import check_output_dir
    from dxsim.pipeline import load_inputs

    n = args.n or (256 if args.method == "sobol" else 32)
    if args.method == "sobol" and n & (n - 1):
        raise InputError("command line", "--n", f"Sobol sampling needs a power of two, got {n}")
    inputs = load_inputs(opt.config_of(args), args.observations, args.targets)
    cfg = inputs.config
    scenario = load_scenario(args.scenario, cfg, known_geos(cfg))
    out = args.out or Path("results") / f"{scenario.name}_sensitivity"
    check_output_dir(out)
    factors = load_factors(args.factors, cfg, scenario) if args.factors else default_factors(cfg, scenario)
    if len(factors) < 2:
        raise InputError(str(args.factors), "factors", "a sensitivity analysis needs at least two factors")
    with progress.stage("calibrate"):
        calibrator = fitted_calibrator(cfg, inputs.observations)     # a saved one for these inputs is reused
    draws = args.draws or 1000
    seed = scenario.settings.seed if args.seed is None else args.seed
    experiment = build_experiment(calibrator, scenario, inputs.targets, factors, draws, seed)
    evaluations = len(sample(factors, args.method, n, seed))
    print(f"{scenario.name}: {args.method}, {describe(evaluations, experiment.batch_size)}"
          f", {draws} draws, {len(experiment.outputs)} outputs")
    result = run_sensitivity(experiment, args.method, n, seed, BatchRunner(args.workers, args.scheduler))
    manifest = experiment_manifest(
        "sensitivity", scenario, inputs,
        factors_file={"file": str(args.factors), "sha256": sha256_file(args.factors)} if args.factors
        else "default (dxsim.analyses.factors.default_factors)",
        method=args.method, n=n, evaluations=result.evaluations, draws=draws, seed=seed,
        confidence_level=CONF_LEVEL)
    write_sensitivity(result, out, manifest, charts=not args.no_charts)
    print(summary_text(result))
    print(f"\nwrote {out}/ (sensitivity.csv, sensitivity_outputs.csv, factors.toml, manifest.json"
          f"{'' if args.no_charts else ', charts/'})")
    return 0


def cmd_required_investment(args: argparse.Namespace) -> int:
    from dxsim.analyses.batches import BatchRunner
    from dxsim.analyses.experiments import experiment_manifest
    from dxsim.analyses.required_investment import REQUIRED_COLUMNS, required_investment, summary_text
    from dxsim.core.saved_calibration import fitted_calibrator
    from dxsim.inputs.geography import load_geomap
    from dxsim.inputs.observations import known_geos
    from dxsim.inputs.scenario import load_scenario
    from dxsim.outputs.results import atomic_output_dir, check_output_dir, write_csv, write_json
    from dxsim.pipeline import load_inputs

    if not 0 < args.probability < 1:
        raise InputError("command line", "--probability", f"must be between 0 and 1, got {args.probability:g}")
    if not args.tolerance > 0:
        raise InputError("command line", "--tolerance", f"must be above 0, got {args.tolerance:g}")
    if not args.max_multiple > 1:
        raise InputError("command line", "--max-multiple", f"must be above 1, got {args.max_multiple:g}")
    inputs = load_inputs(opt.config_of(args), args.observations, args.targets)
    cfg = inputs.config
    scenario = load_scenario(args.scenario, cfg, known_geos(cfg))
    for name in args.target or ():
        if name.split("/")[0] not in cfg.indicator_names:
            raise InputError("command line", "--target", f"unknown indicator in {name!r}; modelled: "
                             f"{', '.join(cfg.indicator_names)}")
    if args.geo:                                    # names contract: lang_son@pre2025 is lang_son
        geomap = load_geomap(cfg)
        args.geo = [region.name if (region := geomap.resolve(g)) else g for g in args.geo]
    for geo in args.geo or ():
        if geo not in scenario.geos:
            raise InputError("command line", "--geo", f"{geo!r} is not in the scenario's geos {list(scenario.geos)}")
    out = args.out or Path("results") / f"{scenario.name}_required_investment"
    check_output_dir(out)
    with progress.stage("calibrate"):
        calibrator = fitted_calibrator(cfg, inputs.observations)     # a saved one for these inputs is reused
    draws = args.draws or 1000
    seed = scenario.settings.seed if args.seed is None else args.seed
    table, curves = required_investment(calibrator, scenario, inputs.targets, args.probability, draws, seed,
                                        args.pillar, args.geo, args.target, args.max_multiple, args.tolerance,
                                        BatchRunner(args.workers, args.scheduler))
    if table.empty:
        raise InputError("command line", "--target", "no evaluable target due in a projected year matches the "
                         "filters (see target_probabilities.csv of a run)")
    manifest = experiment_manifest("required-investment", scenario, inputs, probability=args.probability,
                                   draws=draws, seed=seed, max_multiple=args.max_multiple, tolerance=args.tolerance)
    with atomic_output_dir(out) as tmp:
        write_csv(table[list(REQUIRED_COLUMNS)], tmp / "required_investment.csv")
        write_csv(curves, tmp / "required_investment_curves.csv")
        if not args.no_charts:
            from dxsim.outputs.policycharts import required_investment_charts

            required_investment_charts(curves, table, args.probability, tmp / "charts")
        write_json(manifest, tmp / "manifest.json")
    print(summary_text(table, args.probability, draws))
    print(f"\nwrote {out}/ (required_investment.csv, required_investment_curves.csv, manifest.json"
          f"{'' if args.no_charts else ', charts/'})")
    return 0
