"""Small helpers to read TOML and check values, raising InputError that names file, field and value."""

from __future__ import annotations

import codecs
import math
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dxsim.errors import InputError, did_you_mean

MAX_NAME = 100                   # a scenario name (a folder name) in characters
MAX_TEXT_BYTES = 256 * 2**20     # an input text file (scenario, observations, config): 100k readings are ~20 MiB


def read_text(path: str | Path) -> str:
    """A text file's contents: UTF-8 with or without BOM (or UTF-16 with BOM, as Excel's "Unicode text"),
    line endings untouched; InputError naming the file and the line of any byte that is not UTF-8."""
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            raise InputError(path, "", "is a device, not a text file")     # e.g. /dev/zero: endless
        with path.open("rb") as fh:                                         # a file or a pipe (<(...))
            raw = fh.read(MAX_TEXT_BYTES + 1)
        if len(raw) > MAX_TEXT_BYTES:
            raise InputError(path, "", f"is larger than {MAX_TEXT_BYTES // 2**20} MiB; input files are text of at "
                             "most that size")
    except FileNotFoundError:
        raise InputError(path, "", "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "", "is a folder, not a file") from None
    except OSError as exc:
        raise InputError(path, "", f"cannot read file ({exc.strerror})") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(path, "", "starts like UTF-16 text but is not; save it as UTF-8") from None
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise InputError(path, f"line {line}", "contains NUL bytes: "
                         "UTF-16 without a byte-order mark, or not a text file; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(path, f"line {line}", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                         "save the file as UTF-8") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file (UTF-8, BOM tolerated, any line ending) or raise InputError with the line."""
    text = read_text(path).replace("\r\n", "\n")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if not m:
            raise InputError(path, "", f"not valid TOML: {message}") from None
        reason = message[:m.start()]
        reason = reason[:1].lower() + reason[1:]
        lines = text.split("\n")
        number = int(m[1])
        shown = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        near = f" in {shown[:60]!r}" if shown else ""
        raise InputError(path, f"line {m[1]}, column {m[2]}", f"not valid TOML: {reason}{near}") from None
    except RecursionError:
        raise InputError(path, "", "not valid TOML: nested too deeply") from None


class Fields:
    """A view of one TOML table that checks keys and values. ``where`` is the dotted path of the table."""

    def __init__(self, source: str | Path, where: str, table: Any) -> None:
        self.source = str(source)
        self.where = where
        if not isinstance(table, Mapping):
            raise InputError(source, where or "(top level)", f"must be a table, got {_show(table)}")
        self.table = table

    def field(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str) -> InputError:
        return InputError(self.source, self.field(key), problem)

    def allow_only(self, keys: Iterable[str]) -> None:
        keys = set(keys)
        for key in self.table:
            if key not in keys:
                raise self.error(key, f"unknown key{did_you_mean(key, keys)}")

    def has(self, key: str) -> bool:
        return key in self.table

    def sub(self, key: str, default: Any = None) -> Fields:
        value = self.table.get(key, {} if default is None else default)
        return Fields(self.source, self.field(key), value)

    def tables(self, key: str, keys: Iterable[str] | None = None) -> list[Fields]:
        """The array of tables ``[[key]]`` (none when absent), each as Fields named ``key[k]``, checked to hold
        only ``keys`` when given."""
        rows = self.table.get(key, [])
        if not isinstance(rows, list):
            raise self.error(key, f"must be an array of tables ([[{key}]])")
        out = [Fields(self.source, f"{self.field(key)}[{k}]", row) for k, row in enumerate(rows)]
        for fields in out if keys is not None else ():
            fields.allow_only(keys)
        return out

    def raw(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)

    def string(self, key: str, default: str | None = None, choices: Iterable[str] | None = None) -> str:
        if key not in self.table:
            if default is None:
                raise self.error(key, "required")
            return default
        value = self.table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {_show(value)}")
        if choices is not None and value not in set(choices):
            hint = did_you_mean(value, choices)
            raise self.error(key, f"must be one of {sorted(choices)}, got {value!r}{hint}")
        return value

    def number(self, key: str, default: float | None = None, lo: float | None = None,
               hi: float | None = None, strict_lo: bool = False) -> float:
        if key not in self.table:
            if default is None:
                raise self.error(key, "required")
            return float(default)
        return check_number(self.source, self.field(key), self.table[key], lo, hi, strict_lo)

    def integer(self, key: str, default: int | None = None, lo: int | None = None,
                hi: int | None = None) -> int:
        if key not in self.table:
            if default is None:
                raise self.error(key, "required")
            return int(default)
        value = self.table[key]
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            hint = f"; write {int(value)}" if abs(value) < 1e15 else ""
            raise self.error(key, f"must be a whole number written without a decimal point or exponent, got "
                             f"{value!r}{hint}" + (f" (at most {hi})" if hi is not None and value > hi else ""))
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {_show(value)}")
        if lo is not None and value < lo:
            raise self.error(key, f"must be >= {lo}, got {value}")
        if hi is not None and value > hi:
            raise self.error(key, f"must be <= {hi}, got {value}")
        return value


def check_number(source: str, field: str, value: Any, lo: float | None = None, hi: float | None = None,
                 strict_lo: bool = False) -> float:
    """A finite real number within bounds, or InputError naming the field and value."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(source, field, f"must be a number, got {_show(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(source, field, f"must be a finite number, got {value}")
    if lo is not None and (value <= lo if strict_lo else value < lo):
        raise InputError(source, field, f"must be {'>' if strict_lo else '>='} {_num(lo)}, got {_num(value)}")
    if hi is not None and value > hi:
        raise InputError(source, field, f"must be <= {_num(hi)}, got {_num(value)}")
    return value


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return _num(value)
    return repr(value)


def schedule_year(source: str, where: str, key: str, years: tuple[int, int]) -> int:
    """The year of one schedule entry ``{ YEAR = value }`` (investment and programme schedules alike): exactly four
    ASCII digits (so '2025²', fullwidth digits and '02024', which would silently repeat 2024, are refused),
    from the first projected year ``years[0]`` (earlier would rewrite history) to ``years[1]``."""
    if not re.fullmatch(r"[0-9]{4}", key):
        raise InputError(source, f"{where}.{key}", f"must be a year in {years[0]}-{years[1]}, got {key!r} (write "
                         "four digits 0-9)")
    year = int(key)
    if year < years[0]:
        raise InputError(source, f"{where}.{key}", f"starts in {key}, before the first projected year {years[0]} "
                         f"(the data run to {years[0] - 1}): a scenario cannot rewrite history; start in "
                         f"{years[0]} or later")
    if year > years[1]:
        raise InputError(source, f"{where}.{key}", f"must be a year in {years[0]}-{years[1]}, got {key!r}")
    return year


def check_name(source: str | Path, where: str, name: object) -> str:
    """``name`` if it is usable as one file or folder name (scenario names, geo ids in chart file names):
    letters, digits, '-', '_' and '.', no leading dot (so never '.', '..' nor a hidden temporary name), at most
    MAX_NAME characters. InputError naming ``source`` and ``where`` otherwise."""
    if not isinstance(name, str) or not name:
        raise InputError(source, where, f"must be a non-empty name, got {name!r}")
    if len(name) > MAX_NAME:
        raise InputError(source, where, f"is {len(name)} characters long; use at most {MAX_NAME}")
    if not all(c.isalnum() or c in "-_." for c in name):
        raise InputError(source, where, f"use letters, digits, '-', '_' or '.', got {name!r}")
    if name.startswith("."):
        raise InputError(source, where, f"must not start with '.' (names become folder names), got {name!r}")
    return name
