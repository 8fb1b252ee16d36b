"""CSV formula injection: no text cell of a CSV iomscore writes starts a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from iomscore import cli
from iomscore.io import _columns, _text
from iomscore.io._text import FORMULA_START, neutralise, write_csv_rows

HOSTILE_IDS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|'/c calc'!A0"]
NUMERIC = {"score", "rank", "row", "referral_row", "position"}


def _list(tmp: Path) -> Path:
    base = {"assessment_date": "2025-06-01", "date_of_birth": "1990-01-01",
            "sanctions": [{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                           "offence_group": "burglary_domestic", "disposal": "community_order"}]}
    lines = [json.dumps(dict(base, person_id=p)) for p in HOSTILE_IDS]
    lines.append(json.dumps(dict(base, person_id="=BAD", date_of_birth="2030-01-01")))  # a reject
    path = tmp / "r.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cells(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(k, v) for row in csv.DictReader(f) for k, v in row.items()]


def _assert_neutral(path: Path) -> None:
    cells = _cells(path)
    assert cells, path
    for column, value in cells:
        if column in NUMERIC and value:
            float(value)  # a number stays a number
        else:
            assert not value.startswith(FORMULA_START), (path.name, column, value)


@pytest.mark.parametrize("arrow", [True, False])
def test_every_csv_iomscore_writes_is_neutralised(tmp_path: Path, arrow: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not arrow:
        monkeypatch.setattr(_columns, "HAVE_ARROW", False)
    ref = _list(tmp_path)
    assert cli.main(["score", str(ref), "-o", str(tmp_path / "s.csv")]) == 0
    assert cli.main(["select", str(ref), "--format", "csv", "--out", str(tmp_path / "sel.csv"),
                     "--rejects", str(tmp_path / "sel-rejects.csv")]) == 0
    assert cli.main(["panel", str(ref), "--out", str(tmp_path / "p.html"), "--generated-at", "2026-01-01T00:00:00Z"]) == 0
    for name in ("s.csv", "s-rejects.csv", "sel.csv", "sel-rejects.csv", "p-ranked.csv"):
        _assert_neutral(tmp_path / name)
    ids = {v for k, v in _cells(tmp_path / "s.csv") if k == "person_id"}
    assert ids == {"'" + p for p in HOSTILE_IDS}  # visible, and recoverable by dropping the quote


def test_numbers_in_numeric_columns_stay_numbers() -> None:
    buf = io.BytesIO()
    cols = [np.array(["-3.5", "+2"], dtype=object), np.array(["-3.5", "@x"], dtype=object)]
    write_csv_rows(buf, ["score", "reason"], cols, [False, True])  # type: ignore[arg-type]
    assert buf.getvalue().decode() == "score,reason\n-3.5,'-3.5\n+2,'@x\n"


def test_the_panel_uses_the_one_rule() -> None:
    from iomscore.panel import _csv as panel_csv

    assert panel_csv.neutralise is neutralise is _text.neutralise
    assert [neutralise(c) for c in ["\tx", "\rx", "ok", ""]] == ["'\tx", "'\rx", "ok", ""]
