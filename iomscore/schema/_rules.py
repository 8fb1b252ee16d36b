"""Validation rules across fields, written once over arrays.

The same functions check one :class:`~iomscore.Referral` (a batch of one, from its model
validator) and a million rows read from CSV, so a record rejected by the batch job is exactly
a record the typed API would refuse, with the same field path and message.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Final, cast

import numpy as np

from ._batch import MISSING_DAY, ONGOING_DAY, ReferralBatch, day_to_date
from ._dates import anniversary, whole_years
from ._vocabulary import FIRST_DAY, LAST_DAY, MIN_AGE, SUPERVISION_STATUSES

__all__ = ["Violations", "check_batch"]


_OUT_OF_RANGE: Final = "date outside the supported range 1900-01-01 to 2100-12-31"
_DOB_AFTER_ASSESSMENT: Final = "date of birth {dob} is after the assessment date {assess}"
_TOO_YOUNG_AT_ASSESSMENT: Final = "the person is {age} at the assessment date; people under 10 cannot be referred"
_OFFENCE_AFTER_ASSESSMENT: Final = "offence date {off} is after the assessment date {assess}"
_SANCTION_BEFORE_OFFENCE: Final = "sanction date {sanc} is before the offence date {off}"
_SANCTION_AFTER_ASSESSMENT: Final = "sanction date {sanc} is after the assessment date {assess}"
_UNDER_10_AT_OFFENCE: Final = "the person was {age} at the offence date {off}; the age of criminal responsibility is 10"
_UNKNOWN_GROUP: Final = "unknown offence group"
_UNKNOWN_DISPOSAL: Final = "unknown disposal"
_CUSTODY_DAYS_NOT_CUSTODY: Final = "a custody length is given for a non-custodial disposal"
_OCCASION_DATES_DIFFER: Final = "offences sharing occasion {occ} have different sanction dates"
_SEVERAL_CURRENT: Final = "more than one sanction is marked current"
_CUSTODY_ENDS_BEFORE_START: Final = "custody period ends ({end}) before it starts ({start})"
_CUSTODY_AFTER_ASSESSMENT: Final = "custody period starts ({start}) after the assessment date {assess}"
_SUMMARY_FIRST_AFTER_CURRENT: Final = "first sanction date {first} is after the current conviction date {conv}"
_VIOLENT_ABOVE_TOTAL: Final = "violent sanctions ({v}) are more than the total sanctions ({t}, the current one included)"
_FOLLOWUP_BEFORE_BIRTH: Final = "follow-up start date {day} is on or before the date of birth {dob}"
_FIRST_AGE_AFTER_CURRENT: Final = (
    "age at first sanction ({first}) is more than the age at the current conviction ({conv})"
)
_FIRST_AGE_DISAGREES: Final = (
    "age at first sanction ({first}) disagrees with first_sanction_date {day} (age {age} then)"
)
_UNKNOWN_HO_CODE: Final = "unknown Home Office offence code {code}: not in the shipped MoJ offence mapping"
_SUMMARY_CONVICTION_AFTER_ASSESSMENT: Final = "current conviction date {conv} is after the assessment date {assess}"
_SUPERVISION_ENDS_BEFORE_START: Final = "supervision ends ({end}) before it starts ({start})"
_SUPERVISION_DATE_NO_STATUS: Final = "a supervision {which} date is given without a supervision status"
_SUPERVISION_DATE_NONE: Final = (
    "a supervision {which} date is given but the status is none (no statutory supervision)"
)
_RELEASE_BEFORE_OFFENCE: Final = "release date {release} is before the offence date {off} of the current offence"


class Violations:
    """The first rule each referral breaks: a boolean mask and, for those rows, field and message.

    With ``every=True``, ``every[row]`` also lists each ``(field, message)`` the referral
    breaks, in rule order (the typed API reports them all; batch rejects keep the first).
    """

    def __init__(self, n: int, every: bool = False) -> None:
        self.mask = np.zeros(n, dtype=bool)
        self.field = np.full(n, None, dtype=object)
        self.message = np.full(n, None, dtype=object)
        self.every: dict[int, list[tuple[str, str]]] | None = {} if every else None

    def add(self, rows: np.ndarray, fields: list[str], messages: list[str]) -> None:
        """Record violations for ``rows`` unless those referrals already broke an earlier rule."""
        for row, f, msg in zip(rows.tolist(), fields, messages):
            if self.every is not None:
                self.every.setdefault(row, []).append((f, msg))
            if not self.mask[row]:
                self.mask[row] = True
                self.field[row] = f
                self.message[row] = msg


def _d(day: object) -> str:
    value = day_to_date(int(day))  # type: ignore[call-overload]
    return "unknown" if value is None else value.isoformat()


def _range_field(assess: object, birth: object) -> str:
    a = int(assess)  # type: ignore[call-overload]
    return "assessment_date" if a < FIRST_DAY or a > LAST_DAY else "date_of_birth"


def _first_per_person(person: np.ndarray, pos: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Indices of the bad rows with the lowest input position for each person."""
    idx = np.flatnonzero(bad)
    if idx.size == 0:
        return idx
    order = np.lexsort((pos[idx], person[idx]))
    idx = idx[order]
    keep = np.r_[True, person[idx][1:] != person[idx][:-1]]
    return idx[keep]


def _any_each(masks: list[np.ndarray]) -> list[bool]:
    """``[bool(m.any()) for m in masks]`` for boolean masks of one length, by one stacked any.

    Most referrals break no rule: the rules whose masks hold no violation are then skipped
    (their rows, paths and messages are not built) for one operation instead of one each.
    """
    if not masks:
        return []
    n = masks[0].shape[0]
    stacked = np.concatenate(masks).reshape(len(masks), n)
    return cast(list[bool], np.logical_or.reduce(stacked, axis=1).tolist())


def check_batch(batch: ReferralBatch, every: bool = False) -> Violations:
    """Check every cross-field rule over the whole batch.

    Returns the first violation of each referral, in a fixed rule order (referral, then
    sanctions, custody and summary), naming the field as a path such as
    ``sanctions[2].offence_date``, where 2 is the position in the referral's input list;
    with ``every=True``, also every violation of each referral (``Violations.every``).
    """
    v = Violations(batch.n, every=every)
    a = batch.assessment_day
    b = batch.birth_day

    out_of_range = (a < FIRST_DAY) | (a > LAST_DAY) | (b < FIRST_DAY) | (b > LAST_DAY)
    age = whole_years(b, a)
    dob_after, too_young = b > a, age < MIN_AGE
    hits = _any_each([out_of_range, dob_after, too_young])
    if hits[0]:
        rows = np.flatnonzero(out_of_range)
        v.add(rows, [_range_field(a[r], b[r]) for r in rows], [_OUT_OF_RANGE] * rows.size)
    if hits[1]:
        rows = np.flatnonzero(dob_after)
        v.add(rows, ["date_of_birth"] * rows.size,
              [_DOB_AFTER_ASSESSMENT.format(dob=_d(b[r]), assess=_d(a[r])) for r in rows])
    if hits[2]:
        rows = np.flatnonzero(too_young)
        v.add(rows, ["date_of_birth"] * rows.size, [_TOO_YOUNG_AT_ASSESSMENT.format(age=age[r]) for r in rows])

    person = batch.sanction_person
    pos = batch.sanction_position
    if person.size:
        pa = a[person]
        tenth = anniversary(b, MIN_AGE)[person]
        under_10 = batch.offence_day < tenth
        first_occ = _occasion_date_conflicts(batch, person)
        checks = [
            (batch.offence_day > pa, "offence_date",
             lambda i: _OFFENCE_AFTER_ASSESSMENT.format(off=_d(batch.offence_day[i]), assess=_d(pa[i]))),
            (batch.sanction_day < batch.offence_day, "sanction_date",
             lambda i: _SANCTION_BEFORE_OFFENCE.format(sanc=_d(batch.sanction_day[i]), off=_d(batch.offence_day[i]))),
            (batch.sanction_day > pa, "sanction_date",
             lambda i: _SANCTION_AFTER_ASSESSMENT.format(sanc=_d(batch.sanction_day[i]), assess=_d(pa[i]))),
            (under_10, "offence_date",
             lambda i: _UNDER_10_AT_OFFENCE.format(
                 age=whole_years(b[person[i : i + 1]], batch.offence_day[i : i + 1])[0],
                 off=_d(batch.offence_day[i]))),
            (batch.group < 0, "offence_group", lambda i: _UNKNOWN_GROUP),
            (batch.disposal < 0, "disposal", lambda i: _UNKNOWN_DISPOSAL),
            ((batch.custody_days >= 0) & (batch.disposal != _CUSTODY_CODE), "custody_days",
             lambda i: _CUSTODY_DAYS_NOT_CUSTODY),
            (first_occ, "sanction_date",
             lambda i: _OCCASION_DATES_DIFFER.format(
                 occ=batch.occasion_labels.get(int(batch.occasion[i]), str(batch.occasion[i])))),
            (_several_current(batch, person), "current", lambda i: _SEVERAL_CURRENT),
            (_unknown_code(batch._col("ho_code")), "offence_code",
             lambda i: _UNKNOWN_HO_CODE.format(code=_code_text(batch._col("ho_code")[i]))),
        ]
        for (bad, name, message), hit in zip(checks, _any_each([c[0] for c in checks])):
            if hit:
                idx = _first_per_person(person, pos, bad)
                v.add(person[idx], [f"sanctions[{pos[i]}].{name}" for i in idx], [message(i) for i in idx])

    cperson = batch.custody_person
    if cperson.size:
        cpos = batch.custody_position
        start, end = batch.custody_start, batch.custody_end
        ca = a[cperson]
        finite_end = end != ONGOING_DAY
        custody_checks = [
            (finite_end & (end < start), "end",
             lambda i: _CUSTODY_ENDS_BEFORE_START.format(end=_d(end[i]), start=_d(start[i]))),
            (start > ca, "start",
             lambda i: _CUSTODY_AFTER_ASSESSMENT.format(start=_d(start[i]), assess=_d(ca[i]))),
        ]
        for (bad, name, message), hit in zip(custody_checks, _any_each([c[0] for c in custody_checks])):
            if hit:
                idx = _first_per_person(cperson, cpos, bad)
                v.add(cperson[idx], [f"custody[{cpos[i]}].{name}" for i in idx], [message(i) for i in idx])

    has = batch.summary_previous >= 0
    first, conv = batch.summary_first_day, batch.summary_conviction_day
    summary_checks = [
        (has & (first > conv), "first_sanction_date",
         lambda r: _SUMMARY_FIRST_AFTER_CURRENT.format(first=_d(first[r]), conv=_d(conv[r]))),
        (has & (conv > a), "current_conviction_date",
         lambda r: _SUMMARY_CONVICTION_AFTER_ASSESSMENT.format(conv=_d(conv[r]), assess=_d(a[r]))),
        *_oasys_summary_rules(batch, has),
    ]
    for (bad, name, message), hit in zip(summary_checks, _any_each([c[0] for c in summary_checks])):
        if hit:
            rows = np.flatnonzero(bad)
            v.add(rows, [f"sanction_summary.{name}"] * rows.size, [message(r) for r in rows])
    _fact_rules(batch, v)
    _oasys_rules(batch, v)
    return v


_NONE_CODE: Final = SUPERVISION_STATUSES.index("none")


def _fact_rules(batch: ReferralBatch, v: Violations) -> None:
    """Rules on the referral facts: supervision dates, release date.

    An agreement to engage alongside statutory supervision is not a violation: IOM teams record
    it for people on licence or orders too (it shapes how they are worked with).
    """
    status = batch._col("supervision_status")
    start, end = batch._col("supervision_start_day"), batch._col("supervision_end_day")
    release = batch._col("release_day")
    given = {"start_date": start != MISSING_DAY, "end_date": end != MISSING_DAY, "release_date": release != MISSING_DAY}
    days = {"start_date": start, "end_date": end, "release_date": release}
    if not any(_any_each(list(given.values()))):
        return  # (every rule below is about a date that is given)
    for name in ("start_date", "end_date", "release_date"):
        d = days[name]
        rows = np.flatnonzero(given[name] & ((d < FIRST_DAY) | (d > LAST_DAY)))
        path = name if name == "release_date" else f"supervision.{name}"
        v.add(rows, [path] * rows.size, [_OUT_OF_RANGE] * rows.size)
    for name in ("start_date", "end_date"):
        which = name.split("_")[0]
        rows = np.flatnonzero(given[name] & (status < 0))
        v.add(rows, ["supervision.status"] * rows.size, [_SUPERVISION_DATE_NO_STATUS.format(which=which)] * rows.size)
        rows = np.flatnonzero(given[name] & (status == _NONE_CODE))
        v.add(rows, [f"supervision.{name}"] * rows.size, [_SUPERVISION_DATE_NONE.format(which=which)] * rows.size)
    rows = np.flatnonzero(given["start_date"] & given["end_date"] & (end < start))
    v.add(rows, ["supervision.end_date"] * rows.size,
          [_SUPERVISION_ENDS_BEFORE_START.format(end=_d(end[r]), start=_d(start[r])) for r in rows])
    person = batch.sanction_person
    if person.size and given["release_date"].any():
        idx = _release_before_current_offence(batch, person, release)
        v.add(person[idx], ["release_date"] * idx.size,
              [_RELEASE_BEFORE_OFFENCE.format(release=_d(release[person[i]]), off=_d(batch.offence_day[i]))
               for i in idx])


def _release_before_current_offence(batch: ReferralBatch, person: np.ndarray, release: np.ndarray) -> np.ndarray:
    """Per person, the first sanction row of the current offence committed after the release date.

    The current offence: the sanctions marked ``current``, else those dated on the latest sanction
    date (custody for the current offence cannot end before that offence was committed).
    """
    r = release[person]
    # (only rows committed after a release date can break the rule: whether they are of the
    # current offence is worked out for those rows alone)
    after = np.flatnonzero((r != MISSING_DAY) & (batch.offence_day > r))
    bad = np.zeros(person.size, dtype=bool)
    if after.size:
        has = np.diff(batch.sanction_offsets) > 0
        starts = batch.sanction_offsets[:-1][has]
        latest = np.full(batch.n, MISSING_DAY, dtype=np.int32)
        latest[has] = np.maximum.reduceat(batch.sanction_day, starts)
        p = person[after]
        on_current = batch.sanction_day[after] == latest[p]
        if batch.current.any():
            marked = np.zeros(batch.n, dtype=bool)
            marked[has] = np.logical_or.reduceat(batch.current, starts)
            on_current = np.where(marked[p], batch.current[after], on_current)
        bad[after] = on_current
    return _first_per_person(person, batch.sanction_position, bad)


def _unknown_code(codes: np.ndarray | None) -> np.ndarray:
    """Rows whose Home Office code is given but not in the shipped mapping."""
    if codes is None or codes.size == 0 or not (codes >= 0).any():
        return np.zeros(0 if codes is None else codes.size, dtype=bool)
    from ._taxonomy import ho_code_arrays

    category = ho_code_arrays().category
    ok = (codes >= 0) & (codes < category.size)
    bad = codes >= 0
    bad[ok] = category[codes[ok]] < 0
    return bad


def _code_text(code: object) -> str:
    return f"{int(code):05d}"  # type: ignore[call-overload]


def _oasys_summary_rules(
    batch: ReferralBatch, has: np.ndarray
) -> list[tuple[np.ndarray, str, Callable[[int], str]]]:
    """Rules on the summary fields the OASys v4 predictors read (as the MoJ service checks them)."""
    b = batch.birth_day
    violent, total = batch.summary_violent, batch.summary_previous.astype(np.int64) + 1
    follow = batch.summary_followup_day
    first_age = batch.summary_age_first
    conv, first = batch.summary_conviction_day, batch.summary_first_day
    assert violent is not None and follow is not None and first_age is not None
    given_age = has & (first_age >= 0)
    conv_age = np.zeros(batch.n, dtype=np.int64)
    first_date_age = np.zeros(batch.n, dtype=np.int64)
    if given_age.any():
        conv_age[given_age] = whole_years(b[given_age], conv[given_age])
        dated = given_age & (first != MISSING_DAY)
        first_date_age[dated] = whole_years(b[dated], first[dated])
    dated = given_age & (first != MISSING_DAY)
    return [
        (has & (violent > total), "violent_sanctions",
         lambda r: _VIOLENT_ABOVE_TOTAL.format(v=violent[r], t=total[r])),
        (has & (follow != MISSING_DAY) & (follow <= b), "followup_start_date",
         lambda r: _FOLLOWUP_BEFORE_BIRTH.format(day=_d(follow[r]), dob=_d(b[r]))),
        (given_age & (first_age > conv_age), "age_at_first_sanction",
         lambda r: _FIRST_AGE_AFTER_CURRENT.format(first=first_age[r], conv=conv_age[r])),
        (dated & (first_age != first_date_age), "age_at_first_sanction",
         lambda r: _FIRST_AGE_DISAGREES.format(first=first_age[r], day=_d(first[r]), age=first_date_age[r])),
        (has & _unknown_code(batch.summary_ho_code), "current_offence_code",
         lambda r: _UNKNOWN_HO_CODE.format(code=_code_text(batch._col("summary_ho_code")[r]))),
    ]


_OASYS_OUT_OF_RANGE: Final = "invalid OASys answer code {code}: expected {lo} to {hi} (or not answered)"
_OASYS_WITHOUT_ASSESSMENT: Final = "OASys answers given for a referral without an OASys assessment"


def _oasys_field(column: str) -> str:
    """Field path of an ``OASYS_COLUMNS`` entry, as on :class:`~iomscore.OASysAssessment`."""
    if column.startswith("drug_"):
        return "oasys.drugs_misused"
    if column.startswith("previous_"):
        return "oasys.previous_offences"
    return f"oasys.{column}"


@cache
def _oasys_highest() -> np.ndarray:
    """Highest answer code of each ``OASYS_COLUMNS`` entry (1 for yes/no items, else 2)."""
    from ._vocabulary import OASYS_COLUMNS, OASYS_ITEMS

    highest = np.array([1 if (OASYS_ITEMS[c][2] if c in OASYS_ITEMS else "yes_no") == "yes_no" else 2
                        for c in OASYS_COLUMNS], dtype=np.int8)
    highest.setflags(write=False)
    return highest


def _oasys_rules(batch: ReferralBatch, v: Violations) -> None:
    """Answer codes within each item's range; answers only on referrals with an assessment."""
    from ._vocabulary import OASYS_COLUMNS

    answers = batch.oasys
    present = batch.oasys_present
    if answers is None or present is None or not answers.size:
        return
    stray = ~present & (answers.max(axis=1) >= 0)
    rows = np.flatnonzero(stray)
    v.add(rows, ["oasys"] * rows.size, [_OASYS_WITHOUT_ASSESSMENT] * rows.size)
    highest = _oasys_highest()
    # (the columns with a bad code, in order, from each column's least and greatest code)
    for j in np.flatnonzero((answers.min(axis=0) < -1) | (answers.max(axis=0) > highest)).tolist():
        column, hi = OASYS_COLUMNS[j], int(highest[j])
        col = answers[:, j]
        rows = np.flatnonzero((col < -1) | (col > hi))
        v.add(rows, [_oasys_field(column)] * rows.size,
              [_OASYS_OUT_OF_RANGE.format(code=int(col[r]), lo=0, hi=hi) for r in rows])


_CUSTODY_CODE: Final = 7  # index of "custody" in DISPOSALS; checked in tests


def _occasion_date_conflicts(batch: ReferralBatch, person: np.ndarray) -> np.ndarray:
    """Rows whose explicit occasion is shared with a row of another sanction date."""
    explicit = batch.occasion >= (np.int64(1) << 40)
    bad = np.zeros(person.size, dtype=bool)
    if not explicit.any():
        return bad
    idx = np.flatnonzero(explicit)
    order = idx[np.lexsort((batch.sanction_day[idx], batch.occasion[idx], person[idx]))]
    same = (person[order][1:] == person[order][:-1]) & (batch.occasion[order][1:] == batch.occasion[order][:-1])
    differs = same & (batch.sanction_day[order][1:] != batch.sanction_day[order][:-1])
    bad[order[1:][differs]] = True
    return bad


def _several_current(batch: ReferralBatch, person: np.ndarray) -> np.ndarray:
    counts = np.bincount(person[batch.current], minlength=batch.n)
    if not bool((counts > 1).any()):  # (the usual case: no row to mark)
        return np.zeros(person.size, dtype=bool)
    return batch.current & (counts[person] > 1)
