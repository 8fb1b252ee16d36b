"""Writing outputs so that a reader never sees half a file, and a failed write names the path.

Every file iomscore writes goes to a temporary file beside the target (same directory, so the
rename cannot cross file systems), is flushed and fsynced, then renamed over the target in
one step. A run that fails or is killed leaves the previous file as it was and no partial
file; the temporary file is removed on failure (a killed run may leave a hidden
``.<name>.<pid>.<n>.tmp<suffix>``, never a file under the target's name). A target that
exists and is not a regular file (``/dev/stdout``, ``/dev/full``, a pipe) is written in place.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from .._errors import IomscoreError

__all__ = ["WriteError", "atomic_open", "staged", "write_text_atomic"]

CANNOT_WRITE: Final = "cannot write {path}: {reason}"


class WriteError(IomscoreError, OSError):
    """An output could not be written; the message names the path."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _temp_for(target: Path) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for k in itertools.count():
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.{k}.tmp{target.suffix}")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _in_place(target: Path) -> bool:
    return target.exists() and not target.is_file()


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[Any]:
    """Open ``path`` for writing through a temporary file renamed over it when the block ends.

    Raises
    ------
    WriteError
        When the file cannot be created or written (disk full, read-only, no such directory),
        naming ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_open(d / "a.txt", "w", encoding="utf-8") as f:
    ...     _ = f.write("done\\n")
    >>> (d / "a.txt").read_text(), [p.name for p in d.iterdir()]
    ('done\\n', ['a.txt'])
    """
    target = Path(path)
    if _in_place(target):
        try:
            with open(target, mode, **kwargs) as f:
                yield f
        except OSError as exc:
            raise WriteError(CANNOT_WRITE.format(path=target, reason=_reason(exc))) from None
        return
    try:
        tmp, fd = _temp_for(target)
    except OSError as exc:
        raise WriteError(CANNOT_WRITE.format(path=target, reason=_reason(exc))) from None
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, WriteError):
            raise
        raise WriteError(CANNOT_WRITE.format(path=target, reason=_reason(exc))) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_dir(target.parent)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_open`); returns the path."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return Path(path)


@contextlib.contextmanager
def staged(paths: Sequence[str | os.PathLike[str] | None]) -> Iterator[list[Path | None]]:
    """Temporary names for several outputs of one run, renamed over the targets together.

    The block writes each output to the name it is given (same directory and suffix as the
    target); only when every one is written are they renamed, in order, so a run that fails
    half-way leaves every previous output as it was. ``None`` entries pass through.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with staged([d / "a.csv", None]) as (a, none):
    ...     _ = a.write_text("x\\n")
    >>> sorted(p.name for p in d.iterdir()), none
    (['a.csv'], None)
    """
    targets = [None if p is None else Path(p) for p in paths]
    temps: list[Path | None] = []
    try:
        for target in targets:
            if target is None or _in_place(target):
                temps.append(target)
                continue
            try:
                tmp, fd = _temp_for(target)
            except OSError as exc:
                raise WriteError(CANNOT_WRITE.format(path=target, reason=_reason(exc))) from None
            os.close(fd)
            temps.append(tmp)
        yield temps
        for t, staged_tmp in zip(targets, temps):
            if t is not None and staged_tmp is not None and staged_tmp != t:
                try:
                    os.replace(staged_tmp, t)
                except OSError as exc:
                    raise WriteError(CANNOT_WRITE.format(path=t, reason=_reason(exc))) from None
    finally:
        for t, staged_tmp in zip(targets, temps):
            if staged_tmp is not None and staged_tmp != t:
                staged_tmp.unlink(missing_ok=True)
