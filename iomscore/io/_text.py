"""Vectorised text for writers: fixed float format, dates, CSV quoting and line assembly.

Both backends (pyarrow when installed, numpy otherwise) produce byte-identical output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO, Final

import numpy as np

from ..schema._batch import MISSING_DAY, ONGOING_DAY
from . import _arrow as A
from . import _columns as C

__all__ = ["DECIMALS", "FORMULA_START", "csv_lines", "date_text", "fixed", "fixed_arrow", "int_text", "neutralise",
           "neutralise_arrow", "neutralise_column", "quote_arrow", "quote_text", "write_csv_rows", "write_lines"]

#: Decimal places of every float written (trailing zeros dropped, so points stay integers).
DECIMALS: Final = 6
_SCALE: Final = 10**DECIMALS
_QUOTE_CHARS: Final = (",", '"', "\r", "\n")
#: First characters that make a spreadsheet read a cell as a formula (the OWASP list).
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN: Final = "^[=+\\-@\t\r]"


def neutralise(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would run it as a formula (OWASP).

    Every CSV iomscore writes for people to open (scores, rejects, selections, the panel's
    ranked list) passes its text cells through this; numeric cells are written from numbers
    and left as they are, so ``-3.5`` in a score column stays a number.

    Examples
    --------
    >>> neutralise("=HYPERLINK(1)"), neutralise("-2+3"), neutralise("IOM-1"), neutralise("\\tx")
    ("'=HYPERLINK(1)", "'-2+3", 'IOM-1', "'\\tx")
    """
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def neutralise_column(values: np.ndarray) -> np.ndarray:
    """:func:`neutralise` of each value of an object array of ``str``."""
    return np.array([neutralise(v) for v in values.tolist()], dtype=object)


def neutralise_arrow(a: Any) -> Any:
    """:func:`neutralise` of each value of a pyarrow string array (in Arrow's kernels)."""
    pc = C.pc
    if not _may_start_formula(a):
        return a
    risky = pc.match_substring_regex(a, _FORMULA_PATTERN)
    if not pc.any(risky).as_py():
        return a
    prefixed = pc.binary_join_element_wise(A.scalar("'", a.type), a, A.scalar("", a.type))
    return pc.if_else(risky, prefixed, a)


_FORMULA_BYTES: Final = np.zeros(256, dtype=bool)
_FORMULA_BYTES[[ord(c) for c in FORMULA_START]] = True


def _may_start_formula(a: Any) -> bool:
    """Whether some value of a string Array may start with a formula character: its first
    byte read from the buffers (True when that cannot be read cheaply)."""
    pa = C.pa
    if isinstance(a, pa.ChunkedArray) or not (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)):
        return True
    n = len(a)
    if n == 0 or a.buffers()[2] is None:
        return False
    dtype: Any = np.int64 if pa.types.is_large_string(a.type) else np.int32
    offsets: np.ndarray = np.frombuffer(a.buffers()[1], dtype=dtype)[a.offset:a.offset + n + 1]
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8)
    starts = offsets[:-1][offsets[1:] > offsets[:-1]]  # (empty values and nulls have no first byte)
    return bool(_FORMULA_BYTES[data[starts]].any())


def _obj(a: np.ndarray) -> np.ndarray:
    return np.asarray(a).astype(object)


def int_text(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Integers as text (object array); ``""`` where ``missing``."""
    out = _obj(np.asarray(values, dtype=np.int64).astype(str))
    if missing is not None:
        out[missing] = ""
    return out


def fixed(values: np.ndarray) -> np.ndarray:
    """Floats rounded to :data:`DECIMALS` places (half to even on ``x * 10**6``), trailing
    zeros dropped; ``""`` for NaN.

    Examples
    --------
    >>> fixed(np.array([12.0, 0.1234567, -0.5, float("nan"), 1e-9])).tolist()
    ['12', '0.123457', '-0.5', '', '0']
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return np.zeros(0, dtype=object)
    nan = ~np.isfinite(x)
    q = np.rint(np.where(nan, 0.0, x) * _SCALE).astype(np.int64)
    neg = q < 0
    a = np.abs(q)
    ip = (a // _SCALE).astype(str)
    fp = np.char.rstrip(np.char.zfill((a % _SCALE).astype(str), DECIMALS), "0")
    text = np.char.add(ip, np.char.add(np.where(fp == "", "", "."), fp))
    text = np.char.add(np.where(neg, "-", ""), text)
    out = _obj(text)
    out[nan] = ""
    return out


def date_text(days: np.ndarray) -> np.ndarray:
    """Day numbers as ``YYYY-MM-DD`` (object array); ``""`` for missing or ongoing."""
    d = np.asarray(days, dtype=np.int64)
    missing = (d == MISSING_DAY) | (d == ONGOING_DAY)
    safe = np.where(missing, 0, d)
    if C.HAVE_ARROW:
        arr = A.array(safe.astype(np.int32), type=C.pa.int32()).cast(C.pa.date32())
        out = _obj(C._np(C.pc.cast(arr, C.pa.string())))
    else:
        out = _obj(np.datetime_as_string(safe.astype("datetime64[D]")))
    out[missing] = ""
    return out


def _quote_py(v: str) -> str:
    if any(ch in v for ch in _QUOTE_CHARS):
        return '"' + v.replace('"', '""') + '"'
    return v


def write_csv_rows(f: BinaryIO, header: Sequence[str], columns: Sequence[np.ndarray], quote: Sequence[bool],
                   *, neutral: bool = True) -> None:
    """Write a header and rows of text columns as UTF-8 CSV (``\\n`` line ends).

    Values are quoted as :mod:`csv`'s ``QUOTE_MINIMAL`` does (when they hold a comma, quote
    or line break); ``quote[j]`` False says column ``j`` never needs it (numbers, dates, codes).
    With ``neutral`` the free-text columns (``quote[j]``) are passed through :func:`neutralise`.
    """
    if neutral:
        columns = [neutralise_column(col) if q and isinstance(col, np.ndarray) else
                   neutralise_arrow(col) if q else col for col, q in zip(columns, quote)]
    f.write((",".join(_quote_py(h) for h in header) + "\n").encode("utf-8"))
    n = int(columns[0].shape[0]) if columns else 0
    if n == 0:
        return
    if C.HAVE_ARROW:
        pa, pc = C.pa, C.pc
        arrays = []
        for col, q in zip(columns, quote):
            a = A.array(col, type=pa.large_string()) if isinstance(col, np.ndarray) else col.cast(pa.large_string())
            if q:
                needs = pc.match_substring_regex(a, '[,"\r\n]')
                q_ = A.scalar('"', pa.large_string())
                quoted = pc.binary_join_element_wise(q_, pc.replace_substring(a, '"', '""'), q_,
                                                     A.scalar("", pa.large_string()))
                a = pc.if_else(needs, quoted, a)
            arrays.append(a)
        comma = A.scalar(",", pa.large_string())
        lines = arrays[0] if len(arrays) == 1 else pc.binary_join_element_wise(*arrays, comma)
        lines = pc.binary_join_element_wise(lines, A.scalar("", pa.large_string()),
                                            A.scalar("\n", pa.large_string()))
        _write_buffer(f, lines)
        return
    cols = [np.array([_quote_py(v) for v in col.tolist()], dtype=object) if q else col
            for col, q in zip(columns, quote)]
    f.write("".join(",".join(row) + "\n" for row in zip(*(c.tolist() for c in cols))).encode("utf-8"))


def _write_buffer(f: BinaryIO, lines: Any) -> None:
    chunks = lines.chunks if hasattr(lines, "chunks") else [lines]
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
        data = chunk.buffers()[2]
        f.write(memoryview(data)[int(offsets[0]) : int(offsets[-1])])


# --- Arrow builders for the scores writer ----------------------------------------------

_STRUCTURAL: Final = np.zeros(256, dtype=bool)
_STRUCTURAL[[ord(c) for c in _QUOTE_CHARS]] = True


_POW10: Final = 10 ** np.arange(DECIMALS + 9, dtype=np.int64)
_FIXED_LIMIT: Final = 10**15  # |value| * 10**6 below this: at most 9 integer digits


def fixed_arrow(values: np.ndarray) -> Any:
    """:func:`fixed` as a pyarrow ``large_string`` array (the same text).

    Built as a matrix of the characters each value could have (sign, 9 integer digits, point,
    6 decimals) and a mask of those it has; the masked characters, read value by value, are
    the column's bytes. Values of 10**9 or more take Arrow's string kernels instead.
    """
    pa = C.pa
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    nan = ~np.isfinite(x)
    scaled = np.rint(np.where(nan, 0.0, x) * _SCALE)
    if bool((np.abs(scaled) >= _FIXED_LIMIT).any()):
        return _fixed_arrow_kernels(x)
    n = x.size
    q = scaled.astype(np.int64)
    a = np.abs(q)
    ip = a // _SCALE
    fp = a - ip * _SCALE
    # one row per character position (sign, 9 integer digits, point, 6 decimals), one column a value
    chars = np.empty((17, n), dtype=np.uint8)
    keep = np.empty((17, n), dtype=bool)
    chars[0] = ord("-")
    np.less(q, 0, out=keep[0])
    rest = ip
    for k in range(9):  # integer digit k (units first) at row 9 - k, without leading zeros
        higher = rest // 10
        chars[9 - k] = rest - higher * 10 + 48
        np.greater_equal(ip, _POW10[k], out=keep[9 - k])
        rest = higher
    keep[9] = True
    chars[10] = ord(".")
    np.not_equal(fp, 0, out=keep[10])
    rest = fp
    for j in range(DECIMALS):  # decimal j (last first) at row 16 - j, without trailing zeros
        higher = rest // 10
        chars[10 + DECIMALS - j] = rest - higher * 10 + 48
        np.not_equal(fp % _POW10[j + 1], 0, out=keep[10 + DECIMALS - j])
        rest = higher
    keep[:, nan] = False
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=0), out=offsets[1:])
    data = chars.T[keep.T]  # value by value, each one's characters in order
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _fixed_arrow_kernels(values: np.ndarray) -> Any:
    """:func:`fixed` as a pyarrow ``large_string`` array, in Arrow's string kernels."""
    pa, pc = C.pa, C.pc
    x = np.asarray(values, dtype=np.float64)
    nan = ~np.isfinite(x)
    q = np.rint(np.where(nan, 0.0, x) * _SCALE).astype(np.int64)
    neg = q < 0
    a = np.abs(q)
    fp_int = a % _SCALE
    ip = pc.cast(A.array(a // _SCALE), pa.large_string())
    fp = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(A.array(fp_int), pa.large_string()), width=DECIMALS, padding="0"),
                       characters="0")
    empty = A.scalar("", pa.large_string())
    sign = pc.if_else(A.array(neg), A.scalar("-", pa.large_string()), empty)
    dot = pc.if_else(A.array(fp_int != 0), A.scalar(".", pa.large_string()), empty)
    text = pc.binary_join_element_wise(sign, ip, dot, fp, empty)
    if nan.any():
        text = pc.if_else(A.array(nan), empty, text)
    return text


def _has_structural(a: Any) -> bool:
    """Whether any value of a (large_)string array holds a comma, quote or line break (the
    bytes of its values only: a slice's offsets say where they are in the shared buffer).

    Examples
    --------
    >>> import pyarrow as pa
    >>> _has_structural(pa.array(["a,b", "c", "d"]).slice(1)), _has_structural(pa.array(["a", "b,c"]).slice(1))
    (False, True)
    """
    if a.null_count:
        return True  # (conservative: let the exact per-value check decide)
    return bool(_STRUCTURAL[C.value_bytes(a)].any())


def quote_arrow(a: Any) -> Any:
    """Quote values as :mod:`csv` ``QUOTE_MINIMAL`` does (only where needed)."""
    pc = C.pc
    if not _has_structural(a):
        return a
    if not a.null_count:
        encoded = pc.dictionary_encode(a)
        if len(encoded.dictionary) * 8 <= len(a):  # few distinct values: quote each once
            labels = A.array([_quote_py(v) for v in encoded.dictionary.to_pylist()], type=a.type)
            return pc.take(labels, encoded.indices)
    needs = pc.match_substring_regex(a, '[,"\r\n]')
    q_ = A.scalar('"', a.type)
    quoted = pc.binary_join_element_wise(q_, pc.replace_substring(a, '"', '""'), q_, A.scalar("", a.type))
    return pc.if_else(needs, quoted, a)


def quote_text(v: str) -> str:
    """One value quoted as :mod:`csv` ``QUOTE_MINIMAL`` does."""
    return _quote_py(v)


def _header_line(header: Sequence[str]) -> bytes:
    return (",".join(_quote_py(h) for h in header) + "\n").encode("utf-8")


def _joined_lines(columns: Sequence[Any]) -> Any:
    """The rows of ready (already quoted) Arrow text columns or scalars joined into lines
    (``\n`` ended), or None when there is no array column (no rows)."""
    pa, pc = C.pa, C.pc
    if not columns:
        return None
    cols = [c if isinstance(c, pa.Scalar) else (c if c.type == pa.large_string() else c.cast(pa.large_string()))
            for c in columns]
    # the line end rides on the last column, so one join builds whole lines
    last = cols[-1]
    nl = A.scalar("\n", pa.large_string())
    empty = A.scalar("", pa.large_string())
    if isinstance(last, pa.Scalar):
        cols[-1] = A.scalar(last.as_py() + "\n", pa.large_string())
    else:
        cols[-1] = pc.binary_join_element_wise(last, nl, empty)
    if all(isinstance(c, pa.Scalar) for c in cols):
        return None  # (no rows: callers only get here with at least one array column)
    return pc.binary_join_element_wise(*cols, A.scalar(",", pa.large_string()))


def write_lines(f: BinaryIO, header: Sequence[str], columns: Sequence[Any]) -> None:
    """Write a header and rows of ready (already quoted) Arrow text columns or scalars."""
    f.write(_header_line(header))
    lines = _joined_lines(columns)
    if lines is not None:
        _write_buffer(f, lines)


def csv_lines(header: Sequence[str], columns: Sequence[Any]) -> tuple[bytes, Any, np.ndarray]:
    """``(header line, body, ends)``: the bytes :func:`write_lines` writes, split into the header
    line and the rows (a buffer), with the offset in ``body`` after each row's line end
    (read from the joined lines' offsets, so nobody has to scan the bytes for newlines)."""
    header_line = _header_line(header)
    lines = _joined_lines(columns)
    if lines is None or len(lines) == 0:
        return header_line, b"", np.zeros(0, dtype=np.int64)
    if hasattr(lines, "combine_chunks"):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    start = int(offsets[0])
    body = memoryview(lines.buffers()[2])[start : int(offsets[-1])]
    return header_line, body, offsets[1:] - start
