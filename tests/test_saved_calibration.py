"""The saved calibration (core/saved_calibration.py): `dxsim run` loads it while the fit's inputs are unchanged,
and the results are byte-identical to a fit; any change of an input, a damaged file or --refit means a fit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dxsim.cli import main
from dxsim.core import saved_calibration as sc
from dxsim.core.calibrate import Calibrator
from dxsim.outputs import plots
from dxsim.pipeline import load_inputs

FILES = ("trajectories.csv", "target_probabilities.csv", "all_targets_probabilities.csv", "fit_table.csv",
         "observations_used.csv")


@pytest.fixture(scope="module")
def fast(tmp_path_factory, calibration_copy):
    """(inputs, calibrator, folder with its saved calibration) on a copy of the shipped calibration with 2
    hyper-parameter samples."""
    config = calibration_copy(tmp_path_factory.mktemp("calibration"), 2)
    inputs = load_inputs(config)
    cal = Calibrator(inputs.config).fit(inputs.observations)
    folder = tmp_path_factory.mktemp("saved")
    sc.save(cal, inputs.observations, folder)
    return inputs, cal, folder


def test_loaded_posteriors_are_the_fitted_ones_bit_for_bit(fast):
    inputs, cal, folder = fast
    loaded = sc.fitted_calibrator(inputs.config, inputs.observations, folder=folder)
    assert loaded.restored_from_ == folder / sc.META and cal.restored_from_ is None
    assert loaded.jump_off_year_ == cal.jump_off_year_ and loaded.data_through_ == cal.data_through_
    assert loaded.observations_.equals(cal.observations_)
    for name, post in cal.posteriors_.items():
        again = loaded.posteriors_[name]
        for field, value in vars(post).items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(value, getattr(again, field), equal_nan=True), (name, field)
                assert value.dtype == getattr(again, field).dtype
            else:
                assert value == getattr(again, field), (name, field)
    a, b = cal.sample(300, 4), loaded.sample(300, 4)
    assert all(np.array_equal(a.to_npz_dict()[k], v) for k, v in b.to_npz_dict().items())


def test_the_fit_table_is_saved_with_the_posteriors_and_loads_identical(fast, monkeypatch):
    inputs, cal, folder = fast
    from dxsim.core import fit_tables

    monkeypatch.setattr(fit_tables, "fit_table", lambda _: pytest.fail("a restored calibration computed its fit table"))
    loaded = sc.fitted_calibrator(inputs.config, inputs.observations, folder=folder)
    table, again = cal.fit_table(), loaded.fit_table()
    assert list(again.columns) == list(table.columns) and list(again.dtypes) == list(table.dtypes)
    assert again.equals(table) and again.to_csv() == table.to_csv()
    again.loc[0, "geo"] = "changed"                              # each call gives the caller its own copy
    assert loaded.fit_table().equals(table)


def test_any_changed_input_changes_the_key(fast):
    inputs, _, _ = fast
    cfg, obs = inputs.config, inputs.observations
    key = sc.calibration_key(cfg, obs)
    assert sc.calibration_key(cfg, obs.copy()) == key                        # contents, not identity
    changed = obs.copy()
    changed.loc[changed.index[0], "value"] = float(changed["value"].iloc[0]) + 1e-9
    assert sc.calibration_key(cfg, changed) != key
    assert sc.calibration_key(cfg, obs.iloc[1:]) != key
    assert sc.calibration_key(cfg, obs, as_of=2022) != key
    assert sc.calibration_key(cfg.__class__(**{**vars(cfg), "seed": cfg.seed + 1}), obs) != key
    moved = cfg.__class__(**{**vars(cfg), "path": Path("elsewhere/config.toml")})
    assert sc.calibration_key(moved, obs) == key                              # where it lives does not count


def test_other_inputs_damaged_or_missing_files_mean_a_fit(fast, tmp_path, monkeypatch):
    inputs, _, folder = fast
    cfg, obs = inputs.config, inputs.observations
    fits = []                                           # whether it fits, not the fit, is the question: a stub
    monkeypatch.setattr(Calibrator, "fit", lambda self, *args, **kw: fits.append(args) or setattr(
        self, "restored_from_", None) or self)
    assert sc.fitted_calibrator(cfg, obs.iloc[1:], folder=folder, save_fit=False).restored_from_ is None
    assert sc.fitted_calibrator(cfg, obs, folder=tmp_path / "absent", save_fit=False).restored_from_ is None
    assert sc.fitted_calibrator(cfg, obs, refit=True, folder=folder, save_fit=False).restored_from_ is None
    assert len(fits) == 3 and sc.fitted_calibrator(cfg, obs, folder=folder, save_fit=False).restored_from_
    assert len(fits) == 3                                                      # the saved one loaded: no fit
    key = sc.calibration_key(cfg, obs)
    for damage in ("truncate npz", "other npz", "bad json"):
        copy = tmp_path / damage.replace(" ", "_")
        copy.mkdir()
        for name in (sc.ARRAYS, sc.META):
            (copy / name).write_bytes((folder / name).read_bytes())
        if damage == "truncate npz":
            (copy / sc.ARRAYS).write_bytes((folder / sc.ARRAYS).read_bytes()[:1000])
        elif damage == "other npz":
            with np.load(folder / sc.ARRAYS) as npz:
                np.savez(copy / sc.ARRAYS, **{**{k: npz[k] for k in npz.files}, "key": np.array("0" * 64)})
        else:
            (copy / sc.META).write_text("{not json", encoding="utf-8")
        assert sc.load(copy, key) is None, damage
    assert sc.load(folder, key) is not None


def test_a_fit_is_saved_for_the_next_run_and_an_unwritable_cache_is_skipped(fast, tmp_path, monkeypatch):
    inputs, cal, _ = fast
    cfg, obs = inputs.config, inputs.observations
    monkeypatch.setenv(sc.CACHE_ENV, str(tmp_path / "cache"))
    first = sc.fitted_calibrator(cfg, obs)
    assert first.restored_from_ is None and (tmp_path / "cache" / sc.META).is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []   # no temporary file
    again = sc.fitted_calibrator(cfg, obs)
    assert again.restored_from_ == tmp_path / "cache" / sc.META
    assert again.fit_table().equals(cal.fit_table())
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(sc.CACHE_ENV, str(tmp_path / "file" / "cache"))          # cannot be created: no error
    assert sc.fitted_calibrator(cfg, obs).restored_from_ is None


def test_without_the_variable_calibrate_output_then_the_user_cache(fast, tmp_path, monkeypatch):
    inputs, _, folder = fast
    monkeypatch.delenv(sc.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "xdg" / "dxsim" / "calibration"
    assert sc.lookup_folders() == (Path("results/calibration"), user) and sc.save_folder() == user
    fitted = sc.fitted_calibrator(inputs.config, inputs.observations)
    assert fitted.restored_from_ is None and (user / sc.META).is_file() and not Path("results").exists()
    for name in (sc.ARRAYS, sc.META):                            # what `dxsim calibrate` wrote is found first
        (tmp_path / "results" / "calibration").mkdir(parents=True, exist_ok=True)
        (tmp_path / "results" / "calibration" / name).write_bytes((folder / name).read_bytes())
    loaded = sc.fitted_calibrator(inputs.config, inputs.observations)
    assert loaded.restored_from_ == Path("results/calibration") / sc.META


def test_run_loads_the_calibration_saved_by_calibrate_with_identical_results(fast, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv(sc.CACHE_ENV, str(cache))
    config = str(fast[0].config.path)                      # the shipped calibration with 2 hyper-parameter samples
    monkeypatch.setattr(plots, "calibration_diagnostics", lambda *args: None)   # tested in test_cli.py
    assert main(["calibrate", "--draws", "20", "--config", config]) == 0       # --out: $DXSIM_CACHE_DIR
    assert (cache / sc.META).is_file() and (cache / sc.ARRAYS).is_file()
    capsys.readouterr()
    runs = {}
    for name, extra in (("loaded", []), ("fitted", ["--refit"])):
        runs[name] = tmp_path / name
        assert main(["run", "scenarios/baseline.toml", "--draws", "50", "--no-charts", "--config", config,
                     "--out", str(runs[name]), *extra]) == 0
        printed = capsys.readouterr().out
        assert ("calibration loaded from" in printed) == (name == "loaded")
    for file in FILES:
        assert (runs["loaded"] / file).read_bytes() == (runs["fitted"] / file).read_bytes(), file
    manifests = {k: json.loads((v / "manifest.json").read_text(encoding="utf-8")) for k, v in runs.items()}
    assert manifests["loaded"]["calibration"].pop("loaded_from") == str(cache / sc.META)
    assert manifests["fitted"]["calibration"].pop("loaded_from") is None
    assert manifests["loaded"]["calibration"] == manifests["fitted"]["calibration"]


def test_a_run_with_a_saved_calibration_imports_no_scipy(fast, root, tmp_path):
    """scipy (0.3-1 s to import) is only needed to fit; matplotlib only to draw (not for the printed summary);
    tqdm only to show progress on a terminal; simpy only for programmes; the analyses only by their commands;
    importlib.metadata (~30 ms) never (the version is a constant)."""
    inputs, _, folder = fast
    args = ["run", "scenarios/baseline.toml", "--draws", "50", "--no-charts", "--config", str(inputs.config.path),
            "--out", str(tmp_path / "out")]
    code = ("import sys\nfrom dxsim.cli import main\n"
            f"assert main({args!r}) == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib', 'tqdm', 'simpy'}\n"
            "             | {m for m in sys.modules if m.startswith('dxsim.analyses.') or m == 'importlib.metadata'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                         env={**os.environ, sc.CACHE_ENV: str(folder)})
    assert out.returncode == 0, out.stderr
    assert "calibration loaded from" in out.stdout and out.stdout.strip().endswith("[]"), out.stdout


def test_inputs_are_read_once_then_reused_until_a_file_or_the_folder_changes(tmp_path, calibration_copy, monkeypatch):
    """`dxsim run` reuses the validated tables an earlier command saved (saved_inputs.py): the same values and
    dtypes, no reading; a changed file, another working folder or a damaged save means reading again."""
    from dxsim import pipeline
    from dxsim.core import saved_inputs

    config = calibration_copy(tmp_path / "calibration", 2)
    monkeypatch.setenv(sc.CACHE_ENV, str(tmp_path / "cache"))
    fresh = load_inputs(config)
    reads = []
    read = pipeline.load_observations
    monkeypatch.setattr(pipeline, "load_observations", lambda *a: reads.append(a) or read(*a))
    first = load_inputs(config, reuse=True)
    assert len(reads) == 1 and (tmp_path / "cache" / saved_inputs.FILE).is_file()
    again = load_inputs(config, reuse=True)
    assert len(reads) == 1 and again.config == first.config == fresh.config
    for name in ("observations", "targets"):
        a, b = getattr(fresh, name), getattr(again, name)
        assert a.equals(b) and list(a.dtypes) == list(b.dtypes) and a.attrs == b.attrs and a.to_csv() == b.to_csv()
    targets = config.parent / "targets.csv"
    targets.write_bytes(targets.read_bytes() + b"\n")                          # any changed byte: read again
    load_inputs(config, reuse=True)
    assert len(reads) == 2
    monkeypatch.chdir(tmp_path)                                      # relative paths mean other files elsewhere
    load_inputs(config, reuse=True)
    assert len(reads) == 3
    (tmp_path / "cache" / saved_inputs.FILE).write_bytes(b"PK not a zip")
    assert load_inputs(config, reuse=True).targets.equals(fresh.targets) and len(reads) == 4


def test_inputs_read_while_a_file_changed_are_not_saved(tmp_path, calibration_copy, monkeypatch):
    """A targets file edited while the inputs are read: the tables are not saved under the key of the file before
    the edit, so with the file back as it was the next command reads it again (and gets its values)."""
    from dxsim import pipeline

    config = calibration_copy(tmp_path / "calibration", 2)
    monkeypatch.setenv(sc.CACHE_ENV, str(tmp_path / "cache"))
    targets = config.parent / "targets.csv"
    before = targets.read_bytes()
    reads = []
    read = pipeline.load_observations

    def edit_then_read(*a):
        reads.append(a)
        if len(reads) == 1:
            targets.write_bytes(before + b"\n")                 # the edit lands while the inputs are read
        return read(*a)

    monkeypatch.setattr(pipeline, "load_observations", edit_then_read)
    load_inputs(config, reuse=True)
    targets.write_bytes(before)
    load_inputs(config, reuse=True)
    assert len(reads) == 2


def test_saved_inputs_key_names_the_libraries_and_a_users_file_is_left_alone(tmp_path, calibration_copy,
                                                                             monkeypatch):
    """The key changes with pandas' (or numpy's) version; the saved tables have dxsim's own file name, and a file of
    that name dxsim did not write stays byte for byte (a user's inputs.json beside it too)."""
    from dxsim.core import saved_inputs

    config = calibration_copy(tmp_path / "calibration", 2)
    cache = tmp_path / "cache"
    monkeypatch.setenv(sc.CACHE_ENV, str(cache))
    cfg = load_inputs(config).config
    key = saved_inputs.key_of(cfg, cfg.observations, cfg.targets)
    monkeypatch.setattr(saved_inputs.pd, "__version__", "0.0")
    assert saved_inputs.key_of(cfg, cfg.observations, cfg.targets) != key
    monkeypatch.undo()
    monkeypatch.setenv(sc.CACHE_ENV, str(cache))
    cache.mkdir()
    users = {cache / "inputs.json": b'{"mine": 1}', cache / saved_inputs.FILE: b'{"format": 1, "key": "mine"}'}
    for path, text in users.items():
        path.write_bytes(text)
    load_inputs(config, reuse=True)
    assert all(path.read_bytes() == text for path, text in users.items())
    (cache / saved_inputs.FILE).unlink()
    load_inputs(config, reuse=True)
    assert saved_inputs.load(key, cache) is not None and (cache / "inputs.json").read_bytes() == b'{"mine": 1}'


def test_a_run_builds_its_aggregation_once(calibrator, root, monkeypatch):
    """run_ensemble asks for the aggregation twice (size check, evaluate): aggregations.py builds it once per config
    object and regions."""
    from dxsim.core.ensemble import run_ensemble
    from dxsim.inputs import aggregations
    from dxsim.pipeline import known_geos, load_scenario

    built = []
    build = aggregations._aggregation_for
    monkeypatch.setattr(aggregations, "_AGGREGATIONS", {})
    monkeypatch.setattr(aggregations, "_aggregation_for", lambda *a: built.append(a) or build(*a))
    cfg = calibrator.config
    scenario = load_scenario(root / "scenarios" / "baseline.toml", cfg, known_geos(cfg))
    run_ensemble(calibrator, [scenario], 10, 1)
    assert len(built) == 1
