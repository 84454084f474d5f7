"""The marker of a results folder (``.dxsim-results``): JSON saying dxsim wrote the folder, which run, and which
files in it are dxsim's (so that a later run replaces those and keeps a user's)."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path

MARKER = ".dxsim-results"   # dxsim's own marker: JSON with the run's identity and the files dxsim wrote
MARKER_FORMAT = "dxsim-results/2"


def read_marker(folder: str | Path) -> dict | None:
    """The marker of a folder dxsim wrote (a dict with ``run_id``, ``files`` ...), or None: no marker, or one
    not written by this format (a user's file of that name, or a folder of an older dxsim)."""
    path = Path(folder) / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_bytes()[: 1 << 24].decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and data.get("format") == MARKER_FORMAT and isinstance(data.get("run_id"), str)
            and isinstance(data.get("files", []), list)):
        return None
    return data


def is_results_folder(folder: str | Path) -> bool:
    """A complete folder written by dxsim: it carries dxsim's marker (a parent's marker does not count)."""
    marker = read_marker(folder)
    return marker is not None and "temp_for" not in marker and not Path(folder).is_symlink()


def written_by_dxsim(path: str | Path) -> bool:
    """True when ``path`` is a file listed in its folder's marker (e.g. report.html after ``record_written``)."""
    path = Path(path)
    marker = read_marker(path.parent)
    return marker is not None and path.name in marker.get("files", [])


def record_written(folder: str | Path, *names: str) -> None:
    """Add files that a command wrote into an existing results folder (e.g. ``report.html``) to its marker, so
    that later runs keep them (or remove them with --clean) as dxsim's. The marker is replaced atomically."""
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is None:
        return
    marker["files"] = sorted(set(marker.get("files", [])) | set(names))
    write_marker(folder, marker)


def mark_folder(folder: str | Path) -> None:
    """Make ``folder`` (being written inside a temporary results folder, e.g. ``charts/``) a results folder of
    its own, so that ``dxsim plot`` may replace it later. Its file list is filled in when the results commit."""
    write_marker(Path(folder), new_marker())


def new_marker(temp_for: str | None = None) -> dict:
    marker = {"format": MARKER_FORMAT, "written_by": "dxsim", "dxsim_version": _version(),
              "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
              "run_id": secrets.token_hex(8), "files": []}
    if temp_for is not None:
        marker |= {"temp_for": temp_for, "pid": os.getpid()}
    return marker


def write_marker(folder: Path, marker: dict) -> None:
    tmp = folder / f"{MARKER}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def _version() -> str:
    from dxsim import __version__

    return __version__
