"""Learning from referrals: synthetic outcomes, learn(), EstimatorScorer as a Scorer, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import iomscore
from iomscore import synth
from iomscore.cli import main
from iomscore.learn import (
    DEFAULT_FEATURES,
    EstimatorScorer,
    LearnError,
    feature_frame,
    learn,
    outcome_target,
)
from iomscore.testing import check_scorer

N = 2500


@pytest.fixture(scope="module")
def table() -> iomscore.ReferralTable:
    return synth.generate(N, seed=11)


@pytest.fixture(scope="module")
def outcomes(table: iomscore.ReferralTable) -> pd.DataFrame:
    return pd.DataFrame(synth.generate_outcomes(table, seed=11))


@pytest.fixture(scope="module")
def learned(table: iomscore.ReferralTable, outcomes: pd.DataFrame):  # type: ignore[no-untyped-def]
    return learn(table, outcomes, "reoffended_2y")


def test_synthetic_outcomes_seeded_and_follow_the_model(table: iomscore.ReferralTable) -> None:
    a, b = synth.generate_outcomes(table, seed=3), synth.generate_outcomes(table, seed=3)
    assert all(np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f") for k in a)
    c = synth.generate_outcomes(table, seed=4)
    assert not np.array_equal(a["reoffended_2y"], c["reoffended_2y"], equal_nan=True)
    y = a["reoffended_2y"]
    known = ~np.isnan(y)
    assert 0.05 < np.isnan(y).mean() < 0.25  # censored people are not known
    p = synth.outcome_probability(table)
    # the drawn outcomes follow the stated probabilities (calibrated to a few points)
    assert abs(y[known].mean() - p[known].mean()) < 0.03
    assert roc_auc_score(y[known], p[known]) > 0.7
    # a 1-year event implies a 2-year event; nobody has a reoffence date without an outcome
    one = a["reoffended_1y"] == 1
    assert (y[one] == 1).all()
    assert ((a["reoffence_date"] != "") == ((a["reoffended_2y"] == 1) | (a["reoffended_1y"] == 1))).all()


def test_learner_recovers_generating_ranking(table: iomscore.ReferralTable, learned) -> None:  # type: ignore[no-untyped-def]
    spec = learned.spec
    assert set(spec.features) <= set(DEFAULT_FEATURES)
    assert len(spec.factors) <= 8
    assert sum(1 for f in spec.factors for b in f.bins if b.points) >= 1
    # the generating model's strongest terms are in the table
    assert {"offences_12m_at_risk", "need_drugs_alcohol"} <= set(spec.features)
    points = iomscore.PointsScorer(spec).score_features(iomscore.FeatureFrame(table.batch)).score
    truth = synth.outcome_probability(table)
    rho = spearmanr(points, truth).statistic
    assert rho > 0.8, rho
    # the spec scores exactly as the classifier
    np.testing.assert_array_equal(points, learned.classifier.decision_function(learned.X))


def test_fitted_only_on_people_at_risk(table: iomscore.ReferralTable, outcomes: pd.DataFrame, learned) -> None:  # type: ignore[no-untyped-def]
    known = outcomes["reoffended_2y"].notna().to_numpy()
    np.testing.assert_array_equal(learned.at_risk, known)
    assert learned.spec.provenance["data"]["at_risk"] == int(known.sum())
    # the year-2 outcome derived from dates: nobody who reoffended in year 1 is at risk
    y2, r2 = outcome_target(outcomes, np.asarray(table.batch.person_id), "y_year2_given_none_year1")
    assert not (r2 & (outcomes["reoffended_1y"].to_numpy() == 1)).any()
    assert r2.sum() > 0 and y2[r2].sum() > 0
    # a person with no outcome row is not at risk
    _, r = outcome_target(outcomes.iloc[1:], np.asarray(table.batch.person_id), "reoffended_2y")
    assert not r[0] and (r[1:] == known[1:]).all()


def test_features_declared_never_protected(table: iomscore.ReferralTable, outcomes: pd.DataFrame) -> None:
    with pytest.raises(LearnError, match="only when asked"):
        feature_frame(table, ["age_at_assessment", "sex"])
    with pytest.raises(LearnError, match="not iomscore features"):
        feature_frame(table, ["ethnicity"])
    with pytest.raises(LearnError, match="not iomscore features"):
        feature_frame(table, ["rosh_level"])
    assert "sex" not in feature_frame(table).columns
    assert "sex" in feature_frame(table, include_sex=True).columns
    with pytest.raises(LearnError, match="no column 'nope'"):
        learn(table, outcomes, "nope")
    bad = outcomes.assign(reoffended_2y=outcomes["reoffended_2y"].fillna(0) * 2)
    with pytest.raises(LearnError, match="must hold 1/0"):
        learn(table, bad, "reoffended_2y")


def test_feature_labels(learned) -> None:  # type: ignore[no-untyped-def]
    labels = {f.feature: f.label for f in learned.spec.factors}
    assert labels.get("offences_12m_at_risk") == "Proven offences in the last 12 months at risk"
    clf = learned.classifier
    spec = clf.to_spec(name="relabelled", feature_labels={"offences_12m_at_risk": "Recent offending"})
    assert {f.feature: f.label for f in spec.factors}["offences_12m_at_risk"] == "Recent offending"
    # labels change the text, never the points
    assert [b.points for f in spec.factors for b in f.bins] == [b.points for f in learned.spec.factors for b in f.bins]


def test_learned_spec_passes_check(learned) -> None:  # type: ignore[no-untyped-def]
    report = check_scorer(iomscore.PointsScorer(learned.spec), max_examples=25, raise_on_failure=False)
    assert report.ok, report.to_text()


def test_spec_tables(learned) -> None:  # type: ignore[no-untyped-def]
    spec = learned.spec
    md, html, text = spec.to_markdown(), spec.to_html(), spec.to_text()
    for f in spec.factors:
        assert f.label in md and f.label in text
    assert md.count("| not recorded |") == len(spec.factors)
    assert html.count("<tr>") == len(spec.table_rows()) + len(spec.bands) + len(spec._probability_rows()) + 3
    assert f"| {spec.min_total} |" in md and f"| {spec.max_total} |" in md
    # categories with the same points are one row
    cat = iomscore.PointsSpec.model_validate({
        "name": "c", "version": "1", "title": "C", "bands": [{"name": "all"}],
        "factors": [{"name": "g", "feature": "current_ogrs3_group", "label": "Group", "bins": [
            {"equals": 1, "points": 2, "reason": "a"}, {"equals": 2, "points": 0, "reason": "b"},
            {"equals": 3, "points": 2, "reason": "c"}]}]})
    assert cat.table_rows()[:2] == [("Group", "1, 3", 2), ("", "2", 0)]


def _estimator(table: iomscore.ReferralTable, outcomes: pd.DataFrame, model: object, **kw: object) -> EstimatorScorer:
    feats = ["age_at_assessment", "offences_12m_at_risk", "offence_free_months_at_risk", "need_drugs_alcohol"]
    X = feature_frame(table, feats)
    if isinstance(model, LogisticRegression):  # a model that refuses missing values
        X = X.fillna(X.median())
    y, r = outcome_target(outcomes, np.asarray(table.batch.person_id), "reoffended_2y")
    return EstimatorScorer(model, name="my-model", **kw).fit(X[r], y[r])  # type: ignore[arg-type]


@pytest.mark.parametrize("which", ["logistic", pytest.param("hgb", marks=pytest.mark.slow)])
def test_estimator_scorer_is_a_scorer(which: str, table: iomscore.ReferralTable, outcomes: pd.DataFrame, tmp_path: Path) -> None:
    if which == "logistic":
        s = _estimator(table, outcomes, LogisticRegression(max_iter=500))
    else:
        s = _estimator(table, outcomes, HistGradientBoostingClassifier(max_iter=30, monotonic_cst=[-1, 1, -1, 1]),
                       n_permutations=2)
        assert s.monotone == {"age_at_assessment": "decreasing", "offences_12m_at_risk": "increasing",
                              "offence_free_months_at_risk": "decreasing", "need_drugs_alcohol": "increasing"}
    assert isinstance(s, iomscore.Scorer)
    referral = iomscore.Referral.model_validate(json.loads(_first_referral_json(table)))
    result = iomscore.score(referral, s)
    assert result.breakdown[0].name == "baseline"
    assert abs(sum(p.value for p in result.breakdown) - result.score) < 1e-9
    assert 0 <= result.score <= 100
    # identity: the sha256 of the saved model file
    digest = s.save(tmp_path / "m.joblib")
    assert s.identity.sha256 == digest and s.identity.kind == "estimator"
    loaded = EstimatorScorer.load(tmp_path / "m.joblib", trusted=True, sha256=digest)
    assert loaded.identity == s.identity
    batch = iomscore.score_batch(table, s)
    np.testing.assert_allclose(batch.part_values.sum(axis=1), batch.score, atol=1e-9)
    assert batch.baseline_part == "baseline" and len(set(batch.part_values[:, 0])) == 1
    report = check_scorer(s, max_examples=10, raise_on_failure=False)
    assert report.ok, report.to_text()


def test_estimator_scorer_refuses_non_features(table: iomscore.ReferralTable, outcomes: pd.DataFrame) -> None:
    X = feature_frame(table, ["age_at_assessment", "offences_12m_at_risk"]).fillna(0).rename(
        columns={"age_at_assessment": "age"})
    y, r = outcome_target(outcomes, np.asarray(table.batch.person_id), "reoffended_2y")
    s = EstimatorScorer(LogisticRegression()).fit(X[r], y[r])
    with pytest.raises(ValueError, match="not iomscore features"):
        _ = s.features
    Xs = feature_frame(table, ["sex", "offences_12m_at_risk"], include_sex=True)
    s2 = EstimatorScorer(LogisticRegression()).fit(Xs[r].fillna(0), y[r])
    with pytest.raises(ValueError, match="only when asked"):
        _ = s2.features
    s3 = EstimatorScorer(LogisticRegression(), allow_sex=True).fit(Xs[r].fillna(0), y[r])
    assert s3.features == ("sex", "offences_12m_at_risk")


def _first_referral_json(table: iomscore.ReferralTable) -> str:
    import tempfile

    from iomscore.io import write_referrals_jsonl

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.jsonl"
        write_referrals_jsonl(table, path)
        return path.read_text(encoding="utf-8").splitlines()[0]


def test_cli_learn_score_check_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refs, outs, spec = tmp_path / "refs.jsonl", tmp_path / "outcomes.csv", tmp_path / "table.json"
    assert main(["synth", "-n", "1500", "--seed", "2", "-o", str(refs), "--outcomes", str(outs)]) == 0
    assert main(["learn", str(refs), "--outcomes", str(outs), "--target", "reoffended_2y", "-o", str(spec),
                 "--folds", "3"]) == 0
    err = capsys.readouterr().err
    assert "learned points table AUC" in err and "OGRS3" in err and "iom-priority" in err
    report = (tmp_path / "table.report.md").read_text(encoding="utf-8")
    assert "| learned points table |" in report and "| Factor | Value | Points |" in report
    assert "table.calibration.svg" in report
    assert (tmp_path / "table.calibration.svg").read_text(encoding="utf-8").startswith("<svg")
    loaded = iomscore.load_spec(spec)
    assert loaded.sha256 == json.loads(spec.read_text(encoding="utf-8"))["sha256"]
    capsys.readouterr()
    assert main(["check", str(spec), "--max-examples", "20"]) == 0
    capsys.readouterr()
    assert main(["spec", "show", str(spec), "--format", "markdown"]) == 0
    assert capsys.readouterr().out == loaded.to_markdown()
    assert main(["spec", "show", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(KeyError, match="does not exist"):
        iomscore.get_scorer(str(tmp_path / "missing.json"))


def test_unseen_categories_warned_as_unseen(caplog: pytest.LogCaptureFixture) -> None:
    spec = iomscore.PointsSpec.model_validate({
        "name": "c", "version": "1", "title": "C", "bands": [{"name": "all"}],
        "factors": [{"name": "g", "feature": "current_ogrs3_group", "label": "Group", "bins": [
            {"equals": 1, "points": 2, "reason": "group 1"}, {"equals": 2, "points": 1, "reason": "group 2"}]}]})
    b = iomscore.PointsScorer(spec).score_features({"current_ogrs3_group": np.array([1.0, 7.0, np.nan])})
    assert b.score.tolist() == [2.0, 0.0, 0.0]
    assert b.warnings is not None
    assert "does not list" in b.warnings[1][0] and "not recorded" in b.warnings[2][0]
    assert "does not list" not in b.warnings[2][0]
    assert b.part_reasons[0][1].startswith("Group: 7, a category the spec does not list")
    # the learner says so too
    X = pd.DataFrame({"g": ["a", "b", "a", "b"] * 50})
    y = np.array([1, 0, 1, 1] * 50)
    from iomscore.learn import Scorecard

    clf = Scorecard().fit(X, y)
    with caplog.at_level("WARNING"):
        clf.decision_function(pd.DataFrame({"g": ["a", "z"]}))
    assert "not seen when fitting" in caplog.text and "'z'" in caplog.text


def test_scorecard_sparsity_small_groups_and_flat_factors() -> None:
    from iomscore.learn import Scorecard

    rng = np.random.default_rng(5)
    n = 3000
    X = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(6)})
    X["sex"] = np.where(rng.random(n) < 0.5, "F", "M").astype(object)
    X.loc[:2, "sex"] = None  # three rows not recorded
    X["noise"] = 1.0
    y = (X["x0"] + 0.6 * X["x1"] + 0.3 * X["x2"] + rng.normal(size=n) > 0).astype(int)
    full = Scorecard().fit(X, y)
    small = Scorecard(max_features=2).fit(X, y)
    assert len(small.tables_) <= 2 < len(full.tables_)
    assert {t.feature for t in small.tables_} <= {"x0", "x1"}
    by = {t.feature: t for t in full.tables_}
    # three rows are too few to set the points of "not recorded": they get the average (WoE 0)
    if "sex" in by:
        assert by["sex"].points.min() <= by["sex"].missing_points <= by["sex"].points.max()
    few = Scorecard(min_bin_rows=0).fit(X, y)
    # no factor has all-equal points
    for card in (full, small, few):
        for t in card.tables_:
            assert len({*t.points.tolist(), t.missing_points}) > 1
    with pytest.raises(ValueError, match="max_features"):
        Scorecard(max_features=0).fit(X, y)


def test_not_recorded_is_a_level_of_its_own(tmp_path: Path) -> None:
    from iomscore.learn import PointsClassifier

    rng = np.random.default_rng(9)
    n = 3000
    district = rng.choice(np.array(["north", "south", "east"], dtype=object), n)
    missing = rng.random(n) < 0.3
    district[missing] = None
    age = rng.integers(18, 60, n).astype(float)
    logit = -0.5 + 1.5 * missing - 0.04 * (age - 35)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"district": district, "age": age})
    clf = PointsClassifier(max_items=2, monotone={"age": "decreasing"}).fit(X, y)
    assert any(c.op == "missing" for c in clf.conditions_)
    table = next(t for t in clf.tables_ if t.feature == "district")
    assert table.missing_points > table.points.max()  # not recorded scores more than any district
    spec = clf.to_spec(name="districts")
    path = tmp_path / "d.json"
    path.write_text(spec.to_json(), encoding="utf-8")
    cols = {"district": district, "age": age}
    np.testing.assert_array_equal(iomscore.get_scorer(str(path)).points(cols), clf.decision_function(X))


def test_learned_scorers_select_and_render_like_iom_priority(
    learned, table: iomscore.ReferralTable, outcomes: pd.DataFrame, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The issue's "done when": a learned spec and an EstimatorScorer go through scoring, cohort
    selection and the panel pack exactly as iom-priority does."""
    from iomscore.cohort import select_cohort
    from iomscore.panel import render_panel

    path = tmp_path / "learned.json"
    path.write_text(learned.spec.to_json(), encoding="utf-8")
    scorers = {
        "iom-priority": iomscore.get_scorer("iom-priority"),
        "learned spec": iomscore.get_scorer(str(path)),
        "estimator": _estimator(table, outcomes, LogisticRegression(max_iter=500)),
    }
    for what, scorer in scorers.items():
        batch = iomscore.score_batch(table, scorer)
        selection = select_cohort(table, batch, capacity=20)
        assert len(selection.selected) == 20, what
        chosen = set(selection.selected)
        order = np.argsort(-np.asarray(batch.score, dtype=np.float64), kind="stable")
        assert chosen & {str(p) for p in np.asarray(batch.person_id)[order[:40]]}, what  # highest scores come first
        page = render_panel(selection, table=table, scorer=scorer, generated_at="2026-01-09T09:00:00Z",
                            meeting_date="2026-01-12")
        assert page.startswith("<!DOCTYPE html>") or page.lstrip().lower().startswith("<!doctype html"), what
        ident = scorer.identity
        assert f"{ident.name} {ident.version}" in page and ident.sha256[:12] in page, what  # the model that scored


def test_cli_select_and_panel_with_a_learned_spec(learned, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    refs = tmp_path / "refs.jsonl"
    assert main(["synth", "-n", "300", "--seed", "5", "-o", str(refs)]) == 0
    spec = tmp_path / "learned.json"
    spec.write_text(learned.spec.to_json(), encoding="utf-8")
    assert main(["score", str(refs), "--scorer", str(spec), "-o", str(tmp_path / "scores.csv")]) == 0
    assert main(["select", str(refs), "--scorer", str(spec), "--capacity", "20", "--format", "json",
                 "--out", str(tmp_path / "sel.json")]) == 0
    assert main(["panel", str(refs), "--scorer", str(spec), "--capacity", "20", "--out", str(tmp_path / "p.html"),
                 "--generated-at", "2026-01-09T09:00:00Z", "--meeting-date", "2026-01-12"]) == 0
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    sha = learned.spec.with_sha256().sha256
    assert sha is not None and f"{learned.spec.name} {learned.spec.version}" in page and sha[:12] in page
