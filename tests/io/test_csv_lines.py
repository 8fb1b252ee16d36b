"""csv_lines gives write_lines' bytes and each line's end without a scan for newlines."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


_CELLS = st.lists(st.text(alphabet='ab,"\n\r é', max_size=5), max_size=12)


@settings(max_examples=200, deadline=None)
@given(cells=_CELLS, cut=st.integers(0, 4), large=st.booleans())
def test_quote_arrow_quotes_each_value_of_a_slice_as_csv_does(cells: list[str], cut: int, large: bool) -> None:
    import pyarrow as pa

    from iomscore.io._text import quote_arrow, quote_text

    kind = pa.large_string() if large else pa.string()
    # (plain values before the slice and structural ones after it: a window of bytes that
    # ignored the slice's offset would miss its last values' commas and quotes)
    sliced = pa.array(["xx"] * cut + cells + ['x,"y"'] * cut, kind).slice(cut, len(cells))
    assert quote_arrow(sliced).to_pylist() == [quote_text(c) for c in cells]


@settings(max_examples=100, deadline=None)
@given(ids=st.lists(st.text(alphabet="P0129\x00", min_size=1, max_size=9), max_size=20), cut=st.integers(1, 3))
def test_person_partition_of_a_sliced_chunk_is_that_of_its_values(ids: list[str], cut: int) -> None:
    import pyarrow as pa

    from iomscore.io._stream import person_partition

    sliced = pa.chunked_array([pa.array(["Z" * cut] * cut + ids + ["Q"]).slice(cut, len(ids))])
    assert person_partition(sliced, 7).tolist() == person_partition(pa.array(ids), 7).tolist()
