"""Vectorised parsing of text columns, on two interchangeable backends.

A column is either a pyarrow string array (the fast path, when ``pyarrow`` is installed) or
a numpy object array of ``str`` (the standard-library path). Every function here gives the
same numpy result for both, so a file reads identically whichever backend parsed it.

Only the distinct values of a column are parsed in Python on the numpy path; the arrow path
runs in Arrow's C++ kernels.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from .._batch import MISSING_DAY
from .._dates import year_month_day

try:  # optional extra: iomscore[arrow]
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - exercised when pyarrow is absent
    pa = None
    pc = None

__all__ = ["HAVE_ARROW", "counts", "dates", "empty", "encode", "text", "value_at"]

HAVE_ARROW: Final = pa is not None
_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}$"
_COUNT_RE: Final = re.compile(r"[0-9]{1,9}")
_COUNT_PATTERN: Final = r"^[0-9]{1,9}$"
_EPOCH: Final = dt.date(1970, 1, 1).toordinal()

Column = Any  # pa.Array | pa.ChunkedArray | np.ndarray (object, str)


def is_arrow(col: Column) -> bool:
    return not isinstance(col, np.ndarray)


def _np(arr: Any) -> np.ndarray:
    if isinstance(arr, np.ndarray):
        return arr
    if hasattr(arr, "combine_chunks"):  # ChunkedArray.to_numpy would import pandas
        arr = arr.combine_chunks()
    return arr.to_numpy(zero_copy_only=False)


def _uniques_map(col: np.ndarray, parse: Any) -> tuple[np.ndarray, Any]:
    """Parse each distinct value once: returns (inverse indices, parsed list)."""
    lookup: dict[str, int] = {}
    inverse = np.fromiter((lookup.setdefault(v, len(lookup)) for v in col), dtype=np.int64, count=col.shape[0])
    return inverse, [parse(v) for v in lookup]


def empty(col: Column) -> np.ndarray:
    """True where the value is empty (or null)."""
    if is_arrow(col):
        return _np(pc.fill_null(pc.equal(pc.utf8_length(col), 0), True)).astype(bool)
    return np.fromiter((not v for v in col), dtype=bool, count=col.shape[0])


def text(col: Column) -> np.ndarray:
    """The values as a numpy object array of ``str`` (nulls as ``""``)."""
    if is_arrow(col):
        out = _np(pc.fill_null(col, ""))
        return out.astype(object)
    return col


def value_at(col: Column, i: int) -> str:
    """One value as text (for messages)."""
    if is_arrow(col):
        v = col[int(i)].as_py()
        return "" if v is None else str(v)
    return str(col[int(i)])


def encode(col: Column, vocabulary: Sequence[str]) -> np.ndarray:
    """Index of each value in ``vocabulary``; -1 where absent (including empty values)."""
    if is_arrow(col):
        idx = pc.index_in(col, value_set=pa.array(list(vocabulary), type=pa.string()))
        return _np(pc.fill_null(idx, -1)).astype(np.int32)
    lookup = {v: i for i, v in enumerate(vocabulary)}
    inverse, mapped = _uniques_map(col, lambda v: lookup.get(v, -1))
    return np.asarray(mapped, dtype=np.int32)[inverse] if col.shape[0] else np.zeros(0, np.int32)


def dates(col: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse ``YYYY-MM-DD`` dates to days since 1970-01-01.

    Returns ``(days, is_empty, is_bad)``; ``days`` is :data:`MISSING_DAY` where the value is
    empty or invalid.
    """
    if is_arrow(col):
        is_empty = empty(col)
        filled = pc.if_else(pa.array(is_empty), "1970-01-01", pc.fill_null(col, ""))
        try:
            days = _np(pc.cast(filled, pa.date32()).cast(pa.int32())).astype(np.int32)
            bad = np.zeros(is_empty.shape[0], dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Some value is malformed: find which, then cast the well-formed ones.
            shaped = _np(pc.fill_null(pc.match_substring_regex(filled, _DATE_PATTERN), False)).astype(bool)
            ts = pc.strptime(pc.if_else(pa.array(shaped), filled, "1970-01-01"), format="%Y-%m-%d",
                             unit="s", error_is_null=True)
            days = _np(pc.fill_null(pc.cast(pc.cast(ts, pa.date32()), pa.int32()), int(MISSING_DAY))).astype(np.int32)
            # strptime rolls 2024-02-30 over to 2024-03-01: keep only values that round-trip.
            ok = shaped & (days != MISSING_DAY)
            if ok.any():
                y, m, d = _ymd_from_text(filled, ok)
                py, pm, pd_ = year_month_day(np.where(ok, days, 0))
                ok &= (py == y) & (pm == m) & (pd_ == d)
            bad = ~ok
        bad &= ~is_empty
        days[is_empty | bad] = MISSING_DAY
        return days, is_empty, bad
    is_empty = empty(col)

    def parse(v: str) -> int | None:
        if not v:
            return int(MISSING_DAY)
        if not _DATE_RE.fullmatch(v):
            return None
        try:
            return dt.date.fromisoformat(v).toordinal() - _EPOCH
        except ValueError:
            return None

    if col.shape[0] == 0:
        return np.zeros(0, np.int32), is_empty, np.zeros(0, bool)
    inverse, parsed = _uniques_map(col, parse)
    bad_u = np.array([p is None for p in parsed], dtype=bool)
    days_u = np.array([int(MISSING_DAY) if p is None else p for p in parsed], dtype=np.int64)
    days = days_u[inverse].astype(np.int32)
    return days, is_empty, bad_u[inverse]


def _ymd_from_text(col: Any, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def part(start: int, stop: int) -> np.ndarray:
        s = pc.utf8_slice_codeunits(col, start, stop)
        s = pc.if_else(pa.array(ok), s, "0")
        return _np(pc.cast(s, pa.int64())).astype(np.int64)

    return part(0, 4), part(5, 7), part(8, 10)


def counts(col: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse whole numbers of 0 or more (at most 9 digits).

    Returns ``(values, is_empty, is_bad)``; ``values`` is -1 where empty or invalid.
    """
    is_empty = empty(col)
    if is_arrow(col):
        filled = pc.fill_null(col, "")
        ok = _np(pc.fill_null(pc.match_substring_regex(filled, _COUNT_PATTERN), False)).astype(bool)
        vals = _np(pc.cast(pc.if_else(pa.array(ok), filled, "-1"), pa.int64())).astype(np.int64)
    else:
        def parse(v: str) -> int:
            return int(v) if _COUNT_RE.fullmatch(v) else -1

        if col.shape[0] == 0:
            return np.zeros(0, np.int64), is_empty, np.zeros(0, bool)
        inverse, parsed = _uniques_map(col, parse)
        vals = np.asarray(parsed, dtype=np.int64)[inverse]
        ok = vals >= 0
    bad = ~ok & ~is_empty
    vals = np.where(ok, vals, -1)
    return vals, is_empty, bad
