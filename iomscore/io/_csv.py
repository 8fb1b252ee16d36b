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
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from ..schema._vocabulary import PROTECTED_FIELDS
from . import _columns as C
from ._common import MALFORMED_ROW, ReadResult, Reject, referral_field_path
from ._encoding import UNDECODED, bad_byte, clean, decode, is_utf8, raw_bytes
from ._tables import MissingColumnsError, build_table

__all__ = ["read_csv"]

logger = logging.getLogger("iomscore.io")

Engine = Literal["auto", "arrow", "python"]
_EMPTY_FILE: Final = "{source}: the file is empty (expected a header row)"
MALFORMED_CSV: Final = "malformed CSV at line {line}: {error}; reading resumes on the next line"
UNCLOSED_QUOTE: Final = ("malformed CSV at line {line}: a quote opened here is not closed on this line (it would "
                         "run on to line {end}); this line is rejected and reading resumes on the next line")
#: Columns whose values may hold a line break (free text); one elsewhere means a broken quote.
_MAY_SPAN: Final = frozenset({*PROTECTED_FIELDS, "occasion_id"})
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
    """Text columns of one CSV file, the row number of each record and its malformed rows.

    ``malformed`` holds ``(line, fields, reason, column)`` of each record the parser refused;
    ``lines`` is the number of physical lines of the file, counted apart from the parser.
    """

    def __init__(self, columns: dict[str, Any], n: int, rows: np.ndarray,
                 malformed: list[tuple[int, list[str], str, str]], header: list[str], lines: int = 0) -> None:
        self.columns = columns
        self.n = n
        self.rows = rows
        self.malformed = malformed
        self.header = header
        self.lines = lines


def _check_header(path: Path, header: list[str]) -> list[str]:
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise MissingColumnsError(_DUPLICATE_COLUMNS.format(source=path, columns=", ".join(dups)))
    return header


def physical_lines(data: bytes) -> int | None:
    r"""Lines of ``data`` as a spreadsheet counts them (``\n`` or ``\r\n`` ends), apart from any
    parser; ``None`` when the file also has bare ``\r`` line ends.

    Examples
    --------
    >>> physical_lines(b"a\nb\n"), physical_lines(b"a\r\nb"), physical_lines(b"a\rb\n")
    (2, 2, None)
    """
    cr = data.count(b"\r")
    if cr and cr != data.count(b"\r\n"):
        return None
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _parse_arrow(path: Path, header: list[str], data: bytes) -> _Parsed | None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    lines = physical_lines(data)
    if lines is None:
        return None  # (bare CR line ends: the standard-library parser numbers the lines)
    malformed: list[Any] = []

    def handler(row: Any) -> str:
        malformed.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
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
    if n + 1 != lines:
        # one record per physical line is all this path can number: anything else (a quoted
        # line break, an unclosed quote) is read record by record
        logger.info(_FALLBACK, path, f"{n} records on {lines - 1} lines")
        return None
    cols = {name: table.column(name) for name in table.column_names}
    cols = {name: C.strip(c) for name, c in cols.items()}
    return _Parsed(cols, n, np.arange(2, n + 2, dtype=np.int64), [], header, lines)


def _bad_byte_lines(path: Path, text: str, lines: list[str]) -> dict[int, str]:
    """``{line index: reason}`` of the lines holding bytes that are not UTF-8."""
    if UNDECODED.search(text) is None:
        return {}
    out: dict[int, str] = {}
    for i, line in enumerate(lines):
        reason = bad_byte(str(path), line, i + 1)
        if reason is not None:
            out[i] = reason
    return out


def _parse_python(path: Path, data: bytes) -> _Parsed:
    text = decode(data)
    lines = list(io.StringIO(text, newline=""))
    if not lines:
        raise MissingColumnsError(_EMPTY_FILE.format(source=path))
    bad_lines = _bad_byte_lines(path, text, lines)
    if 0 in bad_lines:
        raise MissingColumnsError(bad_lines[0])
    with _no_field_limit():
        header = _check_header(path, next(csv.reader([lines[0]])))
        width = len(header)
        may_span = [name in _MAY_SPAN for name in header]
        records: list[list[str]] = []
        rows: list[int] = []
        malformed: list[tuple[int, list[str], str, str]] = []
        pos = [1]

        def source() -> Iterator[str]:
            while pos[0] < len(lines):
                pos[0] += 1
                yield lines[pos[0] - 1]

        def one_line(i: int) -> list[str]:
            try:
                return next(csv.reader([lines[i]]))
            except (csv.Error, StopIteration):
                return []

        reader = csv.reader(source(), strict=True)
        while True:
            first = pos[0]
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                reason = (UNCLOSED_QUOTE.format(line=first + 1, end=len(lines)) if "end of data" in str(exc)
                          else MALFORMED_CSV.format(line=first + 1, error=exc))
                malformed.append((first + 1, one_line(first), reason, ""))
                pos[0] = first + 1  # resume on the next physical line
                reader = csv.reader(source(), strict=True)
                continue
            last = pos[0]
            if not fields:
                continue  # a blank line
            spans = last - first > 1
            if spans and (len(fields) != width or any(
                    ("\n" in v or "\r" in v) and not ok for v, ok in zip(fields, may_span))):
                # a quote opened and not closed where it should be: the damage starts here;
                # reject this line and read on from the next, so nothing after it is lost
                malformed.append((first + 1, one_line(first), UNCLOSED_QUOTE.format(line=first + 1, end=last), ""))
                pos[0] = first + 1
                reader = csv.reader(source(), strict=True)
                continue
            bad = next((bad_lines[i] for i in range(first, last) if i in bad_lines), None)
            if bad is not None:
                column = next((h for h, v in zip(header, fields) if UNDECODED.search(v)), "")
                malformed.append((first + 1, fields, bad, column))
                continue
            if len(fields) != width:
                malformed.append((first + 1, fields, MALFORMED_ROW.format(found=len(fields), expected=width), ""))
                continue
            records.append(fields)
            rows.append(first + 1)
    if pos[0] != len(lines):  # pragma: no cover - every physical line is read exactly once
        raise AssertionError(f"{path}: read {pos[0]} of {len(lines)} lines")
    n = len(records)
    if n:
        cols = {name: np.array([v.strip() for v in values], dtype=object)
                for name, values in zip(header, zip(*records))}
    else:
        cols = {name: np.zeros(0, dtype=object) for name in header}
    return _Parsed(cols, n, np.asarray(rows, dtype=np.int64), malformed, header, len(lines))


def parse_csv(path: str | os.PathLike[str], engine: Engine = "auto") -> _Parsed:
    """Text columns of one CSV file (see the module docstring)."""
    path = Path(path)
    if engine == "arrow" and not C.HAVE_ARROW:
        raise ImportError(_NO_ARROW)
    data = raw_bytes(path)
    if len(data) < 4096 and not data.strip():  # (a longer file is not all whitespace; the parser says if so)
        raise MissingColumnsError(_EMPTY_FILE.format(source=path))
    if engine != "python" and C.HAVE_ARROW and is_utf8(data):  # (bytes that are not UTF-8: row by row)
        end = data.find(b"\n")
        first = data if end < 0 else data[:end]
        try:
            header = next(csv.reader([first.decode("utf-8").rstrip("\r")]))
        except (UnicodeDecodeError, csv.Error, StopIteration):
            header = []
        if header:
            parsed = _parse_arrow(path, _check_header(path, header), data)
            if parsed is not None:
                return parsed
    return _parse_python(path, data)


def _malformed_rejects(parsed: _Parsed, source: str, is_referrals: bool) -> tuple[list[Reject], list[tuple[str, int]]]:
    """Rejects for malformed rows, and (person_id, row) of those that name a person."""
    out: list[Reject] = []
    named: list[tuple[str, int]] = []
    pid_at = parsed.header.index("person_id") if "person_id" in parsed.header else -1
    for row, fields, reason, column in parsed.malformed:
        pid = clean(fields[pid_at].strip()) if 0 <= pid_at < len(fields) else ""
        field = "" if not column else referral_field_path(column) if is_referrals else column
        out.append(Reject(source, row, pid, field, reason, row if is_referrals else None))
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
