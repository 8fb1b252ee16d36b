"""When would they leave: the earliest date, with no new offence on record, at which a score drops.

:func:`leaves_after` moves every person's assessment date forward one calendar month at a time
(up to ``max_months``) with their record otherwise unchanged (no new offence, no new custody:
the months added are months at risk, "if not in custody"; a custody period still running ends
at the assessment date, :func:`moved_forward`), re-scores the batch as arrays at each step
(ages advance with the date, custody already recorded stays excluded from time at risk), and reports for each person the first month at which the score falls below
``threshold`` or, without a threshold, the band falls below the band at the starting date. A
caller may add its own rule over the re-scored arrays (:func:`iomscore.cohort.leaves_after`
adds a policy's entry rules). Only people not yet resolved are re-scored at each step; nothing
loops over people in Python.

This is the engine; :func:`iomscore.cohort.leaves_after` is the public entry point (with a
policy's entry rules) and :func:`iomscore.explain` shows the result for one person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..schema._batch import ReferralBatch
from ..schema._table import ReferralTable
from ._api import DEFAULT_SCORER, score_batch
from ._registry import get_scorer
from ._result import ScoreBatch

__all__ = ["BAND_RULE", "DEFAULT_MAX_MONTHS", "LeaveRule", "LeavesAfter", "add_months", "leaves_after",
           "moved_forward", "threshold_rule"]

#: How far ahead :func:`leaves_after` looks by default (36 months at risk).
DEFAULT_MAX_MONTHS: Final = 36
#: The rule when no threshold or other rule is given: the band drops.
BAND_RULE: Final = "band lower than at the assessment date"
_BAD_MONTHS: Final = "max_months must be a whole number from 1 to 120, not {value!r}"
_BAD_THRESHOLD: Final = "threshold must be a finite number, not {value!r}"
_NOT_FOUND: Final = "person {person!r} is not among the people leaves_after was computed for"

#: A caller's rule: ``rule(batch_at_date, scores_at_date, rows) -> left`` (boolean per row of
#: the shifted sub-batch; ``rows`` are their positions in the original batch).
LeaveRule = Callable[[ReferralBatch, ScoreBatch, npt.NDArray[np.int64]], npt.NDArray[np.bool_]]


def threshold_rule(threshold: float) -> str:
    """The words for a score threshold rule.

    Examples
    --------
    >>> threshold_rule(16)
    'below the entry threshold of 16'
    """
    return f"below the entry threshold of {threshold:g}"


def add_months(days: npt.ArrayLike, months: int | npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 moved forward by whole calendar months (the day clamped to the month).

    Examples
    --------
    >>> import datetime as dt
    >>> import numpy as np
    >>> d = (dt.date(2025, 1, 31) - dt.date(1970, 1, 1)).days
    >>> [str(np.datetime64(int(x), "D")) for x in add_months([d, d], [1, 13])]
    ['2025-02-28', '2026-02-28']
    """
    day = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    dom = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64)
    last = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64) - 1
    return (target.astype("datetime64[D]") + np.minimum(dom, last)).astype(np.int64)


@dataclass(frozen=True)
class LeavesAfter:
    """Per person: months at risk until the rule holds (``NaN``: not within ``max_months``).

    ``band_now`` is the band at the assessment date (``None`` where the person was not
    scored); with the band rule the sentence names it.
    """

    person_id: npt.NDArray[Any]
    months: npt.NDArray[np.float64]
    day: npt.NDArray[np.int64]  # days since 1970-01-01, -1 where not within max_months
    score_then: npt.NDArray[np.float64]
    band_then: npt.NDArray[Any]
    rule: str
    max_months: int
    band_now: npt.NDArray[Any] | None = None

    def __len__(self) -> int:
        return int(self.months.size)

    def index(self, person_id: str) -> int:
        """The row of ``person_id`` (``KeyError`` if not there).

        Examples
        --------
        >>> import numpy as np
        >>> LeavesAfter(np.array(["P1", "P2"]), np.array([7.0, np.nan]), np.array([20635, -1]),
        ...     np.array([5.0, np.nan]), np.array(["low", None], dtype=object), "r", 36).index("P2")
        1
        """
        found = np.flatnonzero(np.asarray(self.person_id, dtype=object) == person_id)
        if found.size == 0:
            raise KeyError(_NOT_FOUND.format(person=person_id))
        return int(found[0])

    def for_person(self, i: int) -> dict[str, Any] | None:
        """``{"months_at_risk", "date", "score", "band", "rule"}`` for row ``i``, or ``None``.

        Examples
        --------
        >>> import numpy as np
        >>> r = LeavesAfter(np.array(["P1"]), np.array([7.0]), np.array([20635]), np.array([5.0]),
        ...     np.array(["low"], dtype=object), "below the entry threshold of 6", 36)
        >>> r.for_person(0)["date"], r.for_person(0)["months_at_risk"]
        ('2026-07-01', 7)
        """
        if np.isnan(self.months[i]):
            return None
        date = dt.date(1970, 1, 1) + dt.timedelta(days=int(self.day[i]))
        return {"months_at_risk": int(self.months[i]), "date": date.isoformat(), "score": float(self.score_then[i]),
                "band": None if self.band_then[i] is None else str(self.band_then[i]), "rule": self.rule_text(i)}

    def rule_text(self, i: int) -> str:
        """The rule in words for row ``i`` (the band rule names the band at the assessment date)."""
        if self.rule == BAND_RULE and self.band_now is not None and self.band_now[i] is not None:
            return f"band lower than {self.band_now[i]}"
        return self.rule

    def sentence(self, i: int) -> str:
        """Plain English, e.g. ``"below the entry threshold of 6 after 7 more offence-free months at risk, ..."``.

        Examples
        --------
        >>> import numpy as np
        >>> r = LeavesAfter(np.array(["P1"]), np.array([7.0]), np.array([20635]), np.array([5.0]),
        ...     np.array(["low"], dtype=object), "below the entry threshold of 6", 36)
        >>> r.sentence(0)
        'below the entry threshold of 6 after 7 more offence-free months at risk, on 2026-07-01 if not in custody'
        """
        found = self.for_person(i)
        if found is None:
            return f"{self.rule_text(i)}: not within {self.max_months} more offence-free months at risk"
        if found["months_at_risk"] == 0:
            return f"{found['rule']} already at the assessment date ({found['date']})"
        return (f"{found['rule']} after {found['months_at_risk']} more offence-free months at risk, "
                f"on {found['date']} if not in custody")

    def sentences(self) -> list[str]:
        """:meth:`sentence` for every row, in order."""
        return [self.sentence(i) for i in range(len(self))]


def moved_forward(batch: ReferralBatch, months: int | npt.ArrayLike) -> ReferralBatch:
    """``batch`` assessed ``months`` calendar months later, with no new offence and out of custody.

    Custody on record until the assessment date stays (excluded from time at risk); a period
    still running (or ending after the assessment date) ends at the assessment date: the
    months added are months at risk, "if not in custody".

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
    ...     custody=[{"start": "2025-01-01"}])
    >>> later = moved_forward(iomscore.ReferralTable.from_referrals([r]).batch, 3)
    >>> [str(np.datetime64(int(d), "D")) for d in (later.assessment_day[0], later.custody_end[0])]
    ['2025-09-01', '2025-06-01']
    """
    start = batch.assessment_day.astype(np.int64)
    changes: dict[str, Any] = {"assessment_day": add_months(start, months).astype(batch.assessment_day.dtype)}
    if batch.custody_end.size:
        own = start[batch.custody_person]
        end = batch.custody_end.astype(np.int64)
        capped = np.where(end > own, np.maximum(own, batch.custody_start.astype(np.int64)), end)
        changes["custody_end"] = capped.astype(batch.custody_end.dtype)
    return dataclasses.replace(batch, **changes)


def _shifted(batch: ReferralBatch, rows: npt.NDArray[np.int64], months: int) -> ReferralBatch:
    return moved_forward(batch.take(rows), months)


def _ranks(bands: Any, order: dict[str, int] | None) -> npt.NDArray[np.int64]:
    """Each band's position in ``order`` (-1 where unknown), looked up once per distinct band."""
    labels = np.asarray(bands, dtype=object).astype(str)
    if order is None or labels.size == 0:
        return np.full(labels.size, -1, dtype=np.int64)
    uniq, inverse = np.unique(labels, return_inverse=True)
    lut = np.array([order.get(str(u), -1) for u in uniq], dtype=np.int64)
    return lut[inverse]


def _band_order(scorer: Any) -> dict[str, int] | None:
    spec = getattr(scorer, "spec", None)
    bands = getattr(spec, "bands", None)
    if bands:
        return {b.name: i for i, b in enumerate(bands)}
    return None


def _ok(scored: ScoreBatch, n: int) -> npt.NDArray[np.bool_]:
    return scored.ok if scored.error is not None else np.ones(n, dtype=bool)


def leaves_after(
    referrals: ReferralTable | ReferralBatch,
    scorer: Any = None,
    *,
    threshold: float | None = None,
    max_months: int = DEFAULT_MAX_MONTHS,
    band_order: Sequence[str] | None = None,
    rule: LeaveRule | None = None,
    rule_text: str | None = None,
) -> LeavesAfter:
    """For every person, the earliest offence-free month at risk at which their score drops.

    Parameters
    ----------
    referrals : ReferralTable or ReferralBatch
    scorer : str, Path or Scorer, optional
        Default :data:`iomscore.DEFAULT_SCORER`.
    threshold : float, optional
        The entry threshold: the score falls *below* it.
    max_months : int
        How many months ahead to look.
    band_order : sequence of str, optional
        Band names, lowest first, for the band rule (default: the spec's bands; otherwise, as
        bands are score ranges, the band has dropped when it differs at a lower score).
    rule, rule_text : optional
        A rule of the caller's over the re-scored arrays (:data:`LeaveRule`) and its words; the
        person has left when it or the threshold holds. With neither ``threshold`` nor
        ``rule``, the band falls below the band at the assessment date.

    Returns
    -------
    LeavesAfter
        ``months[i]`` is 0 when the rule already holds at the assessment date.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
    ...     sanctions=[{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
    ...                 "offence_group": "burglary_domestic", "disposal": "community_order"}])
    >>> out = leaves_after(iomscore.ReferralTable.from_referrals([r]), threshold=4)
    >>> out.sentence(0)
    'below the entry threshold of 4 after 20 more offence-free months at risk, on 2027-02-01 if not in custody'
    """
    if not isinstance(max_months, int) or isinstance(max_months, bool) or not 1 <= max_months <= 120:
        raise ValueError(_BAD_MONTHS.format(value=max_months))
    if threshold is not None and (isinstance(threshold, bool) or not np.isfinite(float(threshold))):
        raise ValueError(_BAD_THRESHOLD.format(value=threshold))
    batch = referrals.batch if isinstance(referrals, ReferralTable) else referrals
    s = get_scorer(DEFAULT_SCORER if scorer is None else scorer)
    n = batch.n
    months = np.full(n, np.nan)
    day = np.full(n, -1, dtype=np.int64)
    score_then = np.full(n, np.nan)
    band_then = np.full(n, None, dtype=object)
    start = score_batch(batch, s)
    start_ok = _ok(start, n)
    band_now = np.asarray(start.band, dtype=object).copy()
    band_now[~start_ok] = None
    by_band = threshold is None and rule is None
    order = {name: i for i, name in enumerate(band_order)} if band_order else _band_order(s)
    start_rank = _ranks(start.band, order) if by_band else np.zeros(n, dtype=np.int64)
    start_band = np.asarray(start.band, dtype=object).astype(str)
    words = [w for w in (rule_text if rule is not None else None,
                         threshold_rule(threshold) if threshold is not None else None) if w]
    text = " or ".join(words) if words else BAND_RULE
    pending = np.flatnonzero(start_ok)
    for m in range(max_months + 1):
        if pending.size == 0:
            break
        sub = _shifted(batch, pending, m)
        scored = score_batch(sub, s)
        ok = _ok(scored, pending.size)
        if by_band and order is not None:
            rank = _ranks(scored.band, order)
            hit = ok & (rank >= 0) & (rank < start_rank[pending])
        elif by_band:  # no declared band order: bands are score ranges, so a band left for lower scores
            now = np.asarray(scored.band, dtype=object).astype(str)
            hit = ok & (now != start_band[pending]) & (scored.score < start.score[pending])
        else:
            hit = np.zeros(pending.size, dtype=bool)
            if threshold is not None:
                hit |= ok & (scored.score < threshold)
            if rule is not None:
                hit |= ok & np.asarray(rule(sub, scored, pending), dtype=bool)
        rows = pending[hit]
        months[rows] = m
        day[rows] = sub.assessment_day[hit]
        score_then[rows] = scored.score[hit]
        band_then[rows] = np.asarray(scored.band, dtype=object)[hit]
        pending = pending[~hit]
    return LeavesAfter(np.asarray(batch.person_id), months, day, score_then, band_then, text, max_months, band_now)
