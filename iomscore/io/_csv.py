"""Reading the two-table (plus optional custody table) CSV form of a referral list.

``pyarrow.csv`` parses the files when pyarrow is installed (``pip install iomscore[arrow]``);
otherwise the standard-library :mod:`csv` module does. Every value is read as text and parsed
by :mod:`iomscore.io._columns`, so both give the same table and the same rejects. A file the
fast parser cannot take as it is (a row with the wrong number of fields, a quoted line break)
is re-read with the standard-library parser, which reports such rows one by one.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from . import _columns as C
from ._common import MALFORMED_ROW, ReadResult, Reject
from ._tables import MissingColumnsError, build_table

__all__ = ["read_csv"]

logger = logging.getLogger("iomscore.io")

Engine = Literal["auto", "arrow", "python"]
_EMPTY_FILE: Final = "{source}: the file is empty (expected a header row)"
_DUPLICATE_COLUMNS: Final = "{source}: duplicate column name(s) in the header: {columns}"
_NO_ARROW: Final = "engine='arrow' needs pyarrow: pip install 'iomscore[arrow]'"
_FALLBACK: Final = "%s: the fast CSV parser could not read the file as is (%s); using the standard-library parser"


@contextlib.contextmanager
def _no_field_limit() -> Iterator[None]:
    """Lift :mod:`csv`'s 131,072-character field limit while reading (restored after)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


class _Parsed:
    """Text columns of one CSV file, the row number of each record and its malformed rows."""

    def __init__(self, columns: dict[str, Any], n: int, rows: np.ndarray, malformed: list[tuple[int, list[str]]],
                 header: list[str]) -> None:
        self.columns = columns
        self.n = n
        self.rows = rows
        self.malformed = malformed
        self.header = header


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as f, _no_field_limit():
        try:
            header = next(csv.reader(f))
        except StopIteration:
            raise MissingColumnsError(_EMPTY_FILE.format(source=path)) from None
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise MissingColumnsError(_DUPLICATE_COLUMNS.format(source=path, columns=", ".join(dups)))
    return header


def _parse_arrow(path: Path, header: list[str]) -> _Parsed | None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    malformed: list[Any] = []

    def handler(row: Any) -> str:
        malformed.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        logger.info(_FALLBACK, path, exc)
        return None
    if malformed:
        logger.info(_FALLBACK, path, f"{len(malformed)} malformed row(s)")
        return None
    n = table.num_rows
    cols = {name: table.column(name) for name in table.column_names}
    return _Parsed(cols, n, np.arange(2, n + 2, dtype=np.int64), [], header)


def _parse_python(path: Path, header: list[str]) -> _Parsed:
    width = len(header)
    records: list[list[str]] = []
    rows: list[int] = []
    malformed: list[tuple[int, list[str]]] = []
    with open(path, newline="", encoding="utf-8-sig") as f, _no_field_limit():
        reader = csv.reader(f)
        next(reader)
        record = 0
        for fields in reader:
            if not fields:
                continue  # blank line (the arrow parser skips these too)
            record += 1
            if len(fields) != width:
                malformed.append((record + 1, fields))
                continue
            records.append(fields)
            rows.append(record + 1)
    n = len(records)
    if n:
        cols = {name: np.array(values, dtype=object) for name, values in zip(header, zip(*records))}
    else:
        cols = {name: np.zeros(0, dtype=object) for name in header}
    return _Parsed(cols, n, np.asarray(rows, dtype=np.int64), malformed, header)


def parse_csv(path: str | os.PathLike[str], engine: Engine = "auto") -> _Parsed:
    """Text columns of one CSV file (see the module docstring)."""
    path = Path(path)
    header = _header(path)
    if engine == "arrow" and not C.HAVE_ARROW:
        raise ImportError(_NO_ARROW)
    if engine != "python" and C.HAVE_ARROW:
        parsed = _parse_arrow(path, header)
        if parsed is not None:
            return parsed
    return _parse_python(path, header)


def _malformed_rejects(parsed: _Parsed, source: str, is_referrals: bool) -> tuple[list[Reject], list[tuple[str, int]]]:
    """Rejects for malformed rows, and (person_id, row) of those that name a person."""
    out: list[Reject] = []
    named: list[tuple[str, int]] = []
    pid_at = parsed.header.index("person_id") if "person_id" in parsed.header else -1
    for row, fields in parsed.malformed:
        pid = fields[pid_at] if 0 <= pid_at < len(fields) else ""
        reason = MALFORMED_ROW.format(found=len(fields), expected=len(parsed.header))
        out.append(Reject(source, row, pid, "", reason, row if is_referrals else None))
        if pid and not is_referrals:
            named.append((pid, row))
    return out, named


def read_csv(
    referrals: str | os.PathLike[str],
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
    *,
    engine: Engine = "auto",
) -> ReadResult:
    """Read a referral list in the two-table CSV form.

    Parameters
    ----------
    referrals : path
        One row per referral. Required columns ``person_id``, ``assessment_date``,
        ``date_of_birth``; optional ``sex``, ``need_<pathway>`` (x7), ``rosh_level``,
        ``mappa_category``, ``mappa_level``, the protected characteristics and the summary
        columns (see :mod:`iomscore.io`).
    sanctions : path, optional
        One row per proven offence, joined on ``person_id``.
    custody : path, optional
        One row per custody period (``person_id``, ``start``, ``end``).
    engine : {"auto", "arrow", "python"}
        Parser; ``auto`` uses pyarrow when installed. The result does not depend on it.

    Returns
    -------
    ReadResult
        The valid referrals, in input order, and every rejected row with its reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "r.csv").write_text("person_id,assessment_date,date_of_birth,sex\\n"
    ...                              "A,2025-01-01,1990-01-01,male\\nB,2025-01-01,1990-13-01,male\\n")
    >>> _ = (d / "s.csv").write_text("person_id,offence_date,sanction_date,offence_group,disposal\\n"
    ...                              "A,2024-10-01,2024-11-01,shop_theft,fine\\n")
    >>> result = read_csv(d / "r.csv", d / "s.csv")
    >>> result.counts.valid, result.counts.rejected, result.rejects[0].field
    (1, 1, 'date_of_birth')
    """
    ref_source = str(referrals)
    ref = parse_csv(referrals, engine)
    extra, _ = _malformed_rejects(ref, ref_source, True)
    poisoned: list[tuple[str, str, int]] = []
    san = cus = None
    if sanctions is not None:
        san = parse_csv(sanctions, engine)
        more, named = _malformed_rejects(san, str(sanctions), False)
        extra += more
        poisoned += [(pid, str(sanctions), row) for pid, row in named]
    if custody is not None:
        cus = parse_csv(custody, engine)
        more, named = _malformed_rejects(cus, str(custody), False)
        extra += more
        poisoned += [(pid, str(custody), row) for pid, row in named]
    return build_table(
        ref.columns, ref.n, ref_source, ref.rows,
        san.columns if san else None, san.n if san else 0, str(sanctions or ""), san.rows if san else None,
        cus.columns if cus else None, cus.n if cus else 0, str(custody or ""), cus.rows if cus else None,
        extra_rejects=extra, extra_referral_rows=len(ref.malformed),
        extra_sanction_rows=len(san.malformed) if san else 0,
        extra_custody_rows=len(cus.malformed) if cus else 0,
        poisoned=poisoned,
    )
