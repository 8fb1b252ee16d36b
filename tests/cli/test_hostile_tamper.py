"""Tampering through the command line (issue 9, security): anchors, previous selections,
shipped names, unhashed specs, templates, CSV cells.

Each test fails on the code before (the parent of d786b5f).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from iomscore import cli, synth
from iomscore._chain import GENESIS, line_hash
from iomscore.scoring import _pins
from iomscore.scoring._registry import clear_scorer_cache

WHEN = "2025-06-03T10:20:00+01:00"


def run(argv: list[str]) -> int:
    clear_scorer_cache()
    return cli.main(argv)


@pytest.fixture
def files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    refs = tmp_path / "refs.jsonl"
    synth.write_jsonl(synth.generate(30, seed=4), refs)
    log = tmp_path / "decisions.jsonl"
    sel = tmp_path / "run.json"
    assert run(["select", str(refs), "--capacity", "5", "--format", "json", "--out", str(sel)]) == 0
    capsys.readouterr()
    return {"refs": refs, "selection": sel, "log": log, "dir": tmp_path}


def _people(files: dict[str, Path]) -> list[str]:
    return [d["person_id"] for d in json.loads(files["selection"].read_text())["decisions"]]


def _decide(files: dict[str, Path], person: str, reason: str = "Panel view", selection: Path | None = None) -> int:
    return run(["decide", str(files["log"]), "--selection", str(selection or files["selection"]), "--person", person,
                "--decision", "include", "--reason", reason, "--by", "chair-02", "--at", WHEN])


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("iomscore: "), err
    assert "Traceback" not in err[0] and "validation error" not in err[0]
    return err[0]


def _rechain(raw_lines: list[bytes], **change: Any) -> bytes:
    out, prev = [], GENESIS
    for raw in raw_lines:
        data = {**json.loads(raw), **change, "prev_sha256": prev}
        line = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        out.append(line + b"\n")
        prev = line_hash(line)
    return b"".join(out)


# --- the decision log anchor ----------------------------------------------------------------


def test_decide_prints_the_anchor_and_verify_checks_it(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    people = _people(files)
    for p in people[:3]:
        assert _decide(files, p) == 0
    anchor = capsys.readouterr().out.strip().splitlines()[-1].split("anchor ")[1].split(" ")[0]
    assert anchor.startswith("3:")
    assert run(["decisions", str(files["log"]), "--verify", "--anchor", anchor]) == 0
    assert "nothing up to record 3 changed" in capsys.readouterr().out
    original = files["log"].read_bytes()
    lines = original.splitlines(keepends=True)
    for content in (b"".join(lines[:-1]),                                   # last line removed
                    b"",                                                    # emptied
                    b"".join(lines[:-1]) + lines[-1].replace(b"Panel view", b"Panel wiew"),  # last line edited
                    _rechain(lines, reason="rewritten")):                  # rewritten, chain recomputed
        files["log"].write_bytes(content)
        assert run(["decisions", str(files["log"]), "--verify", "--anchor", anchor]) == 1
        assert "does not verify against the anchor" in _error(capsys)
    files["log"].write_bytes(original)


def test_a_forged_appended_line_is_named_as_not_covered(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    people = _people(files)
    assert _decide(files, people[0]) == 0
    anchor = capsys.readouterr().out.strip().split("anchor ")[1].split(" ")[0]
    last = files["log"].read_bytes().rstrip(b"\n")
    forged = {**json.loads(last), "person_id": people[1], "reason": "forged", "prev_sha256": line_hash(last)}
    with files["log"].open("ab") as fh:
        fh.write(json.dumps(forged, sort_keys=True).encode() + b"\n")
    assert run(["decisions", str(files["log"]), "--verify", "--anchor", anchor]) == 0
    assert "1 record(s) after the anchor (records 2-2) are not covered by it" in capsys.readouterr().out


def test_decide_refuses_a_log_rewritten_since_the_selection(files: dict[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    people = _people(files)
    assert _decide(files, people[0]) == 0
    second = tmp_path / "second.json"  # the next run, anchored on the log with one decision
    assert run(["select", str(files["refs"]), "--capacity", "5", "--format", "json", "--out", str(second),
                "--decisions", str(files["log"])]) == 0
    assert json.loads(second.read_text())["decision_log"]["records"] == 1
    files["log"].write_bytes(_rechain(files["log"].read_bytes().splitlines(), reason="rewritten"))
    capsys.readouterr()
    before = files["log"].read_bytes()
    assert _decide(files, people[1], selection=second) == 2
    assert "does not hold the anchor" in _error(capsys)
    assert files["log"].read_bytes() == before
    assert run(["decisions", str(files["log"]), "--verify", "--selection", str(second)]) == 1


def test_decide_copes_with_a_missing_final_newline(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    people = _people(files)
    assert _decide(files, people[0]) == 0
    files["log"].write_bytes(files["log"].read_bytes().rstrip(b"\n"))
    assert _decide(files, people[1]) == 0
    capsys.readouterr()
    assert run(["decisions", str(files["log"]), "--verify"]) == 0
    assert "2 record(s), hash chain verified" in capsys.readouterr().out


def test_decisions_csv_cells_are_neutralised(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert _decide(files, _people(files)[0], reason='=HYPERLINK("http://x","y")') == 0
    capsys.readouterr()
    assert run(["decisions", str(files["log"]), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["reason"] == "'=HYPERLINK(\"http://x\",\"y\")"


# --- panel --previous -------------------------------------------------------------------------


def test_panel_previous_given_a_json_array_is_one_line(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    bad = files["dir"] / "array.json"
    bad.write_text("[1, 2, 3]")
    code = run(["panel", str(files["refs"]), "--previous", str(bad), "--out", str(files["dir"] / "p.html")])
    assert code == 2 and "not a JSON object" in _error(capsys)


def test_panel_previous_edited_is_refused(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(files["selection"].read_text())
    scored = next(d for d in data["decisions"] if d["score"] is not None)
    scored["score"] = scored["score"] + 40  # a "score moved" that never happened
    edited = files["dir"] / "edited.json"
    edited.write_text(json.dumps(data))
    code = run(["panel", str(files["refs"]), "--previous", str(edited), "--out", str(files["dir"] / "p.html")])
    assert code == 2 and "edited after it was saved" in _error(capsys)
    assert not (files["dir"] / "p.html").exists()


# --- shipped names, unhashed specs, templates -------------------------------------------------


def test_a_policy_file_named_like_the_default_in_the_working_directory_is_not_read(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(files["dir"])
    (files["dir"] / "neighbourhood-crime-cohort").write_text('{"this": "is not the policy"}')
    out = files["dir"] / "sel.json"
    assert run(["select", str(files["refs"]), "--format", "json", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["policy_sha256"] == _pins.POLICIES["neighbourhood-crime-cohort"]


def _tiny_spec(reason: str = "{value} recent offences") -> dict[str, Any]:
    return {"name": "tiny-cli", "version": "1", "title": "Tiny",
            "factors": [{"name": "r", "feature": "offences_12m_at_risk", "label": "Recent", "bins": [
                {"upper": 1, "points": 0, "reason": "none"}, {"lower": 1, "points": 2, "reason": reason}]}],
            "bands": [{"name": "all"}]}


def test_an_unhashed_spec_needs_allow_unhashed(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec = files["dir"] / "mine.json"
    spec.write_text(json.dumps(_tiny_spec()))
    out = files["dir"] / "scores.csv"
    assert run(["score", str(files["refs"]), "--scorer", str(spec), "-o", str(out)]) == 2
    assert "--allow-unhashed" in _error(capsys)
    assert run(["score", str(files["refs"]), "--scorer", str(spec), "-o", str(out), "--allow-unhashed"]) == 0
    assert out.exists()


def test_an_unknown_key_in_a_reason_template_is_a_clear_error(files: dict[str, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    spec = files["dir"] / "nope.json"
    spec.write_text(json.dumps(_tiny_spec("{nope} offences")))
    code = run(["score", str(files["refs"]), "--scorer", str(spec), "-o", str(files["dir"] / "s.csv"),
                "--allow-unhashed"])
    line = _error(capsys)
    assert code == 2 and line != "iomscore: error: nope"
    assert str(spec) in line and "factors[0].bins[1].reason" in line and "{nope}" in line


# --- the run log: the same anchor, pruned records counted --------------------------------------


def test_the_run_log_verifies_against_an_anchor(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    log = files["dir"] / "runs.jsonl"
    for when in ("2025-05-01T09:00:00+00:00", "2025-06-01T09:00:00+00:00", "2025-07-01T09:00:00+00:00"):
        assert run(["select", str(files["refs"]), "--format", "json", "--out", str(files["dir"] / "s.json"),
                    "--run-log", str(log), "--run-log-time", when]) == 0
    capsys.readouterr()
    assert run(["runs", str(log)]) == 0
    anchor = capsys.readouterr().out.split("\nanchor ")[1].split(" ")[0]
    assert anchor.startswith("3:")
    assert run(["runs", str(log), "--remove-before", "2025-06-15", "--anchor", anchor]) == 0  # pruned, still holds
    assert "nothing up to record 3 changed" in capsys.readouterr().out
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:-1]))  # the last record removed
    assert run(["runs", str(log), "--anchor", anchor]) == 1
    assert "does not verify against the anchor" in _error(capsys)
