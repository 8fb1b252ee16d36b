"""``trusted`` must be a real bool (issue 9, security): ``trusted="no"`` used to read as true."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from iomscore.learn import EstimatorScorer


@pytest.mark.parametrize("value", ["no", "False", 1, [0]])
def test_a_trusted_that_is_not_a_bool_is_refused(tmp_path: Path, value: object) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    path = tmp_path / "m.joblib"
    digest = EstimatorScorer(LogisticRegression(), cv=3).fit(X, y).save(path)
    with pytest.raises(TypeError, match="must be the bool True or False"):
        EstimatorScorer.load(path, trusted=value, sha256=digest)  # type: ignore[arg-type]
