"""Core properties (issue 2, section 8) on the built-in scorers, with iomscore.testing strategies.

Scorers are constructed once, outside ``@given``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
from iomscore import ReferralTable, score_batch
from iomscore.testing import (
    add_offence,
    points_specs,
    protected_characteristics,
    referrals,
    serious_harm,
)
from iomscore.testing._strategies import _replace

SCORERS = {name: iomscore.get_scorer(name) for name in ("ogrs3", "iom-priority")}
POINTS = SCORERS["iom-priority"]
MONOTONE_FEATURES = ["offences_12m_at_risk", "offences_36m_at_risk", "offence_free_months_at_risk",
                     "neighbourhood_offences_24m_at_risk", "acquisitive_offences_24m_at_risk", "proven_offences"]


def _rows(batch: iomscore.ScoreBatch) -> list[tuple[object, ...]]:
    return [
        (batch.score[i].tobytes(), batch.band[i], None if batch.error is None else batch.error[i],
         batch.part_values[i].tobytes(), tuple(str(r[i]) for r in batch.part_reasons))
        for i in range(len(batch))
    ]


def _score_rows(scorer: iomscore.Scorer, refs: list[iomscore.Referral]) -> list[tuple[object, ...]]:
    return _rows(score_batch(ReferralTable.from_referrals(refs), scorer))


@settings(max_examples=40)
@given(st.data())
def test_adding_an_offence_never_lowers_the_points_score(data: st.DataObject) -> None:
    r = data.draw(referrals())
    more = data.draw(add_offence(r))
    before, after = iomscore.score([r, more], POINTS)
    assert after.score >= before.score


@settings(max_examples=15)
@given(st.data(), points_specs(features=MONOTONE_FEATURES, monotone=True))
def test_adding_an_offence_never_lowers_a_monotone_spec(data: st.DataObject, spec: iomscore.PointsSpec) -> None:
    # Every factor of these specs declares a direction; keep only offending-monotone ones.
    if any(f.monotone != ("decreasing" if f.feature == "offence_free_months_at_risk" else "increasing")
           for f in spec.factors):
        return
    scorer = iomscore.PointsScorer(spec)
    r = data.draw(referrals())
    if r.sanction_summary is not None and not r.sanctions:
        # a first listed offence turns "summary only" (list features not recorded) into a list
        r = _replace(r, sanction_summary=None)
    more = data.draw(add_offence(r))
    before, after = iomscore.score([r, more], scorer)
    assert after.score >= before.score


@pytest.mark.parametrize("name", SCORERS)
@settings(max_examples=30)
@given(r=referrals(), protected=protected_characteristics(), harm=serious_harm())
def test_protected_and_serious_harm_never_change_a_score(name: str, r: iomscore.Referral,
                                                          protected: object, harm: object) -> None:
    scorer = SCORERS[name]
    changed = _replace(r, protected=protected, serious_harm=harm)
    assert _score_rows(scorer, [r]) == _score_rows(scorer, [changed])


@pytest.mark.parametrize("name", SCORERS)
@settings(max_examples=30)
@given(r=referrals())
def test_breakdown_sums_to_the_score(name: str, r: iomscore.Referral) -> None:
    batch = score_batch(ReferralTable.from_referrals([r]), SCORERS[name])
    if not batch.ok[0]:
        return
    total = batch.part_values[0].sum()
    if batch.unit == "points":
        assert total == batch.score[0]
    else:
        assert abs(total - batch.score[0]) < 1e-9


@pytest.mark.parametrize("name", SCORERS)
@settings(max_examples=20)
@given(rs=st.lists(referrals(), min_size=1, max_size=4))
def test_single_equals_batch(name: str, rs: list[iomscore.Referral]) -> None:
    scorer = SCORERS[name]
    together = _score_rows(scorer, rs)
    alone = [_score_rows(scorer, [r])[0] for r in rs]
    assert together == alone


@pytest.mark.parametrize("name", SCORERS)
@settings(max_examples=20)
@given(data=st.data(), rs=st.lists(referrals(), min_size=2, max_size=5))
def test_shuffled_input_gives_the_same_output_per_person(name: str, data: st.DataObject,
                                                         rs: list[iomscore.Referral]) -> None:
    rs = [r.model_copy(update={"person_id": f"P{i}"}) for i, r in enumerate(rs)]
    order = data.draw(st.permutations(range(len(rs))))
    scorer = SCORERS[name]
    a = _score_rows(scorer, rs)
    b = _score_rows(scorer, [rs[i] for i in order])
    assert [b[order.index(i)] for i in range(len(rs))] == a


@pytest.mark.parametrize("name", SCORERS)
@settings(max_examples=20)
@given(r=referrals())
def test_json_round_trips(name: str, r: iomscore.Referral) -> None:
    back = iomscore.Referral.model_validate_json(r.model_dump_json())
    assert back == r
    batch = score_batch(ReferralTable.from_referrals([r]), SCORERS[name])
    if batch.ok[0]:
        result = batch.result(0)
        assert iomscore.ScoreResult.model_validate_json(result.model_dump_json()) == result


@settings(max_examples=20)
@given(spec=points_specs())
def test_spec_json_round_trip(tmp_path_factory: pytest.TempPathFactory, spec: iomscore.PointsSpec) -> None:
    path = Path(tmp_path_factory.mktemp("spec")) / "spec.json"
    path.write_text(spec.to_json(), encoding="utf-8")
    loaded = iomscore.load_spec(path)
    assert loaded.sha256 == spec.sha256
    a, b = iomscore.PointsScorer(spec), iomscore.PointsScorer(loaded)
    cols = {f: np.arange(-2.0, 60.0) for f in spec.features}
    assert a.identity == b.identity
    np.testing.assert_array_equal(a.score_features(cols).score, b.score_features(cols).score)


def _same_day_occasions() -> tuple[iomscore.Referral, iomscore.Referral, iomscore.Referral]:
    def s(group: str, occasion: str) -> dict[str, str]:
        return {"offence_date": "2005-01-01", "sanction_date": "2005-01-01", "offence_group": group,
                "disposal": "caution", "occasion_id": occasion}

    kw = {"person_id": "P1", "assessment_date": "2005-01-01", "date_of_birth": "1995-01-01", "sex": "male"}
    a = iomscore.Referral(**kw, sanctions=[s("robbery", "A"), s("violence", "B")])
    b = iomscore.Referral(**kw, sanctions=[s("violence", "B"), s("robbery", "A")])
    x = iomscore.Referral(**{**kw, "person_id": "X"}, sanctions=[s("shop_theft", "B")])
    return a, b, x


def test_same_day_occasions_do_not_depend_on_listing_or_batch_order() -> None:
    a, b, x = _same_day_occasions()
    ogrs3 = SCORERS["ogrs3"]
    assert _score_rows(ogrs3, [a]) == _score_rows(ogrs3, [b])
    assert _score_rows(ogrs3, [x, a])[1] == _score_rows(ogrs3, [a])[0]


@settings(max_examples=40, deadline=None)
@given(st.lists(referrals(), min_size=1, max_size=8, unique_by=lambda r: r.person_id),
       st.sampled_from(sorted(SCORERS)))
def test_warnings_survive_a_score_file(refs: list[iomscore.Referral], name: str) -> None:
    """Score files join a row's warnings with "; ", so no warning may contain it."""
    batch = score_batch(ReferralTable.from_referrals(refs), SCORERS[name])
    for row in batch.warnings.tolist():
        assert all("; " not in w for w in row), row
