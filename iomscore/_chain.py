"""Hash-chained JSON Lines: the one mechanism behind the decision log and the run log.

Each line of a chained file is one JSON object carrying ``prev_sha256``, the sha256 of the
line before it (of its bytes, without the newline; 64 zeros for the first line). Appending
takes an exclusive lock, reads the hash of the last line and writes one line in append mode,
then flushes and fsyncs; a file is never rewritten, except by :func:`prune`, which replaces it
atomically. :func:`walk` yields every line with the hash its ``prev_sha256`` must carry, so a
reader detects a line edited, removed, reordered or appended out of the chain.

:func:`prune` removes lines a retention rule no longer allows and puts a *checkpoint* first:
a line that records how many lines were removed, the sha256 of each (no content), the sha256
the first kept line chains to (``resumes_after``) and why. The kept lines are unchanged, so
their hashes, and any copy of them held elsewhere, still check.

A chain checks itself only up to its last line: whoever can write the file can edit the last
line, drop the last lines, empty it, append a line with a correct ``prev_sha256``, or rewrite
it whole with a recomputed chain. An :class:`Anchor` -- the number of records and the sha256
of the last one, kept *outside* the log (in a saved selection, in a command's output, in the
minutes) -- closes that gap: :func:`check_anchor` fails unless the log still holds, at that
position, the record the anchor names, and says how many records came after it. Pruned
records count (a checkpoint keeps their hashes), so an anchor survives retention.

:func:`append` copes with a file whose last line has no newline (it adds one first), so a
log edited by a tool that drops the final newline still forms one chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CHECKPOINT_FORMAT",
    "GENESIS",
    "SEAL",
    "Anchor",
    "AnchorError",
    "anchor",
    "append",
    "check_anchor",
    "checkpoint_expects",
    "dumps",
    "last_hash",
    "line_hash",
    "prune",
    "seal",
    "sealed",
    "walk",
]

#: ``prev_sha256`` of the first line of a chain.
GENESIS: Final = "0" * 64
#: ``format`` of the checkpoint line :func:`prune` writes first.
CHECKPOINT_FORMAT: Final = "iomscore.chain-checkpoint/1"
#: Field holding a record's own sha256 (:func:`seal`).
SEAL: Final = "record_sha256"

T = TypeVar("T")

_BAD_ANCHOR: Final = "anchor {text!r} is not RECORDS:SHA256 (e.g. 12:{example}) or a 64-digit sha256"
_ANCHOR_SHORT: Final = (
    "{path} holds {have} record(s) but the anchor was taken when it held {want}: records were removed "
    "from the end, or the log was emptied or replaced, after the anchor"
)
_ANCHOR_MISMATCH: Final = (
    "{path}: record {n}{where} has sha256 {actual}, but the anchor says {expected}: the log was edited or "
    "rewritten (its chain recomputed) up to there after the anchor"
)
_ANCHOR_NOT_FOUND: Final = (
    "{path}: no record has sha256 {expected} (the anchor): the log was edited or rewritten after the anchor, "
    "or it is not the log the anchor was taken from"
)


class AnchorError(ValueError):
    """A log does not hold the record its anchor names (see :func:`check_anchor`)."""


class Anchor(BaseModel):
    """Where a chained log stood: how many records it held and the sha256 of the last one.

    ``str(anchor)`` is ``RECORDS:SHA256``, the form :meth:`parse` reads and the command line
    prints. ``Anchor(records=0, head_sha256=GENESIS)`` is an empty log.

    Examples
    --------
    >>> a = Anchor.parse("3:" + "ab" * 32)
    >>> a.records, str(a) == "3:" + "ab" * 32
    (3, True)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    records: int | None = Field(ge=0, description="None: a bare sha256, at whatever position it is found")
    head_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    def __str__(self) -> str:
        return self.head_sha256 if self.records is None else f"{self.records}:{self.head_sha256}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """``RECORDS:SHA256``, or a bare sha256 (then any position is accepted)."""
        count, _, head = text.strip().lower().rpartition(":")
        try:
            return cls(records=int(count) if count else None, head_sha256=head)
        except ValueError:
            raise AnchorError(_BAD_ANCHOR.format(text=text, example="9f86…")) from None


def line_hash(line: bytes) -> str:
    """sha256 of one line's bytes, without its newline.

    Examples
    --------
    >>> line_hash(b'{"a": 1}\\n') == line_hash(b'{"a": 1}')
    True
    """
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def dumps(record: Mapping[str, Any]) -> bytes:
    """The one way a chained line is written: sorted keys, UTF-8, no newline.

    Examples
    --------
    >>> dumps({"b": 1, "a": "é"})
    b'{"a": "\\xc3\\xa9", "b": 1}'
    """
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def seal(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with :data:`SEAL`: the sha256 of its :func:`dumps` without that field.

    The chain cannot see an edit of the last line (nothing after it carries its hash); a seal
    makes a hand edit of any sealed line, the last included, visible (:func:`sealed`). Like the
    chain, it does not stop someone who recomputes it.

    Examples
    --------
    >>> r = seal({"a": 1})
    >>> sealed(r), sealed({**r, "a": 2})
    (True, False)
    """
    body = {k: v for k, v in record.items() if k != SEAL}
    return {**body, SEAL: hashlib.sha256(dumps(body)).hexdigest()}


def sealed(record: Mapping[str, Any]) -> bool:
    """True when ``record`` carries a :data:`SEAL` matching its other fields."""
    return record.get(SEAL) == seal(record)[SEAL]


def last_hash(path: str | os.PathLike[str]) -> str:
    """The hash the next line must carry as ``prev_sha256`` (:data:`GENESIS` for a new file)."""
    p = Path(path)
    if not p.exists():
        return GENESIS
    last = b""
    with p.open("rb") as fh:
        for line in fh:
            if line.strip():
                last = line
    return line_hash(last) if last else GENESIS


def append(path: str | os.PathLike[str], make: Callable[[str], T], dump: Callable[[T], bytes]) -> T:
    """Append one line: ``make(prev_sha256)`` builds the record, ``dump`` gives its bytes.

    Returns the record. The file is locked while the last hash is read and the line written,
    so two processes appending at once still form one chain.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> first = append(p, lambda prev: {"n": 1, "prev_sha256": prev}, dumps)
    >>> second = append(p, lambda prev: {"n": 2, "prev_sha256": prev}, dumps)
    >>> first["prev_sha256"] == GENESIS, second["prev_sha256"] == line_hash(dumps(first))
    (True, True)
    >>> all(json.loads(raw)["prev_sha256"] == expected for _, raw, expected in walk(p))
    True
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("ab") as fh:
        _lock(fh)
        try:
            record = make(last_hash(p))
            fh.write(_separator(p) + dump(record) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            _unlock(fh)
    return record


def _record_hashes(path: str | os.PathLike[str], checkpoints: bool) -> list[tuple[str, int | None]]:
    """``(sha256, line number or None if pruned)`` of every record of the log, in order.

    A checkpoint (first line, with ``checkpoints=True``) stands for the records it removed;
    it is not a record itself.
    """
    out: list[tuple[str, int | None]] = []
    for number, raw, _ in walk(path, checkpoints=checkpoints):
        if checkpoints and not out and checkpoint_expects(raw) is not None:
            data = json.loads(raw)
            out.extend((str(h), None) for h in data.get("removed_sha256", []))
            continue
        out.append((line_hash(raw), number))
    return out


def anchor(path: str | os.PathLike[str], *, checkpoints: bool = False) -> Anchor:
    """The anchor of the log as it is now (records and the last one's sha256).

    It does not verify the chain: verify first (the decision and run logs' readers do).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> anchor(p) == Anchor(records=0, head_sha256=GENESIS)
    True
    >>> _ = append(p, lambda prev: {"n": 1, "prev_sha256": prev}, dumps)
    >>> anchor(p).records
    1
    """
    hashes = _record_hashes(path, checkpoints)
    return Anchor(records=len(hashes), head_sha256=hashes[-1][0] if hashes else GENESIS)


def check_anchor(path: str | os.PathLike[str], expected: Anchor, *, checkpoints: bool = False) -> int:
    """How many records came after ``expected``; :class:`AnchorError` if the log lost it.

    The log must hold at least ``expected.records`` records and the one at that position must
    have ``expected.head_sha256`` (a bare-sha256 anchor may sit anywhere). This catches what
    the chain alone cannot: an edited last line, lines removed from the end, a file emptied,
    a rewrite with a recomputed chain. Records after the anchor are only counted: a line
    appended with a correct ``prev_sha256`` is not covered by an older anchor, so the caller
    names them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> _ = append(p, lambda prev: {"n": 1, "prev_sha256": prev}, dumps)
    >>> held = anchor(p)
    >>> _ = append(p, lambda prev: {"n": 2, "prev_sha256": prev}, dumps)
    >>> check_anchor(p, held)
    1
    >>> _ = p.write_bytes(b"")
    >>> check_anchor(p, held)
    Traceback (most recent call last):
    ...
    iomscore._chain.AnchorError: ... holds 0 record(s) but the anchor was taken when it held 1: ...
    """
    hashes = _record_hashes(path, checkpoints)
    if expected.records is None:
        if expected.head_sha256 == GENESIS:
            return len(hashes)
        for i, (h, _) in enumerate(hashes, start=1):
            if h == expected.head_sha256:
                return len(hashes) - i
        raise AnchorError(_ANCHOR_NOT_FOUND.format(path=path, expected=expected.head_sha256))
    n = expected.records
    if n == 0:
        if expected.head_sha256 != GENESIS:
            raise AnchorError(_ANCHOR_NOT_FOUND.format(path=path, expected=expected.head_sha256))
        return len(hashes)
    if len(hashes) < n:
        raise AnchorError(_ANCHOR_SHORT.format(path=path, have=len(hashes), want=n))
    actual, line = hashes[n - 1]
    if actual != expected.head_sha256:
        where = " (pruned)" if line is None else f" (line {line})"
        raise AnchorError(_ANCHOR_MISMATCH.format(path=path, n=n, where=where, actual=actual,
                                                  expected=expected.head_sha256))
    return len(hashes) - n


def _separator(p: Path) -> bytes:
    """``b"\\n"`` when the file's last byte is not a newline (a last line left without one)."""
    size = p.stat().st_size
    if size == 0:
        return b""
    with p.open("rb") as fh:
        fh.seek(size - 1)
        return b"" if fh.read(1) == b"\n" else b"\n"


def checkpoint_expects(raw: bytes) -> str | None:
    """The hash the line after ``raw`` must carry when ``raw`` is a checkpoint, else ``None``."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        return None
    resumes = data.get("resumes_after")
    return resumes if isinstance(resumes, str) else line_hash(raw)


def walk(path: str | os.PathLike[str], *, checkpoints: bool = False) -> Iterator[tuple[int, bytes, str]]:
    """Every non-blank line as ``(line number, bytes, the prev_sha256 it must carry)``.

    With ``checkpoints=True`` a checkpoint written by :func:`prune` is accepted as the first
    line (chained to :data:`GENESIS`); the line after it must carry its ``resumes_after``.
    """
    p = Path(path)
    if not p.exists():
        return
    expected = GENESIS
    first = True
    with p.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            yield number, raw, expected
            resumes = checkpoint_expects(raw) if checkpoints and first else None
            expected = resumes if resumes is not None else line_hash(raw)
            first = False


def prune(
    path: str | os.PathLike[str],
    lines: Sequence[bytes],
    drop: Sequence[bool],
    *,
    note: Mapping[str, Any],
) -> dict[str, Any] | None:
    """Replace ``path`` by a checkpoint and the ``lines`` not dropped; ``None`` if none dropped.

    ``lines`` are the file's verified lines in order (a checkpoint first, if any); only a
    leading run of lines may be dropped, so what is kept is still one chain. The checkpoint
    carries the sha256 of every line removed now and by earlier checkpoints, the number
    removed, the hash the first kept line chains to, and ``note`` (for example the cut-off
    date and why). The file is written beside the old one and renamed over it.
    """
    if len(lines) != len(drop):
        raise ValueError("lines and drop differ in length")
    n_drop = 0
    while n_drop < len(drop) and drop[n_drop]:
        n_drop += 1
    if n_drop == 0:
        return None
    removed: list[str] = []
    count = 0
    for raw in lines[:n_drop]:
        data = json.loads(raw)
        if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
            removed.extend(data.get("removed_sha256", []))
            count += int(data.get("removed", 0))
        else:
            removed.append(line_hash(raw))
            count += 1
    kept = list(lines[n_drop:])
    checkpoint = seal({
        **note,
        "format": CHECKPOINT_FORMAT,
        "removed": count,
        "removed_sha256": removed,
        "resumes_after": line_hash(lines[n_drop - 1]) if kept else None,
        "prev_sha256": GENESIS,
    })
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(dumps(checkpoint) + b"\n")
            for raw in kept:
                fh.write(raw.rstrip(b"\n") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return checkpoint


def _lock(fh: IO[bytes]) -> None:
    try:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    except (ImportError, OSError):  # pragma: no cover - not POSIX
        pass


def _unlock(fh: IO[bytes]) -> None:
    try:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except (ImportError, OSError):  # pragma: no cover - not POSIX
        pass
