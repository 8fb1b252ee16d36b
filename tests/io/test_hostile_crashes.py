"""Hostile input that used to crash a reader: each now gives a clean reject or a one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from iomscore import Referral, cli
from iomscore.io import MissingColumnsError, read_csv, read_jsonl, read_parquet
from iomscore.io._jsonl import TOO_DEEP

GOOD = {"person_id": "A", "assessment_date": "2025-06-01", "date_of_birth": "1990-01-01"}
SANCTION = {"offence_date": "2024-01-01", "sanction_date": "2024-02-01", "offence_group": "shop_theft",
            "disposal": "custody"}
SUMMARY = {"first_sanction_date": "2020-01-01", "current_conviction_date": "2024-01-01",
           "current_offence_group": "shop_theft"}


def _lines(path: Path, *records: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_deep_nesting_rejects_the_record_and_keeps_its_neighbours(tmp_path: Path) -> None:
    deep = '{"person_id": "X", "needs": ' + "[" * 5000 + "]" * 5000 + "}"
    result = read_jsonl(_lines(tmp_path / "r.jsonl", GOOD, deep, dict(GOOD, person_id="B")))
    assert result.counts.valid == 2
    assert [(r.row, r.reason) for r in result.rejects] == [(2, TOO_DEEP)]


def test_deep_nesting_in_a_json_array(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    p = tmp_path / "r.json"
    p.write_text("[\n" + json.dumps(GOOD) + ",\n" + deep + ",\n" + json.dumps(dict(GOOD, person_id="B")) + "\n]\n")
    result = read_jsonl(p)
    assert result.counts.referral_rows == result.counts.valid + result.counts.rejected
    assert result.counts.valid == 2


@pytest.mark.parametrize(("record", "field"), [
    (dict(GOOD, person_id="B", sanctions=[dict(SANCTION, custody_days=2**31)]), "sanctions[0].custody_days"),
    (dict(GOOD, person_id="C", sanction_summary=dict(SUMMARY, previous_sanctions=2**63)),
     "sanction_summary.previous_sanctions"),
    (dict(GOOD, person_id="D", sanction_summary=dict(SUMMARY, previous_sanctions=10**30)),
     "sanction_summary.previous_sanctions"),
])
def test_huge_integers_reject_the_record_naming_the_field(tmp_path: Path, record: dict, field: str) -> None:
    result = read_jsonl(_lines(tmp_path / "r.jsonl", GOOD, record, dict(GOOD, person_id="Z")))
    assert result.counts.valid == 2
    assert [(r.row, r.field) for r in result.rejects] == [(2, field)]


def test_referral_with_a_huge_integer_raises_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="custody_days"):
        Referral(**GOOD, sanctions=[dict(SANCTION, custody_days=2**31)])
    with pytest.raises(ValidationError, match="previous_sanctions"):
        Referral(**GOOD, sanction_summary=dict(SUMMARY, previous_sanctions=2**63))


def test_parquet_with_a_nested_column_it_does_not_use(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"person_id": ["A", "B"], "assessment_date": ["2025-01-01"] * 2,
                      "date_of_birth": ["1990-01-01"] * 2, "tags": pa.array([[1, 2], [3]]),
                      "meta": pa.array([{"x": 1}, {"x": 2}])})
    pq.write_table(table, tmp_path / "r.parquet")
    assert read_parquet(tmp_path / "r.parquet").counts.valid == 2


def test_parquet_with_a_nested_column_it_needs_is_one_error(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"person_id": ["A"], "assessment_date": pa.array([[1]]), "date_of_birth": ["x"]}),
                   tmp_path / "r.parquet")
    with pytest.raises(MissingColumnsError, match="assessment_date"):
        read_parquet(tmp_path / "r.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(MissingColumnsError, match="junk.parquet"):
        read_parquet(tmp_path / "junk.parquet")


@pytest.mark.parametrize("engine", ["python", "auto"])
def test_csv_field_longer_than_the_csv_module_limit(tmp_path: Path, engine: str) -> None:
    p = tmp_path / "r.csv"
    p.write_text("person_id,assessment_date,date_of_birth,ethnicity\n"
                 f"A,2025-01-01,1990-01-01,{'x' * 200_000}\nB,2025-01-01,1990-01-01\n"  # (row 3 is malformed)
                 "C,2025-01-01,1990-01-01,\n")
    result = read_csv(p, engine=engine)  # type: ignore[arg-type]
    assert (result.counts.valid, result.counts.rejected) == (2, 1)


@pytest.mark.parametrize("argv", [
    ["score", "{ref}", "-o", "{out}", "--chunk-size", "-1"],
    ["score", "{ref}", "-o", "{out}", "--chunk-size", "0"],
    ["score", "{ref}", "-o", ""],
    ["score", "{ref}", "-o", "{out}", "--rejects", ""],
    ["score", "{ref}", "-o", "{out}", "--top", "-2"],
    ["synth", "-n", "-5", "-o", "{out}"],
    ["synth", "-n", "0", "-o", "{out}"],
    ["synth", "-n", "3", "-o", ""],
    ["select", "{ref}", "--out", ""],
    ["panel", "{ref}", "--out", ""],
])
def test_bad_arguments_are_one_line_usage_errors(tmp_path: Path, argv: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ref = _lines(tmp_path / "r.jsonl", GOOD)
    out = tmp_path / "out.csv"
    with pytest.raises(SystemExit) as info:
        cli.main([a.format(ref=ref, out=out) for a in argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error: argument" in err
    assert not out.exists()


@pytest.mark.parametrize(("record", "field"), [
    ('{"person_id": "A", "person_id": "B", "assessment_date": "2025-06-01", "date_of_birth": "1990-01-01"}',
     "person_id"),
    (dict(GOOD, assessment_date=0), "assessment_date"),
    (dict(GOOD, date_of_birth=19900101), "date_of_birth"),
    (dict(GOOD, sanctions=[dict(SANCTION, custody_days=True)]), "sanctions[0].custody_days"),
    (dict(GOOD, sanctions=[dict(SANCTION, current="no")]), "sanctions[0].current"),
    (dict(GOOD, sanction_summary=dict(SUMMARY, previous_sanctions=True)), "sanction_summary.previous_sanctions"),
    (dict(GOOD, sanction_summary=dict(SUMMARY, previous_sanctions=2.0)), "sanction_summary.previous_sanctions"),
    (dict(GOOD, custody=[{"start": 20240101}]), "custody[0].start"),
])
def test_strict_json_rejects_coercions_and_repeated_keys(tmp_path: Path, record: object, field: str) -> None:
    result = read_jsonl(_lines(tmp_path / "r.jsonl", dict(GOOD, person_id="Z"), record))
    assert result.counts.valid == 1
    assert [(r.row, r.field) for r in result.rejects] == [(2, field)]


@pytest.mark.parametrize("text", ['{"person_id": NaN}', '{"person_id": "A", "x": Infinity}', "1" * 5000])
def test_non_json_numbers_are_rejected(tmp_path: Path, text: str) -> None:
    result = read_jsonl(_lines(tmp_path / "r.jsonl", GOOD, text))
    assert (result.counts.valid, result.counts.rejected) == (1, 1)
