"""Vectorised parsing of text columns, on two interchangeable backends.

A column is either a pyarrow array (the fast path, when ``pyarrow`` is installed) or a numpy
object array of ``str`` (the standard-library path). Every function here gives the same numpy
result for both, so a file reads identically whichever backend parsed it.

An Arrow column may also be typed, as Parquet files and DataFrames hold dates, whole numbers
and booleans: :func:`dates` reads a ``date32`` column and :func:`counts` an integer column
from their buffers, and every other use sees the text that casting the column to a string
gives (``2024-01-31``, ``12``, ``true``), so a typed column reads exactly as its text would.
A dictionary-encoded text column (:func:`is_coded`) is read through its distinct values.

Only the distinct values of a column are parsed in Python on the numpy path; the arrow path
runs in Arrow's C++ kernels.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from ..schema._batch import MISSING_DAY
from ..schema._dates import year_month_day
from . import _arrow as A

try:  # optional extra: iomscore[arrow]
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - exercised when pyarrow is absent
    pa = None
    pc = None

__all__ = ["HAVE_ARROW", "as_text", "ascending", "ascending_runs", "bounds", "counts", "dates", "empty", "encode", "encode_given", "flat", "has_nul",
           "id_words", "is_coded", "is_text_type", "no_text", "run_starts", "strip", "text",
           "text_shared", "value_at", "value_bytes"]

HAVE_ARROW: Final = pa is not None
_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}$"
_COUNT_RE: Final = re.compile(r"[0-9]{1,9}")
_EPOCH: Final = dt.date(1970, 1, 1).toordinal()

Column = Any  # pa.Array | pa.ChunkedArray | np.ndarray (object, str)


def is_arrow(col: Column) -> bool:
    return not isinstance(col, np.ndarray)


def is_text_type(typ: Any) -> bool:
    """Whether ``typ`` is an Arrow string type (``string`` or ``large_string``)."""
    return bool(pa.types.is_string(typ) or pa.types.is_large_string(typ))


def is_coded(typ: Any) -> bool:
    """Whether ``typ`` is dictionary-encoded text (as Parquet stores a column of few distinct
    values): :func:`empty`, :func:`encode`, :func:`strip`, :func:`text_shared` and
    :func:`value_at` work on its distinct values; everything else sees its text."""
    return bool(pa.types.is_dictionary(typ) and is_text_type(typ.value_type))


def _through_dictionary(col: Any, of_values: Any, missing: Any) -> np.ndarray:
    """``of_values`` of a dictionary-encoded column, computed on its distinct values and taken
    by each row's index (``missing`` for a null)."""
    parts = []
    for arr in _chunks(col):
        per_value = np.asarray(of_values(arr.dictionary))
        indices = _fixed_values(arr.indices, np.dtype(arr.indices.type.to_pandas_dtype()))
        nulls = _nulls(arr.indices) if arr.indices.null_count else None
        if per_value.size and (nulls is None or per_value[0] == missing) and bool((per_value == per_value[0]).all()):
            parts.append(np.full(len(arr), per_value[0], dtype=per_value.dtype))  # (one value: no lookup)
            continue
        if nulls is not None:
            indices = np.where(nulls, 0, indices)  # (a null slot's index is any number)
        part = per_value[indices] if per_value.size else np.full(len(arr), missing, dtype=per_value.dtype)
        if nulls is not None:
            part[nulls] = missing
        parts.append(part)
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.asarray(of_values(
        A.array([], pa.string())))


def no_text(n: int) -> Any:
    """``n`` empty strings as an Arrow string array, made from its buffers (as casting ``n``
    nulls to text and filling them with ``""`` would give, without the kernels).

    Examples
    --------
    >>> no_text(2).to_pylist()
    ['', '']
    """
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(np.zeros(n + 1, np.int32)), pa.py_buffer(b"")])


def as_text(col: Column) -> Column:
    """A typed Arrow column as the string column casting gives (nulls stay null); text as it is."""
    if not is_arrow(col) or is_text_type(col.type):
        return col
    return pc.cast(col, pa.string())


def _np(arr: Any) -> np.ndarray:
    if isinstance(arr, np.ndarray):
        return arr
    if hasattr(arr, "combine_chunks"):
        if arr.num_chunks == 1:
            return A.to_numpy(arr.chunk(0))
        if arr.num_chunks > 1 and arr.null_count == 0 and (pa.types.is_integer(arr.type)
                                                           or pa.types.is_floating(arr.type)):
            # Fixed-width chunks: one concatenate of zero-copy views, not a combined copy first.
            return np.concatenate([A.to_numpy(c) for c in arr.chunks])
        arr = arr.combine_chunks()
    return A.to_numpy(arr)


def flat(col: Any) -> Any:
    """A pyarrow Array (chunks combined) of an Array or ChunkedArray (a single chunk as it is:
    ``combine_chunks`` would copy it)."""
    if not hasattr(col, "combine_chunks"):
        return col
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _uniques_map(col: np.ndarray, parse: Any) -> tuple[np.ndarray, Any]:
    """Parse each distinct value once: returns (inverse indices, parsed list)."""
    lookup: dict[str, int] = {}
    inverse = np.fromiter((lookup.setdefault(v, len(lookup)) for v in col), dtype=np.int64, count=col.shape[0])
    return inverse, [parse(v) for v in lookup]


def _chunks(col: Any) -> list[Any]:
    return col.chunks if hasattr(col, "chunks") else [col]


def _valid(arr: Any) -> np.ndarray:
    """The validity of each slot of a pyarrow Array (from its bitmap, no kernel)."""
    n = len(arr)
    if pa.types.is_null(arr.type):
        return np.zeros(n, dtype=bool)
    bitmap = arr.buffers()[0]
    if bitmap is None or not arr.null_count:
        return np.ones(n, dtype=bool)
    return A.bits(bitmap, arr.offset, n)


def _byte_lengths(col: Any) -> np.ndarray | None:
    """Byte length of each value of a string column, read from its offsets (0 for a null);
    None when the column is not (large_)string."""
    parts = []
    for arr in _chunks(col):
        if pa.types.is_string(arr.type):
            dtype: Any = np.int32
        elif pa.types.is_large_string(arr.type):
            dtype = np.int64
        else:
            return None
        if len(arr) == 0:
            parts.append(np.zeros(0, np.int64))
            continue
        offsets = np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset:arr.offset + len(arr) + 1]
        parts.append(np.diff(offsets))
    if not parts:
        return np.zeros(0, np.int64)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _zero_lengths(col: Any) -> np.ndarray | None:
    """True where a value of a string column has no bytes (empty, or null), from its offsets;
    None when the column is not (large_)string."""
    lengths = _byte_lengths(col)
    return None if lengths is None else lengths == 0


def _int32_codes(arr: Any) -> np.ndarray:
    """An int32 Arrow array (chunked or not) as numpy, -1 for null (from its buffers)."""
    values = _fixed_values(arr, np.int32)
    return np.where(~_nulls(arr), values, np.int32(-1)) if arr.null_count else values.copy()


def _nulls(col: Any) -> np.ndarray:
    parts = [~_valid(a) for a in _chunks(col)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, bool)


def _fixed_width(arr: Any) -> np.ndarray | None:
    """The bytes of a string Array whose values all have the same byte length, 1 to 16, as
    an ``(n, width)`` uint8 matrix (a view of its buffer); None otherwise, or with nulls."""
    n = len(arr)
    lengths = _byte_lengths(arr)
    if lengths is None or arr.null_count or n == 0:
        return None
    width = int(lengths[0])
    if not 0 < width <= 16 or not bool((lengths == width).all()):
        return None
    dtype: Any = np.int32 if pa.types.is_string(arr.type) else np.int64
    first = int(np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset])
    values: np.ndarray = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[first:first + n * width].reshape(n, width)
    return values


def _words(values: np.ndarray, order: str) -> np.ndarray:
    """Fixed-width values as one or two 64-bit words a value (zero-padded; ``order`` ``<`` or
    ``>``: big-endian words compare as the bytes do)."""
    n, width = values.shape
    if width == 8:
        return values.view(f"{order}u8")
    padded = np.zeros((n, 8 if width < 8 else 16), dtype=np.uint8)
    padded[:, :width] = values
    return padded.view(f"{order}u8")


def id_words(col: Any, width: int | None = None) -> tuple[int, np.ndarray] | None:
    """``(width, words)``: the values of a string column whose values all have the same byte
    length, 1 to 8 (``width`` when given), as big-endian 64-bit words (zero-padded), which
    compare as the values do in byte order; None otherwise (nulls, other lengths, no values,
    or a column that is not (large_)string, such as a dictionary-encoded or typed one).

    Examples
    --------
    >>> import pyarrow as pa
    >>> width, words = id_words(pa.array(["P1", "P2"]))
    >>> width, bool(words[0] < words[1])
    (2, True)
    """
    values = _fixed_width(flat(col))
    if values is None or values.shape[1] > 8 or (width is not None and values.shape[1] != width):
        return None
    return values.shape[1], _words(values, ">")[:, 0]


def run_starts(col: Any) -> np.ndarray | None:
    """Index of the first value of each run of equal adjacent values of a string column;
    None when it cannot tell cheaply: values of different byte lengths, over 16 bytes, nulls,
    or not a string column. (Fixed-width identifiers, as exports write them, are compared as
    one or two 64-bit words a value.)"""
    values = _fixed_width(flat(col))
    return None if values is None else _word_runs(_words(values, "<"))


def _word_runs(words: np.ndarray) -> np.ndarray:
    """Index of the first row of each run of equal rows of :func:`_words`."""
    change = words[1:, 0] != words[:-1, 0]
    if words.shape[1] > 1:
        change |= words[1:, 1] != words[:-1, 1]
    return np.flatnonzero(np.r_[True, change])


def ascending_runs(col: Any) -> np.ndarray | None:
    """Index of the first value of each run of equal values of a string column whose values
    ascend (so equal values are adjacent); None when they do not, or when it cannot tell
    cheaply (as :func:`run_starts`).

    Examples
    --------
    >>> import pyarrow as pa
    >>> ascending_runs(pa.array(["P1", "P1", "P2"])).tolist(), ascending_runs(pa.array(["P2", "P1"]))
    ([0, 2], None)
    """
    values = _fixed_width(flat(col))
    if values is None:
        return None
    words = _words(values, ">")
    return _word_runs(words) if _words_ascend(words) else None


def _words_ascend(words: np.ndarray) -> bool:
    """Whether no row of :func:`_words` (big-endian) is less than the one before it."""
    before, after = words[:-1, 0], words[1:, 0]
    if words.shape[1] == 1:
        return not bool((after < before).any())
    return not bool(((after < before) | ((after == before) & (words[1:, 1] < words[:-1, 1]))).any())


def ascending(arr: Any) -> bool:
    """Whether no value of a string Array (no nulls) is less than the one before it, in byte
    order (fixed-width values compared as 64-bit words; others by Arrow's kernel).

    Examples
    --------
    >>> import pyarrow as pa
    >>> ascending(pa.array(["P01", "P01", "P02"])), ascending(pa.array(["P02", "P01"]))
    (True, False)
    """
    n = len(arr)
    if n < 2:
        return True
    values = _fixed_width(arr)
    if values is None:
        return not pc.any(pc.less(arr.slice(1), arr.slice(0, n - 1))).as_py()
    return _words_ascend(_words(values, ">"))


def bounds(col: Any) -> tuple[str, str] | None:
    """The least and the greatest value of a string column with no nulls, in byte order (as
    Arrow's ``min_max``, and Python's order of ``str``); None when it has no values.

    Fixed-width values (identifiers, as exports write them) are compared as 64-bit words;
    others by Arrow's kernel.

    Examples
    --------
    >>> import pyarrow as pa
    >>> bounds(pa.chunked_array([["P02", "P10"], ["P01"]]))
    ('P01', 'P10')
    """
    found = []
    for arr in _chunks(col):
        if not len(arr):
            continue
        values = _fixed_width(arr)
        if values is None:
            got = pc.min_max(arr)
            found.append((got["min"].as_py(), got["max"].as_py()))
            continue
        words = _words(values, ">")
        ends = []
        for pick in (np.argmin, np.argmax):
            i = int(pick(words[:, 0]))
            if words.shape[1] > 1:
                tied = np.flatnonzero(words[:, 0] == words[i, 0])
                i = int(tied[pick(words[tied, 1])])
            ends.append(values[i].tobytes().decode("utf-8"))
        found.append((ends[0], ends[1]))
    if not found:
        return None
    return min(lo for lo, _ in found), max(hi for _, hi in found)


def value_bytes(arr: Any) -> np.ndarray:
    """The bytes of the values of a (large_)string Array, as a uint8 view of its data buffer
    (only its own: a slice's offsets say where they lie in a buffer it shares).

    Examples
    --------
    >>> import pyarrow as pa
    >>> bytes(value_bytes(pa.array(["ab", "c", "de"]).slice(1, 1)))
    b'c'
    """
    data = arr.buffers()[2]
    if len(arr) == 0 or data is None:
        return np.zeros(0, np.uint8)
    dtype: Any = np.int32 if pa.types.is_string(arr.type) else np.int64
    offsets = np.frombuffer(arr.buffers()[1], dtype=dtype)
    return np.frombuffer(data, dtype=np.uint8)[int(offsets[arr.offset]):int(offsets[arr.offset + len(arr)])]


def has_nul(col: Any) -> bool:
    """Whether some value of an Arrow string column holds a NUL character."""
    for arr in _chunks(as_text(col)):
        if not is_text_type(arr.type):
            return bool(pc.any(pc.match_substring(arr, "\x00")).as_py())
        data = value_bytes(arr)
        if data.size and not data.all():
            return True
    return False


def empty(col: Column) -> np.ndarray:
    """True where the value is empty (or null)."""
    if is_arrow(col):
        if is_coded(col.type):
            return _through_dictionary(col, empty, True)
        if not is_text_type(col.type):
            return _nulls(col)  # a typed value is never empty text
        # byte length 0 <=> character length 0 (read from the offsets, or Arrow's kernel)
        is_empty = _zero_lengths(col)
        if is_empty is not None:
            if col.null_count:
                is_empty |= _nulls(col)
            return is_empty
        is_empty = pc.equal(pc.binary_length(col), A.scalar(0))
        if col.null_count:
            is_empty = A.fill_null(is_empty, True)
        return _np(is_empty).astype(bool)
    return np.fromiter((not v for v in col), dtype=bool, count=col.shape[0])


def _edges_plain(arr: Any) -> bool:
    """True when every non-empty value of a string Array starts and ends with a printable
    ASCII byte other than space (so no value has whitespace to trim): two bytes a value."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    n = len(arr)
    if n == 0:
        return True
    bufs = arr.buffers()
    if bufs[2] is None:
        return True
    dtype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets: np.ndarray = np.frombuffer(bufs[1], dtype=dtype)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    if data.size == 0:
        return True
    starts, ends = offsets[:-1], offsets[1:]
    # (an empty value -- or a null slot, which only makes this stricter -- reads a neighbour)
    first, last = data.take(starts, mode="clip"), data.take(ends - 1, mode="clip")
    plain = ((first - np.uint8(0x21)) < np.uint8(0x5E)) & ((last - np.uint8(0x21)) < np.uint8(0x5E))
    return bool((plain | (starts == ends)).all())


def strip(col: Column) -> Column:
    """The values with leading and trailing whitespace removed (the rule of every reader)."""
    if is_arrow(col):
        if is_coded(col.type):  # (trimmed in its dictionary)
            trimmed = [pa.DictionaryArray.from_arrays(a.indices, strip(a.dictionary)) for a in _chunks(col)]
            return trimmed[0] if not hasattr(col, "chunks") else pa.chunked_array(trimmed, type=col.type)
        if not is_text_type(col.type):
            return col  # a typed value has no whitespace to trim
        # Whitespace starts and ends with a byte below 0x21 or above 0x7E in UTF-8; when no
        # value has one at either end, trimming would give the same values: skip the kernel.
        chunks = col.chunks if hasattr(col, "chunks") else [col]
        if all(_edges_plain(c) for c in chunks):
            return col
        return pc.utf8_trim_whitespace(col)
    return np.array([v.strip() for v in col.tolist()], dtype=object)


def text(col: Column) -> np.ndarray:
    """The values as a numpy object array of ``str`` (nulls as ``""``)."""
    if is_arrow(col):
        col = as_text(col)
        out = _np(A.fill_null(col, "") if col.null_count else col)
        return out.astype(object, copy=False)
    return col


def text_shared(col: Column) -> np.ndarray:
    """Like :func:`text`, for columns of few distinct values: one ``str`` per distinct value."""
    if is_arrow(col):
        if is_coded(col.type):
            return _through_dictionary(col, text, "").astype(object, copy=False)
        col = as_text(col)
        encoded = pc.dictionary_encode(flat(A.fill_null(col, "") if col.null_count else col))
        if len(encoded.dictionary) * 4 > max(len(encoded), 1):
            return text(col)
        labels = A.to_numpy(encoded.dictionary).astype(object, copy=False)
        return labels[_np(encoded.indices)] if len(labels) else np.zeros(len(encoded), dtype=object)
    return col


def value_at(col: Column, i: int) -> str:
    """One value as text (for messages)."""
    if is_arrow(col):
        v = (col[int(i)] if is_coded(col.type) else as_text(col)[int(i)]).as_py()
        return "" if v is None else str(v)
    return str(col[int(i)])


@functools.lru_cache(maxsize=256)
def _value_set(vocabulary: tuple[str, ...]) -> Any:
    """A vocabulary as the Arrow array ``index_in`` looks values up in (made once: a chunk
    encodes a dozen columns, and every chunk the same ones)."""
    return A.array(list(vocabulary), type=pa.string())


def _encode_typed(col: Any, vocabulary: Sequence[str]) -> np.ndarray | None:
    """:func:`encode` of a whole-number or boolean Arrow column, from its values (not their
    text): the vocabulary's entries that are a value's text as casting gives it (``"12"``,
    ``"-3"``, ``"true"``) are read as values once, and each row's value is found among them;
    None for another type (or unsigned 64-bit)."""
    typ = col.type
    first: dict[str, int] = {}
    for i, v in enumerate(vocabulary):
        first.setdefault(v, i)  # (the first of equal entries, as index_in finds)
    if pa.types.is_boolean(typ):
        table = np.array([first.get("false", -1), first.get("true", -1)], dtype=np.int32)
        parts = [table[A.bits(a.buffers()[1], a.offset, len(a)).astype(np.int8)] for a in _chunks(col)]
    elif pa.types.is_integer(typ) and not pa.types.is_uint64(typ):  # (every value fits an int64)
        # (the entries that are a number's text as a cast gives it, and a sentinel past them)
        numbers = sorted((int(v), i) for v, i in first.items() if re.fullmatch(r"-?[0-9]+", v) and str(int(v)) == v)
        keys = np.array([k for k, _ in numbers] + [np.iinfo(np.int64).max], dtype=np.int64)
        codes = np.array([i for _, i in numbers] + [-1], dtype=np.int32)
        parts = []
        for a in _chunks(col):
            values = A.values_view(a, np.dtype(typ.to_pandas_dtype())).astype(np.int64)
            j = np.minimum(np.searchsorted(keys, values), len(numbers))
            parts.append(np.where(keys[j] == values, codes[j], np.int32(-1)))
    else:
        return None
    out = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, np.int32)
    if col.null_count:
        out = np.where(_nulls(col), np.int32(-1), out)
    return out.astype(np.int32, copy=False)


def encode(col: Column, vocabulary: Sequence[str]) -> np.ndarray:
    """Index of each value in ``vocabulary``; -1 where absent (including empty values).

    Examples
    --------
    >>> import pyarrow as pa
    >>> encode(pa.array(["b", "", "x", None]), ("a", "b")).tolist()
    [1, -1, -1, -1]
    >>> encode(pa.array([2, 7, None]), ("1", "2", "3")).tolist(), encode(pa.array([True, None]), ("true",)).tolist()
    ([1, -1, -1], [0, -1])
    """
    if is_arrow(col):
        if is_coded(col.type):
            return _through_dictionary(col, lambda values: encode(values, vocabulary), -1).astype(np.int32)
        typed = _encode_typed(col, vocabulary)
        if typed is not None:
            return typed
        col = as_text(col)
        value_set = _value_set(tuple(vocabulary))
        no_bytes = _zero_lengths(col)
        if no_bytes is not None and not col.null_count and "" not in vocabulary:
            given = np.flatnonzero(~no_bytes)
            if given.size * 2 < no_bytes.size:  # mostly empty (an optional column): look up the rest
                codes = np.full(no_bytes.size, -1, dtype=np.int32)
                if given.size:
                    codes[given] = _int32_codes(pc.index_in(flat(col.take(A.array(given))), value_set=value_set))
                return codes
        return _int32_codes(pc.index_in(col, value_set=value_set))
    lookup = {v: i for i, v in enumerate(vocabulary)}
    inverse, mapped = _uniques_map(col, lambda v: lookup.get(v, -1))
    return np.asarray(mapped, dtype=np.int32)[inverse] if col.shape[0] else np.zeros(0, np.int32)


def encode_given(col: Column, vocabulary: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(encode(col, vocabulary), bad)``: ``bad`` is True where a value is given (not empty)
    but not in ``vocabulary``. A dictionary-encoded column is checked on its distinct values.

    Examples
    --------
    >>> import pyarrow as pa
    >>> codes, bad = encode_given(pa.array(["b", "", "x", None]).dictionary_encode(), ("a", "b"))
    >>> codes.tolist(), bad.tolist()
    ([1, -1, -1, -1], [False, False, True, False])
    """
    if is_arrow(col) and is_coded(col.type):
        def packed(values: Any) -> np.ndarray:  # (code, bad) of each distinct value as 2 * code + bad
            codes = encode(values, vocabulary)
            return codes * np.int32(2) + ((codes < 0) & ~empty(values))

        both = _through_dictionary(col, packed, np.int32(-2))  # (a null: code -1, not bad)
        return both >> 1, (both & 1).astype(bool)
    codes = encode(col, vocabulary)
    return codes, (codes < 0) & ~empty(col)


def dates(col: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse ``YYYY-MM-DD`` dates to days since 1970-01-01.

    Returns ``(days, is_empty, is_bad)``; ``days`` is :data:`MISSING_DAY` where the value is
    empty or invalid.
    """
    if is_arrow(col):
        if pa.types.is_date32(col.type):
            return _typed_dates(col)
        col = as_text(col)
        is_empty = empty(col)
        days = np.full(is_empty.shape[0], MISSING_DAY, dtype=np.int32)
        bad = np.zeros(is_empty.shape[0], dtype=bool)
        if is_empty.all():
            return days, is_empty, bad
        if is_empty.any():  # parse the given values only (nulls count as empty)
            given = np.flatnonzero(~is_empty)
            days[given], bad[given] = _dates_given(flat(col.take(A.array(given))))
        else:
            days, bad = _dates_given(col)
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


#: Days since 1970-01-01 of 0001-01-01 and 9999-12-31: the dates ``YYYY-MM-DD`` can write.
_FIRST_DAY: Final = dt.date(1, 1, 1).toordinal() - _EPOCH
_LAST_DAY: Final = dt.date(9999, 12, 31).toordinal() - _EPOCH


def _fixed_values(col: Any, dtype: Any) -> np.ndarray:
    """The values of a fixed-width Arrow column (any in a null slot), from its buffers."""
    parts = [A.values_view(a, dtype) for a in _chunks(col)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, dtype)


def _typed_dates(col: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`dates` of a ``date32`` column: a year outside 1 to 9999 is bad, as its text is."""
    is_empty = _nulls(col)
    days = _fixed_values(col, np.int32)
    bad = ~is_empty & ((days < _FIRST_DAY) | (days > _LAST_DAY))
    return np.where(is_empty | bad, MISSING_DAY, days).astype(np.int32), is_empty, bad


def _dates_given(filled: Any) -> tuple[np.ndarray, np.ndarray]:
    """(days, is_bad) of an Arrow column of non-empty values, as :func:`dates` parses them."""
    try:
        days = _np(pc.cast(pc.cast(filled, pa.date32()), pa.int32())).astype(np.int32)  # (a writable copy)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:  # Arrow's cast takes the year 0000, which no calendar date (nor the numpy path) has
        bad = days < _FIRST_DAY
        days[bad] = MISSING_DAY
        return days, bad
    # Some value is malformed: find which, then cast the well-formed ones.
    shaped = _np(A.fill_null(pc.match_substring_regex(filled, _DATE_PATTERN), False)).astype(bool)
    ts = pc.strptime(pc.if_else(A.array(shaped), filled, A.scalar("1970-01-01", filled.type)), format="%Y-%m-%d",
                     unit="s", error_is_null=True)
    days = _np(A.fill_null(pc.cast(pc.cast(ts, pa.date32()), pa.int32()), int(MISSING_DAY))).astype(np.int32)
    # strptime rolls 2024-02-30 over to 2024-03-01: keep only values that round-trip.
    ok = shaped & (days != MISSING_DAY) & (days >= _FIRST_DAY)
    if ok.any():
        y, m, d = _ymd_from_text(filled, ok)
        py, pm, pd_ = year_month_day(np.where(ok, days, 0))
        ok &= (py == y) & (pm == m) & (pd_ == d)
    days[~ok] = MISSING_DAY
    return days, ~ok


def _ymd_from_text(col: Any, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def part(start: int, stop: int) -> np.ndarray:
        s = pc.utf8_slice_codeunits(col, start, stop)
        s = pc.if_else(A.array(ok), s, A.scalar("0", s.type))
        return _np(pc.cast(s, pa.int64())).astype(np.int64)

    return part(0, 4), part(5, 7), part(8, 10)


def counts(col: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse whole numbers of 0 or more (at most 9 digits).

    Returns ``(values, is_empty, is_bad)``; ``values`` is -1 where empty or invalid.
    """
    if is_arrow(col):
        if pa.types.is_integer(col.type):
            return _typed_counts(col)
        col = as_text(col)
    is_empty = empty(col)
    if is_arrow(col):
        # ^[0-9]{1,9}$ without a regex: ASCII digits only (false when empty), at most 9 bytes;
        # checked on the values of 1 to 9 bytes only (columns of counts are mostly empty)
        lengths = _byte_lengths(col)
        if lengths is None:
            length = pc.binary_length(col)
            ok_arr = pc.and_(pc.ascii_is_decimal(col), pc.less_equal(length, A.scalar(9)))
            ok = _np(A.fill_null(ok_arr, False) if col.null_count else ok_arr).astype(bool)
            vals = np.full(ok.shape[0], -1, dtype=np.int64)
            if ok.any():
                vals[ok] = _np(pc.cast(pc.filter(col, A.array(ok)), pa.int64()))
        else:
            ok = ~is_empty & (lengths <= 9)
            vals = np.full(ok.shape[0], -1, dtype=np.int64)
            some = np.flatnonzero(ok)
            if some.size:
                given = flat(col.take(A.array(some)))  # (no nulls: they are empty)
                digits = _np(pc.ascii_is_decimal(given)).astype(bool)
                ok[some] = digits
                if digits.all():
                    vals[some] = _np(pc.cast(given, pa.int64()))
                elif digits.any():
                    vals[some[digits]] = _np(pc.cast(given.filter(A.array(digits)), pa.int64()))
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


def _typed_counts(col: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`counts` of an integer column: below 0 or over 9 digits is bad, as its text is."""
    is_empty = _nulls(col)
    values = _fixed_values(col, col.type.to_pandas_dtype())
    ok = ~is_empty & (values >= 0) & (values <= 999_999_999)
    # (one pass; a value out of int64's range is not ok, so its wrapped cast is never used)
    out = np.where(ok, values.astype(np.int64, copy=False), -1)
    return out, is_empty, ~ok & ~is_empty
