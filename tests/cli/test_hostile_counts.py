"""Rows that are not referrals are counted where people look, and a missing table is said."""

from __future__ import annotations

from pathlib import Path

import pytest

from iomscore import cli

HEADER = "person_id,assessment_date,date_of_birth\n"
SAN = "person_id,offence_date,sanction_date,offence_group,disposal\n"


def _files(tmp: Path, sanctions: bool = True) -> Path:
    (tmp / "r.csv").write_text(HEADER + "A,2025-06-01,1990-01-01\n")
    if sanctions:
        (tmp / "r-sanctions.csv").write_text(SAN + "A,2025-02-01,2025-03-01,shop_theft,fine\n"
                                             "GHOST,2025-02-01,2025-03-01,shop_theft,fine\n")
    return tmp / "r.csv"


@pytest.mark.parametrize("command", ["score", "select"])
def test_orphan_rows_are_counted_on_stderr(tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _files(tmp_path)
    extra = ["-o", str(tmp_path / "s.csv")] if command == "score" else []
    assert cli.main([command, str(ref), *extra]) == 0
    err = capsys.readouterr().err
    assert "also rejected 1 sanction or custody row(s) that match no referral" in err
    assert err.strip().splitlines()[-1].startswith("read 1 = scored 1 + rejected 0")


def test_a_missing_sanctions_table_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _files(tmp_path, sanctions=False)
    assert cli.main(["score", str(ref), "-o", str(tmp_path / "s.csv")]) == 0
    err = capsys.readouterr().err
    assert "warning: no sanctions table" in err and "r-sanctions.csv" in err and "empty sanction history" in err
    _files(tmp_path)
    assert cli.main(["score", str(ref), "-o", str(tmp_path / "s.csv")]) == 0
    assert "no sanctions table" not in capsys.readouterr().err
