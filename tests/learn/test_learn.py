"""Learned scorers: spec round trip, constraints, determinism, explanations, persistence, outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from iomscore.evaluation import (
    ColumnScore,
    at_risk_mask,
    cross_validate,
    expected_calibration_error,
    survival_outcomes,
    to_markdown,
)
from iomscore.learn import EstimatorScorer, PointsClassifier, Scorecard
from iomscore.scoring._spec import load_spec


def _frame(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 70, n).astype(float)
    priors = rng.poisson(2.0, n).astype(float)
    degree = rng.choice(["F", "M"], n)
    area = rng.choice(["north", "south", "east"], n)
    flag = rng.random(n) < 0.3
    logit = -0.06 * (age - 35) + 0.35 * priors - 0.8 + 0.4 * (degree == "F") + 0.5 * flag
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    priors[rng.random(n) < 0.03] = np.nan  # some missing
    X = pd.DataFrame({"age": age, "priors": priors, "degree": degree, "area": area, "flag": flag})
    return X, y


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return _frame()


@pytest.fixture(scope="module")
def points_model(data: tuple[pd.DataFrame, np.ndarray]) -> PointsClassifier:
    X, y = data
    return PointsClassifier(max_items=6, monotone={"age": "decreasing", "priors": "increasing"}).fit(X, y)


@pytest.fixture(scope="module")
def card(data: tuple[pd.DataFrame, np.ndarray]) -> Scorecard:
    X, y = data
    return Scorecard().fit(X, y)


def _columns(X: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: X[c].to_numpy() for c in X.columns}


def _spec_points(path: Path, X: pd.DataFrame) -> np.ndarray:
    """Points from the spec file, through the lead's scorer."""
    import iomscore

    assert hasattr(iomscore, "get_scorer"), "iomscore.get_scorer is the supported way to score a spec"
    return np.asarray(iomscore.get_scorer(str(path)).points(_columns(X)))


@pytest.mark.parametrize("which", ["points", "card"])
def test_spec_round_trip_scores_exactly(which: str, request: pytest.FixtureRequest, tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    model = request.getfixturevalue("points_model" if which == "points" else "card")
    X, _ = data
    path = tmp_path / f"{which}.json"
    saved = model.save_spec(path, name=f"test-{which}")
    # valid JSON, hashed, loads through the spec loader with the same hash
    loaded = load_spec(path)
    assert json.loads(path.read_text())["sha256"] == saved.sha256 == loaded.sha256
    # unseen category and a missing category still score the same both ways
    Xt = X.copy()
    Xt.loc[Xt.index[:3], "area"] = "west"
    Xt.loc[Xt.index[3:5], "degree"] = None
    expected = model.decision_function(Xt)
    np.testing.assert_array_equal(_spec_points(path, Xt), expected)
    # probability table gives predict_proba exactly
    table = dict(zip(loaded.probability.totals, loaded.probability.probabilities))
    from_table = np.array([table[int(t)] for t in expected])
    np.testing.assert_array_equal(from_table, model.predict_proba(Xt)[:, 1])
    # the table is a calibrated, monotone map: P > 0.5 exactly when the total is above 0
    p = np.array(loaded.probability.probabilities)
    assert (np.diff(p) >= 0).all()
    assert ((np.array(loaded.probability.totals) > 0) == (p > 0.5)).all()


def test_round_trip_numpy_input(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] - X[:, 2] + rng.normal(size=400) > 0).astype(int)
    clf = PointsClassifier(max_items=4).fit(X, y)
    path = tmp_path / "np.json"
    clf.save_spec(path, name="np-model")
    cols = {f"x{j}": X[:, j] for j in range(3)}
    import iomscore

    np.testing.assert_array_equal(iomscore.get_scorer(str(path)).points(cols), clf.decision_function(X))


def test_sparsity_honoured(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    for k in (1, 2, 3, 5):
        clf = PointsClassifier(max_items=k, item="condition", beam_width=4).fit(X, y)
        assert 1 <= len(clf.conditions_) <= k
        assert np.all(clf.item_points_ != 0)
        # items on the spec side: thresholds + non-zero categories
        spec = clf.to_spec(name="sparse")
        assert len(spec.provenance["items"]) == len(clf.conditions_)


def test_points_range_honoured(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = PointsClassifier(max_items=5, points_range=(-2, 3), beam_width=4).fit(X, y)
    assert clf.item_points_.min() >= -2 and clf.item_points_.max() <= 3


def test_allowed_features_honoured(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = PointsClassifier(max_items=4, allowed_features=["age", "degree"], beam_width=4).fit(X, y)
    assert {c.feature for c in clf.conditions_} <= {"age", "degree"}
    assert {t.feature for t in clf.tables_} <= {"age", "degree"}


# Monotonicity: constrain against the data's own trend so the constraint has to bind; fit once.
_X_MONO, _Y_MONO = _frame(1200, seed=5)
_AGAINST = PointsClassifier(max_items=6, monotone={"age": "increasing", "priors": "decreasing"}).fit(_X_MONO, _Y_MONO)
_CARD_AGAINST = Scorecard(monotone={"age": "increasing", "priors": "decreasing"}).fit(_X_MONO, _Y_MONO)


@given(
    a=st.floats(0, 100, allow_nan=False),
    b=st.floats(0, 100, allow_nan=False),
    row=st.integers(0, len(_X_MONO) - 1),
)
def test_monotone_constraints_honoured(a: float, b: float, row: int) -> None:
    lo, hi = sorted((a, b))
    for model in (_AGAINST, _CARD_AGAINST):
        base = _X_MONO.iloc[[row, row]].copy()
        base["age"] = [lo, hi]
        s_age = model.decision_function(base)
        assert s_age[0] <= s_age[1]
        base = _X_MONO.iloc[[row, row]].copy()
        base["priors"] = [lo, hi]
        s_pri = model.decision_function(base)
        assert s_pri[0] >= s_pri[1]


def test_monotone_declared_in_spec() -> None:
    spec = _AGAINST.to_spec(name="mono")
    declared = {f.feature: f.monotone for f in spec.factors}
    for feature, direction in (("age", "increasing"), ("priors", "decreasing")):
        if feature in declared:
            assert declared[feature] == direction


def test_determinism_same_sha256(data: tuple[pd.DataFrame, np.ndarray], points_model: PointsClassifier) -> None:
    X, y = data
    again = PointsClassifier(**points_model.get_params()).fit(X, y)
    assert again.to_spec(name="d").compute_sha256() == points_model.to_spec(name="d").compute_sha256()
    card1 = Scorecard().fit(X, y).to_spec(name="c").compute_sha256()
    card2 = Scorecard().fit(X, y).to_spec(name="c").compute_sha256()
    assert card1 == card2


def test_bad_hyperparameters_raise(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    with pytest.raises(ValueError, match="points_range"):
        PointsClassifier(points_range=(1, 5)).fit(X, y)
    with pytest.raises(ValueError, match="max_items"):
        PointsClassifier(max_items=0).fit(X, y)
    with pytest.raises(ValueError, match="categorical"):
        PointsClassifier(monotone={"degree": "increasing"}).fit(X, y)
    with pytest.raises(ValueError, match="unknown feature"):
        PointsClassifier(allowed_features=["nope"]).fit(X, y)
    with pytest.raises(ValueError, match="pdo"):
        Scorecard(pdo=-1).fit(X, y)


def test_scorecard_pdo_scaling(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    card = Scorecard(pdo=20).fit(X, y)
    # the refitted probability table doubles the odds in about pdo points
    assert 14 < card.effective_pdo_ < 28
    assert all((np.diff(t.points) >= 0).all() if t.monotone > 0 else (np.diff(t.points) <= 0).all() for t in card.tables_ if t.kind == "numeric")


# --------------------------------------------------------------------------------------------
# EstimatorScorer
# --------------------------------------------------------------------------------------------

_RNG = np.random.default_rng(11)
_XE = _RNG.normal(size=(500, 4))
_YE = (_XE[:, 0] + _XE[:, 1] ** 2 + _RNG.normal(size=500) > 1).astype(int)


def test_explanation_linear_exact() -> None:
    s = EstimatorScorer(LogisticRegression()).fit(_XE, _YE)
    e = s.explain(_XE[:40])
    assert e.method == "linear" and e.exact and e.output == "calibrated log-odds"
    np.testing.assert_allclose(e.total, s.log_odds(_XE[:40]), rtol=0, atol=1e-10)
    a, _ = s.sigmoid_
    coef = s.estimator_.coef_.ravel()
    np.testing.assert_allclose(e.contributions, a * coef * (_XE[:40] - _XE.mean(axis=0)), atol=1e-12)
    p = s.predict_proba(_XE[:40])[:, 1]
    np.testing.assert_allclose(1 / (1 + np.exp(-e.total)), p, atol=1e-12)


def test_explanation_gradient_boosting_additive() -> None:
    s = EstimatorScorer(GradientBoostingClassifier(n_estimators=40, random_state=0), calibration=None).fit(_XE, _YE)
    e = s.explain(_XE[:40])
    assert e.method == "tree-path" and not e.exact and e.output == "raw margin"
    np.testing.assert_allclose(e.total, s.decision_function(_XE[:40]), atol=1e-9)
    assert np.ptp(e.base) < 1e-9  # one base value for everyone
    # feature 3 is noise: it should get little credit compared to features 0 and 1
    mag = np.abs(e.contributions).mean(axis=0)
    assert mag[3] < mag[0] and mag[3] < mag[1]


def test_explanation_permutation_additive_monotone_hgb() -> None:
    from threadpoolctl import threadpool_limits

    est = HistGradientBoostingClassifier(max_iter=20, monotonic_cst=[1, 0, 0, 0], random_state=0)
    with threadpool_limits(1):  # OpenMP oversubscription makes small HGB fits slow on busy machines
        s = EstimatorScorer(est, cv=3, n_permutations=4).fit(_XE, _YE)
        e = s.explain(_XE[:30])
    assert e.method == "permutation"
    np.testing.assert_allclose(e.total, s.log_odds(_XE[:30]), atol=1e-9)


def test_safe_persistence(tmp_path: Path) -> None:
    s = EstimatorScorer(LogisticRegression(), cv=3).fit(_XE, _YE)
    path = tmp_path / "model.joblib"
    digest = s.save(path)
    with pytest.raises(PermissionError, match="trusted=True"):
        EstimatorScorer.load(path)
    with pytest.raises(PermissionError, match="sha256"):
        EstimatorScorer.load(path, trusted=True)
    with pytest.raises(PermissionError, match="not the one that was saved"):
        EstimatorScorer.load(path, trusted=True, sha256="0" * 64)
    path.write_bytes(path.read_bytes() + b"\x00")  # tampered after saving
    with pytest.raises(PermissionError, match="not the one that was saved"):
        EstimatorScorer.load(path, trusted=True, sha256=digest)
    path2 = tmp_path / "ok.joblib"
    digest2 = s.save(path2)
    back = EstimatorScorer.load(path2, trusted=True, sha256=digest2)
    np.testing.assert_array_equal(back.predict_proba(_XE), s.predict_proba(_XE))


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------


def test_ece_known_values() -> None:
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    assert expected_calibration_error([1, 1], [0.05, 0.05]) == pytest.approx(0.95)


def test_survival_outcomes_masks() -> None:
    origin = np.array(["2013-01-01"] * 5, dtype="datetime64[D]")
    event = np.array(["2013-03-01", "2014-03-01", "NaT", "2015-06-01", "NaT"], dtype="datetime64[D]")
    follow = np.array(["2016-01-01", "2016-01-01", "2016-01-01", "2016-01-01", "2013-09-01"], dtype="datetime64[D]")
    o = survival_outcomes(origin, event, follow)
    assert o["y_1y"].tolist() == [1, 0, 0, 0, 0]
    assert o["at_risk_1y"].tolist() == [True, True, True, True, False]  # last: censored at 8 months
    # year 2 given none in year 1: the person who reoffended in year 1 is not at risk
    assert o["at_risk_year2"].tolist() == [False, True, True, True, False]
    assert o["y_year2_given_none_year1"].tolist() == [0, 1, 0, 0, 0]
    assert at_risk_mask(o["days_to_event"], 365, 730).tolist() == [False, True, True, True, True]


class _Recorder(LogisticRegression):
    seen: list[int] = []

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        _Recorder.seen.extend(np.asarray(X)[:, 1].astype(int).tolist())
        return super().fit(X, y, sample_weight)


def test_cross_validate_never_fits_on_rows_not_at_risk() -> None:
    rng = np.random.default_rng(0)
    n = 300
    X = np.column_stack([rng.normal(size=n), np.arange(n)])
    y = rng.integers(0, 2, n)
    mask = np.arange(n) % 3 != 0
    _Recorder.seen = []
    res = cross_validate({"rec": _Recorder()}, X, y, n_splits=3, at_risk=mask)
    assert res[0].n_rows == int(mask.sum())
    assert set(_Recorder.seen) <= set(np.flatnonzero(mask).tolist())
    assert "rec" in to_markdown(res)


def test_column_score_is_the_column() -> None:
    X = pd.DataFrame({"score": [1, 2, 3, 8, 9, 10], "other": [0] * 6})
    y = np.array([0, 0, 1, 0, 1, 1])
    s = ColumnScore("score").fit(X, y)
    np.testing.assert_array_equal(s.decision_function(X), X["score"].to_numpy(float))
    assert (np.diff(s.predict_proba(X)[:, 1]) > 0).all()


# --------------------------------------------------------------------------------------------
# PointsClassifier: feature-level items (item="feature", max_steps)
# --------------------------------------------------------------------------------------------

_FEATURE_ITEMS = PointsClassifier(
    max_items=2, item="feature", max_steps=6, monotone={"age": "increasing", "priors": "decreasing"}
).fit(_X_MONO, _Y_MONO)


def test_feature_items_budget_honoured(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    for items, steps in ((1, 3), (2, 5), (3, None)):
        clf = PointsClassifier(max_items=items, item="feature", max_steps=steps, beam_width=4).fit(X, y)
        features = {c.feature for c in clf.conditions_}
        assert 1 <= len(features) <= items
        assert clf.n_items_ == clf.n_features_used_ == len(clf.tables_) == len(features)
        assert clf.n_steps_ == len(clf.conditions_) <= (2 * items if steps is None else steps)
        spec = clf.to_spec(name="feature-items")
        assert len(spec.factors) == clf.n_features_used_
        nonzero = sum(1 for f in spec.factors for b in f.bins if b.points != 0)
        assert nonzero == clf.n_nonzero_bins_ == spec.provenance["sparsity"]["nonzero_bins"]
        assert spec.provenance["sparsity"]["items"] == clf.n_items_
    # the condition reading counts steps; max_steps can only tighten it
    clf = PointsClassifier(max_items=4, item="condition", max_steps=2, beam_width=4).fit(X, y)
    assert clf.n_items_ == clf.n_steps_ <= 2


def test_default_is_the_readable_table(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    clf = PointsClassifier()
    assert (clf.item, clf.max_items, clf._budget()) == ("feature", 8, (16, 8))
    clf.fit(*data)
    assert clf.n_items_ == clf.n_features_used_ <= 8 and clf.n_steps_ <= 16


def test_feature_items_monotone_step_functions() -> None:
    """Against the data's trend the constraint binds; every step of the table honours it."""
    clf = _FEATURE_ITEMS
    assert clf.n_features_used_ <= 2 and clf.n_steps_ <= 6
    for t in clf.tables_:
        if t.feature == "age":
            assert (np.diff(t.points) >= 0).all()
        if t.feature == "priors":
            assert (np.diff(t.points) <= 0).all()
    ages = _X_MONO.iloc[[0] * 60].copy()
    ages["age"] = np.linspace(0, 100, 60)
    assert (np.diff(clf.decision_function(ages)) >= 0).all()
    priors = _X_MONO.iloc[[0] * 40].copy()
    priors["priors"] = np.arange(40.0)
    assert (np.diff(clf.decision_function(priors)) <= 0).all()


def test_feature_items_round_trip_exact(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = PointsClassifier(max_items=3, item="feature", max_steps=8, monotone={"age": "decreasing"}).fit(X, y)
    path = tmp_path / "feature-items.json"
    clf.save_spec(path, name="feature-items")
    Xt = X.copy()
    Xt.loc[Xt.index[:3], "area"] = "west"
    Xt.loc[Xt.index[3:6], "age"] = np.nan
    expected = clf.decision_function(Xt)
    np.testing.assert_array_equal(_spec_points(path, Xt), expected)
    loaded = load_spec(path)
    table = dict(zip(loaded.probability.totals, loaded.probability.probabilities))
    np.testing.assert_array_equal(np.array([table[int(t)] for t in expected]), clf.predict_proba(Xt)[:, 1])
    again = PointsClassifier(**clf.get_params()).fit(X, y)
    assert again.to_spec(name="d").compute_sha256() == clf.to_spec(name="d").compute_sha256()


def test_feature_items_bad_hyperparameters(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    with pytest.raises(ValueError, match="item must be"):
        PointsClassifier(item="bin").fit(X, y)
    with pytest.raises(ValueError, match="max_steps"):
        PointsClassifier(item="feature", max_steps=0).fit(X, y)
