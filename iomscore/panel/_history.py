"""What a card shows of a person's record: offences, disposals, custody periods, dates.

The facts come from the :class:`~iomscore.ReferralTable` the selection was made from. Only
the people who get a card are read: their rows are taken from the table once, and the time
at risk of each offence comes from the feature engine
(:func:`iomscore.features.at_risk_days_since`), the same function the features
``offences_<n>m_at_risk`` count with, so the offences marked on a card are the offences the
counts in the reasons are made of.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from ..features import WINDOW_DAYS, FeatureFrame, at_risk_days_since
from ..schema._batch import MISSING_DAY, ONGOING_DAY
from ..schema._table import ReferralTable
from ..schema._taxonomy import offence_taxonomy
from ..schema._vocabulary import DISPOSAL_LABELS, DISPOSALS

__all__ = ["AT_RISK_MONTHS", "CustodyPeriod", "Offence", "PersonRecord", "assessment_dates", "person_records"]

#: Offences within this many months at risk before the assessment date are marked on a card.
AT_RISK_MONTHS: Final = 12
_UNKNOWN: Final = "not recorded"


@dataclass(frozen=True)
class Offence:
    """One proven offence on record, as a card lists it."""

    offence_date: dt.date | None
    sanction_date: dt.date | None
    group: str
    disposal: str
    custody_days: int | None
    at_risk_days: float | None
    current: bool

    @property
    def recent(self) -> bool:
        """Within :data:`AT_RISK_MONTHS` months at risk of the assessment date."""
        return self.at_risk_days is not None and self.at_risk_days < WINDOW_DAYS[AT_RISK_MONTHS]


@dataclass(frozen=True)
class CustodyPeriod:
    """A custody period on record; ``end`` is ``None`` while it is still running."""

    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class PersonRecord:
    """The record behind one card: assessment date, offences (latest first), custody."""

    assessment_date: dt.date | None
    offences: tuple[Offence, ...]
    custody: tuple[CustodyPeriod, ...]
    summary: str | None

    @property
    def recent_count(self) -> int:
        return sum(o.recent for o in self.offences)


def _dates(days: np.ndarray) -> list[dt.date | None]:
    days = np.asarray(days, dtype=np.int64)
    bad = (days == int(MISSING_DAY)) | (days == int(ONGOING_DAY))
    as_dates = np.where(bad, 0, days).astype("datetime64[D]").astype(object)
    return [None if b else d for d, b in zip(as_dates.tolist(), bad.tolist())]


def assessment_dates(table: ReferralTable) -> np.ndarray:
    """Assessment date of every referral as ``datetime64[D]`` (``NaT`` where missing).

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-01-01")
    >>> str(assessment_dates(iomscore.ReferralTable.from_referrals([r]))[0])
    '2025-06-01'
    """
    days = table.batch.assessment_day.astype(np.int64)
    out = days.astype("datetime64[D]")
    out[days == int(MISSING_DAY)] = np.datetime64("NaT")
    return out


def person_records(table: ReferralTable, rows: Sequence[int]) -> list[PersonRecord]:
    """The records of referrals ``rows`` of ``table`` (one :class:`PersonRecord` each).

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}])
    >>> rec = person_records(iomscore.ReferralTable.from_referrals([r]), [0])[0]
    >>> rec.offences[0].disposal, rec.offences[0].recent
    ('community order', True)
    """
    if len(rows) == 0:
        return []
    sub = table.take(np.asarray(rows, dtype=np.int64))
    b = sub.batch
    tax = offence_taxonomy()
    group_labels = np.array([g.label for g in tax.groups] + [_UNKNOWN], dtype=object)
    disposal_labels = np.array([DISPOSAL_LABELS[d] for d in DISPOSALS] + [_UNKNOWN], dtype=object)
    person = b.sanction_person
    risk = at_risk_days_since(FeatureFrame(b), b.offence_day, person) if person.size else np.zeros(0)
    risk_ok = b.offence_day != MISSING_DAY
    group = group_labels[np.where(b.group < 0, len(group_labels) - 1, b.group)]
    disposal = disposal_labels[np.where(b.disposal < 0, len(disposal_labels) - 1, b.disposal)]
    # latest offence first within each person (missing dates last), then input position
    off = np.where(b.offence_day == MISSING_DAY, np.iinfo(np.int32).min, b.offence_day).astype(np.int64)
    order = np.lexsort((b.sanction_position, -b.sanction_day.astype(np.int64), -off, person))
    off_dates, san_dates = _dates(b.offence_day[order]), _dates(b.sanction_day[order])
    custody_days = b.custody_days[order].tolist()
    offences = [
        Offence(od, sd, str(g), str(dp), None if c < 0 else int(c), float(r) if ok else None, bool(cur))
        for od, sd, g, dp, c, r, ok, cur in zip(
            off_dates, san_dates, group[order].tolist(), disposal[order].tolist(), custody_days,
            risk[order].tolist(), risk_ok[order].tolist(), b.current[order].tolist(),
        )
    ]
    c_order = np.lexsort((b.custody_start.astype(np.int64), b.custody_person)) if b.custody_person.size else np.zeros(0, dtype=np.int64)
    starts, ends = _dates(b.custody_start[c_order]), _dates(b.custody_end[c_order])
    periods = [CustodyPeriod(s, en) for s, en in zip(starts, ends)]
    assessed = _dates(b.assessment_day)
    s_first, s_conv = _dates(b.summary_first_day), _dates(b.summary_conviction_day)
    out = []
    for i in range(b.n):
        s0, s1 = int(b.sanction_offsets[i]), int(b.sanction_offsets[i + 1])
        c0, c1 = int(b.custody_offsets[i]), int(b.custody_offsets[i + 1])
        summary = None
        if int(b.summary_previous[i]) >= 0:
            g = int(b.summary_group[i])
            summary = (
                f"History given as a summary only: {int(b.summary_previous[i])} previous sanction(s); "
                f"first sanction {s_first[i] or _UNKNOWN}; current conviction {s_conv[i] or _UNKNOWN}; "
                f"current offence group {group_labels[g] if g >= 0 else _UNKNOWN}"
                + ("; cautions only" if bool(b.summary_caution_only[i]) else "")
                + ". The individual offences are not on record."
            )
        out.append(PersonRecord(assessed[i], tuple(offences[s0:s1]), tuple(periods[c0:c1]), summary))
    return out
