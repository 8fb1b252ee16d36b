"""ReferralBatch's orderings against plain numpy: the sorted-input shortcuts change nothing."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.schema._batch import ONGOING_DAY, _positions_within, _sorted_order

_rows = st.lists(st.tuples(st.integers(0, 4), st.integers(-3, 3), st.sampled_from([-1, 0, 2, int(ONGOING_DAY)])),
                 max_size=15)


@settings(max_examples=300, deadline=None)
@given(_rows, st.booleans())
def test_custody_order_is_lexsort(rows: list[tuple[int, int, int]], presorted: bool) -> None:
    if presorted:
        rows = sorted(rows)
    person = np.array([r[0] for r in rows], dtype=np.int64)
    start = np.array([r[1] for r in rows], dtype=np.int32)
    end = np.array([r[2] for r in rows], dtype=np.int32)
    got = np.arange(len(rows))[_sorted_order(person, start, end)]
    assert got.tolist() == np.lexsort((end, start, person)).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=20), st.booleans())
def test_positions_within_count_earlier_rows_of_the_person(person: list[int], presorted: bool) -> None:
    if presorted:
        person = sorted(person)
    want = [person[:i].count(p) for i, p in enumerate(person)]
    assert _positions_within(np.array(person, dtype=np.int64)).tolist() == want
