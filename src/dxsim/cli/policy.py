"""``dxsim sensitivity`` and ``required-investment``: what moves each target, and what it would take."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dxsim.cli import options as opt

if TYPE_CHECKING:
    from dxsim.inputs.scenario import Scenario
    from dxsim.pipeline import Inputs


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

    p = opt.add_command(subparsers, "sensitivity", cmd_sensitivity,
                        "which levers and assumptions move each target probability (Sobol or Morris)", scenario=True)
    p.add_argument("--method", choices=METHODS, default="sobol", help="sobol (default) or morris")
    p.add_argument("--n", type=opt.positive_int, metavar="N",
                   help="Sobol base samples, a power of two (default 256: N(2k+2) evaluations for k factors); "
                   "Morris trajectories (default 32)")
    p.add_argument("--factors", type=Path, metavar="FILE", help="factors TOML file (default: generated from the "
                   "scenario and the config, as in scenarios/factors_default.toml)")
    _add_experiment_options(p, "Monte Carlo draws per evaluation (default 1000)",
                            "seed of the draws and the samples (default: the scenario's)", "sensitivity")


def _register_required_investment(subparsers: argparse._SubParsersAction) -> None:
    from dxsim.inputs.config import PILLARS

    p = opt.add_command(subparsers, "required-investment", cmd_required_investment,
                        "the smallest investment multiple from which each target reaches a probability",
                        scenario=True,
                        option_names={"pillars": "--pillar", "geos": "--geo", "target_names": "--target"})
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


def _study_setup(args: argparse.Namespace, suffix: str) -> tuple[Inputs, Scenario, Path]:
    """The inputs and scenario of an experiment command, and its output folder (refused before any work)."""
    from dxsim import facade
    from dxsim.outputs.results import check_output_dir

    inputs = facade.load_inputs(opt.config_of(args), args.observations, args.targets)
    scenario = facade.load_scenario(args.scenario, inputs)
    out = args.out or Path("results") / f"{scenario.name}_{suffix}"
    check_output_dir(out)
    return inputs, scenario, out


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Global sensitivity analysis of SCENARIO: sample the factors (SALib), evaluate every sample with the same
    draws and noise, and write sensitivity.csv (output, factor, index, value, confidence interval),
    sensitivity_outputs.csv, factors.toml and ranked bar charts to results/<scenario>_sensitivity/ or --out.
    Factors: --factors FILE (see scenarios/factors_default.toml) or the default ones."""
    from dxsim import facade
    from dxsim.analyses.sensitivity import summary_text

    inputs, scenario, out = _study_setup(args, "sensitivity")
    result = facade.sensitivity(scenario, inputs, method=args.method, n=args.n, factors=args.factors,
                                draws=args.draws or 1000, seed=args.seed, workers=args.workers,
                                scheduler=args.scheduler, announce=print)
    facade.write_sensitivity(result, out, charts=not args.no_charts)
    print(summary_text(result))
    print(f"\nwrote {out}/ (sensitivity.csv, sensitivity_outputs.csv, factors.toml, manifest.json"
          f"{'' if args.no_charts else ', charts/'})")
    return 0


def cmd_required_investment(args: argparse.Namespace) -> int:
    """For each evaluable target of SCENARIO due in a projected year (filtered by --pillar, --geo, --target), find
    by bisection the smallest investment multiple of its pillar in its geo from which P(met) >= --probability
    (same draws and noise at every multiple), with its Monte Carlo error and the bn VND equivalent where a
    baseline spend is configured. Writes required_investment.csv, the curves and a chart per geo to
    results/<scenario>_required_investment/ or --out."""
    from dxsim import facade
    from dxsim.analyses.required_investment import summary_text

    inputs, scenario, out = _study_setup(args, "required_investment")
    result = facade.required_investment(
        scenario, inputs, probability=args.probability, draws=args.draws or 1000, seed=args.seed,
        pillars=args.pillar, geos=args.geo, target_names=args.target, max_multiple=args.max_multiple,
        tolerance=args.tolerance, workers=args.workers, scheduler=args.scheduler)
    facade.write_required_investment(result, out, charts=not args.no_charts)
    print(summary_text(result.table, result.probability, result.draws))
    print(f"\nwrote {out}/ (required_investment.csv, required_investment_curves.csv, manifest.json"
          f"{'' if args.no_charts else ', charts/'})")
    return 0
