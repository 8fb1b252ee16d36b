"""Declarative points specs: the data format of every transparent iomscore model.

A points spec is a JSON (or TOML) document validated by :class:`PointsSpec`. It lists factors;
each factor reads one feature and gives integer points by bin (numeric half-open intervals
``[lower, upper)``) or by category (``equals``). The total is the score; bands cut the total;
an optional probability table maps every possible total to a probability.

The identity of a spec is the sha256 of its canonical JSON (sorted keys, no whitespace, the
``sha256`` field itself left out), so any edit, however small, gives a new hash.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._errors import IomscoreError

__all__ = [
    "Band",
    "Bin",
    "Factor",
    "HashedDocument",
    "PointsSpec",
    "ProbabilityTable",
    "SpecError",
    "canonical_json",
    "load_spec",
    "read_hashed",
    "spec_sha256",
]

SPEC_FORMAT: Final = "iomscore.points/1"

_BINS_NOT_CONTIGUOUS: Final = "factor {factor!r}: numeric bins must be contiguous and ordered; bin {i} starts at {got} but the previous bin ends at {expected}"
_MIXED_BINS: Final = "factor {factor!r}: a factor's bins are either all numeric (lower/upper) or all categorical (equals)"
_HASH_MISMATCH: Final = "{kind} {path}: recorded sha256 {recorded} does not match its content ({actual}); the file was edited after it was hashed"
_CANNOT_PARSE: Final = "{kind} {path}: cannot parse: {error}"
_INVALID: Final = "{kind} {path}: {error}"


D = TypeVar("D", bound="HashedDocument")


class SpecError(IomscoreError, ValueError):
    """A points spec is invalid, or its recorded hash does not match its content."""


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


class Bin(_Frozen):
    """One row of a factor's points table.

    A numeric bin covers ``lower <= value < upper`` (``None`` is unbounded); a categorical bin
    matches ``value == equals``. ``reason`` is plain English and may use ``{value}`` (the
    person's value for the feature) and ``{points}``; for example
    ``"{value} proven offences in the last 12 months at risk"``.
    """

    lower: Number | None = None
    upper: Number | None = None
    equals: str | int | bool | None = None
    points: int
    reason: str

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
    missing_points: int = 0
    missing_reason: str = "{label}: not recorded"
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
    lower: Number | None = None
    upper: Number | None = None
    description: str = ""


class ProbabilityTable(_Frozen):
    """Probability of the outcome for every possible total of points."""

    outcome: str = Field(description="What the probability is of, e.g. 'proven reoffending within 2 years'")
    key: str = Field(default="p", description="Key in ScoreResult.probabilities, e.g. '2y'")
    totals: tuple[int, ...]
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
    intercept: int = Field(default=0, description="Base points everyone starts with")
    intercept_reason: str = "Base points"
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
            missing = sorted(set(range(self.min_total, self.max_total + 1)) - set(self.probability.totals))
            if missing:
                raise ValueError(f"the probability table has no entry for totals {missing[:10]}")
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


def read_hashed(path: Path, model: type[D], kind: str, error: type[ValueError]) -> D:
    """Read a JSON (or TOML) document, validate it with ``model`` and check its recorded hash.

    Errors are raised as ``error`` with messages starting ``"{kind} {path}: "``. The returned
    document has ``sha256`` set to the hash of its content.
    """
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8")) if path.suffix.lower() == ".toml" else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(_CANNOT_PARSE.format(kind=kind, path=path, error=exc)) from exc
    try:
        doc = model.model_validate(data)
    except ValueError as exc:
        raise error(_INVALID.format(kind=kind, path=path, error=exc)) from exc
    actual = doc.compute_sha256()
    if doc.sha256 is not None and doc.sha256 != actual:
        raise error(_HASH_MISMATCH.format(kind=kind, path=path, recorded=doc.sha256, actual=actual))
    return doc.model_copy(update={"sha256": actual})


def load_spec(path: str | Path) -> PointsSpec:
    """Read and validate a points spec from a ``.json`` or ``.toml`` file.

    If the file records a ``sha256`` it must match the content; otherwise loading fails, so a
    spec edited by hand cannot pass as the reviewed one.
    """
    return read_hashed(Path(path), PointsSpec, "spec", SpecError)
