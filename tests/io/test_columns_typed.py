"""Typed Arrow columns (dates, whole numbers, booleans, as Parquet files and DataFrames hold
them) read exactly as their text does: every column parser on a typed column against the same
parser on the column cast to text, as the readers once cast every column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.io import _columns as C

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")

# years -220 to 10183, and the first and last days YYYY-MM-DD can write, with their neighbours
_DAY = st.one_of(st.integers(-800_000, 3_000_000), st.integers(-10, 20_000),
                 st.sampled_from([-719_163, -719_162, 2_932_896, 2_932_897]))
_INTEGER = st.one_of(st.integers(-5, 20), st.integers(999_999_990, 1_000_000_010),
                     st.integers(-(1 << 40), 1 << 40))
_KINDS = {
    "date32": (pa.date32(), _DAY),
    "int64": (pa.int64(), _INTEGER),
    "int32": (pa.int32(), st.integers(-(1 << 31), (1 << 31) - 1)),
    "uint64": (pa.uint64(), st.one_of(st.integers(0, 20), st.integers(0, (1 << 64) - 1))),
    "int8": (pa.int8(), st.integers(-128, 127)),
    "bool": (pa.bool_(), st.booleans()),
    "null": (pa.null(), st.none()),
}


@st.composite
def typed_columns(draw: st.DrawFn) -> Any:
    typ, values = _KINDS[draw(st.sampled_from(sorted(_KINDS)))]
    arr = pa.array(draw(st.lists(st.one_of(st.none(), values), max_size=30)), type=typ)
    shape = draw(st.sampled_from(["array", "slice", "chunked"]))
    if shape == "slice" and len(arr) > 2:
        arr = arr.slice(1, len(arr) - 2)
    elif shape == "chunked":
        cut = draw(st.integers(0, len(arr)))
        arr = pa.chunked_array([arr[:cut], arr[cut:]], type=typ)
    return arr


def _as_text_was(col: Any) -> Any:
    """What the Parquet reader gave before it kept typed columns: the cast, trimmed, nulls ""."""
    return pc.utf8_trim_whitespace(pc.fill_null(pc.cast(col, pa.string()), ""))


def _same(got: Any, want: Any) -> None:
    for g, w in zip(got, want) if isinstance(got, tuple) else [(got, want)]:
        assert np.asarray(g).tolist() == np.asarray(w).tolist()


@settings(max_examples=400, deadline=None)
@given(typed_columns())
def test_a_typed_column_parses_as_its_text(col: Any) -> None:
    text = _as_text_was(col)
    _same(C.dates(col), C.dates(text))
    _same(C.counts(col), C.counts(text))
    _same(C.empty(col), C.empty(text))
    vocabulary = ("true", "false", "1", "2", "12", "2024-01-31")
    _same(C.encode(col, vocabulary), C.encode(text, vocabulary))
    _same(C.text(col), C.text(text))
    _same(C.text_shared(col), C.text_shared(text))
    _same(C.text(C.strip(col)), C.text(text))
    assert C.has_nul(col) is C.has_nul(text) is False
    assert [C.value_at(col, i) for i in range(len(col))] == [C.value_at(text, i) for i in range(len(col))]


def test_the_typed_readers_mark_what_text_cannot_write() -> None:
    # a year past 9999 and a negative count are bad, as their text is; null is empty
    days, empty, bad = C.dates(pa.array([0, None, 2_932_897, -719_162, -719_163], pa.date32()))
    missing = int(C.MISSING_DAY)
    assert days.tolist() == [0, missing, missing, -719_162, missing]
    assert empty.tolist() == [False, True, False, False, False]
    assert bad.tolist() == [False, False, True, False, True]
    values, empty, bad = C.counts(pa.array([3, None, -1, 10**9], pa.int64()))
    assert values.tolist() == [3, -1, -1, -1] and bad.tolist() == [False, False, True, True]


@pytest.mark.parametrize("n", [0, 1, 5])
def test_a_column_of_nulls_reads_as_the_empty_text_its_cast_gave(n: int) -> None:
    # a writer that found a column empty throughout stores it as type null; a column of a type
    # that is not text becomes nulls too: both read as n empty strings, as cast and fill made
    from iomscore.io._parquet import arrow_columns

    table = pa.table({"person_id": pa.nulls(n), "current": pa.nulls(n), "occasion_id": pa.nulls(n),
                      "notes": pa.array([[1]] * n, pa.list_(pa.int64()))})
    chunked = pa.concat_tables([table, table])  # (two chunks a column)
    for read in (table, chunked, table.to_batches()[0] if n else table):
        cols = arrow_columns(read, "t.parquet")
        want = _as_text_was(pa.nulls(read.num_rows))
        for name in table.column_names:
            assert C.is_text_type(cols[name].type), name
            assert C.text(cols[name]).tolist() == C.text(want).tolist() == [""] * read.num_rows, name
            assert C.empty(cols[name]).tolist() == [True] * read.num_rows
