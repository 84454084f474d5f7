"""Reading a data table as people write it: CSV in UTF-8 or UTF-16, comma, semicolon or tab separated, numbers
with decimal commas or thousands separators; rows remember their line in the file for error messages."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from dxsim.errors import InputError
from dxsim.inputs.validate import read_text


def read_csv(path: str | Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV table as text: UTF-8 with or without BOM (or UTF-16), any line ending, separated by commas,
    semicolons or tabs (whichever the header uses); values stripped, blank rows skipped, header names
    lower-cased. Checks the required columns. ``frame.attrs`` keeps each row's ``lines`` in the file (for
    error messages) and the ``delimiter``."""
    path = Path(path)
    text = read_text(path)
    if not text.strip():
        raise InputError(path, "", f"the file is empty; expected a header line with {', '.join(required)}")
    header_line = next(line for line in text.splitlines() if line.strip())
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True,
                        strict=True)
    header: list[str] | None = None
    records, lines = [], []
    start = 1
    try:
        for record in reader:
            if any(field.strip() for field in record):
                if header is None:
                    header = [name.strip().lower() for name in record]
                else:
                    records.append(record)
                    lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        problem = CSV_PROBLEMS.get(str(exc), str(exc))
        raise InputError(path, f"line {start}", f"not a readable CSV table: {problem}") from None
    assert header is not None
    while header and not header[-1]:            # trailing empty column names, as spreadsheets write them
        header.pop()
    for j, name in enumerate(header):
        if not name:
            raise InputError(path, "header", f"column {j + 1} has no name")
        if name in header[:j]:
            raise InputError(path, "header", f"column {name!r} appears twice")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(path, "header", f"missing column(s) {', '.join(missing)}; found {', '.join(header)}"
                         + (f" (separated by {delimiter!r})" if len(header) == 1 else ""))
    width = len(header)
    rows = []
    for record, line in zip(records, lines, strict=True):
        used = max((j + 1 for j, field in enumerate(record) if field.strip()), default=0)
        if used > width:
            raise InputError(path, f"line {line}", f"{used} values where the header has {width} columns "
                             f"(a {SEPARATORS[delimiter]} inside a value? put that value in double quotes)")
        rows.append([field.strip() for field in record[:width]] + [""] * (width - len(record)))
    frame = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(columns=header, dtype=str)
    frame.attrs["lines"] = RowLines(lines)
    frame.attrs["delimiter"] = delimiter
    return frame


class RowLines(tuple):
    """Line numbers of a table's rows in its file (for error messages), kept in ``frame.attrs``. pandas deep-copies
    ``attrs`` into every column it hands out; sharing this immutable tuple keeps that O(1), not O(rows)."""

    def __deepcopy__(self, memo: dict) -> RowLines:
        return self


SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
CSV_PROBLEMS = {
    "unexpected end of data": "a double quote opened here is never closed",
    "',' expected after '\"'": "text follows a closing double quote (write a quote inside a value as \"\")",
}


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    """A number as people write it. '12.5' and '12,5' (decimal comma); '1,300,000', '1.300.000' or '1 300'
    (thousands); '1,300.5' or '1.300,5' (both: the last separator is the decimal one). A lone dot is the
    decimal point, as in any CSV. Returns None where it is not obviously one number: '12,500' reads as 12.5
    with a decimal comma and as 12500 with a thousands comma. With ``decimal_comma`` (a semicolon-separated
    file, as spreadsheets save it where the decimal separator is a comma) a comma is the decimal separator
    and dots group thousands: '11,841' is 11.841 and '1.300,5' is 1300.5, while '1.300' is ambiguous."""
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    sign = -1.0 if s.startswith("-") else 1.0
    if s[:1] in ("+", "-"):
        s = s[1:]
    if decimal_comma:
        if m := re.fullmatch(r"(\d{1,3}(?:\.\d{3})+|\d+),(\d+)", s):
            return sign * float(f"{m[1].replace('.', '')}.{m[2]}")
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s):
            return None
    if re.fullmatch(r"\d+(\.\d+)?([eE][+-]?\d+)?|\.\d+", s):
        return sign * float(s)
    if m := re.fullmatch(r"(\d{1,3}(?:([.,])\d{3})*)(?:([.,])(\d+))?", s):
        integer, thousands, decimal, fraction = m[1], m[2], m[3], m[4]
        if thousands and decimal == thousands:
            return None
        if not thousands and decimal == "," and len(fraction) == 3:
            return None
        if thousands:
            groups = integer.split(thousands)
            if len(groups) == 2 and not decimal:
                return None
            integer = "".join(groups)
        return sign * float(integer + ("." + fraction if fraction else ""))
    if m := re.fullmatch(r"(\d+),(\d+)", s):
        return sign * float(f"{m[1]}.{m[2]}")
    return None


def row_name(frame: pd.DataFrame, i: int) -> str:
    """'row 3 (line 4)': the data row and, when known, its line in the file (the header is line 1)."""
    lines = frame.attrs.get("lines")
    return f"row {i + 1} (line {lines[i]})" if lines is not None and i < len(lines) else f"row {i + 1}"
