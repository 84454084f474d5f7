"""Where the calibration and the shipped scenarios are found, from any working directory.

A calibration config is looked up in this order: the one given (``--config``), a ``calibration/config.toml``
beside or above the scenario file, ``./calibration/config.toml``, and the calibration installed with the package
(``dxsim/data/calibration``). Paths inside a config resolve against the config's folder (``config.py``).
"""

from __future__ import annotations

from pathlib import Path

from dxsim.errors import ArgumentError

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
SHIPPED_CALIBRATION = PACKAGE_DATA / "calibration"     # config.toml, observations, targets, weights
SHIPPED_SCENARIOS = PACKAGE_DATA / "scenarios"         # baseline.toml, accelerated.toml, ...
CONFIG_NAME = Path("calibration") / "config.toml"


def find_config(config: str | Path | None = None, scenario: str | Path | None = None) -> Path:
    """The calibration config to use: ``config`` when given, else the first ``calibration/config.toml`` in the
    scenario file's folder or a folder above it, else in the working directory, else the shipped one."""
    if config is not None:
        return Path(config)
    if scenario is not None:
        for folder in Path(scenario).resolve().parents:
            if (folder / CONFIG_NAME).is_file():
                return folder / CONFIG_NAME
    if CONFIG_NAME.is_file():
        return CONFIG_NAME
    return SHIPPED_CALIBRATION / "config.toml"


def shipped_scenarios() -> tuple[str, ...]:
    """The names of the scenarios installed with the package (``baseline``, ``accelerated``, ...)."""
    return tuple(sorted(p.stem for p in SHIPPED_SCENARIOS.glob("*.toml") if not p.stem.startswith("factors")))


def find_scenario(scenario: str | Path) -> Path:
    """``scenario`` if it is a file (or looks like a path), else the shipped scenario of that name."""
    path = Path(scenario)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    if str(scenario) in shipped_scenarios():
        return SHIPPED_SCENARIOS / f"{scenario}.toml"
    raise ArgumentError("scenario", f"no file {str(scenario)!r} and no shipped scenario of that name; shipped: "
                        f"{', '.join(shipped_scenarios())}")
