"""Reading referrals as JSON: JSON Lines (one referral per line) or a JSON array.

Both forms go through one record loop: every record is validated as a
:class:`~iomscore.Referral` on its own (a bad record is rejected, never the file), then the
cross-field rules run over the whole table at once. ``row`` in a reject is the line on which
the record starts, whichever form the file has.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

import numpy as np
from pydantic import ValidationError

from ..schema._parse import error_path
from ..schema._referral import Referral
from ..schema._rules import check_batch
from ..schema._table import ReferralTable
from ._common import DUPLICATE_PERSON, ReadCounts, ReadResult, Reject
from ._encoding import bad_byte, decode, raw_bytes

__all__ = ["error_path", "json_records", "parse_record", "read_jsonl", "strict_types"]

MALFORMED_JSON: Final = "malformed JSON at line {line}, column {column}: {error}"
NOT_AN_OBJECT: Final = "expected a referral (a JSON object), found {kind}"
TOO_DEEP: Final = "JSON nested too deeply (a referral is at most a few levels deep)"
DUPLICATE_KEY: Final = "key {key!r} appears more than once in one JSON object"
NOT_JSON_CONSTANT: Final = "{constant} is not valid JSON"
_WS: Final = " \t\r\n"


class _DuplicateKey(ValueError):
    """A JSON object holds the same key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(DUPLICATE_KEY.format(key=key))
        self.key = key


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing a repeated key (``json`` would keep the last value) and
    stripping leading and trailing whitespace from text values (the rule of every reader)."""
    obj = {k: v.strip() if isinstance(v, str) else v for k, v in pairs}
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> Any:
    """``parse_constant`` refusing ``NaN``/``Infinity`` (not JSON, though :mod:`json` reads them)."""
    raise ValueError(NOT_JSON_CONSTANT.format(constant=name))


def parse_record(text: str, line: int) -> tuple[Any, str, str]:
    """``(value, field, error)`` of one JSON record: strict JSON, no repeated keys, bounded depth.

    ``error`` is empty when the record parsed; ``field`` names the repeated key, if that is
    what was wrong.

    Examples
    --------
    >>> parse_record('{"a": 1}', 1)
    ({'a': 1}, '', '')
    >>> parse_record('{"a": 1, "a": 2}', 3)[1:]
    ('a', "key 'a' appears more than once in one JSON object")
    >>> parse_record('[' * 100000 + ']' * 100000, 1)[2]
    'JSON nested too deeply (a referral is at most a few levels deep)'
    """
    try:
        return json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_no_constant), "", ""
    except _DuplicateKey as exc:
        return None, exc.key, str(exc)
    except RecursionError:
        return None, "", TOO_DEEP
    except json.JSONDecodeError as exc:
        return None, "", MALFORMED_JSON.format(line=line + exc.lineno - 1, column=exc.colno, error=exc.msg)
    except ValueError as exc:  # NaN, or an integer of more than 4,300 digits
        return None, "", MALFORMED_JSON.format(line=line, column=1, error=exc)


#: Fields whose JSON type is checked before validation (pydantic would coerce 0 to 1970-01-01,
#: true to 1 and "no" to false): ``{parent: {field: kind}}``; ``""`` is the referral itself.
_STRICT: Final[dict[str, dict[str, str]]] = {
    "": {"assessment_date": "date", "date_of_birth": "date"},
    "sanctions": {"offence_date": "date", "sanction_date": "date", "custody_days": "count", "current": "bool"},
    "custody": {"start": "date", "end": "date"},
    "sanction_summary": {"first_sanction_date": "date", "current_conviction_date": "date",
                         "followup_start_date": "date", "previous_sanctions": "count", "violent_sanctions": "count",
                         "age_at_first_sanction": "count", "caution_only": "bool"},
    "serious_harm": {"mappa_category": "count", "mappa_level": "count"},
}
STRICT_TYPE: Final = {
    "date": "expected a date as text (YYYY-MM-DD), found {kind} {value}",
    "count": "expected a whole number, found {kind} {value}",
    "bool": "expected true or false, found {kind} {value}",
}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "value"


def _type_ok(kind: str, value: Any) -> bool:
    if value is None:
        return True  # (required fields are checked by the schema)
    if kind == "date":
        return isinstance(value, str)
    if kind == "count":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, bool)


def strict_types(value: Any) -> tuple[str, str] | None:
    """``(field path, reason)`` of the first field of a JSON referral whose JSON type is wrong
    for it (a date given as a number, a count given as ``true``, a flag given as text).

    Examples
    --------
    >>> strict_types({"person_id": "A", "assessment_date": 0})
    ('assessment_date', 'expected a date as text (YYYY-MM-DD), found number 0')
    >>> strict_types({"sanctions": [{"custody_days": True}]})
    ('sanctions[0].custody_days', 'expected a whole number, found boolean true')
    >>> strict_types({"person_id": "A", "assessment_date": "2025-01-01"}) is None
    True
    """
    if not isinstance(value, dict):
        return None
    for parent, fields in _STRICT.items():
        holder = value if not parent else value.get(parent)
        items = holder if isinstance(holder, list) else [holder]
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for name, kind in fields.items():
                v = item.get(name)
                if not _type_ok(kind, v):
                    where = name if not parent else f"{parent}[{i}].{name}" if isinstance(holder, list) \
                        else f"{parent}.{name}"
                    return where, STRICT_TYPE[kind].format(kind=_json_kind(v), value=json.dumps(v)[:40])
    return None


def _person_of(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("person_id"), str):
        return str(value["person_id"]).strip()
    return ""


def _array_records(text: str, start: int) -> Iterator[tuple[int, str | None, str]]:
    """``(line, record text or None, error)`` for each element of the JSON array at ``start``.

    A syntax error inside the array rejects the damaged stretch as one record and reading
    resumes at the next line that starts an object, so what follows is still read.
    """
    decoder = json.JSONDecoder()
    pos, n, line, counted = start + 1, len(text), 1, 0

    def line_at(i: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, i)
        counted = i
        return line

    while True:
        while pos < n and (text[pos] in _WS or text[pos] == ","):
            pos += 1
        if pos >= n or text[pos] == "]":
            return
        at = line_at(pos)
        try:
            _, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                err_pos = pos
                yield at, None, TOO_DEEP
            else:
                err_pos = exc.pos
                err_line = line_at(exc.pos) if exc.pos >= pos else at
                yield at, None, MALFORMED_JSON.format(line=err_line, column=exc.colno, error=exc.msg)
            resume = text.find("\n", max(err_pos, pos))
            while resume != -1 and text[resume + 1:].lstrip(" \t,").startswith("{") is False:
                resume = text.find("\n", resume + 1)
            if resume == -1:
                return
            pos = resume + 1
            continue
        yield at, text[pos:end], ""
        pos = end


def json_records(text: str) -> Iterator[tuple[int, str | None, str]]:
    r"""The records of a JSON Lines text or a JSON array text, as ``(line, text, error)``.

    A JSON array (optionally wrapped as ``{"referrals": [...]}``) is read element by
    element; anything else is read as JSON Lines, one record per non-blank line. ``text``
    is ``None`` when the record could not be parsed and ``error`` says why.

    Examples
    --------
    >>> [(line, rec) for line, rec, _ in json_records('[\n {"a": 1},\n {"a": 2}\n]')]
    [(2, '{"a": 1}'), (3, '{"a": 2}')]
    >>> [(line, rec) for line, rec, _ in json_records('{"a": 1}\n\n{"a": 2}\n')]
    [(1, '{"a": 1}'), (3, '{"a": 2}')]
    """
    head = text.lstrip(_WS)
    if head.startswith("["):
        yield from _array_records(text, len(text) - len(head))
        return
    if head.startswith("{") and '"referrals"' in head[:4096]:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("referrals"), list):
            inner = text.find("[", text.find('"referrals"'))
            yield from _array_records(text, inner)
            return
    # lines end at \n only (str.splitlines would also split at U+2028 and other characters that
    # JSON allows raw inside a string, breaking one record in two)
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line, ""


def read_jsonl(path: str | os.PathLike[str]) -> ReadResult:
    """Read referrals from a JSON Lines file or a JSON array (blank lines are skipped).

    Each line is validated as a :class:`~iomscore.Referral`; the cross-field rules then run
    over the whole table at once (:func:`iomscore._rules.check_batch`), so a rejected line
    carries the same field path and message the typed API would raise.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
    >>> good = {"person_id": "A", "assessment_date": "2025-01-01", "date_of_birth": "1990-01-01"}
    >>> bad = dict(good, person_id="B", date_of_birth="2030-01-01")
    >>> _ = p.write_text(json.dumps(good) + "\\n" + json.dumps(bad) + "\\n")
    >>> result = read_jsonl(p)
    >>> result.counts.valid, [(r.row, r.field) for r in result.rejects]
    (1, [(2, 'date_of_birth')])
    """
    source = str(path)
    referrals: list[Referral] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    read = 0
    text = decode(raw_bytes(path))
    for number, line, error in json_records(text):
        read += 1
        if line is None:
            rejects.append(Reject(source, number, "", "", error, number))
            continue
        bad = bad_byte(source, line, number)
        if bad is not None:
            rejects.append(Reject(source, number, "", "", bad, number))
            continue
        value, key, error = parse_record(line, number)
        if error:
            rejects.append(Reject(source, number, "", key, error, number))
            continue
        wrong = strict_types(value)
        if wrong is not None:
            rejects.append(Reject(source, number, _person_of(value), wrong[0], wrong[1], number))
            continue
        try:
            referrals.append(Referral.model_validate(value, context={"skip_rules": True}))
            lines.append(number)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = tuple(first["loc"])
            message = str(first["msg"])
            if first["type"] == "model_type":
                message = NOT_AN_OBJECT.format(kind=type(value).__name__)
            rejects.append(Reject(source, number, _person_of(value), error_path(loc), message, number))
    counter = Counter(r.person_id for r in referrals)
    rows_of: dict[str, list[int]] = {}
    for r, line_no in zip(referrals, lines):
        if counter[r.person_id] > 1:
            rows_of.setdefault(r.person_id, []).append(line_no)
    keep = [counter[r.person_id] == 1 for r in referrals]
    for r, line_no, ok in zip(referrals, lines, keep):
        if not ok:
            dup_rows = rows_of[r.person_id]
            rejects.append(Reject(source, line_no, r.person_id, "person_id", DUPLICATE_PERSON.format(
                person=r.person_id, count=len(dup_rows), rows=", ".join(map(str, dup_rows))), line_no))
    referrals = [r for r, ok in zip(referrals, keep) if ok]
    valid_rows = np.asarray([n for n, ok in zip(lines, keep) if ok], dtype=np.int64)
    table = ReferralTable.from_referrals(referrals)
    violations = check_batch(table.batch)
    if violations.mask.any():
        for j in np.flatnonzero(violations.mask).tolist():
            rejects.append(Reject(source, int(valid_rows[j]), referrals[j].person_id, str(violations.field[j]),
                                  str(violations.message[j]), int(valid_rows[j])))
        good = ~violations.mask
        table = table.take(good)
        valid_rows = valid_rows[good]
    rejects.sort(key=lambda r: r.row)
    counts = ReadCounts(
        referral_rows=read,
        sanction_rows=sum(len(r.sanctions) for r in referrals),
        custody_rows=sum(len(r.custody) for r in referrals),
        valid=int(valid_rows.size),
        rejected=read - int(valid_rows.size),
    )
    counts.check()
    return ReadResult(table=table, rows=valid_rows, rejects=rejects, counts=counts, source=source)
