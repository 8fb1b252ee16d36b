"""OGRS3 and OGRS4/G side by side on the cards when the policy asks for both (``show_scores``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import iomscore
from iomscore.cohort import load_policy, select_cohort
from iomscore.panel import render_panel

STAMP = dt.datetime(2025, 10, 3, 9, 0, tzinfo=dt.UTC)


def _referral(pid: str, previous: int, code: str = "05800") -> iomscore.Referral:
    return iomscore.Referral(
        person_id=pid, assessment_date="2025-10-03", date_of_birth="1995-06-07", sex="male",
        sanctions=[{"offence_date": "2025-05-01", "sanction_date": "2025-06-01", "offence_group": "burglary_domestic",
                    "disposal": "community_order"}],
        sanction_summary={"previous_sanctions": previous, "first_sanction_date": "2010-06-10",
                          "current_conviction_date": "2025-06-01", "current_offence_group": "burglary_domestic",
                          "current_offence_code": code, "violent_sanctions": 0},
    )


def _policy(show: list[str]):  # type: ignore[no-untyped-def]
    base = load_policy()
    data = {**base.content(), "show_scores": show, "name": "side-by-side"}
    data.pop("sha256", None)
    return type(base).model_validate(data)


@pytest.fixture(scope="module")
def table() -> iomscore.ReferralTable:
    return iomscore.ReferralTable.from_referrals([_referral("A", 12), _referral("B", 2), _referral("C", 30)])


def _cards(page: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in
            re.finditer(r'<section class="card" id="card-([^"]+)".*?</section>', page, re.DOTALL)}


def test_both_scores_with_bands_and_which_ranks(table: iomscore.ReferralTable) -> None:
    policy = _policy(["ogrs3", "ogrs4g"])
    sel = select_cohort(table, iomscore.score_batch(table, "ogrs3"), policy, capacity=2)
    assert [s.scorer for s in sel.shown_scores] == ["ogrs3", "ogrs4g"]
    assert [s.ranks for s in sel.shown_scores] == [True, False]
    page = render_panel(sel, table=table, generated_at=STAMP, cards="all")
    ogrs3, ogrs4 = iomscore.score_batch(table, "ogrs3"), iomscore.score_batch(table, "ogrs4g")
    cards = _cards(page)
    assert set(cards) == {"A", "B", "C"}
    for i, pid in enumerate(("A", "B", "C")):
        card = cards[pid]
        line = re.search(r'<p class="shown">(.*?)</p>', card, re.DOTALL)
        assert line is not None
        text = re.sub(r"<[^>]+>", "", line.group(1))
        assert f"OGRS3 {ogrs3.score[i]:.2f}%, band {ogrs3.band[i]}" in text
        assert f"OGRS4/G {ogrs4.score[i]:.2f}%, band {ogrs4.band[i]}" in text
        assert "OGRS3 ranks this cohort; the others are shown for comparison and change no decision." in text
        # after the headline, before the reasons, on the first sheet
        assert card.index('class="headline"') < card.index('class="shown"') < card.index("End of")
    assert "<script" not in page


def test_shown_scores_never_change_the_selection(table: iomscore.ReferralTable) -> None:
    results = iomscore.score_batch(table, "ogrs4g")
    plain = select_cohort(table, results, _policy([]), capacity=1)
    shown = select_cohort(table, results, _policy(["ogrs3", "ogrs4g", "snsv"]), capacity=1)
    assert [d.decision for d in plain.decisions] == [d.decision for d in shown.decisions]
    assert [s.ranks for s in shown.shown_scores] == [False, True, False]
    assert "shown_scores" not in plain.to_dict() and "shown_scores" in shown.to_dict()
    again = type(shown).from_dict(shown.to_dict())
    assert again.sha256 == shown.sha256 and again.shown_scores == shown.shown_scores
    page = render_panel(shown, table=table, generated_at=STAMP, cards="all")
    assert "OGRS4/G ranks this cohort" in page


def test_a_policy_without_show_scores_keeps_its_hash_and_duplicates_are_refused() -> None:
    shipped = load_policy()
    assert "show_scores" not in shipped.content() and shipped.sha256 == shipped.compute_sha256()
    assert "show_scores" in _policy(["ogrs3"]).content()
    with pytest.raises(ValueError, match="show_scores lists 'ogrs3' twice"):
        _policy(["ogrs3", "ogrs3"])


def test_no_line_without_show_scores(table: iomscore.ReferralTable) -> None:
    sel = select_cohort(table, iomscore.score_batch(table, "ogrs3"), capacity=2)
    assert 'class="shown"' not in render_panel(sel, table=table, generated_at=STAMP, cards="all")
