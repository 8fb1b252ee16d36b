"""Parsing referrals from JSON with errors that name the record and the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from pydantic import ValidationError

from .._errors import IomscoreError
from ._referral import Referral

__all__ = ["ReferralError", "error_path", "parse_referral"]

_RECORD_ERROR: Final = "referral {record}: {problems}"


class ReferralError(IomscoreError, ValueError):
    """A referral failed validation.

    Attributes
    ----------
    record : str
        The person_id when it could be read, otherwise the caller's record label.
    problems : list of (field, message)
        Field paths such as ``sanctions[2].offence_date`` with plain-English messages.
    """

    def __init__(self, record: str, problems: list[tuple[str, str]]) -> None:
        self.record = record
        self.problems = problems
        text = "; ".join(f"{f}: {m}" if f else m for f, m in problems)
        super().__init__(_RECORD_ERROR.format(record=record, problems=text))


def error_path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a field path: ``('sanctions', 2, 'disposal')`` ->
    ``sanctions[2].disposal``.

    Examples
    --------
    >>> error_path(("sanctions", 2, "disposal"))
    'sanctions[2].disposal'
    >>> error_path(())
    ''
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) for each error; cross-field rule messages carry their own path."""
    out = []
    for e in error.errors(include_url=False):
        message = str(e["msg"]).removeprefix("Value error, ")
        field = error_path(tuple(e["loc"]))
        if not field and ": " in message:  # the cross-field rules: one "field: message" a line
            for line in message.splitlines():
                path, _, text = line.partition(": ")
                out.append((path, text) if text else ("", line))
            continue
        out.append((field, message))
    return out


def parse_referral(data: str | bytes | Mapping[str, Any], *, record: str | None = None) -> Referral:
    """Validate one referral from JSON text or a mapping.

    Raises :class:`ReferralError` naming the record (its ``person_id`` when readable, else
    ``record``) and every field at fault, including every cross-field rule the referral breaks.

    Examples
    --------
    >>> parse_referral({"person_id": "P9", "assessment_date": "2025-01-01",
    ...                 "date_of_birth": "2030-01-01"})
    Traceback (most recent call last):
    ...
    iomscore.ReferralError: referral P9: date_of_birth: date of birth 2030-01-01 is after the assessment date 2025-01-01; date_of_birth: the person is -5 at the assessment date; people under 10 cannot be referred
    """
    raw: Any = data
    if isinstance(data, (str, bytes)):
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise ReferralError(record or "?", [("", f"not valid JSON: {exc}")]) from None
    label = record or "?"
    if isinstance(raw, Mapping) and isinstance(raw.get("person_id"), str) and raw["person_id"]:
        label = raw["person_id"]
    try:
        return Referral.model_validate(raw)
    except ValidationError as exc:
        raise ReferralError(label, problems_of(exc)) from None
