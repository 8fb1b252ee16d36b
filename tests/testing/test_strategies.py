"""The public strategies generate valid inputs, including the edge cases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
from iomscore.schema import ReferralTable, check_batch
from iomscore.testing import (
    EDGE_CASES,
    add_offence,
    custody_periods,
    edge_case_referrals,
    pathway_needs,
    points_specs,
    referrals,
    sanction_summaries,
    sanctions,
    tenth_birthday,
)


def _first_violation(referral):  # the cross-field rules on one referral, as the batch path runs them
    v = check_batch(ReferralTable.from_referrals([referral]).batch)
    return (str(v.field[0]), str(v.message[0])) if v.mask[0] else None


@settings(max_examples=150)
@given(referrals())
def test_referrals_pass_every_rule(referral: iomscore.Referral) -> None:
    assert _first_violation(referral) is None
    assert iomscore.Referral.model_validate_json(referral.model_dump_json()) == referral


@settings(max_examples=80)
@given(edge_case_referrals())
def test_edge_cases_pass_every_rule(referral: iomscore.Referral) -> None:
    assert _first_violation(referral) is None


@pytest.mark.parametrize("case", EDGE_CASES)
def test_each_edge_case(case: str) -> None:
    @settings(max_examples=5)
    @given(edge_case_referrals([case]))
    def check(r: iomscore.Referral) -> None:
        assert _first_violation(r) is None
        if case == "no_history":
            assert r.sanctions == () and r.sanction_summary is None
        elif case == "offence_on_assessment_date":
            assert [s.offence_date for s in r.sanctions] == [r.assessment_date]
        elif case == "long_custody":
            assert r.custody[0].end is None and r.custody[0].start == tenth_birthday(r.date_of_birth)
        elif case == "needs_unassessed":
            assert r.needs == iomscore.PathwayNeeds()
        elif case == "leap_day_birth":
            assert (r.date_of_birth.month, r.date_of_birth.day) == (2, 29)

    check()


@settings(max_examples=50)
@given(st.data())
def test_add_offence_stays_valid(data: st.DataObject) -> None:
    r = data.draw(referrals(edge_cases=False))
    more = data.draw(add_offence(r))
    assert _first_violation(more) is None
    assert len(more.sanctions) == len(r.sanctions) + 1


@settings(max_examples=30)
@given(sanctions(assessment_date=dt.date(2024, 2, 29), date_of_birth=dt.date(2014, 2, 28), min_size=1))
def test_sanctions_within_bounds(history: tuple[iomscore.Sanction, ...]) -> None:
    assert 1 <= len(history) <= 6
    for s in history:
        assert dt.date(2024, 2, 28) <= s.offence_date <= s.sanction_date <= dt.date(2024, 2, 29)
    assert sum(s.current for s in history) <= 1


@settings(max_examples=30)
@given(custody_periods(assessment_date=dt.date(2025, 1, 1), earliest=dt.date(2010, 1, 1)))
def test_custody_periods(periods: tuple[iomscore.CustodyPeriod, ...]) -> None:
    for c in periods:
        assert dt.date(2010, 1, 1) <= c.start <= dt.date(2025, 1, 1)
        assert c.end is None or c.end >= c.start


@settings(max_examples=20)
@given(pathway_needs(assessed=True))
def test_assessed_needs(needs: iomscore.PathwayNeeds) -> None:
    assert "not_assessed" not in needs.model_dump().values()


@settings(max_examples=60)
@given(points_specs(features=["offences_12m_at_risk", "need_drugs_alcohol", "age_at_assessment"]), referrals())
def test_points_specs_are_valid_and_score_in_range(spec: iomscore.PointsSpec, r: iomscore.Referral) -> None:
    assert iomscore.PointsSpec.model_validate(spec.model_dump()) == spec
    assert spec.sha256 == spec.compute_sha256()
    result = iomscore.score(r, iomscore.PointsScorer(spec))
    assert spec.min_total <= result.score <= spec.max_total


def test_knob_errors() -> None:
    with pytest.raises(ValueError, match="min_sanctions"):
        referrals(min_sanctions=3, max_sanctions=1)
    with pytest.raises(ValueError, match="unknown edge case"):
        edge_case_referrals(["nope"])
    with pytest.raises(ValueError, match="unknown feature"):
        points_specs(features=["nope"])


def test_public_names() -> None:
    import iomscore.testing as t

    for name in t.__all__:
        assert getattr(t, name) is not None


@settings(max_examples=60)
@given(st.data())
def test_long_recent_summaries_within_bounds(data: st.DataObject) -> None:
    r = data.draw(referrals(edge_cases=False))
    summary = data.draw(sanction_summaries(assessment_date=r.assessment_date, date_of_birth=r.date_of_birth,
                                           min_previous=20, max_previous=25, within_days=91))
    assert 20 <= summary.previous_sanctions <= 25
    earliest = max(tenth_birthday(r.date_of_birth), r.assessment_date - dt.timedelta(days=91))
    assert earliest <= summary.current_conviction_date <= r.assessment_date
    assert tenth_birthday(r.date_of_birth) <= summary.first_sanction_date <= summary.current_conviction_date
    only = r.model_copy(update={"sanctions": (), "sanction_summary": summary})
    assert _first_violation(only) is None


def test_summary_knob_errors() -> None:
    dates = {"assessment_date": dt.date(2025, 1, 1), "date_of_birth": dt.date(2000, 1, 1)}
    with pytest.raises(ValueError, match="min_previous"):
        sanction_summaries(**dates, min_previous=5, max_previous=2)
    with pytest.raises(ValueError, match="within_days"):
        sanction_summaries(**dates, within_days=-1)
