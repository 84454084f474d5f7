"""Investment programmes as discrete-event rollouts: the SimPy model (known answers, money, teams, seeds), its
effects in the ensemble (only ever up, common random numbers) and the acceptance criteria of issue 3."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dxsim.cli import main
from dxsim.core.ensemble import ensemble_years, evaluate, run_ensemble, sample_run, seed_streams
from dxsim.core.programme_impact import PROGRAMME_COLUMNS, programme_table
from dxsim.core.rollout import _paths, scenario_rollouts, simulate_rollouts
from dxsim.core.targets import target_probabilities
from dxsim.errors import InputError
from dxsim.inputs.observations import known_geos
from dxsim.inputs.programmes import Effect, LogNormal, Programme
from dxsim.inputs.scenario import load_scenario

DRAWS = 400
SEED = 11
YEARS = tuple(range(2020, 2031))
INDICATORS = ("fiber_household_share", "online_dossier_share", "digital_economy_grdp_share",
              "internal_work_online_share", "level4_service_share")
FIBRE = "fiber_remaining_villages"


def programme(name: str = "p", geo: str = "long_an", indicator: str = "fiber_household_share",
              **changes: object) -> Programme:
    """A deterministic programme: 100 bn VND released in full in January 2024, starts January 2024, 2 years."""
    base = Programme(name=name, geo=geo, indicator=indicator, pillar="broadband", budget_bn_vnd=100.0,
                     yearly_release_bn_vnd=((2024, 100.0),), start=2024.0, duration_years=2.0,
                     effect=Effect("speed_multiplier", 2.0))
    return dataclasses.replace(base, **changes)


def rollouts(progs: list[Programme], n: int = 50, seed: int = 3, geos: tuple[str, ...] = ("long_an", "vietnam")):
    return simulate_rollouts(progs, geos, INDICATORS, YEARS, n, seed)


def shift(p: Programme, years: int) -> Programme:
    """The same programme planned ``years`` later (start and release schedule)."""
    return dataclasses.replace(p, start=p.start + years,
                               yearly_release_bn_vnd=tuple((y + years, a) for y, a in p.yearly_release_bn_vnd))


@pytest.fixture(scope="module")
def shipped(root, cfg):
    return load_scenario(root / "scenarios" / "long_an_programmes.toml", cfg, known_geos(cfg))


def probabilities(calibrator, inputs, scenario, progs, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Target probabilities of ``scenario`` with exactly the programmes ``progs`` (same seed and draws)."""
    scen = dataclasses.replace(scenario, programmes=tuple(progs))
    ens = run_ensemble(calibrator, [scen], DRAWS, SEED)
    return target_probabilities(ens, inputs.config, inputs.targets if targets is None else targets)


def later_fibre_targets(inputs) -> pd.DataFrame:
    """SYNTHETIC targets (made here, not in targets.csv): Long An's 2025 fibre targets are history now (the data
    run to 2025), so the programme (from 2026) is judged on two made-up 2027 targets near the medians, one per
    definition, where the probability can move."""
    t = inputs.targets
    rows = t[(t["geo"] == "long_an") & (t["indicator"] == "fiber_household_share")].iloc[:2].copy()
    rows["definition"], rows["target"], rows["comparator"] = ["subscription", "coverage"], [93.5, 98.0], ">="
    rows["deadline"], rows["document"] = 2027, "SYNTHETIC 2027 target (tests/test_rollout.py)"
    return rows.reset_index(drop=True)


def fibre_targets(tp: pd.DataFrame) -> pd.DataFrame:
    mine = tp[(tp["geo"] == "long_an") & (tp["indicator"] == "fiber_household_share") & tp["evaluable"]
              & (tp["deadline"] == 2027)]
    assert len(mine) == 2              # subscription >= 93.5 and coverage >= 98 by 2027 (synthetic)
    return mine


# ---- the SimPy model: known answers -----------------------------------------------------------------------------

def test_delivery_and_completion_known_answer():
    """Fully funded, no slip: work runs 2024.0-2026.0; read in December (2024.0 + 1 = end of 2024): half done."""
    ro = rollouts([programme()], n=5)
    assert np.allclose(ro.completion, 2026.0)
    y = YEARS.index(2024)
    assert np.allclose(ro.delivered[0, :, y], 0.5) and np.allclose(ro.delivered[0, :, y + 1], 1.0)
    assert np.all(ro.delivered[0, :, :y] == 0)
    speed, lift, step = ro.effects()
    assert np.allclose(speed[:, y, 0, 0], 1.5) and np.allclose(speed[:, y + 1:, 0, 0], 2.0)
    assert np.all(speed[..., 1:, :] == 1) and np.all(lift == 0) and np.all(step == 0)


def test_money_paces_the_work():
    """25 bn VND a year of a 100 bn VND, 1-year programme: each January tranche funds a quarter of a year of work,
    so it completes a quarter-year after the fourth tranche (2027.25), not in 2025."""
    p = programme(yearly_release_bn_vnd=((2024, 25.0),), duration_years=1.0)
    ro = rollouts([p], n=3)
    assert np.allclose(ro.completion, 2027.25)
    assert np.allclose(ro.delivered[0, 0, YEARS.index(2024):YEARS.index(2027) + 1], [0.25, 0.5, 0.75, 1.0])


def test_step_is_applied_once_at_the_first_reading_after_completion():
    p = programme(effect=Effect("step", 4.0), duration_years=1.5)         # completes mid-2025
    _, _, step = rollouts([p], n=3).effects()
    assert np.all(step[:, YEARS.index(2025), 0, 0] == 4.0) and step.sum() == 3 * 4.0


def test_teams_are_shared_first_come_first_served():
    """Two 1-year programmes from January 2024 in a geo with one team: the second waits for the first."""
    a = programme("a", duration_years=1.0, geo_teams=1)
    b = programme("b", duration_years=1.0, geo_teams=1, indicator="online_dossier_share")
    ro = rollouts([a, b], n=3)
    assert np.allclose(ro.completion[0], 2025.0) and np.allclose(ro.completion[1], 2026.0)
    assert ro.contended == frozenset({"long_an"})
    alone = ro.without("a")                 # simulated again: b gets the team at once
    assert alone.names == ("b",) and np.allclose(alone.completion[0], 2025.0)
    both = rollouts([dataclasses.replace(a, geo_teams=2), dataclasses.replace(b, geo_teams=2)], n=3)
    assert np.allclose(both.completion, 2025.0) and not both.contended


def test_not_completed_by_the_horizon_is_inf():
    p = programme(yearly_release_bn_vnd=((2024, 5.0),))          # 20 years of releases
    ro = rollouts([p], n=3)
    assert np.all(np.isinf(ro.completion)) and np.all(ro.delivered[0, :, -1] < 1)


# ---- acceptance: timing and money -------------------------------------------------------------------------------

def test_halving_the_yearly_release_lengthens_the_median_completion(shipped):
    p = shipped.programmes[0]
    halved = dataclasses.replace(p, yearly_release_bn_vnd=tuple((y, a / 2) for y, a in p.yearly_release_bn_vnd))
    full, half = (np.median(rollouts([q], n=200, seed=5).completion[0]) for q in (p, halved))
    assert np.isfinite(full) and half > full + 0.5


def test_rollouts_are_reproducible_from_the_seed(shipped):
    progs = list(shipped.programmes)
    a, b, c = (rollouts(progs, n=100, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.delivered, b.delivered) and np.array_equal(a.completion, b.completion)
    assert not np.array_equal(a.completion, c.completion)
    assert np.unique(a.completion[0]).size > 50                    # the delays are random across rollouts


def test_removing_a_programme_keeps_the_others_random_numbers():
    """Programmes in different geos do not interact: dropping one leaves the other's rollouts bit for bit."""
    a = programme("a", procurement_months=LogNormal(3.0, 0.5), overrun=LogNormal(1.1, 0.3))
    b = programme("b", geo="vietnam", procurement_months=LogNormal(3.0, 0.5))
    both, only_a = rollouts([a, b]), rollouts([a])
    assert np.array_equal(both.completion[0], only_a.completion[0])
    assert np.array_equal(both.without("b").delivered, only_a.delivered)


# ---- effects in the ensemble ------------------------------------------------------------------------------------

def test_programmes_only_raise_shares_and_leave_other_geos_alone(calibrator, shipped, root, cfg):
    """Every effect kind, per draw and every series: with >= without; other geos are identical (CRN)."""
    hg = load_scenario(root / "scenarios" / "hau_giang_programmes.toml", cfg, known_geos(cfg))
    lift = programme("de_lift", geo="hau_giang", indicator="digital_economy_grdp_share", pillar="digital_economy",
                     effect=Effect("ceiling_lift", 10.0), overrun=LogNormal(1.2, 0.5))
    step = programme("fibre_step", geo="hau_giang", effect=Effect("step", 8.0),
                     procurement_months=LogNormal(6.0, 1.0), duration_years=1.0)
    scen = dataclasses.replace(shipped, programmes=shipped.programmes + hg.programmes + (lift, step),
                               settings=dataclasses.replace(shipped.settings, rollouts=50))
    years = tuple(range(2024, 2031))
    with_p = run_ensemble(calibrator, [scen], DRAWS, SEED)
    without = run_ensemble(calibrator, [dataclasses.replace(scen, programmes=())], DRAWS, SEED)
    for y in years:
        assert np.all(with_p.values(y) >= without.values(y) - 1e-9)
    raised = {with_p.series[k] for k in range(len(with_p.series))
              if np.any(with_p.values(2030)[:, :, k] > without.values(2030)[:, :, k] + 1e-6)}
    assert {("digital_economy_grdp_share", "gso_method"), ("fiber_household_share", "coverage")} <= raised
    untouched = [with_p.geos.index(g) for g in ("lang_son", "tra_vinh", "vietnam")]
    assert np.array_equal(with_p.values(2030)[:, untouched], without.values(2030)[:, untouched])


def test_history_and_geo_subsets_are_unchanged(calibrator, shipped):
    full = run_ensemble(calibrator, [shipped], DRAWS, SEED)
    none = run_ensemble(calibrator, [dataclasses.replace(shipped, programmes=())], DRAWS, SEED)
    years = list(full.years)
    past = [years.index(y) for y in years if y < full.first_projected_year]
    assert np.array_equal(full.mean[:, past], none.mean[:, past])
    sub = run_ensemble(calibrator, [shipped], DRAWS, SEED, geos=("long_an",))
    g = full.geos.index("long_an")
    assert np.array_equal(sub.values(2025)[:, 0], full.values(2025)[:, g])


# ---- acceptance: probabilities ----------------------------------------------------------------------------------

def test_a_programme_raises_its_targets_probabilities(calibrator, inputs, shipped):
    fibre = [p for p in shipped.programmes if p.name == FIBRE]
    later = later_fibre_targets(inputs)
    with_p = fibre_targets(probabilities(calibrator, inputs, shipped, fibre, later))
    without = fibre_targets(probabilities(calibrator, inputs, shipped, [], later))
    assert np.all(with_p["probability"].to_numpy() > without["probability"].to_numpy())


def test_starting_two_years_later_lowers_the_2027_probability(calibrator, inputs, shipped):
    fibre = next(p for p in shipped.programmes if p.name == FIBRE)
    later = later_fibre_targets(inputs)
    on_time = fibre_targets(probabilities(calibrator, inputs, shipped, [fibre], later))
    late = fibre_targets(probabilities(calibrator, inputs, shipped, [shift(fibre, 2)], later))
    assert np.all(late["probability"].to_numpy() < on_time["probability"].to_numpy())


def test_programme_table_deltas_match_separate_runs(calibrator, inputs, shipped):
    cfg = inputs.config
    years = ensemble_years(calibrator, shipped.settings.horizon)
    samples = sample_run(calibrator, DRAWS, SEED, shipped)
    ro = samples.rollouts
    assert ro.programmes == shipped.programmes
    again = scenario_rollouts(shipped, cfg, years, DRAWS, seed_streams(SEED)[2])
    assert np.array_equal(ro.completion, again.completion)            # the seed's rollout stream, as before
    ens = evaluate(calibrator, [shipped], samples)
    later = later_fibre_targets(inputs)
    table = programme_table(calibrator, shipped, later, ens, samples)
    assert list(table.columns) == list(PROGRAMME_COLUMNS)
    assert set(table["programme"]) == {p.name for p in shipped.programmes}
    fibre_rows = table[table["programme"] == FIBRE]
    assert len(fibre_rows) == 2 and table["deadline"].isna().sum() == 2   # the other two have no 2027 target
    assert (fibre_rows["probability_delta"] >= 0).all() and (fibre_rows["delta_mc_se"] >= 0).all()
    fibre = table[(table["programme"] == FIBRE) & (table["target"] == 98)].iloc[0]
    assert fibre["probability_delta"] > 0
    # "without" = the full run of the same scenario minus this programme (other geos simulated too)
    others = [p for p in shipped.programmes if p.name != FIBRE]
    tp = probabilities(calibrator, inputs, shipped, others, later)
    row = tp[(tp["geo"] == "long_an") & (tp["definition"] == "coverage") & (tp["target"] == 98)].iloc[0]
    assert fibre["probability_without"] == pytest.approx(row["probability"], abs=1e-12)
    assert fibre["completion_q10"] <= fibre["completion_q50"] <= fibre["completion_q90"]
    assert fibre["planned_start"] < fibre["completion_q10"]


# ---- the CLI end to end -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fast_config(tmp_path_factory, calibration_copy):
    """The shipped calibration folder, byte for byte, except 4 hyper-parameter samples instead of 16 (the fit
    is ~4x cheaper; these tests check the programme outputs, not the fit)."""
    return calibration_copy(tmp_path_factory.mktemp("calibration"), 4)


def test_cli_writes_programmes_csv_reproducibly(root, tmp_path, capsys, fast_config):
    outs = [tmp_path / f"run{k}" for k in range(2)]
    for out in outs:
        assert main(["run", str(root / "scenarios" / "long_an_programmes.toml"), "--draws", str(DRAWS),
                     "--out", str(out), "--no-charts", "--config", str(fast_config)]) == 0
    printed = capsys.readouterr().out
    assert "Programmes (200 rollouts)" in printed and FIBRE in printed and "programmes.csv" in printed
    table = pd.read_csv(outs[0] / "programmes.csv", na_values=["none"])     # none: no target of the row
    assert list(table.columns) == list(PROGRAMME_COLUMNS)
    assert set(table["programme"]) == {FIBRE, "level4_remaining_services", "commune_pilots"}
    # Long An's targets all fall due by 2025 (history now, not the programmes' doing): rows without a target
    assert table["probability_with"].dropna().between(0, 1).all()
    assert table["p_completed_by_horizon"].between(0, 1).all()
    assert (outs[0] / "programmes.csv").read_bytes() == (outs[1] / "programmes.csv").read_bytes()


def test_a_run_without_programmes_writes_no_programmes_csv(root, tmp_path, fast_config):
    out = tmp_path / "baseline"
    assert main(["run", str(root / "scenarios" / "baseline.toml"), "--draws", "50", "--out", str(out),
                 "--no-charts", "--config", str(fast_config)]) == 0
    assert not (out / "programmes.csv").exists()


# ---- bad input --------------------------------------------------------------------------------------------------

GOOD = """
name = "p"
geos = ["long_an", "vietnam"]
rollout = { teams = { long_an = 3 } }
[[programmes]]
name = "fibre"
geo = "long_an"
indicator = "fiber_household_share"
budget_bn_vnd = 100
start = 2026
duration_years = 2
effect = { kind = "speed_multiplier", multiplier = 1.5 }
"""


@pytest.mark.parametrize(("edit", "field", "message"), [
    (("budget_bn_vnd = 100", "budget_bn_vnd = -5"), "programmes[0].budget_bn_vnd", "must be > 0, got -5"),
    (("duration_years = 2", "duraton_years = 2"), "programmes[0].duraton_years", 'did you mean "duration_years"'),
    (('geo = "long_an"', 'geo = "hau_giang"'), "programmes[0].geo", "not in this scenario's geos"),
    (('"fiber_household_share"', '"fibre_share"'), "programmes[0].indicator", "unknown indicator"),
    (("start = 2026", "start = 2025"), "programmes[0].start", "must be >= 2026, got 2025"),
    (('kind = "speed_multiplier"', 'kind = "boost"'), "programmes[0].effect.kind", "must be one of"),
    (("multiplier = 1.5", "points = 1.5"), "programmes[0].effect.points", "give multiplier"),
    (('kind = "speed_multiplier", multiplier = 1.5', 'kind = "ceiling_lift", points = 10'),
     "programmes[0].effect.points", "at most 5 points"),
    (("start = 2026", "start = 2026\nyearly_release_bn_vnd = { 2026 = 50, 2027 = 0 }"),
     "programmes[0].yearly_release_bn_vnd.2027", "last yearly release must be > 0"),
    (("start = 2026", "start = 2026\nprocurement_months = { median = 3, sd = 1 }"),
     "programmes[0].procurement_months.sd", "unknown key"),
    (("start = 2026", "start = 2026\nteams = 4"), "programmes[0].teams", "needs 4 teams but long_an has 3"),
    (("{ long_an = 3 }", "{ long_an = 3 }, rollouts = 0"), "rollout.rollouts", "must be >= 1, got 0"),
    (("{ long_an = 3 }", "{ lang_son = 3 }"), "rollout.teams.lang_son", "not in this scenario's geos"),
])
def test_bad_programmes_are_refused_with_file_field_and_value(tmp_path, cfg, edit, field, message):
    text = GOOD.replace(*edit)
    assert text != GOOD
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(path, cfg, known_geos(cfg))
    assert err.value.source == str(path) and err.value.where == field and message in err.value.problem


def test_good_programme_parses(tmp_path, cfg):
    path = tmp_path / "p.toml"
    path.write_text(GOOD, encoding="utf-8")
    scen = load_scenario(path, cfg, known_geos(cfg))
    (p,) = scen.programmes
    assert (p.pillar, p.yearly_release_bn_vnd, p.planned_end, scen.settings.rollouts) == ("broadband", ((2026, 50.0),),
                                                                                 2028.0, 200)


def test_paths_of_ragged_work_segments():
    """Delivered fractions and completion from work segments of different counts per rollout, one rollout with
    none (SYNTHETIC segments, made here; values worked out by hand)."""
    segments = [[(2024.0, 0.5), (2025.0, 0.5)], [], [(2024.5, 1.0)]]
    delivered, completion = _paths(segments, np.array([1.0, 1.0, 2.0]), np.array([2024.25, 2025.5, 2027.0]),
                                   2031.0)
    assert np.allclose(delivered, [[0.25, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.5, 1.0]])
    assert completion[0] == 2025.5 and completion[1] == np.inf and completion[2] == 2026.5
