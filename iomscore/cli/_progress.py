"""The progress bar: drawn on a terminal only; the library itself only calls a callback."""

from __future__ import annotations

import sys
import time
from typing import Final, TextIO

__all__ = ["STAGES", "ProgressBar"]

#: The stages of a batch run and the share of the bar each takes.
#: ``streaming`` is a run whose chunks are read, scored and written as they come (inputs sorted by
#: person_id), the whole bar.
STAGES: Final = {"reading": (0.0, 0.4), "scoring": (0.4, 0.85), "writing": (0.85, 1.0), "streaming": (0.0, 1.0)}


class ProgressBar:
    """A one-line progress bar on a terminal stream; does nothing when it is not a TTY.

    Examples
    --------
    >>> import io
    >>> bar = ProgressBar(io.StringIO())  # not a terminal: silent
    >>> bar(5, 10); bar.close()
    >>> bar.stage("reading", 1, 2); bar.enabled
    False
    >>> tty = io.StringIO(); tty.isatty = lambda: True
    >>> bar = ProgressBar(tty, label="scoring")
    >>> bar.stage("scoring", 1, 2)
    >>> "scoring: scoring" in tty.getvalue() and "62.5%" in tty.getvalue()
    True
    """

    def __init__(self, stream: TextIO | None = None, label: str = "scoring", width: int = 30) -> None:
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.label = label
        self.width = width
        self._start = time.perf_counter()
        self._drawn = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        frac = 1.0 if total <= 0 else min(done / total, 1.0)
        self._draw(frac, f"{done}/{total}")

    def stage(self, stage: str, done: int, total: int) -> None:
        """A stage's progress (``"reading"``, ``"scoring"``, ``"writing"``) as a share of the
        whole run: the callback a partitioned run takes."""
        if not self.enabled:
            return
        lo, hi = STAGES.get(stage, (0.0, 1.0))
        part = 1.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
        now = time.perf_counter()
        if part < 1.0 and now - self._last < 0.1:
            return  # (at most ten redraws a second)
        self._last = now
        self._draw(lo + (hi - lo) * part, f"{stage:<8}", prefix=f"{self.label}: ")

    def _draw(self, frac: float, detail: str, prefix: str | None = None) -> None:
        filled = round(frac * self.width)
        elapsed = time.perf_counter() - self._start
        bar = "#" * filled + "-" * (self.width - filled)
        head = f"{self.label}" if prefix is None else f"{prefix}{detail}"
        tail = f" {detail}" if prefix is None else ""
        self.stream.write(f"\r{head} [{bar}] {frac:6.1%}{tail} {elapsed:5.1f}s")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
