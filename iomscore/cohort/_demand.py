"""Pathway demand: how many people need the services of each resettlement pathway.

What a partnership plans with is the demand a cohort puts on each pathway's services (housing,
drug and alcohol treatment, mental and physical health, ...). :func:`pathway_demand` counts,
for a selection (the people selected, by default) or for any referral list, the people with
*some* and with *significant* need on each of the seven pathways, with the people *not
assessed* on that pathway beside them, so a gap in assessment is never read as no need:

* overall, and for each named cohort of a several-cohort selection (or of the cohort labels
  given for a list), in the order of the policy;
* by group of a protected characteristic (``by=("sex", "ethnicity")``), counted by the fairness
  engine (:func:`iomscore.fairness.group_rates`, the engine behind selection and override
  rates), so groups are labelled and ordered as in every other iomscore figure and a group
  too small to compare is flagged: a service gap that falls on one group is a fairness finding.

For every row ``no_need + some_need + significant_need + not_assessed == people``.

Examples
--------
>>> import iomscore
>>> refs = [iomscore.Referral(person_id=p, assessment_date="2025-06-01", date_of_birth="1990-01-01",
...         sex=s, needs=n) for p, s, n in [
...     ("A", "male", {"accommodation": "significant_need", "drugs_alcohol": "some_need"}),
...     ("B", "female", {"accommodation": "some_need"}),
...     ("C", "male", {"accommodation": "no_need"})]]
>>> demand = pathway_demand(refs)
>>> row = demand.overall()[0]
>>> row.pathway, row.people, row.some_need, row.significant_need, row.not_assessed
('accommodation', 3, 1, 1, 0)
>>> demand.get("drugs_alcohol").not_assessed
2
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ..fairness._rates import DEFAULT_MIN_GROUP_SIZE, group_rates
from ..io._text import neutralise
from ..schema._referral import Referral
from ..schema._table import ReferralTable
from ..schema._vocabulary import NEED_CODES, PATHWAY_LABELS, PATHWAYS
from ._select import SELECTED, CohortSelection

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["NO_COHORT", "PathwayCount", "PathwayDemand", "pathway_demand"]

#: The cohort label of people a several-cohort selection placed in no cohort.
NO_COHORT: Final = "no cohort"
#: Columns of :meth:`PathwayDemand.to_frame` and of the CSV form.
COLUMNS: Final = ("cohort", "characteristic", "group", "pathway", "label", "people", "no_need", "some_need",
                  "significant_need", "not_assessed", "small")

_UNKNOWN_DECISION: Final = "unknown decision {value!r} in decisions; choose from {known}"
_COHORTS_LENGTH: Final = "cohorts has {got} labels but there are {expected} people; give one per person"
_NO_GROUPS: Final = (
    "by={by!r} needs the protected characteristics: give referrals= (the list the selection was made from)"
)
_NOT_REFERRED: Final = "{count} selected person(s) are not in referrals, e.g. {people}; give the list the selection was made from"
_UNKNOWN_PATHWAY: Final = "unknown pathway {name!r}; choose from {known}"
_NO_ROW: Final = "no row for cohort {cohort!r}, characteristic {characteristic!r}, group {group!r}"
_WHAT_SELECTION: Final = "{decisions} of {policy} {version}"
_WHAT_LIST: Final = "a referral list"


@dataclass(frozen=True)
class PathwayCount:
    """The need on one pathway of one set of people (everyone, one cohort, or one group).

    Attributes
    ----------
    pathway, label : str
        E.g. ``"drugs_alcohol"`` and ``"Drugs and alcohol"``.
    people : int
        People in the set.
    some_need, significant_need, not_assessed : int
        People with some need, with significant need, and not assessed on this pathway.
    cohort : str or None
        The cohort; ``None`` for everyone.
    characteristic, group : str or None
        For a row by group: e.g. ``"sex"`` and ``"female"``; ``None`` otherwise.
    small : bool
        A group with fewer people than the result's ``min_group_size``: do not compare it.
    """

    pathway: str
    label: str
    people: int
    some_need: int
    significant_need: int
    not_assessed: int
    cohort: str | None = None
    characteristic: str | None = None
    group: str | None = None
    small: bool = False

    @property
    def no_need(self) -> int:
        """People assessed with no need on this pathway."""
        return self.people - self.some_need - self.significant_need - self.not_assessed

    @property
    def with_need(self) -> int:
        """People with some or significant need: the demand on the pathway's services."""
        return self.some_need + self.significant_need

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (``no_need`` included)."""
        return {**asdict(self), "no_need": self.no_need}


@dataclass(frozen=True)
class PathwayDemand:
    """Pathway demand overall, per cohort and by group, from :func:`pathway_demand`.

    Attributes
    ----------
    people : int
        People counted.
    what : str
        Who they are (e.g. ``"selected of iom-national-model 1.0.0"``, ``"a referral list"``).
    cohorts : tuple of str
        The cohorts with rows of their own, in order (empty: one cohort).
    characteristics : tuple of str
        The characteristics with rows by group, in the order asked for.
    rows : tuple of PathwayCount
        Everyone (the seven pathways in order), then each cohort, then each characteristic's
        groups (alphabetical, ``"not recorded"`` last).
    min_group_size : int
        Groups with fewer people are flagged ``small``.
    """

    people: int
    what: str
    cohorts: tuple[str, ...]
    characteristics: tuple[str, ...]
    rows: tuple[PathwayCount, ...]
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE

    def overall(self) -> tuple[PathwayCount, ...]:
        """The seven rows of everyone counted."""
        return self._rows(None, None, None)

    def for_cohort(self, cohort: str) -> tuple[PathwayCount, ...]:
        """The seven rows of one cohort."""
        return self._rows(cohort, None, None)

    def for_group(self, characteristic: str, group: str) -> tuple[PathwayCount, ...]:
        """The seven rows of one group of a characteristic (e.g. ``"sex"``, ``"female"``)."""
        return self._rows(None, characteristic, group)

    def groups(self, characteristic: str) -> tuple[str, ...]:
        """The groups of a characteristic, in order."""
        return tuple(dict.fromkeys(r.group for r in self.rows if r.characteristic == characteristic and r.group))

    def get(self, pathway: str, *, cohort: str | None = None, characteristic: str | None = None,
            group: str | None = None) -> PathwayCount:
        """One row: a pathway of everyone, of a cohort, or of a group."""
        if pathway not in PATHWAYS:
            raise KeyError(_UNKNOWN_PATHWAY.format(name=pathway, known=", ".join(PATHWAYS)))
        for r in self._rows(cohort, characteristic, group):
            if r.pathway == pathway:
                return r
        raise KeyError(_NO_ROW.format(cohort=cohort, characteristic=characteristic, group=group))

    def _rows(self, cohort: str | None, characteristic: str | None, group: str | None) -> tuple[PathwayCount, ...]:
        out = tuple(r for r in self.rows
                    if r.cohort == cohort and r.characteristic == characteristic and r.group == group)
        if not out:
            raise KeyError(_NO_ROW.format(cohort=cohort, characteristic=characteristic, group=group))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "people": self.people,
            "what": self.what,
            "cohorts": list(self.cohorts),
            "characteristics": list(self.characteristics),
            "min_group_size": self.min_group_size,
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON, keys sorted (byte-identical for the same input)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def _records(self) -> list[dict[str, Any]]:
        return [{"cohort": r.cohort, "characteristic": r.characteristic, "group": r.group, "pathway": r.pathway,
                 "label": r.label, "people": r.people, "no_need": r.no_need, "some_need": r.some_need,
                 "significant_need": r.significant_need, "not_assessed": r.not_assessed, "small": r.small}
                for r in self.rows]

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per :class:`PathwayCount` (requires pandas).

        Columns: ``cohort`` (empty for everyone), ``characteristic``, ``group``, ``pathway``,
        ``label``, ``people``, ``no_need``, ``some_need``, ``significant_need``,
        ``not_assessed``, ``small``.

        Examples
        --------
        >>> import iomscore
        >>> r = iomscore.Referral(person_id="A", assessment_date="2025-06-01",
        ...     date_of_birth="1990-01-01", needs={"health": "significant_need"})
        >>> frame = pathway_demand([r]).to_frame()
        >>> frame.loc[frame.pathway == "health", ["people", "significant_need", "not_assessed"]].values.tolist()
        [[1, 1, 0]]
        """
        from .._pandas import require_pandas

        pd = require_pandas("PathwayDemand.to_frame()")
        return pd.DataFrame(self._records(), columns=list(COLUMNS))

    def to_csv(self) -> str:
        """The rows of :meth:`to_frame` as CSV text (text cells neutralised for spreadsheets)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for rec in self._records():
            w.writerow([neutralise(str(v)) if isinstance(v, str) else ("" if v is None else
                        ("true" if v is True else "false" if v is False else v)) for v in rec.values()])
        return buf.getvalue()

    def _blocks(self) -> list[tuple[str, tuple[PathwayCount, ...]]]:
        blocks = [(f"Everyone ({self.people} people)", self.overall())]
        for c in self.cohorts:
            rows = self.for_cohort(c)
            blocks.append((f"Cohort {c} ({rows[0].people} people)", rows))
        for ch in self.characteristics:
            for g in self.groups(ch):
                rows = self.for_group(ch, g)
                small = ", small: do not compare" if rows[0].small else ""
                blocks.append((f"{ch}: {g} ({rows[0].people} people{small})", rows))
        return blocks

    def to_text(self) -> str:
        """A plain-text table per block (everyone, each cohort, each group).

        Examples
        --------
        >>> import iomscore
        >>> r = iomscore.Referral(person_id="A", assessment_date="2025-06-01", date_of_birth="1990-01-01")
        >>> print(pathway_demand([r]).to_text().splitlines()[0])
        Pathway demand: 1 people (a referral list)
        """
        width = max(len(v) for v in PATHWAY_LABELS.values())
        lines = [f"Pathway demand: {self.people} people ({self.what})"]
        for title, rows in self._blocks():
            lines += ["", title, f"  {'pathway':<{width}}  {'some':>5}  {'significant':>11}  {'not assessed':>12}"]
            lines += [f"  {r.label:<{width}}  {r.some_need:>5}  {r.significant_need:>11}  {r.not_assessed:>12}"
                      for r in rows]
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """One Markdown table per block (everyone, each cohort, each group)."""
        lines = [f"# Pathway demand: {self.people} people ({_md(self.what)})"]
        for title, rows in self._blocks():
            lines += ["", f"## {_md(title)}", "", "| Pathway | Some need | Significant need | Not assessed |",
                      "|---|---:|---:|---:|"]
            lines += [f"| {r.label} | {r.some_need} | {r.significant_need} | {r.not_assessed} |" for r in rows]
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _codes_of_decisions(needs: Sequence[Mapping[str, str]]) -> np.ndarray:
    """Need codes (n, 7) of decisions' ``needs`` dicts; a pathway missing counts as not assessed.

    Decisions of one selection share a dict per pattern of needs, so each is read once.
    """
    seen: dict[int, np.ndarray] = {}
    out = np.full((len(needs), len(PATHWAYS)), NEED_CODES["not_assessed"], dtype=np.int8)
    for i, d in enumerate(needs):
        row = seen.get(id(d))
        if row is None:
            row = seen[id(d)] = np.array([NEED_CODES.get(d.get(p, "not_assessed"), -1) for p in PATHWAYS],
                                         dtype=np.int8)
        out[i] = row
    return out


def _counts(needs: np.ndarray, members: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per pathway: people, some, significant and not assessed among ``members`` (a mask)."""
    chosen = needs if members is None else needs[members]
    people = np.full(len(PATHWAYS), chosen.shape[0], dtype=np.int64)
    return {"people": people, "some": (chosen == 1).sum(axis=0), "significant": (chosen == 2).sum(axis=0),
            "not_assessed": (chosen == -1).sum(axis=0)}


def _rows(c: Mapping[str, np.ndarray], **where: Any) -> list[PathwayCount]:
    return [PathwayCount(pathway=p, label=PATHWAY_LABELS[p], people=int(c["people"][k]), some_need=int(c["some"][k]),
                         significant_need=int(c["significant"][k]), not_assessed=int(c["not_assessed"][k]), **where)
            for k, p in enumerate(PATHWAYS)]


def _as_table(referrals: ReferralTable | Sequence[Referral]) -> ReferralTable:
    return referrals if isinstance(referrals, ReferralTable) else ReferralTable.from_referrals(referrals)


def _groups_of(table: ReferralTable, ids: Sequence[str], by: Sequence[str]) -> dict[str, np.ndarray]:
    """The protected columns ``by`` of the people ``ids``, looked up in ``table`` by person_id."""
    row_of = {str(p): i for i, p in enumerate(table.batch.person_id.tolist())}
    missing = [p for p in ids if p not in row_of]
    if missing:
        raise ValueError(_NOT_REFERRED.format(count=len(missing), people=", ".join(missing[:3])))
    rows = np.array([row_of[p] for p in ids], dtype=np.int64)
    return {name: np.asarray(table.protected[name], dtype=object)[rows] for name in by if name in table.protected}


def pathway_demand(
    people: CohortSelection | ReferralTable | Sequence[Referral],
    *,
    decisions: Sequence[str] | None = (SELECTED,),
    cohorts: Sequence[str | None] | None = None,
    referrals: ReferralTable | Sequence[Referral] | None = None,
    by: Sequence[str] = (),
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> PathwayDemand:
    """Count the people with some and significant need on each pathway, not assessed beside.

    Parameters
    ----------
    people : CohortSelection, ReferralTable or sequence of Referral
        A selection (its decisions carry each person's needs and cohort) or any referral list.
    decisions : sequence of str or None
        For a selection: the recommendations counted (default: the people selected); ``None``
        counts everyone referred.
    cohorts : sequence of str or None, optional
        For a referral list: a cohort name per person (``None`` for no cohort). A selection
        names its own cohorts.
    referrals : ReferralTable or sequence of Referral, optional
        For a selection with ``by``: the list it was made from (where the protected
        characteristics are).
    by : sequence of str
        Protected characteristics (``"sex"``, ``"ethnicity"``, ...) to count by group, through
        :func:`iomscore.fairness.group_rates`.
    min_group_size : int
        Groups with fewer people are flagged ``small``.

    Returns
    -------
    PathwayDemand

    Raises
    ------
    ValueError, KeyError
        An unknown decision or characteristic, cohort labels of the wrong length, or ``by``
        for a selection without ``referrals``.

    Examples
    --------
    >>> import iomscore
    >>> refs = [iomscore.Referral(person_id=p, assessment_date="2025-06-01", date_of_birth="1990-01-01",
    ...         sex=s, needs={"drugs_alcohol": n}) for p, s, n in
    ...         [("A", "male", "significant_need"), ("B", "female", "significant_need"), ("C", "male", "no_need")]]
    >>> d = pathway_demand(refs, cohorts=["core", "core", "flex"], by=["sex"], min_group_size=1)
    >>> d.get("drugs_alcohol", cohort="core").significant_need, d.get("drugs_alcohol", cohort="flex").no_need
    (2, 1)
    >>> d.get("drugs_alcohol", characteristic="sex", group="male").significant_need
    1
    """
    by = tuple(by)
    if isinstance(people, CohortSelection):
        from ._select import DECISIONS

        wanted = None if decisions is None else tuple(decisions)
        for value in wanted or ():
            if value not in DECISIONS:
                raise ValueError(_UNKNOWN_DECISION.format(value=value, known=", ".join(DECISIONS)))
        chosen = [d for d in people.decisions if wanted is None or d.decision in wanted]
        needs = _codes_of_decisions([d.needs for d in chosen])
        named = people.cohort_names()
        labels: list[str | None] = [(d.cohort or NO_COHORT) if named else None for d in chosen]
        order = list(named) + ([NO_COHORT] if named and NO_COHORT in labels else [])
        ids = [d.person_id for d in chosen]
        what = _WHAT_SELECTION.format(decisions="everyone referred" if wanted is None else " or ".join(wanted),
                                      policy=people.policy_name, version=people.policy_version)
        if by and referrals is None:
            raise ValueError(_NO_GROUPS.format(by=list(by)))
        groups = _groups_of(_as_table(referrals), ids, by) if by and referrals is not None else {}
    else:
        table = _as_table(people)
        needs = np.asarray(table.batch.needs, dtype=np.int8)
        n = needs.shape[0]
        if cohorts is not None and len(cohorts) != n:
            raise ValueError(_COHORTS_LENGTH.format(got=len(cohorts), expected=n))
        given = cohorts is not None and any(c is not None for c in cohorts)
        labels = [(c if c is not None else NO_COHORT) for c in cohorts] if cohorts is not None and given else [None] * n
        order = sorted({c for c in labels if c is not None and c != NO_COHORT}) + (
            [NO_COHORT] if NO_COHORT in labels else [])
        what = _WHAT_LIST
        groups = {name: np.asarray(table.protected[name], dtype=object) for name in by if name in table.protected}

    rows = _rows(_counts(needs))
    label_array = np.array(labels, dtype=object)
    for c in order:
        rows += _rows(_counts(needs, label_array == c), cohort=c)
    if by:
        rows += _group_rows(needs, groups, by, min_group_size)
    return PathwayDemand(people=int(needs.shape[0]), what=what, cohorts=tuple(order), characteristics=by,
                         rows=tuple(rows), min_group_size=min_group_size)


def _group_rows(needs: np.ndarray, groups: Mapping[str, np.ndarray], by: Sequence[str],
                min_group_size: int) -> list[PathwayCount]:
    """The rows by group, from one :func:`group_rates` over every characteristic (each label
    normalised once): everyone counted, and each pathway's some need, significant need and not
    assessed as its extra counts, so the groups are those of every iomscore rate."""
    extra: dict[str, np.ndarray] = {}
    for k, p in enumerate(PATHWAYS):
        extra[f"some:{p}"] = needs[:, k] == 1
        extra[f"significant:{p}"] = needs[:, k] == 2
        extra[f"not_assessed:{p}"] = needs[:, k] == -1
    rates = group_rates(np.ones(needs.shape[0], dtype=bool), groups, characteristics=by,
                        min_group_size=min_group_size, extra=extra)
    out: list[PathwayCount] = []
    for g in rates.rows:
        counts = dict(g.extra)
        out += [PathwayCount(pathway=p, label=PATHWAY_LABELS[p], people=g.n, some_need=counts[f"some:{p}"],
                             significant_need=counts[f"significant:{p}"], not_assessed=counts[f"not_assessed:{p}"],
                             characteristic=g.characteristic, group=g.group, small=g.small)
                for p in PATHWAYS]
    return out
