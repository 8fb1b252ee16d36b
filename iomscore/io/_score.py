"""The batch job: read, score, write scores and rejects; the path the CLI and demo share."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..scoring._api import DEFAULT_SCORER
from ..scoring._protocol import Scorer
from ..scoring._registry import get_scorer
from ..scoring._result import ScoreBatch
from ._atomic import staged, write_text_atomic
from ._common import ReadResult
from ._csv import read_csv
from ._jsonl import read_jsonl
from ._parquet import read_parquet
from ._run import ScoreRun, score_read
from ._write import format_from_suffix, write_rejects, write_scores

__all__ = ["COUNTS_FORMAT", "ScoreRun", "counts_path", "read_referrals", "score_files", "score_read", "score_to_files",
           "sibling_tables", "write_counts"]

logger = logging.getLogger("iomscore.io")

_BAD_INPUT_FORMAT: Final = "cannot tell the format of {path}: use a .jsonl, .csv or .parquet name or pass format="
#: ``format`` of a counts file (:func:`write_counts`).
COUNTS_FORMAT: Final = "iomscore.counts/1"
_JSONL_WITH_TABLES: Final = "JSON Lines input holds sanctions inside each referral; do not pass a sanctions file"
_BAD_WORKERS: Final = "workers must be at least 1 (got {workers})"


def sibling_tables(path: str | os.PathLike[str]) -> tuple[Path | None, Path | None]:
    """The ``<stem>-sanctions<suffix>`` and ``<stem>-custody<suffix>`` files beside ``path``, if present.

    ``iomscore synth -o referrals.csv`` writes these names, and ``iomscore score`` finds
    them when ``--sanctions``/``--custody`` are not given.
    """
    p = Path(path)
    found = []
    for kind in ("sanctions", "custody"):
        candidate = p.with_name(f"{p.stem}-{kind}{p.suffix}")
        found.append(candidate if candidate.is_file() else None)
    return found[0], found[1]


def read_referrals(
    path: str | os.PathLike[str],
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
    *,
    format: str | None = None,
) -> ReadResult:
    """Read a referral list in any supported form (chosen by ``format`` or the file name).

    ``.jsonl``/``.ndjson``/``.json``: JSON Lines; ``.csv``: two-table CSV; ``.parquet``:
    two-table Parquet.
    """
    fmt = format or format_from_suffix(path, default="")
    if fmt == "jsonl":
        if sanctions is not None or custody is not None:
            raise ValueError(_JSONL_WITH_TABLES)
        return read_jsonl(path)
    if fmt == "csv":
        return read_csv(path, sanctions, custody)
    if fmt == "parquet":
        return read_parquet(path, sanctions, custody)
    raise ValueError(_BAD_INPUT_FORMAT.format(path=path))


def counts_path(output: str | os.PathLike[str]) -> Path:
    """The counts file beside a scores file: ``<stem>-counts.json``.

    Examples
    --------
    >>> counts_path("out/scores.csv").as_posix()
    'out/scores-counts.json'
    """
    p = Path(output)
    return p.with_name(f"{p.stem}-counts.json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_counts(path: str | os.PathLike[str], run: ScoreRun, files: dict[str, tuple[Path, Path]],
                 sha256: Mapping[str, str] | None = None) -> None:
    """Write the counts of a finished run and the sha256 of each file it wrote, as JSON.

    ``files`` maps a role (``"scores"``, ``"rejects"``) to ``(name written in the file,
    path to hash)``; ``sha256`` gives the digest of a role whose bytes were hashed as they
    were written (the file is not read again). A reader can tell a finished, current scores file: its counts file
    exists and the sha256 in it matches. ``iomscore score`` writes it last and removes the
    previous one when a run starts, so outputs of a run that failed never look current.
    """
    doc = {
        "format": COUNTS_FORMAT,
        "read": run.read,
        "scored": run.scored,
        "rejected": run.rejected,
        "orphan_rows": run.orphans,
        "files": {role: {"path": str(name), "sha256": (sha256 or {}).get(role) or _sha256(real)}
                  for role, (name, real) in files.items()},
    }
    write_text_atomic(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


def score_files(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
    scorer: str | Path | Scorer = DEFAULT_SCORER,
    rejects: str | os.PathLike[str] | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    top: int = 3,
) -> ScoreRun:
    """Read ``input`` whole, score it, write ``output`` (and ``rejects`` when given).

    The returned run holds every score (``run.scores``). For a list too large to hold in
    memory, :func:`score_to_files` writes the same bytes partition by partition.

    Examples
    --------
    >>> import tempfile, pathlib, iomscore
    >>> from iomscore.io import write_referrals_csv, score_files
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> from iomscore import synth
    >>> write_referrals_csv(synth.generate(50, seed=3), d / "r.csv", d / "r-sanctions.csv")
    >>> run = score_files(d / "r.csv", d / "scores.csv", sanctions=d / "r-sanctions.csv")
    >>> run.counts_line
    'read 50 = scored 50 + rejected 0'
    """
    result = read_referrals(input, sanctions, custody, format=input_format)
    run = score_read(result, scorer, chunk_size=chunk_size, progress=progress)
    with staged([output, rejects]) as (out, rej):  # both written, then both renamed
        assert out is not None
        write_scores(out, run.scores, format=output_format or format_from_suffix(output), top=top)  # type: ignore[arg-type]
        if rej is not None:
            write_rejects(rej, run.rejects, format=format_from_suffix(rejects or ""))
    return run


def _empty_scores(s: Scorer) -> ScoreBatch:
    return ScoreBatch(score=np.zeros(0), band=np.zeros(0, dtype=object), probabilities={}, part_names=(),
                      part_labels=(), part_values=np.zeros((0, 0)), part_reasons=(), model=s.identity,
                      person_id=np.zeros(0, dtype=object))


def _work_root(output: Path) -> str | None:
    """Where the spill directory goes: beside the output when that is a writable directory
    for files (not, say, ``/dev`` for ``/dev/stdout``), else ``TMPDIR``."""
    if output.exists() and not output.is_file():
        return None
    parent = output.resolve().parent
    return str(parent) if parent.is_dir() and os.access(parent, os.W_OK) and parent != Path("/dev") else None


def score_to_files(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
    scorer: str | Path | Scorer = DEFAULT_SCORER,
    rejects: str | os.PathLike[str] | None = None,
    counts: str | os.PathLike[str] | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    top: int = 3,
    workers: int = 1,
    executor: Executor | None = None,
    partitions: int | None = None,
    grouped: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> ScoreRun:
    """Read, score and write a referral list partition by partition, in flat memory.

    The same bytes whatever ``workers``, ``executor`` or ``partitions`` (see
    :mod:`iomscore.io._stream`): the scored rows in the order of the referrals file, the
    rejects (when ``rejects`` is given) and the counts file (when ``counts`` is given), all
    written and then renamed together.

    Parameters
    ----------
    workers : int
        Worker processes scoring partitions side by side (1: this process).
    executor : concurrent.futures.Executor, optional
        Where to run the partitions instead (for instance a Dask ``Client.get_executor()``);
        its workers must see the spill directory, made beside ``output``.
    partitions : int, optional
        How many partitions to make (default: one per 48 MB of input; inputs under 64 MB are
        read whole unless this is given).
    grouped : bool, default True
        For CSV or Parquet tables sorted by ``person_id`` (checked as they are read), read chunks of people
        straight from the files (:mod:`iomscore.io._grouped`) instead of spilling them by a hash
        of ``person_id`` first; an input found not to be sorted falls back to spilling. The
        output is the same either way; ``False`` always spills.
    progress : callable, optional
        ``progress(stage, done, total)`` for the stages ``"reading"`` (bytes), ``"scoring"``
        (partitions) and ``"writing"`` (rows).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from iomscore import synth
    >>> from iomscore.io import write_referrals_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_referrals_csv(synth.generate(40, seed=2), d / "r.csv", d / "r-sanctions.csv")
    >>> one = score_to_files(d / "r.csv", d / "a.csv", sanctions=d / "r-sanctions.csv", scorer="iom-priority")
    >>> four = score_to_files(d / "r.csv", d / "b.csv", sanctions=d / "r-sanctions.csv", scorer="iom-priority",
    ...                       partitions=4)
    >>> (d / "a.csv").read_bytes() == (d / "b.csv").read_bytes(), four.counts_line
    (True, 'read 40 = scored 40 + rejected 0')
    """
    from . import _columns as C
    from . import _grouped as G
    from . import _stream as S

    if workers < 1:
        raise ValueError(_BAD_WORKERS.format(workers=workers))
    output = Path(output)
    fmt_in = input_format or format_from_suffix(input, default="")
    fmt_out = output_format or format_from_suffix(output)
    s = get_scorer(scorer)
    spec: str | Path | Scorer = scorer if isinstance(scorer, str | Path) else s
    paths = [Path(input), None if sanctions is None else Path(sanctions), None if custody is None else Path(custody)]
    size = sum(p.stat().st_size for p in paths if p is not None and p.is_file())
    volume = S.text_volume(paths) if fmt_in == "parquet" and C.HAVE_ARROW else size  # (as CSV text would be)
    stream = fmt_in in ("csv", "parquet") and C.HAVE_ARROW and (partitions is not None or volume >= S.IN_MEMORY_BYTES)
    # (side by side, partitions half as large: the processes together stay within the same memory)
    target = S.PARTITION_BYTES if workers == 1 and executor is None else S.PARTITION_BYTES // 2
    n_parts = partitions or max(1, math.ceil(volume / target))
    with tempfile.TemporaryDirectory(prefix=".iomscore-spill-", dir=_work_root(output) if stream else None) as work, \
            staged([output, rejects, counts]) as (out, rej, cnt):  # all written, then all renamed
        assert out is not None
        outputs: list[S.PartitionOutput] | None = None
        scored: int | None = None
        known: dict[str, str] = {}
        if grouped and stream and out != output:
            try:  # inputs sorted by person_id: chunks straight from the files, written as they finish
                # (two chunks in flight per process: the one scored and the one read ahead; a Dask
                # worker also holds its finished results until the client fetches them: a third.
                # In one process the kernel's two threads take Parquet chunks twice as large:
                # the interpreter lock is held for less of their work, 1M 0.96x the time in 480
                # -> 650 MB; CSV chunks that large took 1.03x the time)
                single = workers == 1 and fmt_in == "parquet"
                per = (1 if single else 2 * workers) if executor is None else 3 * max(workers, 2)
                chunk = S.PARTITION_BYTES // per if partitions is None else max(1, math.ceil(volume / partitions))
                written = G.write_grouped(paths, out, fmt_out, spec, top, chunk, workers=workers,
                                          executor=executor, work_dir=work, progress=progress, input_format=fmt_in)
                outputs, scored = written.outputs, written.rows
                if written.sha256 is not None:
                    known["scores"] = written.sha256
            except S.CannotStream as exc:
                logger.info("not read in person_id order: %s", exc)
                outputs = None
        if outputs is None:
            outputs = _spilled_or_whole(paths, fmt_in, input_format, stream, n_parts, spec, s, fmt_out, top, work,
                                        workers, executor, size, progress)
            S.write_merged(out, outputs, fmt_out, progress)
        merged = S.StreamCounts()
        for o in outputs:
            merged.add(o.counts)
        all_rejects = S.merge_rejects(outputs)
        if scored is None:
            scored = sum(int(o.rows.size) for o in outputs)
        empty = read_csv_empty(str(input))
        empty.counts = merged.read
        read = merged.read.referral_rows
        run = ScoreRun(read=read, scored=scored, rejected=read - scored, scores=_empty_scores(s),
                       rejects=all_rejects, input=empty)
        files = {"scores": (output, out)}
        if rej is not None:
            assert rejects is not None
            write_rejects(rej, all_rejects, format=format_from_suffix(rejects))
            files["rejects"] = (Path(rejects), rej)
        if cnt is not None:
            write_counts(cnt, run, files, known)
    logger.info("%s", run.counts_line)
    return run


def _spilled_or_whole(paths: list[Path | None], fmt_in: str, input_format: str | None, stream: bool, n_parts: int,
                      spec: str | Path | Scorer, s: Scorer, fmt_out: str, top: int, work: str, workers: int,
                      executor: Executor | None, size: int,
                      progress: Callable[[str, int, int], None] | None) -> list[Any]:
    """The partitions' outputs: spilled by a hash of person_id, or (when the input cannot be
    read in record batches) read whole as one partition."""
    from . import _stream as S

    if stream:
        try:
            tables = S.spill(paths, fmt_in, Path(work), n_parts, progress)
            S.release_memory()  # (the spill's batches: this process only waits, then merges)
            return _run_partitions(tables, spec, fmt_out, top, work, workers, executor, progress)
        except S.CannotStream as exc:
            logger.info("reading the input whole: %s", exc)
    assert paths[0] is not None
    result = read_referrals(paths[0], paths[1], paths[2], format=input_format)
    if progress is not None:
        progress("reading", size, size)
    outputs = [S._render(result, s, fmt_out, top, Path(work))]
    if progress is not None:
        progress("scoring", 1, 1)
    return outputs


def read_csv_empty(source: str) -> ReadResult:
    """An empty read (no referrals) naming ``source``: the carrier of a partitioned run's counts."""
    from ._tables import build_table

    z = np.zeros(0, dtype=object)
    return build_table({"person_id": z, "assessment_date": z, "date_of_birth": z}, 0, source,
                       np.zeros(0, np.int64))


def _run_partitions(tables: Any, scorer: str | Path | Scorer, fmt: str, top: int, work: str, workers: int,
                    executor: Executor | None, progress: Callable[[str, int, int], None] | None) -> list[Any]:
    """The kernel over every spilled partition: here, in a process pool, or on ``executor``."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from functools import partial
    from multiprocessing import get_context

    from . import _stream as S

    n = tables.partitions
    task = partial(S.score_spilled, tables, scorer=scorer, fmt=fmt, top=top, out_dir=work)
    if progress is not None:
        progress("scoring", 0, n)
    if executor is None and workers == 1:
        outputs = []
        for p in range(n):
            outputs.append(task(p))
            if progress is not None:
                progress("scoring", p + 1, n)
        return outputs
    own = executor is None
    pool: Executor = executor if executor is not None else ProcessPoolExecutor(
        max_workers=min(workers, n), mp_context=get_context("forkserver"))
    try:
        futures = {pool.submit(task, p): p for p in range(n)}
        done: dict[int, Any] = {}
        for f in as_completed(futures):
            done[futures[f]] = f.result()
            if progress is not None:
                progress("scoring", len(done), n)
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
    return [done[p] for p in range(n)]
