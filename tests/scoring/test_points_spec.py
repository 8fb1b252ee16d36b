"""Points specs: validation, hashing, loading, scoring exactly as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
import iomscore.testing
from iomscore import PointsScorer, ReferralTable
from iomscore.scoring._points import SUMMARY_ONLY_WARNING
from iomscore.scoring._registry import shipped_models_dir
from iomscore.scoring._spec import PointsSpec, SpecError, load_spec
from iomscore.testing import referrals


def tiny(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "tiny", "version": "1.0.0", "title": "Tiny",
        "factors": [
            {"name": "recent", "feature": "offences_12m_at_risk", "label": "Recent offending",
             "monotone": "increasing",
             "bins": [{"upper": 1, "points": 0, "reason": "None recent"},
                      {"lower": 1, "upper": 3, "points": 2, "reason": "{value} recent"},
                      {"lower": 3, "points": 5, "reason": "{value} recent (many)"}]},
            {"name": "drugs", "feature": "need_drugs_alcohol", "label": "Drugs need",
             "bins": [{"upper": 2, "points": 0, "reason": "No significant drugs need"},
                      {"lower": 2, "points": 3, "reason": "Significant drugs need"}],
             "missing_points": 1, "missing_reason": "Drugs need not assessed"},
        ],
        "bands": [{"name": "low", "upper": 4}, {"name": "high", "lower": 4}],
    }
    data.update(overrides)
    return data


def test_scores_exactly_as_the_table_says() -> None:
    scorer = iomscore.PointsScorer(PointsSpec.model_validate(tiny()))
    cols = {"offences_12m_at_risk": np.array([0, 1, 2.0, 3, 10]),
            "need_drugs_alcohol": np.array([np.nan, 0, 2, 1, 2])}
    batch = scorer.score_features(cols)
    assert batch.score.tolist() == [1, 2, 5, 5, 8]
    assert batch.band.tolist() == ["low", "low", "high", "high", "high"]
    assert (batch.part_values.sum(axis=1) == batch.score).all()
    assert batch.part_reasons[0].tolist() == ["None recent", "1 recent", "2 recent", "3 recent (many)", "10 recent (many)"]
    assert batch.part_reasons[1][0] == "Drugs need not assessed"
    assert "drugs need" in batch.warnings[0][0]
    assert scorer.points(cols).tolist() == [1, 2, 5, 5, 8]


@pytest.mark.parametrize(
    ("bad", "phrase"),
    [
        ({"bins": [{"upper": 1, "points": 0, "reason": "a"}, {"lower": 2, "points": 1, "reason": "b"}]}, "contiguous"),
        ({"bins": [{"lower": 0, "upper": 1, "points": 0, "reason": "a"}, {"lower": 1, "points": 1, "reason": "b"}]},
         "lower=null"),
        ({"bins": [{"upper": 1, "points": 3, "reason": "a"}, {"lower": 1, "points": 1, "reason": "b"}],
          "monotone": "increasing"}, "not"),
    ],
)
def test_invalid_factors_are_refused(bad: dict[str, Any], phrase: str) -> None:
    data = tiny()
    data["factors"][0] = {**data["factors"][0], **bad}
    with pytest.raises(ValueError, match=phrase):
        PointsSpec.model_validate(data)


def test_probability_table_must_cover_every_total() -> None:
    with pytest.raises(ValueError, match="no entry for totals"):
        PointsSpec.model_validate(tiny(probability={"outcome": "x", "totals": [0, 1], "probabilities": [0.1, 0.2]}))


def test_hash_is_checked_on_load(tmp_path: Path) -> None:
    spec = PointsSpec.model_validate(tiny())
    path = tmp_path / "tiny.json"
    path.write_text(spec.to_json())
    assert load_spec(path).sha256 == spec.compute_sha256()
    data = json.loads(path.read_text())
    data["factors"][0]["bins"][1]["points"] = 3  # edited after hashing
    path.write_text(json.dumps(data))
    with pytest.raises(SpecError, match="does not match"):
        load_spec(path)


def test_any_edit_changes_the_hash() -> None:
    a = PointsSpec.model_validate(tiny()).compute_sha256()
    b = PointsSpec.model_validate(tiny(title="Tiny!")).compute_sha256()
    assert a != b


def test_toml_specs_load(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        'name = "t"\nversion = "1"\ntitle = "T"\n'
        '[[factors]]\nname = "r"\nfeature = "offences_12m_at_risk"\nlabel = "R"\n'
        '[[factors.bins]]\nupper = 1\npoints = 0\nreason = "none"\n'
        '[[factors.bins]]\nlower = 1\npoints = 1\nreason = "some"\n'
        '[[bands]]\nname = "all"\n'
    )
    with pytest.raises(iomscore.SpecError, match="records no sha256.*allow_unhashed=True"):
        iomscore.get_scorer(str(path))
    scorer = iomscore.get_scorer(str(path), allow_unhashed=True)
    assert scorer.identity.name == "t"


def test_shipped_specs_are_valid_and_hashed() -> None:
    paths = sorted(shipped_models_dir().glob("*.json"))
    assert any(p.name == "iom-priority.json" for p in paths)
    for p in paths:
        recorded = json.loads(p.read_text())["sha256"]
        assert load_spec(p).sha256 == recorded


def test_default_spec_reads_no_protected_or_harm_information() -> None:
    scorer = iomscore.get_scorer("iom-priority")
    assert "sex" not in scorer.features
    for f in scorer.features:
        assert f in iomscore.FEATURES
    spec = scorer.spec  # type: ignore[attr-defined]
    assert all(f.rationale for f in spec.factors), "every factor documents why its numbers are what they are"
    assert set(scorer.monotone) == set(scorer.features)


def test_unknown_scorer_message_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="ogrs3"):
        iomscore.get_scorer("no-such-model")


def test_explanation_formats() -> None:
    r = iomscore.Referral(
        person_id="P<1>", assessment_date="2025-06-01", date_of_birth="1995-02-01",
        sanctions=[{"offence_date": "2025-05-01", "sanction_date": "2025-05-20",
                    "offence_group": "personal_robbery", "disposal": "custody", "custody_days": 200}],
        needs={"drugs_alcohol": "significant_need"})
    result = iomscore.score(r)
    text = iomscore.explain(result)
    assert "1 proven offence in the last 12 months at risk" in text
    md = result.explain("markdown")
    assert md.count("\n| ") == len(result.breakdown) + 2
    assert json.loads(result.explain("json"))["score"] == result.score
    assert result.reasons[0].endswith("+6")  # the largest part comes first
    with pytest.raises(ValueError, match="format"):
        iomscore.explain(result, format="pdf")  # type: ignore[arg-type]


def test_every_shipped_model_and_policy_hash_is_in_the_changelog() -> None:
    # Anything that can move a score must be announced under "Scoring changes".
    repo = Path(__file__).resolve().parents[2]
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    hashes = {p.name: json.loads(p.read_text())["sha256"] for p in (repo / "models").rglob("*.json")}
    hashes["ogrs3"] = iomscore.get_scorer("ogrs3").identity.sha256
    missing = [name for name, sha in hashes.items() if sha not in changelog]
    assert not missing, f"add a Scoring changes entry for {missing}"


# --- a history given only as a summary -------------------------------------------------

ISSUE = iomscore.Referral(
    person_id="S1", assessment_date="2025-06-01", date_of_birth="1990-01-01", sex="male",
    sanction_summary={"previous_sanctions": 30, "first_sanction_date": "2005-03-01",
                      "current_conviction_date": "2025-05-25", "current_offence_group": "burglary_domestic"},
    needs={p: "no_need" for p in ("accommodation", "education_training_employment", "health", "drugs_alcohol",
                                  "finance_benefit_debt", "children_families", "attitudes_thinking_behaviour")},
)
_HISTORY_LABELS = ("proven offences in the last 12 months at risk, proven offences in the last 36 months at risk, "
                   "months at risk since the latest offence, neighbourhood-crime offences in the last 24 months "
                   "at risk and acquisitive offences in the last 24 months at risk")


def test_summary_only_referral_is_scored_with_a_warning() -> None:
    result = iomscore.score(ISSUE, scorer="iom-priority")
    assert (result.score, result.band) == (0.0, "low")  # the spec cannot count offences from a summary ...
    expected = SUMMARY_ONLY_WARNING.format(labels=_HISTORY_LABELS, effect="the score may be too low")
    assert result.warnings == (expected,)  # ... and says so, once, naming what it could not count
    assert "; " not in expected  # score files join a row's warnings with "; "
    assert "Proven offences in the last 12 months at risk: not recorded" in {p.reason for p in result.breakdown}
    assert f"warning: {expected}" in result.explain()
    assert f"- Warning: {expected}" in result.explain("markdown")


def test_summary_warning_comes_before_the_not_recorded_one() -> None:
    r = ISSUE.model_copy(update={"needs": iomscore.PathwayNeeds()})
    warnings = iomscore.score(r, scorer="iom-priority").warnings
    assert len(warnings) == 2
    assert warnings[0].startswith("history given as a summary only: ")
    assert warnings[1].startswith("not recorded") and "drugs and alcohol need" in warnings[1]
    assert "offences" not in warnings[1]


def test_a_spec_on_what_the_summary_gives_scores_it() -> None:
    spec = PointsSpec.model_validate({
        "name": "summary-aware", "version": "1", "title": "Reads the summary",
        "factors": [
            {"name": "record", "feature": "previous_sanctions", "label": "Previous sanctions",
             "monotone": "increasing",
             "bins": [{"upper": 10, "points": 0, "reason": "{value} previous"},
                      {"lower": 10, "points": 6, "reason": "{value} previous"}]},
            {"name": "current", "feature": "current_offence_neighbourhood", "label": "Current neighbourhood crime",
             "bins": [{"upper": 1, "points": 0, "reason": "not neighbourhood"},
                      {"lower": 1, "points": 5, "reason": "neighbourhood crime"}]},
            {"name": "recent", "feature": "current_conviction_months_at_risk", "label": "Recent conviction",
             "monotone": "decreasing",
             "bins": [{"upper": 3, "points": 6, "reason": "{value} months"},
                      {"lower": 3, "points": 0, "reason": "{value} months"}]},
        ],
        "bands": [{"name": "low", "upper": 8}, {"name": "high", "lower": 8}],
    })
    result = iomscore.score(ISSUE, scorer=PointsScorer(spec))
    assert (result.score, result.band, result.warnings) == (17.0, "high", ())


def _one_factor(missing_points: int, feature: str = "offences_12m_at_risk") -> PointsScorer:
    return PointsScorer(PointsSpec.model_validate(tiny(factors=[
        {"name": "recent", "feature": feature, "label": "Recent offending", "missing_points": missing_points,
         "bins": [{"upper": 1, "points": 0, "reason": "none"}, {"lower": 1, "upper": 3, "points": 2, "reason": "v"},
                  {"lower": 3, "points": 5, "reason": "v"}]},
    ])))


@pytest.mark.parametrize(("missing_points", "effect"), [
    (0, "the score may be too low"), (5, "the score may be too high"), (2, "the score may be too low or too high"),
])
def test_summary_warning_says_which_way_the_score_may_be_wrong(missing_points: int, effect: str) -> None:
    batch = _one_factor(missing_points).score_features({"offences_12m_at_risk": np.array([np.nan, 1.0])})
    assert batch.warnings is not None
    assert batch.warnings[0] == (SUMMARY_ONLY_WARNING.format(labels="recent offending", effect=effect),)
    assert batch.warnings[1] == ()
    assert batch.score[0] == missing_points


def test_missing_values_of_other_features_keep_the_not_recorded_warning() -> None:
    batch = _one_factor(0, feature="previous_sanctions").score_features({"previous_sanctions": np.array([np.nan])})
    assert batch.warnings is not None and batch.warnings[0][0].startswith("not recorded")


@settings(max_examples=50)
@given(referrals(min_sanctions=1, with_summary=True, edge_cases=False))
def test_a_summary_beside_a_list_changes_no_iom_priority_result(both: iomscore.Referral) -> None:
    listed = both.model_copy(update={"sanction_summary": None})
    a, b = iomscore.score(listed, scorer="iom-priority"), iomscore.score(both, scorer="iom-priority")
    assert a == b
    assert not any(w.startswith("history given as a summary only") for w in b.warnings)


@settings(max_examples=60)
@given(referrals(max_sanctions=0, with_summary=True, edge_cases=False, sex=st.sampled_from(("male", "female"))),
       st.integers(1, 40))
def test_more_previous_sanctions_never_lower_a_summary_only_score(r: iomscore.Referral, more: int) -> None:
    summary = r.sanction_summary
    assert summary is not None
    bigger = r.model_copy(update={"sanction_summary": summary.model_copy(
        update={"previous_sanctions": summary.previous_sanctions + more})})
    for name in ("iom-priority", "ogrs3"):
        scorer = iomscore.get_scorer(name)
        a, b = iomscore.score_batch(ReferralTable.from_referrals([r, bigger]), scorer).score
        assert b >= a, name
    assert iomscore.testing.declares_offence_monotone(iomscore.get_scorer("iom-priority"))[0]


@settings(max_examples=200, deadline=None)
@given(edges=st.lists(st.floats(allow_nan=False), max_size=12).map(sorted),
       values=st.lists(st.floats() | st.sampled_from([0.0, -0.0, 1.0, 2.0, float("inf"), float("-inf")]), max_size=40))
def test_a_factor_bin_is_the_binary_search_of_its_edges(edges: list[float], values: list[float]) -> None:
    """Bins counted edge by edge (few edges) or searched (many): the same as ``searchsorted``."""
    from types import SimpleNamespace

    from iomscore.scoring._points import _FactorTable

    table = object.__new__(_FactorTable)
    table.categorical, table.edges = False, np.asarray(edges, dtype=np.float64)
    table.factor = SimpleNamespace(bins=[None] * (len(edges) + 1))  # type: ignore[assignment]
    v = np.asarray(values, dtype=np.float64)
    want = np.searchsorted(table.edges, v, side="right")
    want[np.isnan(v)] = len(edges) + 1
    assert table.bin_index(v).tolist() == want.tolist()
