"""write_csv formats floats itself (faster than pandas' per-cell formatter): the bytes must be what
``DataFrame.to_csv(float_format=FLOAT_FORMAT)`` writes for any frame (an input copy, ``as_read``: gaps empty; a
result table: gaps 'none'). Synthetic frames only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dxsim.outputs.results import FLOAT_FORMAT, explicit, neutralise_formulas, write_csv


def pandas_bytes(frame: pd.DataFrame, path: Path) -> bytes:
    neutralise_formulas(frame).to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return path.read_bytes()


floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.03125, -0.0, 99.99995, 2.5e-5, -1e-9])
texts = st.text(max_size=6) | st.sampled_from(["=1+1", "-5.2", "a,b", 'q"', "x\ny", "@SUM"]) | st.none()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(floats, st.floats(width=32), texts, st.integers(-10**6, 10**6), st.booleans()), max_size=20))
def test_write_csv_is_byte_identical_to_pandas_float_format(tmp_path_factory, rows) -> None:
    tmp = tmp_path_factory.mktemp("csv")
    frame = pd.DataFrame(rows, columns=["x", "y", "text", "n", "flag"])
    frame["y"] = frame["y"].astype(np.float32)
    frame["string"] = frame["text"].astype("str")              # pandas' text dtype, as the tables read from CSV
    frame["mixed"] = [t if i % 2 else n for i, (t, n) in enumerate(zip(frame["text"], frame["n"], strict=True))]
    for table in (frame.drop(columns="mixed"), frame):          # written by the csv module, then by pandas
        write_csv(table, tmp / "new.csv", as_read=True)
        assert (tmp / "new.csv").read_bytes() == pandas_bytes(table, tmp / "old.csv")
        write_csv(table, tmp / "new.csv")
        assert (tmp / "new.csv").read_bytes() == pandas_bytes(explicit(table), tmp / "old.csv")


def test_write_csv_writes_ties_signs_and_gaps_as_printf(tmp_path: Path) -> None:
    frame = pd.DataFrame({"v": [0.03125, -0.0, np.nan, np.inf, 1.5], "t": ["=x", "ok", "=x", None, "-5.2"]})
    write_csv(frame, tmp_path / "f.csv", as_read=True)
    assert (tmp_path / "f.csv").read_text().splitlines() == [
        "v,t", "0.0312,'=x", "-0.0000,ok", ",'=x", "inf,", "1.5000,-5.2"]
    write_csv(frame, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text().splitlines() == [
        "v,t", "0.0312,'=x", "-0.0000,ok", "none,'=x", "inf,none", "1.5000,-5.2"]


def test_one_column_with_empty_cells_is_written_as_pandas_does(tmp_path: Path) -> None:
    """A row of one empty cell is quoted (the csv module and pandas alike), else the row would read as blank."""
    frame = pd.DataFrame({"t": ["", "a", None, ""], "x": [1.0, np.nan, 2.5, -0.0]})
    frame["s"] = frame["t"].astype("str")
    for col in frame.columns:
        write_csv(frame[[col]], tmp_path / "new.csv", as_read=True)
        assert (tmp_path / "new.csv").read_bytes() == pandas_bytes(frame[[col]], tmp_path / "old.csv"), col
    assert (tmp_path / "new.csv").read_text().splitlines()[1] == '""'


def test_nullable_columns_with_pd_na_are_written(tmp_path: Path) -> None:
    """pd.NA (nullable text, integers, booleans) compares as NA, not a bool: an empty cell as read, 'none' else."""
    frame = pd.DataFrame({"s": pd.array(["a", None, "=b"], dtype="string"), "n": pd.array([1, None, 3], dtype="Int64"),
                          "b": pd.array([True, None, False], dtype="boolean")})
    write_csv(frame, tmp_path / "new.csv", as_read=True)
    assert (tmp_path / "new.csv").read_bytes() == pandas_bytes(frame, tmp_path / "old.csv")
    write_csv(frame, tmp_path / "new.csv")
    assert (tmp_path / "new.csv").read_text().splitlines() == ["s,n,b", "a,1,True", "none,none,none", "'=b,3,False"]
