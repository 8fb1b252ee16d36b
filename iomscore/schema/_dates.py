"""Date arithmetic on arrays of days since 1970-01-01."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np

__all__ = ["DAYS_PER_MONTH", "DAYS_PER_YEAR", "anniversary", "whole_months", "whole_years", "year_month_day"]

#: Mean Gregorian year and month, used wherever a duration in days is shown in years or months.
DAYS_PER_YEAR: Final = 365.25
DAYS_PER_MONTH: Final = DAYS_PER_YEAR / 12


_TABLE_FIRST: Final = -25567  # 1900-01-01
_TABLE_LAST: Final = 47846  # 2100-12-31
#: Up to this many days the range check reads them as Python integers (two reductions cost more).
_FEW: Final = 16


@lru_cache(maxsize=1)
def _calendar_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day and ``year * 10000 + month * 100 + day`` of every day from 1900 to 2100.

    A 73,414-row lookup table: one index per date instead of three datetime64 conversions.
    """
    year, month, day = _year_month_day(np.arange(_TABLE_FIRST, _TABLE_LAST + 1, dtype=np.int64))
    return year, month, day, year * 10000 + month * 100 + day


def _in_table(d: np.ndarray) -> bool:
    """True when every day number of ``d`` (int64) is in the lookup table's range."""
    if d.size <= _FEW:
        values = d.ravel().tolist()
        return not values or (min(values) >= _TABLE_FIRST and max(values) <= _TABLE_LAST)
    return bool(d.min() >= _TABLE_FIRST and d.max() <= _TABLE_LAST)


def year_month_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calendar year, month (1-12) and day (1-31) of each day number."""
    d = np.asarray(days, dtype=np.int64)
    if _in_table(d):
        year, month, day, _ = _calendar_table()
        i = d - _TABLE_FIRST
        return year[i], month[i], day[i]
    return _year_month_day(d)


def _year_month_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def _date_number(days: np.ndarray) -> np.ndarray:
    """``year * 10000 + month * 100 + day`` of each day number (20240229 for 29 February 2024)."""
    d = np.asarray(days, dtype=np.int64)
    if _in_table(d):
        return _calendar_table()[3][d - _TABLE_FIRST]
    year, month, day = _year_month_day(d)
    return year * 10000 + month * 100 + day


def whole_years(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Completed years from ``start`` to ``end`` (birthday-exact, as OGRS3 counts age).

    Someone born on 29 February completes a year on 1 March in a common year.

    Examples
    --------
    >>> import numpy as np
    >>> from iomscore.schema._batch import date_to_day
    >>> import datetime as dt
    >>> whole_years(np.array([date_to_day(dt.date(2000, 6, 15))]),
    ...             np.array([date_to_day(dt.date(2020, 6, 14))]))
    array([19])
    """
    # (ey - sy) * 10000 + (em * 100 + ed) - (sm * 100 + sd), whose last term lies in
    # (-10000, 10000), floor-divided by 10000: ey - sy, less one before the birthday.
    return (_date_number(end) - _date_number(start)) // 10000


def whole_months(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Completed calendar months from ``start`` to ``end``, as ``java.time.temporal.ChronoUnit.MONTHS``.

    A month counts once its day-of-month is reached, so 31 January to 28 February is 0 and to
    1 March is 1; the result is negative when ``end`` is before ``start`` (truncated toward 0).

    Examples
    --------
    >>> import numpy as np, datetime as dt
    >>> from iomscore.schema._batch import date_to_day
    >>> d = lambda *a: np.array([date_to_day(dt.date(*a))])
    >>> whole_months(d(2024, 1, 31), d(2024, 2, 29)), whole_months(d(2024, 1, 31), d(2024, 3, 1))
    (array([0]), array([1]))
    """
    sy, sm, sd = year_month_day(start)
    ey, em, ed = year_month_day(end)
    months = (ey * 12 + em) - (sy * 12 + sm)
    months = months - ((months > 0) & (ed < sd)).astype(np.int64)
    return months + ((months < 0) & (ed > sd)).astype(np.int64)


def anniversary(start: np.ndarray, years: int) -> np.ndarray:
    """Day number on which ``years`` whole years from ``start`` are complete.

    Consistent with :func:`whole_years`: ``whole_years(s, d) >= years`` exactly when
    ``d >= anniversary(s, years)`` (29 February anniversaries fall on 1 March in common years).
    """
    y, m, d = year_month_day(start)
    month = (y + years - 1970) * 12 + (m - 1)  # (months since January 1970)
    return _month_start(month) + (d - 1)


#: Months since January 1970 of the first and the last month of :func:`_month_starts`.
_MONTHS_FIRST: Final = (1900 - 1970) * 12
_MONTHS_LAST: Final = (2200 - 1970) * 12 - 1


@lru_cache(maxsize=1)
def _month_starts() -> np.ndarray:
    """Day number of the first day of every month from 1900 to 2199 (one index a month, not a
    datetime64 conversion a value)."""
    months = np.arange(_MONTHS_FIRST, _MONTHS_LAST + 1, dtype=np.int64)
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _month_start(month: np.ndarray) -> np.ndarray:
    """Day number of the first day of each month (months since January 1970), as int64."""
    month = np.asarray(month, dtype=np.int64)
    if month.size and int(month.min()) >= _MONTHS_FIRST and int(month.max()) <= _MONTHS_LAST:
        return _month_starts()[month - _MONTHS_FIRST]
    return month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
