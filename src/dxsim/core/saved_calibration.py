"""A saved calibration: the fitted posteriors, reused while the inputs of the fit are unchanged.

``dxsim calibrate`` writes ``calibration.npz`` (arrays) and ``calibration.json`` (names, the key) into its output
folder. ``dxsim run`` (and the policy commands, ``dxsim.calibrate``) load them, when their key matches, from
``$DXSIM_CACHE_DIR`` if set, else from ``results/calibration/`` (calibrate's default output folder, relative to the
working directory) or the user cache (``$XDG_CACHE_HOME/dxsim/calibration``, default ``~/.cache/...``), instead of
fitting again (``--refit`` fits anyway). A fit they had to do is saved for the next run: into ``$DXSIM_CACHE_DIR``
if set, else the user cache (never into a results folder); a cache that cannot be written is skipped. Each file is
replaced atomically; a reader that finds the two files of different fits sees a key mismatch and fits.

The key is a SHA-256 of everything the fit reads: the calibration config's settings, the contents of the data
files it names (geography, census, context), the observations table as loaded, ``as_of``, and dxsim's version and
the source of its inputs and core packages and of its diffusion laws. Anything else (a missing, partial, corrupt or
other-key file) means: fit. A loaded calibration is bit for bit the fitted one, so results are identical either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

import dxsim
from dxsim.core.calibrate import Calibrator
from dxsim.core.posterior import IndicatorPosterior
from dxsim.inputs.config import CalibrationConfig
from dxsim.inputs.fingerprint import sha256_file

# 2: a measurement sd per noise group (an indicator's provincial, national and, for a flow, partial-year readings),
# named in hyper_names; 3: the covariances' square roots stored sparse (IndicatorPosterior.root_index, root_values);
# 4: the walk's yearly sd per mixture part and its grid posterior (IndicatorPosterior.process_sd*)
FORMAT = 4
CACHE_ENV = "DXSIM_CACHE_DIR"
DEFAULT_FOLDER = Path("results/calibration")
ARRAYS, META = "calibration.npz", "calibration.json"
FIT_TABLE = "fit_table"                 # its columns are arrays fit_table.0, fit_table.1, ... (names in the JSON)
_CODE = ("core/*.py", "inputs/*.py", "laws.py")       # source files that enter the key
_FILES = ("geos_file", "census_file", "context_file")
_PATHS = ("path", "observations", "targets", *_FILES)


def cache_folder() -> Path:
    """Where ``calibrate`` writes by default and ``run`` looks first: ``$DXSIM_CACHE_DIR``, else
    ``results/calibration``."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_FOLDER)


def user_cache() -> Path:
    """Where a run saves the calibration it had to fit when ``$DXSIM_CACHE_DIR`` is not set:
    ``$XDG_CACHE_HOME/dxsim/calibration``, default ``~/.cache/dxsim/calibration``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dxsim" / "calibration"


def lookup_folders() -> tuple[Path, ...]:
    """Where a saved calibration is looked for, in order: ``$DXSIM_CACHE_DIR`` alone if set, else
    ``results/calibration`` and the user cache."""
    return (cache_folder(),) if os.environ.get(CACHE_ENV) else (DEFAULT_FOLDER, user_cache())


def save_folder() -> Path:
    """Where a run saves a calibration it fitted: ``$DXSIM_CACHE_DIR``, else the user cache."""
    return Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else user_cache()


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, or 'absent'."""
    try:
        return sha256_file(path)
    except OSError:
        return "absent"


@functools.cache
def code_digest() -> str:
    """SHA-256 (hex) of dxsim's version and the source of its inputs and core packages and diffusion laws (once
    per process)."""
    h = hashlib.sha256(f"dxsim {dxsim.__version__}\n".encode())
    package = Path(dxsim.__file__).parent
    for path in sorted(p for pattern in _CODE for p in package.glob(pattern)):
        h.update(f"{path.relative_to(package)}\n".encode() + path.read_bytes())
    return h.hexdigest()


def calibration_key(cfg: CalibrationConfig, observations: pd.DataFrame, as_of: int | None = None) -> str:
    """SHA-256 (hex) of the fit's inputs. File locations do not enter it, only contents."""
    h = hashlib.sha256(f"dxsim saved calibration {FORMAT} {code_digest()} as_of={as_of}\n".encode())
    settings = dataclasses.replace(cfg, **{name: Path("-") for name in _PATHS})
    h.update(repr(settings).encode())
    for name in _FILES:
        h.update(f"{name}={file_digest(Path(getattr(cfg, name)))}\n".encode())
    h.update(repr((tuple(observations.columns), tuple(map(str, observations.dtypes)))).encode())
    for _, column in observations.items():           # the values, column by column (exact, ~10x hash_pandas_object)
        values = column.to_numpy()
        h.update(repr(values.tolist()).encode() if values.dtype == object else
                 str(values.dtype).encode() + np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def save(calibrator: Calibrator, observations: pd.DataFrame, folder: Path, as_of: int | None = None,
         key: str | None = None) -> Path:
    """Write ``calibrator``'s posteriors into ``folder`` (arrays first, the JSON with the key last, each replaced
    atomically); returns the JSON's path. ``observations``: the table given to ``fit``; ``key``: its
    ``calibration_key`` if known."""
    key = key or calibration_key(calibrator.config, observations, as_of)
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
    table = calibrator.fit_table()                  # computed once: the run or `dxsim calibrate` writes it too
    table_arrays = _table_arrays(table)
    arrays |= table_arrays or {}
    meta = {"format": FORMAT, "key": key, "dxsim_version": dxsim.__version__, "config": str(calibrator.config.path),
            "as_of": as_of, "observation_rows": len(observations), "indicators": names,
            "fit_table": None if table_arrays is None else [str(c) for c in table.columns]}
    folder.mkdir(parents=True, exist_ok=True)
    replace_atomically(folder / ARRAYS, lambda fh: np.savez(fh, **arrays))
    replace_atomically(folder / META, lambda fh: fh.write((json.dumps(meta, indent=1) + "\n").encode()))
    return folder / META


def replace_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through ``write(binary file)`` into a temporary file beside it, then rename it over."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(folder: Path, key: str) -> dict[str, IndicatorPosterior] | None:
    """The posteriors saved in ``folder`` if both files are there, readable and carry ``key``; else None."""
    saved = _load(folder, key)
    return None if saved is None else saved[0]


def _load(folder: Path, key: str) -> tuple[dict[str, IndicatorPosterior], pd.DataFrame | None] | None:
    """``load``, and the fit table saved with the posteriors (None if it was not)."""
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("key") != key:
            return None
        with np.load(folder / ARRAYS, allow_pickle=False) as npz:
            if str(npz["key"]) != key:
                return None
            arrays = {k: npz[k] for k in npz.files}
        posteriors = {name: _posterior(name, fields, arrays) for name, fields in meta["indicators"].items()}
        columns = meta.get("fit_table")
        table = None if columns is None else pd.DataFrame({
            c: arrays[f"{FIT_TABLE}.{i}"].astype(object) if arrays[f"{FIT_TABLE}.{i}"].dtype.kind == "U"
            else arrays[f"{FIT_TABLE}.{i}"] for i, c in enumerate(columns)})
        return posteriors, table
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile):
        return None


def _table_arrays(table: pd.DataFrame) -> dict[str, np.ndarray] | None:
    """The columns of a fit table as plain arrays (text as unicode: no pickle), or None when a text
    column holds anything but strings (then the table is not saved and a restored calibration computes it)."""
    arrays = {}
    for i, c in enumerate(table.columns):
        values = table[c].to_numpy()
        if values.dtype == object:
            if not all(isinstance(v, str) for v in values):
                return None
            values = values.astype(str)
        arrays[f"{FIT_TABLE}.{i}"] = values
    return arrays


def _posterior(name: str, fields: dict[str, Any], arrays: dict[str, np.ndarray]) -> IndicatorPosterior:
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    values |= {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{name}.")}
    post = IndicatorPosterior(**values)
    if len(post.hyper_names) != post.hypers.shape[1]:       # a file of another layout of the hyper-parameters
        raise ValueError(f"{name}: {post.hypers.shape[1]} hyper-parameter columns, names {post.hyper_names}")
    return post


def fitted_calibrator(cfg: CalibrationConfig, observations: pd.DataFrame, as_of: int | None = None,
                      refit: bool = False, folder: Path | None = None, save_fit: bool = True) -> Calibrator:
    """The calibrator loaded from ``folder`` (default: ``lookup_folders()``) when a saved calibration's key
    matches and not ``refit`` (``restored_from_`` names it), else fitted here and, with ``save_fit``, saved into
    ``folder`` (default ``save_folder()``) for the next run; a folder that cannot be written is skipped."""
    key = calibration_key(cfg, observations, as_of)
    if not refit:
        for place in (folder,) if folder is not None else lookup_folders():
            saved = _load(place, key)
            if saved is not None and set(saved[0]) == set(cfg.indicator_names):
                return Calibrator(cfg).restore(observations, saved[0], as_of, source=place / META, fit_table=saved[1])
    calibrator = Calibrator(cfg).fit(observations, as_of=as_of)
    if save_fit:
        with contextlib.suppress(OSError):     # a read-only or full cache: the next run fits again
            save(calibrator, observations, save_folder() if folder is None else folder, as_of, key)
    return calibrator
