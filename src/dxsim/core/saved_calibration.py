"""A saved calibration: the fitted posteriors, reused while the inputs of the fit are unchanged.

``dxsim calibrate`` writes ``calibration.npz`` (arrays) and ``calibration.json`` (names, the key) into its output
folder; ``dxsim run`` loads them from ``$DXSIM_CACHE_DIR``, else ``results/calibration/`` (calibrate's default
output folder, relative to the working directory), when their key matches, instead of fitting again (``--refit``
fits anyway). The key is a SHA-256 of everything the fit reads: the calibration config's settings, the contents of
the data files it names (geography, census, context), the observations table as loaded, ``as_of``, and dxsim's
version and the source of its inputs and core packages. Anything else (a missing, partial, corrupt or other-key
file) means: fit. A loaded calibration is bit for bit the fitted one, so results are identical either way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import dxsim
from dxsim.core.calibrate import Calibrator
from dxsim.core.posterior import IndicatorPosterior
from dxsim.inputs.config import CalibrationConfig

FORMAT = 1
CACHE_ENV = "DXSIM_CACHE_DIR"
DEFAULT_FOLDER = Path("results/calibration")
ARRAYS, META = "calibration.npz", "calibration.json"
_CODE = ("core", "inputs")                 # packages whose source enters the key
_FILES = ("geos_file", "census_file", "context_file")
_PATHS = ("path", "observations", "targets", *_FILES)


def cache_folder() -> Path:
    """Where ``run`` looks for a saved calibration: ``$DXSIM_CACHE_DIR``, else ``results/calibration``."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_FOLDER)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


def calibration_key(cfg: CalibrationConfig, observations: pd.DataFrame, as_of: int | None = None) -> str:
    """SHA-256 (hex) of the fit's inputs. File locations do not enter it, only contents."""
    h = hashlib.sha256(f"dxsim saved calibration {FORMAT} {dxsim.__version__} as_of={as_of}\n".encode())
    package = Path(dxsim.__file__).parent
    for path in sorted(p for sub in _CODE for p in (package / sub).glob("*.py")):
        h.update(f"{path.relative_to(package)}\n".encode() + path.read_bytes())
    settings = dataclasses.replace(cfg, **{name: Path("-") for name in _PATHS})
    h.update(repr(settings).encode())
    for name in _FILES:
        h.update(f"{name}={_file_digest(Path(getattr(cfg, name)))}\n".encode())
    h.update(repr((tuple(observations.columns), tuple(map(str, observations.dtypes)))).encode())
    h.update(pd.util.hash_pandas_object(observations, index=False).to_numpy().tobytes())
    return h.hexdigest()


def save(calibrator: Calibrator, observations: pd.DataFrame, folder: Path, as_of: int | None = None) -> Path:
    """Write ``calibrator``'s posteriors into ``folder`` (arrays first, the JSON with the key last); returns the
    JSON's path. ``observations``: the table given to ``fit``."""
    key = calibration_key(calibrator.config, observations, as_of)
    arrays: dict[str, np.ndarray] = {"key": np.array(key)}
    names: dict[str, dict[str, Any]] = {}
    for name, post in calibrator.posteriors_.items():
        names[name] = {}
        for f in dataclasses.fields(post):
            value = getattr(post, f.name)
            if isinstance(value, np.ndarray):
                arrays[f"{name}.{f.name}"] = value
            elif value is not None:
                names[name][f.name] = list(value) if isinstance(value, tuple) else value
    meta = {"format": FORMAT, "key": key, "dxsim_version": dxsim.__version__, "config": str(calibrator.config.path),
            "as_of": as_of, "observation_rows": len(observations), "indicators": names}
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ARRAYS, "wb") as fh:
        np.savez(fh, **arrays)
    (folder / META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return folder / META


def load(folder: Path, key: str) -> dict[str, IndicatorPosterior] | None:
    """The posteriors saved in ``folder`` if both files are there, readable and carry ``key``; else None."""
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("key") != key:
            return None
        with np.load(folder / ARRAYS, allow_pickle=False) as npz:
            if str(npz["key"]) != key:
                return None
            arrays = {k: npz[k] for k in npz.files}
        return {name: _posterior(name, fields, arrays) for name, fields in meta["indicators"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile):
        return None


def _posterior(name: str, fields: dict[str, Any], arrays: dict[str, np.ndarray]) -> IndicatorPosterior:
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    values |= {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{name}.")}
    return IndicatorPosterior(**values)


def fitted_calibrator(cfg: CalibrationConfig, observations: pd.DataFrame, as_of: int | None = None,
                      refit: bool = False, folder: Path | None = None) -> Calibrator:
    """The calibrator loaded from ``folder`` (default ``cache_folder()``) when its saved calibration's key
    matches and not ``refit`` (``restored_from_`` names it), else fitted here."""
    if not refit:
        folder = cache_folder() if folder is None else folder
        posteriors = load(folder, calibration_key(cfg, observations, as_of))
        if posteriors is not None and set(posteriors) == set(cfg.indicator_names):
            return Calibrator(cfg).restore(observations, posteriors, as_of, source=folder / META)
    return Calibrator(cfg).fit(observations, as_of=as_of)
