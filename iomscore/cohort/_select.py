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

:func:`~iomscore.cohort.select_cohort` (defined in :mod:`iomscore.cohort._cohorts`, which also
runs several-cohort policies) checks its inputs with :func:`_inputs` and runs a one-cohort policy
through :func:`_select_one`, as named steps on arrays, each linear in the referral list (the
ranking sorts once): :func:`_align_scores`, :func:`_eligibility`, :func:`_routing`,
:func:`_deselection`, :func:`_rank`, :func:`_decide`, :func:`_reasons` (reason text built
once per distinct pattern of the facts it states, not once per person), :func:`_tie_breaks`
and :func:`_assemble`, which builds the frozen :class:`Decision` objects from already
checked values without validating each one again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from json.encoder import encode_basestring
from operator import attrgetter
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .._chain import Anchor
from .._errors import IomscoreError
from ..features._engine import FEATURES, FeatureFrame
from ..schema._batch import MISSING_DAY, SeriousHarmColumns
from ..schema._referral import Referral
from ..schema._table import ReferralTable
from ..schema._vocabulary import NEED_LEVELS, PATHWAYS, ROSH_LEVELS
from ..scoring._result import (
    BreakdownPart,
    ModelIdentity,
    ScoreBatch,
    ScoreResult,
    combine_codes,
    float_codes,
    object_array,
    paused_gc,
    trusted_model,
)
from ..scoring._spec import canonical_json, spec_sha256
from ._places import Occupancy, PlacesForecast, forecast_places
from ._policy import Cohort, RoutingRule, Rule, SelectionPolicy, load_policy
from ._policy import _fmt as format_value

__all__ = [
    "DECISIONS",
    "RECOMMENDED_ACTION",
    "CohortInfo",
    "CohortSelection",
    "Decision",
    "SelectionError",
    "ShownScores",
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
_ASSEMBLY_FIELDS: Final = "Decision fields {fields} are missing from, or unknown to, the assembly"
_BAD_RESERVES: Final = "reserves(n) needs a whole number of people, 0 or more; got {value!r}"
_UNKNOWN_COHORT: Final = "capacity names cohort(s) {names} that the policy does not have; its cohorts: {known}"
_ONE_CAPACITY: Final = (
    "the policy has several cohorts ({names}): give capacity as {{cohort name: places}}, not one number"
)
_OCCUPANCY_COHORT: Final = (
    "current cohort {source}, line {line}, cohort: {cohort!r} is not a cohort of policy {policy!r} (its cohorts: {known})"
)
_NO_AS_OF: Final = (
    "an occupancy current cohort needs a date to count places at: give as_of (the meeting date); "
    "no referral has an assessment date to fall back on"
)
_HELD: Final = (
    "{held} of the {places} place(s) of {cohort} are held by occupants not in this referral list, "
    "so {ranked} place(s) are ranked here"
)
_LEAVING: Final = (
    "{count} occupant(s) expected to leave by {date} do not hold a place at the meeting: {people}"
)

_SELECTION_EDITED: Final = (
    "selection {source}: recorded sha256 {recorded} does not match its content ({actual}); the file was "
    "edited after it was saved, so its scores and decisions cannot be trusted"
)
_SELECTION_NO_HASH: Final = (
    "selection {source} records no sha256: it was not written by iomscore (to_json, 'select --format json', "
    "'panel --save-selection'), or the hash was removed"
)
_SELECTION_NOT_OBJECT: Final = "selection {source}: not a JSON object (the file holds a JSON {type}), so not a saved selection"

_NEED_NAMES: Final = dict(zip(range(-1, 3), NEED_LEVELS))
_TOP_REASONS: Final = 3
#: Labels of the tie-break keys that are not features (features use their definition).
_KEY_LABELS: Final = {"score": "score", "person_id": "person_id"}
#: Fixed-width text sort of person_ids up to this length; longer ones sort as Python strings.
_MAX_FIXED_ID: Final = 64


class SelectionError(IomscoreError, ValueError):
    """The referrals, scores or policy given to :func:`select_cohort` do not fit together."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Decision(_Frozen):
    """The recommendation for one person, and everything a panel needs to see about it.

    ``decision`` is the recommendation; ``recommended_action`` the panel action it
    corresponds to (``include``, ``exclude`` or ``defer``). ``rank`` is the position among
    the candidates for a place (1 = first), ``None`` for people who were not candidates.
    ``tie_break`` holds, for candidates, the ``(label, value text)`` of every tie-break key
    of the policy in order (e.g. ``("score", "16")``), so a panel can see what split two
    people with the same score at the capacity line; it is empty for everyone else.
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
    tie_break: tuple[tuple[str, str], ...] = Field(
        default=(), description="Candidates: (label, value text) of each tie-break key of the policy, in order"
    )
    cohort: str | None = Field(
        default=None,
        description="Several-cohort policies: the cohort the person is placed in, ranked in (over "
        "capacity: the first they were a candidate for) or reviewed in; None for one-cohort policies "
        "and for people in no cohort",
    )


class CohortInfo(_Frozen):
    """One cohort of a several-cohort selection: its name, places, ranking and scorer."""

    name: str
    title: str
    places: int
    tie_break: str
    model: ModelIdentity | None = None
    placed_later: int = Field(default=0, description="Ranked here over capacity, then placed in a later cohort")


class ShownScores(_Frozen):
    """One scorer's scores shown on the cards beside the ranking one (policy ``show_scores``).

    ``score`` and ``band`` hold one value per decision, in the selection's order (``None``
    where the scorer could not score the person); ``ranks`` is True for the scorer whose score
    ranks the cohort. Shown only: these scores never change a decision.
    """

    scorer: str
    label: str
    model: ModelIdentity
    unit: str
    ranks: bool
    score: tuple[float | None, ...]
    band: tuple[str | None, ...]


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
    cohorts: tuple[CohortInfo, ...] = ()
    turnover: PlacesForecast | None = None
    #: Where the decision log stood when this selection was made (``--decisions``): decisions
    #: made on it are appended only to a log that still holds this record.
    decision_log: Anchor | None = None
    shown_scores: tuple[ShownScores, ...] = ()

    def __len__(self) -> int:
        return len(self.decisions)

    def _derived(self, name: str, build: Callable[[], Any]) -> Any:
        """A value computed from ``decisions`` once and kept beside the fields (not a field:
        it is not dumped, compared or hashed), rebuilt if ``decisions`` is replaced."""
        cached = self.__dict__.get(name)
        if cached is None or cached[0] is not self.decisions:
            cached = (self.decisions, build())
            self.__dict__[name] = cached
        return cached[1]

    def _index(self) -> dict[str, int]:
        def build() -> dict[str, int]:
            index: dict[str, int] = {}
            for i, d in enumerate(self.decisions):
                index.setdefault(d.person_id, i)
            return index

        return self._derived("_person_index", build)

    def get(self, person_id: str) -> Decision:
        """The decision for ``person_id`` (raises ``KeyError`` if absent); O(1) after the first call."""
        i = self._index().get(person_id)
        if i is None:
            raise KeyError(_UNKNOWN_PERSON.format(person=person_id))
        return self.decisions[i]

    def by_person(self) -> dict[str, Decision]:
        """Decisions keyed by person_id."""
        return {d.person_id: d for d in self.decisions}

    @property
    def selected(self) -> tuple[str, ...]:
        """person_ids recommended for a place, in rank order."""
        chosen = [d for d in self.decisions if d.decision == SELECTED]
        if self.cohorts:
            at = self._cohort_order()
            return tuple(d.person_id for d in sorted(chosen, key=lambda d: (at.get(d.cohort, len(at)), d.rank or 0)))
        return tuple(d.person_id for d in sorted(chosen, key=lambda d: d.rank or 0))

    def _cohort_order(self) -> dict[str | None, int]:
        return {c.name: i for i, c in enumerate(self.cohorts)}

    def cohort_names(self) -> tuple[str, ...]:
        """The cohorts of a several-cohort selection, in the order people were considered for them."""
        return tuple(c.name for c in self.cohorts)

    def ranked(self) -> tuple[Decision, ...]:
        """Candidates in rank order, then everyone else in decision order and by person_id."""

        def build() -> tuple[Decision, ...]:
            order = {name: i for i, name in enumerate(DECISIONS)}
            candidates = [d for d in self.decisions if d.rank is not None]
            if self.cohorts:  # by cohort, in the policy's order, then rank
                at = self._cohort_order()
                candidates.sort(key=lambda d: (at.get(d.cohort, len(at)), d.rank, order[d.decision], d.person_id))
            elif len({d.rank for d in candidates}) == len(candidates):
                candidates.sort(key=attrgetter("rank"))
            else:  # repeated ranks (a hand-made selection): decision order, then person_id
                candidates.sort(key=lambda d: (d.rank, order[d.decision], d.person_id))
            groups: dict[str, list[Decision]] = {name: [] for name in DECISIONS}
            for d in self.decisions:
                if d.rank is None:
                    groups[d.decision].append(d)
            rest = [d for name in DECISIONS for d in sorted(groups[name], key=attrgetter("person_id"))]
            return tuple(candidates + rest)

        return self._derived("_ranked", build)

    def reserves(self, n: int, cohort: str | None = None) -> tuple[Decision, ...]:
        """The next ``n`` over-capacity candidates in rank order (fewer if there are fewer):
        the people to offer a place that falls free (of ``cohort``, for a several-cohort selection).

        Examples
        --------
        >>> import iomscore
        >>> from iomscore.cohort import select_cohort
        >>> refs = [iomscore.Referral(person_id=f"P{i}", assessment_date="2025-06-01",
        ...     date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
        ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
        ...     "disposal": "community_order"}] * (i + 1)) for i in range(4)]
        >>> sel = select_cohort(refs, iomscore.score(refs), capacity=1)
        >>> [d.person_id for d in sel.reserves(2)], [d.rank for d in sel.reserves(5)]
        (['P2', 'P1'], [2, 3, 4])
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(_BAD_RESERVES.format(value=n))
        over = (d for d in self.ranked() if d.decision == OVER_CAPACITY and (cohort is None or d.cohort == cohort))
        return tuple(islice(over, int(n)))

    def cohort_summary(self) -> dict[str, dict[str, int]]:
        """Several-cohort selections: counts per cohort that add up on their face.

        For each cohort (in the policy's order): ``places``, ``selected``, ``unfilled``
        (``places == selected + unfilled``), ``over_capacity`` (ranked here, placed nowhere),
        ``placed_later`` (ranked here, over capacity, then placed in a later cohort),
        ``candidates`` (``== selected + over_capacity + placed_later``), ``current_members``
        and ``deselection_reviews``. Empty for a one-cohort selection.

        Examples
        --------
        >>> CohortSelection(policy_name="p", policy_version="1", policy_sha256="0" * 64, model=None,
        ...     capacity=0, tie_break="", decisions=()).cohort_summary()
        {}
        """
        out: dict[str, dict[str, int]] = {}
        for c in self.cohorts:
            out[c.name] = dict.fromkeys(
                ("places", "selected", "unfilled", "over_capacity", "placed_later", "candidates",
                 "current_members", "deselection_reviews"), 0)
            out[c.name]["places"] = c.places
        for d in self.decisions:
            row = out.get(d.cohort or "")
            if row is None:
                continue
            if d.decision == SELECTED:
                row["selected"] += 1
            elif d.decision == OVER_CAPACITY:
                row["over_capacity"] += 1
            elif d.decision == DESELECTION:
                row["deselection_reviews"] += 1
            if d.current_member:
                row["current_members"] += 1
        for c in self.cohorts:
            out[c.name]["placed_later"] = c.placed_later
        for row in out.values():
            row["unfilled"] = max(row["places"] - row["selected"], 0)
            row["candidates"] = row["selected"] + row["over_capacity"] + row["placed_later"]
        return out

    def summary(self) -> dict[str, int]:
        """Counts of the decisions, which add up on their face.

        ``referred``, ``places``, ``eligible`` (meets the entry rules), one count per
        decision (``selected``, ``over_capacity``, ``not_eligible``, ``routed``,
        ``deselection_reviews``, ``not_scored``) and ``current_members``; then
        ``candidates`` (selected or over capacity), ``eligible_candidates`` and
        ``candidates_not_eligible`` (current members kept as candidates although they no
        longer meet the entry rules), and the eligible people who were not candidates:
        ``eligible_routed`` (routed to MAPPA / review), ``eligible_deselection`` (de-selection
        review) and ``eligible_not_scored``. For every selection made by
        :func:`select_cohort`::

            referred == selected + over_capacity + not_eligible + routed
                        + deselection_reviews + not_scored
            candidates == selected + over_capacity
                       == eligible_candidates + candidates_not_eligible
            eligible == eligible_candidates + eligible_routed + eligible_deselection
                        + eligible_not_scored

        Examples
        --------
        >>> sel = CohortSelection(policy_name="p", policy_version="1", policy_sha256="0" * 64,
        ...     model=None, capacity=2, tie_break="", decisions=())
        >>> sel.summary()["referred"], sel.summary()["eligible_routed"]
        (0, 0)
        """
        ds = self.decisions
        counts = Counter(zip(map(attrgetter("decision"), ds), map(attrgetter("eligible"), ds), map(attrgetter("current_member"), ds)))

        def count(decisions: tuple[str, ...] = DECISIONS, eligible: bool | None = None, member: bool | None = None) -> int:
            return sum(
                c
                for (d, e, m), c in counts.items()
                if d in decisions and (eligible is None or e == eligible) and (member is None or m == member)
            )

        candidates = (SELECTED, OVER_CAPACITY)
        return {
            "referred": len(self.decisions),
            "places": self.capacity,
            "eligible": count(eligible=True),
            "selected": count((SELECTED,)),
            "over_capacity": count((OVER_CAPACITY,)),
            "not_eligible": count((NOT_ELIGIBLE,)),
            "routed": count((ROUTED,)),
            "deselection_reviews": count((DESELECTION,)),
            "not_scored": count((NOT_SCORED,)),
            "current_members": count(member=True),
            "candidates": count(candidates),
            "eligible_candidates": count(candidates, eligible=True),
            "candidates_not_eligible": count(candidates, eligible=False),
            "eligible_routed": count((ROUTED,), eligible=True),
            "eligible_deselection": count((DESELECTION,), eligible=True),
            "eligible_not_scored": count((NOT_SCORED,), eligible=True),
        }

    def _dump(self) -> dict[str, Any]:
        """JSON data of the fields; an empty ``tie_break`` is left out of a decision, so a
        selection saved before the field existed keeps its sha256."""
        data = self.model_dump(mode="json")
        for d in data["decisions"]:
            if not d["tie_break"]:
                del d["tie_break"]
            if d["cohort"] is None:
                del d["cohort"]
        _omit_new_fields(data)
        return data

    @property
    def sha256(self) -> str:
        """sha256 of the canonical JSON of this selection (identifies a panel run).

        Computed once per selection and kept while its fields are the same objects (they are
        frozen; do not change a decision's ``needs`` dict in place). The canonical JSON of a
        large selection runs to gigabytes, so it is hashed as it is written, each distinct
        breakdown, reason list and text encoded once (:func:`_stream_sha256`); the hash is
        that of ``canonical_json`` of :meth:`to_dict` without its summary and sha256.
        """
        values = tuple(getattr(self, name) for name in type(self).model_fields)
        cached = self.__dict__.get("_sha256")
        if cached is None or len(cached[0]) != len(values) or any(a is not b for a, b in zip(cached[0], values)):
            cached = (values, _stream_sha256(self) or spec_sha256(self._dump()))
            self.__dict__["_sha256"] = cached  # kept with the values it was computed from
        return str(cached[1])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (round-trips through :meth:`from_dict`)."""
        data = self._dump()
        sha256 = spec_sha256(data)
        data["summary"] = self.summary()
        data["sha256"] = sha256
        return data

    def to_json(self) -> str:
        """Pretty JSON of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "data") -> CohortSelection:
        """Rebuild a selection saved with :meth:`to_dict` (e.g. the previous panel run).

        A recorded ``sha256`` must match the content (:class:`SelectionError` otherwise), so an
        edited selection never shows a score or a change that did not happen.
        """
        if not isinstance(data, Mapping):
            raise SelectionError(_SELECTION_NOT_OBJECT.format(source=source, type=type(data).__name__))
        body = {k: v for k, v in data.items() if k not in ("summary", "sha256")}
        selection = cls.model_validate(body)
        recorded = data.get("sha256")
        if recorded is not None and recorded != selection.sha256:
            raise SelectionError(_SELECTION_EDITED.format(source=source, recorded=recorded, actual=selection.sha256))
        return selection

    @classmethod
    def load(cls, path: str | Path) -> CohortSelection:
        """Read a selection written with :meth:`to_json`; it must record its sha256, and match it."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        selection = cls.from_dict(data, source=str(path))
        if "sha256" not in data:
            raise SelectionError(_SELECTION_NO_HASH.format(source=path))
        return selection

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
        if self.cohorts:
            frame.insert(1, "cohort", [d.cohort for d in self.decisions])
        frame["rank"] = frame["rank"].astype("Int64")
        return frame


def _omit_new_fields(data: dict[str, Any]) -> None:
    """Leave out the several-cohort and turnover fields when empty (older selections keep their sha256)."""
    if not data.get("cohorts"):
        data.pop("cohorts", None)
    if data.get("turnover") is None:
        data.pop("turnover", None)
    if data.get("decision_log") is None:
        data.pop("decision_log", None)
    if not data.get("shown_scores"):
        data.pop("shown_scores", None)


# --- the hash of a selection, streamed ------------------------------------------------------


def _stream_sha256(selection: CohortSelection) -> str | None:
    """``spec_sha256(selection._dump())`` without building the dump or its text.

    Fragments of canonical JSON (sorted keys, ``","`` and ``":"`` separators, UTF-8 kept) are
    fed to the hash as they are made; tuples shared between decisions (breakdowns, reason
    lists) are encoded once. Returns ``None`` if a value is not of the plain form encoded
    here (e.g. a score that is not a finite float), and the caller hashes the dump instead,
    so the result is always that of the canonical JSON.
    """
    top = selection.model_dump(mode="json", exclude={"decisions"})
    _omit_new_fields(top)
    h = hashlib.sha256()
    h.update(b"{")
    for j, key in enumerate(sorted([*top, "decisions"])):
        h.update((b"," if j else b"") + canonical_json(key).encode("utf-8") + b":")
        if key != "decisions":
            h.update(canonical_json(top[key]).encode("utf-8"))
        elif not _stream_decisions(selection.decisions, h):
            return None
    h.update(b"}")
    return h.hexdigest()


_BOOL: Final = {True: b"true", False: b"false"}


def _stream_decisions(decisions: Sequence[Decision], h: Any) -> bool:
    """Feed ``[decision, ...]`` in canonical JSON to ``h``; False at a value of another form."""
    text: dict[Any, bytes] = {}  # str or None -> JSON
    shared: dict[int, bytes] = {}  # id of a tuple held by the decisions -> JSON

    def string(v: str | None) -> bytes:
        out = text.get(v)
        if out is None:
            out = text[v] = b"null" if v is None else encode_basestring(v).encode("utf-8")
        return out

    def strings(t: tuple[str, ...]) -> bytes:
        out = shared.get(id(t))
        if out is None:
            out = shared[id(t)] = canonical_json(list(t)).encode("utf-8")
        return out

    by_needs: dict[tuple[tuple[str, str], ...], bytes] = {}

    def needs(v: dict[str, str]) -> bytes:
        key = tuple(v.items())
        out = by_needs.get(key)
        if out is None:
            out = by_needs[key] = canonical_json(v).encode("utf-8")
        return out

    def part(p: BreakdownPart) -> bytes:
        out = shared.get(id(p))
        if out is None:
            out = shared[id(p)] = canonical_json(p.model_dump(mode="json")).encode("utf-8")
        return out

    def parts(t: tuple[BreakdownPart, ...]) -> bytes:
        out = shared.get(id(t))
        if out is None:
            out = shared[id(t)] = b"[" + b",".join(map(part, t)) + b"]"
        return out

    h.update(b"[")
    for i, d in enumerate(decisions):
        score, rank = d.score, d.rank
        if not (score is None or (type(score) is float and math.isfinite(score))):
            return False
        if not (rank is None or type(rank) is int):
            return False
        fields = [
            b'"band":' + string(d.band),
            b'"breakdown":' + parts(d.breakdown),
            *((b'"cohort":' + string(d.cohort),) if d.cohort is not None else ()),
            b'"current_member":' + _BOOL[d.current_member],
            b'"decision":' + string(d.decision),
            b'"deselection":' + _BOOL[d.deselection],
            b'"eligible":' + _BOOL[d.eligible],
            b'"eligible_by":' + string(d.eligible_by),
            b'"needs":' + needs(d.needs),
            b'"person_id":' + encode_basestring(d.person_id).encode("utf-8"),
            b'"rank":' + (b"null" if rank is None else str(rank).encode()),
            b'"reasons":' + strings(d.reasons),
            b'"recommended_action":' + string(d.recommended_action),
            b'"routed":' + _BOOL[d.routed],
            b'"score":' + (b"null" if score is None else float.__repr__(score).encode()),
            b'"score_reasons":' + strings(d.score_reasons),
        ]
        if d.tie_break:
            fields.append(b'"tie_break":' + canonical_json([list(pair) for pair in d.tie_break]).encode("utf-8"))
        fields += [b'"unit":' + string(d.unit), b'"warnings":' + strings(d.warnings)]
        h.update((b",{" if i else b"{") + b",".join(fields) + b"}")
    h.update(b"]")
    return True


# --- inputs -----------------------------------------------------------------------------------


def _resolve_policy(
    policy: SelectionPolicy | str | Path | None, capacity: int | Mapping[str, int] | None
) -> tuple[SelectionPolicy, dict[str, int]]:
    """The policy (loaded, with its hash) and the number of places of each cohort."""
    if not isinstance(policy, SelectionPolicy):
        policy = load_policy(policy)
    elif policy.sha256 is None:
        policy = policy.with_sha256()
    cohorts = policy.cohort_list()
    places = {c.name: c.capacity.places for c in cohorts}
    if isinstance(capacity, Mapping):
        unknown = sorted(set(capacity) - set(places))
        if unknown:
            raise SelectionError(_UNKNOWN_COHORT.format(names=unknown, known=list(places)))
        given = dict(capacity)
    elif capacity is not None:
        if policy.several:
            raise SelectionError(_ONE_CAPACITY.format(names=list(places)))
        given = {cohorts[0].name: capacity}
    else:
        given = {}
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise SelectionError(_BAD_CAPACITY.format(value=value))
        places[name] = int(value)
    return policy, places


def _as_table(referrals: Sequence[Referral] | ReferralTable) -> ReferralTable:
    if isinstance(referrals, ReferralTable):
        return referrals
    return ReferralTable.from_referrals(list(referrals))


def _check_unique(ids: list[str]) -> None:
    if len(set(ids)) == len(ids):
        return
    for person, count in Counter(ids).items():
        if count > 1:
            raise SelectionError(_DUPLICATE_PERSON.format(person=person, count=count))


def _members(
    policy: SelectionPolicy,
    places: dict[str, int],
    table: ReferralTable,
    ids: list[str],
    current_cohort: Iterable[str] | Occupancy,
    as_of: dt.date | str | None,
) -> tuple[dict[str, np.ndarray], list[str], PlacesForecast | None]:
    """Mask of the members of each cohort, warnings, and the turnover of the places.

    A list of person_ids are members of the policy's first cohort. An :class:`Occupancy`
    names each occupant's cohort (blank is the cohort of a one-cohort policy); occupants
    expected to leave by ``as_of`` (default: the latest assessment date) hold no place, and
    the places of occupants staying who are not in the referral list are taken out of
    ``places`` (changed in place) before the ranking.
    """
    names = [c.name for c in policy.cohort_list()]
    out = {name: np.zeros(len(ids), dtype=bool) for name in names}
    if not isinstance(current_cohort, Occupancy):
        out[names[0]], warnings = _current_members(ids, current_cohort)
        return out, warnings, None
    placements = []
    for pl in current_cohort.placements:
        cohort = pl.cohort or (names[0] if not policy.several else "")
        if cohort not in out:
            raise SelectionError(_OCCUPANCY_COHORT.format(source=current_cohort.source, line=pl.line, cohort=pl.cohort,
                                                          policy=policy.name, known=names))
        placements.append(pl if cohort == pl.cohort else pl.model_copy(update={"cohort": cohort}))
    if as_of is None:
        days = table.batch.assessment_day.astype(np.int64)
        days = days[days != int(MISSING_DAY)]
        if days.size == 0:
            raise SelectionError(_NO_AS_OF)
        as_of = dt.date(1970, 1, 1) + dt.timedelta(days=int(days.max()))
    stays = {c.name: c.capacity.stay_months for c in policy.cohort_list()}
    turnover = forecast_places(placements, places, as_of, stay_months=stays)
    leaving = turnover.leaving_by_meeting()
    warnings = []
    if leaving:
        warnings.append(_LEAVING.format(count=len(leaving), date=turnover.as_of.isoformat(), people=", ".join(sorted(leaving))))
    staying = [pl for pl in placements if pl.person_id not in leaving]
    listed = set(ids)
    for name in names:
        out[name], _ = _current_members(ids, (pl.person_id for pl in staying if pl.cohort == name))
        held = sum(1 for pl in staying if pl.cohort == name and pl.person_id not in listed)
        if held:  # their places are taken: only the rest are ranked in this list
            ranked = max(places[name] - held, 0)
            warnings.append(_HELD.format(held=held, cohort=name, places=places[name], ranked=ranked))
            places[name] = ranked
    _, absent = _current_members(ids, (pl.person_id for pl in staying))
    return out, warnings + absent, turnover


def _current_members(ids: list[str], current_cohort: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    """Mask of the current cohort members in the list, and a warning for members not in it."""
    members = set(map(str, current_cohort))
    current = np.fromiter((p in members for p in ids), dtype=bool, count=len(ids))
    absent = sorted(members - set(ids))
    warnings = [_NOT_MEMBER_LISTED.format(count=len(absent), people=", ".join(absent))] if absent else []
    return current, warnings


@dataclass(frozen=True, eq=False)
class _Scores:
    """Scores aligned to the referral order, as columns (``None`` or empty where not scored)."""

    ok: np.ndarray
    score: np.ndarray  # float64, NaN where not scored
    band: list[str | None]
    unit: list[str]
    breakdown: np.ndarray  # object: tuple[BreakdownPart, ...]
    score_reasons: np.ndarray  # object: the top reason lines
    warnings: np.ndarray  # object: tuple[str, ...]
    errors: list[str | None]
    model: ModelIdentity | None


def _batch_order(ids: np.ndarray, batch: ScoreBatch) -> np.ndarray:
    """Row of ``batch`` for each referral (matched by person_id when the batch has them)."""
    n = ids.shape[0]
    if len(batch) != n:
        raise SelectionError(_LENGTH_MISMATCH.format(got=len(batch), expected=n))
    if batch.person_id is None:
        return np.arange(n)
    rid = np.asarray(batch.person_id, dtype=object)
    if np.array_equal(rid, ids):
        return np.arange(n)
    pos = {p: i for i, p in enumerate(rid.tolist())}
    missing = [p for p in ids.tolist() if p not in pos]
    if missing:
        raise SelectionError(_NO_SCORE.format(count=len(missing), people=missing[:3]))
    return np.array([pos[p] for p in ids.tolist()], dtype=np.int64)


def _align_scores(ids: np.ndarray, results: ScoreBatch | Sequence[ScoreResult]) -> _Scores:
    """Step 1: the scores of the referrals, in referral order."""
    n = ids.shape[0]
    empty = object_array([()] * n)
    if isinstance(results, ScoreBatch):
        order = _batch_order(ids, results)
        ok = results.ok[order]
        okl = ok.tolist()
        breakdown = np.where(ok, results.breakdowns()[order], empty) if n else empty
        reasons = np.where(ok, results.reason_tuples(_TOP_REASONS)[order], empty) if n else empty
        if results.warnings is None:
            warnings = empty
        else:
            warn = [w if type(w) is tuple else tuple(w) for w in np.asarray(results.warnings, dtype=object)[order].tolist()]
            warnings = np.where(ok, object_array(warn), empty) if n else empty
        bands = np.asarray(results.band)[order].tolist()
        errors = [None] * n if results.error is None else np.asarray(results.error, dtype=object)[order].tolist()
        return _Scores(
            ok=ok,
            score=np.where(ok, np.asarray(results.score, dtype=np.float64)[order], np.nan),
            band=[str(b) if o else None for b, o in zip(bands, okl)],
            unit=[results.unit if o else "points" for o in okl],
            breakdown=breakdown,
            score_reasons=reasons,
            warnings=warnings,
            errors=[None if o else str(e) for e, o in zip(errors, okl)],
            model=results.model,
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
    aligned = [by_id[p] for p in id_list]
    models = {r.model.sha256: r.model for r in aligned}
    if len(models) > 1:
        names = sorted(f"{m.name} {m.version}" for m in models.values())
        raise SelectionError(_MIXED_MODELS.format(count=len(models), names=names))
    return _Scores(
        ok=np.ones(n, dtype=bool),
        score=np.array([r.score for r in aligned], dtype=np.float64).reshape(n),
        band=[r.band for r in aligned],
        unit=[r.unit for r in aligned],
        breakdown=object_array([r.breakdown for r in aligned]),
        score_reasons=object_array([r.reasons[:_TOP_REASONS] for r in aligned]),
        warnings=object_array([r.warnings for r in aligned]),
        errors=[None] * n,
        model=next(iter(models.values())) if models else None,
    )


# --- eligibility, routing, de-selection -------------------------------------------------------

#: A rule with its result: (rule, passed per person, per-condition matrix (conditions, n)).
_Evaluated = tuple[Rule, np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class _Eligibility:
    core: tuple[_Evaluated, ...]
    flex: tuple[_Evaluated, ...]  # enabled flex rules only
    core_ok: np.ndarray
    flex_first: np.ndarray  # index into flex of the first passing rule, -1 for none

    @property
    def eligible(self) -> np.ndarray:
        return self.core_ok | (self.flex_first >= 0)

    def eligible_by(self) -> list[str | None]:
        """'core', the flex rule's name, or None, per person."""
        names = object_array([None, *(rule.name for rule, _, _ in self.flex)])
        out = names[self.flex_first + 1]
        out[self.core_ok] = "core"
        return list(out.tolist())


def _eligibility(policy: Cohort, frame: Mapping[str, np.ndarray], n: int) -> _Eligibility:
    """Step 2: core rules (all must pass) or any enabled flex rule."""
    core = tuple((rule, *rule.evaluate(frame)) for rule in policy.eligibility.core)
    core_ok = np.ones(n, dtype=bool)
    for _, passed, _ in core:
        core_ok &= passed
    flex = tuple((rule, *rule.evaluate(frame)) for rule in policy.eligibility.flex if rule.enabled)
    flex_first = np.full(n, -1, dtype=np.int64)
    for j, (_, passed, _) in reversed(list(enumerate(flex))):
        flex_first = np.where(passed, j, flex_first)
    return _Eligibility(core, flex, core_ok, flex_first)


@dataclass(frozen=True, eq=False)
class _Routing:
    hits: tuple[tuple[RoutingRule, np.ndarray, np.ndarray], ...]  # (rule, hit, the field's codes)
    routed: np.ndarray


def _routing(policy: SelectionPolicy, harm: SeriousHarmColumns, n: int) -> _Routing:
    """Step 3: serious harm, read from the table's serious-harm columns only (never a score)."""
    columns = {
        "rosh_level": harm.rosh_level.astype(np.int64),
        "mappa_level": harm.mappa_level.astype(np.int64),
        "mappa_category": harm.mappa_category.astype(np.int64),
    }
    hits = []
    routed = np.zeros(n, dtype=bool)
    for route in policy.routing:
        codes = [ROSH_LEVELS.index(str(v)) if route.field == "rosh_level" else int(v) for v in route.values]
        hit = np.isin(columns[route.field], codes)
        hits.append((route, hit, columns[route.field]))
        routed |= hit
    return _Routing(tuple(hits), routed)


@dataclass(frozen=True, eq=False)
class _Deselection:
    rules: tuple[_Evaluated, ...]  # enabled rules
    flagged: np.ndarray  # a current member matching any rule


def _deselection(policy: Cohort, frame: Mapping[str, np.ndarray], current: np.ndarray) -> _Deselection:
    """Step 4: de-selection signals, for current members only."""
    rules = tuple((rule, *rule.evaluate(frame)) for rule in policy.deselection if rule.enabled)
    flagged = np.zeros(current.shape[0], dtype=bool)
    for _, passed, _ in rules:
        flagged |= passed
    return _Deselection(rules, flagged & current)


# --- ranking and decisions --------------------------------------------------------------------


def _id_rank(ids: list[str]) -> np.ndarray:
    """Rank of each (unique) person_id in character-code order, as float64 for ``lexsort``."""
    n = len(ids)
    longest = max(map(len, ids), default=0)
    if longest <= _MAX_FIXED_ID and not any(p.endswith("\x00") for p in ids):
        order = np.argsort(np.array(ids, dtype=f"<U{max(longest, 1)}"), kind="stable")
    else:  # fixed-width text would be too wide (or would drop trailing NULs)
        order = np.array(sorted(range(n), key=ids.__getitem__), dtype=np.int64)
    rank = np.empty(n, dtype=np.float64)
    rank[order] = np.arange(n, dtype=np.float64)
    return rank


def _tie_break_values(policy: Cohort, features: FeatureFrame, score: np.ndarray, id_rank: np.ndarray) -> list[np.ndarray]:
    """The value of each tie-break key per person (float64; NaN where a feature is missing)."""
    out = []
    for k in policy.tie_break:
        if k.key == "person_id":
            out.append(id_rank)
        elif k.key == "score":
            out.append(score)
        else:
            out.append(np.asarray(features[str(k.feature)], dtype=np.float64))
    return out


def _sort_keys(policy: Cohort, values: list[np.ndarray]) -> list[np.ndarray]:
    """``np.lexsort`` keys (least significant first) implementing the policy's tie-break.

    Within each tie-break key a missing value (``NaN``) ranks after every present value.
    """
    keys: list[np.ndarray] = []
    for k, v in zip(reversed(policy.tie_break), reversed(values)):
        nan = np.isnan(v)
        v = np.where(nan, 0.0, v)
        keys.append(-v if k.order == "descending" else v)
        keys.append(nan.astype(np.int8))
    return keys


@dataclass(frozen=True, eq=False)
class _Ranking:
    candidate: np.ndarray
    rank: np.ndarray  # 1-based among candidates, 0 for everyone else
    selected: np.ndarray
    count: int  # number of candidates


def _rank(
    policy: Cohort, places: int, candidate: np.ndarray, current: np.ndarray, keys: list[np.ndarray]
) -> _Ranking:
    """Step 5: rank the candidates (current members first when the policy retains them, then
    the policy's tie-break) and give the first ``places`` a place."""
    n = candidate.shape[0]
    keys = list(keys)
    if policy.capacity.retain_current_members:
        keys.append((~current).astype(np.int8))
    order = np.lexsort(keys) if n else np.zeros(0, dtype=np.int64)
    ranked = order[candidate[order]]
    rank = np.zeros(n, dtype=np.int64)
    rank[ranked] = np.arange(1, ranked.size + 1)
    selected = candidate & (rank >= 1) & (rank <= places)
    return _Ranking(candidate, rank, selected, int(ranked.size))


_CODE: Final = {name: i for i, name in enumerate(DECISIONS)}


def _decide(ok: np.ndarray, routed: np.ndarray, deselection: np.ndarray, ranking: _Ranking) -> np.ndarray:
    """Step 6: the decision of each person, as an index into :data:`DECISIONS`."""
    decision = np.full(ok.shape[0], _CODE[NOT_ELIGIBLE], dtype=np.int64)
    decision[ranking.candidate] = _CODE[OVER_CAPACITY]
    decision[ranking.selected] = _CODE[SELECTED]
    decision[deselection & ok & ~routed] = _CODE[DESELECTION]
    decision[routed & ok] = _CODE[ROUTED]
    decision[~ok] = _CODE[NOT_SCORED]
    return decision


# --- reasons ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Facts:
    """Everything the reasons of one person are written from."""

    frame: Mapping[str, np.ndarray]
    decision: np.ndarray
    current: np.ndarray
    errors: list[str | None]
    eligibility: _Eligibility
    routing: _Routing
    deselection: _Deselection

    def name(self, i: int) -> str:
        return DECISIONS[int(self.decision[i])]


def _harm_lines(f: _Facts, i: int) -> list[str]:
    """Not scored, serious-harm routing and cohort membership."""
    reasons: list[str] = []
    if f.name(i) == NOT_SCORED:
        reasons.append(f"Could not be scored: {f.errors[i]}; the panel reviews the record")
    for route, hit, codes in f.routing.hits:
        if hit[i]:
            code = int(codes[i])
            value = ROSH_LEVELS[code].replace("_", " ") if route.field == "rosh_level" else str(code)
            reasons.append(route.reason.format(value=value))
    if f.current[i]:
        reasons.append("Already in the cohort")
    return reasons


def _deselection_lines(f: _Facts, i: int) -> list[str]:
    """The de-selection signals of a current member."""
    reasons: list[str] = []
    for rule, passed, per in f.deselection.rules:
        if passed[i] and f.current[i]:
            reasons.append(
                "De-selection signal: "
                + "; ".join(c.text(f.frame[c.feature][i], True) for c, hit in zip(rule.conditions, per[:, i]) if hit)
            )
    return reasons


def _eligibility_lines(f: _Facts, i: int) -> list[str]:
    """Which entry rules are met, or which are not."""
    reasons: list[str] = []
    d, current, e = f.name(i), bool(f.current[i]), f.eligibility
    if e.core_ok[i]:
        elig_text = [c.text(f.frame[c.feature][i], True) for rule, _, _ in e.core for c in rule.conditions]
        if d in (SELECTED, OVER_CAPACITY) or not current:
            reasons.append("Meets the entry rules: " + "; ".join(elig_text))
    elif e.flex_first[i] >= 0:
        rule = e.flex[int(e.flex_first[i])][0]
        reasons.append(
            f"Meets the local flex rule '{rule.label}': "
            + "; ".join(c.text(f.frame[c.feature][i], True) for c in rule.conditions)
        )
    else:
        failed = [
            c.text(f.frame[c.feature][i], False)
            for rule, _, per in e.core
            for c, hit in zip(rule.conditions, per[:, i])
            if not hit
        ]
        if current and d in (SELECTED, OVER_CAPACITY):
            reasons.append("No longer meets the entry rules (" + "; ".join(failed) + "); keeps a place unless the panel decides otherwise")
        elif d == NOT_ELIGIBLE or not current:
            reasons.append("Does not meet the entry rules: " + "; ".join(failed))
            if e.flex and d == NOT_ELIGIBLE:
                reasons.append("Meets no enabled local flex rule")
    return reasons


def _masked_codes(f: _Facts, features: Iterable[str], mask: np.ndarray) -> list[np.ndarray]:
    """Value codes of ``features`` (+1) where ``mask``, 0 elsewhere: rows that do not state a
    feature's value do not split a pattern on it."""
    return [np.where(mask, float_codes(f.frame[name]) + 1, 0) for name in dict.fromkeys(features)]


def _by_pattern(f: _Facts, keys: list[np.ndarray], render: Callable[[_Facts, int], list[str]]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """``(pattern of each row, lines of each pattern)``: ``render`` runs once per distinct
    row of ``keys``, which must determine everything ``render`` reads."""
    representative, inverse = combine_codes(keys)
    return inverse, [tuple(render(f, int(r))) for r in representative.tolist()]


def _prefixed(render: Callable[[_Facts, int], list[str]], prefix: str) -> Callable[[_Facts, int], list[str]]:
    if not prefix:
        return render
    return lambda f, i: [prefix + line for line in render(f, i)]


def _reasons(f: _Facts, ranking: _Ranking, places: int, *, where: str = "", prefix: str = "") -> list[tuple[str, ...]]:
    """Step 7: the reasons of every person, each text built once per distinct pattern of the
    facts it states (the rank line, which differs per candidate, once per candidate).

    ``where`` ends the rank line (e.g. ``" in Fixed"``) and ``prefix`` starts each entry-rule
    and de-selection line, for a several-cohort policy."""
    n = f.decision.shape[0]
    if n == 0:
        return []
    e, d = f.eligibility, f.decision
    current = f.current.astype(np.int64)
    error_code, _ = _factorize_text(f.errors)
    harm_keys = [d, current, error_code] + [np.where(hit, codes + 1, 0) for _, hit, codes in f.routing.hits]
    harm, harm_lines = _by_pattern(f, harm_keys, _harm_lines)

    desel_keys = [d, current] + [(passed & f.current).astype(np.int64) for _, passed, _ in f.deselection.rules]
    desel_keys += _masked_codes(f, (c.feature for r, _, _ in f.deselection.rules for c in r.conditions), f.deselection.flagged)
    desel, desel_lines = _by_pattern(f, desel_keys, _prefixed(_deselection_lines, prefix))

    branch = np.where(e.core_ok, 0, np.where(e.flex_first >= 0, e.flex_first + 1, len(e.flex) + 1))
    core_rows = e.core_ok | (e.flex_first < 0)
    elig_keys = [d, current, branch] + _masked_codes(f, (c.feature for r, _, _ in e.core for c in r.conditions), core_rows)
    for j, (rule, _, _) in enumerate(e.flex):
        elig_keys += _masked_codes(f, (c.feature for c in rule.conditions), branch == j + 1)
    elig, elig_lines = _by_pattern(f, elig_keys, _prefixed(_eligibility_lines, prefix))

    representative, inverse = combine_codes([harm, desel, elig])
    lines = [
        harm_lines[harm[r]] + desel_lines[desel[r]] + elig_lines[elig[r]] for r in representative.tolist()
    ]
    out = [lines[p] for p in inverse.tolist()]
    m = ranking.count
    for i, r in zip(np.flatnonzero(ranking.candidate).tolist(), ranking.rank[ranking.candidate].tolist()):
        if d[i] == _CODE[SELECTED]:
            head = f"Ranked {r} of {m} candidates for {places} place(s){where}"
        else:
            head = f"Ranked {r} of {m} candidates{where}; the {places} place(s) went to people ranked higher"
        out[i] = (head, *out[i])
    return out


def _factorize_text(values: Sequence[str | None]) -> tuple[np.ndarray, list[str | None]]:
    table: dict[str | None, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64, count=len(values))
    return codes, list(table)


def _tie_breaks(policy: Cohort, values: list[np.ndarray], ids: list[str], candidate: np.ndarray) -> np.ndarray:
    """Step 8: for each candidate, ``(label, value text)`` of every tie-break key, in order."""
    n = candidate.shape[0]
    out = object_array([()] * n)
    rows = np.flatnonzero(candidate)
    if rows.size == 0:
        return out
    columns = []
    for k, v in zip(policy.tie_break, values):
        if k.key == "person_id":
            columns.append([(_KEY_LABELS["person_id"], ids[i]) for i in rows.tolist()])
            continue
        label = _KEY_LABELS["score"] if k.key == "score" else FEATURES[str(k.feature)].description
        first, inverse = combine_codes([float_codes(v[rows])])
        pairs = object_array([(label, format_value(float(v[rows[r]]))) for r in first.tolist()])
        columns.append(pairs[inverse].tolist())
    out[rows] = object_array(list(zip(*columns)))
    return out


# --- assembly ---------------------------------------------------------------------------------


def _needs(needs: np.ndarray) -> list[dict[str, str]]:
    """Pathway -> need level per person (one dict each, built from one per distinct pattern)."""
    n = needs.shape[0]
    if n == 0:
        return []
    representative, inverse = combine_codes([needs[:, k].astype(np.int64) + 1 for k in range(len(PATHWAYS))])
    patterns = [{p: _NEED_NAMES[int(needs[r, k])] for k, p in enumerate(PATHWAYS)} for r in representative.tolist()]
    return [dict(patterns[p]) for p in inverse.tolist()]


def _assemble(columns: Mapping[str, Sequence[Any]]) -> tuple[Decision, ...]:
    """Step 9: one :class:`Decision` per person from columns of already checked values.

    Every field is given, of its declared type, so the objects are built without running
    validation a million times (see :func:`~iomscore.scoring._result.trusted_model`).
    """
    names = tuple(Decision.model_fields)
    if set(names) != set(columns):  # pragma: no cover - a programming error, not an input error
        raise TypeError(_ASSEMBLY_FIELDS.format(fields=sorted(set(names) ^ set(columns))))
    given = set(names)
    with paused_gc():
        return tuple(
            trusted_model(Decision, dict(zip(names, row)), given) for row in zip(*(columns[name] for name in names))
        )


@dataclass(frozen=True, eq=False)
class _Inputs:
    """The checked inputs of a selection (see :func:`iomscore.cohort.select_cohort`)."""

    policy: SelectionPolicy
    places: dict[str, int]
    table: ReferralTable
    id_list: list[str]
    features: FeatureFrame
    scores: _Scores
    results: ScoreBatch | Sequence[ScoreResult]
    members: dict[str, np.ndarray]
    warnings: list[str]
    turnover: PlacesForecast | None


def _inputs(
    referrals: Sequence[Referral] | ReferralTable,
    results: ScoreBatch | Sequence[ScoreResult],
    policy: SelectionPolicy | str | Path | None,
    current_cohort: Iterable[str] | Occupancy,
    capacity: int | Mapping[str, int] | None,
    features: FeatureFrame | None,
    as_of: dt.date | str | None,
) -> _Inputs:
    """Load the policy, check the referrals, align the scores and find the members."""
    policy, places_of = _resolve_policy(policy, capacity)
    table = _as_table(referrals)
    n = table.n
    ids = np.asarray(table.batch.person_id, dtype=object)
    id_list = [str(p) for p in ids.tolist()]
    _check_unique(id_list)
    if features is None:
        features = FeatureFrame(table.batch)
    elif len(features) != n:
        raise SelectionError(_FEATURES_MISMATCH.format(got=len(features), expected=n))
    scores = _align_scores(ids, results)
    members, warnings, turnover = _members(policy, places_of, table, id_list, current_cohort, as_of)
    return _Inputs(policy, places_of, table, id_list, features, scores, results, members, warnings, turnover)


def _select_one(inp: _Inputs) -> CohortSelection:
    """A one-cohort policy: the steps of the module docstring, once."""
    policy, places_of, table, id_list, features = inp.policy, inp.places, inp.table, inp.id_list, inp.features
    scores, members, warnings, turnover = inp.scores, inp.members, inp.warnings, inp.turnover
    n = table.n
    rules = policy.cohort_list()[0]
    places = places_of[rules.name]
    current = members[rules.name]
    frame = {name: np.asarray(features[name], dtype=np.float64) for name in policy.features}

    eligibility = _eligibility(rules, frame, n)
    routing = _routing(policy, table.serious_harm, n)
    deselection = _deselection(rules, frame, current)
    ok = scores.ok
    candidate = ok & ~routing.routed & ~deselection.flagged & (
        eligibility.eligible | (current & rules.capacity.retain_current_members)
    )
    values = _tie_break_values(rules, features, np.where(ok, scores.score, 0.0), _id_rank(id_list))
    ranking = _rank(rules, places, candidate, current, _sort_keys(rules, values))
    decision = _decide(ok, routing.routed, deselection.flagged, ranking)
    facts = _Facts(frame, decision, current, scores.errors, eligibility, routing, deselection)

    names = np.asarray(DECISIONS, dtype=object)[decision]
    actions = np.asarray([RECOMMENDED_ACTION[d] for d in DECISIONS], dtype=object)[decision]
    rank = [r if c else None for r, c in zip(ranking.rank.tolist(), candidate.tolist())]
    score = [s if o else None for s, o in zip(scores.score.tolist(), ok.tolist())]
    decisions = _assemble(
        {
            "person_id": id_list,
            "decision": names.tolist(),
            "recommended_action": actions.tolist(),
            "reasons": _reasons(facts, ranking, places),
            "eligible": eligibility.eligible.tolist(),
            "eligible_by": eligibility.eligible_by(),
            "routed": routing.routed.tolist(),
            "deselection": deselection.flagged.tolist(),
            "current_member": current.tolist(),
            "rank": rank,
            "score": score,
            "band": scores.band,
            "unit": scores.unit,
            "breakdown": scores.breakdown.tolist(),
            "score_reasons": scores.score_reasons.tolist(),
            "warnings": scores.warnings.tolist(),
            "needs": _needs(table.batch.needs),
            "tie_break": _tie_breaks(rules, values, id_list, candidate).tolist(),
            "cohort": [None] * n,
        }
    )
    return CohortSelection(
        policy_name=policy.name,
        policy_version=policy.version,
        policy_sha256=str(policy.sha256),
        model=scores.model,
        capacity=places,
        tie_break=policy.tie_break_text(),
        decisions=decisions,
        warnings=tuple(warnings),
        turnover=turnover,
    )


__all__ += ["DESELECTION", "NOT_ELIGIBLE", "NOT_SCORED", "OVER_CAPACITY", "ROUTED", "SELECTED"]
