"""Small text helpers shared by the panel pack modules: escaping, scores, counts and rates."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, Final

from ..cohort._select import Decision

__all__ = ["e", "fmt_date", "fmt_score", "parse_date"]

_BAD_DATE: Final = "meeting_date must be a date or an ISO date text (YYYY-MM-DD), not {value!r}"


def e(value: Any) -> str:
    """HTML-escaped text of ``value`` (quotes included).

    Examples
    --------
    >>> e('<a href="x">')
    '&lt;a href=&quot;x&quot;&gt;'
    """
    return escape(str(value), quote=True)


def fmt_score(d: Decision) -> str:
    """A decision's score as shown in the pack: points as ``12``, percentages as ``34.5%``."""
    if d.score is None:
        return "not scored"
    if d.unit == "points":
        return f"{d.score:g}"
    return f"{d.score:.1f}%"


def parse_date(value: dt.date | str | None) -> dt.date | None:
    """A meeting date given as a date, a datetime or ISO text; ``None`` stays ``None``.

    Examples
    --------
    >>> parse_date("2025-06-03")
    datetime.date(2025, 6, 3)
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(_BAD_DATE.format(value=value)) from None


def fmt_date(value: dt.date | None) -> str:
    """ISO date text, or an en dash for a missing date."""
    return "\u2013" if value is None else value.isoformat()
