"""Cohort selection: from scored referrals and a policy to one decision per person, with reasons.

The order of tests for each person is fixed and documented:

1. **Not scored** (only with a :class:`~iomscore.ScoreBatch` holding errors): ``"not scored"``.
2. **Serious-harm routing**: a person matching any routing rule is ``"refer to MAPPA / review"``,
   whatever their score, eligibility or cohort membership. Routing reads the serious-harm
   columns of the :class:`~iomscore.ReferralTable`; no score ever does.
3. **De-selection** (current cohort members only): matching any de-selection rule gives
   ``"de-selection review"``.
4. **Eligibility** (new referrals): core rules all pass, or an enabled flex rule passes;
   otherwise ``"not eligible"``. A current member with no de-selection signal stays a
   candidate for their place even if they no longer meet the entry rules (the reasons say so).
5. **Capacity**: candidates are ranked (current members first when the policy retains them,
   then by the policy's tie-break, which ends with ``person_id``); the first ``places`` are
   ``"selected"``, the rest ``"eligible - over capacity"``.

Every decision is a recommendation to the panel; the panel decides (see
:mod:`iomscore.cohort._decisions`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .._errors import IomscoreError
from ..features._engine import FeatureFrame
from ..schema._referral import Referral
from ..schema._table import ReferralTable
from ..schema._vocabulary import NEED_LEVELS, PATHWAYS, ROSH_LEVELS
from ..scoring._result import BreakdownPart, ModelIdentity, ScoreBatch, ScoreResult
from ..scoring._spec import spec_sha256
from ._policy import SelectionPolicy, load_policy

__all__ = [
    "DECISIONS",
    "RECOMMENDED_ACTION",
    "CohortSelection",
    "Decision",
    "SelectionError",
    "select_cohort",
]

SELECTED: Final = "selected"
OVER_CAPACITY: Final = "eligible - over capacity"
NOT_ELIGIBLE: Final = "not eligible"
ROUTED: Final = "refer to MAPPA / review"
DESELECTION: Final = "de-selection review"
NOT_SCORED: Final = "not scored"
#: Every decision ``select_cohort`` can recommend.
DECISIONS: Final = (SELECTED, OVER_CAPACITY, NOT_ELIGIBLE, ROUTED, DESELECTION, NOT_SCORED)
#: The panel action each recommendation corresponds to; a panel decision that differs is an
#: override. A de-selection review recommends ``exclude`` (keeping the person is an
#: override); serious-harm routing and unscored referrals recommend ``defer``.
RECOMMENDED_ACTION: Final[Mapping[str, str]] = {
    SELECTED: "include",
    OVER_CAPACITY: "exclude",
    NOT_ELIGIBLE: "exclude",
    ROUTED: "defer",
    DESELECTION: "exclude",
    NOT_SCORED: "defer",
}

DecisionName = Literal[
    "selected",
    "eligible - over capacity",
    "not eligible",
    "refer to MAPPA / review",
    "de-selection review",
    "not scored",
]

_DUPLICATE_PERSON: Final = "person_id {person!r} appears {count} times in the referrals; each person must be referred once"
_NO_SCORE: Final = "no score for {count} referral(s), e.g. {people}; score every referral with the same scorer"
_EXTRA_SCORE: Final = "{count} score(s) for people not in the referrals, e.g. {people}"
_DUPLICATE_SCORE: Final = "person_id {person!r} has {count} scores"
_LENGTH_MISMATCH: Final = "the ScoreBatch has {got} rows but there are {expected} referrals; score the same list"
_MIXED_MODELS: Final = "the scores come from {count} different models ({names}); score every referral with one model"
_FEATURES_MISMATCH: Final = "features has {got} rows but there are {expected} referrals; compute it from the same referrals"
_BAD_CAPACITY: Final = "capacity must be a whole number of places, 0 or more; got {value!r}"
_NOT_MEMBER_LISTED: Final = "{count} current cohort member(s) are not in this referral list and were not assessed: {people}"
_UNKNOWN_PERSON: Final = "no decision for person_id {person!r} in this selection"

_NEED_NAMES: Final = dict(zip(range(-1, 3), NEED_LEVELS))
_TOP_REASONS: Final = 3


class SelectionError(IomscoreError, ValueError):
    """The referrals, scores or policy given to :func:`select_cohort` do not fit together."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Decision(_Frozen):
    """The recommendation for one person, and everything a panel needs to see about it.

    ``decision`` is the recommendation; ``recommended_action`` the panel action it
    corresponds to (``include``, ``exclude`` or ``defer``). ``rank`` is the position among
    the candidates for a place (1 = first), ``None`` for people who were not candidates.
    """

    person_id: str
    decision: DecisionName
    recommended_action: Literal["include", "exclude", "defer"]
    reasons: tuple[str, ...]
    eligible: bool = Field(description="Meets the entry rules (core, or an enabled flex rule)")
    eligible_by: str | None = Field(default=None, description="'core', or the flex rule's name")
    routed: bool = False
    deselection: bool = False
    current_member: bool = False
    rank: int | None = None
    score: float | None = None
    band: str | None = None
    unit: str = "points"
    breakdown: tuple[BreakdownPart, ...] = ()
    score_reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    needs: dict[str, str] = Field(default_factory=dict, description="Pathway -> need level")


class CohortSelection(_Frozen):
    """The outcome of :func:`select_cohort`: one :class:`Decision` per referral, in input order.

    Examples
    --------
    >>> import iomscore
    >>> from iomscore.cohort import select_cohort
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}])
    >>> sel = select_cohort([r], iomscore.score([r]))
    >>> sel.get("P1").decision, sel.summary()["selected"]
    ('selected', 1)
    """

    policy_name: str
    policy_version: str
    policy_sha256: str
    model: ModelIdentity | None
    capacity: int
    tie_break: str
    decisions: tuple[Decision, ...]
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.decisions)

    def get(self, person_id: str) -> Decision:
        """The decision for ``person_id`` (raises ``KeyError`` if absent)."""
        for d in self.decisions:
            if d.person_id == person_id:
                return d
        raise KeyError(_UNKNOWN_PERSON.format(person=person_id))

    def by_person(self) -> dict[str, Decision]:
        """Decisions keyed by person_id."""
        return {d.person_id: d for d in self.decisions}

    @property
    def selected(self) -> tuple[str, ...]:
        """person_ids recommended for a place, in rank order."""
        chosen = [d for d in self.decisions if d.decision == SELECTED]
        return tuple(d.person_id for d in sorted(chosen, key=lambda d: d.rank or 0))

    def ranked(self) -> tuple[Decision, ...]:
        """Candidates in rank order, then everyone else in decision order and by person_id."""
        order = {name: i for i, name in enumerate(DECISIONS)}
        return tuple(
            sorted(
                self.decisions,
                key=lambda d: (d.rank is None, d.rank or 0, order[d.decision], d.person_id),
            )
        )

    def summary(self) -> dict[str, int]:
        """Counts: referred, places, eligible, each decision, current members.

        Examples
        --------
        >>> sel = CohortSelection(policy_name="p", policy_version="1", policy_sha256="0" * 64,
        ...     model=None, capacity=2, tie_break="", decisions=())
        >>> sel.summary()["referred"]
        0
        """
        counts = Counter(d.decision for d in self.decisions)
        return {
            "referred": len(self.decisions),
            "places": self.capacity,
            "eligible": sum(d.eligible for d in self.decisions),
            "selected": counts[SELECTED],
            "over_capacity": counts[OVER_CAPACITY],
            "not_eligible": counts[NOT_ELIGIBLE],
            "routed": counts[ROUTED],
            "deselection_reviews": counts[DESELECTION],
            "not_scored": counts[NOT_SCORED],
            "current_members": sum(d.current_member for d in self.decisions),
        }

    @property
    def sha256(self) -> str:
        """sha256 of the canonical JSON of this selection (identifies a panel run)."""
        return spec_sha256(self.model_dump(mode="json"))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (round-trips through :meth:`from_dict`)."""
        data = self.model_dump(mode="json")
        data["summary"] = self.summary()
        data["sha256"] = self.sha256
        return data

    def to_json(self) -> str:
        """Pretty JSON of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CohortSelection:
        """Rebuild a selection saved with :meth:`to_dict` (e.g. the previous panel run)."""
        body = {k: v for k, v in data.items() if k not in ("summary", "sha256")}
        return cls.model_validate(body)

    @classmethod
    def load(cls, path: str | Path) -> CohortSelection:
        """Read a selection written with :meth:`to_json`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per person (requires pandas)."""
        import pandas as pd

        rows = [
            {
                "person_id": d.person_id,
                "decision": d.decision,
                "recommended_action": d.recommended_action,
                "rank": d.rank,
                "score": d.score,
                "band": d.band,
                "eligible": d.eligible,
                "eligible_by": d.eligible_by,
                "routed": d.routed,
                "deselection": d.deselection,
                "current_member": d.current_member,
                "reasons": "; ".join(d.reasons),
                "score_reasons": "; ".join(d.score_reasons),
                "warnings": "; ".join(d.warnings),
            }
            for d in self.decisions
        ]
        frame = pd.DataFrame(rows)
        if not rows:
            return frame
        frame["rank"] = frame["rank"].astype("Int64")
        return frame


# --- inputs -----------------------------------------------------------------------------------


def _as_table(referrals: Sequence[Referral] | ReferralTable) -> ReferralTable:
    if isinstance(referrals, ReferralTable):
        return referrals
    return ReferralTable.from_referrals(list(referrals))


def _check_unique(ids: np.ndarray) -> None:
    counts = Counter(ids.tolist())
    for person, count in counts.items():
        if count > 1:
            raise SelectionError(_DUPLICATE_PERSON.format(person=person, count=count))


class _Scores:
    """Scores aligned to the referral order."""

    def __init__(
        self,
        score: np.ndarray,
        band: list[str | None],
        ok: np.ndarray,
        results: list[ScoreResult | None],
        errors: list[str | None],
        model: ModelIdentity | None,
    ) -> None:
        self.score, self.band, self.ok, self.results, self.errors, self.model = score, band, ok, results, errors, model


def _align_scores(ids: np.ndarray, results: ScoreBatch | Sequence[ScoreResult]) -> _Scores:
    n = ids.shape[0]
    if isinstance(results, ScoreBatch):
        if len(results) != n:
            raise SelectionError(_LENGTH_MISMATCH.format(got=len(results), expected=n))
        if results.person_id is not None:
            rid = np.asarray(results.person_id, dtype=object)
            if not np.array_equal(rid, ids):
                pos = {p: i for i, p in enumerate(rid.tolist())}
                missing = [p for p in ids.tolist() if p not in pos]
                if missing:
                    raise SelectionError(_NO_SCORE.format(count=len(missing), people=missing[:3]))
                order = np.array([pos[p] for p in ids.tolist()], dtype=np.int64)
            else:
                order = np.arange(n)
        else:
            order = np.arange(n)
        ok = results.ok[order]
        out: list[ScoreResult | None] = [results.result(int(i)) if ok[j] else None for j, i in enumerate(order)]
        errors = [None if ok[j] else str(results.error[i]) for j, i in enumerate(order)]  # type: ignore[index]
        fixed = [
            None if r is None else (r if r.person_id else r.model_copy(update={"person_id": str(ids[j])}))
            for j, r in enumerate(out)
        ]
        return _Scores(
            np.where(ok, results.score[order].astype(np.float64), np.nan),
            [None if r is None else r.band for r in fixed],
            ok,
            fixed,
            errors,
            results.model,
        )
    items = list(results)
    by_id: dict[str, ScoreResult] = {}
    for r in items:
        if r.person_id in by_id:
            count = sum(1 for x in items if x.person_id == r.person_id)
            raise SelectionError(_DUPLICATE_SCORE.format(person=r.person_id, count=count))
        by_id[r.person_id] = r
    id_list = [str(p) for p in ids.tolist()]
    missing = [p for p in id_list if p not in by_id]
    if missing:
        raise SelectionError(_NO_SCORE.format(count=len(missing), people=missing[:3]))
    extra = sorted(set(by_id) - set(id_list))
    if extra:
        raise SelectionError(_EXTRA_SCORE.format(count=len(extra), people=extra[:3]))
    aligned: list[ScoreResult | None] = [by_id[p] for p in id_list]
    models = {r.model.sha256: r.model for r in by_id.values()}
    if len(models) > 1:
        names = sorted(f"{m.name} {m.version}" for m in models.values())
        raise SelectionError(_MIXED_MODELS.format(count=len(models), names=names))
    return _Scores(
        np.array([r.score for r in aligned if r is not None], dtype=np.float64).reshape(n),
        [r.band for r in aligned if r is not None],
        np.ones(n, dtype=bool),
        aligned,
        [None] * n,
        next(iter(models.values())) if models else None,
    )


def _sort_keys(policy: SelectionPolicy, frame: FeatureFrame, score: np.ndarray, ids: np.ndarray) -> list[np.ndarray]:
    """``np.lexsort`` keys (least significant first) implementing the policy's tie-break.

    Within each tie-break key a missing value (``NaN``) ranks after every present value.
    """
    id_rank = np.unique(ids, return_inverse=True)[1].reshape(-1).astype(np.float64)
    keys: list[np.ndarray] = []
    for k in reversed(policy.tie_break):
        if k.key == "person_id":
            v = id_rank
        elif k.key == "score":
            v = score
        else:
            v = np.asarray(frame[str(k.feature)], dtype=np.float64)
        nan = np.isnan(v)
        v = np.where(nan, 0.0, v)
        keys.append(-v if k.order == "descending" else v)
        keys.append(nan.astype(np.int8))
    return keys


def select_cohort(
    referrals: Sequence[Referral] | ReferralTable,
    results: ScoreBatch | Sequence[ScoreResult],
    policy: SelectionPolicy | str | Path | None = None,
    *,
    current_cohort: Iterable[str] = (),
    capacity: int | None = None,
    features: FeatureFrame | None = None,
) -> CohortSelection:
    """Recommend a decision for every referral under a selection policy, with reasons.

    Parameters
    ----------
    referrals : sequence of Referral or ReferralTable
        The referral list. person_ids must be unique. Eligibility reads features computed
        from it; routing reads its serious-harm columns.
    results : ScoreBatch or sequence of ScoreResult
        The scores of the same people (matched by person_id), from one model.
    policy : SelectionPolicy, str or Path, optional
        The policy, a policy file, or the name of a shipped policy. Default: the shipped
        ``neighbourhood-crime-cohort``.
    current_cohort : iterable of str, optional
        person_ids already in the cohort (de-selection rules apply to them).
    capacity : int, optional
        Places available, overriding the policy's ``capacity.places``.
    features : FeatureFrame, optional
        Features already computed for the same referrals, in the same order.

    Returns
    -------
    CohortSelection
        One :class:`Decision` per referral in input order. Never more than ``capacity``
        people are ``"selected"``; the decisions do not depend on the input order.

    Raises
    ------
    SelectionError
        When person_ids repeat, a referral has no score, or the scores come from several
        models.

    Examples
    --------
    >>> import iomscore
    >>> refs = [iomscore.Referral(person_id=f"P{i}", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}] * (i + 1)) for i in range(3)]
    >>> sel = select_cohort(refs, iomscore.score(refs), capacity=2)
    >>> [sel.get(p).decision for p in ("P0", "P1", "P2")]
    ['eligible - over capacity', 'selected', 'selected']
    """
    if not isinstance(policy, SelectionPolicy):
        policy = load_policy(policy)
    elif policy.sha256 is None:
        policy = policy.with_sha256()
    places = policy.capacity.places if capacity is None else capacity
    if isinstance(places, bool) or not isinstance(places, (int, np.integer)) or places < 0:
        raise SelectionError(_BAD_CAPACITY.format(value=capacity))
    places = int(places)

    table = _as_table(referrals)
    n = table.n
    ids = np.asarray(table.batch.person_id, dtype=object)
    _check_unique(ids)
    if features is None:
        features = FeatureFrame(table.batch)
    elif len(features) != n:
        raise SelectionError(_FEATURES_MISMATCH.format(got=len(features), expected=n))
    scores = _align_scores(ids, results)
    ok = scores.ok
    score = scores.score

    members = set(map(str, current_cohort))
    id_list = [str(p) for p in ids.tolist()]
    current = np.array([p in members for p in id_list], dtype=bool)
    absent = sorted(members - set(id_list))
    warnings = []
    if absent:
        warnings.append(_NOT_MEMBER_LISTED.format(count=len(absent), people=", ".join(absent)))

    frame = {name: np.asarray(features[name], dtype=np.float64) for name in policy.features}

    # Eligibility: core (all rules) or any enabled flex rule.
    core_results = [(rule, *rule.evaluate(frame)) for rule in policy.eligibility.core]
    core_ok = np.ones(n, dtype=bool)
    for _, passed, _ in core_results:
        core_ok &= passed
    flex_results = [(rule, *rule.evaluate(frame)) for rule in policy.eligibility.flex if rule.enabled]
    flex_first = np.full(n, -1, dtype=np.int64)
    for j, (_, passed, _) in reversed(list(enumerate(flex_results))):
        flex_first = np.where(passed, j, flex_first)
    eligible = core_ok | (flex_first >= 0)

    # Routing: serious harm, read from the table's serious-harm columns only.
    harm = table.serious_harm
    harm_cols = {
        "rosh_level": harm.rosh_level.astype(np.int64),
        "mappa_level": harm.mappa_level.astype(np.int64),
        "mappa_category": harm.mappa_category.astype(np.int64),
    }
    route_hits = []
    routed = np.zeros(n, dtype=bool)
    for route in policy.routing:
        codes = [ROSH_LEVELS.index(str(v)) if route.field == "rosh_level" else int(v) for v in route.values]
        hit = np.isin(harm_cols[route.field], codes)
        route_hits.append((route, hit))
        routed |= hit

    # De-selection: current members only.
    desel_results = [(rule, *rule.evaluate(frame)) for rule in policy.deselection if rule.enabled]
    desel = np.zeros(n, dtype=bool)
    for _, passed, _ in desel_results:
        desel |= passed
    desel &= current

    candidate = ok & ~routed & ~desel & (eligible | (current & policy.capacity.retain_current_members))
    keys = _sort_keys(policy, features, np.where(ok, score, 0.0), ids)
    if policy.capacity.retain_current_members:
        keys.append((~current).astype(np.int8))
    order = np.lexsort(keys) if n else np.zeros(0, dtype=np.int64)
    ranked = order[candidate[order]]
    rank = np.zeros(n, dtype=np.int64)
    rank[ranked] = np.arange(1, ranked.size + 1)
    selected = candidate & (rank >= 1) & (rank <= places)
    m = int(ranked.size)

    decision = np.full(n, NOT_ELIGIBLE, dtype=object)
    decision[candidate] = OVER_CAPACITY
    decision[selected] = SELECTED
    decision[desel & ok & ~routed] = DESELECTION
    decision[routed & ok] = ROUTED
    decision[~ok] = NOT_SCORED

    needs = table.batch.needs
    out: list[Decision] = []
    for i in range(n):
        reasons: list[str] = []
        d = str(decision[i])
        if d == NOT_SCORED:
            reasons.append(f"Could not be scored: {scores.errors[i]}; the panel reviews the record")
        for route, hit in route_hits:
            if hit[i]:
                code = int(harm_cols[route.field][i])
                value = ROSH_LEVELS[code].replace("_", " ") if route.field == "rosh_level" else str(code)
                reasons.append(route.reason.format(value=value))
        if current[i]:
            reasons.append("Already in the cohort")
        for rule, passed, per in desel_results:
            if passed[i] and current[i]:
                reasons.append(
                    "De-selection signal: "
                    + "; ".join(c.text(frame[c.feature][i], True) for c, hit in zip(rule.conditions, per[:, i]) if hit)
                )
        eligible_by: str | None = None
        if core_ok[i]:
            eligible_by = "core"
            elig_text = [
                c.text(frame[c.feature][i], True) for rule, _, per in core_results for c in rule.conditions
            ]
            if d in (SELECTED, OVER_CAPACITY) or not current[i]:
                reasons.append("Meets the entry rules: " + "; ".join(elig_text))
        elif flex_first[i] >= 0:
            rule, _, per = flex_results[int(flex_first[i])]
            eligible_by = rule.name
            reasons.append(
                f"Meets the local flex rule '{rule.label}': "
                + "; ".join(c.text(frame[c.feature][i], True) for c in rule.conditions)
            )
        else:
            failed = [
                c.text(frame[c.feature][i], False)
                for rule, _, per in core_results
                for c, hit in zip(rule.conditions, per[:, i])
                if not hit
            ]
            if current[i] and d in (SELECTED, OVER_CAPACITY):
                reasons.append("No longer meets the entry rules (" + "; ".join(failed) + "); keeps a place unless the panel decides otherwise")
            elif d == NOT_ELIGIBLE or not current[i]:
                reasons.append("Does not meet the entry rules: " + "; ".join(failed))
                if flex_results and d == NOT_ELIGIBLE:
                    reasons.append("Meets no enabled local flex rule")
        if d == SELECTED:
            reasons.insert(0, f"Ranked {rank[i]} of {m} candidates for {places} place(s)")
        elif d == OVER_CAPACITY:
            reasons.insert(0, f"Ranked {rank[i]} of {m} candidates; the {places} place(s) went to people ranked higher")
        r = scores.results[i]
        out.append(
            Decision(
                person_id=id_list[i],
                decision=d,
                recommended_action=RECOMMENDED_ACTION[d],
                reasons=tuple(reasons),
                eligible=bool(eligible[i]),
                eligible_by=eligible_by,
                routed=bool(routed[i]),
                deselection=bool(desel[i]),
                current_member=bool(current[i]),
                rank=int(rank[i]) if candidate[i] else None,
                score=None if r is None else r.score,
                band=None if r is None else r.band,
                unit="points" if r is None else r.unit,
                breakdown=() if r is None else r.breakdown,
                score_reasons=() if r is None else r.reasons[:_TOP_REASONS],
                warnings=() if r is None else r.warnings,
                needs={p: _NEED_NAMES[int(needs[i, k])] for k, p in enumerate(PATHWAYS)},
            )
        )
    return CohortSelection(
        policy_name=policy.name,
        policy_version=policy.version,
        policy_sha256=str(policy.sha256),
        model=scores.model,
        capacity=places,
        tie_break=policy.tie_break_text(),
        decisions=tuple(out),
        warnings=tuple(warnings),
    )


__all__ += ["DESELECTION", "NOT_ELIGIBLE", "NOT_SCORED", "OVER_CAPACITY", "ROUTED", "SELECTED"]
