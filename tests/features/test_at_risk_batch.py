"""Days at risk over a batch: many people, many query days, against a day-by-day count."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
from iomscore.features import FeatureFrame, at_risk_days_since
from iomscore.features._engine import WINDOW_DAYS
from iomscore.schema._table import ReferralTable

_BASE = dt.date(1970, 1, 1)
_ASSESS = 20000


def _date(day: int) -> dt.date:
    return _BASE + dt.timedelta(days=day)


# A person: assessment day offset, custody periods as (start before the assessment, length or
# None for ongoing); the periods may overlap, touch and run past the assessment.
_person = st.integers(-30, 30).flatmap(lambda shift: st.tuples(
    st.just(shift),
    st.lists(st.tuples(st.integers(_ASSESS + shift - 500, _ASSESS + shift), st.one_of(st.none(), st.integers(0, 150))),
             max_size=6),
))


def _expected(assess: int, periods: list[tuple[int, int | None]], day: int) -> int:
    """Days in ``[day, assess)`` outside every custody period (``assess - day`` after it)."""
    if day >= assess:
        return assess - day
    inside: set[int] = set()
    for start, length in periods:
        end = assess if length is None else min(start + length, assess)
        inside.update(range(start, end))
    return sum(1 for d in range(day, assess) if d not in inside)


@settings(max_examples=150, deadline=None)
@given(st.lists(_person, min_size=1, max_size=6), st.data())
def test_at_risk_days_of_many_rows_match_a_day_by_day_count(people: list[tuple[int, list[tuple[int, int | None]]]],
                                                            data: st.DataObject) -> None:
    refs = [
        iomscore.Referral(
            person_id=f"P{i}", assessment_date=_date(_ASSESS + shift), date_of_birth="1960-01-01",
            custody=[{"start": _date(s), "end": None if n is None else _date(s + n)} for s, n in periods],
        )
        for i, (shift, periods) in enumerate(people)
    ]
    frame = FeatureFrame(ReferralTable.from_referrals(refs).batch)
    queries = data.draw(st.lists(st.tuples(st.integers(0, len(people) - 1), st.integers(_ASSESS - 700, _ASSESS + 60)),
                                 min_size=1, max_size=30))
    person = np.array([p for p, _ in queries], dtype=np.int64)
    day = np.array([d for _, d in queries], dtype=np.int64)
    got = at_risk_days_since(frame, day, person)
    want = [_expected(_ASSESS + people[p][0], people[p][1], d) for p, d in queries]
    assert got.tolist() == want
    # exact under ``below``; at least ``below`` wherever the exact count is
    below = data.draw(st.integers(0, 800) | st.just(1096))
    capped = at_risk_days_since(frame, day, person, below=below)
    for c, w in zip(capped.tolist(), want):
        assert c == w if w < below else c >= below, (c, w, below)


_WIDE = st.integers(-30, 30).flatmap(lambda shift: st.tuples(
    st.just(shift),
    st.lists(st.tuples(st.integers(_ASSESS + shift - 1600, _ASSESS + shift), st.one_of(st.none(), st.integers(0, 500))),
             max_size=6),
    st.lists(st.integers(_ASSESS + shift - 1800, _ASSESS + shift), max_size=8),
))


@settings(max_examples=100, deadline=None)
@given(st.lists(_WIDE, min_size=1, max_size=5))
def test_offences_within_a_window_at_risk_match_the_days_at_risk(
        people: list[tuple[int, list[tuple[int, int | None]], list[int]]]) -> None:
    """The window features compare each offence day with one day a person and window; that
    says what comparing its days at risk with the window says (custody overlapping, touching,
    ongoing, around every window's edge)."""
    def edges(assess: int, periods: list[tuple[int, int | None]]) -> list[int]:
        """The last day with at least each window's days at risk, and the day after it."""
        inside: set[int] = set()
        for start, length in periods:
            inside.update(range(start, assess if length is None else min(start + length, assess)))
        days, free, day = [], 0, assess
        for window in sorted(WINDOW_DAYS.values()):
            while free < window:  # (back a day at a time, counting the days out of custody)
                day -= 1
                free += day not in inside
            days += [day, day + 1]
        return days

    refs = [
        iomscore.Referral(
            person_id=f"P{i}", assessment_date=_date(_ASSESS + shift), date_of_birth="1960-01-01",
            custody=[{"start": _date(s), "end": None if n is None else _date(s + n)} for s, n in periods],
            sanctions=[{"offence_date": _date(d), "sanction_date": _date(_ASSESS + shift), "offence_group": "burglary_domestic",
                        "disposal": "fine"} for d in [*offences, *edges(_ASSESS + shift, periods)]],
        )
        for i, (shift, periods, offences) in enumerate(people)
    ]
    frame = FeatureFrame(ReferralTable.from_referrals(refs).batch)
    days = at_risk_days_since(frame, frame.batch.offence_day, frame.batch.sanction_person)
    for months, window in WINDOW_DAYS.items():
        assert frame._get(f"_within_{months}m").tolist() == (days < window).tolist(), months
