"""``iomscore audit``: error rates at a capacity or threshold from a score file, selection rates
from a saved selection, the same figures as the Python audit, and one-line errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from iomscore import cli
from iomscore.cli._common import EXIT_ERROR, EXIT_OK
from iomscore.cli._scorefile import read_outcomes, read_score_file
from iomscore.cli.audit import GAP_DOES_NOT_MEAN, GAP_MEANS
from iomscore.cohort import CohortSelection, selection_rates
from iomscore.fairness import audit
from iomscore.io import read_referrals


def run(argv: Sequence[str]) -> int:
    return cli.main(list(argv))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("audit")
    refs, outcomes, scores, sel = d / "refs.jsonl", d / "outcomes.csv", d / "scores.csv", d / "sel.json"
    assert run(["synth", "-n", "800", "--seed", "11", "-o", str(refs), "--outcomes", str(outcomes)]) == 0
    assert run(["score", str(refs), "-o", str(scores)]) == 0
    assert run(["select", str(refs), "--capacity", "40", "--format", "json", "--out", str(sel)]) == 0
    return {"refs": refs, "outcomes": outcomes, "scores": scores, "sel": sel}


def _audit(files: dict[str, Path], *extra: str, fmt: str = "json") -> str:
    out = files["scores"].with_name(f"report-{fmt}-{len(extra)}.{fmt}")
    argv = ["audit", str(files["scores"]), "--outcomes", str(files["outcomes"]), "--referrals", str(files["refs"]),
            "--by", "ethnicity,sex", "--bootstrap", "100", "--format", fmt, "-o", str(out), *extra]
    assert run(argv) == EXIT_OK
    return out.read_text(encoding="utf-8")


def test_error_rates_at_capacity_are_those_of_the_top_k(files, capsys) -> None:
    data = json.loads(_audit(files, "--capacity", "80"))
    capsys.readouterr()
    at_capacity, ranking = data["audits"]
    assert "top 80" in at_capacity["title"] and ranking["settings"]["capacity"] == 80
    # the same figures from Python: the top 80 by score (ties by file order), audited with threshold 1
    frame = read_score_file(files["scores"])
    outcomes = read_outcomes(files["outcomes"], "reoffended_2y")
    known = np.array([outcomes[p] is not None for p in frame["person_id"]])
    people = frame[known]
    y = np.array([bool(outcomes[p]) for p in people["person_id"]])
    scores = people["score"].to_numpy(float)
    chosen = np.zeros(scores.size)
    chosen[np.argsort(-scores, kind="stable")[:80]] = 1
    table = read_referrals(files["refs"]).table
    by_id = dict(zip(table.batch.person_id, table.protected["sex"], strict=True))
    expected = audit(chosen, y, {"sex": [by_id[p] for p in people["person_id"]]}, threshold=1, n_bootstrap=0)
    row = next(g for g in at_capacity["groups"] if g["characteristic"] == "sex" and g["group"] == "male")
    assert row["fpr"] == pytest.approx(expected.group("sex", "male").fpr)
    assert row["fnr"] == pytest.approx(expected.group("sex", "male").fnr)
    assert sum(g["n"] for g in at_capacity["groups"] if g["characteristic"] == "sex") == int(known.sum())
    assert data["gap_means"] == GAP_MEANS and data["gap_does_not_mean"] == GAP_DOES_NOT_MEAN
    assert data["gaps"] and all("interval" in g for g in data["gaps"])
    assert str(int((~known).sum())) + " without a known outcome" in data["summary"]


def test_markdown_and_html_say_what_a_gap_means_and_report_small_groups(files, capsys) -> None:
    md = _audit(files, "--capacity", "80", "--min-group-size", "100", fmt="markdown")
    assert "## What a gap does not mean" in md and "Equality Act 2010" in md
    assert "too small" in md and "| ethnicity | Other |" in md
    page = _audit(files, "--threshold", "12", fmt="html")
    capsys.readouterr()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page.lower().replace(
        "http-equiv", "")
    assert "What a gap means" in page and "Selection at score &gt;= 12" in page


def test_a_selection_gives_selection_rates_without_outcomes(files, capsys) -> None:
    argv = ["audit", str(files["sel"]), "--referrals", str(files["refs"]), "--by", "ethnicity,sex", "--format", "json"]
    assert run(argv) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    expected = selection_rates(CohortSelection.load(files["sel"]), read_referrals(files["refs"]).table,
                               characteristics=["ethnicity", "sex"], min_group_size=30)
    assert data["selection_rates"] == json.loads(json.dumps(expected.to_dict()))
    for c in ("ethnicity", "sex"):
        rows = [g for g in data["selection_rates"]["by_group"] if g["characteristic"] == c]
        assert sum(g["referred"] for g in rows) == 800 and sum(g["selected"] for g in rows) == 40
    assert run(argv[:-2]) == EXIT_OK
    assert "What a difference means" in capsys.readouterr().out


@pytest.mark.parametrize(("extra", "message"), [
    ([], "give --capacity K or --threshold T"),
    (["--capacity", "5", "--by", "postcode"], "--by 'postcode' is not a protected characteristic"),
])
def test_one_line_errors(files, capsys, extra: list[str], message: str) -> None:
    argv = ["audit", str(files["scores"]), "--outcomes", str(files["outcomes"]), "--referrals", str(files["refs"]),
            "--by", "sex", *extra]
    assert run(argv) == EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_capacity_and_threshold_are_exclusive(files, capsys) -> None:
    with pytest.raises(SystemExit):
        run(["audit", str(files["scores"]), "--capacity", "5", "--threshold", "3"])
    assert run(["audit", str(files["scores"]), "--by", "sex", "--referrals", str(files["refs"]), "--capacity", "3"]) == EXIT_ERROR
    assert "--outcomes" in capsys.readouterr().err
