"""Arrow arrays and scalars made from numpy and Python values through their buffers.

``pa.array``, ``pa.scalar``, a compute function given a Python value, and ``to_numpy`` all
first look for pandas, and import it when it is installed (0.15-0.25 s of a batch run, all of
it holding the interpreter lock), although the batch path never uses it. These give the same
arrays and scalars without that lookup, for the values the batch path makes: numbers and
booleans in numpy arrays, and text. Anything else goes to pyarrow as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:  # optional extra: iomscore[arrow]
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - exercised when pyarrow is absent
    pa = pc = None

__all__ = ["array", "bits", "fill_null", "scalar", "texts", "to_numpy", "values_view"]

_INT32_MAX = (1 << 31) - 1


def _numeric(type: Any) -> bool:
    return bool(pa.types.is_integer(type) or pa.types.is_floating(type) or pa.types.is_boolean(type))


def array(values: Any, type: Any = None) -> Any:
    """``pa.array(values, type)``: a 1-D numpy array of numbers or booleans shares its buffer
    (booleans are packed), a list of ``str`` is encoded once; anything else is pyarrow's.

    Examples
    --------
    >>> import numpy as np
    >>> array(np.array([3, 1])).to_pylist(), array([True, False]).type, array(["a", "é"]).to_pylist()
    ([3, 1], DataType(bool), ['a', 'é'])
    """
    if values.__class__ is np.ndarray and values.ndim == 1 and values.dtype.kind in "iufb" \
            and values.dtype.isnative and (type is None or _numeric(type)):
        arr = _from_numpy(values)
        return arr if type is None or arr.type == type else arr.cast(type)
    if isinstance(values, list | tuple):
        if (values or type is not None) and all(v.__class__ is str for v in values) and \
                (type is None or type in (pa.string(), pa.large_string())):
            return texts(values, type or pa.string())
        if values and all(v.__class__ is bool for v in values) and type in (None, pa.bool_()):
            return _from_numpy(np.array(values, dtype=bool))
    return pa.array(values, type=type)


def _from_numpy(values: np.ndarray) -> Any:
    n = int(values.size)
    if values.dtype.kind == "b":
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(np.packbits(values, bitorder="little"))])
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), n, [None, pa.py_buffer(values)])


def texts(values: Sequence[str], type: Any = None) -> Any:
    """An Arrow ``string`` (or ``large_string``) array of ``values``, all ``str`` (more text
    than a ``string`` array holds goes to pyarrow, which makes a chunked array).

    Examples
    --------
    >>> texts(["", "ab"]).to_pylist()
    ['', 'ab']
    """
    type = type or pa.string()
    encoded = [v.encode("utf-8") for v in values]  # (a lone surrogate raises, as in pyarrow)
    large = type == pa.large_string()
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64 if large else np.int32)
    if encoded:
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        total = np.cumsum(lengths)
        if not large and total[-1] > _INT32_MAX:
            return pa.array(list(values), type=type)
        offsets[1:] = total
    return pa.Array.from_buffers(type, len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def scalar(value: Any, type: Any = None) -> Any:
    """``pa.scalar(value, type)`` for text, a bool, an int or a float, from a one-value array
    (a value the type cannot hold, or of another kind, goes to pyarrow, which says why).

    Examples
    --------
    >>> scalar("x").as_py(), scalar(False).type, scalar(2, pa.int32()).as_py(), scalar(0.5).type
    ('x', DataType(bool), 2, DataType(double))
    """
    kind = value.__class__
    if kind is str and (type is None or type in (pa.string(), pa.large_string())):
        return texts([value], type)[0]
    if kind is bool and (type is None or pa.types.is_boolean(type)):
        return _from_numpy(np.array([value], dtype=bool))[0]
    if kind is int and (type is None or pa.types.is_integer(type)):
        dtype = np.dtype(np.int64 if type is None else type.to_pandas_dtype())
        info = np.iinfo(dtype)
        if info.min <= value <= info.max:
            return _from_numpy(np.array([value], dtype=dtype))[0]
    if kind is float and (type is None or pa.types.is_float64(type)):
        return _from_numpy(np.array([value], dtype=np.float64))[0]
    return pa.scalar(value, type=type)


def fill_null(values: Any, value: Any) -> Any:
    """``pc.fill_null(values, value)``: nulls replaced by ``value`` (of the values' type).

    Examples
    --------
    >>> fill_null(pa.array(["a", None]), "").to_pylist()
    ['a', '']
    """
    return pc.fill_null(values, scalar(value, values.type))


def values_view(arr: Any, dtype: Any) -> np.ndarray:
    """The values buffer of a fixed-width Array as a read-only numpy view of ``dtype`` (any
    value in a null slot).

    Examples
    --------
    >>> values_view(pa.array([1, 2, 3]).slice(1), np.int64).tolist()
    [2, 3]
    """
    dtype = np.dtype(dtype)
    n = len(arr)
    if not n:
        return np.zeros(0, dtype)
    view = np.frombuffer(arr.buffers()[1], dtype=dtype, count=n, offset=arr.offset * dtype.itemsize)
    view.flags.writeable = False  # (Arrow's memory, as pyarrow's own view is)
    return view


def bits(buffer: Any, offset: int, n: int) -> np.ndarray:
    """Bits ``offset`` to ``offset + n`` of an Arrow bitmap (validity or boolean values).

    Examples
    --------
    >>> bits(pa.array([True, False, True]).buffers()[1], 1, 2).tolist()
    [False, True]
    """
    if not n:
        return np.zeros(0, dtype=bool)
    return np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), count=offset + n, bitorder="little")[offset:].astype(bool)


def to_numpy(arr: Any) -> np.ndarray:
    """``arr.to_numpy(zero_copy_only=False)`` of an Arrow Array: numbers and booleans without
    nulls read from their buffers (numbers as a read-only view), text as ``str`` objects
    (``None`` for a null); any other array as pyarrow converts it.

    Examples
    --------
    >>> to_numpy(pa.array([1, 2])).tolist(), to_numpy(pa.array(["a", None])).tolist()
    ([1, 2], ['a', None])
    """
    typ = arr.type
    if not arr.null_count:
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) and not pa.types.is_float16(typ):
            return values_view(arr, typ.to_pandas_dtype())
        if pa.types.is_boolean(typ):
            return bits(arr.buffers()[1], arr.offset, len(arr))
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        out = np.empty(len(arr), dtype=object)
        out[:] = arr.to_pylist()
        return out
    return np.asarray(arr.to_numpy(zero_copy_only=False))
