"""When would they leave: properties of :func:`iomscore.cohort.leaves_after` (hypothesis).

Never earlier than the assessment date; consistent with re-scoring at the date it gives (and not
at the month before); for an offence-monotone scorer the score never rises with offence-free
time, and starting k months later gives the same date, k months sooner.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import iomscore
from iomscore.cohort._leaves import add_months, leaves_after
from iomscore.scoring import get_scorer, score_batch
from iomscore.testing import referrals

SCORER = get_scorer("iom-priority")
people = st.lists(referrals(min_sanctions=1, max_sanctions=6), min_size=1, max_size=6,
                  unique_by=lambda r: r.person_id)


def _at(batch, months):
    return dataclasses.replace(batch, assessment_day=add_months(batch.assessment_day, months).astype(
        batch.assessment_day.dtype))


@given(people, st.integers(1, 20))
def test_never_earlier_than_the_date_given_and_consistent_with_rescoring(refs, threshold) -> None:
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    out = leaves_after(batch, SCORER, threshold=threshold, max_months=24)
    found = ~np.isnan(out.months)
    assert (out.months[found] >= 0).all() and (out.day[found] >= batch.assessment_day[found]).all()
    for i in np.flatnonzero(found):
        m = int(out.months[i])
        one = batch.take(np.array([i]))
        assert score_batch(_at(one, m), SCORER).score[0] < threshold
        if m > 0:
            assert score_batch(_at(one, m - 1), SCORER).score[0] >= threshold
        assert out.for_person(int(i))["date"] >= str(np.datetime64(int(batch.assessment_day[i]), "D"))
    for i in np.flatnonzero(~found):  # not within 24 months: never below at any month checked
        one = batch.take(np.array([i]))
        assert all(score_batch(_at(one, m), SCORER).score[0] >= threshold for m in (0, 12, 24))


@given(people)
def test_the_score_of_an_offence_monotone_scorer_never_rises_with_offence_free_time(refs) -> None:
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    path = np.stack([score_batch(_at(batch, m), SCORER).score for m in range(0, 37, 3)])
    assert (np.diff(path, axis=0) <= 1e-9).all()


@given(people, st.integers(1, 15), st.integers(0, 6))
def test_starting_later_gives_the_same_date_sooner(refs, threshold, k) -> None:
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    days = batch.assessment_day.astype("datetime64[D]")
    assume(((days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) < 28).all())
    now = leaves_after(batch, SCORER, threshold=threshold, max_months=30)
    later = leaves_after(_at(batch, k), SCORER, threshold=threshold, max_months=30)
    both = ~np.isnan(now.months) & ~np.isnan(later.months) & (now.months >= k)
    assert (later.months[both] == now.months[both] - k).all() and (later.day[both] == now.day[both]).all()
    assert (later.months[~np.isnan(now.months) & (now.months <= k)] == 0).all()


def test_band_rule_and_sentence() -> None:
    r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
                          sanctions=[{"offence_date": "2025-05-01", "sanction_date": "2025-05-10",
                                      "offence_group": "burglary_domestic", "disposal": "community_order"}] * 1)
    out = leaves_after(iomscore.ReferralTable.from_referrals([r]))
    start = score_batch(iomscore.ReferralTable.from_referrals([r]), SCORER)
    assert out.months[0] > 0 and out.band_then[0] != start.band[0]
    assert "band lower than at the assessment date after" in out.sentence(0) and "if not in custody" in out.sentence(0)
