"""Columnar referral data: the form every scorer and the feature engine work on.

A :class:`ReferralBatch` holds n referrals as numpy arrays: one row per referral, and the
sanctions and custody periods of all referrals in two flat tables indexed by offsets (the
sanctions of referral ``i`` are rows ``sanction_offsets[i]:sanction_offsets[i + 1]``). A single
referral is a batch of one, so there is one code path for one person and for a million.

Dates are whole days since 1970-01-01 (``int32``); :data:`MISSING_DAY` marks an absent date.
Within each referral, sanctions keep their input order: every feature is defined so that the
order in which a case-management system lists them never changes a result.

Serious-harm information and protected characteristics are *not* in the batch. They travel
beside it in a :class:`ReferralTable` and only routing and audits read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from ._vocabulary import OASYS_COLUMNS, PATHWAYS

__all__ = [
    "MISSING_DAY",
    "ONGOING_DAY",
    "ReferralBatch",
    "SeriousHarmColumns",
    "date_to_day",
    "day_to_date",
]

MISSING_DAY: Final = np.int32(np.iinfo(np.int32).min)
#: Custody end of a period still running at the assessment date.
ONGOING_DAY: Final = np.int32(np.iinfo(np.int32).max)
_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()
#: Occasion keys of offences that carry an explicit occasion identifier start here; keys
#: below it are sanction days (offences sharing a sanction date share an occasion).
OCCASION_ID_BASE: Final = np.int64(1) << 40



def date_to_day(value: dt.date | None) -> int:
    """Days since 1970-01-01, or :data:`MISSING_DAY` for ``None``."""
    if value is None:
        return int(MISSING_DAY)
    return value.toordinal() - _EPOCH_ORDINAL


def day_to_date(day: int) -> dt.date | None:
    """Inverse of :func:`date_to_day`."""
    if day == MISSING_DAY or day == ONGOING_DAY:
        return None
    return dt.date.fromordinal(int(day) + _EPOCH_ORDINAL)


#: The per-referral columns of the referral facts (supervision, release, agreement to engage).
FACT_FIELDS: Final = (
    "supervision_status",
    "supervision_start_day",
    "supervision_end_day",
    "release_day",
    "agreed_to_engage",
)


def _fact_columns(n: int) -> tuple[tuple[str, int, type, object], ...]:
    return (
        ("supervision_status", n, np.int8, -1),
        ("supervision_start_day", n, np.int32, MISSING_DAY),
        ("supervision_end_day", n, np.int32, MISSING_DAY),
        ("release_day", n, np.int32, MISSING_DAY),
        ("agreed_to_engage", n, np.int8, -1),
    )


@dataclass(frozen=True, eq=False)
class ReferralBatch:
    """What scorers may learn about n referrals, as arrays (see the module docstring)."""

    person_id: np.ndarray
    assessment_day: np.ndarray
    birth_day: np.ndarray
    sex: np.ndarray  # int8: 0 male, 1 female, -1 not recorded
    needs: np.ndarray  # int8 (n, 7): -1 not assessed, 0 no need, 1 some, 2 significant
    summary_previous: np.ndarray  # int32, -1 where there is no summary
    summary_first_day: np.ndarray
    summary_conviction_day: np.ndarray
    summary_group: np.ndarray  # int16 taxonomy index, -1 where no summary
    summary_caution_only: np.ndarray  # bool
    sanction_offsets: np.ndarray  # int64 (n + 1)
    offence_day: np.ndarray
    sanction_day: np.ndarray
    group: np.ndarray  # int16 taxonomy index (-1 = unknown code, rejected by the rules)
    disposal: np.ndarray  # int8 index into DISPOSALS (-1 = unknown)
    custody_days: np.ndarray  # int32, -1 where not given
    occasion: np.ndarray  # int64 occasion key (equal within a referral = same occasion)
    current: np.ndarray  # bool
    sanction_position: np.ndarray  # int32 position in the referral's input list
    custody_offsets: np.ndarray  # int64 (n + 1)
    custody_start: np.ndarray
    custody_end: np.ndarray  # ONGOING_DAY while still in custody
    custody_position: np.ndarray
    occasion_labels: Mapping[int, str] = field(default_factory=dict)
    # Inputs of the OASys v4 predictors (all optional; -1 / MISSING_DAY where not given).
    summary_violent: np.ndarray | None = None  # int32 violent sanctioning occasions
    summary_age_first: np.ndarray | None = None  # int16 age at first sanction (whole years)
    summary_followup_day: np.ndarray | None = None  # int32 start of follow-up (OASys 1.38)
    summary_ho_code: np.ndarray | None = None  # int32 Home Office code of the current offence
    ho_code: np.ndarray | None = None  # int32 per sanction: Home Office offence code
    # Referral facts for eligibility and planning (read only by scorers that declare them).
    supervision_status: np.ndarray | None = None  # int8 index into SUPERVISION_STATUSES, -1 not recorded
    supervision_start_day: np.ndarray | None = None  # int32, MISSING_DAY where not given
    supervision_end_day: np.ndarray | None = None  # int32, MISSING_DAY where not given
    release_day: np.ndarray | None = None  # int32 expected or actual release, MISSING_DAY where not given
    agreed_to_engage: np.ndarray | None = None  # int8: 1 yes, 0 no, -1 not recorded
    #: OASys assessment answers, int8 (n, len(OASYS_COLUMNS)): the code of each answer, -1 where
    #: not answered or where the referral has no assessment (see ``oasys_present``).
    oasys: np.ndarray | None = None
    oasys_present: np.ndarray | None = None  # bool: the referral carries an OASys assessment

    def __post_init__(self) -> None:
        n = int(self.person_id.shape[0])
        m = int(self.offence_day.shape[0])
        for name, size, dtype, fill in (
            ("summary_violent", n, np.int32, -1),
            ("summary_age_first", n, np.int16, -1),
            ("summary_followup_day", n, np.int32, MISSING_DAY),
            ("summary_ho_code", n, np.int32, -1),
            ("ho_code", m, np.int32, -1),
            *_fact_columns(n),
        ):
            value = getattr(self, name)
            object.__setattr__(
                self, name, np.full(size, fill, dtype=dtype) if value is None else np.asarray(value, dtype=dtype)
            )
        k = len(OASYS_COLUMNS)
        answers = np.full((n, k), -1, dtype=np.int8) if self.oasys is None else np.asarray(self.oasys, np.int8)
        object.__setattr__(self, "oasys", answers.reshape(n, k))
        present = np.zeros(n, dtype=bool) if self.oasys_present is None else np.asarray(self.oasys_present, bool)
        object.__setattr__(self, "oasys_present", present)

    @property
    def n(self) -> int:
        return int(self.person_id.shape[0])

    def __len__(self) -> int:
        return self.n

    @property
    def sanction_person(self) -> np.ndarray:
        """Referral index of every sanction row (computed once; read-only)."""
        return self._person_of("_sanction_person", self.sanction_offsets)

    @property
    def custody_person(self) -> np.ndarray:
        """Referral index of every custody period (computed once; read-only)."""
        return self._person_of("_custody_person", self.custody_offsets)

    def _person_of(self, name: str, offsets: np.ndarray) -> np.ndarray:
        cached = self.__dict__.get(name)
        if cached is None:
            cached = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(offsets))
            cached.setflags(write=False)
            object.__setattr__(self, name, cached)  # a cache, not a field: frozen still holds
        return cached

    def take(self, rows: np.ndarray) -> ReferralBatch:
        """The referrals at ``rows`` (indices or a boolean mask), in that order."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        s_idx, s_off = _gather_segments(self.sanction_offsets, rows)
        c_idx, c_off = _gather_segments(self.custody_offsets, rows)
        return ReferralBatch(
            person_id=self.person_id[rows],
            assessment_day=self.assessment_day[rows],
            birth_day=self.birth_day[rows],
            sex=self.sex[rows],
            needs=self.needs[rows],
            summary_previous=self.summary_previous[rows],
            summary_first_day=self.summary_first_day[rows],
            summary_conviction_day=self.summary_conviction_day[rows],
            summary_group=self.summary_group[rows],
            summary_caution_only=self.summary_caution_only[rows],
            sanction_offsets=s_off,
            offence_day=self.offence_day[s_idx],
            sanction_day=self.sanction_day[s_idx],
            group=self.group[s_idx],
            disposal=self.disposal[s_idx],
            custody_days=self.custody_days[s_idx],
            occasion=self.occasion[s_idx],
            current=self.current[s_idx],
            sanction_position=self.sanction_position[s_idx],
            custody_offsets=c_off,
            custody_start=self.custody_start[c_idx],
            custody_end=self.custody_end[c_idx],
            custody_position=self.custody_position[c_idx],
            occasion_labels=self.occasion_labels,
            summary_violent=self._col("summary_violent")[rows],
            summary_age_first=self._col("summary_age_first")[rows],
            summary_followup_day=self._col("summary_followup_day")[rows],
            summary_ho_code=self._col("summary_ho_code")[rows],
            ho_code=self._col("ho_code")[s_idx],
            **{name: self._col(name)[rows] for name in FACT_FIELDS},
            oasys=self._col("oasys")[rows],
            oasys_present=self._col("oasys_present")[rows],
        )

    def _col(self, name: str) -> np.ndarray:
        value = getattr(self, name)
        assert value is not None  # filled in __post_init__
        return value

    @classmethod
    def from_arrays(
        cls,
        *,
        person_id: np.ndarray,
        assessment_day: np.ndarray,
        birth_day: np.ndarray,
        sex: np.ndarray,
        needs: np.ndarray,
        sanction_person: np.ndarray,
        offence_day: np.ndarray,
        sanction_day: np.ndarray,
        group: np.ndarray,
        disposal: np.ndarray,
        custody_days: np.ndarray,
        occasion: np.ndarray,
        current: np.ndarray,
        sanction_position: np.ndarray | None = None,
        custody_person: np.ndarray | None = None,
        custody_start: np.ndarray | None = None,
        custody_end: np.ndarray | None = None,
        summary_previous: np.ndarray | None = None,
        summary_first_day: np.ndarray | None = None,
        summary_conviction_day: np.ndarray | None = None,
        summary_group: np.ndarray | None = None,
        summary_caution_only: np.ndarray | None = None,
        occasion_labels: Mapping[int, str] | None = None,
        summary_violent: np.ndarray | None = None,
        summary_age_first: np.ndarray | None = None,
        summary_followup_day: np.ndarray | None = None,
        summary_ho_code: np.ndarray | None = None,
        ho_code: np.ndarray | None = None,
        supervision_status: np.ndarray | None = None,
        supervision_start_day: np.ndarray | None = None,
        supervision_end_day: np.ndarray | None = None,
        release_day: np.ndarray | None = None,
        agreed_to_engage: np.ndarray | None = None,
        oasys: np.ndarray | None = None,
        oasys_present: np.ndarray | None = None,
    ) -> ReferralBatch:
        """Build a batch from flat arrays in any order (sanctions and custody are sorted here).

        ``sanction_person`` and ``custody_person`` give the referral index of each row.
        """
        n = int(np.asarray(person_id).shape[0])
        sanction_person = np.asarray(sanction_person, dtype=np.int64)
        m = sanction_person.shape[0]
        if sanction_position is None:
            sanction_position = _positions_within(sanction_person)
        if custody_person is None:
            custody_person = np.zeros(0, dtype=np.int64)
            custody_start = np.zeros(0, dtype=np.int32)
            custody_end = np.zeros(0, dtype=np.int32)
        assert custody_start is not None and custody_end is not None
        custody_person = np.asarray(custody_person, dtype=np.int64)
        custody_position = _positions_within(custody_person)

        def col(a: np.ndarray | None, dtype: type, fill: object) -> np.ndarray:
            return np.full(n, fill, dtype=dtype) if a is None else np.asarray(a, dtype=dtype)

        offence_day = np.asarray(offence_day, dtype=np.int32)
        sanction_day = np.asarray(sanction_day, dtype=np.int32)
        group = np.asarray(group, dtype=np.int16)
        disposal = np.asarray(disposal, dtype=np.int8)
        custody_days = np.asarray(custody_days, dtype=np.int32)
        occasion = np.asarray(occasion, dtype=np.int64)
        current = np.asarray(current, dtype=bool)
        order = _group_order(sanction_person)
        c_order = _sorted_order(custody_person, np.asarray(custody_start), np.asarray(custody_end))
        return cls(
            person_id=np.asarray(person_id, dtype=object),
            assessment_day=np.asarray(assessment_day, dtype=np.int32),
            birth_day=np.asarray(birth_day, dtype=np.int32),
            sex=np.asarray(sex, dtype=np.int8),
            needs=np.asarray(needs, dtype=np.int8).reshape(n, len(PATHWAYS)),
            summary_previous=col(summary_previous, np.int32, -1),
            summary_first_day=col(summary_first_day, np.int32, MISSING_DAY),
            summary_conviction_day=col(summary_conviction_day, np.int32, MISSING_DAY),
            summary_group=col(summary_group, np.int16, -1),
            summary_caution_only=col(summary_caution_only, np.bool_, False),
            sanction_offsets=_offsets(sanction_person, n) if m else np.zeros(n + 1, dtype=np.int64),
            offence_day=offence_day[order],
            sanction_day=sanction_day[order],
            group=group[order],
            disposal=disposal[order],
            custody_days=custody_days[order],
            occasion=occasion[order],
            current=current[order],
            sanction_position=np.asarray(sanction_position, dtype=np.int32)[order],
            custody_offsets=_offsets(custody_person, n),
            custody_start=np.asarray(custody_start, dtype=np.int32)[c_order],
            custody_end=np.asarray(custody_end, dtype=np.int32)[c_order],
            custody_position=custody_position[c_order],
            occasion_labels=dict(occasion_labels or {}),
            summary_violent=summary_violent,
            summary_age_first=summary_age_first,
            summary_followup_day=summary_followup_day,
            summary_ho_code=summary_ho_code,
            ho_code=None if ho_code is None else np.asarray(ho_code, dtype=np.int32)[order],
            supervision_status=supervision_status,
            supervision_start_day=supervision_start_day,
            supervision_end_day=supervision_end_day,
            release_day=release_day,
            agreed_to_engage=agreed_to_engage,
            oasys=oasys,
            oasys_present=oasys_present,
        )


@dataclass(frozen=True, eq=False)
class SeriousHarmColumns:
    """Serious-harm information for routing: codes, -1 where not recorded."""

    rosh_level: np.ndarray  # int8 index into ROSH_LEVELS
    mappa_category: np.ndarray  # int8 1..3
    mappa_level: np.ndarray  # int8 1..3

    def take(self, rows: np.ndarray) -> SeriousHarmColumns:
        return SeriousHarmColumns(self.rosh_level[rows], self.mappa_category[rows], self.mappa_level[rows])


def _group_order(person: np.ndarray) -> np.ndarray | slice:
    """Order that groups rows by referral, keeping input order within a referral.

    Every feature is an order-free aggregate within a referral (sums, minima, maxima and
    ties broken on values, never on position), so grouping is all the sort we need.
    """
    if person.size == 0 or bool((person[1:] >= person[:-1]).all()):
        return slice(None)
    return np.argsort(person, kind="stable")


def _sorted_order(person: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | slice:
    """``np.lexsort((end, start, person))``; a whole slice when the rows are already in that
    order (the usual export), checked in one pass instead of sorted."""
    if person.size < 2:
        return slice(None)
    p0, p1, s0, s1, e0, e1 = person[:-1], person[1:], start[:-1], start[1:], end[:-1], end[1:]
    ordered = (p1 > p0) | ((p1 == p0) & ((s1 > s0) | ((s1 == s0) & (e1 >= e0))))
    if bool(ordered.all()):
        return slice(None)
    # One stable sort of a packed (person, start, end) key when it fits in 62 bits: the ends
    # ranked with "ongoing" (the largest int32) just above the latest finite end.
    e = end.astype(np.int64)
    finite = e != int(ONGOING_DAY)
    e = np.where(finite, e, (int(e[finite].max()) if finite.any() else 0) + 1)
    s = start.astype(np.int64)
    s_lo, e_lo = int(s.min()), int(e.min())
    s_span, e_span = int(s.max()) - s_lo + 1, int(e.max()) - e_lo + 1
    if int(person.min()) >= 0 and (int(person.max()) + 1) * s_span * e_span < (1 << 62):
        key = (person.astype(np.int64) * s_span + (s - s_lo)) * e_span + (e - e_lo)
        return np.argsort(key, kind="stable")
    return np.lexsort((end, start, person))


def _offsets(person: np.ndarray, n: int) -> np.ndarray:
    counts = np.bincount(person, minlength=n) if person.size else np.zeros(n, dtype=np.int64)
    out = np.zeros(n + 1, dtype=np.int64)
    np.add.accumulate(counts, out=out[1:])  # (np.cumsum, without its Python-level wrapper)
    return out


def _positions_within(person: np.ndarray) -> np.ndarray:
    """Position of each row among the rows of its referral, in input order."""
    if person.size == 0:
        return np.zeros(0, dtype=np.int32)
    if bool((person[1:] >= person[:-1]).all()):  # already grouped: no sort
        # (a row's position is its distance from the first row of its run)
        starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]]).astype(np.int32)
        return np.arange(person.size, dtype=np.int32) - np.repeat(starts, np.diff(np.r_[starts, np.int32(person.size)]))
    order = np.argsort(person, kind="stable")
    sorted_person = person[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_person)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, sorted_person.size]))
    pos = np.empty(person.size, dtype=np.int32)
    pos[order] = np.arange(person.size) - run_start
    return pos


def _gather_segments(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the segments ``rows`` (in that order), and their new offsets."""
    starts = offsets[:-1][rows]
    lengths = offsets[1:][rows] - starts
    new_offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    idx = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return idx.astype(np.int64), new_offsets
