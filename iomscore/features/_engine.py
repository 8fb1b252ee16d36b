"""The feature engine: every derived feature, defined once, computed on arrays.

Each feature is a :class:`FeatureDef` with a name, a unit and a definition. The same function
computes it for one referral (a batch of one) and for a million; no feature loops over people
in Python. Missing values are ``NaN``.

Definitions that need a word of explanation:

*Sanctioning occasion*
    One court appearance or one caution, however many offences it dealt with (offences with
    the same ``occasion_id``, or without one, the same sanction date). OGRS3 and police
    nominal scoring count occasions; "proven offences" counts offences.
*Current occasion*
    The occasion of the sanction marked ``current``; otherwise the latest occasion.
*Time at risk*
    Days not spent in custody. Custody periods are merged where they overlap; a period with
    no end runs to the assessment date. "The last 12 months at risk" is the stretch before
    the assessment date holding 365 days at risk, so months spent in prison do not make a
    prolific person look quiet.
*History given as a summary only*
    A referral with a :class:`~iomscore.SanctionSummary` and no sanction list. Features the
    summary determines are read from it: previous and total sanctions, the ages at the first
    sanction and at the current conviction, the current offence group and whether it is
    neighbourhood or acquisitive crime, and the months at risk since the current conviction.
    Features that need the list (counts of offences in a window, offence-free time, offence
    rates; :attr:`FeatureDef.needs_list`) are ``NaN`` (not recorded) for such a referral, never
    0, so a scorer can tell "no offences" from "not counted". A referral with both a list and a
    summary counts offences from the list.
*Referral facts*
    ``statutory_supervision``, ``supervision_months_remaining``, ``weeks_until_release`` and
    ``agreed_to_engage`` come from the referral's supervision, release date and agreement to
    engage: facts for eligibility and planning that policies read. No shipped reoffending
    scorer declares them, so none of its scores can move with them (``check_scorer``'s
    ``referral_facts_independence``). Months are days / (365.25 / 12) and weeks days / 7,
    counted from the assessment date, so a date already past gives a negative value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from .._arrays import sorted_unique
from ..schema._batch import MISSING_DAY, OCCASION_ID_BASE, ONGOING_DAY, ReferralBatch
from ..schema._dates import DAYS_PER_MONTH, DAYS_PER_YEAR, whole_months, whole_years
from ..schema._taxonomy import ho_code_arrays, offence_taxonomy
from ..schema._vocabulary import (
    CAUTION_DISPOSALS,
    DISPOSALS,
    OASYS_COLUMNS,
    OASYS_ITEMS,
    PATHWAYS,
    STATUTORY_SUPERVISION,
    SUPERVISION_STATUSES,
)

__all__ = [
    "FEATURES",
    "LIST_ONLY_FEATURES",
    "SENSITIVE_FEATURES",
    "FeatureDef",
    "FeatureFrame",
    "compute_features",
    "feature_table",
]

#: Windows, in days at risk, for "offences in the last N months at risk".
WINDOW_DAYS: Final = {6: 183, 12: 365, 24: 730, 36: 1096}
#: Offence-free time is capped: beyond three years it no longer separates people in IOM use.
OFFENCE_FREE_CAP_MONTHS: Final = 36
#: Rates per year at risk use at least this many years as denominator, so one offence last
#: week is not read as fifty a year.
MIN_RATE_YEARS: Final = 1.0

_CAUTION_CODES: Final = np.array([d in CAUTION_DISPOSALS for d in DISPOSALS], dtype=bool)
_CUSTODY_CODE: Final = DISPOSALS.index("custody")
_SHIFT: Final = np.int64(1) << 22  # per-person key spacing for searchsorted over (person, day)
_DAY0: Final = np.int64(1) << 21  # offset making day numbers positive inside keys
_KEY_DAY0: Final = 1 << 16  # offset of day numbers packed into 17 bits


#: Appended to the definition of every feature a sanction summary cannot give.
LIST_ONLY_NOTE: Final = "; not recorded when the history is given only as a summary"


@dataclass(frozen=True)
class FeatureDef:
    """A derived feature: its name, unit, definition and the function computing it.

    ``needs_list`` marks features counted from the sanction list that a sanction summary
    cannot give: they are ``NaN`` (not recorded) for a referral whose history is given only
    as a summary, and for no other referral.
    """

    name: str
    unit: str
    description: str
    compute: Callable[[FeatureFrame], np.ndarray]
    sensitive: bool = False
    needs_list: bool = False


class FeatureFrame(Mapping[str, np.ndarray]):
    """Lazily computed features of one :class:`ReferralBatch`, cached by name.

    Scorers receive a :class:`FeatureFrame` restricted to the features they declare.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="A", assessment_date="2025-01-01",
    ...     date_of_birth="1990-01-01", sanctions=[{"offence_date": "2024-10-01",
    ...     "sanction_date": "2024-11-01", "offence_group": "shop_theft", "disposal": "fine"}])
    >>> frame = FeatureFrame.from_referrals([r])
    >>> frame["offences_12m_at_risk"]
    array([1.])
    """

    def __init__(self, batch: ReferralBatch, allowed: Iterable[str] | None = None) -> None:
        self.batch = batch
        self._cache: dict[str, np.ndarray] = {}
        self._allowed = None if allowed is None else frozenset(allowed)

    @classmethod
    def from_referrals(cls, referrals: Iterable[object]) -> FeatureFrame:
        from ..schema._table import ReferralTable

        return cls(ReferralTable.from_referrals(referrals).batch)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    @property
    def n_rows(self) -> int:
        return self.batch.n

    def restricted(self, names: Iterable[str]) -> FeatureFrame:
        """A view that refuses any feature not in ``names`` (shares the cache)."""
        view = FeatureFrame(self.batch, names)
        view._cache = self._cache
        return view

    def __getitem__(self, name: str) -> np.ndarray:
        if self._allowed is not None and name not in self._allowed:
            raise KeyError(f"feature {name!r} was not declared by this scorer")
        return self._get(name)

    def _get(self, name: str) -> np.ndarray:
        value = self._cache.get(name)
        if value is None:
            if name in FEATURES:
                value = FEATURES[name].compute(self)
            elif name in _INTERNAL:
                value = _INTERNAL[name](self)
            else:
                raise KeyError(f"unknown feature {name!r}; see iomscore.features.FEATURES")
            self._cache[name] = value
        return value

    def keys(self) -> list[str]:  # type: ignore[override]
        return sorted(self._allowed) if self._allowed is not None else list(FEATURES)

    def to_frame(self, features: Iterable[str] | None = None) -> Any:
        """A pandas DataFrame: ``person_id``, then one ``float64`` column per feature.

        Columns follow :meth:`keys` (every feature, or those a restricted view allows), or
        ``features`` in the order given. Not recorded values are ``NaN``. Requires pandas
        (the ``pandas`` extra); raises ``ImportError`` saying so when it is missing.

        Examples
        --------
        >>> import iomscore
        >>> r = iomscore.Referral(person_id="A", assessment_date="2025-01-01",
        ...     date_of_birth="1990-01-01", sanctions=[{"offence_date": "2024-10-01",
        ...     "sanction_date": "2024-11-01", "offence_group": "shop_theft", "disposal": "fine"}])
        >>> frame = FeatureFrame.from_referrals([r]).to_frame(["offences_12m_at_risk", "total_sanctions"])
        >>> frame.columns.tolist(), frame["offences_12m_at_risk"].tolist()
        (['person_id', 'offences_12m_at_risk', 'total_sanctions'], [1.0])
        """
        from .._pandas import require_pandas

        pd = require_pandas("FeatureFrame.to_frame()")
        names = self.keys() if features is None else list(features)
        columns: dict[str, Any] = {"person_id": pd.array(np.asarray(self.batch.person_id).astype(str), dtype="string")}
        for name in names:
            columns[name] = np.asarray(self[name], dtype=np.float64)
        return pd.DataFrame(columns)


# --- internals shared by several features ----------------------------------------------


def _sanction_person(f: FeatureFrame) -> np.ndarray:
    return f.batch.sanction_person


def _occasion_code(f: FeatureFrame) -> np.ndarray:
    """Per sanction: 0 for an occasion identified by its sanction date, else 1 + the id's index."""
    occ = f.batch.occasion
    return np.where(occ >= OCCASION_ID_BASE, occ - OCCASION_ID_BASE + 1, 0)


def _has_sanctions(f: FeatureFrame) -> np.ndarray:
    """Per person: True when the sanction list has at least one row."""
    offsets = f.batch.sanction_offsets
    return offsets[1:] > offsets[:-1]


def _sanction_starts(f: FeatureFrame) -> np.ndarray:
    """First sanction row of each person who has one (the segments ``reduceat`` reads)."""
    return f.batch.sanction_offsets[:-1][f._get("_has_sanctions")]


def _segment_max(f: FeatureFrame, key: np.ndarray) -> np.ndarray:
    """Per person, the maximum of ``key`` over the person's sanctions (-1 with none)."""
    out = np.full(f.batch.n, -1, dtype=np.int64)
    if key.size:
        out[f._get("_has_sanctions")] = np.maximum.reduceat(key, f._get("_sanction_starts"))
    return out


def _clip(x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    """``np.clip`` of integers, as the two ufuncs it is defined by (without its per-call checks)."""
    return np.minimum(np.maximum(x, lo), hi)


def _key_day(day: np.ndarray) -> np.ndarray:
    """Day numbers as 17-bit non-negative integers for packed sort keys (1790 to 2149)."""
    return _clip(day.astype(np.int64) + _KEY_DAY0, 0, (1 << 17) - 1)


def _current_occasion(f: FeatureFrame) -> np.ndarray:
    """Per person: (day, occasion code) of the current occasion; (MISSING_DAY, -1) with none.

    The occasion of the sanction marked current; otherwise the latest, the later-listed
    occasion identifier winning a tie on the date (a fixed rule, independent of input order).
    """
    b = f.batch
    code = f._get("_occasion_code")
    key = (b.current.astype(np.int64) << 62) | (f._get("_sanction_key_day") << 44) | code
    m = _segment_max(f, key)
    out = np.empty((b.n, 2), dtype=np.int64)
    out[:, 0] = ((m >> 44) & ((1 << 17) - 1)) - _KEY_DAY0
    out[:, 1] = m & ((1 << 44) - 1)
    out[m < 0] = (int(MISSING_DAY), -1)
    return out


def _principal_group(f: FeatureFrame) -> np.ndarray:
    """Per person: taxonomy code of the principal offence of the current occasion, or -1.

    The sanction marked ``current``; else, on the current occasion, the longest custodial
    sentence, then the latest offence, then the lowest taxonomy code (a fixed order).
    """
    b = f.batch
    person = f._get("_sanction_person")
    cur = f._get("_current_occasion")[person]
    code = f._get("_occasion_code")
    on_current = (b.sanction_day == cur[:, 0]) & (code == cur[:, 1])
    key = (
        (on_current.astype(np.int64) << 44)
        | (b.current.astype(np.int64) << 43)
        | (_clip(b.custody_days.astype(np.int64) + 1, 0, (1 << 16) - 1) << 27)
        | (_key_day(b.offence_day) << 10)
        | (1023 - _clip(b.group.astype(np.int64), 0, 1023))
    )
    m = _segment_max(f, key)
    return np.where(m < 0, -1, 1023 - (m & 1023))


def _previous_occasions(f: FeatureFrame) -> np.ndarray:
    """Per person: distinct occasions dated before the current occasion."""
    b = f.batch
    person = f._get("_sanction_person")
    cur_day = f._get("_current_occasion")[:, 0]
    before = b.sanction_day < cur_day[person]
    code = f._get("_occasion_code")[before]
    p = person[before]
    day = f._get("_sanction_key_day")[before]
    if p.size == 0:
        return np.zeros(b.n, dtype=np.int64)
    if b.n < (1 << 23) and int(code.max()) < (1 << 23):
        keys = (p << 40) | (day << 23) | code
        # rows come grouped by person: a stable sort (merging those runs) is several times
        # faster here than the default quicksort, and sorted_unique then finds them in order
        keys.sort(kind="stable")
        distinct = sorted_unique(keys) >> 40
    else:  # too many to pack into one integer key
        order = np.lexsort((code, day, p))
        keys = np.column_stack([p[order], day[order], code[order]])
        first = np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)]
        distinct = keys[first, 0]
    return np.bincount(distinct, minlength=b.n)


def _custody_intervals(f: FeatureFrame) -> np.ndarray:
    """Merged custody intervals before the assessment date: columns person, start, end (exclusive)."""
    b = f.batch
    cp = b.custody_person
    if cp.size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    a = b.assessment_day.astype(np.int64)[cp]
    s = b.custody_start.astype(np.int64)
    e = b.custody_end.astype(np.int64)
    e = np.where(e == ONGOING_DAY, a, e)
    e = np.minimum(e, a)
    s = np.minimum(s, e)
    # Order by (person, start): usually the rows already are (one check, no sort).
    lo, span = int(s.min()), int(s.max()) - int(s.min()) + 1
    if b.n * span < (1 << 62):
        key = cp * np.int64(span) + (s - lo)
        if not bool((key[1:] >= key[:-1]).all()):
            order = np.argsort(key, kind="stable")
            cp, s, e = cp[order], s[order], e[order]
    else:
        order = np.lexsort((s, cp))
        cp, s, e = cp[order], s[order], e[order]
    # Running maximum of the end within each person, via per-person key offsets.
    key = cp * _SHIFT + _DAY0
    run_end = np.maximum.accumulate(key + e) - key
    prev_end = np.r_[np.int64(-1) << 40, run_end[:-1]]
    new = np.r_[True, cp[1:] != cp[:-1]] | (s > prev_end)
    starts = np.flatnonzero(new)
    merged_end = np.maximum.reduceat(run_end, starts)
    table = np.column_stack([cp[starts], s[starts], merged_end])
    return table[table[:, 2] > table[:, 1]]


def at_risk_days_since(f: FeatureFrame, day: np.ndarray, person: np.ndarray, *,
                       below: int | None = None) -> np.ndarray:
    """Days at risk (not in custody) from ``day`` up to the assessment date of ``person``.

    Custody intervals are merged and sorted, so the custody inside ``[day, assessment)`` is
    the total of the intervals from the first one ending after ``day``, less the part of that
    interval before ``day``.

    With ``below``, only the values under ``below`` are exact: a row whose days at risk are
    at least ``below`` may get any value at least ``below`` (its days since ``day``, custody
    not taken off), which is all a comparison with a window of up to ``below`` days needs.
    The custody is then looked up only for rows that could fall under ``below``.
    """
    b = f.batch
    day = np.asarray(day, dtype=np.int64)
    person = np.asarray(person, dtype=np.int64)
    out = (b.assessment_day.astype(np.int64)[person] - day).astype(np.float64)
    iv = f._get("_custody_intervals")
    if iv.shape[0] == 0 or day.size == 0:
        return out
    ip, s, e = iv[:, 0], iv[:, 1], iv[:, 2]
    length = e - s
    # suffix[j]: custody days in interval j and the person's later intervals
    csum = np.cumsum(length)
    change = ip[1:] != ip[:-1]
    last = np.r_[change, True]
    running = np.zeros(b.n, dtype=np.int64)  # (the running total at each person's last interval)
    running[ip[last]] = csum[last]
    suffix = running[ip] - (csum - length)
    rows: np.ndarray | slice = slice(None)
    if below is not None:
        # (the custody after ``day`` is at most the person's total: a row whose days since
        # ``day`` less that total are still at least ``below`` is at least ``below``)
        first = np.r_[True, change]
        own = np.zeros(b.n, dtype=np.int64)  # each person's custody days in all: the suffix
        own[ip[first]] = suffix[first]  # at the person's first interval
        total = own[person]
        rows = np.flatnonzero((total > 0) & (out - total < below))
        day, person = day[rows], person[rows]
    # Each row's first interval ending after ``day``: one searchsorted of (person, day) keys
    # on (person, end) keys (the merged intervals' ends ascend within each person). Days are
    # clipped to the ends' range (which keeps every comparison) so keys stay per person.
    lo, hi = int(e.min()) - 1, int(e.max())
    span = np.int64(hi - lo + 1)
    j = np.searchsorted(ip * span + (e - lo), person * span + (np.clip(day, lo, hi) - lo), side="right")
    jj = np.minimum(j, ip.size - 1)
    inside = (j < ip.size) & (ip[jj] == person)
    overlap = np.where(inside, suffix[jj] - np.clip(day - s[jj], 0, length[jj]), 0)
    out[rows] -= overlap
    return out


def _summary_only(f: FeatureFrame) -> np.ndarray:
    """Per person: True when the history is given only as a summary (a summary, no sanction list)."""
    return f._get("_has_summary") & ~f._get("_has_sanctions")


def _window_days(f: FeatureFrame) -> np.ndarray:
    """Per person and window (columns in :data:`WINDOW_DAYS` order): the latest day with at
    least the window's days at risk from it to the assessment date.

    Days at risk from a day fall by one a day, or stay the same on a day in custody, so an
    offence has fewer days at risk than a window exactly when it falls after that day: one
    comparison a sanction row, not a search of its person's custody. That day is the
    window's ``w``-th day out of custody counting back from the assessment date: in the free
    days after the last custody period with at least ``w`` free days after it, or before the
    first period when none has.
    """
    b = f.batch
    a = b.assessment_day.astype(np.int64)
    windows = np.fromiter(WINDOW_DAYS.values(), dtype=np.int64)
    out = a[:, None] - windows[None, :]  # (no custody: ``w`` days before the assessment date)
    iv = f._get("_custody_intervals")
    if iv.shape[0] == 0:
        return out
    ip, s, e = iv[:, 0], iv[:, 1], iv[:, 2]
    new = np.r_[True, ip[1:] != ip[:-1]]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, ip.size - 1]
    after = np.where(np.r_[new[1:], True], a[ip], np.r_[s[1:], 0])  # where each free gap ends
    gap = after - e  # free days from the end of each period to the next one (or the assessment)
    suffix = np.cumsum(gap[::-1])[::-1]
    beyond = np.zeros(b.n, dtype=np.int64)
    beyond[ip[last]] = suffix[last] - gap[last]  # (the later people's gaps)
    free = suffix - beyond[ip]  # free days from the end of each period to the assessment
    people = ip[first]
    for col, w in enumerate(windows.tolist()):
        reach = np.add.reduceat((free >= w).astype(np.int64), first)  # (periods with at least w after them)
        i = first + reach - 1  # the last of them
        out[people, col] = np.where(reach > 0, after[i] - w + free[i] - gap[i], s[first] - (w - free[first]))
    return out


def _within(months: int) -> Callable[[FeatureFrame], np.ndarray]:
    """Per sanction: fewer days at risk between the offence and the assessment date than
    the ``months`` window (``at_risk_days_since(...) < WINDOW_DAYS[months]``)."""
    col = list(WINDOW_DAYS).index(months)

    def compute(f: FeatureFrame) -> np.ndarray:
        return f.batch.offence_day > f._get("_window_days")[:, col][f._get("_sanction_person")]

    return compute


def _per_person_sum(f: FeatureFrame, mask: np.ndarray) -> np.ndarray:
    """Per person, the number of their sanction rows where ``mask`` is True."""
    # Sanction rows are grouped by person (sanction_offsets): differences of a running count.
    running = np.zeros(mask.shape[0] + 1, dtype=np.int64)
    np.cumsum(mask, out=running[1:])
    offsets = f.batch.sanction_offsets
    return (running[offsets[1:]] - running[offsets[:-1]]).astype(np.float64)


def _per_person_extreme(f: FeatureFrame, values: np.ndarray, op: np.ufunc) -> np.ndarray:
    out = np.full(f.batch.n, np.nan)
    if values.size:
        out[f._get("_has_sanctions")] = op.reduceat(values.astype(np.float64), f._get("_sanction_starts"))
    return out


_INTERNAL: dict[str, Callable[[FeatureFrame], np.ndarray]] = {
    "_sanction_person": _sanction_person,
    "_occasion_code": _occasion_code,
    "_current_occasion": _current_occasion,
    "_principal_group": _principal_group,
    "_previous_occasions": _previous_occasions,
    "_custody_intervals": _custody_intervals,
    "_window_days": _window_days,
    **{f"_within_{m}m": _within(m) for m in WINDOW_DAYS},
    "_summary_only": _summary_only,
    "_has_sanctions": _has_sanctions,
    "_sanction_starts": _sanction_starts,
    "_has_summary": lambda f: f.batch.summary_previous >= 0,
    "_sanction_key_day": lambda f: _key_day(f.batch.sanction_day),
}


# --- public features -----------------------------------------------------------------


def _days(x: np.ndarray) -> np.ndarray:
    out = x.astype(np.float64)
    out[x == MISSING_DAY] = np.nan
    return out


def _age_at(f: FeatureFrame, day: np.ndarray) -> np.ndarray:
    b = f.batch
    ok = day != MISSING_DAY
    if ok.all():  # every date known (the usual case): no masking
        return whole_years(b.birth_day, day).astype(np.float64)
    out = np.full(b.n, np.nan)
    out[ok] = whole_years(b.birth_day[ok], day[ok])
    return out


def _has_summary(f: FeatureFrame) -> np.ndarray:
    return f._get("_has_summary")


def _current_day(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    listed = f._get("_current_occasion")[:, 0]
    return np.where(_has_summary(f), b.summary_conviction_day, listed).astype(np.int64)


def _first_day(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    listed = np.full(b.n, int(MISSING_DAY), dtype=np.int64)
    if b.sanction_day.size:
        listed[f._get("_has_sanctions")] = np.minimum.reduceat(b.sanction_day, f._get("_sanction_starts"))
    return np.where(_has_summary(f), b.summary_first_day, listed).astype(np.int64)


def f_age_at_first_sanction(f: FeatureFrame) -> np.ndarray:
    """Age at the first sanction: the summary's stated age when given, else from the date."""
    b = f.batch
    dated = _age_at(f, _first_day(f))
    stated = b._col("summary_age_first")
    return np.where(_has_summary(f) & (stated >= 0), stated.astype(np.float64), dated)


def _sanction_ho_code(f: FeatureFrame) -> np.ndarray:
    return f.batch._col("ho_code")


def f_violent_sanctions(f: FeatureFrame) -> np.ndarray:
    """Violent sanctioning occasions up to and including the current one.

    From the summary when it states them; otherwise counted from the list: an occasion is
    violent when one of its offences is (the Home Office code's violent-sanction flag when the
    offence carries a code, the offence group's ``violent`` flag when not).
    """
    b = f.batch
    stated = b._col("summary_violent")
    out = np.full(b.n, np.nan)
    person = f._get("_sanction_person")
    if person.size:
        cur_day = f._get("_current_occasion")[:, 0]
        code = _sanction_ho_code(f)
        by_group = offence_taxonomy().flag_table["violent"][b.group.astype(np.int64)]
        coded = code >= 0
        violent = by_group.copy()
        if coded.any():
            violent[coded] = ho_code_arrays().violent[code[coded]]
        keep = violent & (b.sanction_day <= cur_day[person])
        occ = f._get("_occasion_code")[keep]
        p = person[keep]
        day = f._get("_sanction_key_day")[keep]
        counts = np.zeros(b.n, dtype=np.int64)
        if p.size:
            order = np.lexsort((occ, day, p))
            keys = np.column_stack([p[order], day[order], occ[order]])
            first = np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)]
            counts = np.bincount(keys[first, 0], minlength=b.n)
        listed = cur_day != MISSING_DAY
        out[listed] = counts[listed]
    summary = _has_summary(f)
    out[summary] = np.where(stated[summary] >= 0, stated[summary].astype(np.float64), np.nan)
    return out


def _followup_day(f: FeatureFrame) -> np.ndarray:
    """Per person: start of follow-up (OASys 1.38), as the MoJ predictors read it.

    The summary's ``followup_start_date`` when stated; else the earliest release from a custody
    period ending on or after the current conviction (the assessment date while that custody
    is still running); else the current conviction date. MISSING_DAY with no current sanction.
    """
    b = f.batch
    conv = _current_day(f)
    out = conv.copy()
    cp = b.custody_person
    if cp.size:
        end = b.custody_end.astype(np.int64)
        end = np.where(end == ONGOING_DAY, b.assessment_day.astype(np.int64)[cp], end)
        after = (end >= conv[cp]) & (conv[cp] != MISSING_DAY)
        big = np.int64(1) << 40
        masked = np.where(after, end, big)
        counts = np.diff(b.custody_offsets)
        has = counts > 0
        release = np.full(b.n, big, dtype=np.int64)
        release[has] = np.minimum.reduceat(masked, b.custody_offsets[:-1][has])
        out = np.where(release < big, release, out)
    stated = b._col("summary_followup_day")
    return np.where(_has_summary(f) & (stated != MISSING_DAY), stated, out).astype(np.int64)


_INTERNAL["_followup_day"] = _followup_day


def f_months_since_followup(f: FeatureFrame) -> np.ndarray:
    """Whole months from the start of follow-up to the assessment date (ChronoUnit.MONTHS), 0..36."""
    b = f.batch
    start = f._get("_followup_day")
    ok = start != MISSING_DAY
    out = np.full(b.n, np.nan)
    months = whole_months(start[ok], b.assessment_day[ok].astype(np.int64))
    out[ok] = _clip(months, 0, OFFENCE_FREE_CAP_MONTHS)
    return out


def f_current_offence_code(f: FeatureFrame) -> np.ndarray:
    """Home Office code (as a number) of the current offence; NaN when not given.

    The summary's ``current_offence_code``; from a list, the highest code among the offences
    of the current occasion in the principal offence's group.
    """
    b = f.batch
    out = np.full(b.n, np.nan)
    person = f._get("_sanction_person")
    code = _sanction_ho_code(f)
    if person.size and (code >= 0).any():
        cur = f._get("_current_occasion")
        occ = f._get("_occasion_code")
        principal = f._get("_principal_group")
        on = (b.sanction_day == cur[person, 0]) & (occ == cur[person, 1]) & (b.group == principal[person])
        listed = _segment_max(f, np.where(on, code.astype(np.int64), -1))
        out[listed >= 0] = listed[listed >= 0]
    stated = b._col("summary_ho_code")
    summary = _has_summary(f)
    out[summary] = np.where(stated[summary] >= 0, stated[summary].astype(np.float64), np.nan)
    return out


def f_current_actuarial_category(f: FeatureFrame) -> np.ndarray:
    """OASys v4 actuarial category code of the current offence (index in ACTUARIAL_CATEGORIES).

    From its Home Office code when given; otherwise from the offence group when the group
    determines one category; NaN when neither does.
    """
    code = f._get("current_offence_code")
    group = f._get("current_offence_group")
    out = np.full(code.shape, np.nan)
    by_group = offence_taxonomy().actuarial_category_of_group()
    g_ok = ~np.isnan(group)
    mapped = by_group[group[g_ok].astype(np.int64)].astype(np.float64)
    mapped[mapped < 0] = np.nan
    out[g_ok] = mapped
    c_ok = ~np.isnan(code)
    if c_ok.any():
        cat = ho_code_arrays().category[code[c_ok].astype(np.int64)].astype(np.float64)
        cat[cat < 0] = np.nan
        out[c_ok] = cat
    return out


def f_previous_sanctions(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    listed = f._get("_previous_occasions").astype(np.float64)
    listed[f._get("_current_occasion")[:, 0] == MISSING_DAY] = np.nan
    return np.where(_has_summary(f), b.summary_previous.astype(np.float64), listed)


def f_total_sanctions(f: FeatureFrame) -> np.ndarray:
    return f._get("previous_sanctions") + 1.0


def f_current_group(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    principal = f._get("_principal_group").astype(np.float64)
    principal[principal < 0] = np.nan
    return np.where(_has_summary(f), b.summary_group.astype(np.float64), principal)


def f_current_ogrs3_group(f: FeatureFrame) -> np.ndarray:
    code = f._get("current_offence_group")
    out = np.full(code.shape, np.nan)
    ok = ~np.isnan(code)
    out[ok] = offence_taxonomy().ogrs3_index[code[ok].astype(np.int64)]
    return out


def f_caution_only(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    person = f._get("_sanction_person")
    cur_day = f._get("_current_occasion")[:, 0]
    if person.size:
        conviction = ~_CAUTION_CODES[b.disposal] & (b.sanction_day <= cur_day[person])
        listed = (np.bincount(person[conviction], minlength=b.n) == 0) & (cur_day != MISSING_DAY)
    else:
        listed = np.zeros(b.n, dtype=bool)
    return np.where(_has_summary(f), b.summary_caution_only, listed).astype(np.float64)


def f_copas_rate(f: FeatureFrame) -> np.ndarray:
    years = 10.0 + f._get("age_at_current_conviction") - f._get("age_at_first_sanction")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(f._get("total_sanctions") / years)


def _window(months: int) -> Callable[[FeatureFrame], np.ndarray]:
    def compute(f: FeatureFrame) -> np.ndarray:
        return _per_person_sum(f, f._get(f"_within_{months}m"))

    return compute


def _flag_count(flag: str, months: int | None = None) -> Callable[[FeatureFrame], np.ndarray]:
    def compute(f: FeatureFrame) -> np.ndarray:
        table = offence_taxonomy().flag_table[flag]
        mask = table[f.batch.group.astype(np.int64)] if f.batch.group.size else np.zeros(0, bool)
        if months is not None:
            mask = mask & f._get(f"_within_{months}m")
        return _per_person_sum(f, mask)

    return compute


def f_offences_per_year(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    first = _per_person_extreme(f, b.offence_day, np.minimum)
    n = f._get("proven_offences")
    ok = ~np.isnan(first)
    years = np.full(b.n, np.nan)
    years[ok] = at_risk_days_since(f, first[ok].astype(np.int64), np.flatnonzero(ok)) / DAYS_PER_YEAR
    rate = np.zeros(b.n)
    rate[ok] = n[ok] / np.maximum(years[ok], MIN_RATE_YEARS)
    return rate


def f_days_since_last_offence(f: FeatureFrame) -> np.ndarray:
    last = _per_person_extreme(f, f.batch.offence_day, np.maximum)
    return f.batch.assessment_day - last


def f_offence_free_months(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    last = _per_person_extreme(f, b.offence_day, np.maximum)
    out = np.full(b.n, float(OFFENCE_FREE_CAP_MONTHS))
    ok = ~np.isnan(last)
    days = at_risk_days_since(f, last[ok].astype(np.int64), np.flatnonzero(ok))
    out[ok] = np.minimum(np.floor(days / DAYS_PER_MONTH), OFFENCE_FREE_CAP_MONTHS)
    return out


def f_custody_days_total(f: FeatureFrame) -> np.ndarray:
    iv = f._get("_custody_intervals")
    return np.bincount(iv[:, 0], weights=iv[:, 2] - iv[:, 1], minlength=f.batch.n).astype(np.float64)


def f_current_conviction_months(f: FeatureFrame) -> np.ndarray:
    b = f.batch
    day = _current_day(f)
    ok = day != MISSING_DAY
    out = np.full(b.n, np.nan)
    days = at_risk_days_since(f, day[ok], np.flatnonzero(ok))
    out[ok] = np.floor(days / DAYS_PER_MONTH)
    return out


def _current_flag(flag: str) -> Callable[[FeatureFrame], np.ndarray]:
    def compute(f: FeatureFrame) -> np.ndarray:
        code = f._get("current_offence_group")
        out = np.full(code.shape, np.nan)
        ok = ~np.isnan(code)
        out[ok] = offence_taxonomy().flag_table[flag][code[ok].astype(np.int64)]
        return out

    return compute


def _list_only(compute: Callable[[FeatureFrame], np.ndarray]) -> Callable[[FeatureFrame], np.ndarray]:
    """``compute``, with ``NaN`` where the history is given only as a summary."""

    def wrapped(f: FeatureFrame) -> np.ndarray:
        return np.where(f._get("_summary_only"), np.nan, np.asarray(compute(f), dtype=np.float64))

    return wrapped


def _counted(name: str, unit: str, description: str, compute: Callable[[FeatureFrame], np.ndarray]) -> FeatureDef:
    """A feature counted from the sanction list, which a summary cannot give."""
    return FeatureDef(name, unit, description + LIST_ONLY_NOTE, _list_only(compute), needs_list=True)


def _need(pathway: str) -> Callable[[FeatureFrame], np.ndarray]:
    col = PATHWAYS.index(pathway)

    def compute(f: FeatureFrame) -> np.ndarray:
        code = f.batch.needs[:, col].astype(np.float64)
        code[code < 0] = np.nan
        return code

    return compute


def _need_count(level: int) -> Callable[[FeatureFrame], np.ndarray]:
    def compute(f: FeatureFrame) -> np.ndarray:
        return (f.batch.needs == level).sum(axis=1).astype(np.float64)

    return compute


_STATUTORY: Final = np.array([s in STATUTORY_SUPERVISION for s in SUPERVISION_STATUSES], dtype=np.float64)


def f_statutory_supervision(f: FeatureFrame) -> np.ndarray:
    status = f.batch._col("supervision_status")
    out = np.full(status.shape, np.nan)
    ok = status >= 0
    out[ok] = _STATUTORY[status[ok]]
    return out


def _until(column: str, per: float) -> Callable[[FeatureFrame], np.ndarray]:
    """(date in ``column`` - assessment date) / ``per`` days; not recorded with no date."""

    def compute(f: FeatureFrame) -> np.ndarray:
        day = f.batch._col(column)
        out = np.full(day.shape, np.nan)
        ok = day != MISSING_DAY
        out[ok] = (day[ok].astype(np.int64) - f.batch.assessment_day[ok]) / per
        return out

    return compute


def f_agreed_to_engage(f: FeatureFrame) -> np.ndarray:
    agreed = f.batch._col("agreed_to_engage").astype(np.float64)
    agreed[agreed < 0] = np.nan
    return agreed


def _oasys(column: str) -> Callable[[FeatureFrame], np.ndarray]:
    j = OASYS_COLUMNS.index(column)

    def compute(f: FeatureFrame) -> np.ndarray:
        answers = f.batch._col("oasys")
        code = answers[:, j].astype(np.float64)
        code[answers[:, j] < 0] = np.nan
        return code

    return compute


def _oasys_description(column: str) -> str:
    if column in OASYS_ITEMS:
        question, label, kind = OASYS_ITEMS[column]
        codes = {"yes_no": "1 yes, 0 no", "problem": "problem score 0, 1 or 2",
                 "relationship": "0 living together, 1 not living together, 2 no relationship",
                 "motivation": "0 full, 1 partial, 2 none"}[kind]
        return f"OASys {question}, {label}: {codes}; not recorded when not answered or without an assessment"
    if column.startswith("drug_"):
        return (f"OASys drugs ever misused: {column[5:].replace('_', ' ')}, 1 yes, 0 no; not recorded without an "
                "assessment")
    return (f"OASys R1.2 previous offence: {column[9:].replace('_', ' ')}, 1 yes, 0 no; not recorded without an "
            "assessment")


def _sex(f: FeatureFrame) -> np.ndarray:
    s = f.batch.sex.astype(np.float64)
    s[s < 0] = np.nan
    return s


_DEFS: list[FeatureDef] = [
    FeatureDef("sex", "code", "0 male, 1 female; read only by scorers that declare it", _sex, sensitive=True),
    FeatureDef("age_at_assessment", "years", "Completed years of age at the assessment date",
               lambda f: _age_at(f, f.batch.assessment_day)),
    FeatureDef("age_at_current_conviction", "years", "Completed years of age at the current occasion",
               lambda f: _age_at(f, _current_day(f))),
    FeatureDef("age_at_first_sanction", "years",
               "Completed years of age at the first sanctioning occasion (the summary's stated age when given)",
               f_age_at_first_sanction),
    FeatureDef("previous_sanctions", "occasions", "Sanctioning occasions before the current one",
               f_previous_sanctions),
    FeatureDef("total_sanctions", "occasions", "Previous sanctioning occasions plus the current one",
               f_total_sanctions),
    _counted("proven_offences", "offences", "Proven offences on record (each offence counts)",
             lambda f: np.diff(f.batch.sanction_offsets).astype(np.float64)),
    FeatureDef("career_length_years", "years", "Years from the first sanction to the assessment date",
               lambda f: (f.batch.assessment_day - _days(_first_day(f))) / DAYS_PER_YEAR),
    FeatureDef("copas_rate", "log rate",
               "ln(total sanctions / (10 + age at current conviction - age at first sanction)), as OGRS3",
               f_copas_rate),
    FeatureDef("current_offence_group", "code", "Taxonomy index of the principal current offence",
               f_current_group),
    FeatureDef("current_ogrs3_group", "code", "OGRS3 offence group (0-19) of the principal current offence",
               f_current_ogrs3_group),
    FeatureDef("caution_only_history", "flag", "1 when every sanction up to the current one was a caution",
               f_caution_only),
    FeatureDef("current_offence_neighbourhood", "flag",
               "1 when the principal current offence is neighbourhood crime, 0 when not (from the summary's "
               "current offence group when there is no list)", _current_flag("neighbourhood")),
    FeatureDef("current_offence_acquisitive", "flag",
               "1 when the principal current offence is acquisitive, 0 when not (from the summary's current "
               "offence group when there is no list)", _current_flag("acquisitive")),
    FeatureDef("current_conviction_months_at_risk", "months",
               "Whole months at risk since the current occasion (the summary's current conviction date when "
               "given); not recorded with no history", f_current_conviction_months),
    *[
        _counted(f"offences_{m}m_at_risk", "offences",
                 f"Proven offences committed in the last {m} months at risk ({d} days not in custody)",
                 _window(m))
        for m, d in WINDOW_DAYS.items()
    ],
    _counted("offences_per_year_at_risk", "offences per year",
             "Proven offences per year at risk since the first offence (at least 1 year)",
             f_offences_per_year),
    FeatureDef("days_since_last_offence", "days",
               "Calendar days from the latest offence to the assessment date; not recorded with no offence "
               "listed", f_days_since_last_offence),
    _counted("offence_free_months_at_risk", "months",
             "Whole months at risk since the latest offence, capped at 36 (36 with no offence)",
             f_offence_free_months),
    FeatureDef("violent_sanctions", "occasions",
               "Violent sanctioning occasions up to and including the current one (OASys 1.34): the summary's "
               "figure, or counted from the list by the Home Office code's flag or the offence group's",
               f_violent_sanctions),
    FeatureDef("age_at_followup_start", "years",
               "Completed years of age at the start of follow-up (OASys 1.38: the summary's date, else the "
               "release from custody after the current conviction, else the current conviction date)",
               lambda f: _age_at(f, f._get("_followup_day"))),
    FeatureDef("months_since_followup_start", "months",
               "Whole calendar months from the start of follow-up to the assessment date (a month counts once "
               "its day-of-month is reached), 0 before it starts, capped at 36: the OASys v4 offence-free months",
               f_months_since_followup),
    FeatureDef("current_offence_code", "code", "Home Office offence code of the current offence, as a number",
               f_current_offence_code),
    FeatureDef("current_actuarial_category", "code",
               "OASys v4 actuarial category (index in ACTUARIAL_CATEGORIES) of the current offence: from its "
               "Home Office code, else from an offence group that determines one", f_current_actuarial_category),
    FeatureDef("custody_days_total", "days", "Days in custody before the assessment date (merged periods)",
               f_custody_days_total),
    *[
        _counted(name, "offences", desc, fn)
        for name, desc, fn in [
            ("neighbourhood_offences", "Neighbourhood-crime offences on record", _flag_count("neighbourhood")),
            ("neighbourhood_offences_24m_at_risk", "Neighbourhood-crime offences in the last 24 months at risk",
             _flag_count("neighbourhood", 24)),
            ("acquisitive_offences", "Acquisitive offences on record", _flag_count("acquisitive")),
            ("acquisitive_offences_24m_at_risk", "Acquisitive offences in the last 24 months at risk",
             _flag_count("acquisitive", 24)),
            ("violent_offences", "Violent offences on record", _flag_count("violent")),
            ("drug_offences", "Drug offences on record", _flag_count("drugs")),
        ]
    ],
    *[
        FeatureDef(f"need_{p}", "level", f"Need on the {p.replace('_', ' ')} pathway: 0 none, 1 some, 2 significant",
                   _need(p))
        for p in PATHWAYS
    ],
    FeatureDef("oasys_assessed", "flag", "1 when the referral carries OASys assessment answers, 0 when not",
               lambda f: f.batch._col("oasys_present").astype(np.float64)),
    *[FeatureDef(f"oasys_{c}", "code", _oasys_description(c), _oasys(c)) for c in OASYS_COLUMNS],
    FeatureDef("needs_significant", "pathways", "Pathways with a significant need", _need_count(2)),
    FeatureDef("needs_some", "pathways", "Pathways with some need", _need_count(1)),
    FeatureDef("needs_not_assessed", "pathways", "Pathways not assessed", _need_count(-1)),
    FeatureDef("statutory_supervision", "flag",
               "1 on licence, post-sentence supervision, a community order or a suspended sentence order; 0 with "
               "none (non-statutory); not recorded when the supervision status is not", f_statutory_supervision),
    FeatureDef("supervision_months_remaining", "months",
               "Months (days / 30.44) from the assessment date to the supervision end date, negative once it has "
               "passed; not recorded with no end date", _until("supervision_end_day", DAYS_PER_MONTH)),
    FeatureDef("weeks_until_release", "weeks",
               "Weeks (days / 7) from the assessment date to the expected or actual release date, negative when "
               "already released; not recorded with no release date", _until("release_day", 7.0)),
    FeatureDef("agreed_to_engage", "flag", "1 when the person has agreed to engage with IOM, 0 when not; not "
               "recorded when not asked", f_agreed_to_engage),
]

#: Every public feature by name.
FEATURES: Final[Mapping[str, FeatureDef]] = {d.name: d for d in _DEFS}
#: Features only scorers that declare them may read.
SENSITIVE_FEATURES: Final = frozenset(d.name for d in _DEFS if d.sensitive)
#: Features counted from the sanction list: ``NaN`` when the history is given only as a summary.
LIST_ONLY_FEATURES: Final = frozenset(d.name for d in _DEFS if d.needs_list)


def compute_features(batch: ReferralBatch, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Compute the named features for a batch."""
    frame = FeatureFrame(batch)
    return {n: frame[n] for n in names}


def feature_table() -> list[dict[str, str]]:
    """Name, unit and definition of every feature (for documentation and ``iomscore features``)."""
    return [{"name": d.name, "unit": d.unit, "description": d.description} for d in _DEFS]
