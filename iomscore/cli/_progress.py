"""The progress bar: drawn on a terminal only; the library itself only calls a callback."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A one-line progress bar on a terminal stream; does nothing when it is not a TTY.

    Examples
    --------
    >>> import io
    >>> bar = ProgressBar(io.StringIO())  # not a terminal: silent
    >>> bar(5, 10); bar.close()
    >>> bar.enabled
    False
    """

    def __init__(self, stream: TextIO | None = None, label: str = "scoring", width: int = 30) -> None:
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.label = label
        self.width = width
        self._start = time.perf_counter()
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        frac = 1.0 if total <= 0 else min(done / total, 1.0)
        filled = round(frac * self.width)
        elapsed = time.perf_counter() - self._start
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac:6.1%} {done}/{total} {elapsed:5.1f}s")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
