"""Run the Examples sections of the fairness modules' docstrings."""

from __future__ import annotations

import doctest

import pytest

from iomscore.fairness import _audit, _common, _proxy, _rates


@pytest.mark.parametrize("module", [_audit, _common, _proxy, _rates], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert tried > 0
    assert failures == 0
