"""The observations and targets as read and validated, saved for the next command while their files, dxsim's
code and the libraries that read them are unchanged.

Reading and checking the observations and targets (CSV, every row validated) is a large part of a ``dxsim run``
that loads its saved calibration (~0.1-0.3 s). ``pipeline.load_inputs(reuse=True)`` saves both tables as one JSON
file, ``dxsim-inputs.json``, beside the calibration a run saves (``saved_calibration.save_folder()``:
``$DXSIM_CACHE_DIR``, else the user cache; never a results folder) and reads them back when the key matches: the
SHA-256 of dxsim's code, numpy's and pandas' versions, the working folder, the file names and the contents of
every file the tables depend on (config, observations, targets, geography, census, context). The key is taken
again after reading: tables read while a file changed are not saved. Anything else (no file, another key,
unreadable) means: read the files, and save the tables for the next command.

The file is one header line (``{"dxsim": "saved inputs", "format": ..., "key": ..., "sha256": ...}``, the SHA-256
of the rest) and the tables as JSON. A damaged file (truncated, a changed byte, empty) fails the checksum or the
parse and is replaced by the next command; a file of that name that dxsim did not write (it does not start with
that header, nor is it an older dxsim's JSON with a format and a key) is left alone. Plain values, no pickle
(text, integers, floats as repr): every value, column name and dtype comes back as read, so results are
identical either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from dxsim.core.saved_calibration import code_digest, file_digest, replace_atomically, save_folder
from dxsim.inputs.config import CalibrationConfig

FORMAT = 3
MAGIC = b'{"dxsim": "saved inputs", '      # how every file ``save`` writes starts
FILE = "dxsim-inputs.json"           # dxsim's own name: a user's inputs.json in the cache folder is not touched
TABLES = ("observations", "targets")


def key_of(cfg: CalibrationConfig, observations: Path, targets: Path) -> str:
    """SHA-256 (hex) of everything the validated tables depend on."""
    files = (cfg.path, observations, targets, cfg.geos_file, cfg.census_file, cfg.context_file)
    here = Path(__file__).parent.parent          # the code that reads them: code_digest's packages and pipeline.py
    h = hashlib.sha256(f"dxsim inputs {FORMAT} {code_digest()} numpy {np.__version__} pandas {pd.__version__} "
                       f"{os.getcwd()!r}\n".encode())
    for path in (here / "pipeline.py", *files):
        h.update(f"{path}={file_digest(Path(path))}\n".encode())
    return h.hexdigest()


def load(key: str, folder: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int] | None:
    """(observations, targets, jump-off year) saved in ``folder`` (default ``save_folder()``) under ``key``, else
    None (also for a damaged file: its checksum or its JSON does not hold)."""
    try:
        head, _, body = ((folder or save_folder()) / FILE).read_bytes().partition(b"\n")
        header = json.loads(head)
        if (not head.startswith(MAGIC) or header.get("format") != FORMAT or header.get("key") != key
                or header.get("sha256") != hashlib.sha256(body).hexdigest()):
            return None
        saved = json.loads(body)
        observations, targets = (pd.DataFrame({c: pd.Series(values, dtype=d) if d == "str" else np.array(values, d)
                                               for c, d, values in saved[name]}) for name in TABLES)
        return observations, targets, int(saved["jump_off_year"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(key: str, observations: pd.DataFrame, targets: pd.DataFrame, jump_off_year: int,
         folder: Path | None = None) -> None:
    """Save both tables and the jump-off under ``key`` (replaced atomically); nothing when a table is not plain
    (text or number columns, unique names, a 0..n-1 index, no attrs) or the folder cannot be written."""
    saved: dict = {"jump_off_year": int(jump_off_year)}
    for name, frame in zip(TABLES, (observations, targets), strict=True):
        columns = _columns(frame)
        if columns is None:
            return
        saved[name] = columns
    body = json.dumps(saved, ensure_ascii=False).encode("utf-8")     # floats as repr: they read back bit for bit
    header = json.dumps({"dxsim": "saved inputs", "format": FORMAT, "key": key,
                         "sha256": hashlib.sha256(body).hexdigest()}).encode()
    path = (folder or save_folder()) / FILE
    if path.exists() and not _ours(path):        # not a file dxsim wrote: leave it alone
        return
    with contextlib.suppress(OSError):           # a read-only or full cache: the next command reads the files again
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(path, lambda fh: fh.write(header + b"\n" + body))


def _ours(path: Path) -> bool:
    """Whether ``path`` is a file ``save`` wrote, damaged or not: it starts with ``MAGIC``, is empty, or is an
    older dxsim's save (a JSON object with an integer format and a 64-hex key)."""
    try:
        with path.open("rb") as fh:
            start = fh.read(len(MAGIC))
        if start.startswith(MAGIC) or not start:
            return True
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    key = saved.get("key") if isinstance(saved, dict) else None
    return (isinstance(saved, dict) and type(saved.get("format")) is int and isinstance(key, str) and len(key) == 64
            and all(c in "0123456789abcdef" for c in key))


def _columns(frame: pd.DataFrame) -> list[tuple[str, str, list]] | None:
    """[(name, dtype, values)] of a plain table, else None."""
    if frame.attrs or not frame.index.equals(pd.RangeIndex(len(frame))) or not frame.columns.is_unique:
        return None
    out = []
    for name, column in frame.items():
        dtype, values = str(column.dtype), column.to_numpy().tolist()
        if not isinstance(name, str) or not (dtype == "str" and all(type(v) is str for v in set(values))
                                             or dtype in ("int64", "float64", "bool")):
            return None
        out.append((name, dtype, values))
    return out
