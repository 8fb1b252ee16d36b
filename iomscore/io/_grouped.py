"""Reading CSV inputs that are sorted by person: chunks straight to the kernel, no spill.

Most exports list people in ``person_id`` order, in every table. When they do, a chunk of
people is a byte range of each file: the referral rows from one ``person_id`` up to the next
chunk's first, and the sanction and custody rows of the same ids. :func:`plan_csv` finds
those ranges by binary search on the files (reading a line at each probe) and counts the
lines before each range, so a record's row is known before it is parsed; each chunk is then
parsed on its own (here or in a worker process) and scored by the same kernel as every other
driver, :func:`~iomscore.io._stream.score_partition`. Chunks come in referral-file order, so
their output rows are written as they come: no spill files, no merge.

Nothing is assumed without being checked. The chunk that parses a range checks that its
records are its lines (a quoted line break or a blank line would make them differ) and that
every ``person_id`` of every table lies in the chunk's key range, so no person's rows can be
split between chunks. When a check fails, :class:`~iomscore.io._stream.CannotStream` is
raised and the run falls back to the spilling driver, which takes rows in any order; the
output bytes are the same either way.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import hashlib
import io
import os
import queue
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np

from ..scoring._protocol import Scorer
from . import _arrow as A
from . import _columns as C
from ._common import DATE_COLUMNS, ReadResult
from ._stream import (
    MERGE_ROWS,
    CannotStream,
    PartitionOutput,
    Progress,
    _csv_header,
    build_partition,
    release_memory,
    render_partition,
    text_volume,
)

__all__ = ["Chunk", "Span", "plan_csv", "read_chunk", "score_chunk", "write_grouped"]

#: Bytes read around a probe before scanning lines one by one.
_WINDOW: Final = 4 << 10
_LONGEST_LINE: Final = 1 << 20
_BLOCK: Final = 8 << 20
#: Lines probed in each file before planning, and the largest span of one chunk: this share of
#: the planned chunk size, or this many bytes (records for Parquet) when that is more.
_PROBES: Final = 32
_LARGEST_SHARE: Final = 4
_LARGEST_SPAN: Final = 16 << 20
_TOO_LARGE: Final = "{path}: a chunk of {size} bytes or records, far more than planned"
_OUT_OF_ORDER: Final = "{path}: not sorted by person_id ({what})"
_NOT_LINES: Final = "{path}: {lines} line(s) from line {row} but {records} record(s)"
_PLANNER_STOPPED: Final = "the chunk planner stopped before the end of the input"
_BAD_LINE: Final = "{path}: an unreadable line at byte {at}"


@dataclass(frozen=True)
class Span:
    """A byte range of one CSV file: ``[start, stop)``, whose first line is ``first_row`` of
    the file (the header is row 1) and which holds ``lines`` lines."""

    start: int
    stop: int
    first_row: int
    lines: int


@dataclass(frozen=True)
class Chunk:
    """One chunk of people: a span of each table (``None``: no such table) and the range of
    ``person_id`` every row must lie in, ``low <= id < high`` (``None``: unbounded).

    ``ids``, from a Parquet planner in the process that reads the chunk: each table's
    person_id column over its span as the reader gives it (the planner has decoded it
    already), or ``None`` where the reader must decode it."""

    index: int
    spans: tuple[Span | None, Span | None, Span | None]
    low: str | None
    high: str | None
    ids: tuple[Any, Any, Any] | None = field(default=None, compare=False, repr=False)


def _normal_ids(ids: Any) -> Any:
    """Person_ids as the readers and the duplicate check see them: whitespace trimmed, trailing
    NUL characters ignored (an Arrow string array, same kernels as theirs)."""
    return _without_nuls(C.strip(ids))  # (strip skips the kernel when no value has whitespace to trim)


def _without_nuls(trimmed: Any) -> Any:
    """Trimmed person_ids with their trailing NUL characters ignored (most files have none)."""
    return C.pc.utf8_rtrim(trimmed, characters="\x00") if C.has_nul(trimmed) else trimmed


def _normal(raw: str) -> str:
    """One person_id as :func:`_normal_ids` sees it. An id with no NUL that starts and ends
    with a printable ASCII character is itself (as the kernels would leave it: the test
    :func:`~iomscore.io._columns.strip` makes to skip them); others go through the kernels.

    Examples
    --------
    >>> _normal("P0000001"), _normal("  P1 "), _normal("P1\\x00")
    ('P0000001', 'P1', 'P1')
    """
    if "\x00" not in raw and (not raw or ("!" <= raw[0] <= "~" and "!" <= raw[-1] <= "~")):
        return raw  # (the binary searches ask for thousands of single ids)
    return str(_normal_ids(A.array([raw], C.pa.string()))[0].as_py())


class _File:
    """A CSV file opened for probing: its header, where its data starts, and line counting."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header = _csv_header(path)
        if "person_id" not in self.header:
            raise CannotStream("no person_id column")
        self.column = self.header.index("person_id")
        self.size = path.stat().st_size
        self.f: io.BufferedReader = open(path, "rb")  # noqa: SIM115 (closed by close())
        first = self.f.readline(_LONGEST_LINE)
        if not first.endswith(b"\n") and len(first) < self.size:
            raise CannotStream("an unreadable header")
        self.data_start = len(first)
        self.counted_to = self.data_start  # lines are counted up to here
        self.row = 2  # the row of the line starting at counted_to
        self.buffer = bytearray(_BLOCK)

    def close(self) -> None:
        self.f.close()

    def probe(self) -> None:
        """Refuse at once a file whose person_ids go down somewhere among a few evenly spaced
        lines (a file in another order is then not read chunk by chunk at all)."""
        last = ""
        for k in range(_PROBES):
            pid = self.line_at(self.data_start + (self.size - self.data_start) * k // _PROBES)[1]
            if pid is None:
                break
            if pid < last:
                raise CannotStream(_OUT_OF_ORDER.format(path=self.path, what=f"{pid!r} after {last!r}"))
            last = pid

    def line_at(self, pos: int) -> tuple[int, str | None]:
        """The first line starting at or after ``pos``: its start and its person_id (``None``
        at the end of the file)."""
        if pos <= self.data_start:
            start = self.data_start
        else:
            self.f.seek(pos - 1)
            self.f.readline(_LONGEST_LINE * 4)  # (the rest of the line holding pos - 1)
            start = self.f.tell()
        if start >= self.size:
            return self.size, None
        self.f.seek(start)
        return start, self._id(self.f.readline(_LONGEST_LINE), start)

    def _id(self, line: bytes, at: int) -> str:
        try:
            fields = next(csv.reader([line.decode("utf-8").rstrip("\r\n")]))
            return _normal(fields[self.column])
        except (UnicodeDecodeError, csv.Error, StopIteration, IndexError):
            raise CannotStream(_BAD_LINE.format(path=self.path, at=at)) from None

    def first_at_least(self, key: str, lo: int) -> int:
        """The start of the first line at or after ``lo`` (a line start) whose person_id is at
        least ``key`` (the end of the file when there is none), by binary search."""
        hi = self.size
        while hi - lo > _WINDOW:
            mid = (lo + hi) // 2
            start, pid = self.line_at(mid)
            if start >= hi or pid is None:
                break
            if pid < key:
                lo = self.line_at(start + 1)[0]  # (the answer starts after this line)
            else:
                hi = start
        return self._scan(key, lo, hi)

    def _scan(self, key: str, lo: int, hi: int) -> int:
        """The first line start in ``[lo, hi)`` with a person_id at least ``key`` (else ``hi``),
        reading the lines between in one go."""
        if hi <= lo:
            return hi
        self.f.seek(lo)
        lines = self.f.read(hi - lo).split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        try:
            rows = csv.reader([line.decode("utf-8").rstrip("\r") for line in lines])
            raw = [fields[self.column] for fields in rows]
        except (UnicodeDecodeError, csv.Error, IndexError):
            raise CannotStream(_BAD_LINE.format(path=self.path, at=lo)) from None
        pa, pc = C.pa, C.pc
        ids = _normal_ids(A.array(raw, pa.string()))
        at_least = np.flatnonzero(C._np(pc.greater_equal(ids, A.scalar(key, ids.type))))
        if not at_least.size:
            return hi
        k = int(at_least[0])
        return lo + sum(len(line) + 1 for line in lines[:k])

    def first_after(self, key: str, lo: int) -> int:
        """The start of the first line at or after ``lo`` whose person_id is more than ``key``."""
        pos = lo
        while True:
            start, pid = self.line_at(pos)
            if pid is None or pid > key:
                return start
            pos = start + 1

    def span(self, stop: int) -> Span:
        """The span from where the last one ended to ``stop``, its lines counted."""
        start, lines = self.counted_to, 0
        self.f.seek(start)
        left = stop - start
        view = memoryview(self.buffer)
        last = b""
        cr = crlf = 0
        while left > 0:
            got = self.f.readinto(view[:min(left, _BLOCK)])
            if not got:
                break
            lines += int(np.count_nonzero(np.frombuffer(self.buffer, np.uint8, got) == 10))
            c = self.buffer.count(b"\r", 0, got) if self.buffer.find(b"\r", 0, got) >= 0 else 0
            if c or last == b"\r":
                cr += c
                crlf += self.buffer.count(b"\r\n", 0, got) + (1 if last == b"\r" and self.buffer[0] == 10 else 0)
            last = bytes(self.buffer[got - 1:got])
            left -= got
        if cr != crlf:
            raise CannotStream(f"{self.path}: a bare CR line end")
        if stop == self.size and stop > start and last != b"\n":
            lines += 1  # (a last line with no line end)
        out = Span(start, stop, self.row, lines)
        self.counted_to, self.row = stop, self.row + lines
        return out


def plan_csv(paths: Sequence[Path | None], target: int) -> Iterator[Chunk]:
    """The chunks of a CSV input sorted by person_id, about ``target`` bytes of input each.

    Raises :class:`CannotStream` (as soon as it is seen, or from :func:`read_chunk` later)
    when the files are not in person_id order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "r.csv").write_text("person_id,x\\n" + "".join(f"P{i},1\\n" for i in range(10, 40)))
    >>> _ = (d / "s.csv").write_text("person_id,y\\n" + "".join(f"P{i},2\\nP{i},3\\n" for i in range(10, 40)))
    >>> chunks = list(plan_csv([d / "r.csv", d / "s.csv", None], 200))
    >>> [(c.low, c.high) for c in chunks][:2], chunks[-1].high
    ([(None, 'P22'), ('P22', 'P34')], None)
    >>> sum(c.spans[1].lines for c in chunks), chunks[1].spans[1].first_row  # every line, once
    (60, 26)
    """
    files = [None if p is None else _File(p) for p in paths]
    try:
        ref = files[0]
        assert ref is not None
        for f in files:
            if f is not None:
                f.probe()
        total = sum(f.size for f in files if f is not None)
        largest = max(_LARGEST_SHARE * target, _LARGEST_SPAN)
        step = max(int(ref.size * target / max(total, 1)), 1)
        cuts = [f.data_start if f is not None else 0 for f in files]
        low: str | None = None
        index = 0
        while True:
            at = cuts[0]
            start, key = ref.line_at(at + step)
            if key is not None:
                cut = ref.first_at_least(key, at)
                if cut <= at:  # one person's rows fill the step: cut after them
                    cut = ref.first_after(key, start)
                    key = ref.line_at(cut)[1]
            if key is None:  # the last chunk: everything left in every file
                spans = _spans(files, [f.size if f is not None else 0 for f in files])
                _check_size(spans, largest, paths)
                yield Chunk(index, spans, low, None)
                return
            if low is not None and key <= low:
                raise CannotStream(_OUT_OF_ORDER.format(path=ref.path, what=f"{key!r} after {low!r}"))
            new = [cut]
            for f, c in zip(files[1:], cuts[1:]):
                new.append(0 if f is None else f.first_at_least(key, c))
            spans = _spans(files, new)
            _check_size(spans, largest, paths)
            yield Chunk(index, spans, low, key)
            cuts, low, index = new, key, index + 1
    finally:
        for f in files:
            if f is not None:
                f.close()


def _check_size(spans: Sequence[Span | None], largest: int, paths: Sequence[Path | None]) -> None:
    """Refuse a chunk far larger than planned (rows out of order, or many rows of people who
    were not referred between two who were): spilling keeps the memory flat instead."""
    for span, path in zip(spans, paths):
        if span is not None and span.stop - span.start > largest:
            raise CannotStream(_TOO_LARGE.format(path=path, size=span.stop - span.start))


def _spans(files: Sequence[_File | None], stops: Sequence[int]) -> tuple[Span | None, Span | None, Span | None]:
    out = tuple(None if f is None else f.span(s) for f, s in zip(files, stops))
    return out  # type: ignore[return-value]


#: Files (by path) in which some date would not parse as one: read as text from then on.
_UNTYPED: set[str] = set()


def _parse(path: Path, header: list[str], span: Span, dates: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The columns of one span (text trimmed, as every reader does).

    The columns named in ``dates`` are parsed as ``date32`` where every value of the span is a
    well-formed date (Arrow's parser takes exactly the ``YYYY-MM-DD`` dates the text rule
    takes, with the same surrounding whitespace): one pass, and no text to parse again. Where
    one is not, the span is parsed again as text, as is the rest of that file.
    """
    pa = C.pa
    import pyarrow.csv as pacsv

    if span.stop <= span.start:
        return {name: A.array([], pa.string()) for name in header}
    with open(path, "rb") as f:
        f.seek(span.start)
        data = f.read(span.stop - span.start)

    def refuse(row: Any) -> str:
        return "error"

    # Arrow's UTF-8 check is a third of the parse; text that is all ASCII is valid UTF-8 already
    # (numpy's max, unlike bytes.isascii, lets the other thread run while it reads the bytes).
    all_ascii = len(data) > 0 and int(np.frombuffer(data, np.uint8).max()) < 0x80

    def read(typed: frozenset[str]) -> Any:
        return pacsv.read_csv(
            pa.BufferReader(data),  # (Arrow reads the bytes where they are, without a Python file)
            read_options=pacsv.ReadOptions(column_names=header, use_threads=False, block_size=max(len(data), 1 << 20)),
            parse_options=pacsv.ParseOptions(invalid_row_handler=refuse),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.date32() if h in typed else pa.string() for h in header}, null_values=[""],
                strings_can_be_null=False, quoted_strings_can_be_null=False, check_utf8=not all_ascii))

    typed = frozenset() if str(path) in _UNTYPED else dates.intersection(header)
    try:
        try:
            table = read(typed)
        except pa.ArrowInvalid:
            if not typed:
                raise
            _UNTYPED.add(str(path))
            table = read(frozenset())
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise CannotStream(str(exc).splitlines()[0]) from None
    if table.num_rows != span.lines:
        raise CannotStream(_NOT_LINES.format(path=path, lines=span.lines, row=span.first_row, records=table.num_rows))
    return {name: C.strip(C.flat(table.column(name))) for name in table.column_names}


def _check_keys(cols: dict[str, Any], chunk: Chunk, path: Path) -> None:
    pc = C.pc
    ids = cols["person_id"]
    if not len(ids):
        return
    # (trailing NULs are ignored, as the readers ignore them; most files have none to trim)
    ends = C.bounds(pc.utf8_rtrim(ids, characters="\x00") if C.has_nul(ids) else ids)
    assert ends is not None
    lo, hi = ends
    if (chunk.low is not None and lo < chunk.low) or (chunk.high is not None and hi >= chunk.high):
        raise CannotStream(_OUT_OF_ORDER.format(path=path, what=f"chunk {chunk.index}"))


@dataclass(frozen=True)
class ReadChunk:
    """The parsed tables of one chunk: text columns and file rows, per table."""

    chunk: Chunk
    tables: tuple[tuple[dict[str, Any], np.ndarray] | None, ...]


def read_chunk(paths: Sequence[str], headers: Sequence[list[str] | None], chunk: Chunk) -> ReadChunk:
    """Parse a chunk's spans and check that they hold whole people of the chunk (a table with
    no header is Parquet: its spans are ranges of records)."""
    tables: list[tuple[dict[str, Any], np.ndarray] | None] = []
    for path, header, span, dates, ids in zip(paths, headers, chunk.spans, DATE_COLUMNS, chunk.ids or (None,) * 3):
        if span is None:
            tables.append(None)
            continue
        cols = _read_records(Path(path), span, ids) if header is None else _parse(Path(path), header, span, dates)
        _check_keys(cols, chunk, Path(path))
        tables.append((cols, np.arange(span.first_row, span.first_row + span.lines, dtype=np.int64)))
    return ReadChunk(chunk, tuple(tables))


def build_chunk(read: ReadChunk, sources: Sequence[str]) -> ReadResult:
    """The first half of the kernel over one parsed chunk: its tables validated and built."""
    ref, san, cus = read.tables
    assert ref is not None
    return build_partition(ref[0], ref[1], None if san is None else san[0], None if san is None else san[1],
                           None if cus is None else cus[0], None if cus is None else cus[1], sources=sources)


def score_chunk(read: ReadChunk, sources: Sequence[str], scorer: str | Path | Scorer, fmt: str, top: int,
                work_dir: str | None = None) -> PartitionOutput:
    """The kernel over one parsed chunk."""
    return render_partition(build_chunk(read, sources), scorer, fmt, top, work_dir)


def read_and_score(paths: Sequence[str], headers: Sequence[list[str] | None], chunk: Chunk,
                   scorer: str | Path | Scorer, fmt: str, top: int, work_dir: str | None) -> PartitionOutput:
    """What a worker process runs for one chunk: parse it, then score it."""
    read = _read_in_turn(paths, headers, chunk, None)
    out = score_chunk(read, paths, scorer, fmt, top, work_dir)
    del read
    release_memory()
    return out


def _read_in_turn(paths: Sequence[str], headers: Sequence[list[str] | None], chunk: Chunk,
                  turns: _Turns | None) -> ReadChunk:
    """:func:`read_chunk` (in the chunk's turn, when ``turns`` orders the reads); an input that
    cannot be read (a worker that cannot see it, a disk gone) becomes :class:`CannotStream`,
    so the spilling driver says why."""
    try:
        with turns.turn(chunk.index) if turns is not None else contextlib.nullcontext():
            return read_chunk(paths, headers, chunk)
    except OSError as exc:
        raise CannotStream(str(exc)) from None


class _Turns:
    """Chunk order for the Parquet reads of the threads that score the chunks: each file is
    read on from where the last chunk stopped (:func:`_records_of_group`), so chunk ``i`` is
    read only once chunk ``i - 1`` has been; the rest of the kernel runs side by side."""

    def __init__(self) -> None:
        self._next = 0
        self._closed = False
        self._ready = threading.Condition()

    @contextlib.contextmanager
    def turn(self, index: int) -> Iterator[None]:
        with self._ready:
            self._ready.wait_for(lambda: self._closed or self._next >= index)
            if self._closed:
                raise CannotStream("the run was stopped")
        try:
            yield
        finally:
            with self._ready:  # (after a failed read too: the run then stops at that chunk)
                self._next = max(self._next, index + 1)
                self._ready.notify_all()

    def close(self) -> None:
        """Release every thread still waiting for its turn (the run is stopping)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()


def read_and_score_in_turn(paths: Sequence[str], headers: Sequence[list[str] | None], chunk: Chunk,
                           scorer: str | Path | Scorer, fmt: str, top: int, work_dir: str | None,
                           turns: _Turns | None) -> PartitionOutput:
    """What a scoring thread does for one chunk: parse it (a Parquet chunk in its turn), then
    score and render it."""
    return score_chunk(_read_in_turn(paths, headers, chunk, turns), paths, scorer, fmt, top, work_dir)


#: Chunks planned ahead of the one being handed out (see :class:`_Ahead`).
_PLANNED_AHEAD: Final = 4


class _Ahead:
    """The chunks of a planner, planned in a thread a few ahead of their use: its reads,
    binary searches and line counts (or Parquet person_id columns) then overlap the scoring
    instead of coming between chunks. The planner's errors are raised where the next chunk is
    asked for, as the planner itself would raise them."""

    def __init__(self, chunks: Iterator[Chunk], depth: int) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._plan, args=(chunks,), name="iomscore-plan", daemon=True)
        self._thread.start()

    def _plan(self, chunks: Iterator[Chunk]) -> None:
        last: tuple[str, Any] = ("error", CannotStream(_PLANNER_STOPPED))  # (never a silent end)
        try:
            for chunk in chunks:
                if not self._put(("chunk", chunk)):
                    return
            last = ("end", None)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            last = ("error", exc)
        finally:
            self._put(last)

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> _Ahead:
        return self

    def __next__(self) -> Chunk:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == "chunk":
            return value
        self._done = True
        if kind == "error":
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop planning (a run that ends early) and wait for the thread."""
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class Written:
    """What :func:`write_grouped` wrote: each chunk's rejects and counts (a
    :class:`PartitionOutput` without its rows or body), the rows written, and the sha256 of a
    text output (``None`` for Parquet)."""

    outputs: list[PartitionOutput]
    rows: int
    sha256: str | None


class _Writer:
    """Writes chunk outputs in order: the bytes the merging driver writes for the same rows."""

    def __init__(self, f: BinaryIO, fmt: str) -> None:
        self.f = f
        self.fmt = fmt
        self.pending: list[PartitionOutput] = []  # outputs before the first scored one
        self.started = False
        self.rows = 0
        self.parquet: Any = None
        self.held: list[Any] = []
        self.held_rows = 0
        # (a text output is hashed as it is written, not read back at the end)
        self.sha256 = None if fmt == "parquet" else hashlib.sha256()

    def _write(self, data: bytes) -> None:
        self.f.write(data)
        assert self.sha256 is not None
        self.sha256.update(data)

    def add(self, out: PartitionOutput) -> None:
        if not self.started:
            if not out.rows.size:
                self.pending.append(out)
                return
            self.started = True
            self._start(out)
        self.rows += int(out.rows.size)
        if self.fmt == "parquet":
            if out.rows.size:
                self.held.append(out.body)
                self.held_rows += int(out.rows.size)
                while self.held_rows >= MERGE_ROWS:
                    self._flush(MERGE_ROWS)
        elif out.rows.size:
            self._write(out.body)

    def _start(self, first: PartitionOutput) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            self.parquet = pq.ParquetWriter(self.f, first.body.schema)
        else:
            self._write(first.header)

    def _flush(self, n: int) -> None:
        pa = C.pa
        table = pa.concat_tables(self.held) if len(self.held) > 1 else self.held[0]
        block, rest = table.slice(0, n), table.slice(n)
        self.parquet.write_table(block.combine_chunks(), row_group_size=MERGE_ROWS)
        self.held = [rest] if rest.num_rows else []
        self.held_rows -= n

    def abandon(self) -> None:
        """Let go of a Parquet writer on a run that failed (the file is discarded)."""
        if self.parquet is not None:
            with contextlib.suppress(Exception):
                self.parquet.close()
            self.parquet = None

    def close(self) -> None:
        if not self.started:  # nothing scored: the header of the last (empty) output
            last = self.pending[-1] if self.pending else None
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                assert last is not None
                self.parquet = pq.ParquetWriter(self.f, last.body.schema)
                self.parquet.write_table(last.body.schema.empty_table())
            elif last is not None:
                self._write(last.header)
        elif self.fmt == "parquet" and self.held_rows:
            self._flush(self.held_rows)
        if self.parquet is not None:
            self.parquet.close()


class _ParquetIds:
    """The person_ids of one Parquet table, read column-only in order and checked to be sorted:
    where each key's rows start. With ``keep``, the ids from the last cut on are held (as the
    reader gives them: trimmed, nulls as ``""``) for :meth:`take`."""

    def __init__(self, path: Path, keep: bool = False) -> None:
        from ._parquet import open_batches

        self.path = path
        try:
            pf = open_batches(path)
            if "person_id" not in pf.schema_arrow.names:
                raise CannotStream("no person_id column")
            self.rows = pf.metadata.num_rows
            self.batches = pf.iter_batches(batch_size=1 << 18, columns=["person_id"], use_threads=False)
        except (C.pa.ArrowException, OSError) as exc:
            raise CannotStream(str(exc)) from None
        self.ids: Any = None  # the batch held, and the row of its first id
        self.first = 0
        self.last: str | None = None
        # (the first row and reader's ids of each batch from the last cut on; None: not kept)
        self.held: list[tuple[int, Any]] | None = [] if keep else None

    def _pull(self) -> bool:
        pa, pc = C.pa, C.pc
        try:
            batch = next(self.batches)
        except StopIteration:
            return False
        except (pa.ArrowException, OSError) as exc:
            raise CannotStream(str(exc)) from None
        col = batch.column(0)
        text = C.is_text_type(col.type)
        if not text:
            self.held = None  # (not text: the reader decodes and converts it itself)
            try:
                col = pc.cast(col, pa.string())
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                raise CannotStream("person_id is not text") from None
        trimmed = C.strip(A.fill_null(col, "") if col.null_count else col)  # (as the reader's)
        ids = _without_nuls(trimmed)
        n = len(ids)
        if not C.ascending(ids):
            raise CannotStream(_OUT_OF_ORDER.format(path=self.path, what=f"rows after {self.first}"))
        if n and self.last is not None and ids[0].as_py() < self.last:
            raise CannotStream(_OUT_OF_ORDER.format(path=self.path, what=f"row {self.first + 1}"))
        if self.ids is not None:
            self.first += len(self.ids)
        if n:
            self.last = ids[n - 1].as_py()
        self.ids = ids
        if self.held is not None:
            self.held.append((self.first, trimmed))
        return True

    def first_at_least(self, key: str) -> int:
        """The row (from 0) of the first id at least ``key`` (the row count when none is);
        keys must come in increasing order."""
        while self.ids is None or self.last is None or self.last < key:
            if not self._pull():
                return self.rows
        # (the batch held is sorted, checked as it was read: a binary search, not a pass)
        return self.first + bisect.bisect_left(self.ids, key, key=lambda v: v.as_py())

    def id_at(self, row: int) -> str | None:
        """The id of ``row`` (rows at or after the batch held; ``None`` past the end)."""
        while self.ids is None or row >= self.first + len(self.ids):
            if not self._pull():
                return None
        return str(self.ids[row - self.first].as_py())

    def take(self, start: int, stop: int) -> Any:
        """The reader's person_ids of rows ``[start, stop)``, the next cut (``None`` when the
        column is not text, or ids are not kept); the ids before ``stop`` are let go."""
        while self.held is not None and (self.ids is None or self.first + len(self.ids) < stop) and self._pull():
            pass
        if self.held is None:
            return None
        parts = []
        for first, ids in self.held:
            lo, hi = max(start, first), min(stop, first + len(ids))
            if lo < hi:
                parts.append(ids.slice(lo - first, hi - lo))
        self.held = [(first, ids) for first, ids in self.held if first + len(ids) > stop]
        if self.ids is None:  # (a table with no records: nothing was read, nothing to give)
            return None
        taken = C.pa.chunked_array(parts, type=self.ids.type)
        if len(taken) != stop - start:
            raise CannotStream(f"{self.path}: {len(taken)} person_ids where {stop - start} were planned")
        return taken


def plan_parquet(paths: Sequence[Path | None], rows: int, *, with_ids: bool = False) -> Iterator[Chunk]:
    """The chunks of a Parquet input sorted by person_id, about ``rows`` referrals each. A
    span is a range of records here (``start``/``stop`` count records from 0; the first record
    is row 1), found from the person_id columns alone. With ``with_ids`` each chunk carries
    those columns over its spans (:attr:`Chunk.ids`), for a reader in this process."""
    tables = [None if p is None else _ParquetIds(p, keep=with_ids) for p in paths]
    ref = tables[0]
    assert ref is not None
    cuts = [0, 0, 0]
    low: str | None = None
    index = 0
    while True:
        at = cuts[0] + rows
        key = ref.id_at(at)
        if key is not None and ref.first_at_least(key) <= cuts[0]:  # one person fills the chunk
            while (key := ref.id_at(at)) is not None and ref.first_at_least(key) <= cuts[0]:
                at += 1
        if key is None:
            new = [0 if t is None else t.rows for t in tables]
        else:
            new = [0 if t is None else t.first_at_least(key) for t in tables]
        spans = tuple(None if t is None else Span(c, e, c + 1, e - c) for t, c, e in zip(tables, cuts, new))
        for t, span in zip(tables, spans):  # (records per referral times the chunk's referrals)
            if t is not None and span is not None:
                _check_size([span], max(_LARGEST_SHARE * rows * max(t.rows, 1) // max(ref.rows, 1),
                                        _LARGEST_SPAN // 64), [t.path])
        ids = tuple(None if t is None else t.take(c, e) for t, c, e in zip(tables, cuts, new)) if with_ids else None
        yield Chunk(index, spans, low, key, ids)  # type: ignore[arg-type]
        if key is None:
            return
        cuts, low, index = new, key, index + 1


#: Where each process last read each Parquet file: (row group, its batches from there, the
#: record the next batch starts at, the rest of the last batch). Consecutive chunks share row
#: groups (one can hold a million records); reading on from here decodes each record once, in
#: batches, instead of a whole row group per chunk.
_READERS: dict[str, tuple[int, Iterator[Any], int, Any]] = {}
#: Parquet files opened by this process's chunk reads, by :func:`_file_key` (a footer read
#: once, not once a chunk); a read takes its file out while it reads (see :func:`_opened`).
_FILES: dict[str, Any] = {}
_READERS_LOCK = threading.Lock()
_NO_ROWS: Final = np.zeros(0, np.int64)
#: Records decoded at a time from a Parquet row group (what a reader holds between chunks).
_BATCH_ROWS: Final = 1 << 14
#: Threads running the kernel over consecutive chunks in one process (this thread writes).
#: Arrow's readers and kernels and numpy's loops release the interpreter lock, the rest of the
#: kernel holds it: two threads took a 1M-referral Parquet run about 1.25x faster than one.
_THREADS: Final = 2


def _file_key(path: Path) -> str:
    st = os.stat(path)  # (a file replaced since is another file)
    return f"{path}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}"


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """:func:`~._parquet.open_batches` of ``path`` with the coded columns, kept for the next
    chunk. A read has the file to itself (the threads of a Dask worker read side by side, and
    a reader's options are set on it as it reads): one reading at the same time opens its own."""
    from ._parquet import CODED_COLUMNS, open_batches

    key = _file_key(path)
    with _READERS_LOCK:
        pf = _FILES.pop(key, None)
    if pf is None:
        pf = open_batches(path, CODED_COLUMNS)
    yield pf
    with _READERS_LOCK:
        if len(_FILES) >= 64:  # (a long-lived worker process reads many runs' files)
            _FILES.clear()
        _FILES.setdefault(key, pf)


def _records_of_group(pf: Any, path: Path, g: int, lo: int, hi: int, columns: list[str] | None) -> list[Any]:
    """Records ``[lo, hi)`` of row group ``g`` (numbered within the group) as record batches
    (of ``columns``; ``None``: all)."""
    key = f"{_file_key(path)}\0{columns}"
    with _READERS_LOCK:
        held = _READERS.pop(key, None)
    if held is None or held[0] != g or held[2] > lo:
        held = (g, iter(pf.iter_batches(batch_size=_BATCH_ROWS, row_groups=[g], columns=columns, use_threads=False)),
                0, None)
    _, batches, at, rest = held
    out = []
    while at < hi:
        batch = rest if rest is not None else next(batches, None)
        rest = None
        if batch is None:
            break
        n = batch.num_rows
        if at + n > lo:
            out.append(batch.slice(max(lo - at, 0), min(hi, at + n) - max(lo, at)))
        if at + n > hi:
            rest, n = batch.slice(hi - at), hi - at
        at += n
    with _READERS_LOCK:
        _READERS[key] = (g, batches, at, rest)
    return out


def _read_records(path: Path, span: Span, ids: Any = None) -> dict[str, Any]:
    """The columns of records ``[start, stop)`` of a Parquet file (from the row groups
    that hold them); its person_id column ``ids`` when the planner gives it (not read again)."""
    pa = C.pa
    from ._parquet import arrow_columns

    try:
        with _opened(path) as pf:
            if span.stop <= span.start:
                return arrow_columns(pf.schema_arrow.empty_table(), path)
            names = pf.schema_arrow.names
            columns = [c for c in names if c != "person_id"] if ids is not None and "person_id" in names else None
            sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups)]
            starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            g0 = int(np.searchsorted(starts, span.start, side="right")) - 1
            g1 = int(np.searchsorted(starts, span.stop - 1, side="right")) - 1
            batches = []
            for g in range(g0, g1 + 1):
                lo = max(span.start, int(starts[g])) - int(starts[g])
                hi = min(span.stop, int(starts[g + 1])) - int(starts[g])
                batches += _records_of_group(pf, path, g, lo, hi, columns)
            schema = pf.schema_arrow if columns is None else pa.schema([pf.schema_arrow.field(c) for c in columns])
            # (one array a column, as Arrow allows: the column parsers' work per Arrow chunk, a
            # batch of _BATCH_ROWS records, was a fifth of building a chunk; concatenating costs
            # far less)
            table = pa.Table.from_batches(batches, schema=schema).combine_chunks()
            if table.num_rows != span.lines:
                raise CannotStream(f"{path}: {table.num_rows} records where {span.lines} were counted")
            if columns is not None and len(ids) != span.lines:
                raise CannotStream(f"{path}: {len(ids)} planned person_ids where {span.lines} records were counted")
            cols = arrow_columns(table, path)
            return cols if columns is None else {c: ids if c == "person_id" else cols[c] for c in names}
    except (ValueError, pa.ArrowException) as exc:  # (the whole-file reader says what is wrong)
        raise CannotStream(str(exc)) from None


def write_grouped(
    paths: Sequence[Path | None],
    output: Path,
    fmt: str,
    scorer: str | Path | Scorer,
    top: int,
    target: int,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    work_dir: str | None = None,
    progress: Progress | None = None,
    input_format: str = "csv",
) -> Written:
    """Score a CSV or Parquet input sorted by person_id chunk by chunk, writing ``output`` as the chunks
    finish, in order.

    With one worker, two threads each run the whole kernel over a chunk (parse, validate,
    score, render) while this thread writes the chunks before them (the parsers and Arrow's
    and numpy's kernels release the interpreter lock); a Parquet chunk is read only after the
    one before it (each file is read on from where the last chunk stopped). With more workers,
    or an ``executor``, worker processes parse and score whole chunks, reading their byte
    ranges (Parquet: record ranges) themselves.
    ``target`` is the input bytes of a chunk (for Parquet, as CSV text would be). Raises
    :class:`CannotStream` when the input is not sorted by person_id (the caller falls back to
    the spilling driver). Progress is the one stage
    ``"streaming"``: input bytes whose chunks are read, scored and written.
    """
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
    from multiprocessing import get_context

    from ._atomic import atomic_open

    files = [str(p) if p is not None else "" for p in paths]
    parquet = input_format == "parquet"
    threads = workers == 1 and executor is None  # (the kernel in threads of this process)
    headers = [None if p is None or parquet else _csv_header(p) for p in paths]
    total = sum(p.stat().st_size for p in paths if p is not None)
    chunks: Iterator[Chunk]
    if parquet:
        import pyarrow.parquet as pq

        assert paths[0] is not None
        n_ref = max(pq.ParquetFile(str(paths[0])).metadata.num_rows, 1)
        chunk_rows = max(1, int(n_ref * target / max(text_volume(paths), 1)))
        # (a reader in this process takes the planner's person_ids; worker processes read theirs)
        chunks = plan_parquet(paths, chunk_rows, with_ids=threads)
    else:
        n_ref = 0
        chunks = plan_csv(paths, target)
    ahead = _Ahead(chunks, _PLANNED_AHEAD)
    done_bytes = 0
    results: list[PartitionOutput] = []
    own: Executor | None = None
    if executor is None:
        own = executor = (ThreadPoolExecutor(max_workers=_THREADS) if workers == 1 else
                          ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")))
    turns = _Turns() if threads and parquet else None
    window = _THREADS + 1 if threads else 2 * max(workers, 2)
    queue: deque[tuple[int, Future[Any]]] = deque()
    try:
        with atomic_open(output, "wb") as f:
            writer = _Writer(f, fmt)

            def finish() -> None:
                nonlocal done_bytes
                weight, future = queue.popleft()
                out = future.result()
                writer.add(out)
                if parquet:
                    release_memory()  # (the planner's person_id batches, the chunks written)
                # (no rows kept: memory must not grow with the list; the writer counts them)
                results.append(PartitionOutput(_NO_ROWS, out.header, b"", _NO_ROWS, out.rejects, out.counts,
                                               out.model))
                done_bytes = min(done_bytes + weight, total)
                if progress is not None:
                    progress("streaming", done_bytes, total)

            if progress is not None:
                progress("streaming", 0, total)
            try:
                for chunk in ahead:
                    weight = _weight(chunk, total, n_ref) if parquet else _span_bytes(chunk)
                    if threads:
                        queue.append((weight, executor.submit(read_and_score_in_turn, files, headers, chunk, scorer,
                                                              fmt, top, work_dir, turns)))
                    else:
                        queue.append((weight, executor.submit(read_and_score, files, headers, chunk, scorer, fmt,
                                                              top, work_dir)))
                    while len(queue) >= window:
                        finish()
                while queue:
                    finish()
            except BaseException:
                writer.abandon()
                raise
            writer.close()
            if progress is not None:
                progress("streaming", total, total)  # (with the header lines)
    except BaseException:
        for _, future in queue:
            future.cancel()
        raise
    finally:
        if turns is not None:
            turns.close()
        ahead.close()
        if own is not None:
            own.shutdown(cancel_futures=True)
        with _READERS_LOCK:
            _READERS.clear()
            _FILES.clear()
        _UNTYPED.clear()
    return Written(results, writer.rows, None if writer.sha256 is None else writer.sha256.hexdigest())


def _span_bytes(chunk: Chunk) -> int:
    return sum(s.stop - s.start for s in chunk.spans if s is not None)


def _weight(chunk: Chunk, total: int, n_ref: int) -> int:
    """A Parquet chunk's share of the input bytes (by its share of the referrals)."""
    ref = chunk.spans[0]
    return 0 if ref is None else int(total * ref.lines / max(n_ref, 1))
