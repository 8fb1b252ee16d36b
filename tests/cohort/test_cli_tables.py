"""``iomscore select`` reads the two-table CSV form through iomscore.io."""

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
    read, rest = counts.removeprefix("read ").split(" = valid ")
    valid, rejected = rest.split(" + rejected ")
    assert int(read) == int(valid) + int(rejected) and int(rejected) > 0
    assert err.count("iomscore: rejected") >= int(rejected)
    data = json.loads(out.read_text())
    assert len(data["decisions"]) == int(valid)
    assert sum(d["decision"] == "selected" for d in data["decisions"]) <= 5
