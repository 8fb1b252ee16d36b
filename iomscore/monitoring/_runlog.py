"""The run log: an append-only, hash-chained record of every run that scores, selects or renders.

Each record is one JSON Lines line (format :data:`RUN_LOG_FORMAT`) with the time, the iomscore
version, the command and its options, the sha256 and row counts of each input, the scorer and
policy identities, the sha256 of each output, and the counts read / scored / rejected / selected.
Lines are chained by ``prev_sha256`` exactly as the decision log is (:mod:`iomscore._chain`), and
each record carries its own sha256 (``record_sha256``), so :meth:`RunLog.records` detects a record
edited (the last one included), deleted, reordered or appended outside the chain. What no chain
can see is the *last* record removed, or the whole file rewritten with every hash recomputed:
keep the last record's sha256 (``iomscore runs`` prints it) somewhere else, such as the minutes.

Retention (:meth:`RunLog.prune`) removes the records before a date and writes a checkpoint
first: the number of records removed, the sha256 of each (no content), the cut-off and the hash
the first kept record chains to. The kept records are unchanged, so the log still verifies and
an archived copy of the removed records can still be matched against their hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .._chain import CHECKPOINT_FORMAT, SEAL, append, dumps, line_hash, prune, seal, sealed, walk
from .._errors import IomscoreError

__all__ = ["RUN_LOG_FORMAT", "RunLog", "RunLogError", "RunRecord", "file_sha256"]

#: ``format`` of every run record.
RUN_LOG_FORMAT: Final = "iomscore.run-log/1"
RETENTION_REASON: Final = (
    "records before {before} removed under the retention rule; their sha256 are kept (no content) "
    "so an archived copy can still be checked, and the first kept record chains to resumes_after"
)

_BAD_LINE: Final = "run log {path}, line {line}: {error}"
_BROKEN_CHAIN: Final = (
    "run log {path}, line {line}: prev_sha256 does not match the record before it; the log was "
    "edited, a record deleted or reordered, or a record appended outside the chain"
)
_EDITED: Final = (
    "run log {path}, line {line}: {field} does not match the record; the record was edited after it was written"
)
_NOT_JSON: Final = "not a JSON object"
_WRONG_FORMAT: Final = "format is {found!r}, not {expected!r}"
_LATE_CHECKPOINT: Final = "a retention checkpoint may only be the first line"
_NO_TIME: Final = "time {value!r} is not an ISO 8601 time with a zone"
_NAIVE_CUTOFF: Final = "the retention cut-off {value!r} needs a time zone (or give a date)"


class RunLogError(IomscoreError, ValueError):
    """A run log line is invalid, or the log was changed after it was written."""


@dataclass(frozen=True)
class RunRecord:
    """One verified line of a run log: its line number, its data and its sha256."""

    line: int
    data: dict[str, Any]
    sha256: str
    raw: bytes

    @property
    def is_checkpoint(self) -> bool:
        """True for the retention checkpoint :meth:`RunLog.prune` writes first."""
        return self.data.get("format") == CHECKPOINT_FORMAT

    @property
    def time(self) -> dt.datetime | None:
        """When the run happened (``None`` for a checkpoint)."""
        value = self.data.get("time")
        return None if value is None else dt.datetime.fromisoformat(value)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, read in blocks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _aware(value: Any) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(_NO_TIME.format(value=value)) from None
    if t.tzinfo is None:
        raise ValueError(_NO_TIME.format(value=value))
    return t


class RunLog:
    """An append-only, hash-chained JSON Lines log of runs.

    Parameters
    ----------
    path : str or Path
        The log file; created on the first :meth:`append`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> log = RunLog(pathlib.Path(tempfile.mkdtemp()) / "runs.jsonl")
    >>> _ = log.append({"time": "2025-06-01T10:00:00+00:00", "command": "select"})
    >>> _ = log.append({"time": "2025-07-01T10:00:00+00:00", "command": "panel"})
    >>> [r.data["command"] for r in log.records()]
    ['select', 'panel']
    >>> log.prune("2025-06-15")["removed"]
    1
    >>> [r.is_checkpoint for r in log.records()]
    [True, False]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append one run record (``format`` and ``prev_sha256`` are added) and return it.

        Raises
        ------
        RunLogError
            When the record has no ISO 8601 ``time`` with a zone.
        """
        try:
            _aware(record.get("time"))
        except ValueError as exc:
            raise RunLogError(str(exc)) from None
        base = {k: v for k, v in record.items() if k not in ("format", "prev_sha256", SEAL)}
        return append(self.path, lambda prev: seal({**base, "format": RUN_LOG_FORMAT, "prev_sha256": prev}), dumps)

    def records(self) -> tuple[RunRecord, ...]:
        """Every line, in file order, verified (each line and the hash chain).

        Raises
        ------
        RunLogError
            Naming the first line that is invalid or breaks the chain.
        """
        out: list[RunRecord] = []
        for number, raw, expected in walk(self.path, checkpoints=True):
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise RunLogError(_BAD_LINE.format(path=self.path, line=number, error=_NOT_JSON))
            fmt = data.get("format")
            if fmt == CHECKPOINT_FORMAT and out:
                raise RunLogError(_BAD_LINE.format(path=self.path, line=number, error=_LATE_CHECKPOINT))
            if fmt not in (RUN_LOG_FORMAT, CHECKPOINT_FORMAT):
                error = _WRONG_FORMAT.format(found=fmt, expected=RUN_LOG_FORMAT)
                raise RunLogError(_BAD_LINE.format(path=self.path, line=number, error=error))
            if data.get("prev_sha256") != expected:
                raise RunLogError(_BROKEN_CHAIN.format(path=self.path, line=number))
            if not sealed(data):
                raise RunLogError(_EDITED.format(path=self.path, line=number, field=SEAL))
            if fmt == RUN_LOG_FORMAT:
                try:
                    _aware(data.get("time"))
                except ValueError as exc:
                    raise RunLogError(_BAD_LINE.format(path=self.path, line=number, error=exc)) from None
            out.append(RunRecord(number, data, line_hash(raw), raw.rstrip(b"\n")))
        return tuple(out)

    def prune(self, before: dt.date | dt.datetime | str) -> dict[str, Any] | None:
        """Remove the records of runs before ``before``; return the checkpoint (``None``: none removed).

        ``before`` is a date (midnight UTC) or a time with a zone. Only a leading run of records
        is removed (a record out of time order stops the cut), so what is kept is one chain.
        The log is verified first.
        """
        cutoff = _cutoff(before)
        records = self.records()
        lines = [r.raw for r in records]
        drop = [r.is_checkpoint or (r.time is not None and r.time < cutoff) for r in records]
        if records and records[0].is_checkpoint and not (len(drop) > 1 and drop[1]):
            return None
        note = {"before": cutoff.isoformat(), "reason": RETENTION_REASON.format(before=cutoff.isoformat())}
        return prune(self.path, lines, drop, note=note)


def _cutoff(before: dt.date | dt.datetime | str) -> dt.datetime:
    if isinstance(before, str):
        text = before.strip()
        value: dt.date | dt.datetime = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    else:
        value = before
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise RunLogError(_NAIVE_CUTOFF.format(value=str(before)))
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
