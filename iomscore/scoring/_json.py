"""JSON in, JSON out: score referrals given as JSON text and return the output contract.

For a web service or another system that speaks JSON: :func:`score_json` validates the input
as :func:`iomscore.parse_referral` does (so every problem comes back at once, with its field
path, as one :class:`iomscore.ReferralError` a service can map onto HTTP 422) and returns the
:class:`iomscore.ScoreResult` contract (``"format": "iomscore.score/1"``) as JSON text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from ..schema._parse import ReferralError, parse_referral
from ..schema._referral import Referral
from ._api import DEFAULT_SCORER, score
from ._protocol import Scorer

__all__ = ["score_json"]

_NOT_JSON: Final = "not valid JSON: {error}"
_NOT_REFERRALS: Final = "expected a referral object or a list of them, not {type}"
_EMPTY_PROBLEMS: Final = "the referral is invalid"
#: Record label of a list with invalid items: the items' person ids (or positions).
_LIST_RECORD: Final = "{records} (of {n})"


def _json_type(value: Any) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "true/false", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _parse_many(items: list[Any]) -> list[Referral]:
    """Every item validated; one :class:`ReferralError` with ``[i].field`` paths for all faults."""
    out: list[Referral] = []
    problems: list[tuple[str, str]] = []
    records: list[str] = []
    for i, item in enumerate(items):
        try:
            out.append(parse_referral(item, record=f"item {i}"))
        except ReferralError as exc:
            records.append(exc.record)
            for field, message in exc.problems or [("", _EMPTY_PROBLEMS)]:
                problems.append((f"[{i}]" + (f".{field}" if field and not field.startswith("[") else field), message))
    if problems:
        raise ReferralError(_LIST_RECORD.format(records=", ".join(records), n=len(items)), problems)
    return out


def score_json(text: str | bytes, scorer: str | Path | Scorer = DEFAULT_SCORER) -> str:
    """Score one referral (a JSON object) or many (a JSON list) and return the results as JSON.

    The output is one :class:`~iomscore.ScoreResult` object for an object, a list of them (in
    input order) for a list: the versioned output contract, ``"format": "iomscore.score/1"``.
    Invalid input raises one :class:`~iomscore.ReferralError` whose ``problems`` list every
    fault with its field path (``sanctions[0].offence_date``; ``[2].date_of_birth`` for the
    third item of a list). A referral the scorer cannot score raises
    :class:`~iomscore.ScoringError`.

    Parameters
    ----------
    text : str or bytes
        JSON text (UTF-8 when bytes) of a referral object or a list of referral objects.
    scorer : str, path or Scorer
        As for :func:`iomscore.score`; scorers by name are loaded once and cached.

    Returns
    -------
    str
        Compact JSON text, keys in the contract's order.

    Examples
    --------
    >>> import json, iomscore
    >>> out = iomscore.score_json('''{"person_id": "P1", "assessment_date": "2025-06-01",
    ...     "date_of_birth": "1995-02-01", "sanctions": [{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}]}''', scorer="iom-priority")
    >>> result = json.loads(out)
    >>> result["format"], result["person_id"], result["assessment_date"]
    ('iomscore.score/1', 'P1', '2025-06-01')
    >>> iomscore.score_json('[{"person_id": "A"}, {"person_id": "B", "assessment_date": "x"}]')
    Traceback (most recent call last):
    ...
    iomscore.ReferralError: referral A, B (of 2): [0].assessment_date: Field required; ...
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReferralError("?", [("", _NOT_JSON.format(error=exc))]) from None
    if isinstance(data, list):
        results = score(_parse_many(data), scorer)
        return "[" + ",".join(r.model_dump_json() for r in results) + "]"
    if not isinstance(data, dict):
        raise ReferralError("?", [("", _NOT_REFERRALS.format(type=_json_type(data)))])
    return score(parse_referral(data), scorer).model_dump_json()
