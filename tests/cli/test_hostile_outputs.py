"""Outputs are never an input, never partial, and a failed write names the path."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from iomscore import cli, synth
from iomscore.io import _text, read_referrals, score_read, write_scores
from iomscore.io._atomic import WriteError
from iomscore.io._score import COUNTS_FORMAT


def _list(tmp: Path) -> Path:
    table = synth.generate(12, seed=5)
    synth.write_csv(table, tmp / "r.csv", tmp / "r-sanctions.csv", tmp / "r-custody.csv", bad_fraction=0.2, seed=5)
    return tmp / "r.csv"


def _snapshot(tmp: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(tmp.iterdir()) if p.is_file()}


@pytest.mark.parametrize("argv", [
    ["score", "{r}", "-o", "{r}"],
    ["score", "{r}", "-o", "{d}/r-sanctions.csv"],
    ["score", "{r}", "-o", "{d}/./r-custody.csv"],
    ["score", "{r}", "-o", "{d}/s.csv", "--rejects", "{r}"],
    ["score", "{r}", "-o", "{d}/s.csv", "--rejects", "{d}/s.csv"],
    ["score", "{r}", "-o", "{d}/s.csv", "--rejects", "{d}/s-counts.json"],
    ["select", "{r}", "--out", "{r}"],
    ["select", "{r}", "--out", "{d}/r-sanctions.csv"],
    ["select", "{r}", "--out", "{d}/x.csv", "--rejects", "{d}/x.csv"],
    ["panel", "{r}", "--out", "{r}"],
    ["panel", "{r}", "--out", "{d}/r-custody.csv"],
    ["panel", "{r}", "--out", "{d}/p.html", "--save-selection", "{r}"],
    ["panel", "{r}", "--out", "{d}/r.html"],  # (its ranked list would be r-ranked.csv: fine) ...
])
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, argv: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    ref = _list(tmp_path)
    before = _snapshot(tmp_path)
    code = cli.main([a.format(r=ref, d=tmp_path) for a in argv])
    err = capsys.readouterr().err
    if argv[-1] == "{d}/r.html":
        assert code == 0  # ... the control: a name beside the input that is not an input is fine
        return
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("iomscore: error:")]
    assert len(lines) == 1 and ("refusing to overwrite" in lines[0] or "both name" in lines[0])
    assert _snapshot(tmp_path) == before  # nothing written, nothing changed


def test_panel_ranked_list_may_not_overwrite_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _list(tmp_path)
    (tmp_path / "p-ranked.csv").write_bytes(ref.read_bytes())
    before = _snapshot(tmp_path)
    assert cli.main(["panel", str(tmp_path / "p-ranked.csv"), "--out", str(tmp_path / "p.html")]) == 2
    assert "the ranked list" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before


def test_score_writes_a_counts_file_that_matches_what_it_wrote(tmp_path: Path) -> None:
    ref = _list(tmp_path)
    assert cli.main(["score", str(ref), "-o", str(tmp_path / "s.jsonl")]) == 0
    doc = json.loads((tmp_path / "s-counts.json").read_text())
    assert doc["format"] == COUNTS_FORMAT and doc["read"] == doc["scored"] + doc["rejected"] == 12
    for role in ("scores", "rejects"):
        f = doc["files"][role]
        assert hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left


def test_a_failed_run_leaves_no_partial_file_and_no_current_looking_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _list(tmp_path)
    out = tmp_path / "s.csv"
    assert cli.main(["score", str(ref), "-o", str(out)]) == 0
    previous = out.read_bytes()

    def half(f: object, header: object, *args: object, **kwargs: object) -> None:
        f.write(b"person_id,score\nP1,3\n")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_text, "write_lines", half)
    monkeypatch.setattr(_text, "write_csv_rows", half)
    import iomscore.io._write as w

    monkeypatch.setattr(w, "write_lines", half)
    monkeypatch.setattr(w, "write_csv_rows", half)
    import iomscore.io._stream as st  # the scoring kernel renders in memory: the file is written at the merge

    real_open = st.atomic_open

    @contextlib.contextmanager
    def half_open(path: object, *args: object, **kwargs: object) -> Iterator[object]:
        with real_open(path, *args, **kwargs) as f:  # type: ignore[arg-type]
            half(f, None)
            yield f

    monkeypatch.setattr(st, "atomic_open", half_open)
    assert cli.main(["score", str(ref), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {out}" in err or "cannot write" in err and str(tmp_path) in err
    assert out.read_bytes() == previous  # the previous file as it was, never half a file
    assert not (tmp_path / "s-counts.json").exists()  # ... and no longer marked current
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_rejects_write_failure_does_not_replace_the_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _list(tmp_path)
    out = tmp_path / "s.csv"
    code = cli.main(["score", str(ref), "-o", str(out), "--rejects", str(tmp_path / "no-such-dir" / "rej.csv")])
    assert code == 2
    assert "no-such-dir/rej.csv" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("target", ["/dev/full", "{d}/missing/s.csv", "{r}/s.csv"])
def test_write_errors_name_the_path(tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]) -> None:
    if target == "/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    ref = _list(tmp_path)
    path = target.format(d=tmp_path, r=ref)
    assert cli.main(["score", str(ref), "-o", path, "--rejects", str(tmp_path / "rej.csv")]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {path}" in err and "Traceback" not in err


def test_write_scores_api_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = _list(tmp_path)
    run = score_read(read_referrals(ref))
    out = tmp_path / "s.jsonl"
    out.write_text("previous\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(json, "dumps", boom)
    with pytest.raises(RuntimeError):
        write_scores(out, run.scores)
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert issubclass(WriteError, OSError)
