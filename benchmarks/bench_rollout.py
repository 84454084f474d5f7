"""Benchmark: a programme scenario's run, and the part of it spent on its programmes.

    python benchmarks/bench_rollout.py [--draws 2000] [--repeat 3] [--save FILE] [--ref FILE]

For each case: the library run (``pipeline.run_scenario``: calibration, sampling, ensemble, targets, programme
table; the inputs are read once before) and, inside it, the programme work: the SimPy rollouts and the
programme table with its runs without each programme (time in ``simulate_rollouts`` and ``programme_table``,
counted once where one calls the other). Best of ``--repeat``. ``--save FILE`` writes the numbers as JSON,
``--ref FILE`` prints each number next to a saved one and the ratio (saved / now). To compare with an older
commit, run this same file against its source:

    git -C /work/main worktree add /tmp/old ac1597f
    PYTHONPATH=/tmp/old/src python benchmarks/bench_rollout.py --save /tmp/old.json
    python benchmarks/bench_rollout.py --ref /tmp/old.json
    git -C /work/main worktree remove /tmp/old

Cases: the shipped ``long_an_programmes.toml`` and ``hau_giang_programmes.toml``, and a SYNTHETIC scenario
written to a temporary file: three programmes in each of five geos with targets due after the jump-off, four
teams asked of a pool of three (programmes invented for timing only).
"""

from __future__ import annotations

import argparse
import importlib
import json
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from dxsim import pipeline

TIMED = (("dxsim.core.rollout", "simulate_rollouts"), ("dxsim.pipeline", "programme_table"))
SHIPPED = ("scenarios/long_an_programmes.toml", "scenarios/hau_giang_programmes.toml")
SYNTHETIC_GEOS = ("long_an", "hau_giang", "tra_vinh", "lang_son", "vietnam")


@contextmanager
def programme_clock(clock: dict[str, float]):
    """Add the seconds spent in the TIMED functions (outermost calls only) to ``clock['programmes']``."""
    depth = [0]
    originals = []
    for module_name, name in TIMED:
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        originals.append((module, name, original))

        def timed(*args, _original=original, **kwargs):
            depth[0] += 1
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    clock["programmes"] += time.perf_counter() - start

        setattr(module, name, timed)
    try:
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def synthetic_scenario(folder: Path) -> Path:
    """SYNTHETIC: a scenario file with three programmes per geo of SYNTHETIC_GEOS sharing three teams."""
    slip = ('procurement_months = { median = 4, log_sd = 0.5 }\nrelease_delay_months = { median = 2, log_sd = 0.8 }\n'
            'overrun = { median = 1.15, log_sd = 0.25 }\n')
    text = ['name = "synthetic_programmes"\nhorizon = 2030\n'
            'geos = ["tay_ninh", "can_tho", "vinh_long", "lang_son", "long_an", "hau_giang", "tra_vinh", '
            '"vinh_long@pre2025", "vietnam"]\n[investment]\nbroadband = 1.0\n[rollout]\nrollouts = 200\n'
            'teams = { ' + ", ".join(f"{g} = 3" for g in SYNTHETIC_GEOS) + " }\n"]
    for geo in SYNTHETIC_GEOS:
        text += [
            f'[[programmes]]\nname = "{geo}_fibre"\ngeo = "{geo}"\nindicator = "fiber_household_share"\n'
            'budget_bn_vnd = 120\nyearly_release_bn_vnd = { 2026 = 40, 2027 = 50, 2028 = 30 }\nstart = 2026\n'
            'duration_years = 2.5\nteams = 2\neffect = { kind = "speed_multiplier", multiplier = 1.5 }\n' + slip,
            f'[[programmes]]\nname = "{geo}_internal_work"\ngeo = "{geo}"\nindicator = "internal_work_online_share"\n'
            'budget_bn_vnd = 30\nstart = 2026\nstart_month = 7\nduration_years = 1\n'
            'effect = { kind = "step", points = 5 }\n' + slip,
            f'[[programmes]]\nname = "{geo}_sme"\ngeo = "{geo}"\nindicator = "digital_economy_grdp_share"\n'
            'budget_bn_vnd = 20\nyearly_release_bn_vnd = { 2026 = 8, 2027 = 12 }\nstart = 2026\nstart_month = 4\n'
            'duration_years = 2\neffect = { kind = "speed_multiplier", multiplier = 1.15 }\n' + slip]
    path = folder / "synthetic_programmes.toml"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def time_case(path: Path, inputs: pipeline.Inputs, draws: int, repeat: int) -> dict[str, float]:
    """Best of ``repeat``: seconds of the whole run and of its programme work; the number of programme rows."""
    best = {"run": float("inf"), "programmes": float("inf")}
    for _ in range(repeat):
        clock = {"programmes": 0.0}
        with programme_clock(clock):
            start = time.perf_counter()
            result = pipeline.run_scenario(path, draws=draws, inputs=inputs)
            seconds = time.perf_counter() - start
        best = {"run": min(best["run"], seconds), "programmes": min(best["programmes"], clock["programmes"])}
    return best | {"counterfactual_rows": int(result.programmes["probability_delta"].notna().sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save", type=Path, metavar="FILE", help="write the numbers as JSON")
    parser.add_argument("--ref", type=Path, metavar="FILE", help="compare with numbers saved by --save")
    args = parser.parse_args()
    inputs = pipeline.load_inputs()
    ref = json.loads(args.ref.read_text()) if args.ref else {}
    numbers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in (*map(Path, SHIPPED), synthetic_scenario(Path(tmp))):
            numbers[path.stem] = time_case(path, inputs, args.draws, args.repeat)
    print(f"{args.draws} draws, best of {args.repeat}; seconds" + (f" (ref: {args.ref})" if ref else ""))
    for case, got in numbers.items():
        for what in ("run", "programmes"):
            line = f"  {case:<24} {what:<11} {got[what]:7.3f}"
            if case in ref:
                was = ref[case][what]
                line += f"   ref {was:7.3f}   ref/now {was / got[what]:5.2f}x" if got[what] > 0 else ""
            print(line)
        print(f"  {case:<24} rows with a counterfactual: {got['counterfactual_rows']}")
    if args.save:
        args.save.write_text(json.dumps({"draws": args.draws, **numbers}, indent=1) + "\n")


if __name__ == "__main__":
    main()
