"""``dxsim plot``, ``compare`` and ``report``: charts and the report from results folders."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dxsim import progress
from dxsim.cli import options as opt


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``plot``, ``compare`` and ``report`` to the dxsim command line."""
    p = subparsers.add_parser("plot", help="re-draw a results folder's charts without simulating again",
                              description="Re-draw the charts of a results folder written by `dxsim run` "
                              "into RESULTS_DIR/charts, or RESULTS_DIR/charts/vi for --lang vi (fan charts, "
                              "target probabilities, overview). Only the files drawn are replaced: with "
                              "--geo/--indicator only those fan charts, with --format only that format.")
    p.add_argument("results", type=Path, metavar="RESULTS_DIR", help="e.g. results/baseline")
    p.add_argument("--geo", action="append", metavar="G", help="only fan charts of this geo (repeatable)")
    p.add_argument("--indicator", action="append", metavar="I", help="only fan charts of this indicator "
                   "(repeatable)")
    p.add_argument("--format", **opt.FORMAT)
    p.add_argument("--lang", **opt.LANG)
    p.add_argument("--out", type=Path, metavar="DIR", help="write the charts to DIR (default: RESULTS_DIR/charts, "
                   "or RESULTS_DIR/charts/LANG for a language other than English)")
    p.set_defaults(func=cmd_plot)

    c = subparsers.add_parser("compare", help="draw the medians and 80%% bands of several runs together",
                              description="Per geo x headline indicator, the medians and 80% bands of each "
                              "run (e.g. results/baseline results/accelerated).")
    c.add_argument("results", type=Path, nargs="+", metavar="RESULTS_DIR", help="two or more results folders")
    c.add_argument("--out", type=Path, default=Path("results/compare"), metavar="DIR",
                   help="output folder (default: %(default)s)")
    c.add_argument("--format", **opt.FORMAT)
    c.add_argument("--lang", **opt.LANG)
    c.set_defaults(func=cmd_compare, option_names={"folders": "RESULTS_DIR"})

    r = subparsers.add_parser("report", help="write a self-contained report.html (report.vi.html in Vietnamese)",
                              description="Write one self-contained HTML file (charts embedded, opens "
                              "offline) with the summary tables, the charts, the scenario's assumptions, the "
                              "calibration and the data sources of one or more results folders; a folder "
                              "with skill.csv (dxsim backtest) adds a forecast-skill section, one with "
                              "scorecard.csv (dxsim scorecard) a track-record section, one from dxsim sensitivity or "
                              "required-investment a policy section.")
    r.add_argument("results", type=Path, nargs="+", metavar="RESULTS_DIR", help="results folders")
    r.add_argument("--out", type=Path, metavar="FILE", help="output file (default: report.html in the first "
                   "RESULTS_DIR, report.LANG.html for a language other than English)")
    r.add_argument("--lang", **{**opt.LANG, "help": "language of the whole report and of its charts: missing "
                   "charts are drawn into RESULTS_DIR/charts/LANG (default: en)"})
    r.set_defaults(func=cmd_report)


def cmd_plot(args: argparse.Namespace) -> int:
    from dxsim.outputs.report import plot_run

    start = time.perf_counter()
    with progress.stage("charts"):
        files = plot_run(args.results, args.lang, opt.formats(args.format), args.geo, args.indicator, args.out)
    seconds = time.perf_counter() - start
    where = sorted({str(f.parent) for f in files}) or [str(args.out or args.results)]
    print(f"wrote {len(files.drawn)} files to {', '.join(where)}/ in {seconds:.1f} s ({len(files.kept)} unchanged "
          "charts kept; other files left as they were)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from dxsim.facade import compare

    start = time.perf_counter()
    result = compare(args.results, args.out, args.lang, opt.formats(args.format))
    if result.warning:
        print(f"dxsim: {result.warning}", file=sys.stderr)     # one line: the runs' differences include noise
    print(f"wrote {len(result.files)} files to {args.out}/ in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from dxsim.outputs.report import write_report

    start = time.perf_counter()
    out = write_report(args.results, args.out, args.lang)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")
    return 0
