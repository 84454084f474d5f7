"""``dxsim forecast``, ``backtest`` and ``scorecard``: forecasts as of past years and how they fared."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dxsim.analyses import backtest, forecast_asof, scorecard
from dxsim.cli import options as opt


def _add_fit_options(p: argparse.ArgumentParser, targets: bool) -> None:
    """--config, --observations (, --targets), --draws and --seed of the as-of fits."""
    opt.add_inputs(p, targets=targets)
    p.add_argument("--draws", type=opt.positive_int, default=forecast_asof.DEFAULT_DRAWS,
                   help="Monte Carlo draws (default: %(default)s)")
    p.add_argument("--seed", type=opt.seed, default=forecast_asof.DEFAULT_SEED,
                   help="random seed (default: %(default)s)")


def register_backtest(subparsers: argparse._SubParsersAction) -> None:
    """Add ``forecast`` and ``backtest``."""

    fc = subparsers.add_parser(
        "forecast", help="forecast the baseline scenario as of a past year",
        description="Calibrate only on readings dated up to the end of YEAR, project the baseline scenario "
        "(investment multiple 1) to the horizon and write trajectories.csv (run schema), "
        "observations_used.csv and manifest.json to DIR.")
    fc.add_argument("--as-of", type=int, required=True, metavar="YEAR", help="last year of data to use")
    fc.add_argument("--horizon", type=int, metavar="YEAR",
                    help=f"last projected year (default: {forecast_asof.DEFAULT_HORIZON}, or the year after YEAR)")
    fc.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    _add_fit_options(fc, targets=False)
    fc.set_defaults(func=cmd_forecast)

    bt = subparsers.add_parser(
        "backtest", help="score forecasts made as of past years against later readings and baselines",
        description="For each origin year: forecast with the readings up to it, score every later reading "
        "(median error, 50/80/95% interval coverage, CRPS, log score) for dxsim and the baselines (last "
        "value, linear trend, damped-trend ETS, national curve shifted to the province, their equal-weight "
        "mixture), and write skill.csv, scores.csv, paired.csv (dxsim's reading forecast vs each baseline on "
        "its points, bootstrap intervals), coverage.csv (by horizon and history, binomial bands) and pit.png.")
    bt.add_argument("--origins", type=int, nargs="+", metavar="YEAR",
                    help="origin years (default: every year from the config's first year that leaves a later "
                    "reading)")
    bt.add_argument("--out", type=Path, default=backtest.DEFAULT_OUT, metavar="DIR",
                    help="output folder (default: %(default)s)")
    _add_fit_options(bt, targets=False)
    bt.set_defaults(func=cmd_backtest)


def register_scorecard(subparsers: argparse._SubParsersAction) -> None:
    """Add ``scorecard``."""

    sc = subparsers.add_parser(
        "scorecard", help="what dxsim said at past origins about targets and readings, and what happened",
        description="For each origin year, fit with the readings dated up to it and list, for every target "
        "whose outcome is now known, the P(met) given by dxsim and the baselines, the outcome and the Brier "
        "score; for every later reading, the forecast median, 80% interval and whether it held. Writes "
        "scorecard.csv, scorecard.png and manifest.json.")
    sc.add_argument("--origins", type=int, nargs="+", default=list(scorecard.DEFAULT_ORIGINS), metavar="YEAR",
                    help="origin years (default: %(default)s)")
    sc.add_argument("--out", type=Path, default=scorecard.DEFAULT_OUT, metavar="DIR",
                    help="output folder (default: %(default)s)")
    _add_fit_options(sc, targets=True)
    sc.set_defaults(func=cmd_scorecard)


def cmd_forecast(args: argparse.Namespace) -> int:
    from dxsim.analyses.forecast_asof import forecast_as_of, write_forecast
    from dxsim.inputs.observations import NATIONAL
    from dxsim.pipeline import load_inputs

    inputs = load_inputs(opt.config_of(args), args.observations)
    result = forecast_as_of(inputs, args.as_of, args.horizon, args.draws, args.seed)
    write_forecast(result, args.out)
    tr = result.trajectories
    nat = tr[(tr["geo"] == NATIONAL) & tr["year"].isin([args.as_of + 1, result.manifest["horizon"]])]
    cfg = inputs.config
    nat = nat[nat["definition"] == nat["indicator"].map({i.name: i.anchor for i in cfg.indicators})]
    print(f"forecast as of {args.as_of} ({result.manifest['observations']['rows_used']} readings dated "
          f"{args.as_of} or earlier), baseline scenario, {args.draws} draws; national median [80% interval]:")
    for r in nat.itertuples():
        print(f"  {r.indicator:<28} {r.definition:<17} {r.year}  {r.q50:5.1f} [{r.q10:5.1f}-{r.q90:5.1f}]")
    print(f"wrote {args.out}/ (trajectories.csv, observations_used.csv, manifest.json)")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from dxsim.analyses import judging
    from dxsim.analyses.backtest import run_backtest, skill_text, write_backtest
    from dxsim.pipeline import load_inputs

    inputs = load_inputs(opt.config_of(args), args.observations)
    result = run_backtest(inputs, tuple(args.origins) if args.origins else None, args.draws, args.seed)
    write_backtest(result, inputs, args.out)
    counts = result.scores[result.scores["method"] == "dxsim"].groupby("origin").size()
    print(f"backtest: origins {', '.join(f'{o} ({counts.get(o, 0)} readings)' for o in result.origins)}, "
          f"{args.draws} draws; means over (origin, reading) pairs, MAE and CRPS in percentage points")
    print(skill_text(result.skill))
    print("\nn differs by method: a baseline is scored only where it is available (see README); "
          "'dxsim_reading CRPS same pts' compares dxsim's forecast of the reading on its points.\n")
    print(judging.judge_text(result.paired, result.coverage))
    print(f"wrote {args.out}/ (skill.csv, scores.csv, paired.csv, coverage.csv, pit.png, manifest.json)")
    return 0


def cmd_scorecard(args: argparse.Namespace) -> int:
    from dxsim.analyses.scorecard import run_scorecard, summary_text, write_scorecard
    from dxsim.outputs.results import check_output_dir
    from dxsim.pipeline import load_inputs

    start = time.perf_counter()
    check_output_dir(args.out)
    inputs = load_inputs(opt.config_of(args), args.observations, args.targets)
    card = run_scorecard(inputs, tuple(args.origins), args.draws, args.seed)
    write_scorecard(card, inputs, args.out)
    print(f"scorecard: origins {', '.join(map(str, card.origins))}, {args.draws} draws; Brier score of P(met) "
          "over distinct targets with a known outcome (lower is better), share of later readings inside the "
          "80% interval")
    print(summary_text(card.summary))
    print(f"\nwrote {args.out}/ (scorecard.csv, scorecard.png, manifest.json) in "
          f"{time.perf_counter() - start:.1f} s")
    return 0
