"""Declarative, versioned selection policies: who is eligible, who is routed, how many places.

A selection policy is a JSON document validated by :class:`SelectionPolicy`. It follows the
conventions of the points specs (:mod:`iomscore._spec`): frozen pydantic models that forbid
unknown fields, a ``version``, and a ``sha256`` of the canonical JSON of the content (the
``sha256`` field itself left out), so any edit gives a new hash and a hand-edited file that
still carries the old hash does not load.

A policy has five parts (a several-cohort policy puts the four that are not routing in each of
its ``cohorts``, see below):

``eligibility``
    ``core`` rules that must all pass (the cohort definition, e.g. a neighbourhood-crime
    offence in the last 24 months at risk), and ``flex`` rules a panel configures locally:
    a person who fails the core rules but passes any *enabled* flex rule is eligible too.
``routing``
    Serious-harm rules. A person who matches any of them is marked
    ``"refer to MAPPA / review"`` and is never selected on a reoffending score alone. The
    policy must route at least high and very high risk of serious harm and MAPPA levels 2
    and 3; a policy that routes less does not load.
``capacity``
    ``places``: at most this many people are selected. ``retain_current_members``: whether
    people already in the cohort (and not flagged for de-selection) rank ahead of new
    referrals.
``deselection``
    Rules for people already in the cohort; matching any of them marks the person
    ``"de-selection review"`` so the panel looks at their place.
``tie_break``
    The ranking order among eligible people: a list of keys, each ascending or descending.
    It must end with ``person_id`` so the order is total and does not depend on input order.

``cohorts`` (several-cohort policies)
    A list of named :class:`Cohort` s, each with its own ``eligibility``, ``capacity``,
    ``deselection``, ``tie_break`` and ranking ``scorer``. The list order is the order in
    which a person is considered for them: someone placed in an earlier cohort is not counted
    again in a later one, and someone over capacity in one is considered for the next.
    Routing stays policy-wide. A policy has either ``cohorts`` or the top-level
    ``eligibility``, ``capacity`` and ``tie_break`` (today's one-cohort form, which
    :meth:`SelectionPolicy.cohort_list` models as one cohort named after the policy).
``show_scores`` (optional)
    Scorer names whose scores every card shows side by side, each with its band, and a line
    saying which one ranks (for example ``["ogrs3", "ogrs4g"]``: the OGRS3 an IOM spreadsheet
    quotes beside the OGRS4/G probation colleagues see in OASys). They are shown, never used to
    select; a policy without them keeps its sha256.

Each rule has one or more conditions ``feature op value`` (features from
:data:`iomscore.FEATURES`) combined with ``all`` or ``any``, and plain-English text for when
it is met and when it is not. Condition text may use ``{value}`` (the person's value) and
``{threshold}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .._errors import IomscoreError
from ..features._engine import FEATURES
from ..schema._vocabulary import MAPPA_CATEGORIES, MAPPA_LEVELS, NOT_RECORDED, ROSH_LEVELS
from ..scoring._spec import HashedDocument, check_template, names_a_file, read_hashed

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_FORMAT",
    "Cohort",
    "Condition",
    "PolicyError",
    "RoutingRule",
    "Rule",
    "SelectionPolicy",
    "TieBreakKey",
    "load_policy",
]

POLICY_FORMAT: Final = "iomscore.cohort-policy/1"
#: Name of the policy shipped in ``models/policies/``.
DEFAULT_POLICY: Final = "neighbourhood-crime-cohort"

_UNKNOWN_FEATURE: Final = "condition reads feature {feature!r}, which the feature engine does not define; see iomscore.FEATURES"
_SENSITIVE_FEATURE: Final = "condition reads feature {feature!r}; selection rules may not read sensitive features"
_TIE_BREAK_END: Final = "tie_break must end with person_id so that the ranking is total and does not depend on input order"
_TIE_BREAK_DUPLICATE: Final = "tie_break lists {key!r} twice"
_TIE_BREAK_FIELD: Final = "a tie-break key names exactly one of 'key' (score or person_id) or 'feature'"
_ROUTING_TOO_NARROW: Final = (
    "routing must send at least {missing} to 'refer to MAPPA / review': serious-harm cases are "
    "never selected on a reoffending score alone"
)
_DUPLICATE_RULE: Final = "rule names must be unique within a policy; {name!r} appears twice"
_NOT_FOUND: Final = "no policy file {path!r} and no shipped policy named {name!r}"
_NOT_SHIPPED: Final = (
    "no shipped policy named {name!r} (shipped: {known}); a name never reads a file from the working "
    "directory: to use a policy file, give its path, e.g. ./{name}.json"
)
_FORM: Final = (
    "a policy has either 'cohorts' (several named cohorts) or the top-level 'eligibility', 'capacity' "
    "and 'tie_break' of one cohort, not both; {problem}"
)
_DUPLICATE_COHORT: Final = "cohort names must be unique within a policy; {name!r} appears twice"
_DUPLICATE_COHORT_RULE: Final = "rule names must be unique within cohort {cohort!r}; {name!r} appears twice"
#: Fields left out of the hashed content when they have their default, so a policy written before
#: they existed keeps its sha256.
_OMIT_WHEN_DEFAULT: Final = ("cohorts", "show_scores")
_SHOW_SCORES_DUPLICATE: Final = "show_scores lists {name!r} twice"
_CAPACITY_FORM: Final = (
    "policy {name!r} has several cohorts: give the places as {{cohort name: places}}, not one number"
)
_UNKNOWN_COHORT: Final = "policy {name!r} has no cohort(s) {names}"
_CAPACITY_OMIT_WHEN_NONE: Final = ("stay_months",)

#: Routing must cover at least these (field, value) pairs.
REQUIRED_ROUTING: Final = (
    ("rosh_level", "high"),
    ("rosh_level", "very_high"),
    ("mappa_level", 2),
    ("mappa_level", 3),
)


class PolicyError(IomscoreError, ValueError):
    """A selection policy is invalid, or its recorded hash does not match its content."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Operator = Literal[">=", ">", "<=", "<", "==", "!="]


class Condition(_Frozen):
    """One test on one feature: ``feature op value``.

    ``met`` and ``not_met`` are plain English and may use ``{value}`` (the person's value,
    formatted without trailing ``.0``) and ``{threshold}``. A missing value (``NaN``) fails
    the condition unless ``missing`` is ``"pass"``.

    Examples
    --------
    >>> c = Condition(feature="offences_12m_at_risk", op=">=", value=1,
    ...               met="{value} offences in the last 12 months at risk",
    ...               not_met="No offences in the last 12 months at risk")
    >>> c.evaluate(np.array([0.0, 3.0])).tolist()
    [False, True]
    """

    feature: str
    op: Operator
    value: float
    met: Annotated[str, AfterValidator(lambda t: check_template(t, "condition"))]
    not_met: Annotated[str, AfterValidator(lambda t: check_template(t, "condition"))]
    missing: Literal["fail", "pass"] = "fail"

    @field_validator("feature")
    @classmethod
    def _known(cls, feature: str) -> str:
        if feature not in FEATURES:
            raise ValueError(_UNKNOWN_FEATURE.format(feature=feature))
        if FEATURES[feature].sensitive:
            raise ValueError(_SENSITIVE_FEATURE.format(feature=feature))
        return feature

    def evaluate(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: whether each value meets the condition."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            out = {
                ">=": v >= self.value,
                ">": v > self.value,
                "<=": v <= self.value,
                "<": v < self.value,
                "==": v == self.value,
                "!=": v != self.value,
            }[self.op]
        nan = np.isnan(v)
        out = np.where(nan, self.missing == "pass", out)
        return np.asarray(out, dtype=bool)

    def text(self, value: float, met: bool) -> str:
        """The plain-English line for one person."""
        template = self.met if met else self.not_met
        return template.format(value=_fmt(value), threshold=_fmt(self.value))


class Rule(_Frozen):
    """Named conditions combined with ``all`` (every condition) or ``any`` (at least one)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    combine: Literal["all", "any"] = "all"
    conditions: tuple[Condition, ...] = Field(min_length=1)
    enabled: bool = True
    rationale: str = ""

    def evaluate(self, frame: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(passed, per_condition)``: a boolean per person and a (conditions, n) matrix."""
        per = np.stack([c.evaluate(frame[c.feature]) for c in self.conditions])
        passed = per.all(axis=0) if self.combine == "all" else per.any(axis=0)
        return np.asarray(passed, dtype=bool), per


class Eligibility(_Frozen):
    """Core rules (all must pass) and local flex rules (any enabled one suffices)."""

    core: tuple[Rule, ...] = Field(min_length=1)
    flex: tuple[Rule, ...] = ()


class RoutingRule(_Frozen):
    """A serious-harm routing rule: the person's ``field`` is one of ``values``."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    field: Literal["rosh_level", "mappa_level", "mappa_category"]
    values: tuple[str | int, ...] = Field(min_length=1)
    reason: Annotated[str, AfterValidator(lambda t: check_template(t, "routing")),
                      Field(description="Plain English; may use {value}")]
    rationale: str = ""

    @model_validator(mode="after")
    def _check_values(self) -> RoutingRule:
        allowed: tuple[Any, ...] = (
            {"rosh_level": ROSH_LEVELS, "mappa_level": MAPPA_LEVELS}.get(self.field, MAPPA_CATEGORIES)
        )
        bad = [v for v in self.values if v not in allowed]
        if bad:
            raise ValueError(f"routing rule {self.name!r}: {self.field} has no values {bad}; allowed {list(allowed)}")
        return self


class Capacity(_Frozen):
    """How many places there are and whether current members keep theirs first.

    ``stay_months`` (optional) is the usual length of a stay, in calendar months: an occupant
    of a place-allocation cohort (an IOM house) with no expected end date is expected to leave
    that long after their start date (:func:`iomscore.cohort.forecast_places`).
    """

    places: int = Field(ge=0, description="At most this many people are selected")
    retain_current_members: bool = True
    description: str = ""
    stay_months: int | None = Field(default=None, ge=1, le=120, description="Usual stay, in calendar months")


class TieBreakKey(_Frozen):
    """One ranking key: ``key`` (``score`` or ``person_id``) or a ``feature``, with an order.

    Missing feature values (``NaN``) always rank last, whichever the order.
    """

    key: Literal["score", "person_id"] | None = None
    feature: str | None = None
    order: Literal["ascending", "descending"]
    description: str = ""

    @model_validator(mode="after")
    def _one(self) -> TieBreakKey:
        if (self.key is None) == (self.feature is None):
            raise ValueError(_TIE_BREAK_FIELD)
        if self.feature is not None:
            if self.feature not in FEATURES:
                raise ValueError(_UNKNOWN_FEATURE.format(feature=self.feature))
            if FEATURES[self.feature].sensitive:
                raise ValueError(_SENSITIVE_FEATURE.format(feature=self.feature))
        return self

    @property
    def name(self) -> str:
        return self.key if self.key is not None else str(self.feature)


def _tie_break_text(keys: tuple[TieBreakKey, ...]) -> str:
    return "; then ".join(k.description or f"{k.name} {k.order}" for k in keys)


def _rule_features(rules: tuple[Rule, ...], keys: tuple[TieBreakKey, ...]) -> list[str]:
    names = [c.feature for r in rules for c in r.conditions]
    return names + [k.feature for k in keys if k.feature is not None]


def _check_tie_break(keys: tuple[TieBreakKey, ...]) -> None:
    if not keys or keys[-1].key != "person_id":
        raise ValueError(_TIE_BREAK_END)
    names = [k.name for k in keys]
    for k in names:
        if names.count(k) > 1:
            raise ValueError(_TIE_BREAK_DUPLICATE.format(key=k))


class Cohort(_Frozen):
    """One named cohort of a several-cohort policy: its own entry rules, places and ranking.

    ``scorer`` names the scorer (a shipped name or a spec file) whose score ranks this
    cohort's candidates; ``None`` ranks them by the scores given to
    :func:`~iomscore.cohort.select_cohort`. ``rationale`` says why the cohort exists.

    Examples
    --------
    >>> c = load_policy().cohort_list()[0]
    >>> c.name, c.capacity.places, c.tie_break[-1].key
    ('neighbourhood-crime-cohort', 20, 'person_id')
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    description: str = ""
    rationale: str = ""
    eligibility: Eligibility
    capacity: Capacity
    deselection: tuple[Rule, ...] = ()
    tie_break: tuple[TieBreakKey, ...] = Field(min_length=1)
    scorer: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Cohort:
        seen: set[str] = set()
        for r in (*self.eligibility.core, *self.eligibility.flex, *self.deselection):
            if r.name in seen:
                raise ValueError(_DUPLICATE_COHORT_RULE.format(cohort=self.name, name=r.name))
            seen.add(r.name)
        _check_tie_break(self.tie_break)
        return self

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature the cohort's rules and ranking read, without repeats."""
        rules = (*self.eligibility.core, *self.eligibility.flex, *self.deselection)
        return tuple(dict.fromkeys(_rule_features(rules, self.tie_break)))

    def tie_break_text(self) -> str:
        """The ranking order in words."""
        return _tie_break_text(self.tie_break)


class SelectionPolicy(HashedDocument):
    """A versioned, hashed cohort-selection policy (see the module docstring).

    Examples
    --------
    >>> policy = load_policy()
    >>> policy.name, policy.capacity.places
    ('neighbourhood-crime-cohort', 20)
    >>> policy.sha256 == policy.compute_sha256()
    True
    """

    format: Literal["iomscore.cohort-policy/1"] = POLICY_FORMAT
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: str
    title: str
    description: str = ""
    eligibility: Eligibility | None = None
    routing: tuple[RoutingRule, ...] = Field(min_length=1)
    capacity: Capacity | None = None
    deselection: tuple[Rule, ...] = ()
    tie_break: tuple[TieBreakKey, ...] = ()
    cohorts: tuple[Cohort, ...] = ()
    show_scores: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=(),
        description="Scorers whose scores each card shows side by side with their bands (e.g. ['ogrs3', "
        "'ogrs4g']), with a line saying which one ranks; they never change the selection",
    )
    provenance: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> SelectionPolicy:
        if self.cohorts:
            given = [n for n, v in (("eligibility", self.eligibility), ("capacity", self.capacity),
                                    ("tie_break", self.tie_break), ("deselection", self.deselection)) if v]
            if given:
                raise ValueError(_FORM.format(problem=f"this one has cohorts and also {', '.join(given)}"))
            seen_cohorts: set[str] = set()
            for c in self.cohorts:
                if c.name in seen_cohorts:
                    raise ValueError(_DUPLICATE_COHORT.format(name=c.name))
                seen_cohorts.add(c.name)
        else:
            absent = [n for n, v in (("eligibility", self.eligibility), ("capacity", self.capacity),
                                     ("tie_break", self.tie_break)) if not v]
            if absent:
                raise ValueError(_FORM.format(problem=f"this one has no cohorts and no {', '.join(absent)}"))
        names = [r.name for r in self.routing]
        if self.eligibility is not None:
            names += [r.name for r in (*self.eligibility.core, *self.eligibility.flex, *self.deselection)]
        seen: set[str] = set()
        for n in names:
            if n in seen:
                raise ValueError(_DUPLICATE_RULE.format(name=n))
            seen.add(n)
        covered = {(r.field, v) for r in self.routing for v in r.values}
        missing = [f"{f}={v}" for f, v in REQUIRED_ROUTING if (f, v) not in covered]
        if missing:
            raise ValueError(_ROUTING_TOO_NARROW.format(missing=", ".join(missing)))
        if not self.cohorts:
            _check_tie_break(self.tie_break)
        if len(set(self.show_scores)) != len(self.show_scores):
            dup = next(n for n in self.show_scores if self.show_scores.count(n) > 1)
            raise ValueError(_SHOW_SCORES_DUPLICATE.format(name=dup))
        return self

    def content(self) -> dict[str, Any]:
        """The policy as plain JSON data without ``sha256``; fields added since the one-cohort
        form are left out at their default (and a several-cohort policy has no top-level
        ``eligibility``, ``capacity``, ``deselection`` or ``tie_break``), so older policies keep
        their sha256."""
        data = super().content()
        for key in _OMIT_WHEN_DEFAULT:
            if not data.get(key):
                data.pop(key, None)
        if self.cohorts:
            for key in ("eligibility", "capacity", "deselection", "tie_break"):
                data.pop(key, None)
        for route in data.get("routing", ()):
            if not route.get("rationale"):
                route.pop("rationale", None)
        for cap in [data.get("capacity"), *(c.get("capacity") for c in data.get("cohorts", ()))]:
            if isinstance(cap, dict):
                for key in _CAPACITY_OMIT_WHEN_NONE:
                    if cap.get(key) is None:
                        cap.pop(key, None)
        return data

    @property
    def several(self) -> bool:
        """Whether the policy defines several named cohorts (its ``cohorts`` list)."""
        return bool(self.cohorts)

    def cohort_list(self) -> tuple[Cohort, ...]:
        """The policy's cohorts in the order a person is considered for them; a one-cohort
        policy is one cohort named after the policy.

        Examples
        --------
        >>> [c.name for c in load_policy().cohort_list()]
        ['neighbourhood-crime-cohort']
        """
        if self.cohorts:
            return self.cohorts
        cached = self.__dict__.get("_one_cohort")
        if cached is None:
            assert self.eligibility is not None and self.capacity is not None  # checked by _check
            cached = (Cohort.model_construct(
                name=self.name, title=self.title, description=self.description, rationale="",
                eligibility=self.eligibility, capacity=self.capacity, deselection=self.deselection,
                tie_break=self.tie_break, scorer=None,
            ),)
            self.__dict__["_one_cohort"] = cached
        return tuple(cached)

    def cohort(self, name: str) -> Cohort:
        """The cohort called ``name`` (``KeyError`` if there is none)."""
        for c in self.cohort_list():
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature the policy reads, without repeats."""
        return tuple(dict.fromkeys(f for c in self.cohort_list() for f in c.features))

    def tie_break_text(self) -> str:
        """The ranking order in words, e.g. for the panel pack (each cohort's, by title, for a
        several-cohort policy)."""
        if not self.cohorts:
            return _tie_break_text(self.tie_break)
        return " | ".join(f"{c.title}: {c.tie_break_text()}" for c in self.cohorts)

    @property
    def places(self) -> int:
        """Places in all the cohorts together."""
        return sum(c.capacity.places for c in self.cohort_list())

    def with_capacity(self, places: int | Mapping[str, int]) -> SelectionPolicy:
        """A copy with a different number of places (and the matching new hash): a number for a
        one-cohort policy, or ``{cohort name: places}`` for any policy."""
        if not isinstance(places, Mapping):
            if self.cohorts:
                raise PolicyError(_CAPACITY_FORM.format(name=self.name))
            places = {self.name: int(places)}
        unknown = sorted(set(places) - {c.name for c in self.cohort_list()})
        if unknown:
            raise PolicyError(_UNKNOWN_COHORT.format(names=unknown, name=self.name))
        data = self.content()
        if not self.cohorts:
            data["capacity"] = {**data["capacity"], "places": int(places[self.name])}
        else:
            for c in data["cohorts"]:
                if c["name"] in places:
                    c["capacity"] = {**c["capacity"], "places": int(places[c["name"]])}
        return SelectionPolicy.model_validate(data).with_sha256()


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_RECORDED
    f = float(value)
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _shipped(name: str) -> Path | None:
    """Path of a shipped policy: the repository's ``models/policies`` or the wheel's copy."""
    repo = Path(__file__).resolve().parents[2] / "models" / "policies" / f"{name}.json"
    if repo.exists():
        return repo
    try:
        wheel = resources.files("iomscore") / "_shipped_models" / "policies" / f"{name}.json"
        if wheel.is_file():
            return Path(str(wheel))
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - no wheel copy
        pass
    return None


def _shipped_names() -> list[str]:
    found: set[str] = set()
    for base in (Path(__file__).resolve().parents[2] / "models" / "policies",):
        if base.is_dir():
            found.update(p.stem for p in base.glob("*.json"))
    try:
        wheel = resources.files("iomscore") / "_shipped_models" / "policies"
        if wheel.is_dir():
            found.update(Path(str(p)).stem for p in wheel.iterdir() if str(p).endswith(".json"))
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - no wheel copy
        pass
    return sorted(found)


def load_policy(path: str | Path | None = None, *, allow_unhashed: bool = False) -> SelectionPolicy:
    """Read and validate a selection policy.

    Parameters
    ----------
    path : str or Path, optional
        A file path (a :class:`~pathlib.Path`, or text with a ``/`` or ending ``.json``), or
        the name of a shipped policy. A name never reads a file of that name in the working
        directory. Default: the shipped ``neighbourhood-crime-cohort`` policy.
    allow_unhashed : bool, default False
        Let a policy file that records no ``sha256`` load (you wrote it and know what it holds).

    Returns
    -------
    SelectionPolicy
        With ``sha256`` set. The file must record a ``sha256`` matching its content, and a
        policy with a shipped name must be the shipped policy (its pinned hash).

    Raises
    ------
    PolicyError
        When the file does not exist, cannot be parsed, is invalid, was edited after it was
        hashed, records no hash (without ``allow_unhashed``), or claims a shipped name.

    Examples
    --------
    >>> load_policy("neighbourhood-crime-cohort").version
    '1.0.0'
    """
    if path is None:
        path = DEFAULT_POLICY
    if names_a_file(path):
        p = Path(path)
    else:
        shipped = _shipped(str(path)) if str(path) and not str(path).startswith(".") else None
        if shipped is None:
            raise PolicyError(_NOT_SHIPPED.format(name=str(path), known=", ".join(_shipped_names())))
        p = shipped
    return read_hashed(p, SelectionPolicy, "policy", PolicyError, allow_unhashed=allow_unhashed)
