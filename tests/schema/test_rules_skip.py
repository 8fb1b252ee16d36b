"""The cross-field rules skip, by one stacked any, every rule whose mask holds no violation."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from iomscore.schema._rules import _any_each


@given(st.integers(0, 6).flatmap(lambda n: st.lists(st.lists(st.booleans(), min_size=n, max_size=n), max_size=8)))
def test_any_each_is_each_masks_any(rows: list[list[bool]]) -> None:
    masks = [np.asarray(r, dtype=bool) for r in rows]
    assert _any_each(masks) == [bool(m.any()) for m in masks]
