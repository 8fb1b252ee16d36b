"""Date arithmetic: the calendar lookup table agrees with datetime64 and with ``datetime``.

``year_month_day`` and ``whole_years`` read a cached table for days from 1900 to 2100 (at any
size, the range checked on Python integers for a few days) and fall back on datetime64
conversions outside it; ``whole_years`` floor-divides the difference of ``yyyymmdd`` numbers.
These tests hold the table, the fallback and the calendar to the same values, inside the
table's range, outside it and across its edges, for arrays on both sides of the size at which
the range check changes method.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from iomscore.schema import _dates
from iomscore.schema._dates import (
    _date_number,
    _year_month_day,
    anniversary,
    whole_months,
    whole_years,
    year_month_day,
)

_EPOCH = dt.date(1970, 1, 1)
_FIRST, _LAST = _dates._TABLE_FIRST, _dates._TABLE_LAST
#: Day numbers datetime.date can hold (0001-01-01 to 9999-12-31).
_DATE_MIN, _DATE_MAX = (dt.date.min - _EPOCH).days, (dt.date.max - _EPOCH).days

#: Days in the table, at and beyond its edges, and anywhere datetime64[D] converts exactly.
days = st.one_of(
    st.integers(_FIRST, _LAST),
    st.integers(_FIRST - 800, _FIRST + 800),
    st.integers(_LAST - 800, _LAST + 800),
    st.integers(-(10**7), 10**7),
)
#: Arrays of every length up to past the small-size threshold of the range check.
day_arrays = st.lists(days, min_size=0, max_size=3 * _dates._FEW).map(lambda v: np.asarray(v, dtype=np.int64))


def _reference_whole_years(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Completed years by the datetime64 path and the field-by-field rule (the definition)."""
    sy, sm, sd = _year_month_day(start)
    ey, em, ed = _year_month_day(end)
    return ey - sy - ((em * 100 + ed) < (sm * 100 + sd)).astype(np.int64)


def _calendar_age(start: int, end: int) -> int:
    s, e = _EPOCH + dt.timedelta(days=start), _EPOCH + dt.timedelta(days=end)
    # a birthday on 29 February is reached on 1 March in a common year: (3, 1) >= (2, 29)
    return e.year - s.year - ((e.month, e.day) < (s.month, s.day))


@given(day_arrays)
def test_year_month_day_table_matches_datetime64(d: np.ndarray) -> None:
    got = year_month_day(d)
    want = _year_month_day(d)
    for g, w in zip(got, want):
        assert g.dtype == np.int64 and g.shape == d.shape
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(_date_number(d), want[0] * 10000 + want[1] * 100 + want[2])


@given(st.data(), st.integers(0, 3 * _dates._FEW))
def test_whole_years_matches_definition(data: st.DataObject, n: int) -> None:
    start = np.asarray(data.draw(st.lists(days, min_size=n, max_size=n)), dtype=np.int64)
    end = np.asarray(data.draw(st.lists(days, min_size=n, max_size=n)), dtype=np.int64)
    got = whole_years(start, end)
    assert got.dtype == np.int64 and got.shape == (n,)
    np.testing.assert_array_equal(got, _reference_whole_years(start, end))
    # and as the calendar counts birthdays, wherever datetime.date can hold both dates
    for s, e, g in zip(start.tolist(), end.tolist(), got.tolist()):
        if _DATE_MIN <= min(s, e) and max(s, e) <= _DATE_MAX:
            assert g == _calendar_age(s, e)


def _day(*ymd: int) -> int:
    return (dt.date(*ymd) - _EPOCH).days


def test_edges_of_the_table_and_leap_days() -> None:
    edges = {_FIRST - 1: (1899, 12, 31), _FIRST: (1900, 1, 1), _LAST: (2100, 12, 31), _LAST + 1: (2101, 1, 1)}
    for day, ymd in edges.items():  # alone, and among in-range days past the small-size check
        for d in (np.asarray([day]), np.asarray([day] + [0] * (2 * _dates._FEW))):
            y, m, dd = year_month_day(d)
            assert (y[0], m[0], dd[0]) == ymd
            assert _date_number(d)[0] == ymd[0] * 10000 + ymd[1] * 100 + ymd[2]
    leap = np.asarray([_day(2000, 2, 29)] * 4)
    ends = np.asarray([_day(2001, 2, 28), _day(2001, 3, 1), _day(2004, 2, 28), _day(2004, 2, 29)])
    assert whole_years(leap, ends).tolist() == [0, 1, 3, 4]
    # a day before the table and one after it, in one array (the fallback for all)
    assert whole_years(np.asarray([_day(1850, 6, 1), _day(2000, 6, 1)]),
                       np.asarray([_day(2150, 5, 31), _day(2200, 6, 1)])).tolist() == [299, 200]


@given(day_arrays, st.integers(-5, 30))
def test_whole_months_and_anniversary_unchanged(d: np.ndarray, years: int) -> None:
    other = d[::-1].copy()
    sy, sm, sd = _year_month_day(d)
    ey, em, ed = _year_month_day(other)
    months = (ey * 12 + em) - (sy * 12 + sm)
    months = months - ((months > 0) & (ed < sd)).astype(np.int64)
    months = months + ((months < 0) & (ed > sd)).astype(np.int64)
    np.testing.assert_array_equal(whole_months(d, other), months)
    inside = (d > -(10**6)) & (d < 10**6)
    a = anniversary(d[inside], years)
    np.testing.assert_array_equal(whole_years(d[inside], a), np.full(a.shape, years))
    np.testing.assert_array_equal(whole_years(d[inside], a - 1), np.full(a.shape, years - 1))


@given(day_arrays, st.integers(-5, 130))
def test_anniversary_is_the_datetime64_month_arithmetic(d: np.ndarray, years: int) -> None:
    # (the month starts come from a table from 1900 to 2199; outside it, from datetime64)
    inside = (d > -(10**6)) & (d < 10**6)
    y, m, day = _year_month_day(d[inside])
    month_start = ((y + years - 1970) * 12 + (m - 1)).astype("datetime64[M]").astype("datetime64[D]")
    np.testing.assert_array_equal(anniversary(d[inside], years), (month_start + (day - 1)).astype(np.int64))


def test_anniversary_at_the_edges_of_its_month_table() -> None:
    # births whose tenth anniversary falls in the table's first and last months, and just outside
    births = np.array([(dt.date(y, mo, 15) - _EPOCH).days for y, mo in
                       [(1889, 12), (1890, 1), (1890, 2), (2189, 11), (2189, 12), (2190, 1)]], dtype=np.int64)
    want = [(dt.date(y + 10, mo, 15) - _EPOCH).days for y, mo in
            [(1889, 12), (1890, 1), (1890, 2), (2189, 11), (2189, 12), (2190, 1)]]
    assert anniversary(births, 10).tolist() == want
    for b, w in zip(births.tolist(), want):  # (each alone: in the table, or not)
        assert anniversary(np.array([b]), 10).tolist() == [w]
