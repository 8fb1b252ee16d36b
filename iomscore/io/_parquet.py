"""Reading the two-table form from Parquet files (needs pyarrow)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from ..schema._vocabulary import PROTECTED_FIELDS
from . import _arrow as A
from . import _columns as C
from ._common import CUSTODY_COLUMNS, NEED_COLUMNS, REFERRAL_COLUMNS, SANCTION_COLUMNS, ReadResult
from ._tables import MissingColumnsError, build_table

__all__ = ["CODED_COLUMNS", "open_batches", "read_parquet"]

_NO_ARROW: Final = "reading Parquet needs pyarrow: pip install 'iomscore[arrow]'"
_NOT_PARQUET: Final = "{path}: not a readable Parquet file ({error})"
_BAD_COLUMN_TYPE: Final = "{path}: column {column!r} has type {type}; expected text, a date or a number"
_KNOWN: Final = frozenset({*REFERRAL_COLUMNS, *SANCTION_COLUMNS, *CUSTODY_COLUMNS})


#: Text columns of few distinct values that only :func:`~iomscore.io._columns.encode`,
#: :func:`~iomscore.io._columns.empty`, :func:`~iomscore.io._columns.text_shared` and
#: :func:`~iomscore.io._columns.value_at` read: the chunked reader keeps them
#: dictionary-encoded, as Parquet stores them, and they are checked once per distinct value
#: (decoding them to text was a quarter of decoding the sanctions, and half of the referrals).
CODED_COLUMNS: Final = (
    "offence_group", "disposal", "offence_code",
    "sex", *NEED_COLUMNS, "rosh_level", "mappa_category", "mappa_level", *PROTECTED_FIELDS,
    "current_offence_group", "current_offence_code", "supervision_status",
    *(c for c in REFERRAL_COLUMNS if c.startswith("oasys_")),
)


def open_batches(path: str | os.PathLike[str], coded: Sequence[str] = ()) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` to read in batches, without pre-buffering: pre-buffered,
    a file read on batch by batch keeps every column chunk read until it is closed, so the
    memory of a chunked or spilling run grew with the list (10M referrals: by 240 MB to 1 GB).
    The columns named in ``coded`` that the file has are read dictionary-encoded."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(str(path), pre_buffer=False)
    schema = pf.schema_arrow
    coded = [c for c in coded if c in schema.names and C.is_text_type(schema.field(c).type)]
    return pq.ParquetFile(str(path), pre_buffer=False, read_dictionary=coded, metadata=pf.metadata) if coded else pf


def _arrow_columns(path: str | os.PathLike[str]) -> tuple[dict[str, Any], int]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover
        raise ImportError(_NO_ARROW) from exc
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise MissingColumnsError(_NOT_PARQUET.format(path=path, error=exc)) from None
    return arrow_columns(table, path), table.num_rows


def arrow_columns(table: Any, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Every column of a Parquet table (or record batch) as the column parsers take it.

    Text is trimmed, with nulls as ``""``; dates (a timestamp as its date), whole numbers and
    booleans stay typed, which :mod:`iomscore.io._columns` reads exactly as their text, without
    making the text; ``person_id`` and any other type become text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cols: dict[str, Any] = {}
    for name in table.column_names:
        col = table.column(name)
        if name in CODED_COLUMNS and C.is_coded(col.type):
            cols[name] = C.strip(col)  # (nulls stay null: empty, as "" would be)
            continue
        if pa.types.is_null(col.type):  # (a column a writer found empty throughout)
            cols[name] = C.no_text(len(col))
            continue
        try:
            if pa.types.is_timestamp(col.type):
                col = pc.cast(col, pa.date32())
            typ = col.type
            if name != "person_id" and (pa.types.is_date32(typ) or pa.types.is_integer(typ)
                                        or pa.types.is_boolean(typ)):
                cols[name] = col
                continue
            if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
                col = pc.cast(col, pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            if name in _KNOWN:
                raise MissingColumnsError(_BAD_COLUMN_TYPE.format(path=path, column=name, type=col.type)) from None
            # a column iomscore does not read (ignored with a warning): its type does not matter
            cols[name] = C.no_text(table.num_rows)
            continue
        cols[name] = C.strip(A.fill_null(col, "") if col.null_count else col)
    return cols


def read_parquet(
    referrals: str | os.PathLike[str],
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
) -> ReadResult:
    """Read the two-table form from Parquet: the same columns as the CSV form.

    Typed columns (dates, integers, booleans) are accepted as well as text. ``row`` in a
    reject is the 1-based record number (Parquet has no header row).
    """
    ref, n = _arrow_columns(referrals)
    san, m = _arrow_columns(sanctions) if sanctions is not None else (None, 0)
    cus, k = _arrow_columns(custody) if custody is not None else (None, 0)
    return build_table(
        ref, n, str(referrals), np.arange(1, n + 1, dtype=np.int64),
        san, m, str(sanctions or ""), np.arange(1, m + 1, dtype=np.int64),
        cus, k, str(custody or ""), np.arange(1, k + 1, dtype=np.int64),
    )
