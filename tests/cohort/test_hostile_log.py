"""A tampered decision log (issue 9, security): what the chain alone cannot see, the anchor does.

Each test fails on the code before the anchors (the parent of d786b5f): an edit of the last
line, the last lines removed, the log emptied, a rewrite with a recomputed chain and a forged
appended line all verified; ``record`` appended to a log that did not verify; a log whose last
line had no newline was broken by the next append.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import iomscore
from iomscore import synth
from iomscore._chain import GENESIS, line_hash
from iomscore.cohort import CohortSelection, DecisionLog, DecisionLogError, select_cohort

WHEN = "2025-06-02T10:00:00+01:00"


@pytest.fixture(scope="module")
def selection() -> CohortSelection:
    refs = synth.generate(12, seed=5)
    return select_cohort(refs, iomscore.score_batch(refs), capacity=3)


def _log(tmp_path: Path, selection: CohortSelection, n: int = 3) -> DecisionLog:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    for i, d in enumerate(selection.decisions[:n]):
        log.record(selection, d.person_id, "defer", panel="North", decided_by="chair", reason=f"reason {i}",
                   decided_at=WHEN)
    return log


def _lines(log: DecisionLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def _rechain(lines: list[dict[str, Any]]) -> bytes:
    """Rewrite every line with a recomputed chain, as someone covering an edit would."""
    out, prev = [], GENESIS
    for data in lines:
        raw = json.dumps({**data, "prev_sha256": prev}, ensure_ascii=False, sort_keys=True).encode()
        out.append(raw + b"\n")
        prev = line_hash(raw)
    return b"".join(out)


def test_the_chain_alone_passes_these_but_the_anchor_does_not(tmp_path: Path, selection: CohortSelection) -> None:
    log = _log(tmp_path, selection)
    held = log.anchor()
    assert held.records == 3 and log.verify(held)[2] == 0
    original = log.path.read_bytes()
    lines = _lines(log)
    last = json.loads(lines[-1])
    tampered = {
        "last line edited": b"".join(lines[:-1]) + json.dumps({**last, "reason": "changed"}, sort_keys=True).encode() + b"\n",
        "last line removed": b"".join(lines[:-1]),
        "emptied": b"",
        "rewritten, chain recomputed": _rechain([{**json.loads(x), "reason": "rewritten"} for x in lines]),
    }
    for what, content in tampered.items():
        log.path.write_bytes(content)
        log.entries()  # the chain verifies: this is what the anchor is for
        with pytest.raises(DecisionLogError, match="does not verify against the anchor") as info:
            log.verify(held)
        assert "\n" not in str(info.value), what
        log.path.write_bytes(original)


def test_a_forged_appended_line_is_counted_after_the_anchor(tmp_path: Path, selection: CohortSelection) -> None:
    log = _log(tmp_path, selection)
    held = log.anchor()
    last = _lines(log)[-1].rstrip(b"\n")
    forged = {**json.loads(last), "decision": "include", "reason": "forged", "prev_sha256": line_hash(last)}
    with log.path.open("ab") as fh:
        fh.write(json.dumps(forged, sort_keys=True).encode() + b"\n")
    entries, now, after = log.verify(held)
    assert len(entries) == 4 and after == 1 and now.records == 4 and now != held


def test_record_refuses_a_log_that_does_not_verify(tmp_path: Path, selection: CohortSelection) -> None:
    log = _log(tmp_path, selection)
    lines = _lines(log)
    lines[1] = lines[1].replace(b"reason 1", b"reason X")
    log.path.write_bytes(b"".join(lines))
    before = log.path.read_bytes()
    with pytest.raises(DecisionLogError, match="prev_sha256 does not match"):
        log.record(selection, selection.decisions[5].person_id, "include", panel="North", decided_by="chair",
                   reason="after the edit", decided_at=WHEN)
    assert log.path.read_bytes() == before


def test_record_refuses_a_log_that_lost_the_selections_anchor(tmp_path: Path, selection: CohortSelection) -> None:
    log = _log(tmp_path, selection)
    anchored = selection.model_copy(update={"decision_log": log.anchor()})
    again = CohortSelection.from_dict(json.loads(anchored.to_json()))  # saved and read back
    assert again.decision_log == log.anchor() and again.sha256 == anchored.sha256 != selection.sha256
    log.path.write_bytes(_rechain([{**json.loads(x), "reason": "rewritten"} for x in _lines(log)]))
    with pytest.raises(DecisionLogError, match="does not hold the anchor"):
        log.record(again, again.decisions[0].person_id, "include", panel="North", decided_by="chair",
                   reason="on the rewritten log", decided_at=WHEN)
    assert len(log.entries()) == 3


def test_a_missing_final_newline_is_coped_with(tmp_path: Path, selection: CohortSelection) -> None:
    log = _log(tmp_path, selection, n=2)
    log.path.write_bytes(log.path.read_bytes().rstrip(b"\n"))
    log.entries()
    log.record(selection, selection.decisions[4].person_id, "exclude", panel="North", decided_by="chair",
               reason="after an editor dropped the newline", decided_at=WHEN)
    assert [e.reason for e in log.entries()][-1] == "after an editor dropped the newline"
    assert len(log.entries()) == 3


def test_a_bare_sha256_anchor_is_found_anywhere(tmp_path: Path, selection: CohortSelection) -> None:
    log = _log(tmp_path, selection)
    first = line_hash(_lines(log)[0])
    assert log.verify(first)[2] == 2
    with pytest.raises(DecisionLogError, match="no record has sha256"):
        log.verify("ab" * 32)
    with pytest.raises(DecisionLogError, match="RECORDS:SHA256"):
        log.verify("not-an-anchor")
