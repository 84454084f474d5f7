"""Scenario parsing: defaults, schedules, per-geo overrides, events, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from dxsim.errors import InputError
from dxsim.inputs.observations import known_geos
from dxsim.inputs.scenario import load_scenario


def _load(tmp_path, cfg, text):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path, cfg, known_geos(cfg))


def _shipped(root):
    """The shipped scenario files (factors files of dxsim sensitivity live next to them)."""
    return [p for p in sorted((root / "scenarios").glob("*.toml")) if not p.name.startswith("factors")]


def test_shipped_scenarios_load(root, cfg):
    for path in _shipped(root):
        scen = load_scenario(path, cfg, known_geos(cfg))
        assert scen.settings.draws >= 2000 and scen.settings.horizon == 2030
        assert {"long_an", "lang_son", "hau_giang", "tra_vinh", "vietnam"} <= set(scen.geos)


def test_schedule_steps_and_overrides(tmp_path, cfg):
    scen = _load(tmp_path, cfg, """
name = "t"
geos = ["long_an", "vietnam"]
[investment]
broadband = { 2027 = 1.5, 2029 = 1.2 }
digital_economy = 0.5
[investment.long_an]
broadband = 2.0
""")
    years = np.arange(2020, 2031)
    m = scen.investment_multiple(cfg, years, first_projected=2026)
    bb, de, dg = 0, 2, 1
    vn, la = scen.model_geos(cfg).index("vietnam"), scen.model_geos(cfg).index("long_an")
    assert list(m[:, vn, bb]) == [1] * 7 + [1.5, 1.5, 1.2, 1.2]
    assert list(m[:, la, bb]) == [1] * 6 + [2.0] * 5          # override; history (to 2025) untouched
    assert list(m[:, vn, de]) == [1] * 6 + [0.5] * 5
    assert np.all(m[:, :, dg] == 1)


def test_horizon_defaults_to_2030_and_may_reach_2035(tmp_path, cfg, calibrator):
    from dxsim.core.ensemble import run_ensemble

    assert _load(tmp_path, cfg, 'name = "h"').settings.horizon == 2030
    far = _load(tmp_path, cfg, 'name = "h"\nhorizon = 2035')
    ens = run_ensemble(calibrator, [far], 50, 0)
    assert far.settings.horizon == 2035 and ens.years[-1] == 2035 and np.isfinite(ens.values(2035)).all()


def test_shipped_scenarios_start_after_the_data_and_share_one_seed(root, cfg):
    """Every dated change starts in 2026 or later (the data run to 2025); one seed, so scenario differences are
    common-random-number comparisons."""
    scens = [load_scenario(p, cfg, known_geos(cfg)) for p in _shipped(root)]
    assert len({s.settings.seed for s in scens}) == 1
    for s in scens:
        years = [y for sched in s.investment.values() for y in sched] + [e.year for e in s.events]
        years += [int(p.start) for p in s.programmes] + [y for p in s.programmes for y, _ in p.yearly_release_bn_vnd]
        assert min(years, default=2026) >= 2026, s.name


def test_events(tmp_path, cfg):
    scen = _load(tmp_path, cfg, """
name = "m"
geos = ["long_an", "vietnam"]
[[events]]
indicator = "online_dossier_share"
geos = ["long_an"]
year = 2026
speed_multiplier = 2.0
ceiling_lift = 0
""")
    years = np.arange(2020, 2031)
    speed, lift = scen.event_effects(cfg, years)
    i = cfg.indicator_names.index("online_dossier_share")
    la, vn = scen.model_geos(cfg).index("long_an"), scen.model_geos(cfg).index("vietnam")
    assert speed[years >= 2026, la, i].tolist() == [2.0] * 5 and speed[years < 2026, la, i].tolist() == [1.0] * 6
    assert np.all(speed[:, vn, :] == 1) and np.all(lift == 0)


@pytest.mark.parametrize("text, field, problem", [
    ('[investment.long_an]\nbroadband = { 2026 = -5 }', "investment.long_an.broadband.2026", "must be >= 0, got -5"),
    # the data run to 2025: a change dated 2025 or earlier would rewrite history
    ('[investment]\nbroadband = { 2025 = 1.5 }', "investment.broadband.2025",
     "starts in 2025, before the first projected year 2026"),
    ('horizon = 2036', "horizon", "must be <= 2035"),
    ('[investment]\nbroadbnd = 1.0', "investment.broadbnd", 'did you mean "broadband"'),
    ('geos = ["long_ann"]', "geos[0]", 'did you mean "long_an"'),
    ('horizn = 2030', "horizn", 'did you mean "horizon"'),
    ('draws = "many"', "draws", "must be a whole number"),
    ('horizon = 2021', "horizon", "must be >= 2026"),
    ('[[events]]\nindicator = "fiber"\nyear = 2026\nspeed_multiplier = 2', "events[0].indicator", "unknown indicator"),
    ('[[events]]\nindicator = "online_dossier_share"\nyear = 2025\nspeed_multiplier = 2', "events[0].year",
     "must be >= 2026"),
])
def test_errors_name_file_field_and_value(tmp_path, cfg, text, field, problem):
    with pytest.raises(InputError) as err:
        _load(tmp_path, cfg, text)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "s.toml")) and field in message and problem in message
    assert "\n" not in message


def test_bn_vnd_needs_a_configured_baseline(tmp_path, cfg):
    with pytest.raises(InputError, match="baseline_spend_bn_vnd"):
        _load(tmp_path, cfg, '[investment]\nunit = "bn_vnd"\nbroadband = 100')


def test_bn_vnd_is_converted_by_the_configured_baseline_spend(tmp_path, cfg):
    import dataclasses

    spend_cfg = dataclasses.replace(cfg, baseline_spend_bn_vnd={("long_an", "broadband"): 40.0})
    path = tmp_path / "s.toml"
    path.write_text('geos = ["long_an"]\n[investment]\nunit = "bn_vnd"\n[investment.long_an]\n'
                    'broadband = { 2026 = 60, 2028 = 20 }\n', encoding="utf-8")
    scen = load_scenario(path, spend_cfg, known_geos(spend_cfg))
    m = scen.investment_multiple(spend_cfg, np.arange(2020, 2031), first_projected=2026)
    assert m[:, 0, 0].tolist() == [1] * 6 + [1.5, 1.5, 0.5, 0.5, 0.5]


def test_per_geo_schedule_replaces_the_default_from_its_first_year(tmp_path, cfg):
    scen = _load(tmp_path, cfg, 'geos = ["long_an"]\n[investment]\nbroadband = 1.5\n'
                                '[investment.long_an]\nbroadband = { 2028 = 1.3 }\n')
    m = scen.investment_multiple(cfg, np.arange(2020, 2031), first_projected=2026)
    assert m[:, 0, 0].tolist() == [1] * 6 + [1.5, 1.5, 1.3, 1.3, 1.3]


@pytest.mark.parametrize("event, field", [
    ('indicator = "online_dossier_share"\nyear = 2026\nceiling_lift = 20', "events[0].ceiling_lift"),
    ('indicator = "fiber_household_share"\nyear = 2026\nceiling_lift = 6', "events[0].ceiling_lift"),
    ('indicator = "online_dossier_share"\nyear = 2026\nspeed_multiplier = 1.5\ngeos = ["long_an", "long_an"]',
     "events[0].geos[1]"),
])
def test_event_errors(tmp_path, cfg, event, field):
    with pytest.raises(InputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        _load(tmp_path, cfg, 'geos = ["long_an"]\n[[events]]\n' + event)
