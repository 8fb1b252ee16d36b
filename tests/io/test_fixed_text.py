"""The scores CSV's number text built in numpy (fixed_arrow) against the plain formatter."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.io._text import fixed, fixed_arrow

pytest.importorskip("pyarrow")

_EDGES = [0.0, -0.0, 1e-7, -1e-7, 5e-7, -5e-7, 1.5e-6, 2.5e-6, 0.5, 0.1234565, 999999999.4999994,
          999999999.9999996, -999999999.9999996, 1e9, -1e9, 123456789.123456, 1e15, 1e300, float("nan"),
          float("inf"), float("-inf")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e3, 1e3),
                          st.integers(-10**6, 10**6).map(lambda i: i / 8), st.sampled_from(_EDGES)), max_size=40))
def test_fixed_arrow_is_fixed(values: list[float]) -> None:
    x = np.array(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        assert fixed_arrow(x).to_pylist() == fixed(x).tolist()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fixed_arrow_edges() -> None:
    x = np.array(_EDGES)
    assert fixed_arrow(x).to_pylist() == fixed(x).tolist()
    assert fixed_arrow(np.array([0.25, -3.0, float("nan")])).to_pylist() == ["0.25", "-3", ""]
