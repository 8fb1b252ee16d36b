"""``iomscore select`` reads the two-table CSV form through the one reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iomscore import cli, synth


def test_select_reads_two_table_csv_and_lists_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = synth.generate(60, seed=3)
    ref = tmp_path / "refs.csv"
    synth.write_csv(table, ref, tmp_path / "refs-sanctions.csv", tmp_path / "refs-custody.csv",
                    bad_fraction=0.1, seed=3)
    out = tmp_path / "sel.json"
    assert cli.main(["select", str(ref), "--capacity", "5", "--format", "json", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    counts = err.strip().splitlines()[-1]
    read, rest = counts.removeprefix("read ").split(" = scored ")
    scored, rejected = rest.split(" + rejected ")
    assert int(read) == 60 == int(scored) + int(rejected) and int(rejected) > 0
    assert err.count("iomscore: rejected") == min(int(rejected), 20) or "more rejected rows" in err
    data = json.loads(out.read_text())
    not_scored = sum(d["decision"] == "not scored" for d in data["decisions"])
    assert len(data["decisions"]) - not_scored == int(scored)
    assert sum(d["decision"] == "selected" for d in data["decisions"]) <= 5
