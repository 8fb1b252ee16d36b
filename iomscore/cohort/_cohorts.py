"""Several cohorts in one policy: each person considered for the cohorts in the policy's order.

An IOM partnership's cohort has parts with their own entry rules (the national framework's
Fixed, Flex and Free cohorts). A policy with ``cohorts`` lists them in the order a person is
considered for them; :func:`select_several` (called by :func:`~iomscore.cohort.select_cohort`)
runs the one-cohort steps of :mod:`iomscore.cohort._select` once per cohort, in that order.
This module also holds the public :func:`select_cohort`, which checks the inputs and runs a
one-cohort policy through :mod:`iomscore.cohort._select` and a several-cohort one here:

1. **Routing is policy-wide**: serious-harm routing, read from the referral table, takes a
   person out of every cohort (``"refer to MAPPA / review"``, no cohort).
2. **Members stay in their own cohort**: a current member is considered only for the cohort
   they hold a place in (its de-selection rules apply; they rank first there when its capacity
   retains current members), so a place does not change cohort without a panel decision.
3. **Everyone else, cohort by cohort**: the candidates of a cohort are the people not yet
   placed in an earlier cohort who meet its entry rules (core, or an enabled flex rule), are
   scored by its ranking scorer, and are not routed. They are ranked by that cohort's score
   and tie-break and its first ``places`` are placed there; the rest go on to the next cohort.
   Someone placed in the core cohort is therefore never counted again in a local one.
4. **One decision per person**: placed in a cohort (``"selected"``, that cohort), over
   capacity everywhere they were a candidate (``"eligible - over capacity"``, the first cohort
   they were ranked in, with that rank), a de-selection review (their own cohort), not
   eligible for any cohort, routed, or not scored.

Each cohort's figures add up: ``candidates == selected + over_capacity + placed_later`` and
``places == selected + unfilled`` (:meth:`~iomscore.cohort.CohortSelection.cohort_summary`).
Reasons are written per cohort, each entry-rule line starting with the cohort's title; a
person not eligible for any cohort gets every cohort's reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from ..features._engine import FeatureFrame
from ..schema._referral import Referral
from ..schema._table import ReferralTable
from ..scoring._api import score_batch
from ..scoring._registry import get_scorer
from ..scoring._result import ScoreBatch, ScoreResult, object_array
from ._places import Occupancy
from ._policy import Cohort, SelectionPolicy
from ._select import (
    _CODE,
    DECISIONS,
    NOT_ELIGIBLE,
    OVER_CAPACITY,
    RECOMMENDED_ACTION,
    SELECTED,
    CohortInfo,
    CohortSelection,
    _align_scores,
    _assemble,
    _decide,
    _Deselection,
    _deselection,
    _Eligibility,
    _eligibility,
    _Facts,
    _id_rank,
    _Inputs,
    _inputs,
    _needs,
    _rank,
    _Ranking,
    _reasons,
    _Routing,
    _routing,
    _Scores,
    _select_one,
    _sort_keys,
    _tie_break_values,
    _tie_breaks,
)

__all__ = ["select_cohort", "select_several"]

_EARLIER: Final = "Ranked {rank} of {count} candidates in {title} first; its {places} place(s) went to people ranked higher"


@dataclass(frozen=True, eq=False)
class _Run:
    """One cohort's pass: its rules, scores and ranking."""

    cohort: Cohort
    places: int
    scores: _Scores
    frame: Mapping[str, np.ndarray]
    eligibility: _Eligibility
    deselection: _Deselection
    values: list[np.ndarray]
    ranking: _Ranking


def _cohort_scores(
    cohort: Cohort, table: ReferralTable, ids: np.ndarray, given: _Scores, results: ScoreBatch | Sequence[ScoreResult]
) -> _Scores:
    """The scores that rank ``cohort``: those given, unless it names another scorer."""
    if cohort.scorer is None:
        return given
    scorer = get_scorer(cohort.scorer)
    if given.model is not None and given.model.sha256 == scorer.identity.sha256:
        return given
    return _align_scores(ids, score_batch(table, scorer))


def select_cohort(
    referrals: Sequence[Referral] | ReferralTable,
    results: ScoreBatch | Sequence[ScoreResult],
    policy: SelectionPolicy | str | Path | None = None,
    *,
    current_cohort: Iterable[str] | Occupancy = (),
    capacity: int | Mapping[str, int] | None = None,
    features: FeatureFrame | None = None,
    as_of: dt.date | str | None = None,
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
        ``neighbourhood-crime-cohort``. A policy with several ``cohorts`` considers each
        person for them in order (:mod:`iomscore.cohort._cohorts`).
    current_cohort : iterable of str or Occupancy, optional
        person_ids already in the cohort (de-selection rules apply to them; with several
        cohorts, members of the first), or an :class:`~iomscore.cohort.Occupancy` naming each
        occupant's cohort, start and expected end: the selection then carries the turnover of
        the places (``turnover``), and occupants expected to leave by ``as_of`` hold no place.
    capacity : int or mapping of str to int, optional
        Places available, overriding the policy's: a number (one-cohort policy) or
        ``{cohort name: places}``.
    features : FeatureFrame, optional
        Features already computed for the same referrals, in the same order.
    as_of : date or str, optional
        The meeting date the occupancy is counted at (default: the latest assessment date).

    Returns
    -------
    CohortSelection
        One :class:`Decision` per referral in input order. Never more than ``capacity``
        people are ``"selected"``; the decisions do not depend on the input order. Time is
        linear in the number of referrals, apart from one sort for the ranking.

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
    >>> sel.get("P2").tie_break[0]
    ('score', '16')
    """
    inp = _inputs(referrals, results, policy, current_cohort, capacity, features, as_of)
    selection = select_several(inp) if inp.policy.several else _select_one(inp)
    return _with_shown_scores(selection, inp)


#: How a card names the scores of the built-in scorers shown side by side.
SCORE_LABELS: Final = {"ogrs3": "OGRS3", "ogrs4g": "OGRS4/G", "ogrs4v": "OGRS4/V", "snsv": "SNSV",
                       "ogp2": "OGP2", "ovp2": "OVP2", "snsv-dynamic": "SNSV dynamic"}


def _with_shown_scores(selection: CohortSelection, inp: _Inputs) -> CohortSelection:
    """The policy's ``show_scores``: each scorer's score and band for every decision (in the
    selection's order, which is the table's), computed on the same referrals. Shown only."""
    from ._select import ShownScores

    names = inp.policy.show_scores
    if not names:
        return selection
    ranking = {m.sha256 for m in (selection.model, *(c.model for c in selection.cohorts)) if m is not None}
    shown = []
    for name in names:
        scorer = get_scorer(name)
        batch = score_batch(inp.table, scorer)
        ok = batch.ok
        score = [float(v) if o else None for v, o in zip(np.asarray(batch.score).tolist(), ok.tolist())]
        band = [str(b) if o and b else None for b, o in zip(np.asarray(batch.band, dtype=object).tolist(), ok.tolist())]
        shown.append(ShownScores(
            scorer=name, label=SCORE_LABELS.get(name, scorer.identity.name), model=scorer.identity,
            unit=str(batch.unit), ranks=scorer.identity.sha256 in ranking, score=tuple(score), band=tuple(band)))
    return selection.model_copy(update={"shown_scores": tuple(shown)})


def select_several(inp: _Inputs) -> CohortSelection:
    """The several-cohort selection (see the module docstring) from the inputs
    :func:`select_cohort` checked."""
    policy, places, table, features, scores = inp.policy, inp.places, inp.table, inp.features, inp.scores
    results, members, warnings, turnover = inp.results, inp.members, inp.warnings, inp.turnover
    n = table.n
    ids = np.asarray(table.batch.person_id, dtype=object)
    id_list = [str(p) for p in ids.tolist()]
    cohorts = policy.cohort_list()
    routing = _routing(policy, table.serious_harm, n)
    id_rank = _id_rank(id_list)
    own = np.full(n, -1, dtype=np.int64)
    for k, c in enumerate(cohorts):
        own[members[c.name]] = k

    placed = np.zeros(n, dtype=bool)
    runs: list[_Run] = []
    for k, c in enumerate(cohorts):
        sc = _cohort_scores(c, table, ids, scores, results)
        frame = {name: np.asarray(features[name], dtype=np.float64) for name in c.features}
        elig = _eligibility(c, frame, n)
        current = members[c.name]
        desel = _deselection(c, frame, current)
        ok = scores.ok & sc.ok
        free = ~placed & ((own < 0) | (own == k))
        candidate = free & ok & ~routing.routed & ~desel.flagged & (
            elig.eligible | (current & c.capacity.retain_current_members)
        )
        values = _tie_break_values(c, features, np.where(ok, sc.score, 0.0), id_rank)
        ranking = _rank(c, places[c.name], candidate, current, _sort_keys(c, values))
        placed |= ranking.selected
        runs.append(_Run(c, places[c.name], sc, frame, elig, desel, values, ranking))

    # the cohort each person is assigned to: placed in, else first ranked in, else own (members)
    assigned = np.full(n, -1, dtype=np.int64)
    for k in reversed(range(len(runs))):
        assigned = np.where(runs[k].ranking.candidate, k, assigned)
    for k, run in enumerate(runs):
        assigned = np.where(run.ranking.selected, k, assigned)
    candidate_any = assigned >= 0
    assigned = np.where(candidate_any, assigned, own)
    deselected = np.zeros(n, dtype=bool)
    for run in runs:
        deselected |= run.deselection.flagged
    ok = scores.ok
    rank = np.zeros(n, dtype=np.int64)
    for k, run in enumerate(runs):
        mine = assigned == k
        rank = np.where(mine & run.ranking.candidate, run.ranking.rank, rank)
    # eligible for a cohort whose ranking scorer cannot score them, and a candidate nowhere:
    # not scored, in that cohort (e.g. OGRS3 needs sex recorded, iom-priority does not)
    unscored_in = np.full(n, -1, dtype=np.int64)
    for k in reversed(range(len(runs))):
        r = runs[k]
        hit = r.eligibility.eligible & ~r.scores.ok & ~routing.routed & ((own < 0) | (own == k))
        unscored_in = np.where(hit, k, unscored_in)
    unscored = (unscored_in >= 0) & ~candidate_any & ~deselected & ok
    errors = list(scores.errors)
    for i in np.flatnonzero(unscored).tolist():
        run = runs[int(unscored_in[i])]
        errors[i] = f"{run.scores.errors[i]} (the score that ranks {run.cohort.title})"
    assigned = np.where(unscored, unscored_in, assigned)
    ok = ok & ~unscored
    combined = _Ranking(candidate_any, rank, placed, int(candidate_any.sum()))
    decision = _decide(ok, routing.routed, deselected, combined)
    # routed and unscored people are in no cohort; their reasons come from their own cohort,
    # else the first they meet the entry rules of, else the first
    in_cohort = np.isin(decision, [_CODE[SELECTED], _CODE[OVER_CAPACITY], _CODE["de-selection review"]]) | (
        (decision == _CODE[NOT_ELIGIBLE]) & (own >= 0)
    ) | unscored
    first_eligible = np.full(n, -1, dtype=np.int64)
    for k in reversed(range(len(runs))):
        first_eligible = np.where(runs[k].eligibility.eligible, k, first_eligible)
    reason_from = np.where(in_cohort, assigned, np.where(own >= 0, own, np.maximum(first_eligible, 0)))
    cohort_of = np.where(in_cohort, assigned, -1)

    reasons = _compose_reasons(runs, decision, cohort_of, reason_from, errors, routing, members)
    names = np.asarray(DECISIONS, dtype=object)[decision]
    actions = np.asarray([RECOMMENDED_ACTION[d] for d in DECISIONS], dtype=object)[decision]
    cohort_names = object_array([None, *(c.name for c in cohorts)])[cohort_of + 1]

    # per-person columns from the cohort whose scores and rules describe them
    src = np.where(cohort_of >= 0, cohort_of, -1)
    score = np.where(ok, scores.score, np.nan)
    band, unit = object_array(list(scores.band)), object_array(list(scores.unit))
    breakdown, score_reasons, score_warnings = scores.breakdown.copy(), scores.score_reasons.copy(), scores.warnings.copy()
    eligible = np.zeros(n, dtype=bool)
    for run in runs:
        eligible |= run.eligibility.eligible
    firsts = [object_array(run.eligibility.eligible_by()) for run in runs]
    by = object_array([None] * n)
    for k in reversed(range(len(runs))):
        by = np.where(first_eligible == k, firsts[k], by)
    tie_break = object_array([()] * n)
    for k, run in enumerate(runs):
        mine = src == k
        if not mine.any():
            continue
        eligible = np.where(mine, run.eligibility.eligible, eligible)
        by = np.where(mine, firsts[k], by)
        if run.scores is not scores:
            rows = mine & run.scores.ok
            score = np.where(rows, run.scores.score, score)
            band = np.where(rows, object_array(list(run.scores.band)), band)
            unit = np.where(rows, object_array(list(run.scores.unit)), unit)
            breakdown = np.where(rows, run.scores.breakdown, breakdown)
            score_reasons = np.where(rows, run.scores.score_reasons, score_reasons)
            score_warnings = np.where(rows, run.scores.warnings, score_warnings)
        shown = mine & run.ranking.candidate
        tie_break = np.where(shown, _tie_breaks(run.cohort, run.values, id_list, shown), tie_break)
    eligible_by = by.tolist()
    band_list = band.tolist()

    score_list = [float(v) if o else None for v, o in zip(score.tolist(), ok.tolist())]
    decisions = _assemble(
        {
            "person_id": id_list,
            "decision": names.tolist(),
            "recommended_action": actions.tolist(),
            "reasons": reasons,
            "eligible": eligible.tolist(),
            "eligible_by": eligible_by,
            "routed": routing.routed.tolist(),
            "deselection": deselected.tolist(),
            "current_member": (own >= 0).tolist(),
            "rank": [int(r) if c else None for r, c in zip(rank.tolist(), candidate_any.tolist())],
            "score": score_list,
            "band": [b if o else None for b, o in zip(band_list, ok.tolist())],
            "unit": unit.tolist(),
            "breakdown": breakdown.tolist(),
            "score_reasons": score_reasons.tolist(),
            "warnings": score_warnings.tolist(),
            "needs": _needs(table.batch.needs),
            "tie_break": tie_break.tolist(),
            "cohort": cohort_names.tolist(),
        }
    )
    infos = []
    for k, run in enumerate(runs):
        later = run.ranking.candidate & ~run.ranking.selected & placed
        infos.append(CohortInfo(name=run.cohort.name, title=run.cohort.title, places=run.places,
                                tie_break=run.cohort.tie_break_text(), model=run.scores.model,
                                placed_later=int(later.sum())))
    return CohortSelection(
        policy_name=policy.name,
        policy_version=policy.version,
        policy_sha256=str(policy.sha256),
        model=scores.model,
        capacity=int(sum(places.values())),
        tie_break=policy.tie_break_text(),
        decisions=decisions,
        warnings=tuple(warnings),
        cohorts=tuple(infos),
        turnover=turnover,
    )


def _compose_reasons(
    runs: Sequence[_Run],
    decision: np.ndarray,
    cohort_of: np.ndarray,
    reason_from: np.ndarray,
    errors: list[str | None],
    routing: _Routing,
    members: Mapping[str, np.ndarray],
) -> list[tuple[str, ...]]:
    """Every person's reasons: their cohort's (rank line naming it), the cohorts they were
    ranked in before it, and for people not eligible anywhere each cohort's entry rules."""
    n = decision.shape[0]
    per: list[list[tuple[str, ...]]] = []
    for k, run in enumerate(runs):
        c = run.cohort
        mine = cohort_of == k
        view = _Ranking(run.ranking.candidate & mine, run.ranking.rank, run.ranking.selected, run.ranking.count)
        facts = _Facts(run.frame, decision, members[c.name], errors, run.eligibility,
                       routing, run.deselection)
        per.append(_reasons(facts, view, run.places, where=f" in {c.title}", prefix=f"{c.title}: "))
    nowhere = (decision == _CODE[NOT_ELIGIBLE]) & (cohort_of < 0)
    joined: dict[tuple[int, ...], tuple[str, ...]] = {}
    out: list[tuple[str, ...]] = []
    for i, (k, none) in enumerate(zip(reason_from.tolist(), nowhere.tolist())):
        if none:
            parts = [per[j][i] for j in range(len(runs))]
            key = tuple(map(id, parts))
            got = joined.get(key)
            if got is None:
                got = joined[key] = tuple(line for part in parts for line in part)
            out.append(got)
        else:
            out.append(per[k][i])
    # people placed in a later cohort: where they were ranked first, in the policy's order
    extra: dict[int, list[str]] = {}
    for k, run in enumerate(runs):
        earlier = run.ranking.candidate & ~run.ranking.selected & (cohort_of != k) & (decision == _CODE[SELECTED])
        for i in np.flatnonzero(earlier).tolist():
            extra.setdefault(i, []).append(_EARLIER.format(
                rank=int(run.ranking.rank[i]), count=run.ranking.count, title=run.cohort.title, places=run.places))
    for i, lines in extra.items():
        head, *rest = out[i]
        out[i] = (head, *lines, *rest)
    if len(out) != n:  # pragma: no cover - a programming error
        raise AssertionError("one reason list per person")
    return out
