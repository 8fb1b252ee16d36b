"""The run log: select and panel always record, score on request; ``iomscore runs`` verifies.

The chain properties (hypothesis): any log of appended records verifies; editing, deleting,
swapping or appending a line by hand is detected at the first line it breaks; retention keeps a
verifiable chain whose kept records are byte-identical to the originals.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iomscore import cli, synth
from iomscore._chain import GENESIS, line_hash, seal
from iomscore.cli._common import EXIT_ERROR, EXIT_NOTHING_SCORED, EXIT_OK
from iomscore.cli.runs import DEFAULT_RUN_LOG
from iomscore.monitoring import RunLog, RunLogError, file_sha256

T1 = "2025-06-03T10:00:00+00:00"


def run(argv: Sequence[str]) -> int:
    return cli.main(list(argv))


@pytest.fixture()
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.jsonl"
    synth.write_jsonl(synth.generate(60, seed=5), path)
    return path


def test_select_and_panel_record_by_default_score_only_when_asked(tmp_path: Path, refs: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert run(["score", str(refs), "-o", str(out / "scores.csv")]) == EXIT_OK
    assert not (out / DEFAULT_RUN_LOG).exists() and not (tmp_path / DEFAULT_RUN_LOG).exists()
    assert run(["select", str(refs), "--capacity", "5", "--format", "json", "--out", str(out / "sel.json"),
                "--run-log-time", T1]) == EXIT_OK
    assert run(["panel", str(refs), "--capacity", "5", "--out", str(out / "pack.html"), "--generated-at", T1,
                "--save-selection", str(out / "sel2.json"), "--run-log-time", T1]) == EXIT_OK
    assert run(["score", str(refs), "-o", str(out / "scores.csv"), "--run-log", str(out / DEFAULT_RUN_LOG),
                "--run-log-time", T1]) == EXIT_OK
    capsys.readouterr()
    records = [r.data for r in RunLog(out / DEFAULT_RUN_LOG).records()]
    assert [r["command"] for r in records] == ["select", "panel", "score"]
    sel, panel, score = records
    assert sel["inputs"][0] == {"role": "referrals", "path": str(refs), "rows": 60, "bytes": refs.stat().st_size,
                                "sha256": file_sha256(refs)}
    assert sel["outputs"] == [{"role": "selection", "path": str(out / "sel.json"),
                               "bytes": (out / "sel.json").stat().st_size, "sha256": file_sha256(out / "sel.json")}]
    assert sel["counts"] == {"read": 60, "scored": 60, "rejected": 0, "referred": 60, "selected": 5}
    assert sel["scorer"]["name"] == "iom-priority" and len(sel["scorer"]["sha256"]) == 64
    assert sel["policy"]["name"] == "neighbourhood-crime-cohort" and sel["time"] == T1
    assert sel["options"]["capacity"] == 5 and sel["iomscore_version"]
    assert json.loads((out / "sel.json").read_text())["decisions"]  # the log is not in the output
    assert {o["role"] for o in panel["outputs"]} == {"pack", "ranked list", "selection"}
    assert all(o["sha256"] == file_sha256(o["path"]) for o in panel["outputs"])
    assert score["policy"] is None and {o["role"] for o in score["outputs"]} == {"scores", "rejects"}
    assert run(["runs", str(out / DEFAULT_RUN_LOG)]) == EXIT_OK
    text = capsys.readouterr().out
    assert "3 records, hash chain verified" in text and "selected 5" in text


def test_select_to_standard_output_logs_beside_the_referrals(tmp_path: Path, refs: Path, capsys) -> None:
    assert run(["select", str(refs), "--capacity", "3"]) == EXIT_OK
    assert "run log" not in capsys.readouterr().out
    (record,) = RunLog(tmp_path / DEFAULT_RUN_LOG).records()
    assert record.data["outputs"] == [] and record.data["counts"]["selected"] == 3


def test_the_pinned_clock_gives_the_same_log_bytes(tmp_path: Path, refs: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("IOMSCORE_RUN_LOG_TIME", T1)
    logs = []
    for name in ("a", "b"):
        (tmp_path / name / "out").mkdir(parents=True)
        (tmp_path / name / "refs.jsonl").write_bytes(refs.read_bytes())
        monkeypatch.chdir(tmp_path / name)
        assert run(["select", "refs.jsonl", "--capacity", "3", "--out", "out/sel.json"]) == EXIT_OK
        logs.append((tmp_path / name / "out" / DEFAULT_RUN_LOG).read_bytes())
    capsys.readouterr()
    assert logs[0] == logs[1] and T1.encode() in logs[0]


def test_a_failed_run_writes_no_record(tmp_path: Path, capsys) -> None:
    log = tmp_path / "runs.jsonl"
    assert run(["select", str(tmp_path / "missing.jsonl"), "--run-log", str(log)]) == EXIT_ERROR
    assert not log.exists()
    assert run(["select", str(tmp_path / "missing.jsonl"), "--run-log-time", "not a time"]) == EXIT_ERROR
    capsys.readouterr()


def _demo_log(tmp_path: Path, refs: Path, capsys) -> Path:
    log = tmp_path / "runs.jsonl"
    for i, when in enumerate(("2025-01-05T09:00:00Z", "2025-03-05T09:00:00Z", "2025-06-05T09:00:00Z")):
        assert run(["select", str(refs), "--capacity", str(3 + i), "--run-log", str(log), "--run-log-time", when]) == 0
    capsys.readouterr()
    return log


@pytest.mark.parametrize("tamper", ["edit", "edit last", "delete", "append", "swap"])
def test_runs_detects_an_edited_deleted_appended_or_swapped_record(tmp_path: Path, refs: Path, capsys,
                                                                    tamper: str) -> None:
    log = _demo_log(tmp_path, refs, capsys)
    lines = log.read_bytes().splitlines(keepends=True)
    if tamper == "edit":
        lines[1] = lines[1].replace(b'"selected": 4', b'"selected": 40')
    elif tamper == "delete":
        del lines[1]
    elif tamper == "append":  # a record written by hand, not chained to the last line
        lines.append(lines[0])
    elif tamper == "edit last":
        lines[2] = lines[2].replace(b'"selected": 5', b'"selected": 50')
    else:
        lines[1], lines[2] = lines[2], lines[1]
    log.write_bytes(b"".join(lines))
    assert run(["runs", str(log)]) == EXIT_NOTHING_SCORED
    captured = capsys.readouterr()
    assert captured.out == ""
    line = {"edit": 2, "edit last": 3, "delete": 2, "append": 4, "swap": 2}[tamper]
    field = "record_sha256" if tamper.startswith("edit") else "prev_sha256"
    assert f"line {line}: {field} does not match" in captured.err and "does not verify" in captured.err


def test_retention_removes_old_records_and_keeps_the_chain(tmp_path: Path, refs: Path, capsys) -> None:
    log = _demo_log(tmp_path, refs, capsys)
    before = log.read_bytes().splitlines()
    assert run(["runs", str(log), "--remove-before", "2025-04-01"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "removed 2 records before 2025-04-01T00:00:00+00:00" in out and "1 record, hash chain verified" in out
    after = log.read_bytes().splitlines()
    checkpoint = json.loads(after[0])
    assert checkpoint["removed"] == 2 and checkpoint["removed_sha256"] == [line_hash(x) for x in before[:2]]
    assert checkpoint["resumes_after"] == line_hash(before[1]) and after[1:] == before[2:]
    # appending after retention continues the chain; pruning again carries the removed hashes forward
    assert run(["select", str(refs), "--capacity", "2", "--run-log", str(log), "--run-log-time", "2025-08-01T00:00:00Z"]) == 0
    assert run(["runs", str(log), "--remove-before", "2025-07-01"]) == EXIT_OK
    capsys.readouterr()
    again = json.loads(log.read_bytes().splitlines()[0])
    assert again["removed"] == 3 and again["removed_sha256"][:2] == checkpoint["removed_sha256"]
    assert [r.data["options"]["capacity"] for r in RunLog(log).records() if not r.is_checkpoint] == [2]
    assert run(["runs", str(log), "--remove-before", "2025-07-01"]) == EXIT_OK
    assert "nothing removed" in capsys.readouterr().out
    # the checkpoint is sealed too, and a kept record must chain to it
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join([lines[0].replace(b'"removed": 3', b'"removed": 1'), *lines[1:]]))
    assert run(["runs", str(log)]) == EXIT_NOTHING_SCORED
    assert "line 1: record_sha256 does not match" in capsys.readouterr().err
    forged = json.loads(lines[1])
    forged["prev_sha256"] = GENESIS
    log.write_bytes(b"".join([lines[0], json.dumps(seal(forged), sort_keys=True).encode() + b"\n"]))
    assert run(["runs", str(log)]) == EXIT_NOTHING_SCORED
    assert "line 2: prev_sha256 does not match" in capsys.readouterr().err


def test_runs_errors(tmp_path: Path, capsys) -> None:
    assert run(["runs", str(tmp_path / "none.jsonl")]) == EXIT_ERROR
    assert "run log not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["runs", "x.jsonl", "--remove-before", "2025-13-01"])
    with pytest.raises(RunLogError):
        RunLog(tmp_path / "l.jsonl").append({"time": "2025-01-01T00:00:00", "command": "x"})
    capsys.readouterr()


# --- properties of the chain -------------------------------------------------------------------

_times = st.integers(min_value=0, max_value=400).map(lambda d: "2025-01-01T00:00:00+00:00" if d == 0 else
                                                     f"{2025 + d // 366}-{1 + (d % 366) // 31 % 12:02d}-"
                                                     f"{1 + d % 28:02d}T00:00:00+00:00")
_records = st.lists(st.fixed_dictionaries({"time": _times, "command": st.sampled_from(["score", "select", "panel"]),
                                           "note": st.text(max_size=8)}), min_size=1, max_size=8)


def _write(tmp: Path, records: list[dict[str, str]]) -> RunLog:
    import tempfile

    log = RunLog(Path(tempfile.mkdtemp(dir=tmp)) / "runs.jsonl")
    for r in records:
        log.append(r)
    return log


@given(records=_records, data=st.data())
def test_any_single_change_to_a_line_is_detected(tmp_path_factory, records, data) -> None:
    log = _write(tmp_path_factory.mktemp("p"), records)
    assert [r.data["note"] for r in log.records()] == [r["note"] for r in records]
    lines = log.path.read_bytes().splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1))
    action = data.draw(st.sampled_from(["edit", "delete", "duplicate"]))
    if action == "edit":
        changed = json.loads(lines[i])
        changed["note"] = changed["note"] + "x"
        lines[i] = json.dumps(changed, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    elif action == "delete":
        del lines[i]
    else:
        lines.insert(i + 1, lines[i])
    log.path.write_bytes(b"".join(lines))
    if action == "delete" and i == len(records) - 1:
        # losing the last line is what a chain cannot see: its hash, kept elsewhere, can
        assert len(log.records()) == len(records) - 1
    else:
        with pytest.raises(RunLogError, match="prev_sha256 does not match|record_sha256 does not match"):
            log.records()


@given(records=_records, cut=_times)
def test_retention_keeps_a_verifiable_chain_of_the_later_records(tmp_path_factory, records, cut) -> None:
    log = _write(tmp_path_factory.mktemp("p"), records)
    original = log.path.read_bytes().splitlines()
    checkpoint = log.prune(cut)
    kept = log.records()
    n_drop = 0
    while n_drop < len(records) and records[n_drop]["time"] < cut:
        n_drop += 1
    if n_drop == 0:
        assert checkpoint is None and log.path.read_bytes().splitlines() == original
        return
    assert checkpoint is not None and checkpoint["removed"] == n_drop
    assert [r.raw for r in kept[1:]] == original[n_drop:]
    assert kept[0].is_checkpoint and checkpoint["removed_sha256"] == [line_hash(x) for x in original[:n_drop]]
    log.append({"time": "2030-01-01T00:00:00+00:00", "command": "select"})
    assert len(log.records()) == len(kept) + 1
