"""A referral given only as a sanction summary, end to end: score, output file, panel card."""

from __future__ import annotations

import html
import json
from pathlib import Path

import iomscore
from iomscore.cohort import select_cohort
from iomscore.io import write_scores
from iomscore.panel import render_panel
from iomscore.scoring._api import score_batch

ISSUE = iomscore.Referral(
    person_id="S1", assessment_date="2025-06-01", date_of_birth="1990-01-01", sex="male",
    sanction_summary={"previous_sanctions": 30, "first_sanction_date": "2005-03-01",
                      "current_conviction_date": "2025-05-25", "current_offence_group": "burglary_domestic"},
)


def _summary_warning(result: iomscore.ScoreResult) -> str:
    found = [w for w in result.warnings if w.startswith("history given as a summary only: ")]
    assert len(found) == 1, result.warnings
    return found[0]


def test_the_pack_card_shows_the_summary_warning() -> None:
    results = iomscore.score([ISSUE])
    warning = _summary_warning(results[0])
    page = render_panel(select_cohort([ISSUE], results), cards="all")
    assert warning in html.unescape(page)


def test_score_files_keep_the_warning_whole(tmp_path: Path) -> None:
    batch = score_batch(iomscore.ReferralTable.from_referrals([ISSUE]), "iom-priority")
    warning = _summary_warning(batch.result(0))
    path = tmp_path / "scores.jsonl"
    write_scores(path, batch)
    written = json.loads(path.read_text(encoding="utf-8").splitlines()[0])["warnings"]
    assert warning in written
