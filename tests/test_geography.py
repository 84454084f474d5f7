"""The 34-province map: names contract, weights, per-draw aggregation, readings and targets on the new map.

Synthetic data (made here and saying so) only where a known answer needs it: context weights with a zero, and a
post-merger reading placed in 2023 so that the shipped 2023 jump-off can use it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from dxsim.core.calibrate import Calibrator
from dxsim.core.design import build_design
from dxsim.core.ensemble import run_ensemble
from dxsim.core.merged_readings import _part_rows, exact_gap, linearised_rows, split_merged, with_merged_readings
from dxsim.core.posterior import _gaussian_posterior, _hyper_priors
from dxsim.errors import InputError
from dxsim.inputs.geography import POST, PRE, Region, build_aggregation, load_geomap
from dxsim.inputs.scenario import RunSettings, Scenario

DRAWS, SEED = 300, 5


@pytest.fixture(scope="module")
def geomap(cfg):
    return load_geomap(cfg)


def _scenario(geos, **kw):
    return Scenario("t", "", tuple(geos), "multiple", kw.pop("investment", {}), settings=RunSettings(2030, DRAWS, SEED),
                    **kw)


def test_names_contract(geomap):
    assert geomap.resolve("tay_ninh") == Region("tay_ninh", POST, ("tay_ninh", "long_an"))
    assert geomap.resolve("tay_ninh@pre2025") == Region("tay_ninh@pre2025", PRE, ("tay_ninh",))
    assert geomap.resolve("hue") == Region("hue", POST, ("thua_thien_hue",))
    assert geomap.resolve("long_an") == Region("long_an", PRE, ("long_an",))
    assert geomap.resolve("ha_nam") == Region("ha_nam", PRE, ("ha_nam",))
    assert geomap.resolve("lang_son") == geomap.resolve("lang_son@pre2025") == Region("lang_son", POST, ("lang_son",))
    assert set(geomap.resolve("can_tho").parts) == {"can_tho", "soc_trang", "hau_giang"}
    assert geomap.resolve("vietnam").geography == "national"
    assert len(geomap.new) == 34 and len(geomap.old) == 63
    for bad in ("hue_city", "long_an@pre2025x", "hue@pre2025"):
        assert geomap.resolve(bad) is None


def test_unknown_name_one_line_with_candidates_on_both_maps(geomap):
    with pytest.raises(InputError) as err:
        geomap.region("thua_thien_hu", "scenarios/x.toml", "geos[2]")
    msg = str(err.value)
    assert msg.startswith("scenarios/x.toml: geos[2]: unknown geo 'thua_thien_hu'") and "\n" not in msg
    assert "34-province map" in msg and "63-province map" in msg and "thua_thien_hue" in msg
    # a surviving name that was renamed, not merged, has no NAME@pre2025: the old name comes first
    renamed = geomap.unknown_message("hue@pre2025")
    assert renamed.split("63-province map: ")[1].startswith("thua_thien_hue")


def test_scenario_names_on_both_maps(tmp_path, cfg, capsys):
    from dxsim.inputs.scenario import load_scenario

    path = tmp_path / "s.toml"
    path.write_text('name = "s"\ngeos = ["tay_ninh", "hue", "lang_son@pre2025", "tay_ninh@pre2025"]\n'
                    '[investment.tay_ninh]\nbroadband = 2.0\n[investment.long_an]\nbroadband = 3.0\n'
                    '[[events]]\nindicator = "online_dossier_share"\ngeos = ["tay_ninh"]\nyear = 2026\n'
                    'speed_multiplier = 1.5\n', encoding="utf-8")
    scen = load_scenario(path, cfg, load_geomap(cfg).model_geos)
    assert scen.geos == ("tay_ninh", "hue", "lang_son", "tay_ninh@pre2025")
    assert not scen.notes          # tay_ninh@pre2025 is listed too: the new meaning is evidently known
    model = scen.model_geos(cfg)
    m = scen.investment_multiple(cfg, np.arange(2020, 2031), 2024)
    bb = 0
    # the merged province's schedule applies to all its parts; a part's own schedule overrides it
    assert m[-1, model.index("tay_ninh"), bb] == 2.0 and m[-1, model.index("long_an"), bb] == 3.0
    assert m[-1, model.index("lang_son"), bb] == 1.0
    speed, _ = scen.event_effects(cfg, np.arange(2020, 2031))
    i = cfg.indicator_names.index("online_dossier_share")
    assert speed[-1, model.index("tay_ninh"), i] == speed[-1, model.index("long_an"), i] == 1.5
    path.write_text('name = "s"\ngeos = ["tay_ninh", "vietnam"]\n', encoding="utf-8")
    note = load_scenario(path, cfg, load_geomap(cfg).model_geos).notes
    assert len(note) == 1 and "tay_ninh@pre2025" in note[0] and "long_an" in note[0]


def test_one_part_equals_the_part_and_merged_is_the_weighted_mean_per_draw(calibrator, cfg, geomap):
    ens = run_ensemble(calibrator, [_scenario(["hue", "tay_ninh", "tay_ninh@pre2025", "long_an", "thua_thien_hue"])],
                       DRAWS, SEED)
    assert ens.geographies == (POST, POST, PRE, PRE, PRE)
    for year in (2021, 2030):
        v = ens.values(year)[0]                                   # (geo, series, draw)
        np.testing.assert_array_equal(v[0], v[4])                 # hue == thua_thien_hue, draw for draw
        pop = np.array([geomap.population["tay_ninh"], geomap.population["long_an"]])
        w = pop / pop.sum()
        de = [k for k, (i, _) in enumerate(ens.series) if i != "digital_economy_grdp_share"]
        np.testing.assert_allclose(v[1][de], w[0] * v[2][de] + w[1] * v[3][de], rtol=1e-12)
    # a subset of geos gives the same values (the aggregate needs only its parts)
    sub = run_ensemble(calibrator, [_scenario(["hue", "tay_ninh", "tay_ninh@pre2025", "long_an", "thua_thien_hue"])],
                       DRAWS, SEED, geos=("tay_ninh",))
    np.testing.assert_allclose(sub.values(2030)[0, 0], ens.values(2030)[0, 1], rtol=1e-12)


def _synthetic_context(weights: dict[str, float]) -> pd.DataFrame:
    """SYNTHETIC context rows (test only): one source, one year, the given weights."""
    return pd.DataFrame({"geo": list(weights), "indicator": "synthetic_weight", "year": "2024",
                         "value": list(weights.values()), "source_url": "synthetic"})


def test_zero_weight_and_swapped_weights(geomap):
    region = geomap.resolve("tay_ninh")
    values = np.random.default_rng(0).uniform(10, 90, size=(1, 2, 1, 500))          # (S, part, series, draw)
    zero = build_aggregation(geomap, [region], ["x"], {"x": "synthetic_weight"},
                             _synthetic_context({"tay_ninh": 0.0, "long_an": 5.0}))
    assert zero.model_geos == ("long_an", "tay_ninh")                               # model order
    out = zero.apply(values, np.array([0]), [0], np.arange(2))
    np.testing.assert_array_equal(out[0, 0], values[0, 0])                          # = the other part (long_an)
    heavy_a = build_aggregation(geomap, [region], ["x"], {"x": "synthetic_weight"},
                                _synthetic_context({"long_an": 3.0, "tay_ninh": 1.0}))
    heavy_b = build_aggregation(geomap, [region], ["x"], {"x": "synthetic_weight"},
                                _synthetic_context({"long_an": 1.0, "tay_ninh": 3.0}))
    a = heavy_a.apply(values, np.array([0]), [0], np.arange(2))[0, 0, 0]
    b = heavy_b.apply(values, np.array([0]), [0], np.arange(2))[0, 0, 0]
    first_higher = values[0, 0, 0] > values[0, 1, 0]
    assert np.all((a > b) == first_higher)                  # more weight on the higher part raises the aggregate
    np.testing.assert_allclose(a - b, 0.5 * (values[0, 0, 0] - values[0, 1, 0]))
    assert set(zero.table["weight_kind"]) == {"synthetic_weight"}


def test_missing_weight_falls_back_to_population_and_says_so(geomap):
    region = geomap.resolve("can_tho")
    agg = build_aggregation(geomap, [region], ["x"], {"x": "synthetic_weight"},
                            _synthetic_context({"can_tho": 1.0, "soc_trang": 2.0}))   # hau_giang lacks it
    assert set(agg.table["weight_kind"]) == {"population"}
    assert agg.table["note"].str.contains("population used").all()
    pop = np.array([geomap.population[p] for p in agg.model_geos])
    np.testing.assert_allclose(agg.matrix[0, 0], pop / pop.sum())


def test_national_consistency_34_equals_63_per_draw(calibrator, geomap):
    new = sorted(geomap.new)
    ens34 = run_ensemble(calibrator, [_scenario(new)], 50, SEED)
    ens63 = run_ensemble(calibrator, [_scenario([geomap.resolve(o + "@pre2025").name for o in geomap.old])], 50, SEED)
    assert ens63.aggregation.identity and ens63.model_geos == geomap.old
    pop34 = np.array([sum(geomap.population[p] for p in geomap.new[n]) for n in new])
    pop63 = np.array([geomap.population[o] for o in geomap.old])
    for year in (2022, 2030):
        fibre = [ens34.series.index(("fiber_household_share", "subscription"))]
        a = np.einsum("g,gd->d", pop34, ens34.values(year, series=fibre)[0, :, 0]) / pop34.sum()
        b = np.einsum("g,gd->d", pop63, ens63.values(year, series=fibre)[0, :, 0]) / pop63.sum()
        np.testing.assert_allclose(a, b, rtol=1e-6)


def _without_merged(observations: pd.DataFrame) -> pd.DataFrame:
    """The shipped readings less those of merged provinces (the real merged Tay Ninh's 99.6%)."""
    return observations[observations["geography"] != POST].reset_index(drop=True)


def _with_synthetic_reading(observations: pd.DataFrame, value: float) -> pd.DataFrame:
    """SYNTHETIC post-merger reading (test only) in place of the real ones: merged Tay Ninh, submitted online,
    dated Oct 2023."""
    observations = _without_merged(observations)
    row = observations.iloc[[0]].copy()
    row[["geo", "geography", "indicator", "definition", "year", "value", "time", "status", "note"]] = [
        "tay_ninh", POST, "online_dossier_share", "submitted_online", 2023, value, 2023 + 10 / 12, "used",
        "SYNTHETIC reading made by tests/test_geography.py"]
    return pd.concat([observations, row], ignore_index=True)


def test_post_merger_reading_informs_the_aggregate(cfg, inputs):
    scen = _scenario(["tay_ninh", "tay_ninh@pre2025", "long_an"])
    k = None
    out = {}
    for label, obs in (("without", _without_merged(inputs.observations)),
                       ("with", _with_synthetic_reading(inputs.observations, 60.0))):
        cal = Calibrator(cfg).fit(obs)
        ens = run_ensemble(cal, [scen], 2000, SEED)
        k = ens.series.index(("online_dossier_share", "submitted_online"))
        out[label] = ens.values(2023, series=[k])[0, :, 0]                         # (geo, draw)
    before, after = np.median(out["without"], axis=1), np.median(out["with"], axis=1)
    assert abs(after[0] - 60.0) < abs(before[0] - 60.0)                         # the aggregate moves towards it
    assert np.all(np.sign(after[1:] - before[1:]) == np.sign(60.0 - before[0]))   # and so do both parts
    width = {k_: np.subtract(*np.quantile(v[0], [0.9, 0.1])) for k_, v in out.items()}
    assert width["with"] < width["without"]                                     # removing it widens the interval


def test_linearised_update_matches_the_gaussian_update_and_the_exact_aggregate(cfg, inputs, geomap):
    """At fixed hyper-parameters a linear(ised) reading moves each part by cov(part, reading) / var(reading):
    parts move in proportion to their weights and uncertainty; and the expansion is close to the exact aggregate
    at the fit."""
    spec = cfg.indicator("online_dossier_share")
    obs = _with_synthetic_reading(inputs.observations, 60.0)
    obs = obs[(obs["indicator"] == spec.name) & (obs["status"] == "used")]
    plain, merged = split_merged(obs, geomap)
    assert len(merged) == 1
    geos = load_geomap(cfg).model_geos
    t0 = cfg.reference_year + spec.reading_month / 12.0
    design = build_design(spec, geos, plain, t0, cfg.share_clip, cfg.aggregates)
    weights = {"tay_ninh": {"tay_ninh": 0.4091, "long_an": 0.5909}}
    full = with_merged_readings(design, spec, geos, merged, t0, cfg.share_clip, weights, cfg.aggregates)
    hyper = np.exp(_hyper_priors(spec)[0])
    mean0, root0 = _gaussian_posterior(design, hyper)
    mean1, _ = _gaussian_posterior(full, hyper)
    cov0 = root0 @ root0.T
    parts = _part_rows(spec, geos, merged, t0, weights, cfg.aggregates)
    r = sparse.csr_matrix(full.X)[-1].toarray().ravel()
    gain = cov0 @ r / (r @ cov0 @ r + hyper[2] ** 2)
    expected = mean0 + gain * (full.y[-1] - r @ mean0)
    np.testing.assert_allclose(mean1, expected, rtol=1e-6, atol=1e-9)
    w, rows = parts[0]
    moved = rows @ (mean1 - mean0)
    np.testing.assert_allclose(moved, rows @ cov0 @ r / (r @ cov0 @ r + hyper[2] ** 2) * (full.y[-1] - r @ mean0))
    # both parts move towards the reading; the one with fewer readings of its own (old Tay Ninh) moves more
    assert np.all(np.sign(moved) == np.sign(full.y[-1] - r @ mean0)) and abs(moved[0]) > abs(moved[1])
    # the expansion (around the final fit) against the exact transformed aggregate, near the fit
    X, _ = linearised_rows(spec, merged, parts, mean1, cfg.share_clip)
    assert np.allclose(X, r[None, :], atol=1e-3)             # re-centred: the last row is taken at the fit
    gaps = [abs(exact_gap(spec, parts, mean1, mean1 + step * (mean0 - mean1))[0]) for step in (0.0, 0.05, 0.2)]
    assert gaps[0] < 1e-9                                    # exact at the fit
    assert gaps[1] < gaps[2] / 8 and gaps[2] < 0.05         # and second-order away from it (logit units)


def test_baseline_reports_both_maps_and_evaluates_new_map_targets_on_the_aggregate(root, inputs):
    from dxsim.pipeline import run_scenario

    res = run_scenario(root / "scenarios" / "baseline.toml", draws=200, seed=SEED, inputs=inputs)
    tr = res.trajectories
    geos = dict(zip(tr["geo"], tr["geography"], strict=True))
    assert {g: geos[g] for g in ("tay_ninh", "can_tho", "vinh_long", "lang_son")} == dict.fromkeys(
        ("tay_ninh", "can_tho", "vinh_long", "lang_son"), POST)
    assert {geos[g] for g in ("long_an", "hau_giang", "tra_vinh", "vinh_long@pre2025")} == {PRE}
    assert geos["vietnam"] == "national"
    tp = res.target_probabilities
    vl = tp[(tp["geo"] == "vinh_long") & (tp["geography"] == POST) & (tp["deadline"] == 2030)]
    assert len(vl) == 1 and vl["evaluable"].all()                  # Vinh Long's 10.08% by 2030, on the new map
    row = vl.iloc[0]
    draws = res.ensemble.series_draws(2030, "vinh_long", (row["indicator"], row["evaluated_as"]))[0]
    assert row["probability"] == np.mean(draws >= row["target"])   # from the aggregate's own draws
    old = tp[(tp["geo"] == "vinh_long@pre2025") & (tp["deadline"] == 2030)]
    assert len(old) == 1 and old["evaluable"].all()                # the old province's target stays on the old map
    assert set(pd.read_csv(root / "calibration" / "census_2019.csv")["geo"]) >= set(res.ensemble.model_geos) - {
        "vietnam"}
