"""Scoring a referral list partition by partition: one kernel, many drivers.

The kernel, :func:`score_partition`, scores one partition of people (their referral rows,
sanction rows and custody rows) and returns the output rows it would write, the referral
row of each, its rejects and its counts. A person's rows always fall in the same partition
(partitions are made by a hash of ``person_id``, :func:`person_partition`), and nothing the
kernel writes for a person depends on anyone else, so the output does not depend on how the
people are partitioned, in which order the partitions are scored, or where.

The drivers differ only in where the kernel runs: in this process, one partition at a time
(``workers=1``); in a pool of worker processes (``workers=N``); or on a Dask cluster
(``engine="dask"``, :mod:`iomscore.dask`). Each writes the same bytes: the scored rows in the
order of the referrals file, the rejects in the order :func:`iomscore.io.write_rejects`
always uses, and the counts file.

Large CSV and Parquet inputs are read in record batches and spilled, partition by partition,
to Arrow IPC files in a temporary directory beside the output (so memory stays flat whatever
the size of the list and the order of the sanctions file); small inputs, JSON Lines, and CSV
files the streaming parser cannot take as they are (malformed rows, quoted line breaks, bytes
that are not UTF-8) are read whole by the ordinary readers, which report such rows one by one,
and scored as one partition.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..scoring._protocol import Scorer
from . import _arrow as A
from . import _columns as C
from ._atomic import atomic_open
from ._common import ReadCounts, ReadResult, Reject
from ._tables import build_table
from ._text import csv_lines

__all__ = [
    "PartitionOutput",
    "Progress",
    "StreamCounts",
    "person_partition",
    "score_partition",
]

logger = logging.getLogger("iomscore.io")

#: ``progress(stage, done, total)``: stage is ``"reading"`` (bytes), ``"scoring"`` (partitions)
#: or ``"writing"`` (rows); or ``"streaming"`` (input bytes read, scored and written) for inputs
#: sorted by person_id (:mod:`iomscore.io._grouped`).
Progress = Callable[[str, int, int], None]

#: Input bytes (all tables) per partition: about 60,000 referrals of a typical list.
PARTITION_BYTES: Final = 48 << 20
#: Inputs smaller than this are read whole (one partition): spilling would cost more.
IN_MEMORY_BYTES: Final = 64 << 20
#: Output rows gathered and written at a time when merging partitions.
MERGE_ROWS: Final = 1 << 16
#: The most rows in each record batch of a partition's parked Parquet output (see
#: :func:`parked_rows`).
PARKED_ROWS: Final = 1 << 13

_BLOCK: Final = 8 << 20
_ROW: Final = "__iomscore_row"
_KINDS: Final = ("referrals", "sanctions", "custody")
_NOT_GROUPED: Final = "{path}: {lines} line(s) but {records} record(s): reading it whole"
_CANNOT_STREAM: Final = "%s: cannot be read in record batches (%s); reading it whole"
_MISMATCH: Final = "partition outputs disagree on the header of the scores file"
# the base of the person_id hash (odd, so invertible modulo 2**64) and its inverse
_R: Final = 0x100000001B3
_R_INVERSE: Final = pow(_R, -1, 1 << 64)
_POWERS: list[tuple[np.ndarray, np.ndarray]] = []


def parked_rows(partitions: int) -> int:
    """Rows in each record batch of a partition's parked Parquet output, when there are
    ``partitions``. A merge block takes about ``MERGE_ROWS / partitions`` rows from every
    partition and reads whole batches, so batches that size keep a block's reads near the
    block: with batches of 8,192 rows, a block of a 10M-referral run (184 partitions) held 1.5M
    rows and the run peaked at 1.7 GB.

    Examples
    --------
    >>> parked_rows(1), parked_rows(18), parked_rows(184), parked_rows(100_000)
    (8192, 3640, 356, 64)
    """
    return max(64, min(PARKED_ROWS, MERGE_ROWS // max(partitions, 1)))


def release_memory() -> None:
    """Hand the memory Arrow's allocator keeps for reuse back to the system: a worker's next
    chunk, or a process done spilling, reuses little of it, and with several processes the
    kept memory adds up."""
    C.pa.default_memory_pool().release_unused()


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``R**j`` and ``R**-j`` (mod 2**64) for ``j < n`` (kept for the next batch)."""
    if _POWERS and _POWERS[0][0].size >= n:
        return _POWERS[0]
    size = max(2 * n, 1 << 20)  # (room to grow, so batches of rising size do not each recompute)
    with np.errstate(over="ignore"):
        power = np.full(size, _R, dtype=np.uint64)
        power[0] = 1
        np.cumprod(power, out=power)
        inverse = np.full(size, _R_INVERSE, dtype=np.uint64)
        inverse[0] = 1
        np.cumprod(inverse, out=inverse)
    _POWERS[:] = [(power, inverse)]
    return power, inverse


class CannotStream(Exception):
    """An input the streaming reader cannot take as it is: it is read whole instead."""


def person_partition(person_id: Any, partitions: int) -> np.ndarray:
    """The partition (``0 .. partitions - 1``) of each ``person_id``, a fixed function of the id.

    ``person_id`` is an Arrow string array (or anything :func:`pyarrow.array` takes). The
    hash ignores trailing NUL characters, as the duplicate check does, so ids the reader
    treats as one person always share a partition.

    Examples
    --------
    >>> import pyarrow as pa
    >>> p = person_partition(pa.array(["P1", "P2", "P1", ""]), 8)
    >>> int(p[0]) == int(p[2]), p.dtype, bool((p < 8).all())
    (True, dtype('uint16'), True)
    """
    pa, pc = C.pa, C.pc
    col = C.flat(person_id if C.is_arrow(person_id) and not isinstance(person_id, np.ndarray)
                 else A.array(np.asarray(person_id, dtype=object), type=pa.string()))
    if col.null_count:
        col = A.fill_null(col, "")
    if not pa.types.is_large_string(col.type):
        col = col.cast(pa.large_string())
    n = len(col)
    bufs = col.buffers()
    if n and bufs[2] is not None:
        offsets = np.frombuffer(bufs[1], dtype=np.int64)[col.offset:col.offset + n + 1]
        if not np.frombuffer(bufs[2], dtype=np.uint8)[int(offsets[0]):int(offsets[-1])].all():  # a NUL byte
            col = pc.utf8_rtrim(col, characters="\x00")
    if n == 0 or partitions <= 1:
        return np.zeros(n, dtype=np.uint16)
    if 2 * len(pc.unique(col.slice(0, 4096))) < min(n, 4096):  # repeated ids (sanctions):
        encoded = pc.dictionary_encode(col)  # hash each distinct id once (the same hashes)
        distinct = _hash(encoded.dictionary) % np.uint64(partitions)
        return distinct.astype(np.uint16)[C._np(encoded.indices)]
    return (_hash(col) % np.uint64(partitions)).astype(np.uint16)


def _hash(col: Any) -> np.ndarray:
    """The 64-bit hash of each value of a large_string Array without nulls."""
    n = len(col)
    bufs = col.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[col.offset:col.offset + n + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    h = np.zeros(n, dtype=np.uint64)
    if hi > lo:
        # h = sum_j byte_j * R**(j - start): prefix sums of byte_j * R**j (mod 2**64), each
        # difference brought back to the string's start by the inverse power (R is odd)
        power, inverse = _powers(hi - lo + 1)
        data = np.frombuffer(bufs[2], dtype=np.uint8)[lo:hi]
        prefix = np.zeros(hi - lo + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.cumsum(np.multiply(data, power[:hi - lo], dtype=np.uint64), out=prefix[1:])
            starts = offsets[:-1] - lo
            h = (prefix[offsets[1:] - lo] - prefix[starts]) * inverse[starts]
            h ^= h >> np.uint64(31)
            h *= np.uint64(0x9E3779B97F4A7C15)
            h ^= h >> np.uint64(29)
    return h


# --- the kernel ------------------------------------------------------------------------


@dataclass
class StreamCounts:
    """The counts of a run, added up over its partitions."""

    read: ReadCounts = field(default_factory=ReadCounts)

    def add(self, other: ReadCounts) -> None:
        for name in ("referral_rows", "sanction_rows", "custody_rows", "valid", "rejected",
                     "orphan_sanction_rows", "orphan_custody_rows", "malformed_rows"):
            setattr(self.read, name, getattr(self.read, name) + getattr(other, name))


@dataclass(frozen=True)
class PartitionOutput:
    """What the kernel gives for one partition.

    ``rows`` is the referral row of each scored output row (ascending); ``header`` the header
    line of a CSV output (``b""`` otherwise); ``body`` the output rows (CSV or JSON Lines
    bytes, one line a row, or an Arrow table for Parquet); ``ends`` the byte offset after each
    line of ``body`` (text formats); ``scored`` whether any row was scored (an empty partition's
    header may lack the probability columns); ``model`` the scorer's identity.
    """

    rows: np.ndarray
    header: bytes
    body: Any
    ends: np.ndarray
    rejects: list[Reject]
    counts: ReadCounts
    model: Any


def _render(result: ReadResult, scorer: str | Path | Scorer, fmt: str, top: int, work: Path) -> PartitionOutput:
    """Score a read partition and render its output rows."""
    from ._run import score_read
    from ._write import csv_arrow_columns, scores_table, write_scores

    run = score_read(result, scorer)
    rows = np.asarray(result.rows, dtype=np.int64)[run.scores.ok] if len(run.scores) else np.zeros(0, np.int64)
    pid = result.person_id_arrow
    built = csv_arrow_columns(run.scores, None, top, pid) if fmt == "csv" and C.HAVE_ARROW else None
    if built is not None:  # the bytes write_scores would write, built in memory (no file round trip)
        head, lines, line_ends = csv_lines(built[0], built[1])
        if line_ends.size != rows.size:
            raise CannotStream(f"{line_ends.size} output lines for {rows.size} rows")
        return PartitionOutput(rows, head, bytes(lines), line_ends, run.rejects, result.counts, run.scores.model)
    if fmt == "parquet":  # the table write_scores would write, built in memory
        body = scores_table(run.scores, None, top, pid).combine_chunks()
        return PartitionOutput(rows, b"", body, np.zeros(0, np.int64), run.rejects, result.counts, run.scores.model)
    fd, name = tempfile.mkstemp(prefix="part-", suffix=f".{fmt}", dir=work)
    os.close(fd)
    path = Path(name)
    try:
        write_scores(path, run.scores, format=fmt, top=top)  # type: ignore[arg-type]
        return _lines_output(path.read_bytes(), fmt, rows, run, result.counts)
    finally:
        path.unlink(missing_ok=True)


def _lines_output(data: bytes, fmt: str, rows: np.ndarray, run: Any, counts: ReadCounts) -> PartitionOutput:
    """The kernel's output of a CSV or JSON Lines file's bytes (one line a row)."""
    header = b""
    if fmt == "csv":
        cut = data.index(b"\n") + 1
        header, data = data[:cut], data[cut:]
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10).astype(np.int64) + 1
    if ends.size != rows.size:
        raise CannotStream(f"{ends.size} output lines for {rows.size} rows")
    return PartitionOutput(rows, header, data, ends, run.rejects, counts, run.scores.model)


def score_partition(
    referrals: Mapping[str, Any],
    referral_rows: np.ndarray,
    sanctions: Mapping[str, Any] | None = None,
    sanction_rows: np.ndarray | None = None,
    custody: Mapping[str, Any] | None = None,
    custody_rows: np.ndarray | None = None,
    *,
    sources: Sequence[str] = ("", "", ""),
    scorer: str | Path | Scorer,
    format: str = "csv",
    top: int = 3,
    work_dir: str | os.PathLike[str] | None = None,
) -> PartitionOutput:
    """Score one partition of people: the kernel every driver runs.

    The three tables hold text columns (Arrow or numpy, as the readers give them) of whole
    people: every row naming a person of the partition, and no one else. ``*_rows`` give
    each record's row in its file (``sources``), as the rejects name it.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> ref = {"person_id": pa.array(["A", "B"]), "assessment_date": pa.array(["2025-01-01"] * 2),
    ...        "date_of_birth": pa.array(["1990-01-01", "1990-13-01"])}
    >>> out = score_partition(ref, np.array([2, 3]), scorer="iom-priority", sources=("r.csv", "", ""))
    >>> out.rows.tolist(), out.counts.valid, out.rejects[0].field
    ([2], 1, 'date_of_birth')
    """
    result = build_partition(referrals, referral_rows, sanctions, sanction_rows, custody, custody_rows,
                             sources=sources)
    return render_partition(result, scorer, format, top, work_dir)


def build_partition(
    referrals: Mapping[str, Any],
    referral_rows: np.ndarray,
    sanctions: Mapping[str, Any] | None = None,
    sanction_rows: np.ndarray | None = None,
    custody: Mapping[str, Any] | None = None,
    custody_rows: np.ndarray | None = None,
    *,
    sources: Sequence[str] = ("", "", ""),
) -> ReadResult:
    """The first half of :func:`score_partition`: the partition's tables validated and built."""
    n = int(len(referral_rows))
    m = 0 if sanction_rows is None else int(len(sanction_rows))
    k = 0 if custody_rows is None else int(len(custody_rows))
    return build_table(referrals, n, sources[0], np.asarray(referral_rows, dtype=np.int64),
                       sanctions, m, sources[1], sanction_rows, custody, k, sources[2], custody_rows)


def render_partition(result: ReadResult, scorer: str | Path | Scorer, format: str = "csv", top: int = 3,
                     work_dir: str | os.PathLike[str] | None = None) -> PartitionOutput:
    """The second half of :func:`score_partition`: a built partition scored and its rows rendered."""
    with _work_dir(work_dir) as work:
        return _render(result, scorer, format, top, work)


@contextlib.contextmanager
def _work_dir(path: str | os.PathLike[str] | None) -> Iterator[Path]:
    if path is not None:
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="iomscore-") as d:
        yield Path(d)


# --- spilling the inputs by partition ---------------------------------------------------


def _csv_header(path: Path) -> list[str]:
    with open(path, "rb") as f:
        first = f.readline(1 << 20)
    if first.startswith(b"\xef\xbb\xbf") or first[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CannotStream("a byte-order mark")
    try:
        header = next(csv.reader([first.decode("utf-8").rstrip("\r\n")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        raise CannotStream("an unreadable header") from None
    if not header or len(set(header)) != len(header):
        raise CannotStream("an empty or duplicated header")
    return header


class _LineCount(threading.Thread):
    """Counts a file's physical lines beside the parser (bare CR line ends: ``None``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.lines: int | None = None

    def run(self) -> None:
        nl = cr = crlf = 0
        last = b""
        size = 0
        with open(self.path, "rb") as f:
            while block := f.read(_BLOCK):
                size += len(block)
                nl += block.count(b"\n")
                c = block.count(b"\r")
                cr += c
                crlf += (block.count(b"\r\n") if c else 0) + (1 if last == b"\r" and block[:1] == b"\n" else 0)
                last = block[-1:]
        if cr != crlf:
            return
        self.lines = nl + (1 if size and last != b"\n" else 0)


def _csv_batches(path: Path, tell: Callable[[int], None]) -> Iterator[tuple[dict[str, Any], int]]:
    """(trimmed text columns, first row number) of each record batch of a CSV file."""
    pa = C.pa
    import pyarrow.csv as pacsv

    header = _csv_header(path)
    counter = _LineCount(path)
    counter.start()

    def refuse(row: Any) -> str:
        return "error"

    records = 0
    with pa.OSFile(str(path)) as f:
        try:
            reader = pacsv.open_csv(
                f, read_options=pacsv.ReadOptions(block_size=_BLOCK),
                parse_options=pacsv.ParseOptions(invalid_row_handler=refuse),
                convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
            for batch in reader:
                if batch.num_rows:
                    yield {name: C.strip(batch.column(i)) for i, name in enumerate(batch.schema.names)}, records + 2
                records += batch.num_rows
                tell(f.tell())
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise CannotStream(str(exc).splitlines()[0]) from None
    counter.join()
    if counter.lines is None or counter.lines != records + 1:
        raise CannotStream(_NOT_GROUPED.format(path=path, lines=counter.lines, records=records))


def text_volume(paths: Sequence[Path | None]) -> int:
    """About how many bytes the Parquet tables would take as CSV text (eight bytes a cell),
    which is what a partition's memory follows; the file sizes when unreadable."""
    import pyarrow.parquet as pq

    total = 0
    for p in paths:
        if p is None or not p.is_file():
            continue
        try:
            meta = pq.ParquetFile(str(p)).metadata
            total += 8 * meta.num_rows * meta.num_columns
        except (C.pa.ArrowException, OSError):
            total += p.stat().st_size
    return total


def _parquet_batches(path: Path, tell: Callable[[int], None]) -> Iterator[tuple[dict[str, Any], int]]:
    pa = C.pa
    from ._parquet import arrow_columns, open_batches

    try:
        pf = open_batches(path)
    except (pa.ArrowException, OSError) as exc:
        raise CannotStream(str(exc)) from None
    size = max(path.stat().st_size, 1)
    total = max(pf.metadata.num_rows, 1)
    records = 0
    for batch in pf.iter_batches(batch_size=1 << 18):
        if batch.num_rows:
            try:
                cols = arrow_columns(batch, path)
            except (ValueError, C.pa.ArrowException) as exc:  # (the whole-file reader says what is wrong)
                raise CannotStream(str(exc)) from None
            yield cols, records + 1
        records += batch.num_rows
        tell(int(size * records / total))


class _Spill:
    """One Arrow IPC file per (table, partition) in a temporary directory."""

    def __init__(self, work: Path, partitions: int) -> None:
        self.work = work
        self.partitions = partitions
        self.writers: dict[tuple[str, int], Any] = {}
        self.schemas: dict[str, Any] = {}

    def path(self, kind: str, p: int) -> Path:
        return self.work / f"{kind}-{p:05d}.arrow"

    def add(self, kind: str, cols: dict[str, Any], first_row: int) -> None:
        pa = C.pa
        n = len(next(iter(cols.values())))
        names = [*cols, _ROW]
        arrays = [C.flat(c) for c in cols.values()]
        arrays.append(A.array(np.arange(first_row, first_row + n, dtype=np.int64)))
        batch = pa.RecordBatch.from_arrays(arrays, names=names)
        if kind not in self.schemas:
            self.schemas[kind] = batch.schema
        elif batch.schema != self.schemas[kind]:
            batch = batch.cast(self.schemas[kind])
        part = person_partition(cols["person_id"], self.partitions)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(self.partitions + 1))
        batch = batch.take(A.array(order))
        for p in range(self.partitions):
            lo, hi = int(bounds[p]), int(bounds[p + 1])
            if hi > lo:
                self._writer(kind, p).write_batch(batch.slice(lo, hi - lo))

    def _writer(self, kind: str, p: int) -> Any:
        key = (kind, p)
        w = self.writers.get(key)
        if w is None:
            w = self.writers[key] = C.pa.ipc.new_file(str(self.path(kind, p)), self.schemas[kind])
        return w

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        self.writers.clear()

    def has(self, kind: str) -> bool:
        return kind in self.schemas


def _read_spilled(path: Path, schema: Any) -> tuple[dict[str, Any], np.ndarray]:
    """Text columns and row numbers of one spilled partition of a table."""
    pa = C.pa
    if path.is_file():
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        table = table.combine_chunks()
    else:
        table = schema.empty_table()
    rows = C._np(table.column(_ROW)).astype(np.int64)
    cols = {name: table.column(name) for name in table.column_names if name != _ROW}
    return cols, rows


@dataclass(frozen=True)
class SpilledTables:
    """The spilled partitions of a two-table input: what a worker needs to score one."""

    work: str
    partitions: int
    sources: tuple[str, str, str]
    schemas: dict[str, Any]

    def path(self, kind: str, p: int) -> Path:
        return Path(self.work) / f"{kind}-{p:05d}.arrow"


def spill(paths: Sequence[Path | None], fmt: str, work: Path, partitions: int,
          progress: Progress | None = None) -> SpilledTables:
    """Read the tables in record batches and spill them by partition (``CannotStream`` when
    an input needs the whole-file reader)."""
    sizes = [p.stat().st_size if p is not None else 0 for p in paths]
    total = sum(sizes)
    out = _Spill(work, partitions)
    done_before = 0
    try:
        for kind, path, size in zip(_KINDS, paths, sizes):
            if path is None:
                continue

            def tell(pos: int, base: int = done_before) -> None:
                if progress is not None:
                    progress("reading", min(base + pos, total), total)

            batches = _csv_batches(path, tell) if fmt == "csv" else _parquet_batches(path, tell)
            for cols, first_row in batches:
                if "person_id" not in cols:
                    raise CannotStream("no person_id column")
                out.add(kind, cols, first_row)
            if kind not in out.schemas:
                raise CannotStream("no records")
            done_before += size
    finally:
        out.close()
    if progress is not None:
        progress("reading", total, total)
    return SpilledTables(str(work), partitions, tuple(str(p or "") for p in paths), out.schemas)  # type: ignore[arg-type]


def score_spilled(tables: SpilledTables, p: int, scorer: str | Path | Scorer, fmt: str, top: int,
                  out_dir: str) -> PartitionOutput:
    """The kernel over partition ``p`` of spilled tables (what a worker process runs); the
    output body is written to ``out_dir`` and replaced by its path."""
    cols: list[tuple[dict[str, Any] | None, np.ndarray | None]] = []
    for kind in _KINDS:
        if kind in tables.schemas:
            cols.append(_read_spilled(tables.path(kind, p), tables.schemas[kind]))
        else:
            cols.append((None, None))
    out = score_partition(cols[0][0] or {}, cols[0][1] if cols[0][1] is not None else np.zeros(0, np.int64),
                          cols[1][0], cols[1][1], cols[2][0], cols[2][1], sources=tables.sources, scorer=scorer,
                          format=fmt, top=top, work_dir=out_dir)
    return _park(out, Path(out_dir) / f"out-{p:05d}", parked_rows(tables.partitions))


def _park(out: PartitionOutput, stem: Path, batch_rows: int) -> PartitionOutput:
    """``out`` with its body written to a file (the body becomes the file's path)."""
    pa = C.pa
    if isinstance(out.body, bytes):
        path = stem.with_suffix(".bin")
        path.write_bytes(out.body)
    else:
        path = stem.with_suffix(".arrow")
        with pa.ipc.new_file(str(path), out.body.schema) as w:
            body = out.body if all(c.num_chunks <= 1 for c in out.body.columns) else out.body.combine_chunks()
            for batch in body.to_batches(max_chunksize=batch_rows):  # (all full but the last)
                w.write_batch(batch)
    return PartitionOutput(out.rows, out.header, str(path), out.ends, out.rejects, out.counts, out.model)


# --- merging the partitions' outputs ------------------------------------------------------


class _Body:
    """Random access to the rows of one partition's parked output."""

    def __init__(self, out: PartitionOutput) -> None:
        self.out = out
        self._batch_rows = 0  # (of a parked table: its first batch's, as all but the last are)
        self.path = out.body if isinstance(out.body, str) else None
        self._file: Any = None
        self._reader: Any = None

    def text(self, lo: int, hi: int) -> bytes:
        ends = self.out.ends
        start = int(ends[lo - 1]) if lo else 0
        stop = int(ends[hi - 1])
        if self.path is None:
            return bytes(self.out.body[start:stop])
        if self._file is None:
            self._file = open(self.path, "rb")  # noqa: SIM115 (closed by close(), after the merge)
        self._file.seek(start)
        return bytes(self._file.read(stop - start))

    def table(self, lo: int, hi: int) -> Any:
        pa = C.pa
        if self.path is None:
            return self.out.body.slice(lo, hi - lo)
        if self._reader is None:
            self._file = pa.OSFile(self.path)
            self._reader = pa.ipc.open_file(self._file)
            self._batch_rows = max(self._reader.get_batch(0).num_rows, 1) if self._reader.num_record_batches else 1
        first, last = lo // self._batch_rows, (hi - 1) // self._batch_rows
        batches = [self._reader.get_batch(i) for i in range(first, last + 1)]
        return pa.Table.from_batches(batches).slice(lo - first * self._batch_rows, hi - lo)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def write_merged(path: Path, outputs: Sequence[PartitionOutput], fmt: str, progress: Progress | None = None) -> int:
    """Write the partitions' rows in referral-row order: the same bytes however the people
    were partitioned. Returns the rows written."""
    pa = C.pa
    scored = [o for o in outputs if o.rows.size]
    headers = {o.header for o in scored} or {outputs[0].header if outputs else b""}
    if len(headers) != 1:
        raise AssertionError(_MISMATCH)
    rows = np.concatenate([o.rows for o in scored]) if scored else np.zeros(0, np.int64)
    part = np.concatenate([np.full(o.rows.size, i, np.int32) for i, o in enumerate(scored)]) if scored \
        else np.zeros(0, np.int32)
    base = np.concatenate([[0], np.cumsum([o.rows.size for o in scored])]).astype(np.int64)
    order = np.argsort(rows, kind="stable")
    total = int(rows.size)
    bodies = [_Body(o) for o in scored]
    schema: Any = _parquet_schema(outputs) if fmt == "parquet" else None
    try:
        with atomic_open(path, "wb") as f:
            if fmt == "parquet":
                import pyarrow.parquet as pq

                writer = pq.ParquetWriter(f, schema)
            else:
                f.write(headers.pop())
            for a in range(0, total, MERGE_ROWS):
                sel = order[a:a + MERGE_ROWS]
                psel = part[sel]
                local = sel - base[psel]
                present = np.unique(psel)
                if fmt == "parquet":
                    pieces, offset = [], np.zeros(len(scored), np.int64)
                    at = 0
                    for p in present.tolist():
                        mine = local[psel == p]
                        lo, hi = int(mine[0]), int(mine[-1]) + 1
                        pieces.append(bodies[p].table(lo, hi))
                        offset[p] = at - lo
                        at += hi - lo
                    block = pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]
                    block = block.take(A.array(local + offset[psel]))
                    writer.write_table(block, row_group_size=MERGE_ROWS)
                else:
                    f.write(_gather_lines(bodies, scored, present, psel, local))
                if progress is not None:
                    progress("writing", min(a + MERGE_ROWS, total), total)
            if fmt == "parquet":
                if total == 0:
                    writer.write_table(schema.empty_table())
                writer.close()
    finally:
        for b in bodies:
            b.close()
    if progress is not None:
        progress("writing", total, total)
    return total


def _parquet_schema(outputs: Sequence[PartitionOutput]) -> Any:
    pa = C.pa
    for o in outputs:
        if o.rows.size or o is outputs[-1]:
            if isinstance(o.body, str):
                with pa.OSFile(o.body) as f:
                    return pa.ipc.open_file(f).schema
            return o.body.schema
    raise AssertionError("no outputs")


def _gather_lines(bodies: list[_Body], scored: Sequence[PartitionOutput], present: np.ndarray,
                  psel: np.ndarray, local: np.ndarray) -> Any:
    """The lines of one block of output rows, in order, from the partitions' bodies: the
    partitions' stretches of lines as one Arrow binary array, taken in output order."""
    pa = C.pa
    chunks: list[bytes] = []
    offsets: list[np.ndarray] = [np.zeros(1, np.int64)]
    first_elem = np.zeros(len(scored), np.int64)  # element of a partition's first line here
    first_line = np.zeros(len(scored), np.int64)
    at = elems = 0
    for p in present.tolist():
        mine = local[psel == p]
        lo, hi = int(mine[0]), int(mine[-1]) + 1
        data = bodies[p].text(lo, hi)
        ends = scored[p].ends
        lo_byte = int(ends[lo - 1]) if lo else 0
        offsets.append(ends[lo:hi] - lo_byte + at)
        first_elem[p], first_line[p] = elems, lo
        chunks.append(data)
        at += len(data)
        elems += hi - lo
    buffer = b"".join(chunks)
    if present.size == 1 and bool((np.diff(local) == 1).all()):
        return buffer
    lines = pa.LargeBinaryArray.from_buffers(pa.large_binary(), elems,
                                             [None, pa.py_buffer(np.concatenate(offsets)), pa.py_buffer(buffer)])
    taken = lines.take(A.array(first_elem[psel] + local - first_line[psel]))
    size = int(np.frombuffer(taken.buffers()[1], dtype=np.int64)[taken.offset + len(taken)])
    return memoryview(taken.buffers()[2])[:size]


def merge_rejects(outputs: Sequence[PartitionOutput]) -> list[Reject]:
    """Every partition's rejects in the one order rejects files use."""
    from ._tables import _reject_order

    out = [r for o in outputs for r in o.rejects]
    out.sort(key=_reject_order)
    return out


def remove_tree(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)
