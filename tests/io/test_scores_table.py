"""The Parquet scores table built in Arrow against the same table built from the text
columns (:func:`score_columns`), on hand-made batches: ties, zeros, a baseline part, shared and
distinct reason objects, person ids with None, bands with None, warnings, subsets of rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reason_slots import batches

from iomscore import synth
from iomscore.io import _write as W
from iomscore.scoring import score_batch
from iomscore.scoring._result import ScoreBatch

pytest.importorskip("pyarrow")

_WARNINGS = st.sampled_from([(), ("a",), ("a", "b"), ("not recorded: x; y",), ("é",)])


def _object_path(monkeypatch: pytest.MonkeyPatch, batch: ScoreBatch, rows: np.ndarray | None, top: int) -> object:
    with monkeypatch.context() as m:
        m.setattr(W, "_reason_slots", lambda *a: None)
        return W.scores_table(batch, rows, top)


@settings(max_examples=200, deadline=None)
@given(case=batches(), data=st.data())
def test_the_arrow_table_is_the_text_columns_table(case: tuple[ScoreBatch, int, np.ndarray], data: st.DataObject) -> None:
    batch, top, rows = case
    n = len(batch)
    pid = np.array(data.draw(st.lists(st.one_of(st.none(), st.sampled_from(["P1", "P2", "=x", ""])),
                                      min_size=n, max_size=n)), dtype=object)
    band = np.array(data.draw(st.lists(st.sampled_from(["low", "high", "medium"]), min_size=n, max_size=n)),
                    dtype=object)
    warnings = data.draw(st.one_of(st.none(), st.lists(_WARNINGS, min_size=n, max_size=n)))
    w = None
    if warnings is not None:
        w = np.empty(n, dtype=object)
        for i, x in enumerate(warnings):
            w[i] = tuple(x)
    batch = dataclasses.replace(batch, person_id=pid, band=band, warnings=w)
    chosen = data.draw(st.sampled_from([None, rows]))
    with pytest.MonkeyPatch.context() as mp:
        want = _object_path(mp, batch, chosen, top)
    got = W.scores_table(batch, chosen, top)
    assert got.schema == want.schema  # type: ignore[attr-defined]
    assert got.equals(want)


def test_real_scores_and_a_band_of_none(monkeypatch: pytest.MonkeyPatch) -> None:
    table = synth.generate(300, seed=5)
    for scorer in ("iom-priority", "ogrs3"):
        batch = score_batch(table, scorer)
        assert W.scores_table(batch).equals(_object_path(monkeypatch, batch, None, 3)), scorer
    odd = dataclasses.replace(batch, band=np.array([None] * len(batch), dtype=object))
    assert W.scores_table(odd).column("band").to_pylist()[:1] == ["None"]  # (as the text columns write it)
