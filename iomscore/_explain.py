"""Rendering a score's breakdown for a panel: text, Markdown or JSON."""

from __future__ import annotations

import json
from typing import Final, Literal

from ._result import ScoreResult, format_part_value

__all__ = ["explain"]

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
