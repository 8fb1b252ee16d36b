"""When would they leave: properties of :func:`iomscore.cohort.leaves_after` (hypothesis).

Never earlier than the assessment date; consistent with re-scoring at the date it gives (and not
at the month before); for an offence-monotone scorer the score never rises with offence-free
time, and starting k months later gives the same date, k months sooner.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import iomscore
import iomscore.cohort
from iomscore.cohort._leaves import add_months, leaves_after
from iomscore.scoring import get_scorer, score_batch
from iomscore.scoring._leaves import moved_forward
from iomscore.testing import referrals

SCORER = get_scorer("iom-priority")
people = st.lists(referrals(min_sanctions=1, max_sanctions=6), min_size=1, max_size=6,
                  unique_by=lambda r: r.person_id)


def _at(batch, months):  # the counterfactual record: assessed later, no new offence, out of custody
    return moved_forward(batch, months)


@given(people, st.integers(1, 20))
def test_never_earlier_than_the_date_given_and_consistent_with_rescoring(refs, threshold) -> None:
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    out = leaves_after(batch, SCORER, threshold=threshold, max_months=24)
    found = ~np.isnan(out.months)
    assert (out.months[found] >= 0).all() and (out.day[found] >= batch.assessment_day[found]).all()
    for i in np.flatnonzero(found):
        m = int(out.months[i])
        one = batch.take(np.array([i]))
        assert score_batch(_at(one, m), SCORER).score[0] < threshold
        if m > 0:
            assert score_batch(_at(one, m - 1), SCORER).score[0] >= threshold
        assert out.for_person(int(i))["date"] >= str(np.datetime64(int(batch.assessment_day[i]), "D"))
    for i in np.flatnonzero(~found):  # not within 24 months: never below at any month checked
        one = batch.take(np.array([i]))
        assert all(score_batch(_at(one, m), SCORER).score[0] >= threshold for m in (0, 12, 24))


@given(people)
def test_the_score_of_an_offence_monotone_scorer_never_rises_with_offence_free_time(refs) -> None:
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    path = np.stack([score_batch(_at(batch, m), SCORER).score for m in range(0, 37, 3)])
    assert (np.diff(path, axis=0) <= 1e-9).all()


@given(people, st.integers(1, 15), st.integers(0, 6))
def test_starting_later_gives_the_same_date_sooner(refs, threshold, k) -> None:
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    days = batch.assessment_day.astype("datetime64[D]")
    assume(((days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) < 28).all())
    now = leaves_after(batch, SCORER, threshold=threshold, max_months=30)
    later = leaves_after(_at(batch, k), SCORER, threshold=threshold, max_months=30)
    both = ~np.isnan(now.months) & ~np.isnan(later.months) & (now.months >= k)
    assert (later.months[both] == now.months[both] - k).all() and (later.day[both] == now.day[both]).all()
    assert (later.months[~np.isnan(now.months) & (now.months <= k)] == 0).all()


def test_band_rule_and_sentence() -> None:
    r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
                          sanctions=[{"offence_date": "2025-05-01", "sanction_date": "2025-05-10",
                                      "offence_group": "burglary_domestic", "disposal": "community_order"}] * 1)
    out = leaves_after(iomscore.ReferralTable.from_referrals([r]))
    start = score_batch(iomscore.ReferralTable.from_referrals([r]), SCORER)
    assert out.months[0] > 0 and out.band_then[0] != start.band[0]
    assert out.sentence(0).startswith(f"band lower than {start.band[0]} after ") and "if not in custody" in out.sentence(0)


# --- with a policy: the entry rules, re-evaluated as select_cohort evaluates them --------------

POLICY = iomscore.cohort.load_policy()
few = st.lists(referrals(min_sanctions=1, max_sanctions=5), min_size=1, max_size=4, unique_by=lambda r: r.person_id)


def _eligible(table, months):
    shifted = dataclasses.replace(table, batch=_at(table.batch, months))
    sel = iomscore.cohort.select_cohort(shifted, score_batch(shifted.batch, SCORER), POLICY)
    return np.array([d.eligible for d in sel.decisions])


@settings(max_examples=25, deadline=None)
@given(few)
def test_with_a_policy_the_date_is_the_first_at_which_select_cohort_finds_them_not_eligible(refs) -> None:
    table = iomscore.ReferralTable.from_referrals(refs)
    out = leaves_after(table, SCORER, policy=POLICY, max_months=30)
    assert out.rule == "no longer meets the entry rules of IOM neighbourhood-crime cohort"
    found = ~np.isnan(out.months)
    for i in np.flatnonzero(found):
        m = int(out.months[i])
        one = table.take(np.array([i]))
        assert not _eligible(one, m)[0]
        if m > 0:
            assert _eligible(one, m - 1)[0]
    for i in np.flatnonzero(~found):
        assert _eligible(table.take(np.array([i])), 30)[0]


def test_a_policy_and_a_threshold_leave_at_whichever_comes_first() -> None:
    r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
                          sanctions=[{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                                      "offence_group": "burglary_domestic", "disposal": "community_order"}])
    table = iomscore.ReferralTable.from_referrals([r])
    by_policy, by_threshold = leaves_after(table, policy=POLICY), leaves_after(table, threshold=8)
    both = leaves_after(table, policy=POLICY, threshold=8)
    assert both.months[0] == min(by_policy.months[0], by_threshold.months[0])
    assert both.rule == f"{by_policy.rule} or below the entry threshold of 8"


def test_a_cohort_that_the_policy_does_not_have_is_refused() -> None:
    table = iomscore.ReferralTable.from_referrals([iomscore.Referral(
        person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01")])
    with pytest.raises(ValueError, match="has no cohort 'nope'"):
        leaves_after(table, policy=POLICY, cohort="nope")
    with pytest.raises(ValueError, match="one name"):
        leaves_after(table, policy=POLICY, cohort=["a", "b"])


@settings(max_examples=20, deadline=None)
@given(people, st.integers(5, 60))
def test_any_scorer_ogrs3_consistent_with_rescoring_as_ages_advance(refs, threshold) -> None:
    ogrs3 = get_scorer("ogrs3")
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    out = leaves_after(batch, ogrs3, threshold=threshold, max_months=24)
    for i in np.flatnonzero(~np.isnan(out.months)):
        m, one = int(out.months[i]), batch.take(np.array([i]))
        assert score_batch(_at(one, m), ogrs3).score[0] < threshold
        if m > 0:
            assert score_batch(_at(one, m - 1), ogrs3).score[0] >= threshold


def test_explain_carries_leaves_after_in_text_markdown_and_json() -> None:
    r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
                          sanctions=[{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                                      "offence_group": "burglary_domestic", "disposal": "community_order"}])
    table = iomscore.ReferralTable.from_referrals([r])
    result = iomscore.score(r)
    found = leaves_after(table, threshold=4)
    data = json.loads(iomscore.explain(result, format="json", leaves_after=found))
    assert data["leaves_after"] == {"months_at_risk": 20, "date": "2027-02-01", "score": data["leaves_after"]["score"],
                                    "band": data["leaves_after"]["band"], "rule": "below the entry threshold of 4"}
    assert data["leaves_after"]["score"] < 4
    never = leaves_after(table, threshold=-1, max_months=6)
    assert json.loads(iomscore.explain(result, format="json", leaves_after=never))["leaves_after"] is None
    assert "leaves_after" not in json.loads(iomscore.explain(result, format="json"))
    text = iomscore.explain(result, leaves_after=found)
    assert text.endswith("leaves: below the entry threshold of 4 after 20 more offence-free months at risk, "
                         "on 2027-02-01 if not in custody")
    assert "**When would they leave:** below the entry threshold of 4 after 20" in result.explain(
        format="markdown", leaves_after=found)
    assert "not within 6 more offence-free months" in iomscore.explain(result, leaves_after=never)
    with pytest.raises(KeyError):
        iomscore.explain(result.model_copy(update={"person_id": "P2"}), leaves_after=found)


def test_the_explain_command_says_when_they_would_leave(tmp_path, capsys) -> None:
    from iomscore import cli

    r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
                          sanctions=[{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                                      "offence_group": "burglary_domestic", "disposal": "community_order"}])
    path = tmp_path / "r.jsonl"
    path.write_text(r.model_dump_json() + "\n", encoding="utf-8")
    expect = {
        (): leaves_after(iomscore.ReferralTable.from_referrals([r])).sentence(0),
        ("--threshold", "4"): "below the entry threshold of 4 after 20 more offence-free months at risk, "
                              "on 2027-02-01 if not in custody",
        ("--policy", "neighbourhood-crime-cohort"): "no longer meets the entry rules of IOM neighbourhood-crime "
                                                    "cohort after 20 more offence-free months at risk, on 2027-02-01 "
                                                    "if not in custody",
    }
    for extra, sentence in expect.items():
        assert cli.main(["explain", str(path), "--person", "P1", *extra]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == f"  leaves: {sentence}"
    assert cli.main(["explain", str(path), "--person", "P1", "--format", "json", "--threshold", "4"]) == 0
    assert json.loads(capsys.readouterr().out)["leaves_after"]["date"] == "2027-02-01"
    assert cli.main(["explain", str(path), "--person", "P1", "--no-leaves"]) == 0
    assert "leaves:" not in capsys.readouterr().out
    assert cli.main(["explain", str(path), "--person", "P1", "--max-months", "0"]) != 0
    assert "max_months must be" in capsys.readouterr().err


def test_custody_still_running_ends_at_the_assessment_date_and_time_at_risk_starts_then() -> None:
    sanction = {"offence_date": "2025-02-01", "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
                "disposal": "custody"}
    ongoing = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01",
                                sanctions=[sanction], custody=[{"start": "2025-03-01"}])
    ended = ongoing.model_copy(update={"person_id": "P2", "custody": (
        iomscore.CustodyPeriod(start="2025-03-01", end="2025-06-01"),)})
    plain = shifted_only = iomscore.ReferralTable.from_referrals([ongoing, ended])
    out = leaves_after(plain, policy=POLICY)
    assert not np.isnan(out.months[0]) and out.months[0] == out.months[1] and out.day[0] == out.day[1]
    # moving only the assessment date would keep them in custody (no time at risk) for ever
    kept = dataclasses.replace(shifted_only.batch, assessment_day=add_months(shifted_only.batch.assessment_day, 36)
                               .astype(shifted_only.batch.assessment_day.dtype))
    assert iomscore.FeatureFrame(kept)["neighbourhood_offences_24m_at_risk"][0] == 1
    assert iomscore.FeatureFrame(moved_forward(plain.batch, 36))["neighbourhood_offences_24m_at_risk"][0] == 0


@settings(max_examples=20, deadline=None)
@given(people)
def test_the_band_rule_without_a_declared_band_order_is_a_band_left_for_lower_scores(refs) -> None:
    ogrs3 = get_scorer("ogrs3")  # bands are probability ranges; the scorer declares no points-spec bands
    batch = iomscore.ReferralTable.from_referrals(refs).batch
    out, start = leaves_after(batch, ogrs3, max_months=24), score_batch(batch, ogrs3)
    for i in np.flatnonzero(~np.isnan(out.months)):
        m, one = int(out.months[i]), batch.take(np.array([i]))
        then = score_batch(_at(one, m), ogrs3)
        assert m > 0 and then.band[0] != start.band[i] and then.score[0] < start.score[i]
        before = score_batch(_at(one, m - 1), ogrs3)
        assert before.band[0] == start.band[i] or before.score[0] >= start.score[i]
        assert out.sentence(int(i)).startswith(f"band lower than {start.band[i]} after {m} more")


def test_one_person_in_a_high_ogrs3_band_gets_a_date() -> None:
    sanctions = [{"offence_date": f"2025-0{k}-01", "sanction_date": f"2025-0{k}-15", "offence_group": "shop_theft",
                  "disposal": "fine"} for k in range(1, 6)]
    r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="2003-02-01", sex="male",
                          sanctions=sanctions)
    table = iomscore.ReferralTable.from_referrals([r])
    start = score_batch(table, get_scorer("ogrs3"))
    assert start.band[0] in ("high", "very high")
    out = leaves_after(table, "ogrs3")
    assert not np.isnan(out.months[0]) and out.band_then[0] != start.band[0]
