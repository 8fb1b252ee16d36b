"""The CSV writer's reason slots (codes into a table of distinct text) against the plain
per-row reason lines, on hand-made score batches: ties, zeros, signed zeros, a baseline part,
shared and distinct reason objects, and subsets of rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.io._text import neutralise, quote_text
from iomscore.io._write import _reason_slots, _top_reasons_objects
from iomscore.scoring._result import ModelIdentity, ScoreBatch

_MODEL = ModelIdentity(name="t", version="1", sha256="0" * 64, kind="points")
_VALUES = st.sampled_from([0.0, -0.0, 1.0, 2.0, -1.5, 0.25, 0.05, 0.15, 1e-7, 3.0])
_REASONS = ["Recent offending", "Needs, drugs", "Age 18-24", "a, \"quoted\" reason", "=formula", "", "-x, y",
            "line\nbreak"]


@st.composite
def batches(draw: st.DrawFn) -> tuple[ScoreBatch, int, np.ndarray]:
    n = draw(st.integers(1, 12))
    k = draw(st.integers(1, 6))
    values = np.array(draw(st.lists(st.lists(_VALUES, min_size=k, max_size=k), min_size=n, max_size=n)))
    shared = [str(r) for r in _REASONS]
    reasons = []
    for _ in range(k):
        picks = draw(st.lists(st.integers(0, len(shared) - 1), min_size=n, max_size=n))
        # some rows hold an equal text in a distinct object (as render_unique never does)
        fresh = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        reasons.append(np.array(["".join(list(shared[p])) if f else shared[p] for p, f in zip(picks, fresh)],
                                dtype=object))
    names = tuple(f"part{j}" for j in range(k))
    baseline = draw(st.one_of(st.none(), st.sampled_from(names)))
    unit = draw(st.sampled_from(["points", "percentage points"]))
    batch = ScoreBatch(score=values.sum(axis=1), band=np.full(n, "low", dtype=object), probabilities={},
                       part_names=names, part_labels=names, part_values=values, part_reasons=tuple(reasons),
                       model=_MODEL, unit=unit, baseline_part=baseline)  # type: ignore[arg-type]
    rows = np.array(draw(st.lists(st.integers(0, n - 1), max_size=n, unique=True)), dtype=np.int64)
    return batch, draw(st.integers(0, 4)), rows


@settings(max_examples=200, deadline=None)
@given(batches())
def test_reason_slots_give_each_rows_reason_lines(case: tuple[ScoreBatch, int, np.ndarray]) -> None:
    batch, top, rows = case
    slots = _reason_slots(batch, top, rows)
    assert slots is not None
    texts = np.array(slots.texts, dtype=object)
    got = [[str(texts[code[i]]) for code in slots.codes] for i in range(rows.size)]
    lines = batch.reason_lines(rows, top=top) if top else [[] for _ in rows]
    assert got == [line + [""] * (top - len(line)) for line in lines]
    objects = _top_reasons_objects(batch, top, rows)
    assert got == [[str(col[i]) for col in objects] for i in range(rows.size)]
    assert slots.csv_labels().to_pylist() == [quote_text(neutralise(t)) for t in slots.texts]
