"""The inputs of a run, copied into its results folder (``inputs/``), so that the folder is self-contained: the
calibration config, the observations and targets used, and the weight files (merger map, census, context).

Each data file is copied under the path the config gives it (relative to the config's folder), so that
``inputs/config.toml`` reproduces the run: ``dxsim run SCENARIO --config results/X/inputs/config.toml``. Charts and
the report read the config from here, not from the path recorded in the manifest.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxsim.inputs.fingerprint import sha256_file

if TYPE_CHECKING:
    from dxsim.inputs.config import CalibrationConfig

INPUTS_DIR = "inputs"
CONFIG_NAME = "config.toml"


def _inside(path: Path, base: Path) -> Path:
    """``path`` relative to ``base`` where it lies under it (as the config names it), else its file name."""
    try:
        rel = path.resolve().relative_to(base.resolve())
    except ValueError:
        return Path(path.name)
    return rel


def copy_run_inputs(cfg: CalibrationConfig, observations: str | Path, targets: str | Path,
                    folder: Path) -> dict[str, Any]:
    """Copy the config and the files a run read into ``folder/inputs`` and return the manifest's ``inputs``
    entry: per copied file (relative to the results folder) the file it came from and its SHA-256. The
    observations and targets are those used (``--observations``/``--targets`` included), under the names the
    config gives them."""
    base = Path(cfg.path).parent
    sources = {Path(CONFIG_NAME): Path(cfg.path),
               _inside(cfg.observations, base): Path(observations),
               _inside(cfg.targets, base): Path(targets)}
    for path in (cfg.geos_file, cfg.census_file, cfg.context_file):
        if Path(path).is_file():
            sources.setdefault(_inside(path, base), Path(path))
    dest = folder / INPUTS_DIR
    files = {}
    for rel, src in sources.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        files[f"{INPUTS_DIR}/{rel.as_posix()}"] = {"from": str(src), "sha256": sha256_file(target)}
    return files


def run_config_file(folder: str | Path, manifest: dict[str, Any]) -> Path | None:
    """The calibration config of a results folder: its own copy (``inputs/config.toml``), else (a folder of an
    older dxsim) the file its manifest names, else None."""
    own = Path(folder) / INPUTS_DIR / CONFIG_NAME
    if own.is_file():
        return own
    named = (manifest.get("calibration") or {}).get("config")
    return Path(named) if named else None
