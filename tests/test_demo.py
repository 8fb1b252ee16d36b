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
                     "audit-month1.md", "card-iom-priority.md", "panel-cohorts.html", "panel-cohorts-ranked.csv",
                     "selection-cohorts.json", "house-current.csv", "panel-house.html", "panel-house-ranked.csv",
                     "select-house.txt", "referrals-month2.csv", "drift-month2.md", "drift-month2.html",
                     "audit-outcomes.md"):
        assert files.get(expected), expected
        assert (os.path.join("out", expected) in printed or expected.endswith("month2.json")
                or expected.endswith("-ranked.csv") and expected.startswith(("panel-cohorts", "panel-house")))
    assert b"hash chain verified" in files["decisions.txt"]
    assert b"7 records, hash chain verified" in files["runs.txt"]  # two scores, four packs, one select
    assert b"Selection rates by group" in files["audit-month1.md"] and b"ATRS tier 2" in files["card-iom-priority.md"]
    assert files["decisions.jsonl"].count(b"\n") == 3
    # accountability: drift between two months that differ, the outcome audit at capacity, leaving dates
    assert b"referrals.csv -> " in files["drift-month2.md"] and b"variables shifted" in files["drift-month2.md"]
    assert b"<svg" in files["drift-month2.html"] and b"Error rates at capacity: the top 20" in files["audit-outcomes.md"]
    assert files["panel-month1.html"].count(b'<p class="leaves">') >= 20
    assert files["referrals-month2.csv"] != files["referrals.csv"]
    # the demo's run log verifies, and an edited, deleted or appended record is reported (exit 1)
    from iomscore import cli

    lines = files["iomscore-runs.jsonl"].decode().splitlines(keepends=True)
    tampered = {"as written": lines, "edited": [lines[0].replace('"exit_status": 0', '"exit_status": 3'), *lines[1:]],
                "deleted": lines[:1] + lines[2:], "appended": [*lines, lines[-1]]}
    assert tampered["edited"] != lines
    for name, content in tampered.items():
        log = tmp_path / f"runs-{name}.jsonl"
        log.write_text("".join(content), encoding="utf-8")
        assert cli.main(["runs", str(log)]) == (0 if name == "as written" else 1), name
    assert b"Demo panel chair" in files["panel-month2.html"]
    # the operating model: several cohorts named per person, per-cohort sums that add up, beds turning over
    cohorts = files["panel-cohorts-ranked.csv"].decode().splitlines()
    assert cohorts[0].split(",")[4] == "cohort" and {"fixed", "flex", "free"} <= {r.split(",")[4] for r in cohorts[1:]}
    assert b"DOES NOT ADD UP" not in files["panel-cohorts.html"] and b'data-total="fixed.candidates"' in files["panel-cohorts.html"]
    assert b'id="turnover"' in files["panel-house.html"] and b'id="leavers"' in files["panel-house.html"]
    assert b"free at 2026-01-12" in files["select-house.txt"]
