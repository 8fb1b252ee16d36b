"""The iomscore command line: exit codes, counts line, rejects file, progress bar, subcommands."""

from __future__ import annotations

import csv
import io as stdio
import json
from pathlib import Path

import pytest

from iomscore import cli, synth


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    table = synth.generate(120, seed=5, bad_fraction=0.05)
    synth.write_csv(table, *synth.default_paths(d / "r.csv"), bad_fraction=0.05, seed=5)
    synth.write_jsonl(synth.generate(40, seed=6), d / "r.jsonl")
    return d


def test_score_csv_counts_and_rejects(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scores.csv"
    code = cli.main(["score", str(inputs / "r.csv"), "--scorer", "ogrs3", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    line = next(x for x in err.splitlines() if x.startswith("read "))
    read, scored, rejected = (int(w) for w in line.replace("=", " ").replace("+", " ").split()[1::2])
    assert read == 120 and read == scored + rejected and rejected > 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    rejects = list(csv.DictReader((tmp_path / "scores-rejects.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == scored
    assert len({r["referral_row"] for r in rejects if r["referral_row"]}) == rejected
    assert {"prob_1y", "prob_2y", "reason_1", "model_sha256"} <= set(rows[0])
    assert "\r" not in err  # stderr is not a terminal: no progress bar


def test_score_jsonl_to_jsonl(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.jsonl"
    assert cli.main(["score", str(inputs / "r.jsonl"), "-o", str(out), "--rejects", str(tmp_path / "rej.csv")]) == 0
    assert "read 40 = scored 40 + rejected 0" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 40


def test_nothing_scored_exits_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.csv").write_text("person_id,assessment_date,date_of_birth\nA,2025-01-01,2020-01-01\n")
    code = cli.main(["score", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o.csv")])
    assert code == 1
    assert "read 1 = scored 0 + rejected 1" in capsys.readouterr().err
    assert "date_of_birth" in (tmp_path / "o-rejects.csv").read_text()


def test_file_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["score", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    (tmp_path / "r.csv").write_text("person_id\nA\n")
    assert cli.main(["score", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "assessment_date" in capsys.readouterr().err
    assert cli.main(["score", str(tmp_path / "r.csv"), "--scorer", "nope", "-o", str(tmp_path / "o.csv")]) == 2


def test_explain_one_person(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", str(inputs / "r.jsonl"), "--person", "P0000003", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["person_id"] == "P0000003" and abs(doc["score"] - sum(p["value"] for p in doc["breakdown"])) < 1e-9
    assert cli.main(["explain", str(inputs / "r.jsonl"), "--person", "NOBODY"]) == 1


def test_listing_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scorers"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert {"ogrs3", "iom-priority"} <= set(names)
    assert cli.main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "person_id" in schema["properties"]
    assert cli.main(["features"]) == 0
    assert "offences_12m_at_risk" in capsys.readouterr().out


def test_synth_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["synth", "-n", "25", "--seed", "3", "-o", str(tmp_path / "x.csv")]) == 0
    assert (tmp_path / "x-sanctions.csv").is_file() and (tmp_path / "x-custody.csv").is_file()
    assert cli.main(["synth", "-n", "25", "--seed", "3", "-o", str(tmp_path / "x.jsonl")]) == 0
    assert len((tmp_path / "x.jsonl").read_text().splitlines()) == 25
    capsys.readouterr()
    assert cli.main(["score", str(tmp_path / "x.csv"), "-o", str(tmp_path / "o.csv")]) == 0
    assert "read 25 = scored 25 + rejected 0" in capsys.readouterr().err


class _Tty(stdio.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_tty() -> None:
    quiet = cli.ProgressBar(stdio.StringIO())
    quiet(1, 2)
    quiet.close()
    assert not quiet.enabled and quiet.stream.getvalue() == ""  # type: ignore[attr-defined]
    tty = _Tty()
    bar = cli.ProgressBar(tty)
    bar(1, 2)
    bar(2, 2)
    bar.close()
    assert "50.0%" in tty.getvalue() and "100.0%" in tty.getvalue() and tty.getvalue().endswith("\n")


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
