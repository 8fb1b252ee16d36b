"""Malformed CSV and encodings: every physical record is scored or rejected, never dropped, and
an error names the file, the line and (where there is one) the column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iomscore import cli
from iomscore.io import MissingColumnsError, read_csv, read_jsonl, read_referrals

HEADER = "person_id,assessment_date,date_of_birth,sex\n"
ENGINES = ["python", "auto"]


def _row(pid: str) -> str:
    return f"{pid},2025-01-01,1990-01-01,male\n"


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def _accounted(result: object) -> dict[int, str]:
    """{line: 'ok' or the reason} of every referral record."""
    out = {int(r): "ok" for r in result.rows}  # type: ignore[attr-defined]
    out.update({r.row: r.reason for r in result.rejects if r.referral_row is not None})  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_unclosed_quote_does_not_swallow_the_rest(tmp_path: Path, engine: str) -> None:
    text = HEADER + _row("A") + _row("B") + 'C,2025-01-01,"1990-01-01,male\n' + _row("D") + _row("E") + _row("F")
    result = read_csv(_write(tmp_path / "r.csv", text), engine=engine)  # type: ignore[arg-type]
    assert result.counts.referral_rows == 6 == result.counts.valid + result.counts.rejected
    assert list(result.table.batch.person_id) == ["A", "B", "D", "E", "F"]
    (reject,) = result.rejects
    assert (reject.row, reject.person_id) == (4, "C") and "line 4" in reject.reason and "quote" in reject.reason


@pytest.mark.parametrize("engine", ENGINES)
def test_unclosed_quote_in_the_last_column(tmp_path: Path, engine: str) -> None:
    text = HEADER + _row("A") + 'B,2025-01-01,1990-01-01,"male\n' + _row("C") + _row("D")
    result = read_csv(_write(tmp_path / "r.csv", text), engine=engine)  # type: ignore[arg-type]
    assert _accounted(result) == {2: "ok", 3: result.rejects[0].reason, 4: "ok", 5: "ok"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_line_break_only_in_free_text(tmp_path: Path, engine: str) -> None:
    text = ("person_id,assessment_date,date_of_birth,ethnicity\n"
            'A,2025-01-01,1990-01-01,"two\nlines"\n'
            '"B\nB",2025-01-01,1990-01-01,\n'
            "C,2025-01-01,1990-01-01,x\n")
    result = read_csv(_write(tmp_path / "r.csv", text), engine=engine)  # type: ignore[arg-type]
    assert list(result.table.batch.person_id) == ["A", "B\"", "C"]  # (line 5, read on its own, is B",...)
    assert list(result.rows) == [2, 5, 6]
    assert [r.row for r in result.rejects] == [4]


@pytest.mark.parametrize("engine", ENGINES)
def test_rows_are_physical_lines_with_blank_lines_and_crlf(tmp_path: Path, engine: str) -> None:
    text = (HEADER + _row("A") + "\n" + _row("B") + "\n\n" + "C,2025-01-01,1990-13-01,male\n").replace("\n", "\r\n")
    result = read_csv(_write(tmp_path / "r.csv", text), engine=engine)  # type: ignore[arg-type]
    assert list(result.rows) == [2, 4]
    assert [(r.row, r.field) for r in result.rejects] == [(7, "date_of_birth")]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_latin1_byte_rejects_only_its_row(tmp_path: Path, engine: str) -> None:
    text = (b"person_id,assessment_date,date_of_birth,ethnicity\n" b"A,2025-01-01,1990-01-01,Caf\xe9\n"
            b"B,2025-01-01,1990-01-01,x\n")
    result = read_csv(_write(tmp_path / "r.csv", text), engine=engine)  # type: ignore[arg-type]
    assert list(result.table.batch.person_id) == ["B"]
    (reject,) = result.rejects
    assert (reject.row, reject.person_id, reject.field) == (2, "A", "protected.ethnicity")
    assert "r.csv line 2, column 28: byte 0xe9 is not UTF-8" in reject.reason


def test_a_latin1_byte_in_json_lines(tmp_path: Path) -> None:
    good = {"person_id": "A", "assessment_date": "2025-01-01", "date_of_birth": "1990-01-01"}
    data = json.dumps(good).encode() + b"\n" + b'{"person_id": "B\xe9"}\n' + json.dumps(dict(good, person_id="C")).encode()
    result = read_jsonl(_write(tmp_path / "r.jsonl", data))
    assert result.counts.valid == 2
    assert [(r.row, "line 2, column 17: byte 0xe9" in r.reason) for r in result.rejects] == [(2, True)]


@pytest.mark.parametrize("name", ["r.csv", "r.jsonl"])
def test_utf16_is_named(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, (HEADER + _row("A")).encode("utf-16"))
    with pytest.raises(MissingColumnsError, match="UTF-16"):
        read_referrals(path)


def test_a_header_with_a_leading_space_is_hinted(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", " person_id,assessment_date,date_of_birth\n" + "A,2025-01-01,1990-01-01\n")
    with pytest.raises(MissingColumnsError, match=r"did you mean 'person_id'\?"):
        read_csv(path)


def test_one_whitespace_rule_for_every_format(tmp_path: Path) -> None:
    csv_path = _write(tmp_path / "r.csv", "person_id,assessment_date,date_of_birth,sex\n"
                      " A ,2025-01-01, 1990-01-01,male \nA,2025-01-01,1990-01-01,male\n")
    rec = {"person_id": " A ", "assessment_date": "2025-01-01", "date_of_birth": " 1990-01-01", "sex": "male "}
    json_path = _write(tmp_path / "r.jsonl", json.dumps(rec) + "\n" + json.dumps(dict(rec, person_id="A")) + "\n")
    for path in (csv_path, json_path):
        result = read_referrals(path)
        assert result.counts.valid == 0, path
        assert {(r.person_id, r.field) for r in result.rejects} == {("A", "person_id")}, path


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
@pytest.mark.parametrize("command", ["score", "explain", "select", "panel"])
def test_a_byte_order_mark_is_accepted_by_every_command(tmp_path: Path, suffix: str, command: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    rec = {"person_id": "A", "assessment_date": "2025-01-01", "date_of_birth": "1990-01-01"}
    text = HEADER + _row("A") if suffix == "csv" else json.dumps(rec) + "\n"
    path = _write(tmp_path / f"r.{suffix}", "\ufeff" + text)
    extra = {"score": ["-o", str(tmp_path / "o.csv")], "explain": ["--person", "A"],
             "select": [], "panel": ["--out", str(tmp_path / "p.html")]}[command]
    assert cli.main([command, str(path), *extra]) == 0
    assert "read 1 = scored 1 + rejected 0" in capsys.readouterr().err or command == "explain"
