"""Writing results: a temporary folder beside the destination, renamed into place when complete, and a
manifest of what produced them."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError, raise_terminated

FLOAT_FORMAT = "%.4f"


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with fixed float formatting and Unix line endings (byte-identical for identical frames)."""
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


MARKER = ".dxsim-results"   # written into every results folder: marks it as safe for dxsim to replace


@contextlib.contextmanager
def atomic_output_dir(dest: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``dest``; on success it replaces ``dest`` (the old results are
    moved aside first and removed after). On any error, Ctrl-C or SIGTERM the temporary folder is removed and
    ``dest`` keeps its previous complete contents (or stays absent). Signals are held back while folders are
    renamed or removed. Refuses (InputError) to replace a file or a folder that dxsim did not write."""
    dest = Path(dest)
    check_output_dir(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(dest)

    previous = signal.signal(signal.SIGTERM, raise_terminated) if _main_thread() else None
    tmp = None
    try:
        with _signals_held():
            tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-{os.getpid()}-", dir=dest.parent))
            os.chmod(tmp, 0o777 & ~_umask())
            (tmp / MARKER).write_text("written by dxsim; dxsim may replace this folder\n", encoding="utf-8")
        yield tmp
        with _signals_held():
            _commit(tmp, dest)
    except BaseException:
        if tmp is not None:
            with _signals_held():
                shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _commit(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest``; a previous ``dest`` is moved aside first and restored if the move fails."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()


def check_output_dir(dest: str | Path) -> None:
    """InputError unless ``dest`` may be (re)written: absent, an empty folder, a results folder or a folder in
    one (``charts/``); dxsim never replaces a file or folder it did not write. Call it early, to fail fast."""
    dest = Path(dest)
    if dest.is_symlink():
        raise InputError(dest, "", "is a symbolic link; choose another output folder (--out)")
    if dest.exists() and not dest.is_dir():
        raise InputError(dest, "", "exists and is not a folder; choose another output folder (--out)")
    ours = _written_by_dxsim(dest) or _written_by_dxsim(dest.parent)
    if dest.is_dir() and any(dest.iterdir()) and not ours:
        raise InputError(dest, "", "is a folder that dxsim did not write; refusing to replace it "
                         "(choose another output folder with --out)")


def _written_by_dxsim(folder: Path) -> bool:
    """A results folder: the marker or (written before the marker existed) a manifest or a fit table."""
    return any((folder / name).is_file() for name in (MARKER, "manifest.json", "fit_table.csv"))


def _remove_stale(dest: Path) -> None:
    """Remove temporary folders left beside ``dest`` by dxsim processes that were killed (e.g. SIGKILL);
    if such a process died between its two renames, put the previous results back."""
    pattern = re.compile(rf"\.{re.escape(dest.name)}\.(tmp|old)-(\d+)(-.*)?")
    for entry in sorted(dest.parent.glob(f".{glob.escape(dest.name)}.*-*")):
        m = pattern.fullmatch(entry.name)
        if not m or _alive(int(m[2])):
            continue
        if m[1] == "old" and not (dest.exists() or dest.is_symlink()):
            os.replace(entry, dest)
        elif entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:            # exists but belongs to someone else
        return True
    return True


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM (delivered on exit) so that renames and clean-up are never cut short."""
    if not (_main_thread() and hasattr(signal, "pthread_sigmask")):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
