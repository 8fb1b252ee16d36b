"""The feature engine, checked by hand and against a slow, obvious implementation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
from iomscore.features import FEATURES, FeatureFrame, at_risk_days_since
from iomscore.features._engine import LIST_ONLY_FEATURES, LIST_ONLY_NOTE
from iomscore.schema._batch import date_to_day
from iomscore.schema._table import ReferralTable
from iomscore.testing import referrals, sanction_summaries


def ref(sanctions: list[dict[str, Any]], custody: list[dict[str, Any]] | None = None, **kw: Any) -> iomscore.Referral:
    data: dict[str, Any] = {"person_id": "P", "assessment_date": "2025-01-01", "date_of_birth": "1990-06-15",
                            "sex": "male", "sanctions": sanctions, "custody": custody or []}
    data.update(kw)
    return iomscore.Referral.model_validate(data)


def s(off: str, sanc: str, group: str = "shop_theft", disposal: str = "fine", **kw: Any) -> dict[str, Any]:
    return {"offence_date": off, "sanction_date": sanc, "offence_group": group, "disposal": disposal, **kw}


def test_every_feature_has_a_unit_and_description() -> None:
    for d in FEATURES.values():
        assert d.unit and d.description


def test_ages_are_birthday_exact() -> None:
    r = ref([s("2010-06-14", "2010-06-15")])  # first sanction on the 20th birthday
    f = FeatureFrame.from_referrals([r])
    assert f["age_at_first_sanction"][0] == 20
    assert f["age_at_assessment"][0] == 34  # 2025-01-01, birthday 15 June


def test_occasions_not_offences_count_as_sanctions() -> None:
    r = ref([
        s("2020-01-01", "2020-03-01"),
        s("2020-01-05", "2020-03-01", "handling"),  # same date, no id -> same occasion
        s("2022-01-01", "2022-02-01", occasion_id="A"),
        s("2022-01-02", "2022-02-01", "burglary_domestic", occasion_id="A"),
        s("2024-05-01", "2024-06-01", "theft_from_vehicle", disposal="custody", custody_days=120),
    ])
    f = FeatureFrame.from_referrals([r])
    assert f["proven_offences"][0] == 5
    assert f["previous_sanctions"][0] == 2
    assert f["total_sanctions"][0] == 3
    tax = iomscore.offence_taxonomy()
    assert f["current_offence_group"][0] == tax.index("theft_from_vehicle")
    assert f["current_ogrs3_group"][0] == 13


def test_flagged_current_sanction_wins_and_later_occasions_are_not_previous() -> None:
    r = ref([
        s("2020-01-01", "2020-03-01"),
        s("2022-01-01", "2022-02-01", "robbery", current=True),
        s("2024-01-01", "2024-02-01", "fraud_forgery"),
    ])
    f = FeatureFrame.from_referrals([r])
    assert f["previous_sanctions"][0] == 1
    assert f["current_ogrs3_group"][0] == 1
    assert f["age_at_current_conviction"][0] == 31


def test_windows_skip_custody_time() -> None:
    # Offence 500 days before assessment; 200 of those days in custody -> 300 at risk.
    assess = dt.date(2025, 1, 1)
    off = assess - dt.timedelta(days=500)
    start = assess - dt.timedelta(days=400)
    r = ref([s(off.isoformat(), (off + dt.timedelta(days=10)).isoformat())],
            custody=[{"start": start.isoformat(), "end": (start + dt.timedelta(days=200)).isoformat()}])
    f = FeatureFrame.from_referrals([r])
    assert f["offences_12m_at_risk"][0] == 1
    assert f["offences_6m_at_risk"][0] == 0
    assert f["custody_days_total"][0] == 200
    assert f["offence_free_months_at_risk"][0] == 9  # 300 days / 30.44
    assert f["days_since_last_offence"][0] == 500


def test_overlapping_and_ongoing_custody_is_merged() -> None:
    r = ref([s("2020-01-01", "2020-02-01")],
            custody=[{"start": "2024-01-01", "end": "2024-03-01"}, {"start": "2024-02-01", "end": "2024-04-01"},
                     {"start": "2024-12-01"}])
    f = FeatureFrame.from_referrals([r])
    assert f["custody_days_total"][0] == (dt.date(2024, 4, 1) - dt.date(2024, 1, 1)).days + 31


def test_no_history_gives_defined_values() -> None:
    f = FeatureFrame.from_referrals([ref([])])
    assert f["proven_offences"][0] == 0
    assert f["offences_12m_at_risk"][0] == 0
    assert f["offence_free_months_at_risk"][0] == 36
    assert np.isnan(f["previous_sanctions"][0])
    assert np.isnan(f["days_since_last_offence"][0])


def test_rate_uses_at_least_one_year() -> None:
    f = FeatureFrame.from_referrals([ref([s("2024-12-01", "2024-12-15"), s("2024-11-01", "2024-11-15")])])
    assert f["offences_per_year_at_risk"][0] == 2.0


def test_needs_counts() -> None:
    r = ref([], needs={"drugs_alcohol": "significant_need", "accommodation": "significant_need",
                       "health": "some_need", "children_families": "no_need"})
    f = FeatureFrame.from_referrals([r])
    assert (f["needs_significant"][0], f["needs_some"][0], f["needs_not_assessed"][0]) == (2, 1, 3)
    assert f["need_drugs_alcohol"][0] == 2 and np.isnan(f["need_finance_benefit_debt"][0])


def test_restricted_frame_refuses_undeclared_features() -> None:
    frame = FeatureFrame.from_referrals([ref([])]).restricted(["offences_12m_at_risk"])
    frame["offences_12m_at_risk"]
    with pytest.raises(KeyError, match="not declared"):
        frame["sex"]


def test_single_equals_batch_for_every_feature() -> None:
    refs = [
        ref([s("2024-06-01", "2024-07-01", "burglary_domestic")], person_id="A"),
        ref([], person_id="B"),
        ref([s("2019-06-01", "2019-07-01", disposal="custody", custody_days=300)],
            custody=[{"start": "2019-07-01", "end": "2020-01-01"}], person_id="C",
            needs={"health": "some_need"}),
    ]
    batch = FeatureFrame.from_referrals(refs)
    for i, r in enumerate(refs):
        one = FeatureFrame.from_referrals([r])
        for name in FEATURES:
            np.testing.assert_array_equal(one[name], batch[name][i : i + 1], err_msg=name)


@st.composite
def custody_case(draw: st.DrawFn) -> tuple[list[tuple[int, int]], int, int]:
    assess = 20000
    periods = draw(st.lists(st.tuples(st.integers(assess - 400, assess + 5), st.integers(0, 120)), max_size=5))
    spans = [(a, a + length) for a, length in periods if a <= assess]
    day = draw(st.integers(assess - 450, assess))
    return spans, day, assess


@given(custody_case())
def test_at_risk_days_match_a_day_by_day_count(case: tuple[list[tuple[int, int]], int, int]) -> None:
    spans, day, assess = case
    in_custody = set()
    for a, b in spans:
        in_custody.update(range(a, min(b, assess)))
    expected = sum(1 for d in range(day, assess) if d not in in_custody)
    base_day = dt.date(1970, 1, 1)
    r = iomscore.Referral(
        person_id="X", assessment_date=base_day + dt.timedelta(days=assess), date_of_birth="1960-01-01",
        custody=[{"start": base_day + dt.timedelta(days=a), "end": base_day + dt.timedelta(days=b)} for a, b in spans],
    )
    frame = FeatureFrame(ReferralTable.from_referrals([r]).batch)
    got = at_risk_days_since(frame, np.array([day]), np.array([0]))
    assert got[0] == expected
    assert date_to_day(r.assessment_date) == assess


# --- a history given only as a summary -------------------------------------------------

ISSUE_SUMMARY = {"previous_sanctions": 30, "first_sanction_date": "2005-03-01",
                 "current_conviction_date": "2024-12-24", "current_offence_group": "burglary_domestic"}


def test_summary_gives_what_it_determines_and_no_counts() -> None:
    f = FeatureFrame.from_referrals([ref([], sanction_summary=ISSUE_SUMMARY)])
    tax = iomscore.offence_taxonomy()
    assert (f["previous_sanctions"][0], f["total_sanctions"][0]) == (30, 31)
    assert f["age_at_first_sanction"][0] == 14 and f["age_at_current_conviction"][0] == 34
    assert f["current_offence_group"][0] == tax.index("burglary_domestic")
    assert f["current_offence_neighbourhood"][0] == 1 and f["current_offence_acquisitive"][0] == 1
    assert f["current_conviction_months_at_risk"][0] == 0  # 8 days ago
    for name in LIST_ONLY_FEATURES:
        assert np.isnan(f[name][0]), name  # not recorded, never a silent 0


def test_list_only_features_are_the_offence_counts() -> None:
    assert LIST_ONLY_FEATURES == {
        "proven_offences", "offences_6m_at_risk", "offences_12m_at_risk", "offences_24m_at_risk",
        "offences_36m_at_risk", "offences_per_year_at_risk", "offence_free_months_at_risk",
        "neighbourhood_offences", "neighbourhood_offences_24m_at_risk", "acquisitive_offences",
        "acquisitive_offences_24m_at_risk", "violent_offences", "drug_offences",
    }
    for name, d in FEATURES.items():
        assert d.needs_list == (name in LIST_ONLY_FEATURES)
        assert d.description.endswith(LIST_ONLY_NOTE) == d.needs_list, name


def test_months_since_current_conviction_are_at_risk() -> None:
    # Convicted 400 days before the assessment, 200 of them in custody: 200 days at risk.
    summary = dict(ISSUE_SUMMARY, current_conviction_date="2023-11-28")
    r = ref([], custody=[{"start": "2024-01-01", "end": "2024-07-19"}], sanction_summary=summary)
    f = FeatureFrame.from_referrals([r])
    assert f["custody_days_total"][0] == 200
    assert f["current_conviction_months_at_risk"][0] == 6  # 200 / 30.44


def test_current_offence_flags_and_months_from_a_list() -> None:
    f = FeatureFrame.from_referrals([
        ref([s("2024-05-01", "2024-06-01", "burglary_domestic"), s("2024-09-01", "2024-10-01", "shop_theft")]),
        ref([]),
    ])
    assert (f["current_offence_neighbourhood"][0], f["current_offence_acquisitive"][0]) == (0, 1)
    assert f["current_conviction_months_at_risk"][0] == 3  # 92 days
    for name in ("current_offence_neighbourhood", "current_offence_acquisitive", "current_conviction_months_at_risk"):
        assert np.isnan(f[name][1]), name  # no history: nothing to read


_summary_only = referrals(max_sanctions=0, with_summary=True, edge_cases=False)


@settings(max_examples=60)
@given(_summary_only)
def test_summary_only_features_follow_the_summary(r: iomscore.Referral) -> None:
    summary = r.sanction_summary
    assert summary is not None and not r.sanctions
    f = FeatureFrame.from_referrals([r])
    tax = iomscore.offence_taxonomy()
    group = tax.index(summary.current_offence_group)
    assert f["previous_sanctions"][0] == summary.previous_sanctions
    assert f["current_offence_group"][0] == group
    assert f["current_offence_neighbourhood"][0] == tax.flag_table["neighbourhood"][group]
    assert f["current_offence_acquisitive"][0] == tax.flag_table["acquisitive"][group]
    months = f["current_conviction_months_at_risk"][0]
    assert 0 <= months <= (r.assessment_date - summary.current_conviction_date).days / 30.436875
    assert all(np.isnan(f[name][0]) for name in LIST_ONLY_FEATURES)


@settings(max_examples=60)
@given(referrals(min_sanctions=1, with_summary=False, edge_cases=False), st.data())
def test_a_summary_beside_a_list_does_not_change_the_counts(r: iomscore.Referral, data: st.DataObject) -> None:
    summary = data.draw(sanction_summaries(assessment_date=r.assessment_date, date_of_birth=r.date_of_birth))
    both = r.model_copy(update={"sanction_summary": summary})
    a, b = FeatureFrame.from_referrals([r]), FeatureFrame.from_referrals([both])
    for name in LIST_ONLY_FEATURES | {"days_since_last_offence", "custody_days_total"}:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert not (name in LIST_ONLY_FEATURES and np.isnan(b[name][0])), name


@settings(max_examples=40)
@given(st.lists(st.one_of(_summary_only, referrals(edge_cases=True)), min_size=1, max_size=5))
def test_single_equals_batch_with_summary_only_referrals(refs: list[iomscore.Referral]) -> None:
    batch = FeatureFrame.from_referrals(refs)
    for i, r in enumerate(refs):
        one = FeatureFrame.from_referrals([r])
        for name in FEATURES:
            np.testing.assert_array_equal(one[name], batch[name][i : i + 1], err_msg=name)
