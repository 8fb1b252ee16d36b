"""When would they leave the cohort: the scoring engine with a policy's entry rules.

:func:`leaves_after` is the public entry point. Without a policy it is the engine of
:mod:`iomscore.scoring._leaves` (score below a threshold, or the band drops); with a policy the
person leaves when they no longer meet the entry rules (the core rules, or an enabled flex rule)
of their cohort, re-evaluated on the features at each later assessment date as arrays, the
same rules :func:`iomscore.cohort.select_cohort` applies (routing and de-selection are not
entry rules and are left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..features._engine import FeatureFrame
from ..schema._batch import ReferralBatch
from ..schema._table import ReferralTable
from ..scoring._leaves import DEFAULT_MAX_MONTHS, LeavesAfter, add_months
from ..scoring._leaves import leaves_after as _engine
from ..scoring._result import ScoreBatch
from ._policy import SelectionPolicy, load_policy
from ._select import _eligibility

__all__ = ["DEFAULT_MAX_MONTHS", "LeavesAfter", "add_months", "leaves_after"]

_UNKNOWN_COHORT: Final = "policy {policy!r} has no cohort {name!r} (cohorts: {known})"
_COHORTS_LENGTH: Final = "cohort gives {got} names for {n} people; give one name (or None) per person"


def _entry_rules(policy: SelectionPolicy, cohort: str | Sequence[str | None] | None, n: int) -> tuple[Any, str]:
    cohorts = policy.cohort_list()
    names = [c.name for c in cohorts]
    wanted: list[str | None]
    if cohort is None or isinstance(cohort, str):
        wanted = [None] * n if cohort is None else [cohort] * n
    else:
        wanted = list(cohort)
        if len(wanted) != n:
            raise ValueError(_COHORTS_LENGTH.format(got=len(wanted), n=n))
    for w in set(wanted) - {None}:
        if w not in names:
            raise ValueError(_UNKNOWN_COHORT.format(policy=policy.name, name=w, known=", ".join(names)))
    # -1: any of the cohorts; else the position of the person's cohort
    index = np.array([-1 if w is None else names.index(w) for w in wanted], dtype=np.int64)
    features = tuple(dict.fromkeys(f for c in cohorts for f in c.features))

    def rule(sub: ReferralBatch, scored: ScoreBatch, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        values = FeatureFrame(sub)
        frame = {name: np.asarray(values[name], dtype=np.float64) for name in features}
        eligible = np.stack([_eligibility(c, frame, sub.n).eligible for c in cohorts])
        mine = index[rows]
        met = np.where(mine < 0, eligible.any(axis=0), eligible[np.maximum(mine, 0), np.arange(sub.n)])
        return ~met

    if len(cohorts) == 1 or (cohort is not None and isinstance(cohort, str)):
        title = cohorts[names.index(cohort)].title if isinstance(cohort, str) else cohorts[0].title
        text = f"no longer meets the entry rules of {title}"
    elif cohort is None:
        text = f"no longer meets the entry rules of any cohort of {policy.title}"
    else:
        text = "no longer meets the entry rules of their cohort"
    return rule, text


def leaves_after(
    referrals: ReferralTable | ReferralBatch,
    scorer: Any = None,
    *,
    policy: SelectionPolicy | str | Path | None = None,
    cohort: str | Sequence[str | None] | None = None,
    threshold: float | None = None,
    max_months: int = DEFAULT_MAX_MONTHS,
    band_order: Sequence[str] | None = None,
) -> LeavesAfter:
    """For every person, the earliest offence-free month at risk at which they would leave.

    The assessment date moves forward a calendar month at a time with the record otherwise
    unchanged (no new offence, no new custody: the months added are months at risk, "if not
    in custody"); ages advance; custody already recorded stays excluded from time at risk. Each
    step re-scores (and, with a policy, re-evaluates the entry rules of) only the people not
    yet resolved, as arrays. Works for any scorer.

    Parameters
    ----------
    referrals : ReferralTable or ReferralBatch
    scorer : str, Path or Scorer, optional
        Default :data:`iomscore.DEFAULT_SCORER`.
    policy : SelectionPolicy, str or Path, optional
        The person leaves when they no longer meet the policy's entry rules (core rules, or an
        enabled flex rule).
    cohort : str or sequence of (str or None), optional
        With a several-cohort policy: whose entry rules, one cohort for everyone or one name per
        person (``None``: any of the cohorts, the default).
    threshold : float, optional
        The entry threshold: the person leaves when the score falls *below* it (with a policy
        too: whichever comes first).
    max_months : int
        How many months ahead to look (default 36).
    band_order : sequence of str, optional
        Without a policy or threshold the rule is "the band drops": band names, lowest first
        (default: the spec's bands).

    Returns
    -------
    LeavesAfter
        ``months[i]`` (``NaN``: not within ``max_months``; 0: the rule holds already), the
        date, and the score and band then; ``for_person(i)`` gives the ``"leaves_after"``
        object of :func:`iomscore.explain` and ``sentence(i)`` the plain-English line.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
    ...     sanctions=[{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
    ...                 "offence_group": "burglary_domestic", "disposal": "community_order"}])
    >>> table = iomscore.ReferralTable.from_referrals([r])
    >>> leaves_after(table, threshold=4).sentence(0)
    'below the entry threshold of 4 after 20 more offence-free months at risk, on 2027-02-01 if not in custody'
    >>> leaves_after(table, policy="neighbourhood-crime-cohort").for_person(0)["date"]
    '2027-02-01'
    """
    batch = referrals.batch if isinstance(referrals, ReferralTable) else referrals
    if policy is None:
        return _engine(batch, scorer, threshold=threshold, max_months=max_months, band_order=band_order)
    rules = policy if isinstance(policy, SelectionPolicy) else load_policy(policy)
    rule, text = _entry_rules(rules, cohort, batch.n)
    return _engine(batch, scorer, threshold=threshold, max_months=max_months, band_order=band_order,
                   rule=rule, rule_text=text)
