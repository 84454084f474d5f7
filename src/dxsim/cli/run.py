"""``dxsim run`` and ``dxsim calibrate``: simulate a scenario, or fit the model and save its draws."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from dxsim.cli import options as opt

EXIT_OK = 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``run`` and ``calibrate``."""
    run = sub.add_parser("run", help="simulate a scenario and write trajectories, target probabilities, charts",
                         description="Calibrate on the observations, simulate SCENARIO and write "
                         "trajectories.csv, target_probabilities.csv, manifest.json (and charts) to "
                         "results/<scenario name>/ or --out.")
    run.add_argument("scenario", type=Path, metavar="SCENARIO",
                     help="scenario TOML file, e.g. scenarios/baseline.toml, or the name of a shipped one (baseline)")
    run.add_argument("--draws", type=opt.draws, help="Monte Carlo draws, at least 10 (default: the scenario's)")
    run.add_argument("--seed", type=opt.seed, help="random seed (default: the scenario's)")
    run.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: results/<scenario name>)")
    run.add_argument("--no-charts", action="store_true", help="skip the charts")
    run.add_argument("--clean", action="store_true", help="remove files that other dxsim commands wrote into "
                     "the results folder (report.html, other charts); files dxsim did not write are always kept")
    run.add_argument("--lang", choices=("en", "vi"), default="en", help="chart language (default: en)")
    run.add_argument("--refit", action="store_true", help="fit the calibration even if one was saved for the same "
                     "inputs (by `dxsim calibrate` or an earlier run: in $DXSIM_CACHE_DIR, else results/calibration/ "
                     "or ~/.cache/dxsim/calibration/), and read the input files again")
    opt.add_inputs(run)
    run.set_defaults(func=cmd_run)

    cal = sub.add_parser("calibrate", help="fit the model and write parameters, draws and diagnostics",
                         description="Fit every modelled indicator with partial pooling and write parameters.csv, "
                         "fit_table.csv, draws.npz, diagnostic plots and the saved calibration (calibration.npz, "
                         "calibration.json) that `dxsim run` loads from results/calibration/ (or $DXSIM_CACHE_DIR) "
                         "while its inputs are unchanged.")
    cal.add_argument("--out", type=Path, metavar="DIR",
                     help="output folder (default: $DXSIM_CACHE_DIR, else results/calibration)")
    cal.add_argument("--draws", type=opt.positive_int, default=2000,
                     help="parameter draws to save (default: %(default)s)")
    cal.add_argument("--seed", type=opt.seed, default=0, help="seed of the saved draws (default: %(default)s)")
    cal.add_argument("--as-of", type=int, metavar="YEAR", help="use only readings up to the end of YEAR")
    opt.add_inputs(cal)
    cal.set_defaults(func=cmd_calibrate)


def cmd_run(args: argparse.Namespace) -> int:
    from dxsim.inputs.locate import find_scenario
    from dxsim.outputs.results import check_output_dir
    from dxsim.pipeline import load_inputs, run_scenario, write_run

    if args.out:
        check_output_dir(args.out)        # refuse a bad destination before simulating, not after
    writers = [] if args.no_charts else _chart_writers(args.lang)    # now: the drawing code loads meanwhile
    inputs = load_inputs(opt.config_of(args), args.observations, args.targets, reuse=not args.refit)
    result = run_scenario(find_scenario(args.scenario), draws=args.draws, seed=args.seed, inputs=inputs,
                          refit=args.refit)
    for note in result.scenario.notes:          # e.g. what a surviving province name means since the merger
        print(note, file=sys.stderr)
    out = args.out or Path("results") / result.scenario.name
    charted = args.no_charts and (out / "charts").is_dir()
    if charted:
        from dxsim.outputs.chart_keys import tables_key

        before = tables_key(out)
    write_run(result, out, tuple(writers), clean=args.clean)
    if charted and tables_key(out) != before:     # charts drawn for earlier tables no longer describe it
        from dxsim.outputs.report import remove_stale_charts

        remove_stale_charts(out)
    print(summary_text(result))
    print(f"\nwrote {out}/ (trajectories.csv, target_probabilities.csv, manifest.json"
          f"{'' if result.programmes.empty else ', programmes.csv'}{'' if args.no_charts else ', charts/'})")
    if result.calibrator.restored_from_ is not None:
        print(f"calibration loaded from {result.calibrator.restored_from_} (saved for these inputs by dxsim "
              "calibrate or an earlier run; --refit fits again)")
    return EXIT_OK


def _chart_writers(lang: str) -> list[Callable]:
    """The run's chart writer: a process forked now imports matplotlib and its fonts on the spare CPU while this
    one simulates, then draws (``chartserver.py``)."""
    from dxsim.outputs.chartserver import chart_writer

    return [chart_writer(lang)]


def summary_text(result) -> str:  # noqa: ANN001 - RunResult, imported lazily
    """A short table: headline medians with 80% intervals, then the evaluable target probabilities."""
    from dxsim.outputs.summary_words import newest_readings_text, short_document  # no matplotlib

    cfg = result.calibrator.config
    tr = result.trajectories
    years = [y for y in (2025, 2030) if y in set(tr["year"])]
    lines = [f"scenario {result.scenario.name}: {result.ensemble.draws} draws, projections from "
             f"{result.ensemble.first_projected_year}; median [80% interval], percent",
             newest_readings_text(result.manifest, cfg.headline)]
    head = tr[tr["indicator"].isin(cfg.headline)
              & (tr["definition"] == tr["indicator"].map({i: cfg.indicator(i).anchor for i in cfg.headline}))]
    head = {c: head[c].tolist() for c in ("geo", "indicator", "definition", "year", "q10", "q50", "q90")}  # plain
    gw = max([3, *(len(g) for g in head["geo"])])                  # columns as wide as their longest cell
    iw = max([9, *(len(i) for i in head["indicator"])])
    dw = max([10, *(len(d) for d in head["definition"])])
    header = f"{'geo':<{gw}} {'indicator':<{iw}} {'definition':<{dw}} " + " ".join(f"{y:>20}" for y in years)
    lines += ["", header, "-" * len(header)]
    cell: dict[tuple, tuple] = {}                 # (geo, indicator, definition, year) -> its first row
    for r in zip(*head.values(), strict=True):
        cell.setdefault(r[:4], r[4:])
    for geo, ind, dfn in dict.fromkeys(key[:3] for key in cell):                   # in table order
        cells = [f"{q50:5.1f} [{q10:5.1f}-{q90:5.1f}]".rjust(20)
                 for q10, q50, q90 in (cell[(geo, ind, dfn, y)] for y in years)]
        lines.append(f"{geo:<{gw}} {ind:<{iw}} {dfn:<{dw}} " + " ".join(cells))
    tp = result.target_probabilities
    first, horizon = result.ensemble.first_projected_year, int(tr["year"].max())
    in_run = tp["geo"].isin(set(tr["geo"])) & tp["deadline"].between(first, horizon)
    ev = tp[tp["evaluable"] & in_run]
    not_evaluable = int((~tp["evaluable"] & in_run).sum())          # of this run's geos and years only
    lines += ["", f"P(target met), {len(ev)} targets of these geos due {first}-{horizon}"
              f"{f' ({not_evaluable} more not evaluable)' if not_evaluable else ''}; every target and the reason "
              "in target_probabilities.csv; evidence: own readings, pooled from other geos, or prior-only definition"]
    defs = [d if a == d else f"{d} as {a}" for d, a in zip(ev["definition"], ev["evaluated_as"], strict=True)]
    ev = ev.assign(definition_shown=defs).sort_values(["geo", "deadline", "indicator"], kind="stable")
    gw = max([3, *(len(g) for g in ev["geo"])])
    iw = max([9, *(len(i) for i in ev["indicator"])])
    dw = max([10, *(len(d) for d in ev["definition_shown"])])
    columns = ["geo", "indicator", "definition_shown", "deadline", "comparator", "target", "probability_text",
               "mc_se", "evidence", "document"]                     # by column, not itertuples: a wide table
    for geo, ind, dfn, deadline, comp, value, p, se, evidence, doc in zip(
            *(ev[c].tolist() if c in ev.columns else [""] * len(ev) for c in columns), strict=True):
        target = f"{comp}{value:g}"
        lines.append(f"  {geo:<{gw}} {ind:<{iw}} {dfn:<{dw}} {deadline} {target:<6}"
                     f"  P = {p:>13} (se {se:.3f})  {evidence:<6}  {short_document(doc)}")
    left_out = (result.manifest.get("observations") or {}).get("recent_left_out") or []
    if left_out:
        lines += ["", f"{len(left_out)} readings of {result.ensemble.first_projected_year - 2}-"
                  f"{result.ensemble.first_projected_year - 1} not used by the fit, and why:"]
        lines += [f"  {r['geo']} {r['indicator']}/{r['definition']} {r['period'] or r['year']} = {r['value']:g}: "
                  f"{r['reason']}" for r in left_out]
    if "status" in tp.columns:
        from dxsim.core.verdicts import verdict_text

        verdicts = verdict_text(tp)
        lines += ["", verdicts] if verdicts else []
    if not result.programmes.empty:
        from dxsim.core.programme_impact import programme_summary

        lines += ["", programme_summary(result.programmes, result.manifest.get("rollouts"))]
    return "\n".join(lines)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from dxsim.core import saved_calibration
    from dxsim.core.jumpoff import WALK_GRID_WIDTH
    from dxsim.facade import write_calibration
    from dxsim.outputs.results import check_output_dir
    from dxsim.pipeline import load_inputs

    out = args.out or saved_calibration.cache_folder()
    check_output_dir(out)                         # before reading the inputs: fail fast
    inputs = load_inputs(opt.config_of(args), args.observations, args.targets)
    cal = write_calibration(out, inputs, draws=args.draws, seed=args.seed, as_of=args.as_of)
    fit = cal.fit_table()
    cols = ["indicator", "geo", "n_observations", "pooled", "rms_residual_pp", "slope_per_year"]
    print(fit[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for name in cal.walk_sd_at_edge():
        print(f"\nnote: {name}: the walk's yearly sd (process_sd) has its posterior mode at the edge of its grid, "
              f"{WALK_GRID_WIDTH:g} prior sds from the prior's median: the readings ask for a value its prior "
              "excludes; check process_sd's median and log_sd in the config")
    print(f"\nwrote {out}/ (parameters.csv, fit_table.csv, fit_residuals.csv, draws.npz, diagnostics/, "
          "calibration.npz and .json: loaded by dxsim run while the inputs are unchanged)")
    return EXIT_OK
