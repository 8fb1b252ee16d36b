"""diff_runs: who entered, who left, whose score moved and which parts moved it."""

from __future__ import annotations

from cohort_helpers import make_referral

import iomscore
from iomscore.cohort import CohortSelection, diff_runs, select_cohort


def run(refs, k=2) -> CohortSelection:
    return select_cohort(refs, iomscore.score(refs), capacity=k)


def test_entered_left_moved() -> None:
    before = run([
        make_referral("STAY", offences=5, days_ago=10),
        make_referral("OUT", offences=3, days_ago=10),
        make_referral("UP", offences=1, days_ago=100),
        make_referral("GONE", offences=1, days_ago=300),
    ])
    after = run([
        make_referral("STAY", offences=5, days_ago=10),
        make_referral("OUT", offences=3, days_ago=10),
        make_referral("UP", offences=6, days_ago=5, spacing=10),
        make_referral("NEW", offences=1, days_ago=300),
    ])
    d = diff_runs(before, after)
    assert [c.person_id for c in d.entered] == ["UP"]
    assert [c.person_id for c in d.left] == ["OUT"]
    assert d.new_referrals == ("NEW",) and d.no_longer_referred == ("GONE",)
    moved = {c.person_id: c for c in d.score_moved}
    assert set(moved) == {"UP"}
    up = moved["UP"]
    assert up.score_delta == after.get("UP").score - before.get("UP").score > 0
    # the parts that changed add up to the score change, and name what moved
    assert sum(p.delta for p in up.parts) == up.score_delta
    names = {p.name for p in up.parts}
    assert "recent_offending" in names
    assert all(abs(p.delta) > 0 for p in up.parts)
    assert [c.person_id for c in d.decision_changed] == ["OUT", "UP"]
    lines = d.for_person("UP").lines()
    assert any(line.startswith("Score moved +") for line in lines)
    assert d.for_person("STAY") is None
    assert d.for_person("NEW").lines() == ("New referral since the last panel",)
    assert d.summary()["entered"] == 1


def test_diff_of_a_run_with_itself_is_empty() -> None:
    refs = [make_referral("A"), make_referral("B", offences=3)]
    d = diff_runs(run(refs), run(refs))
    assert d.summary() == dict.fromkeys(d.summary(), 0) and d.changes == {} and d.notes == ()


def test_diff_works_on_saved_runs_and_notes_policy_change(tmp_path) -> None:
    refs = [make_referral("A"), make_referral("B", offences=3)]
    a = run(refs, k=2)
    p = tmp_path / "previous.json"
    p.write_text(a.to_json(), encoding="utf-8")
    b = run(refs, k=1)  # capacity override does not change the policy hash
    d = diff_runs(CohortSelection.load(p), b)
    assert [c.person_id for c in d.left] == ["A"]
    assert d.notes == ()
