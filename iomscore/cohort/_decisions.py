"""Panel decisions: an append-only log, override detection, and override rates by group.

A panel decides, for each person, ``include``, ``exclude`` or ``defer``. Each decision is one
line of a JSON Lines file, written by :meth:`DecisionLog.record` in append mode and never
rewritten. Each line records who decided (``panel``, ``decided_by``), when (``decided_at``),
why (``reason``, mandatory), and a snapshot of the recommendation it was made against: the
score, band, model sha256, policy sha256 and selection sha256. A decision never edits a score:
the :class:`~iomscore.cohort.CohortSelection` is frozen, and the log only copies from it.

Each line also carries ``prev_sha256``, the sha256 of the line before it (64 zeros for the
first), so :meth:`DecisionLog.entries` detects a line edited, removed or reordered after it
was written. The chain cannot see what happens at its end (the last line edited, the last
lines removed, the file emptied, a line appended or the whole log rewritten with a recomputed
chain), so the log is *anchored* outside itself: :meth:`DecisionLog.anchor` gives the record
count and the last record's sha256 (:class:`iomscore._chain.Anchor`, printed ``N:SHA256``),
which a saved selection records (``decision_log``) and the command line prints after every
decision; :meth:`DecisionLog.verify` checks the log against one. :meth:`DecisionLog.record`
refuses to append to a log that does not verify, or that no longer holds the anchor recorded
in the selection the decision is made on.

An *override* is a panel decision that differs from the action the recommendation
corresponds to (:data:`~iomscore.cohort.RECOMMENDED_ACTION`): for example including someone
ranked over capacity, or keeping someone flagged for de-selection review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._chain import GENESIS as _GENESIS
from .._chain import Anchor, AnchorError
from .._chain import anchor as _anchor
from .._chain import append as _append
from .._chain import check_anchor as _check_anchor
from .._chain import dumps as _dumps
from .._chain import walk as _walk
from .._errors import IomscoreError
from ..fairness._common import check_min_group_size
from ..fairness._rates import DEFAULT_MIN_GROUP_SIZE, format_rate, group_rates
from ..schema._table import ReferralTable
from ..schema._vocabulary import NOT_RECORDED
from ._select import SELECTED, CohortSelection

__all__ = [
    "NOT_RECORDED",
    "DecisionLog",
    "DecisionLogError",
    "GroupOverrides",
    "LogEntry",
    "OverrideReport",
    "override_rates",
]

LOG_FORMAT: Final = "iomscore.decision-log/1"
GENESIS: Final = _GENESIS
SMALL_NUMBERS_CAVEAT: Final = (
    "Rates in groups of fewer than {min_group_size} people are shown but flagged: with so few "
    "decisions one person changes the rate a lot, so they cannot support a comparison. Panel "
    "lists are small; read differences as questions for the panel, not findings."
)

_EMPTY_REASON: Final = "a panel decision needs a reason: say why, in plain English"
_NAIVE_TIME: Final = "decided_at {value!r} has no time zone; give an ISO 8601 time with an offset, e.g. 2025-06-01T10:00:00+01:00"
_BAD_TIME: Final = "decided_at {value!r} is not an ISO 8601 time; give e.g. 2025-06-01T10:00:00+01:00"
_FIELD_ERROR: Final = "{field}: {message}"
_NOT_IN_SELECTION: Final = "person_id {person!r} is not in this selection; decisions are recorded against a recommendation"
_BAD_LINE: Final = "decision log {path}, line {line}: {error}"
_ANCHOR_LOST: Final = "decision log {path} does not verify against the anchor {anchor}: {problem}"
_SELECTION_ANCHOR: Final = (
    "decision log {path} does not hold the anchor {anchor} recorded in the selection decided on: {problem}; "
    "nothing was recorded"
)
_BROKEN_CHAIN: Final = (
    "decision log {path}, line {line}: prev_sha256 does not match the line before it; the log "
    "was edited, reordered or truncated after it was written"
)


class DecisionLogError(IomscoreError, ValueError):
    """A decision log line is invalid, or the log was changed after it was written."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LogEntry(_Frozen):
    """One panel decision, with the recommendation and score it was made against.

    Examples
    --------
    >>> e = LogEntry(person_id="P1", decision="include", recommendation="eligible - over capacity",
    ...     recommended_action="exclude", panel="North IOM panel", decided_by="Chair",
    ...     decided_at="2025-06-01T10:00:00+00:00", reason="Places freed by a transfer",
    ...     score=12.0, band="high", model_sha256="a" * 64, policy_sha256="b" * 64,
    ...     selection_sha256="c" * 64, prev_sha256="0" * 64)
    >>> e.is_override
    True
    """

    format: Literal["iomscore.decision-log/1"] = LOG_FORMAT
    person_id: str = Field(min_length=1)
    decision: Literal["include", "exclude", "defer"]
    recommendation: str
    recommended_action: Literal["include", "exclude", "defer"]
    panel: str = Field(min_length=1)
    decided_by: str = Field(min_length=1)
    decided_at: dt.datetime
    reason: str
    score: float | None
    band: str | None
    model_name: str | None = None
    model_version: str | None = None
    model_sha256: str | None
    policy_sha256: str
    selection_sha256: str
    prev_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    cohort: str | None = Field(default=None, description="Several-cohort policies: the cohort the recommendation named")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value or not value.strip():
            raise ValueError(_EMPTY_REASON)
        return value.strip()

    @field_validator("panel", "decided_by")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("decided_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(_NAIVE_TIME.format(value=value.isoformat()))
        return value

    @property
    def is_override(self) -> bool:
        """True when the panel's decision differs from the recommended action."""
        return self.decision != self.recommended_action

    @property
    def direction(self) -> str:
        """E.g. ``"include (recommended exclude)"``, or ``"as recommended"``."""
        if not self.is_override:
            return "as recommended"
        return f"{self.decision} (recommended {self.recommended_action})"


def _line(entry: LogEntry) -> dict[str, Any]:
    """The JSON of one log line; ``cohort`` only when the recommendation named one, so the
    lines of a one-cohort policy are what they were."""
    data = entry.model_dump(mode="json")
    if data["cohort"] is None:
        del data["cohort"]
    return data


def _one_line(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one line: ``field: message``."""
    first = exc.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    field = ".".join(str(part) for part in first["loc"])
    more = len(exc.errors()) - 1
    text = _FIELD_ERROR.format(field=field, message=message) if field else message
    return text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def _parse_time(value: dt.datetime | str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise DecisionLogError(_BAD_TIME.format(value=value)) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise DecisionLogError(_NAIVE_TIME.format(value=value.isoformat()))
    return value


class DecisionLog:
    """An append-only JSON Lines log of panel decisions.

    Parameters
    ----------
    path : str or Path
        The log file; created on the first :meth:`record`.

    Examples
    --------
    >>> import iomscore, tempfile, pathlib
    >>> from iomscore.cohort import select_cohort
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}])
    >>> sel = select_cohort([r], iomscore.score([r]))
    >>> log = DecisionLog(pathlib.Path(tempfile.mkdtemp()) / "decisions.jsonl")
    >>> e = log.record(sel, "P1", "defer", panel="North", decided_by="Chair",
    ...     reason="Awaiting housing assessment", decided_at="2025-06-02T10:00:00+01:00")
    >>> e.is_override, len(log.entries())
    (True, 1)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def record(
        self,
        selection: CohortSelection,
        person_id: str,
        decision: Literal["include", "exclude", "defer"],
        *,
        panel: str,
        decided_by: str,
        reason: str,
        decided_at: dt.datetime | str | None = None,
    ) -> LogEntry:
        """Append one decision and return it.

        Parameters
        ----------
        selection : CohortSelection
            The run the decision was made on; the score snapshot is copied from it.
        person_id : str
            Whom the decision is about (must be in ``selection``).
        decision : {"include", "exclude", "defer"}
        panel, decided_by : str
            Which panel, and who recorded the decision (a role or pseudonymous staff id).
        reason : str
            Mandatory, non-blank.
        decided_at : datetime or ISO 8601 str, optional
            When the decision was made, with a time zone. When omitted, the current time in
            UTC is used: pass the meeting time for a faithful record.

        Raises
        ------
        DecisionLogError
            On a blank reason, a time that is not ISO 8601 or has no zone, or a person not in
            the selection (one line naming the field); when the log does not verify, or does
            not hold the anchor the selection recorded (``decision_log``); nothing is written.
        """
        try:
            d = selection.get(person_id)
        except KeyError:
            raise DecisionLogError(_NOT_IN_SELECTION.format(person=person_id)) from None
        model = selection.model
        try:
            entry = LogEntry(
                person_id=person_id,
                decision=decision,
                recommendation=d.decision,
                recommended_action=d.recommended_action,
                panel=panel,
                decided_by=decided_by,
                decided_at=_parse_time(decided_at),
                reason=reason,
                score=d.score,
                band=d.band,
                model_name=None if model is None else model.name,
                model_version=None if model is None else model.version,
                model_sha256=None if model is None else model.sha256,
                policy_sha256=selection.policy_sha256,
                selection_sha256=selection.sha256,
                prev_sha256=GENESIS,
                cohort=d.cohort,
            )
        except ValidationError as exc:
            raise DecisionLogError(_one_line(exc)) from None
        held = getattr(selection, "decision_log", None)

        def make(prev: str) -> LogEntry:
            # Under the log's lock: never append to a log that does not verify, nor to one that
            # lost the anchor the selection recorded when it was saved.
            self.entries()
            if held is not None:
                try:
                    _check_anchor(self.path, held)
                except AnchorError as exc:
                    raise DecisionLogError(_SELECTION_ANCHOR.format(path=self.path, anchor=held, problem=exc)) from None
            return entry.model_copy(update={"prev_sha256": prev})

        return _append(self.path, make, lambda e: _dumps(_line(e)))

    def anchor(self) -> Anchor:
        """The log's anchor now (its records and the last one's sha256), after verifying it.

        Keep it outside the log (a saved selection records it; ``iomscore decide`` prints it)
        and give it to :meth:`verify` later.
        """
        self.entries()
        return _anchor(self.path)

    def verify(self, anchor: Anchor | str | None = None) -> tuple[tuple[LogEntry, ...], Anchor, int]:
        """``(entries, anchor now, records after the given anchor)``, or :class:`DecisionLogError`.

        The chain is verified line by line; with ``anchor`` (an :class:`~iomscore._chain.Anchor`
        or its text ``N:SHA256``) the log must still hold that record at that position, which
        catches the last line edited, lines removed from the end, an emptied log and a rewrite
        with a recomputed chain. Records after the anchor are counted, not judged: compare
        them with the panel's own record.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> log = DecisionLog(pathlib.Path(tempfile.mkdtemp()) / "decisions.jsonl")
        >>> entries, now, after = log.verify("0:" + "0" * 64)
        >>> len(entries), str(now) == "0:" + "0" * 64, after
        (0, True, 0)
        """
        entries = self.entries()
        now = _anchor(self.path)
        if anchor is None:
            return entries, now, 0
        try:
            held = Anchor.parse(anchor) if isinstance(anchor, str) else anchor
            after = _check_anchor(self.path, held)
        except AnchorError as exc:
            raise DecisionLogError(_ANCHOR_LOST.format(path=self.path, anchor=anchor, problem=exc)) from None
        return entries, now, after

    def entries(self) -> tuple[LogEntry, ...]:
        """Every entry, in file order, validated (each line and the hash chain).

        Raises
        ------
        DecisionLogError
            Naming the line that is invalid or breaks the chain.
        """
        if not self.path.exists():
            return ()
        out: list[LogEntry] = []
        for number, raw, prev in _walk(self.path):
            try:
                entry = LogEntry.model_validate_json(raw)
            except ValidationError as exc:
                error = _one_line(exc)
                raise DecisionLogError(_BAD_LINE.format(path=self.path, line=number, error=error)) from None
            if entry.prev_sha256 != prev:
                raise DecisionLogError(_BROKEN_CHAIN.format(path=self.path, line=number))
            out.append(entry)
        return tuple(out)

    def latest(self, selection: CohortSelection | str | None = None) -> dict[str, LogEntry]:
        """The last decision per person (file order), optionally for one selection only."""
        sha = selection.sha256 if isinstance(selection, CohortSelection) else selection
        out: dict[str, LogEntry] = {}
        for e in self.entries():
            if sha is None or e.selection_sha256 == sha:
                out[e.person_id] = e
        return out


# --- override rates -----------------------------------------------------------------------------


class GroupOverrides(_Frozen):
    """Overrides within one group of one characteristic."""

    characteristic: str
    group: str
    decisions: int
    overrides: int
    rate: float | None = Field(description="overrides / decisions; None when there are no decisions")
    overrides_in: int = Field(description="Included although the recommendation was not include")
    overrides_out: int = Field(description="Excluded or deferred although the recommendation was include")
    small: bool = Field(description="Fewer decisions than min_group_size: do not compare")

    def formatted(self) -> str:
        """Overrides of decisions, e.g. ``"3 of 41 (7.3%)"``."""
        return format_rate(self.overrides, self.decisions)


class OverrideReport(_Frozen):
    """Override rates overall and by group.

    For every characteristic the group ``decisions`` add up to the overall ``decisions`` and
    the group ``overrides`` to the overall ``overrides``.
    """

    decisions: int
    overrides: int
    rate: float | None
    by_direction: dict[str, int]
    by_group: tuple[GroupOverrides, ...]
    min_group_size: int
    caveat: str

    def groups(self, characteristic: str) -> tuple[GroupOverrides, ...]:
        """The rows of one characteristic."""
        return tuple(g for g in self.by_group if g.characteristic == characteristic)

    def formatted(self) -> str:
        """Overrides of decisions overall, e.g. ``"3 of 41 (7.3%)"``."""
        return format_rate(self.overrides, self.decisions)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return self.model_dump(mode="json")

    def to_frame(self) -> Any:
        """A pandas DataFrame of :attr:`by_group` (requires pandas)."""
        import pandas as pd

        return pd.DataFrame([g.model_dump() for g in self.by_group])


GroupsArg = ReferralTable | Mapping[str, Mapping[str, Any]]


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``values`` of ``wanted`` keys (the last one for a repeated key), ``None`` where absent."""
    out = np.full(wanted.size, None, dtype=object)
    if keys.size == 0 or wanted.size == 0:
        return out
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    pos = np.searchsorted(ordered, wanted, side="right") - 1
    found = pos >= 0
    pos = np.where(found, pos, 0)
    found &= ordered[pos] == wanted
    out[found] = values[order[pos[found]]]
    return out


def _objects(items: Iterable[Any]) -> np.ndarray:
    values = list(items)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _group_columns(groups: GroupsArg | None, person_ids: Sequence[str]) -> dict[str, np.ndarray] | None:
    """Each characteristic's label for each of ``person_ids`` (``None`` where not given).

    A :class:`ReferralTable` gives its ``protected`` columns (sex among them); a mapping gives
    ``{characteristic: {person_id: label}}``. The labels are read by the fairness engine.
    """
    if groups is None:
        return None
    wanted = np.asarray(list(person_ids), dtype=str)
    if isinstance(groups, ReferralTable):
        ids = np.asarray(groups.batch.person_id).astype(str)
        return {name: _lookup(ids, np.asarray(col, dtype=object), wanted) for name, col in groups.protected.items()}
    return {
        name: _lookup(np.asarray([str(k) for k in m], dtype=str), _objects(m.values()), wanted)
        for name, m in groups.items()
    }


def override_rates(
    entries: DecisionLog | Iterable[LogEntry],
    groups: GroupsArg | None = None,
    *,
    characteristics: Sequence[str] | None = None,
    selection: CohortSelection | str | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> OverrideReport:
    """How often the panel departed from the recommendation, overall and by group.

    Only the latest decision per person counts (per selection when entries span several
    runs). Groups are counted by :func:`iomscore.fairness.group_rates`, the engine behind
    :func:`selection_rates` too.

    Parameters
    ----------
    entries : DecisionLog or iterable of LogEntry
    groups : ReferralTable or mapping, optional
        Protected characteristics: a :class:`~iomscore.ReferralTable` (its protected
        columns, read only here), or ``{characteristic: {person_id: label}}``. Missing labels
        (``None``, ``NaN``, ``pandas.NA``, blank) and people absent from ``groups`` form the
        group ``"not recorded"``, never dropped.
    characteristics : sequence of str, optional
        Which characteristics to report (default: all in ``groups``).
    selection : CohortSelection or str, optional
        Count only decisions made on this selection (or selection sha256).
    min_group_size : int
        Groups with fewer decisions are flagged ``small``.

    Returns
    -------
    OverrideReport

    Examples
    --------
    >>> report = override_rates([], {"ethnicity": {}})
    >>> report.decisions, report.rate, report.formatted()
    (0, None, '0 of 0 (no rate)')
    """
    min_group_size = check_min_group_size(min_group_size)
    if isinstance(entries, DecisionLog):
        items: Iterable[LogEntry] = entries.entries()
    else:
        items = entries
    sha = selection.sha256 if isinstance(selection, CohortSelection) else selection
    latest: dict[tuple[str, str], LogEntry] = {}
    for e in items:
        if sha is None or e.selection_sha256 == sha:
            latest[(e.selection_sha256, e.person_id)] = e
    chosen = list(latest.values())
    over = np.array([e.is_override for e in chosen], dtype=bool)
    included = np.array([e.decision == "include" for e in chosen], dtype=bool)
    recommended_in = np.array([e.recommended_action == "include" for e in chosen], dtype=bool)
    rates = group_rates(
        over,
        _group_columns(groups, [e.person_id for e in chosen]),
        characteristics=characteristics,
        extra={"overrides_in": over & included, "overrides_out": over & recommended_in},
        min_group_size=min_group_size,
    )
    directions: dict[str, int] = {}
    for e in chosen:
        if e.is_override:
            directions[e.direction] = directions.get(e.direction, 0) + 1
    rows = tuple(
        GroupOverrides(
            characteristic=g.characteristic,
            group=g.group,
            decisions=g.n,
            overrides=g.count,
            rate=g.rate,
            overrides_in=g.count_of("overrides_in"),
            overrides_out=g.count_of("overrides_out"),
            small=g.small,
        )
        for g in rates.rows
    )
    return OverrideReport(
        decisions=rates.n,
        overrides=rates.count,
        rate=rates.rate,
        by_direction=dict(sorted(directions.items())),
        by_group=rows,
        min_group_size=min_group_size,
        caveat=SMALL_NUMBERS_CAVEAT.format(min_group_size=min_group_size),
    )


# --- selection rates (the panel's fairness summary) ------------------------------------------


class GroupSelection(_Frozen):
    """Referred, eligible and selected people within one group of one characteristic."""

    characteristic: str
    group: str
    referred: int
    eligible: int
    selected: int
    rate: float | None = Field(description="selected / referred")
    small: bool = Field(description="Fewer people referred than min_group_size: do not compare")

    def formatted(self) -> str:
        """Selected of people referred, e.g. ``"3 of 41 (7.3%)"``."""
        return format_rate(self.selected, self.referred)


class SelectionRates(_Frozen):
    """Selection rates (selected / referred) overall and by group.

    No outcomes are needed: this describes who the recommendation picks, not whether it is
    accurate for them (for that, see :func:`iomscore.fairness.audit`).
    """

    referred: int
    eligible: int
    selected: int
    rate: float | None
    by_group: tuple[GroupSelection, ...]
    min_group_size: int
    caveat: str

    def groups(self, characteristic: str) -> tuple[GroupSelection, ...]:
        """The rows of one characteristic."""
        return tuple(g for g in self.by_group if g.characteristic == characteristic)

    def formatted(self) -> str:
        """Selected of people referred overall, e.g. ``"3 of 41 (7.3%)"``."""
        return format_rate(self.selected, self.referred)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return self.model_dump(mode="json")

    def to_frame(self) -> Any:
        """A pandas DataFrame of :attr:`by_group` (requires pandas)."""
        import pandas as pd

        return pd.DataFrame([g.model_dump() for g in self.by_group])


def selection_rates(
    selection: CohortSelection,
    groups: GroupsArg | None = None,
    *,
    characteristics: Sequence[str] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> SelectionRates:
    """Selection rates of a recommendation, overall and by group.

    Groups are counted by :func:`iomscore.fairness.group_rates`, so they are the groups
    :func:`iomscore.fairness.audit` and :func:`override_rates` report for the same people.

    Parameters
    ----------
    selection : CohortSelection
    groups : ReferralTable or mapping, optional
        As for :func:`override_rates`; missing labels form the group ``"not recorded"``.
    characteristics : sequence of str, optional
        Which characteristics to report (default: all in ``groups``).
    min_group_size : int
        Groups with fewer people referred are flagged ``small``.

    Examples
    --------
    >>> from iomscore.cohort import CohortSelection
    >>> empty = CohortSelection(policy_name="p", policy_version="1", policy_sha256="0" * 64,
    ...     model=None, capacity=2, tie_break="", decisions=())
    >>> selection_rates(empty).rate is None
    True
    """
    min_group_size = check_min_group_size(min_group_size)
    decisions = selection.decisions
    rates = group_rates(
        np.array([d.decision == SELECTED for d in decisions], dtype=bool),
        _group_columns(groups, [d.person_id for d in decisions]),
        characteristics=characteristics,
        extra={"eligible": np.array([d.eligible for d in decisions], dtype=bool)},
        min_group_size=min_group_size,
    )
    rows = tuple(
        GroupSelection(
            characteristic=g.characteristic,
            group=g.group,
            referred=g.n,
            eligible=g.count_of("eligible"),
            selected=g.count,
            rate=g.rate,
            small=g.small,
        )
        for g in rates.rows
    )
    return SelectionRates(
        referred=rates.n,
        eligible=rates.count_of("eligible"),
        selected=rates.count,
        rate=rates.rate,
        by_group=rows,
        min_group_size=min_group_size,
        caveat=SMALL_NUMBERS_CAVEAT.format(min_group_size=min_group_size),
    )


__all__ += ["GroupSelection", "SelectionRates", "selection_rates"]
