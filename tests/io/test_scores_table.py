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

pa = pytest.importorskip("pyarrow")

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
    # the ids a reader already had as Arrow (string or large_string) give the same table and CSV cells
    csv = W.csv_arrow_columns(batch, chosen, top)
    for kind in (pa.string(), pa.large_string()):
        ids = pa.array(pid, type=kind)
        assert W.scores_table(batch, chosen, top, ids).equals(want)
        given_ids = W.csv_arrow_columns(batch, chosen, top, ids)
        assert csv is not None and given_ids is not None
        assert given_ids[0] == csv[0] and given_ids[2] == csv[2]
        if csv[2]:
            assert given_ids[1][0].equals(csv[1][0])


def test_arrow_ids_of_another_length_are_refused() -> None:
    batch = score_batch(synth.generate(3, seed=1), "iom-priority")
    with pytest.raises(ValueError, match="2 person ids for 3 scores"):
        W.scores_table(batch, None, 3, pa.array(["a", "b"]))


def test_real_scores_and_a_band_of_none(monkeypatch: pytest.MonkeyPatch) -> None:
    table = synth.generate(300, seed=5)
    for scorer in ("iom-priority", "ogrs3"):
        batch = score_batch(table, scorer)
        assert W.scores_table(batch).equals(_object_path(monkeypatch, batch, None, 3)), scorer
    odd = dataclasses.replace(batch, band=np.array([None] * len(batch), dtype=object))
    assert W.scores_table(odd).column("band").to_pylist()[:1] == ["None"]  # (as the text columns write it)
