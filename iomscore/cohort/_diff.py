"""What changed between two panel runs: who entered, who left, whose score moved and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from ..scoring._result import format_part_value
from ._select import SELECTED, CohortSelection, Decision

__all__ = ["PartChange", "PersonChange", "RunDiff", "diff_runs"]

#: Score changes smaller than this are treated as no change (floating-point noise).
SCORE_TOLERANCE: Final = 1e-9
_MODEL_CHANGED: Final = "the two runs were scored with different models ({before} and {after}); score changes mix model and record changes"
_POLICY_CHANGED: Final = "the two runs used different selection policies ({before} and {after})"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartChange(_Frozen):
    """One breakdown part whose value moved."""

    name: str
    label: str
    before: float | None
    after: float | None
    delta: float
    reason_before: str | None
    reason_after: str | None


class PersonChange(_Frozen):
    """How one person's recommendation and score changed."""

    person_id: str
    decision_before: str | None
    decision_after: str | None
    score_before: float | None
    score_after: float | None
    score_delta: float | None
    parts: tuple[PartChange, ...] = ()
    unit: str = "points"

    def lines(self) -> tuple[str, ...]:
        """Plain-English lines for a panel card."""
        out: list[str] = []
        if self.decision_before is None:
            out.append("New referral since the last panel")
        elif self.decision_after is None:
            out.append("Not in this referral list")
        elif self.decision_before != self.decision_after:
            out.append(f"Recommendation changed from '{self.decision_before}' to '{self.decision_after}'")
        if self.score_delta is not None and abs(self.score_delta) > SCORE_TOLERANCE:
            out.append(
                f"Score moved {format_part_value(self.score_delta, self.unit)} "
                f"({self.score_before:g} to {self.score_after:g})"
            )
            for p in self.parts:
                now = p.reason_after if p.reason_after else "no longer applies"
                out.append(f"{p.label}: {format_part_value(p.delta, self.unit)} ({now})")
        return tuple(out)


class RunDiff(_Frozen):
    """The difference between a previous and a current :class:`CohortSelection`.

    ``entered`` are recommended for a place now and were not before (including new
    referrals); ``left`` were and are not (including people no longer referred);
    ``score_moved`` are in both runs with a different score, with the breakdown parts that
    changed; ``decision_changed`` are in both runs with a different recommendation.
    """

    entered: tuple[PersonChange, ...]
    left: tuple[PersonChange, ...]
    score_moved: tuple[PersonChange, ...]
    decision_changed: tuple[PersonChange, ...]
    new_referrals: tuple[str, ...]
    no_longer_referred: tuple[str, ...]
    notes: tuple[str, ...] = ()
    changes: dict[str, PersonChange] = {}

    def for_person(self, person_id: str) -> PersonChange | None:
        """The change record of one person (``None`` when nothing changed)."""
        return self.changes.get(person_id)

    def summary(self) -> dict[str, int]:
        """Counts of each kind of change."""
        return {
            "entered": len(self.entered),
            "left": len(self.left),
            "score_moved": len(self.score_moved),
            "decision_changed": len(self.decision_changed),
            "new_referrals": len(self.new_referrals),
            "no_longer_referred": len(self.no_longer_referred),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return self.model_dump(mode="json")


def _part_changes(before: Decision, after: Decision) -> tuple[PartChange, ...]:
    b = {p.name: p for p in before.breakdown}
    a = {p.name: p for p in after.breakdown}
    out = []
    for name in list(dict.fromkeys([*b, *a])):
        pb, pa = b.get(name), a.get(name)
        vb = pb.value if pb else 0.0
        va = pa.value if pa else 0.0
        if abs(va - vb) > SCORE_TOLERANCE:
            out.append(
                PartChange(
                    name=name,
                    label=(pa or pb).label,  # type: ignore[union-attr]
                    before=pb.value if pb else None,
                    after=pa.value if pa else None,
                    delta=va - vb,
                    reason_before=pb.reason if pb else None,
                    reason_after=pa.reason if pa else None,
                )
            )
    out.sort(key=lambda p: (-abs(p.delta), p.name))
    return tuple(out)


def _change(pid: str, before: Decision | None, after: Decision | None) -> PersonChange:
    sb = before.score if before else None
    sa = after.score if after else None
    delta = None if sb is None or sa is None else sa - sb
    parts = _part_changes(before, after) if before and after and delta is not None else ()
    return PersonChange(
        person_id=pid,
        decision_before=before.decision if before else None,
        decision_after=after.decision if after else None,
        score_before=sb,
        score_after=sa,
        score_delta=delta,
        parts=parts,
        unit=(after or before).unit,  # type: ignore[union-attr]
    )


def diff_runs(previous: CohortSelection, current: CohortSelection) -> RunDiff:
    """Compare two panel runs.

    Parameters
    ----------
    previous, current : CohortSelection
        E.g. last month's run (saved with :meth:`CohortSelection.to_json`) and this month's.

    Returns
    -------
    RunDiff
        Lists sorted by person_id. Score changes are explained by the breakdown parts that
        changed, largest change first.

    Examples
    --------
    >>> import iomscore
    >>> from iomscore.cohort import select_cohort
    >>> def ref(n):
    ...     return iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...         date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...         "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...         "disposal": "community_order"}] * n)
    >>> a = select_cohort([ref(1)], iomscore.score([ref(1)]))
    >>> b = select_cohort([ref(3)], iomscore.score([ref(3)]))
    >>> d = diff_runs(a, b)
    >>> [p.person_id for p in d.score_moved], d.score_moved[0].score_delta > 0
    (['P1'], True)
    """
    before: Mapping[str, Decision] = previous.by_person()
    after: Mapping[str, Decision] = current.by_person()
    ids = sorted(set(before) | set(after))
    changes = {pid: _change(pid, before.get(pid), after.get(pid)) for pid in ids}
    was = {p for p, d in before.items() if d.decision == SELECTED}
    now = {p for p, d in after.items() if d.decision == SELECTED}
    moved = [
        c for c in changes.values()
        if c.score_delta is not None and abs(c.score_delta) > SCORE_TOLERANCE
    ]
    dec = [
        c for c in changes.values()
        if c.decision_before is not None and c.decision_after is not None and c.decision_before != c.decision_after
    ]
    notes = []
    if previous.model and current.model and previous.model.sha256 != current.model.sha256:
        notes.append(
            _MODEL_CHANGED.format(
                before=f"{previous.model.name} {previous.model.version}",
                after=f"{current.model.name} {current.model.version}",
            )
        )
    if previous.policy_sha256 != current.policy_sha256:
        notes.append(
            _POLICY_CHANGED.format(
                before=f"{previous.policy_name} {previous.policy_version}",
                after=f"{current.policy_name} {current.policy_version}",
            )
        )
    interesting = {c.person_id: c for c in changes.values() if c.lines()}
    return RunDiff(
        entered=tuple(changes[p] for p in sorted(now - was)),
        left=tuple(changes[p] for p in sorted(was - now)),
        score_moved=tuple(moved),
        decision_changed=tuple(dec),
        new_referrals=tuple(sorted(set(after) - set(before))),
        no_longer_referred=tuple(sorted(set(before) - set(after))),
        notes=tuple(notes),
        changes=interesting,
    )
