"""Writing results: tables and JSON, and a temporary folder beside the destination, renamed into place when
complete (its marker: ``marker.py``)."""

from __future__ import annotations

import contextlib
import csv
import errno
import glob
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dxsim.errors import InputError, raise_terminated
from dxsim.inputs.validate import MAX_NAME
from dxsim.outputs.marker import MARKER, is_results_folder, new_marker, read_marker, write_marker

DROP = "drop"       # a new results folder's marker field (until committed): old files it drops, ``drop_on_commit``

FLOAT_FORMAT = "%.4f"
NONE = "none"                  # a result file's cell where a value does not exist


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")     # what spreadsheets read as the start of a formula (OWASP)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
    prefixed with ``'`` (the OWASP rule for CSV injection); a number written as text ('-5.2') and numeric
    columns are left alone."""
    out = frame
    for col, column in frame.items():
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_datetime64_any_dtype(column.dtype):
            continue                              # numbers stay numbers, negative ones included
        values = column.to_numpy()
        # each distinct text once: a column of a few names repeated over many rows is checked in O(distinct)
        risky = {v: isinstance(v, str) and v.startswith(FORMULA_START) and not _NUMBER.fullmatch(v)
                 for v in set(values.tolist())}
        if any(risky.values()):
            if out is frame:
                out = frame.copy()
            out[col] = [f"'{v}" if risky[v] else v for v in values.tolist()]
    return out


def _formatted_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float columns as text in ``FLOAT_FORMAT`` (NaN: empty), what ``to_csv(float_format=
    FLOAT_FORMAT)`` writes, byte for byte, in a third of its time (one format per cell, no per-cell checks)."""
    floats = [c for c in frame.columns if isinstance(frame[c].dtype, np.dtype) and frame[c].dtype.kind == "f"]
    if not floats:
        return frame
    out = frame.copy()
    for col in floats:
        out[col] = ["" if v != v else FLOAT_FORMAT % v for v in frame[col].to_numpy(float).tolist()]
    return out


def _cells(column: pd.Series) -> list | None:
    """A column's cells as ``to_csv(float_format=FLOAT_FORMAT, na_rep="")`` writes them (floats formatted, NaN and
    None empty), or None for a column pandas should write itself (dates, categories, mixed objects)."""
    dtype = column.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else None
    if kind == "f":
        return ["" if v != v else FLOAT_FORMAT % v for v in column.to_numpy(float).tolist()]
    if kind in ("i", "u", "b"):
        return column.to_numpy().tolist()
    if kind == "O" or isinstance(dtype, pd.StringDtype):
        values = column.to_numpy(object).tolist()
        distinct = set(values)
        gaps = [v for v in distinct if _missing(v)]
        if all(type(v) is str for v in distinct if not _missing(v)):        # text, gaps (None, NaN, pd.NA)
            return ["" if _missing(v) else v for v in values] if gaps else values
    return None


def _missing(v: Any) -> bool:
    """None, NaN or pd.NA (a nullable column's gap, whose ``==`` gives NA, not a bool)."""
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _gap(v: Any) -> bool:
    """A cell without a value: missing (``_missing``, NaT, a numpy NaN) or empty text."""
    return (_missing(v) or v is pd.NaT or (isinstance(v, np.floating) and v != v)
            or (isinstance(v, str) and not v))


def explicit(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every empty text cell and every missing value (NaN, None, pd.NA) as ``none``: a float
    column with a gap becomes text, each number in ``FLOAT_FORMAT`` (the bytes it had). A column without a gap
    is not copied."""
    out = frame
    for col, column in frame.items():
        dtype = column.dtype
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            if not column.hasnans:
                continue
            if isinstance(dtype, np.dtype) and dtype.kind == "f":
                cells = [NONE if v != v else FLOAT_FORMAT % v for v in column.to_numpy(float).tolist()]
            else:                                    # nullable integers and booleans, dates
                cells = [NONE if _gap(v) else str(v) for v in column.tolist()]
        else:
            values = column.to_numpy(object).tolist()
            if not any(_gap(v) for v in set(values)):
                continue
            cells = [NONE if _gap(v) else v for v in values]
        if out is frame:
            out = frame.copy()
        out[col] = cells
    return out


def write_csv(frame: pd.DataFrame, path: Path, *, as_read: bool = False) -> None:
    """CSV with fixed float formatting and Unix line endings (byte-identical for identical frames). No cell is
    empty or NaN: a value that does not exist is written ``none`` (``explicit``), except in an input file
    copied as read (``as_read``: observations_used.csv, targets_used.csv), whose empty cells stay empty. Text
    cells that would start a spreadsheet formula are neutralised (``neutralise_formulas``). The bytes of
    ``to_csv(index=False, float_format=FLOAT_FORMAT)`` (of the explicit frame), written column by column with
    the csv module (a third of the time) unless a column needs pandas' own formatting."""
    frame = neutralise_formulas(frame if as_read else explicit(frame))
    columns = [_cells(column) for _, column in frame.items()]
    if not columns or any(c is None for c in columns) or isinstance(frame.columns, pd.MultiIndex):
        _formatted_floats(frame).to_csv(path, index=False, lineterminator="\n")
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([str(c) for c in frame.columns])
        writer.writerows(zip(*columns, strict=True))


def write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_output_dir(dest: str | Path, clean: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``dest``; on success it replaces ``dest`` (the old results are
    moved aside first and removed after). On any error, Ctrl-C or SIGTERM the temporary folder is removed and
    ``dest`` keeps its previous complete contents (or stays absent). Signals are held back while folders are
    renamed or removed.

    Only an absent or empty folder, or a folder with dxsim's marker, is replaced (InputError otherwise). Files
    in it that dxsim did not write (a user's notes, a nested folder) are always kept; files dxsim wrote there
    by other commands (report.html, other charts) are kept unless ``clean``. An existing folder's mode is
    kept."""
    shown = Path(dest)
    dest = Path(os.path.abspath(dest))
    check_output_dir(shown)
    previous = signal.signal(signal.SIGTERM, raise_terminated) if _main_thread() else None
    tmp = None
    try:
        with _os_errors_named(shown):
            dest.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale(dest)
            with _signals_held():
                tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-{os.getpid()}-", dir=dest.parent))
                os.chmod(tmp, 0o777 & ~_umask())
                write_marker(tmp, new_marker(temp_for=dest.name))
        with _os_errors_named(shown):
            yield tmp
        with _signals_held(), _os_errors_named(shown):
            _commit(tmp, dest, clean)
    except BaseException:
        if tmp is not None:
            with _signals_held():
                shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


# The system's reasons a user's folder cannot be written: reported as bad input (exit 2) naming that folder.
_USER_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG,
                   errno.EMLINK, errno.EFBIG}


@contextlib.contextmanager
def _os_errors_named(shown: Path) -> Iterator[None]:
    """Disk full, read-only, no permission ... while writing beside ``shown`` as one InputError naming the
    user's folder, never a temp name."""
    try:
        yield
    except OSError as exc:
        beside = str(Path(os.path.abspath(shown)).parent)
        if exc.errno not in _USER_OS_ERRORS or not (exc.filename is None or str(exc.filename).startswith(beside)):
            raise
        raise InputError(shown, "", f"cannot write the results: {exc.strerror or exc}") from exc


def _commit(tmp: Path, dest: Path, clean: bool) -> None:
    """Carry what must be kept from ``dest`` into ``tmp`` (hard links, so nothing is copied or lost), complete
    the markers, then move ``tmp`` to ``dest``; a previous ``dest`` is moved aside first and restored if the
    move fails. The folder moved aside then holds only second links of kept files and dxsim's old files."""
    check_output_dir(dest)                       # again: the folder may have changed while we worked
    foreign: set[str] = set()
    handled: set[str] = set()
    if dest.is_dir():
        _carry(dest, tmp, "", ("", set()), clean, foreign, handled)
        os.chmod(tmp, stat.S_IMODE(dest.stat().st_mode))
    _finish_markers(tmp, foreign)
    old = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        if read_marker(old) is not None:
            shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        _dispose(old, dest, handled)


def _dispose(old: Path, dest: Path, handled: set[str]) -> None:
    """Remove the previous results moved aside: files carried over or replaced (``handled``) go; a file that
    appeared after they were carried (written by someone meanwhile) is moved into ``dest``, never deleted."""
    for folder, _dirs, files in os.walk(old, topdown=False):
        folder = Path(folder)
        for name in files:
            path = folder / name
            rel = path.relative_to(old).as_posix()
            if rel in handled or name == MARKER or rel.startswith(f"{MARKER}.tmp-"):
                path.unlink(missing_ok=True)
            else:
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    os.replace(path, target)
        with contextlib.suppress(OSError):
            folder.rmdir()


def drop_on_commit(folder: Path, names: list[str]) -> None:
    """Files of the folder that the new results' ``folder`` (inside the temporary folder) replaces, which the new
    results drop: not carried over by ``atomic_output_dir`` if dxsim wrote them there, removed with the old
    results (e.g. chart pages the new tables no longer have)."""
    data = read_marker(folder)
    if data is not None and names:
        write_marker(folder, {**data, DROP: sorted(set(data.get(DROP, [])) | set(names))})


def _carry(src: Path, dst: Path, rel: str, owner: tuple[str, set[str]], clean: bool, foreign: set[str],
           handled: set[str]) -> None:
    """Link into ``dst`` what ``src`` holds that the new results do not replace: files dxsim did not write
    (always; recorded in ``foreign``) and dxsim's files from other commands (unless ``clean``, or named in
    ``dst``'s marker as dropped, ``drop_on_commit``). ``owner`` is the folder (relative path) of the marker
    governing ``src`` and the files that marker lists."""
    own = read_marker(src)
    drop: set[str] = set()
    if own is not None:
        owner = (rel, set(own.get("files", [])))
        drop = set((read_marker(dst) or {}).get(DROP, []))
    for entry in sorted(src.iterdir(), key=lambda p: p.name):
        if entry.name == MARKER and own is not None:
            if rel and not (dst / MARKER).exists():
                _link(entry, dst / MARKER)       # a nested results folder (e.g. charts/) stays one
            continue
        key = f"{rel}/{entry.name}" if rel else entry.name
        mine = (key[len(owner[0]) + 1:] if owner[0] else key) in owner[1]
        target = dst / entry.name
        if entry.is_dir() and not entry.is_symlink():
            if target.exists() and not target.is_dir():
                raise InputError(entry, "", "is a folder dxsim did not write, where the new results have a file; "
                                 "move it or choose another output folder")
            created = not target.exists()
            if created:
                target.mkdir()
                shutil.copystat(entry, target, follow_symlinks=False)
            _carry(entry, target, key, owner, clean, foreign, handled)
            if created and any(entry.iterdir()) and not any(p.name != MARKER for p in target.iterdir()):
                shutil.rmtree(target)            # all its files were dxsim's and --clean dropped them
            continue
        if target.exists() or target.is_symlink():
            if mine:
                handled.add(key)                 # replaced by the new results
                continue
            raise InputError(entry, "", "was not written by dxsim and the new results need its name; move it "
                             "or choose another output folder")
        handled.add(key)
        if mine and (clean or entry.name in drop):
            continue
        _link(entry, target)
        if not mine:
            foreign.add(key)


def _link(src: Path, dst: Path) -> None:
    """A second name for ``src`` at ``dst`` (a copy where the file system has no hard links)."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _finish_markers(root: Path, foreign: set[str]) -> None:
    """Fill in the file list of every marker in the new tree (the files under it, not under a nested marker,
    minus files dxsim did not write) and drop the temporary state."""
    for folder, _dirs, _files in os.walk(root):
        if MARKER not in _files:
            continue
        folder = Path(folder)
        marker = read_marker(folder)
        if marker is None:                       # a user's file of that name, kept as it is
            continue
        marker.pop("temp_for", None)
        marker.pop("pid", None)
        marker.pop(DROP, None)
        marker["files"] = _listed_files(folder, root, foreign)
        write_marker(folder, marker)


def _listed_files(folder: Path, root: Path, foreign: set[str]) -> list[str]:
    out = []
    for sub, dirs, files in os.walk(folder):
        sub = Path(sub)
        if sub != folder and MARKER in files:
            dirs[:] = []
            continue
        for name in files:
            path = sub / name
            if name == MARKER and sub == folder:
                continue
            if path.relative_to(root).as_posix() not in foreign:
                out.append(path.relative_to(folder).as_posix())
    return sorted(out)


def check_output_dir(dest: str | Path) -> None:
    """InputError unless ``dest`` may be (re)written: absent, an empty folder, or a folder with dxsim's marker
    (a marker in a parent folder does not count). Call it early, to fail fast."""
    dest = Path(dest)
    if len(Path(os.path.abspath(dest)).name) > MAX_NAME + 100:
        raise InputError(dest, "", f"the folder name is too long; use at most {MAX_NAME + 100} characters")
    if dest.is_symlink():
        raise InputError(dest, "", "is a symbolic link; choose another output folder")
    if dest.exists() and not dest.is_dir():
        raise InputError(dest, "", "exists and is not a folder; choose another output folder")
    if dest.is_dir() and any(dest.iterdir()) and not is_results_folder(dest):
        legacy = (dest / MARKER).is_file()
        raise InputError(dest, "", "is a folder that dxsim did not write" +
                         (" (or an older dxsim, without a file list)" if legacy else "") +
                         "; refusing to write into it (choose another output folder)")


def _remove_stale(dest: Path) -> None:
    """Remove temporary folders left beside ``dest`` by dxsim processes that were killed (e.g. SIGKILL);
    if such a process died between its two renames, put the previous results back. Only folders carrying
    dxsim's marker are touched."""
    pattern = re.compile(rf"\.{re.escape(dest.name)}\.(tmp|old)-(\d+)(-.*)?")
    for entry in sorted(dest.parent.glob(f".{glob.escape(dest.name)}.*-*")):
        m = pattern.fullmatch(entry.name)
        if not m or _alive(int(m[2])) or entry.is_symlink() or not entry.is_dir():
            continue
        marker = read_marker(entry)
        if m[1] == "old" and not dest.exists() and (marker is not None or not any(entry.iterdir())):
            os.replace(entry, dest)              # killed between its two renames: the previous folder is back
        elif marker is not None and (m[1] == "old" or marker.get("temp_for") == dest.name):
            shutil.rmtree(entry, ignore_errors=True)


def remove_stale_files(folder: str | Path, prefix: str) -> None:
    """Remove what killed dxsim processes left in ``folder`` as ``<prefix><pid>-*``: files (e.g.
    ``.report.html.tmp-``) and folders made by ``temp_folder`` (they carry a temporary marker)."""
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)-[A-Za-z0-9_]+")
    for entry in Path(folder).glob(f"{glob.escape(prefix)}*"):
        m = pattern.fullmatch(entry.name)
        if not m or _alive(int(m[1])) or entry.is_symlink():
            continue
        if entry.is_file():
            entry.unlink(missing_ok=True)
        elif entry.is_dir() and (read_marker(entry) or {}).get("temp_for") == prefix:
            shutil.rmtree(entry, ignore_errors=True)


def temp_folder(folder: str | Path, prefix: str) -> Path:
    """A new temporary folder ``folder/<prefix><pid>-*`` carrying a temporary marker; the ones left there by
    killed processes are removed first (``remove_stale_files``). The caller removes it when done."""
    remove_stale_files(folder, prefix)
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=folder))
    write_marker(tmp, new_marker(temp_for=prefix))
    return tmp


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
