"""Which charts need drawing. A chart file's key hashes everything its pixels can depend on: the run's tables and
copied inputs, its manifest (the creation date only: charts show no time), the dxsim code and words, the versions
of the drawing libraries, and the chart's name, language and format. A charts folder's marker records, per file,
its key and the hash of its bytes; a file whose key and bytes are unchanged is not drawn again (the same inputs
and code draw the same bytes), a file changed or deleted by hand is."""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from dxsim.inputs.fingerprint import sha256_file
from dxsim.outputs import marker, words

FIELD = "chart_keys"                     # marker field: file name -> [chart key, sha256 of the file's bytes]
TABLE_SUFFIXES = (".csv", ".toml", ".json", ".npz")


@lru_cache(maxsize=1)
def code_key() -> str:
    """sha256 over dxsim's modules (drawing code, styles), its word files (``words.FOLDER``: the labels), the
    versions of Python and the drawing libraries and the matplotlib settings charts are drawn with (the chart style
    over any matplotlibrc)."""
    import matplotlib
    import numpy

    import dxsim
    from dxsim.outputs import style

    with matplotlib.rc_context(style.rc()):
        params = matplotlib.rcParams         # not "backend": reading it would import pyplot (0.2 s)
        settings = sorted((k, repr(params[k])) for k in params if k != "backend")
    digest = hashlib.sha256(f"python {sys.version_info[:2]} matplotlib {matplotlib.__version__} numpy "
                            f"{numpy.__version__} zlib {zlib.ZLIB_RUNTIME_VERSION} {settings}".encode())
    root = Path(dxsim.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    for path in sorted(words.FOLDER.glob("*.toml")):            # the labels of charts and maps
        digest.update(b"words/" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_key(folder: str | Path, manifest: Mapping[str, Any], config_file: Path | None = None) -> str:
    """Key of a results folder's charts: its top-level tables (.csv/.toml/.json/.npz but manifest.json), the files in
    ``inputs/``, ``manifest`` without its list of copied inputs and where the calibration was loaded from, with the
    date of ``created_utc`` only, and
    ``config_file`` (the calibration config an older folder names outside itself) - with ``code_key``."""
    folder = Path(folder)
    kept = {k: v for k, v in manifest.items() if k != "inputs"}
    kept["created_utc"] = str(kept.get("created_utc", ""))[:10]
    if isinstance(kept.get("calibration"), dict):   # a fit loaded or made anew: the same charts (its sha is kept)
        kept["calibration"] = {k: v for k, v in kept["calibration"].items() if k != "loaded_from"}
    digest = hashlib.sha256(code_key().encode() + json.dumps(kept, sort_keys=True, default=str).encode())
    for item in _table_hashes(folder, config_file):
        digest.update(item)
    return digest.hexdigest()


def tables_key(folder: str | Path) -> str:
    """sha256 over the tables a results folder's chart keys read (``run_key``'s files), without dxsim's code: equal
    before and after a run that wrote the same tables (no matplotlib import)."""
    return hashlib.sha256(b"".join(_table_hashes(Path(folder), None))).hexdigest()


def _table_hashes(folder: Path, config_file: Path | None) -> list[bytes]:
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix in TABLE_SUFFIXES and p.name != "manifest.json"]
    if (folder / "inputs").is_dir():
        files += list((folder / "inputs").iterdir())
    if config_file is not None and folder not in config_file.parents:
        files.append(config_file)
    return [path.name.encode() + b"\0" + sha256_file(path).encode()
            for path in sorted(files) if path.is_file() and not path.is_symlink()]


def chart_key(run: str, name: str, lang: str, what: Any) -> str:
    """Key of one chart file ``name`` (stem and extension) in ``lang``; ``what`` says what is drawn (the job)."""
    return hashlib.sha256(f"{run}\0{name}\0{lang}\0{what!r}".encode()).hexdigest()


def recorded_in(folder: Path) -> dict[str, Any]:
    """The chart records of ``folder``'s marker: file name -> [chart key, sha256 of its bytes]."""
    recorded = (marker.read_marker(folder) or {}).get(FIELD)
    return recorded if isinstance(recorded, dict) else {}


def _unchanged(folder: Path, name: str, entry: Any) -> bool:
    """True when ``entry`` is a record of ``name`` and its file is there with the recorded bytes."""
    path = folder / name
    return (isinstance(entry, list) and len(entry) == 2 and path.is_file() and not path.is_symlink()
            and sha256_file(path) == entry[1])


def current(folder: Path, keys: Mapping[str, str]) -> dict[str, str]:
    """The names in ``keys`` whose file in ``folder`` was drawn with that key and is unchanged since, each with
    the sha256 of its bytes."""
    recorded = recorded_in(folder)
    return {name: recorded[name][1] for name, key in keys.items()
            if _unchanged(folder, name, recorded.get(name)) and recorded[name][0] == key}


def by_hand(folder: Path, names: Iterable[str]) -> list[str]:
    """The ``names`` whose file in ``folder`` exists but was not recorded with its present bytes (written or
    changed by hand): never replaced by a chart drawn for a report."""
    recorded = recorded_in(folder)
    return [name for name in names if ((folder / name).exists() or (folder / name).is_symlink())
            and not _unchanged(folder, name, recorded.get(name))]


def stale(folder: Path, keys: Mapping[str, str]) -> list[str]:
    """The chart files recorded in ``folder``'s marker whose key is not the one in ``keys`` (drawn for other
    tables, or charts these tables do not have) and whose bytes are unchanged since (dxsim's own files)."""
    return sorted(name for name, entry in recorded_in(folder).items()
                  if _unchanged(folder, name, entry) and entry[0] != keys.get(name))


def remove_stale(folder: Path, keys: Mapping[str, str], names: Iterable[str] | None = None) -> list[str]:
    """Remove the ``stale`` chart files of ``folder`` (only those among ``names`` when given) and their records;
    files changed by hand or not recorded are kept. Returns the names removed."""
    data = marker.read_marker(folder)
    recorded = recorded_in(folder)
    gone = stale(folder, keys)
    if names is not None:
        gone = sorted(set(gone) & set(names))
    if data is None or not gone:
        return []
    for name in gone:
        (folder / name).unlink()
    data[FIELD] = {k: v for k, v in recorded.items() if k not in gone}
    data["files"] = [f for f in data.get("files", []) if f not in gone]
    marker.write_marker(folder, data)
    return gone


def record(folder: Path, keys: Mapping[str, str], names: Iterable[str], known: Mapping[str, str]) -> None:
    """Record the keys of ``names`` (files just drawn into ``folder`` or kept there) in its marker, with the sha256
    of each file (from ``known`` where given: files not drawn again); the other names in ``keys`` (charts that drew
    nothing) lose their entry, so that an older file of that name is never taken as current."""
    data = marker.read_marker(folder)
    if data is None:
        return
    recorded = dict(data[FIELD]) if isinstance(data.get(FIELD), dict) else {}
    names = set(names)
    for name in keys:
        if name in names:
            recorded[name] = [keys[name], known.get(name) or sha256_file(folder / name)]
        else:
            recorded.pop(name, None)
    if recorded != data.get(FIELD):
        data[FIELD] = dict(sorted(recorded.items()))
        marker.write_marker(folder, data)
