"""One reader serves every command: the same file gives the same accepted and rejected rows,
with the same reasons and line numbers, whether it is scored, selected, packed or explained."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from iomscore import cli, synth

GOOD = {"person_id": "A", "assessment_date": "2025-06-01", "date_of_birth": "1990-01-01",
        "sanctions": [{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                       "offence_group": "burglary_domestic", "disposal": "community_order"}]}
REJECT_LINE = re.compile(r"^iomscore: rejected (\S+) \((.+) row (\d+)\) (\S+): (.*)$")


def _records() -> list[object]:
    return [
        GOOD,
        dict(GOOD, person_id="B", date_of_birth="2030-01-01"),          # a cross-field rule
        dict(GOOD, person_id="C", sanctions=[dict(GOOD["sanctions"][0], disposal="flogging")]),
        [1, 2],                                                           # not an object
        dict(GOOD, person_id="D"),
        dict(GOOD, person_id="D"),                                        # a duplicate person
        dict(GOOD, person_id="E", sex="male"),
    ]


def _hostile_files(tmp: Path) -> list[Path]:
    lines = [json.dumps(r) for r in _records()]
    jsonl = tmp / "hostile.jsonl"
    jsonl.write_text("\ufeff" + "\n".join(lines[:3]) + "\n\n{not json\n" + "\n".join(lines[3:]) + "\n", encoding="utf-8")
    array = tmp / "hostile.json"
    array.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    table = synth.generate(30, seed=11)
    ref = tmp / "hostile.csv"
    synth.write_csv(table, ref, tmp / "hostile-sanctions.csv", tmp / "hostile-custody.csv", bad_fraction=0.2, seed=11)
    return [jsonl, array, ref]


def _counts(err: str) -> str:
    return [line for line in err.splitlines() if line.startswith("read ")][-1]


def _stderr_rejects(err: str) -> set[tuple[str, str, str, str]]:
    out = set()
    for line in err.splitlines():
        m = REJECT_LINE.match(line)
        if m:
            person, _, row, field, reason = m.groups()
            out.add((person if person != "?" else "", row, "" if field == "-" else field, reason))
    return out


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv"])
def test_every_command_accepts_and_rejects_the_same_rows(kind: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = {p.suffix.lstrip("."): p for p in _hostile_files(tmp_path)}[kind]

    scores, rejects = tmp_path / "s.csv", tmp_path / "rej.csv"
    assert cli.main(["score", str(path), "-o", str(scores), "--rejects", str(rejects)]) == 0
    score_err = capsys.readouterr().err
    with scores.open(encoding="utf-8") as f:
        scored = {r["person_id"] for r in csv.DictReader(f)}
    with rejects.open(encoding="utf-8") as f:
        rejected = {(r["person_id"], r["row"], r["field"], r["reason"]) for r in csv.DictReader(f)}
    assert rejected, "the hostile file must hold bad rows"
    read, rest = _counts(score_err).removeprefix("read ").split(" = scored ")
    assert int(read) == len(scored) + int(rest.split(" + rejected ")[1])

    sel = tmp_path / "sel.json"
    assert cli.main(["select", str(path), "--format", "json", "--out", str(sel)]) == 0
    select_err = capsys.readouterr().err
    decisions = json.loads(sel.read_text(encoding="utf-8"))["decisions"]
    assert {d["person_id"] for d in decisions if d["decision"] != "not scored"} == scored
    assert _counts(select_err) == _counts(score_err)
    assert _stderr_rejects(select_err) == rejected or len(rejected) > 20

    assert cli.main(["panel", str(path), "--out", str(tmp_path / "pack.html"),
                     "--generated-at", "2026-01-15T09:00:00Z"]) == 0
    panel_err = capsys.readouterr().err
    assert _counts(panel_err) == _counts(score_err)
    assert _stderr_rejects(panel_err) == _stderr_rejects(select_err)

    for person in sorted(scored)[:5]:
        assert cli.main(["explain", str(path), "--person", person]) == 0
    capsys.readouterr()
    for person in sorted({r[0] for r in rejected if r[0] and r[0] not in scored})[:5]:
        assert cli.main(["explain", str(path), "--person", person]) == 1
        err = capsys.readouterr().err
        assert any(f"row {row})" in err and reason in err for p, row, _, reason in rejected if p == person)


def test_json_lines_and_json_array_give_the_same_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonl, array, _ = _hostile_files(tmp_path)
    people = []
    for path in (jsonl, array):
        out = tmp_path / f"{path.suffix[1:]}-scores.csv"
        assert cli.main(["score", str(path), "-o", str(out)]) == 0
        with out.open(encoding="utf-8") as f:
            people.append([(r["person_id"], r["score"]) for r in csv.DictReader(f)])
    capsys.readouterr()
    assert people[0] == people[1] == [("A", people[0][0][1]), ("E", people[0][1][1])]
