"""Result types shared by every scorer.

:class:`ScoreResult` is what one person gets: a frozen pydantic model that serialises to JSON.
:class:`ScoreBatch` is the same for many people as arrays; ``ScoreBatch.result(i)`` gives the
:class:`ScoreResult` of row ``i``, so both paths say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .._arrays import unique_representatives

__all__ = [
    "BreakdownPart",
    "ModelIdentity",
    "ScoreBatch",
    "ScoreResult",
    "explain",
    "format_part_value",
    "render_unique",
]

Unit = Literal["points", "percentage points"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelIdentity(_Frozen):
    """Which model produced a score: enough to find the exact spec that did it."""

    name: str
    version: str
    sha256: str = Field(description="sha256 of the model spec (canonical JSON)")
    kind: str = Field(description="'ogrs3', 'points', 'estimator', ...")


class BreakdownPart(_Frozen):
    """One additive part of a score, with the fact on record behind it."""

    name: str
    label: str
    value: float = Field(description="Contribution to the score, in the scorer's unit")
    reason: str = Field(description="Plain-English statement of the fact behind the value")


class ScoreResult(_Frozen):
    """The score of one person, and why.

    ``sum(part.value for part in breakdown)`` equals ``score`` (exactly for points scorers;
    to floating-point rounding, under 1e-9, for probability scorers such as OGRS3).

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="A", assessment_date="2025-01-01",
    ...     date_of_birth="1990-01-01", sex="male", sanctions=[{"offence_date": "2024-10-01",
    ...     "sanction_date": "2024-11-01", "offence_group": "shop_theft", "disposal": "fine"}])
    >>> result = iomscore.score(r, scorer="iom-priority")
    >>> result.score == sum(p.value for p in result.breakdown)
    True
    """

    person_id: str
    score: float
    band: str
    probabilities: dict[str, float] = Field(default_factory=dict)
    unit: Unit = "points"
    breakdown: tuple[BreakdownPart, ...]
    reasons: tuple[str, ...] = Field(description="Breakdown lines ranked by contribution, largest first")
    model: ModelIdentity
    warnings: tuple[str, ...] = ()

    def explain(self, format: Literal["text", "markdown", "json"] = "text") -> str:
        """Render the breakdown for a panel (see :func:`iomscore.explain`)."""
        return explain(self, format=format)


def format_part_value(value: float, unit: str) -> str:
    """``+8`` for points, ``+12.3 percentage points`` for probability scorers."""
    if unit == "points":
        if float(value).is_integer():
            return f"{int(value):+d}"
        return f"{value:+.2f}"
    return f"{value:+.1f} percentage points"


@dataclass(frozen=True, eq=False)
class ScoreBatch:
    """Scores of n people as arrays.

    ``part_values[i, k]`` is part ``k`` of row ``i``; rows where ``error[i]`` is not ``None``
    could not be scored (their other fields are meaningless).
    """

    score: np.ndarray
    band: np.ndarray
    probabilities: Mapping[str, np.ndarray]
    part_names: tuple[str, ...]
    part_labels: tuple[str, ...]
    part_values: np.ndarray
    part_reasons: tuple[np.ndarray, ...]
    model: ModelIdentity
    unit: Unit = "points"
    warnings: np.ndarray | None = None
    error: np.ndarray | None = None
    person_id: np.ndarray | None = None
    #: Name of the part that is a starting point (the same for everyone, or the formula's
    #: reference); it stays in the breakdown but is not ranked among the reasons.
    baseline_part: str | None = None

    def __len__(self) -> int:
        return int(self.score.shape[0])

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the rows that were scored."""
        if self.error is None:
            return np.ones(len(self), dtype=bool)
        return np.asarray([e is None for e in self.error], dtype=bool)

    def with_person_id(self, person_id: np.ndarray) -> ScoreBatch:
        return replace(self, person_id=np.asarray(person_id, dtype=object))

    def ranked_parts(self) -> np.ndarray:
        """Per row, part indices ordered by contribution (largest first; ties in part order).

        The baseline part, if any, is ranked last: it is a starting point, not a reason.
        """
        values = -self.part_values.copy()
        if self.baseline_part is not None and self.baseline_part in self.part_names:
            values[:, self.part_names.index(self.baseline_part)] = np.inf
        return np.argsort(values, axis=1, kind="stable")

    def reason_lines(self, rows: Sequence[int] | np.ndarray | None = None, top: int | None = None) -> list[list[str]]:
        """``"reason: +value"`` lines per row, ranked; zero-valued parts are left out."""
        idx = np.arange(len(self)) if rows is None else np.asarray(rows)
        ranked = self.ranked_parts()[idx]
        out: list[list[str]] = []
        for row, order in zip(idx.tolist(), ranked):
            lines = []
            for k in order.tolist():
                v = float(self.part_values[row, k])
                if v == 0.0 or self.part_names[k] == self.baseline_part:
                    continue
                lines.append(f"{self.part_reasons[k][row]}: {format_part_value(v, self.unit)}")
                if top is not None and len(lines) >= top:
                    break
            out.append(lines)
        return out

    def result(self, i: int) -> ScoreResult:
        """The :class:`ScoreResult` of row ``i``."""
        if self.error is not None and self.error[i] is not None:
            raise ValueError(f"row {i} was not scored: {self.error[i]}")
        parts = tuple(
            BreakdownPart(
                name=self.part_names[k],
                label=self.part_labels[k],
                value=float(self.part_values[i, k]),
                reason=str(self.part_reasons[k][i]),
            )
            for k in range(len(self.part_names))
        )
        return ScoreResult(
            person_id="" if self.person_id is None else str(self.person_id[i]),
            score=float(self.score[i]),
            band=str(self.band[i]),
            probabilities={k: float(v[i]) for k, v in self.probabilities.items()},
            unit=self.unit,
            breakdown=parts,
            reasons=tuple(self.reason_lines([i])[0]),
            model=self.model,
            warnings=() if self.warnings is None else tuple(self.warnings[i]),
        )

    def results(self) -> list[ScoreResult]:
        return [self.result(i) for i in range(len(self))]


_NO_WARNINGS: Final[tuple[str, ...]] = ()


def empty_warnings(n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = [_NO_WARNINGS] * n
    return out


def render_unique(keys: np.ndarray, render: Callable[[int], str]) -> np.ndarray:
    """Render text once per distinct key and spread it over the rows.

    ``keys`` is an integer array (one per row) such that rows with equal keys get equal text;
    ``render(row)`` formats the text of one representative row. This keeps reason text for a
    million people at the cost of a few thousand string formats.
    """
    keys = np.asarray(keys)
    if keys.size == 0:
        return np.empty(0, dtype=object)
    representative, inverse = unique_representatives(keys)
    texts = np.array([render(int(r)) for r in representative], dtype=object)
    return texts[inverse]


__all__ += ["empty_warnings"]


# Rendering a score's breakdown for a panel: text, Markdown or JSON.

_BAD_FORMAT: Final = "format must be 'text', 'markdown' or 'json', not {format!r}"


def _probabilities(result: ScoreResult) -> str:
    if not result.probabilities:
        return ""
    return ", ".join(f"{k}: {v:.1%}" for k, v in result.probabilities.items())


def _score_text(result: ScoreResult) -> str:
    if result.unit == "points":
        return f"{result.score:g} points"
    return f"{result.score:.1f}%"


def explain(result: ScoreResult, format: Literal["text", "markdown", "json"] = "text") -> str:
    """The breakdown of ``result``, largest contribution first, with the reason for each part.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1995-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}])
    >>> print(iomscore.explain(iomscore.score(r)).splitlines()[0])  # doctest: +ELLIPSIS
    P1: ... points, band ... (iom-priority ...)
    """
    ordered = sorted(result.breakdown, key=lambda p: -p.value)
    model = f"{result.model.name} {result.model.version}"
    if format == "json":
        return json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False)
    probs = _probabilities(result)
    if format == "text":
        lines = [f"{result.person_id}: {_score_text(result)}, band {result.band} ({model})"]
        if probs:
            lines.append(f"  probabilities: {probs}")
        for p in ordered:
            lines.append(f"  {format_part_value(p.value, result.unit):>24}  {p.reason}")
        for w in result.warnings:
            lines.append(f"  warning: {w}")
        lines.append(f"  model sha256: {result.model.sha256}")
        return "\n".join(lines)
    if format == "markdown":
        lines = [
            f"### {result.person_id}: {_score_text(result)}, band **{result.band}**",
            "",
            f"Model: `{model}` (sha256 `{result.model.sha256[:12]}`)" + (f"; probabilities {probs}" if probs else ""),
            "",
            "| Contribution | Factor | Reason |",
            "|---:|---|---|",
        ]
        for p in ordered:
            reason = p.reason.replace("|", "\\|")
            lines.append(f"| {format_part_value(p.value, result.unit)} | {p.label} | {reason} |")
        lines.append(f"| **{_score_text(result)}** | **Total** | |")
        if result.warnings:
            lines += ["", *[f"- Warning: {w}" for w in result.warnings]]
        return "\n".join(lines)
    raise ValueError(_BAD_FORMAT.format(format=format))
