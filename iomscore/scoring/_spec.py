"""Declarative points specs: the data format of every transparent iomscore model.

A points spec is a JSON (or TOML) document validated by :class:`PointsSpec`. It lists factors;
each factor reads one feature and gives integer points by bin (numeric half-open intervals
``[lower, upper)``) or by category (``equals``). The total is the score; bands cut the total;
an optional probability table maps every possible total to a probability.

The identity of a spec is the sha256 of its canonical JSON (sorted keys, no whitespace, the
``sha256`` field itself left out), so any edit, however small, gives a new hash.

Loading a spec or policy file (:func:`read_hashed`) is strict, so an edited model cannot pass
as the reviewed one:

- the file must record its ``sha256`` and the content must hash to it ("edited after it was
  hashed" otherwise); a file that records none loads only when the caller says so
  (``allow_unhashed=True``; ``--allow-unhashed`` on the command line);
- a document whose ``name`` is a shipped one must hash to the shipped pin
  (:mod:`iomscore.scoring._pins`): a shipped file re-hashed after an edit, or another file
  claiming a shipped name, is refused whatever hash it records;
- reason and condition texts are *templates* of a closed language (:func:`check_template`):
  literal text with ``{field}`` placeholders from a fixed set per kind of text
  (:data:`TEMPLATE_FIELDS`), ``{{`` and ``}}`` for braces, at most
  :data:`MAX_TEMPLATE_LENGTH` characters; no attribute, index, conversion or format spec. They
  are checked when the document is validated, with an error naming the field;
- numbers are bounded (points within :data:`MAX_POINTS`, bin edges within
  :data:`MAX_NUMBER`, finite) and nesting at most :data:`MAX_DEPTH` deep, so a hostile file is a
  one-line :class:`SpecError`, never a traceback.
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import hashlib
import itertools
import json
import math
import string
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .._errors import IomscoreError
from ..schema._parse import error_path
from . import _pins

__all__ = [
    "Band",
    "Bin",
    "Factor",
    "HashedDocument",
    "PointsSpec",
    "ProbabilityTable",
    "SpecError",
    "canonical_json",
    "check_template",
    "load_spec",
    "read_hashed",
    "spec_sha256",
]

SPEC_FORMAT: Final = "iomscore.points/1"

_BINS_NOT_CONTIGUOUS: Final = "factor {factor!r}: numeric bins must be contiguous and ordered; bin {i} starts at {got} but the previous bin ends at {expected}"
_MIXED_BINS: Final = "factor {factor!r}: a factor's bins are either all numeric (lower/upper) or all categorical (equals)"
_HASH_MISMATCH: Final = "{kind} {path}: recorded sha256 {recorded} does not match its content ({actual}); the file was edited after it was hashed"
_EDITED_INVALID: Final = (
    "{kind} {path}: recorded sha256 {recorded} does not match its content; the file was edited after "
    "it was hashed (and is no longer valid: {error})"
)
_NO_HASH: Final = (
    "{kind} {path} records no sha256, so nothing shows it is the reviewed file; load it only if you "
    "wrote it: allow_unhashed=True in Python, --allow-unhashed on the command line"
)
_NOT_PINNED: Final = (
    "{kind} {path} claims the shipped name {name!r} but its sha256 {actual} is not the shipped one "
    "({pinned}); a shipped {kind} cannot be edited or replaced: give yours another name"
)
_CANNOT_PARSE: Final = "{kind} {path}: cannot parse: {error}"
_INVALID: Final = "{kind} {path}: {error}"
_NOT_OBJECT: Final = "{kind} {path}: not a JSON object (the file holds a {type})"
_TOO_DEEP: Final = "{kind} {path}: nested more than {limit} levels deep"
_NO_FILE: Final = "{kind} file does not exist: {path}"
_NOT_BOOL: Final = "allow_unhashed must be True or False, not {value!r}"

#: At most this many points for one bin, a factor's missing value, or the base points.
MAX_POINTS: Final = 1_000_000
#: Bin and band edges lie within +-this (and are finite).
MAX_NUMBER: Final = 1e15
#: A spec or policy nested deeper than this is refused before it is validated.
MAX_DEPTH: Final = 32
#: At most this many characters in a reason or condition template.
MAX_TEMPLATE_LENGTH: Final = 500
#: The placeholders each kind of template may use.
TEMPLATE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "reason": ("value", "points", "label"),  # a bin's reason, a factor's missing_reason
    "text": (),  # the base points reason: printed as written
    "condition": ("value", "threshold"),  # a policy condition's met / not_met
    "routing": ("value",),  # a routing rule's reason
}
_TEMPLATE_TOO_LONG: Final = "template is {length} characters long; at most {limit} are allowed"
_TEMPLATE_BAD_FIELD: Final = "template {text!r} uses {{{field}}}; {kind} text may use only {allowed}"
_TEMPLATE_FORMAT: Final = (
    "template {text!r} uses {placeholder!r}: placeholders are plain {{name}}, with no format spec, "
    "conversion, attribute or index"
)
_TEMPLATE_BRACES: Final = "template {text!r}: {error} (write {{{{ and }}}} for a literal brace)"
_NUMBER_BOUND: Final = "must be a finite number within +-{limit:g}, not {value!r}"

_allow_unhashed: contextvars.ContextVar[bool] = contextvars.ContextVar("iomscore_allow_unhashed", default=False)


D = TypeVar("D", bound="HashedDocument")


class SpecError(IomscoreError, ValueError):
    """A points spec is invalid, or its recorded hash does not match its content."""


def check_template(text: str, kind: str) -> str:
    """Check a reason or condition template against the closed template language.

    A template is literal text with ``{name}`` placeholders, ``name`` one of
    ``TEMPLATE_FIELDS[kind]``; ``{{`` and ``}}`` print a brace. Nothing else is allowed: no
    ``{value.attr}``, ``{value[0]}``, ``{value!r}`` or ``{value:>99999}``, and at most
    :data:`MAX_TEMPLATE_LENGTH` characters. Returns ``text``; raises ``ValueError`` naming the
    placeholder.

    Examples
    --------
    >>> check_template("{value} proven offences", "reason")
    '{value} proven offences'
    >>> check_template("{nope} offences", "reason")
    Traceback (most recent call last):
    ...
    ValueError: template '{nope} offences' uses {nope}; reason text may use only {value}, {points}, {label}
    """
    allowed = TEMPLATE_FIELDS[kind]
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise ValueError(_TEMPLATE_TOO_LONG.format(length=len(text), limit=MAX_TEMPLATE_LENGTH))
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(_TEMPLATE_BRACES.format(text=text, error=exc)) from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if spec or conversion is not None or not field.isidentifier():
            placeholder = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(_TEMPLATE_FORMAT.format(text=text, placeholder=placeholder))
        if field not in allowed:
            names = ", ".join("{" + a + "}" for a in allowed) if allowed else "no placeholders"
            raise ValueError(_TEMPLATE_BAD_FIELD.format(text=text, field=field, kind=kind, allowed=names))
    return text


def _template(kind: str) -> AfterValidator:
    return AfterValidator(lambda text: check_template(text, kind))


ReasonTemplate = Annotated[str, _template("reason")]
PlainText = Annotated[str, _template("text")]


def _bounded(value: Any) -> Any:
    if value is not None and (not math.isfinite(float(value)) or abs(value) > MAX_NUMBER):
        raise ValueError(_NUMBER_BOUND.format(limit=MAX_NUMBER, value=value))
    return value


def _float_ok(value: Any) -> Any:
    try:
        return _bounded(value)
    except OverflowError:  # an integer too large for a float
        raise ValueError(_NUMBER_BOUND.format(limit=MAX_NUMBER, value=value)) from None


Points = Annotated[int, Field(ge=-MAX_POINTS, le=MAX_POINTS)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HashedDocument(_Frozen):
    """A versioned document identified by the sha256 of its canonical JSON.

    Points specs and cohort policies both are: the ``sha256`` field records the hash and is
    left out of what is hashed, so any edit to the content gives a new identity.
    """

    sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None

    def content(self) -> dict[str, Any]:
        """The document as plain JSON data, without its ``sha256`` field."""
        return self.model_dump(mode="json", exclude={"sha256"})

    def compute_sha256(self) -> str:
        return spec_sha256(self.content())

    def with_sha256(self) -> Self:
        """A copy with the ``sha256`` field set to the hash of the content."""
        return self.model_copy(update={"sha256": self.compute_sha256()})

    def to_json(self) -> str:
        """Pretty JSON with the sha256 recorded, for writing to ``models/``."""
        data = self.content()
        data["sha256"] = self.compute_sha256()
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


Number = float | int
Edge = Annotated[Number | None, AfterValidator(_float_ok)]


class Bin(_Frozen):
    """One row of a factor's points table.

    A numeric bin covers ``lower <= value < upper`` (``None`` is unbounded); a categorical bin
    matches ``value == equals``. ``reason`` is plain English and may use ``{value}`` (the
    person's value for the feature) and ``{points}``; for example
    ``"{value} proven offences in the last 12 months at risk"``.
    """

    lower: Edge = None
    upper: Edge = None
    equals: str | int | bool | None = None
    points: Points
    reason: ReasonTemplate

    @model_validator(mode="after")
    def _check_interval(self) -> Bin:
        if self.equals is not None and (self.lower is not None or self.upper is not None):
            raise ValueError("a bin has either equals or lower/upper, not both")
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise ValueError(f"bin lower {self.lower} must be below upper {self.upper}")
        return self

    @property
    def is_categorical(self) -> bool:
        return self.equals is not None


class Factor(_Frozen):
    """One scored factor: a feature, its points table, and why the numbers are what they are."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    feature: str
    label: str
    bins: tuple[Bin, ...] = Field(min_length=1)
    missing_points: Points = 0
    missing_reason: ReasonTemplate = "{label}: not recorded"
    monotone: Literal["increasing", "decreasing"] | None = None
    rationale: str = ""

    @model_validator(mode="after")
    def _check_bins(self) -> Factor:
        kinds = {b.is_categorical for b in self.bins}
        if len(kinds) > 1:
            raise ValueError(_MIXED_BINS.format(factor=self.name))
        if not self.is_categorical:
            previous_upper: Number | None = None
            for i, b in enumerate(self.bins):
                if i == 0:
                    if b.lower is not None:
                        raise ValueError(
                            f"factor {self.name!r}: the first numeric bin must have lower=null "
                            "so that every value falls in a bin"
                        )
                elif b.lower is None or b.lower != previous_upper:
                    raise ValueError(
                        _BINS_NOT_CONTIGUOUS.format(
                            factor=self.name, i=i, got=b.lower, expected=previous_upper
                        )
                    )
                previous_upper = b.upper
            if previous_upper is not None:
                raise ValueError(
                    f"factor {self.name!r}: the last numeric bin must have upper=null "
                    "so that every value falls in a bin"
                )
        else:
            values = [b.equals for b in self.bins]
            if len(set(map(str, values))) != len(values):
                raise ValueError(f"factor {self.name!r}: duplicate categories {values}")
        if self.monotone is not None:
            # Bins are read in the order listed (numeric bins are ordered by value; categories
            # as written): "increasing" means a later bin never scores fewer points.
            pts = [b.points for b in self.bins]
            pairs = list(itertools.pairwise(pts))
            ok = all(a <= c for a, c in pairs) if self.monotone == "increasing" else all(a >= c for a, c in pairs)
            if not ok:
                raise ValueError(
                    f"factor {self.name!r} is declared {self.monotone} over its bins in the order "
                    f"listed, but its points {pts} are not"
                )
        return self

    @property
    def is_categorical(self) -> bool:
        return self.bins[0].is_categorical

    @property
    def min_points(self) -> int:
        return min([b.points for b in self.bins] + [self.missing_points])

    @property
    def max_points(self) -> int:
        return max([b.points for b in self.bins] + [self.missing_points])


class Band(_Frozen):
    """A band of the total: ``lower <= total < upper`` (``None`` unbounded)."""

    name: str
    lower: Edge = None
    upper: Edge = None
    description: str = ""


class ProbabilityTable(_Frozen):
    """Probability of the outcome for every possible total of points."""

    outcome: str = Field(description="What the probability is of, e.g. 'proven reoffending within 2 years'")
    key: str = Field(default="p", description="Key in ScoreResult.probabilities, e.g. '2y'")
    totals: tuple[Points, ...]
    probabilities: tuple[float, ...]

    @model_validator(mode="after")
    def _check(self) -> ProbabilityTable:
        if len(self.totals) != len(self.probabilities):
            raise ValueError("totals and probabilities must have the same length")
        if list(self.totals) != sorted(set(self.totals)):
            raise ValueError("totals must be strictly increasing")
        if any(not (0.0 <= p <= 1.0) or math.isnan(p) for p in self.probabilities):
            raise ValueError("probabilities must lie in [0, 1]")
        return self


class PointsSpec(HashedDocument):
    """A versioned, hashed points model.

    Examples
    --------
    >>> spec = PointsSpec.model_validate({
    ...     "format": "iomscore.points/1", "name": "tiny", "version": "1.0.0",
    ...     "title": "Tiny", "factors": [{"name": "recent", "feature": "offences_12m_at_risk",
    ...     "label": "Recent offending", "bins": [
    ...         {"upper": 1, "points": 0, "reason": "No recent offences"},
    ...         {"lower": 1, "points": 2, "reason": "{value} recent offences"}]}],
    ...     "bands": [{"name": "low", "upper": 2}, {"name": "high", "lower": 2}]})
    >>> spec.min_total, spec.max_total
    (0, 2)
    """

    format: Literal["iomscore.points/1"] = SPEC_FORMAT
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: str
    title: str
    description: str = ""
    direction: Literal["higher total = higher priority"] = "higher total = higher priority"
    intercept: Points = Field(default=0, description="Base points everyone starts with")
    intercept_reason: PlainText = "Base points"
    factors: tuple[Factor, ...] = Field(min_length=1)
    bands: tuple[Band, ...] = Field(min_length=1)
    probability: ProbabilityTable | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)

    @field_validator("factors")
    @classmethod
    def _unique_names(cls, factors: tuple[Factor, ...]) -> tuple[Factor, ...]:
        names = [f.name for f in factors]
        if len(set(names)) != len(names):
            raise ValueError(f"factor names must be unique: {names}")
        return factors

    @model_validator(mode="after")
    def _check_bands(self) -> PointsSpec:
        previous: Number | None = None
        for i, band in enumerate(self.bands):
            if i == 0 and band.lower is not None:
                raise ValueError("the first band must have lower=null")
            if i > 0 and band.lower != previous:
                raise ValueError(f"band {band.name!r} must start where the previous band ends ({previous})")
            previous = band.upper
        if previous is not None:
            raise ValueError("the last band must have upper=null")
        if self.probability is not None:
            # Totals are strictly increasing integers, so the range is covered when the table
            # holds max - min + 1 totals within it (no set of the range: a wide one is costly).
            lo, hi, totals = self.min_total, self.max_total, self.probability.totals
            within = bisect.bisect_right(totals, hi) - bisect.bisect_left(totals, lo)
            if within != hi - lo + 1:
                have = set(totals)
                missing = [t for t in itertools.islice(range(lo, hi + 1), 10_000) if t not in have][:10]
                raise ValueError(f"the probability table has no entry for totals {missing}")
        return self

    @property
    def features(self) -> tuple[str, ...]:
        """Feature names the spec reads, in factor order, without repeats."""
        return tuple(dict.fromkeys(f.feature for f in self.factors))

    def table_rows(self) -> list[tuple[str, str, int]]:
        """``(factor label, bin, points)`` rows of the points table, as a person reads them.

        Numeric bins read ``below 3``, ``3 to below 6``, ``6 or more`` (``3`` for a one-value
        bin of integers); categories with the same points are one row (``a, b``); a factor
        whose missing points differ from every bin, or that has any, gets a ``not recorded``
        row. The label of a factor is on its first row only.
        """
        rows: list[tuple[str, str, int]] = []
        for f in self.factors:
            out: list[tuple[str, int]] = []
            if f.is_categorical:
                groups: dict[int, list[str]] = {}
                for b in f.bins:
                    groups.setdefault(b.points, []).append(str(b.equals))
                seen: set[int] = set()
                for b in f.bins:
                    if b.points not in seen:
                        seen.add(b.points)
                        out.append((", ".join(groups[b.points]), b.points))
            else:
                for b in f.bins:
                    out.append((_bin_text(b.lower, b.upper), b.points))
            out.append(("not recorded", f.missing_points))
            for i, (text, pts) in enumerate(out):
                rows.append((f.label if i == 0 else "", text, pts))
        return rows

    def _probability_rows(self) -> list[tuple[int, str]]:
        if self.probability is None:
            return []
        lo, hi = self.min_total, self.max_total
        return [
            (t, f"{100 * p:.1f}%")
            for t, p in zip(self.probability.totals, self.probability.probabilities)
            if lo <= t <= hi
        ]

    def _heading(self) -> tuple[str, list[str]]:
        lines = [f"{self.name} {self.version}" + (f" (sha256 {self.sha256})" if self.sha256 else "")]
        if self.description:
            lines.append(self.description)
        lines.append(f"Base points: {self.intercept} ({self.intercept_reason}); higher total = higher priority.")
        if self.probability is not None:
            lines.append(f"Probability of: {self.probability.outcome}")
        return self.title, lines

    def to_markdown(self) -> str:
        """The spec as Markdown: the points table, the bands and the probability for each total.

        Examples
        --------
        >>> import iomscore
        >>> text = iomscore.get_scorer("iom-priority").spec.to_markdown()
        >>> text.startswith("# ") and "| Factor | Value | Points |" in text
        True
        """
        title, lines = self._heading()
        out = [f"# {title}", "", *[f"{line}  " for line in lines], "", "| Factor | Value | Points |", "|---|---|---:|"]
        out += [f"| {_md(a)} | {_md(b)} | {p:+d} |" for a, b, p in self.table_rows()]
        out += ["", "| Band | Total |", "|---|---|"]
        out += [f"| {_md(b.name)} | {_bin_text(b.lower, b.upper)} |" for b in self.bands]
        prob = self._probability_rows()
        if prob:
            out += ["", "| Total | Probability |", "|---:|---:|"] + [f"| {t} | {p} |" for t, p in prob]
        return "\n".join(out) + "\n"

    def to_text(self) -> str:
        """The spec as plain text columns (what ``iomscore spec show`` prints by default)."""
        title, lines = self._heading()
        rows = self.table_rows()
        w1 = max([len("Factor")] + [len(a) for a, _, _ in rows])
        w2 = max([len("Value")] + [len(b) for _, b, _ in rows])
        out = [title, *lines, "", f"{'Factor':<{w1}}  {'Value':<{w2}}  Points"]
        out += [f"{a:<{w1}}  {b:<{w2}}  {p:+6d}" for a, b, p in rows]
        out += ["", "Bands: " + "; ".join(f"{b.name} {_bin_text(b.lower, b.upper)}" for b in self.bands)]
        prob = self._probability_rows()
        if prob:
            out += ["", "Total  Probability"] + [f"{t:>5}  {p:>11}" for t, p in prob]
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        """The spec as a standalone HTML page with the same tables as :meth:`to_markdown`.

        Examples
        --------
        >>> import iomscore
        >>> "<table" in iomscore.get_scorer("iom-priority").spec.to_html()
        True
        """
        from html import escape

        title, lines = self._heading()
        css = ("body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:collapse;"
               "margin:1em 0}td,th{border:1px solid #999;padding:.2em .6em;text-align:left}td.n{text-align:right}")
        out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{escape(title)}</title>",
               f"<style>{css}</style></head><body>", f"<h1>{escape(title)}</h1>"]
        out += [f"<p>{escape(line)}</p>" for line in lines]
        out.append("<table><thead><tr><th>Factor</th><th>Value</th><th>Points</th></tr></thead><tbody>")
        out += [f'<tr><td>{escape(a)}</td><td>{escape(b)}</td><td class="n">{p:+d}</td></tr>' for a, b, p in self.table_rows()]
        out.append("</tbody></table><table><thead><tr><th>Band</th><th>Total</th></tr></thead><tbody>")
        out += [f"<tr><td>{escape(b.name)}</td><td>{escape(_bin_text(b.lower, b.upper))}</td></tr>" for b in self.bands]
        out.append("</tbody></table>")
        prob = self._probability_rows()
        if prob:
            out.append("<table><thead><tr><th>Total</th><th>Probability</th></tr></thead><tbody>")
            out += [f'<tr><td class="n">{t}</td><td class="n">{p}</td></tr>' for t, p in prob]
            out.append("</tbody></table>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"

    @property
    def min_total(self) -> int:
        return self.intercept + sum(f.min_points for f in self.factors)

    @property
    def max_total(self) -> int:
        return self.intercept + sum(f.max_points for f in self.factors)


def _num_text(v: Number) -> str:
    return str(int(v)) if float(v).is_integer() else f"{float(v):g}"


def _bin_text(lower: Number | None, upper: Number | None) -> str:
    """A half-open interval ``[lower, upper)`` in words."""
    if lower is None and upper is None:
        return "any"
    if lower is None:
        return f"below {_num_text(upper)}"  # type: ignore[arg-type]
    if upper is None:
        return f"{_num_text(lower)} or more"
    if float(lower).is_integer() and float(upper).is_integer() and upper == lower + 1:
        return _num_text(lower)
    return f"{_num_text(lower)} to below {_num_text(upper)}"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def canonical_json(data: Any) -> str:
    """Canonical JSON text: sorted keys, no insignificant whitespace, UTF-8 characters kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def spec_sha256(content: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``content``."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def names_a_file(value: str | Path) -> bool:
    """Whether a ``--scorer``/``--policy`` value is a file path rather than a name.

    A path is a :class:`~pathlib.Path`, or text with a directory separator or ending in
    ``.json``/``.toml``. Anything else is a name, which resolves only to what iomscore ships or
    registers, never to a file of that name in the working directory.

    Examples
    --------
    >>> names_a_file("neighbourhood-crime-cohort"), names_a_file("./neighbourhood-crime-cohort")
    (False, True)
    >>> names_a_file("my-policy.json")
    True
    """
    if isinstance(value, Path):
        return True
    return "/" in value or "\\" in value or value.lower().endswith((".json", ".toml"))


@contextlib.contextmanager
def allowing_unhashed() -> Iterator[None]:
    """Within this block, spec and policy files that record no sha256 load (the CLI's
    ``--allow-unhashed``). Pins and recorded hashes are still checked."""
    token = _allow_unhashed.set(True)
    try:
        yield
    finally:
        _allow_unhashed.reset(token)


def unhashed_allowed(allow_unhashed: bool = False) -> bool:
    """Whether a file without a sha256 may load: the caller's keyword, or :func:`allowing_unhashed`."""
    if not isinstance(allow_unhashed, bool):
        raise TypeError(_NOT_BOOL.format(value=allow_unhashed))
    return allow_unhashed or _allow_unhashed.get()


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether ``data`` (parsed JSON/TOML) nests deeper than ``limit`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((c, depth + 1) for c in children)
    return False


def _first_problem(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one line: ``field.path: message (and N more)``."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = error_path(tuple(first["loc"]))
    message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return (f"{where}: {message}" if where else message) + more


def _raw_matches(data: dict[str, Any], recorded: str) -> bool:
    """Whether the file's own content (as written by ``to_json``) hashes to ``recorded``."""
    try:
        return spec_sha256({k: v for k, v in data.items() if k != "sha256"}) == recorded
    except (ValueError, TypeError, RecursionError):
        return False


def read_hashed(
    path: Path, model: type[D], kind: str, error: type[ValueError], *, allow_unhashed: bool = False
) -> D:
    """Read a JSON (or TOML) document, validate it with ``model`` and check its hash and pin.

    Errors are raised as ``error`` with one-line messages starting ``"{kind} {path}"``. The
    file must record a ``sha256`` that matches its content, unless ``allow_unhashed`` (or
    :func:`allowing_unhashed`) lets a file that records none load; a document whose name is
    pinned (:mod:`iomscore.scoring._pins`) must hash to its pin whatever it records. The
    returned document has ``sha256`` set to the hash of its content.
    """
    allowed = unhashed_allowed(allow_unhashed)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(_NO_FILE.format(kind=kind, path=path)) from None
    except IsADirectoryError:
        raise error(_INVALID.format(kind=kind, path=path, error="is a directory, not a file")) from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib  # (imported when a TOML document is read: the shipped specs are JSON)

            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except RecursionError:
        raise error(_TOO_DEEP.format(kind=kind, path=path, limit=MAX_DEPTH)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(_CANNOT_PARSE.format(kind=kind, path=path, error=exc)) from exc
    if not isinstance(data, dict):
        raise error(_NOT_OBJECT.format(kind=kind, path=path, type=type(data).__name__))
    if _depth_exceeds(data, MAX_DEPTH):
        raise error(_TOO_DEEP.format(kind=kind, path=path, limit=MAX_DEPTH))
    recorded = data.get("sha256")
    try:
        doc = model.model_validate(data)
    except ValidationError as exc:
        if isinstance(recorded, str) and not _raw_matches(data, recorded):
            raise error(_EDITED_INVALID.format(kind=kind, path=path, recorded=recorded,
                                               error=_first_problem(exc))) from None
        raise error(_INVALID.format(kind=kind, path=path, error=_first_problem(exc))) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise error(_INVALID.format(kind=kind, path=path, error=exc)) from None
    try:
        actual = doc.compute_sha256()
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. a provenance value JSON cannot write
        raise error(_INVALID.format(kind=kind, path=path, error=exc)) from None
    if doc.sha256 is not None and doc.sha256 != actual:
        raise error(_HASH_MISMATCH.format(kind=kind, path=path, recorded=doc.sha256, actual=actual))
    name = getattr(doc, "name", None)
    pin = _pins.pinned(kind, name) if isinstance(name, str) else None
    if pin is not None and pin != actual:
        raise error(_NOT_PINNED.format(kind=kind, path=path, name=name, actual=actual, pinned=pin))
    if doc.sha256 is None and pin is None and not allowed:
        raise error(_NO_HASH.format(kind=kind, path=path))
    return doc.model_copy(update={"sha256": actual})


def load_spec(path: str | Path, *, allow_unhashed: bool = False) -> PointsSpec:
    """Read and validate a points spec from a ``.json`` or ``.toml`` file.

    The file must record a ``sha256`` matching its content, so a spec edited by hand cannot
    pass as the reviewed one; a spec with a shipped name must be the shipped spec (its pinned
    hash). A spec that records no hash loads only with ``allow_unhashed=True``.

    Raises
    ------
    SpecError
        One line naming the file: it does not exist, cannot be parsed, is invalid (naming the
        field), was edited after it was hashed, records no hash, or claims a shipped name.

    Examples
    --------
    >>> from iomscore.scoring._registry import shipped_models_dir
    >>> load_spec(shipped_models_dir() / "iom-priority.json").name
    'iom-priority'
    """
    return read_hashed(Path(path), PointsSpec, "spec", SpecError, allow_unhashed=allow_unhashed)
