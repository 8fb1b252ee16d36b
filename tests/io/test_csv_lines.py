"""csv_lines gives write_lines' bytes and each line's end without a scan for newlines."""

from __future__ import annotations

import io

import numpy as np
import pytest

import iomscore
from iomscore import synth
from iomscore.io._text import csv_lines, write_lines
from iomscore.io._write import csv_arrow_columns

pytest.importorskip("pyarrow")


@pytest.mark.parametrize("scorer", ["iom-priority", "ogrs3"])
@pytest.mark.parametrize("n", [0, 1, 40])
def test_csv_lines_are_write_lines_split_at_each_line(scorer: str, n: int) -> None:
    scores = iomscore.score_batch(synth.generate(n, seed=3), scorer) if n else None
    if scores is None:
        built = csv_arrow_columns(iomscore.score_batch(synth.generate(1, seed=3), scorer), np.zeros(0, np.int64), 3)
    else:
        built = csv_arrow_columns(scores, None, 3)
    assert built is not None
    header, columns, rows = built
    sink = io.BytesIO()
    write_lines(sink, header, columns)
    head, body, ends = csv_lines(header, columns)
    assert head + bytes(body) == sink.getvalue()
    data = bytes(body)
    assert ends.tolist() == (np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1).tolist()
    assert ends.size == rows
