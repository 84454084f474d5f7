"""The library facade: ``import dxsim`` lists it, and the README's "From Python" example runs as it stands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FACADE = ("load_inputs", "calibrate", "save_calibration", "write_calibration", "load_calibration", "load_scenario",
          "make_scenario", "run",
          "target_probabilities",
          "trajectories", "write_results", "read_results", "plot_results", "write_report", "compare", "sensitivity",
          "write_sensitivity", "required_investment", "write_required_investment", "InputError",
          "Scenario", "RunResult", "Calibrator")


def readme_example() -> str:
    """The first python block of the README's "From Python" section."""
    section = README.read_text(encoding="utf-8").split("\n## From Python\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_help_lists_the_facade_and_import_stays_light():
    code = ("import sys, dxsim; heavy = [m for m in ('pandas', 'scipy', 'matplotlib', 'dxsim.pipeline') "
            "if m in sys.modules]; print(heavy); help(dxsim)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PAGER": "cat", "MANPAGER": "cat"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("[]")                  # nothing heavy imported by `import dxsim`
    listed = out.stdout.split("Functions", 1)[1]
    assert all(re.search(rf"\b{name}\b", listed) for name in FACADE)


def test_every_listed_name_resolves():
    import dxsim

    for name in FACADE:
        assert getattr(dxsim, name).__doc__, name
    with pytest.raises(AttributeError):
        dxsim.no_such_name  # noqa: B018


def test_readme_example_runs_in_an_empty_folder(tmp_path):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 12
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert "baseline" in out.stdout and "fast_fibre" in out.stdout
    folder = tmp_path / "results" / "fast_fibre"
    assert (folder / "report.html").is_file() and (folder / "trajectories.csv").is_file()
    assert list((folder / "charts").glob("fan_lang_son_*.png"))


def test_a_scenario_built_in_code_is_checked_as_a_file_is(inputs):
    import dxsim

    with pytest.raises(dxsim.InputError, match=r"scenario: investment.broadbnd: unknown pillar or geo 'broadbnd'"):
        dxsim.make_scenario("x", inputs, investment={"broadbnd": 1.5})
    scen = dxsim.make_scenario("x", inputs, investment={"broadband": 1.5}, geos=["lang_son"])
    assert scen.path is None and scen.geos == ("lang_son",) and scen.investment[("*", "broadband")]


def test_shipped_scenarios_by_name_and_a_clear_error_otherwise(inputs):
    import dxsim

    assert {"baseline", "accelerated"} <= set(dxsim.shipped_scenarios())
    assert dxsim.load_scenario("baseline", inputs).name == "baseline"
    with pytest.raises(dxsim.ArgumentError, match="no shipped scenario of that name; shipped: .*baseline"):
        dxsim.load_scenario("basline", inputs)


def test_a_saved_calibration_loads_back_for_its_inputs_only(inputs, calibrator, tmp_path):
    import dataclasses

    import numpy as np

    import dxsim

    with pytest.raises(dxsim.InputError, match=r"calibration\.json: calibration: no saved calibration"):
        dxsim.load_calibration(inputs, tmp_path)
    assert dxsim.save_calibration(calibrator, inputs, tmp_path) == tmp_path
    loaded = dxsim.load_calibration(inputs, tmp_path)
    assert loaded.restored_from_ == tmp_path / "calibration.json"
    assert loaded.jump_off_year_ == calibrator.jump_off_year_
    for name, post in calibrator.posteriors_.items():
        np.testing.assert_array_equal(loaded.posteriors_[name].means, post.means)
    fewer = dataclasses.replace(inputs, observations=inputs.observations.iloc[:-1])
    with pytest.raises(dxsim.InputError, match="fitted to another config, readings or as_of"):
        dxsim.load_calibration(fewer, tmp_path)


@pytest.mark.parametrize("call, argument", [
    (lambda dx, inputs: dx.required_investment("baseline", inputs, probability=1.5), "probability"),
    (lambda dx, inputs: dx.required_investment("baseline", inputs, geos=["nowhere"]), "geos"),
    (lambda dx, inputs: dx.required_investment("baseline", inputs, max_multiple=0.5), "max_multiple"),
    (lambda dx, inputs: dx.sensitivity("baseline", inputs, n=3), "n"),
    (lambda dx, inputs: dx.compare(["results/baseline"]), "folders"),
])
def test_library_errors_name_the_argument_not_the_option(inputs, call, argument):
    """Refused before any calibration or simulation, naming the function's argument (the CLI shows its option)."""
    import dxsim

    with pytest.raises(dxsim.ArgumentError) as err:
        call(dxsim, inputs)
    assert err.value.where == argument and "--" not in str(err.value)
