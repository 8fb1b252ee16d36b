"""Categorical columns as a person would score them: not recorded, rare levels, the reference level,
levels grouped by outcome rate, ordinal text."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
from iomscore.learn import PointsClassifier, Scorecard
from iomscore.learn._base import ERR_MONOTONE_CATEGORICAL
from iomscore.learn._levels import ordinal_key

#: district effects on the log-odds: three groups of levels, so a grouped table can be exact
EFFECTS = {f"d{k:02d}": (-0.8 if k % 3 == 0 else 0.0 if k % 3 == 1 else 0.8) for k in range(12)}
RARE = ["r1", "r2", "r3"]  # 8 rows each: below min_level_rows


def _frame(n: int = 2000, seed: int = 0, missing: float = 0.25) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 70, n).astype(float)
    levels = np.array(list(EFFECTS), dtype=object)
    p = np.linspace(2.0, 1.0, len(levels))
    district = rng.choice(levels, n, p=p / p.sum()).astype(object)
    district[: 8 * len(RARE)] = np.repeat(RARE, 8)
    effect = np.array([EFFECTS.get(d, 0.3) for d in district])
    gone = rng.random(n) < missing
    logit = -0.05 * (age - 40) + effect + 0.6 * gone
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    district[gone] = None
    return pd.DataFrame({"age": age, "district": district}), y


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return _frame()


@pytest.fixture(scope="module")
def fitted(data: tuple[pd.DataFrame, np.ndarray]) -> PointsClassifier:
    X, y = data
    return PointsClassifier(monotone={"age": "decreasing"}).fit(X, y)


def _table(clf: PointsClassifier | Scorecard, feature: str) -> dict[object, int]:
    (t,) = [t for t in clf.tables_ if t.feature == feature]
    return {c: int(p) for c, p in zip(t.categories, t.points)} | {None: int(t.missing_points)}


def test_reference_is_the_most_common_level_with_zero_points(fitted: PointsClassifier, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, _ = data
    most_common = X["district"].value_counts().idxmax()
    assert fitted.categorical_levels_["district"]["reference"] == most_common
    assert _table(fitted, "district")[most_common] == 0
    spec = fitted.to_spec(name="t")
    (f,) = [f for f in spec.factors if f.feature == "district"]
    assert [b.points for b in f.bins if b.equals == most_common] == [0]


def test_one_step_is_one_non_zero_row() -> None:
    """A single lower-risk level shows as one negative row, not as points on every other level."""
    rng = np.random.default_rng(3)
    n = 3000
    district = rng.choice([f"d{k}" for k in range(10)], n).astype(object)
    y = (rng.random(n) < np.where(district == "d7", 0.15, 0.55)).astype(int)
    clf = PointsClassifier(max_items=1, max_steps=1).fit(pd.DataFrame({"district": district}), y)
    pts = _table(clf, "district")
    assert pts["d7"] < 0 and clf.n_steps_ == 1
    assert clf.n_nonzero_bins_ == 1 == sum(1 for k, v in pts.items() if k is not None and v != 0)


def test_not_recorded_is_its_own_level_or_the_reference(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    own = PointsClassifier(monotone={"age": "decreasing"}).fit(X, y)
    assert own.categorical_levels_["district"]["not_recorded"] == "own level"
    assert _table(own, "district")[None] > 0  # 25% not recorded, with higher risk
    Xr, yr = _frame(missing=0.005)
    few = PointsClassifier(monotone={"age": "decreasing"}).fit(Xr, yr)
    assert few.categorical_levels_["district"]["not_recorded"] == "as reference"
    assert _table(few, "district")[None] == 0


def test_rare_levels_merged_into_one_level(fitted: PointsClassifier) -> None:
    assert sorted(fitted.categorical_levels_["district"]["other"]) == RARE
    pts = _table(fitted, "district")
    assert len({pts[r] for r in RARE}) == 1


def test_levels_grouped_by_outcome_rate(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    """Three true groups of levels come out as a few rows of the table, in the order of their
    effects; the steps on the district are groups, not one level each; the spec shows levels
    with the same points as one row."""
    X, y = data
    clf = PointsClassifier(max_items=2, max_steps=6, monotone={"age": "decreasing"}).fit(X, y)
    pts = _table(clf, "district")
    low = {pts[d] for d, e in EFFECTS.items() if e < 0}
    high = {pts[d] for d, e in EFFECTS.items() if e > 0}
    assert max(low) < min(high)
    distinct = len({v for k, v in pts.items() if k is not None})
    assert distinct <= 4 < len(EFFECTS)
    on_district = [c for c in clf.conditions_ if c.feature == "district"]
    assert on_district and all(len(c.members) > 1 for c in on_district)
    rows = clf.to_spec(name="t").table_rows()
    start = next(i for i, r in enumerate(rows) if r[0] == "district")
    block = [rows[start]] + [r for r in rows[start + 1:] if r[0] == ""][: distinct]
    assert len({r[2] for r in block[:distinct]}) == distinct  # one row per distinct points


def test_condition_reading_does_not_spend_items_one_level_at_a_time() -> None:
    """30 levels, each with its own effect: the condition reading's 8 items are not 7 districts."""
    rng = np.random.default_rng(5)
    n = 8000
    levels = np.array([f"d{k:02d}" for k in range(30)], dtype=object)
    effect = dict(zip(levels, rng.normal(0, 0.7, 30)))
    district = rng.choice(levels, n).astype(object)
    priors = rng.poisson(2, n).astype(float)
    logit = 0.4 * priors - 0.8 + np.array([effect[d] for d in district])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    clf = PointsClassifier(item="condition", max_items=8, monotone={"priors": "increasing"}).fit(
        pd.DataFrame({"priors": priors, "district": district}), y)
    on_district = [c for c in clf.conditions_ if c.feature == "district"]
    assert len(on_district) <= 4
    assert all(c.op == "in" and len(c.members) >= 2 for c in on_district)


@pytest.mark.parametrize(("text", "key"), [
    ("18-22", (18.0, 22.0)), ("18 - 22 years", (18.0, 22.0)), ("18\u201322", (18.0, 22.0)), ("18 to 22", (18.0, 22.0)),
    ("10 or more", (10.0, np.inf)), ("10+", (10.0, np.inf)), (">= 10", (10.0, np.inf)), ("at least 10", (10.0, np.inf)),
    ("< 5", (-np.inf, 5.0 - 1e-9)), ("under 18", (-np.inf, 18.0 - 1e-9)), ("5 or fewer", (-np.inf, 5.0)),
    ("up to 5", (-np.inf, 5.0)), ("over 60", (60.0 + 1e-9, np.inf)), ("3", (3.0, 3.0)), ("none", (0.0, 0.0)),
    ("Burglary", None), ("D01", None), ("22-18", None), ("", None),
])
def test_ordinal_key(text: str, key: tuple[float, float] | None) -> None:
    assert ordinal_key(text) == key


def _banded(n: int = 3000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    bands = np.array(["under 18", "18-20", "21-24", "25-34", "35 or more"], dtype=object)
    k = rng.integers(0, 5, n)
    y = (rng.random(n) < np.array([0.7, 0.6, 0.5, 0.4, 0.25])[k]).astype(int)
    return pd.DataFrame({"age_band": bands[k]}), y


def test_ordinal_text_recognised_ordered_and_constrained(tmp_path: Path) -> None:
    X, y = _banded()
    clf = PointsClassifier(monotone={"age_band": "decreasing"}).fit(X, y)
    assert clf.categorical_levels_["age_band"]["ordinal"] is True
    spec = clf.to_spec(name="bands")
    (f,) = spec.factors
    assert [b.equals for b in f.bins] == ["under 18", "18-20", "21-24", "25-34", "35 or more"]
    assert f.monotone == "decreasing"
    pts = [b.points for b in f.bins]
    assert pts == sorted(pts, reverse=True) and pts[0] > pts[-1]
    assert all(c.op == "at least" for c in clf.conditions_)
    path = tmp_path / "bands.json"
    clf.save_spec(path, name="bands")
    np.testing.assert_array_equal(iomscore.get_scorer(str(path)).points({"age_band": X["age_band"].to_numpy()}),
                                  clf.decision_function(X))
    card = Scorecard(monotone={"age_band": "decreasing"}).fit(X, y)
    (cf,) = card.to_spec(name="bands-card").factors
    assert [b.equals for b in cf.bins] == [b.equals for b in f.bins] and cf.monotone == "decreasing"


def test_partly_ordinal_text_warned_and_nominal(caplog: pytest.LogCaptureFixture) -> None:
    X, y = _banded()
    X = X.assign(age_band=X["age_band"].replace({"21-24": "unknown"}))
    with caplog.at_level(logging.WARNING, logger="iomscore.learn._levels"):
        clf = PointsClassifier().fit(X, y)
    assert clf.categorical_levels_["age_band"]["ordinal"] is False
    assert any("treated as nominal" in r.getMessage() and "'unknown'" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="categorical; a constraint needs an order") as err:
        PointsClassifier(monotone={"age_band": "decreasing"}).fit(X, y)
    assert str(err.value) == ERR_MONOTONE_CATEGORICAL.format(feature="age_band")


def test_nominal_text_not_warned(caplog: pytest.LogCaptureFixture, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    with caplog.at_level(logging.WARNING, logger="iomscore.learn._levels"):
        PointsClassifier(max_items=2).fit(X, y)
    assert not caplog.records


def test_scorecard_rare_levels_pooled_and_reference(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    card = Scorecard().fit(X, y)
    pts = _table(card, "district")
    assert len({pts[r] for r in RARE}) == 1
    assert pts[X["district"].value_counts().idxmax()] == 0


def test_braces_in_labels_and_categories_print_as_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    cats = np.array(["a {b}", "c}", "{0}"], dtype=object)
    k = rng.integers(0, 3, 900)
    y = (rng.random(900) < np.array([0.2, 0.5, 0.8])[k]).astype(int)
    clf = PointsClassifier().fit(pd.DataFrame({"kind": cats[k]}), y)
    path = tmp_path / "braces.json"
    clf.save_spec(path, name="braces", feature_labels={"kind": "Kind {of} thing"})
    batch = iomscore.get_scorer(str(path)).score_features({"kind": cats[k][:6]})
    texts = {str(r) for part in batch.part_reasons for r in np.asarray(part).ravel()}
    assert any("Kind {of} thing is a {b}" in t for t in texts), texts


def test_determinism(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    a = PointsClassifier(monotone={"age": "decreasing"}).fit(X, y).to_spec(name="t").with_sha256()
    b = PointsClassifier(monotone={"age": "decreasing"}).fit(X, y).to_spec(name="t").with_sha256()
    assert a.sha256 == b.sha256


# -- invariants (hypothesis): small data, a few examples; each example is one fit -------------

SMALL = _frame(n=900, seed=7)


@settings(max_examples=8, deadline=None)
@given(names=st.permutations([f"n{k}" for k in range(len(EFFECTS) + len(RARE))]))
def test_relabelling_levels_does_not_change_predictions(names: list[str]) -> None:
    X, y = SMALL
    old = [*EFFECTS, *RARE]
    mapping = dict(zip(old, ["L" + n for n in names]))
    X2 = X.assign(district=X["district"].map(mapping).astype(object).where(X["district"].notna(), None))
    a = PointsClassifier(monotone={"age": "decreasing"}).fit(X, y)
    b = PointsClassifier(monotone={"age": "decreasing"}).fit(X2, y)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X2))
    assert b.categorical_levels_["district"]["reference"] == mapping[a.categorical_levels_["district"]["reference"]]
    assert _table(b, "district")[b.categorical_levels_["district"]["reference"]] == 0


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), n_rare=st.integers(2, 3), label=st.sampled_from(["other", "zz", "r0"]))
def test_merging_rare_levels_by_hand_changes_nothing(seed: int, n_rare: int, label: str) -> None:
    """Merging the rare levels into one yourself gives the same bins for the common levels (the
    same predictions for everyone): the learner already scores them as one level."""
    X, y = _frame(n=900, seed=seed)
    rare = RARE[:n_rare]
    keep = ~X["district"].isin(RARE[n_rare:]).to_numpy()
    X, y = X[keep].reset_index(drop=True), y[keep]
    merged = X.assign(district=X["district"].where(~X["district"].isin(rare), label))
    a = PointsClassifier(monotone={"age": "decreasing"}).fit(X, y)
    b = PointsClassifier(monotone={"age": "decreasing"}).fit(merged, y)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(merged))
    common = X["district"].notna() & ~X["district"].isin(rare)
    if not any(t.feature == "district" for t in a.tables_):
        assert not any(t.feature == "district" for t in b.tables_)
        return
    pa, pb = _table(a, "district"), _table(b, "district")
    for d in X.loc[common, "district"].unique():
        assert pa[d] == pb[d]
