"""scikit-learn's estimator checks for the learned points models."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from iomscore.learn import PointsClassifier, Scorecard


def expected_failed_checks(estimator: object) -> dict[str, str]:
    """Checks expected to fail, each with the reason."""
    return {}


@pytest.mark.slow
@parametrize_with_checks(
    [PointsClassifier(max_items=4, beam_width=3), PointsClassifier(max_items=2, item="feature", beam_width=3), Scorecard()],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator: object, check: object) -> None:
    check(estimator)  # type: ignore[operator]
