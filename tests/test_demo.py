"""``make demo`` runs the whole path and writes the same bytes every time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iomscore import demo


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def test_demo_runs_the_whole_path_deterministically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)  # relative paths, so the rejects' source names match
        assert demo.main(["--out", "out", "-n", "120"]) == 0
        runs.append(_files(Path("out")))
    printed = capsys.readouterr().out
    assert runs[0] == runs[1]
    files = runs[0]
    for expected in ("scores-iom-priority.csv", "scores-ogrs3.csv", "explanations.md", "selection-month1.json",
                     "panel-month1.html", "panel-month1-ranked.csv", "decisions.jsonl", "decisions.txt",
                     "panel-month2.html", "selection-month2.json", "iomscore-runs.jsonl", "runs.txt",
                     "outcomes.csv", "learned-points.json", "learned-points.report.md", "scores-learned-points.csv",
                     "audit-month1.md", "card-iom-priority.md"):
        assert files.get(expected), expected
        assert os.path.join("out", expected) in printed or expected.endswith("month2.json")
    assert b"hash chain verified" in files["decisions.txt"]
    assert b"4 records, hash chain verified" in files["runs.txt"]  # two scores, two packs
    assert b"Selection rates by group" in files["audit-month1.md"] and b"ATRS tier 2" in files["card-iom-priority.md"]
    assert files["decisions.jsonl"].count(b"\n") == 3
    assert b"Demo panel chair" in files["panel-month2.html"]
