"""``iomscore decide`` and ``iomscore decisions``: round trips, verification, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from iomscore import cli, synth
from iomscore.cli._common import EXIT_ERROR
from iomscore.cohort import CohortSelection, DecisionLog, override_rates
from iomscore.io import read_referrals

WHEN = "2025-06-03T10:20:00+01:00"


def run(argv: Sequence[str]) -> int:
    """``iomscore ARGV`` through the one command line."""
    return cli.main(list(argv))


@pytest.fixture()
def run_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """Referrals as JSON Lines and the selection ``iomscore select --format json --out`` writes."""
    refs = tmp_path / "refs.jsonl"
    synth.write_jsonl(synth.generate(40, seed=3), refs)
    sel = tmp_path / "run.json"
    assert run(["select", str(refs), "--capacity", "5", "--format", "json", "--out", str(sel)]) == 0
    capsys.readouterr()
    return {"refs": refs, "selection": sel, "log": tmp_path / "decisions.jsonl"}


def _decide(files: dict[str, Path], person: str, decision: str, reason: str = "Panel view", **extra: str) -> int:
    argv = ["decide", str(files["log"]), "--selection", str(files["selection"]), "--person", person,
            "--decision", decision, "--reason", reason, "--by", "chair-02", "--at", WHEN]
    for key, value in extra.items():
        argv += [f"--{key}", value]
    return run(argv)


def _people(files: dict[str, Path]) -> list[tuple[str, str]]:
    sel = CohortSelection.load(files["selection"])
    return [(d.person_id, d.recommended_action) for d in sel.decisions]


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("iomscore: error: ")
    assert "validation error" not in lines[0] and "pydantic" not in lines[0]
    assert captured.out == ""
    return lines[0]


def test_select_decide_decisions_round_trip(run_files, capsys) -> None:
    people = _people(run_files)
    chosen = [(people[0][0], "include"), (people[1][0], "exclude"), (people[7][0], "include"),
              (people[9][0], "defer"), (people[0][0], "defer")]
    for n, (pid, decision) in enumerate(chosen, start=1):
        assert _decide(run_files, pid, decision, reason=f"because {pid}", panel="North IOM panel") == 0
        line, anchor_line = capsys.readouterr().out.splitlines()
        assert line.startswith(f"recorded in {run_files['log']}: {pid} {decision} (")
        assert "North IOM panel" in line and WHEN in line
        assert str(DecisionLog(run_files["log"]).anchor()) in anchor_line  # the new anchor, to keep
        assert anchor_line.startswith(f"decision log {run_files['log']}: {n} record(s), anchor {n}:")
    entries = DecisionLog(run_files["log"]).entries()
    assert [(e.person_id, e.decision, e.reason) for e in entries] == [(p, d, f"because {p}") for p, d in chosen]

    assert run(["decisions", str(run_files["log"]), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is True and len(data["decisions"]) == len(chosen)
    assert [d["person_id"] for d in data["decisions"]] == [p for p, _ in chosen]
    expected = override_rates(entries)
    assert data["override_rates"]["decisions"] == expected.decisions == 4  # latest per person
    assert data["override_rates"]["overrides"] == expected.overrides
    assert data["override_rates"]["formatted"] == expected.formatted()
    assert data["override_rates"]["by_group"] == []

    assert run(["decisions", str(run_files["log"])]) == 0
    text = capsys.readouterr().out
    assert "hash chain verified" in text and f"Overrides (latest decision per person): {expected.formatted()}" in text
    assert "give --referrals FILE" in text
    for pid, _ in chosen:
        assert pid in text

    assert run(["decisions", str(run_files["log"]), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["person_id"], r["decision"]) for r in rows] == chosen
    assert all(r["override"] == ("yes" if r["decision"] != r["recommended_action"] else "no") for r in rows)


def test_decisions_by_group_use_the_referrals(run_files, capsys) -> None:
    people = _people(run_files)
    for i, (pid, action) in enumerate(people[:24]):
        decision = action if i % 3 else ("include" if action != "include" else "exclude")
        assert _decide(run_files, pid, decision) == 0
    capsys.readouterr()
    assert run(["decisions", str(run_files["log"]), "--referrals", str(run_files["refs"]),
                "--selection", str(run_files["selection"]), "--format", "json", "--min-group-size", "5"]) == 0
    data = json.loads(capsys.readouterr().out)
    table = read_referrals(run_files["refs"]).table
    report = override_rates(DecisionLog(run_files["log"]), table, min_group_size=5)
    rates = data["override_rates"]
    assert rates["overrides"] == report.overrides == 8 and rates["decisions"] == 24
    assert data["undecided"] == 40 - 24
    shown = {g["characteristic"] for g in rates["by_group"]}
    assert {"sex", "ethnicity"} <= shown and "sexual_orientation" not in shown  # nobody recorded
    for name in shown:
        rows = [g for g in rates["by_group"] if g["characteristic"] == name]
        assert rows == [g.model_dump(mode="json") for g in report.groups(name)]
        assert sum(g["decisions"] for g in rows) == 24 and sum(g["overrides"] for g in rows) == 8
        assert all(g["small"] == (g["decisions"] < 5) for g in rows)

    assert run(["decisions", str(run_files["log"]), "--referrals", str(run_files["refs"])]) == 0
    text = capsys.readouterr().out
    report = override_rates(DecisionLog(run_files["log"]), table)  # the default min_group_size
    assert "Overrides by sex:" in text and report.caveat in text
    for g in report.groups("sex"):
        assert f"{g.group}" in text and g.formatted() in text


def test_decisions_for_one_selection_only(run_files, tmp_path, capsys) -> None:
    people = _people(run_files)
    assert _decide(run_files, people[0][0], "include") == 0
    other = tmp_path / "other.json"
    sel = CohortSelection.load(run_files["selection"])
    other.write_text(sel.model_copy(update={"capacity": 99}).to_json(), encoding="utf-8")
    assert _decide({**run_files, "selection": other}, people[1][0], "exclude") == 0
    capsys.readouterr()
    assert run(["decisions", str(run_files["log"]), "--selection", str(other), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["person_id"] for d in data["decisions"]] == [people[1][0]]


def test_an_edited_line_fails_verification(run_files, capsys) -> None:
    people = _people(run_files)
    for pid, _ in people[:3]:
        assert _decide(run_files, pid, "include") == 0
    lines = run_files["log"].read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[1])
    edited["reason"] = "a different reason"
    lines[1] = json.dumps(edited, sort_keys=True)
    run_files["log"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert run(["decisions", str(run_files["log"])]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "line 3" in captured.err and "does not verify" in captured.err
    # and no decision is appended to a log that does not verify
    before = run_files["log"].read_bytes()
    assert _decide(run_files, people[4][0], "include") == EXIT_ERROR
    assert "line 3" in _one_error_line(capsys)
    assert run_files["log"].read_bytes() == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_blank_reason_is_one_line_naming_the_field(run_files, capsys, reason: str) -> None:
    assert _decide(run_files, _people(run_files)[0][0], "include", reason=reason) == EXIT_ERROR
    line = _one_error_line(capsys)
    assert "--reason" in line and "needs a reason" in line
    assert not run_files["log"].exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"person": "NOBODY"}, "--person 'NOBODY' is not in the selection"),
        ({"at": "yesterday"}, "--at 'yesterday' is not an ISO 8601 time"),
        ({"at": "2025-06-03T10:20:00"}, "has no time zone"),
        ({"by": "  "}, "--by is blank"),
        ({"panel": ""}, "--panel is blank"),
    ],
)
def test_other_decide_errors_are_one_line(run_files, capsys, change: dict[str, str], expected: str) -> None:
    argv = {"person": _people(run_files)[0][0], "decision": "include", "reason": "r", "by": "chair", "at": WHEN}
    argv.update(change)
    args = ["decide", str(run_files["log"]), "--selection", str(run_files["selection"])]
    for key, value in argv.items():
        args += [f"--{key}", value]
    assert run(args) == EXIT_ERROR
    assert expected in _one_error_line(capsys)
    assert not run_files["log"].exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "selection file not found"),
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"policy_name": "p"}', "is not a selection written by"),
    ],
)
def test_bad_selection_files_are_one_line(run_files, tmp_path, capsys, content: str | None, expected: str) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert _decide({**run_files, "selection": path}, "P1", "include") == EXIT_ERROR
    assert expected in _one_error_line(capsys)


def test_decisions_errors(run_files, tmp_path, capsys) -> None:
    assert run(["decisions", str(tmp_path / "missing.jsonl")]) == EXIT_ERROR
    assert "decision log not found" in _one_error_line(capsys)
    assert _decide(run_files, _people(run_files)[0][0], "include") == 0
    capsys.readouterr()
    assert run(["decisions", str(run_files["log"]), "--referrals", str(tmp_path / "nope.jsonl")]) == EXIT_ERROR
    assert "input file not found" in _one_error_line(capsys)
    with pytest.raises(SystemExit):
        run(["decisions", str(run_files["log"]), "--min-group-size", "0"])



def test_a_selection_saved_by_the_panel_command_is_decided_on(run_files, tmp_path, capsys) -> None:
    saved = tmp_path / "panel-run.json"
    assert run(["panel", str(run_files["refs"]), "--capacity", "5", "--out", str(tmp_path / "pack.html"),
                "--save-selection", str(saved)]) == 0
    capsys.readouterr()
    person = CohortSelection.load(saved).decisions[0].person_id
    assert _decide({**run_files, "selection": saved}, person, "defer") == 0
    assert capsys.readouterr().out.startswith(f"recorded in {run_files['log']}: {person} defer")
    assert DecisionLog(run_files["log"]).entries()[0].selection_sha256 == CohortSelection.load(saved).sha256
