"""The readers' whitespace rule (``_columns.strip``) skips the trim kernel only when it would
change nothing: the values always equal Arrow's ``utf8_trim_whitespace``."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.io import _columns as C

_EDGE = st.sampled_from(["", " ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0",
                         "\u2003", "\u3000", "\ufeff", "a", "Z", "~", "\x7f", "é", "名"])
_VALUE = st.one_of(st.none(), st.builds(lambda a, mid, b: a + mid + b, _EDGE, st.text(max_size=4), _EDGE))


def _same(col: object) -> None:
    got, want = C.strip(col), pc.utf8_trim_whitespace(col)
    assert got.to_pylist() == want.to_pylist()
    assert got.type == want.type


@settings(max_examples=200, deadline=None)
@given(st.lists(_VALUE, max_size=12), st.integers(0, 3), st.booleans())
def test_strip_equals_arrow_trim(values: list[str | None], cut: int, large: bool) -> None:
    arr = pa.array(values, type=pa.large_string() if large else pa.string())
    _same(arr)
    _same(arr.slice(min(cut, len(arr))))  # an offset into the buffers
    _same(pa.chunked_array([arr, arr.slice(min(cut, len(arr)))], type=arr.type))


def test_strip_trims_and_keeps_clean_columns() -> None:
    clean = pa.array(["P1", "2025-01-01", None, ""])
    assert C.strip(clean) is clean  # nothing to trim: the column as it was
    assert C.strip(pa.array([" P1", "P2\xa0", "P3"])).to_pylist() == ["P1", "P2", "P3"]
