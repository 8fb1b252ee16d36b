"""Reading JSON Lines: one :class:`~iomscore.Referral` (nested JSON) per line."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..schema._referral import Referral
from ..schema._rules import check_batch
from ..schema._table import ReferralTable
from ._common import DUPLICATE_PERSON, ReadCounts, ReadResult, Reject

__all__ = ["error_path", "read_jsonl"]


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


def _person_of(line: str) -> str:
    try:
        value = json.loads(line)
    except ValueError:
        return ""
    if isinstance(value, dict) and isinstance(value.get("person_id"), str):
        return value["person_id"].strip()
    return ""


def read_jsonl(path: str | os.PathLike[str]) -> ReadResult:
    """Read referrals from a JSON Lines file (blank lines are skipped).

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
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            read += 1
            try:
                referrals.append(Referral.model_validate_json(line, context={"skip_rules": True}))
                lines.append(number)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                rejects.append(Reject(source, number, _person_of(line), error_path(tuple(first["loc"])),
                                      str(first["msg"]), number))
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
