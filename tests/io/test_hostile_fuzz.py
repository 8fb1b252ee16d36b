"""Fuzz the readers with random bytes and mutations of valid files: a reader returns (every
record scored or rejected, counted apart from the reader) or refuses the file in one line that
names it; it never raises anything else, and both CSV parsers agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from iomscore._errors import IomscoreError
from iomscore.io import read_csv, read_jsonl, score_read

HOSTILE = [b'"', b",", b"\n", b"\r", b"\r\n", b"\xe9", b"\xff", b"\x00", b"{", b"}", b"[", b"]", b"\\", b" ",
           b"\t", b"=", b"-", b"\xef\xbb\xbf", b"\xe2\x80\xa8", b"9" * 12, b"true", b"null"]
GOOD = {"person_id": "P", "assessment_date": "2025-06-01", "date_of_birth": "1990-01-01",
        "sanctions": [{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                       "offence_group": "burglary_domestic", "disposal": "community_order"}]}


def _csv_text(n: int) -> bytes:
    rows = "".join(f"P{i},2025-06-01,1990-0{1 + i % 9}-01,male,free text {i}\n" for i in range(n))
    return ("person_id,assessment_date,date_of_birth,sex,ethnicity\n" + rows).encode()


def _jsonl_text(n: int) -> bytes:
    return "".join(json.dumps(dict(GOOD, person_id=f"P{i}")) + "\n" for i in range(n)).encode()


@st.composite
def mutated(draw: st.DrawFn, make: object) -> bytes:
    data = bytearray(make(draw(st.integers(1, 6))))  # type: ignore[operator]
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "replace", "delete"]))
        piece = draw(st.one_of(st.sampled_from(HOSTILE), st.binary(min_size=1, max_size=3)))
        if op == "insert":
            data[pos:pos] = piece
        elif op == "replace":
            data[pos:pos + len(piece)] = piece
        else:
            del data[pos:pos + draw(st.integers(1, 4))]
    return bytes(data)


def _refusal_ok(exc: Exception, path: Path) -> bool:
    message = str(exc)
    return "\n" not in message and path.name in message


def _rows_ok(result: object, lines: int) -> bool:
    rows = [int(r) for r in result.rows]  # type: ignore[attr-defined]
    rows += [r.row for r in result.rejects if r.referral_row is not None]  # type: ignore[attr-defined]
    return len(rows) == len(set(rows)) == result.counts.referral_rows and all(  # type: ignore[attr-defined]
        1 <= r <= max(lines, 1) for r in rows)


def _check_csv(data: bytes, tmp: Path) -> None:
    path = tmp / "r.csv"
    path.write_bytes(data)
    results = {}
    for engine in ("python", "auto"):
        try:
            results[engine] = read_csv(path, engine=engine)  # type: ignore[arg-type]
        except (IomscoreError, ValueError) as exc:
            assert _refusal_ok(exc, path), exc
            results[engine] = None
    a, b = results["python"], results["auto"]
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    lines = body.split(b"\n")
    for r in (a, b):
        c = r.counts
        assert c.referral_rows == c.valid + c.rejected
        assert _rows_ok(r, len(re.split(rb"\r\n|\r|\n", body)))  # (a bare CR ends a line too)
        if b'"' not in body and b"\r" not in body:  # one record per non-empty line: count it apart
            assert c.referral_rows == sum(1 for line in lines[1:] if line), (c, lines)
    assert list(a.table.batch.person_id) == list(b.table.batch.person_id)
    assert [(x.row, x.field, x.reason) for x in a.rejects] == [(x.row, x.field, x.reason) for x in b.rejects]
    score_read(a)  # the scorer takes whatever the reader let through


def _check_jsonl(data: bytes, tmp: Path) -> None:
    path = tmp / "r.jsonl"
    path.write_bytes(data)
    try:
        result = read_jsonl(path)
    except (IomscoreError, ValueError) as exc:
        assert _refusal_ok(exc, path), exc
        return
    c = result.counts
    assert c.referral_rows == c.valid + c.rejected
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    lines = text.split("\n")
    assert _rows_ok(result, len(lines))
    head = text.lstrip(" \t\r\n")
    if not head.startswith(("[", "{")) or not head.startswith("[") and '"referrals"' not in head[:4096]:
        assert c.referral_rows == sum(1 for line in lines if line.strip()), c
    score_read(result)


@given(data=mutated(_csv_text))
def test_mutated_csv(data: bytes, tmp_path_factory: object) -> None:
    _check_csv(data, tmp_path_factory.mktemp("csv"))  # type: ignore[attr-defined]


@given(data=mutated(_jsonl_text))
def test_mutated_jsonl(data: bytes, tmp_path_factory: object) -> None:
    _check_jsonl(data, tmp_path_factory.mktemp("jsonl"))  # type: ignore[attr-defined]


@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes, tmp_path_factory: object) -> None:
    tmp = tmp_path_factory.mktemp("bytes")  # type: ignore[attr-defined]
    _check_csv(data, tmp)
    _check_jsonl(data, tmp)
