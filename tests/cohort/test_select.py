"""select_cohort: eligibility, serious-harm routing, capacity and tie-break, de-selection."""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
from cohort_helpers import demo_referrals, make_referral
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import iomscore
from iomscore import ModelIdentity, ScoreResult
from iomscore.cohort import CohortSelection, Decision, SelectionError, load_policy, select_cohort
from iomscore.scoring._spec import spec_sha256
from iomscore.testing import referrals as referral_strategy

MODEL = ModelIdentity(name="fixed", version="1", sha256="f" * 64, kind="points")


def fixed_scores(referrals, values) -> list[ScoreResult]:
    """ScoreResults with chosen scores (to test ranking independently of a scorer)."""
    return [
        ScoreResult(person_id=r.person_id, score=float(v), band="high", breakdown=(), reasons=(), model=MODEL)
        for r, v in zip(referrals, values)
    ]


def decisions(sel: CohortSelection) -> dict[str, str]:
    return {d.person_id: d.decision for d in sel.decisions}


# --- eligibility ------------------------------------------------------------------------------


def test_core_eligibility_and_reasons() -> None:
    refs = [
        make_referral("IN", group="burglary_domestic", days_ago=30),
        make_referral("OLD", group="burglary_domestic", days_ago=900),
        make_referral("SHOP", group="shop_theft", days_ago=30),
        make_referral("YOUNG", group="burglary_domestic", days_ago=30, birth="2009-01-01"),
    ]
    sel = select_cohort(refs, iomscore.score(refs))
    got = decisions(sel)
    assert got == {"IN": "selected", "OLD": "not eligible", "SHOP": "not eligible", "YOUNG": "not eligible"}
    assert sel.get("IN").eligible_by == "core"
    assert any("No proven neighbourhood-crime offence in the last 24 months" in r for r in sel.get("OLD").reasons)
    assert any("youth justice" in r for r in sel.get("YOUNG").reasons)
    assert sel.get("OLD").rank is None and sel.get("OLD").recommended_action == "exclude"


def test_flex_rule_makes_eligible_and_disabled_flex_does_not() -> None:
    drug = {"drugs_alcohol": "significant_need"}
    refs = [
        make_referral("FLEX", group="shop_theft", offences=4, days_ago=20, needs=drug),
        make_referral("NOFLEX", group="shop_theft", offences=4, days_ago=20),
        # meets only the disabled "prolific_any_offending" rule
        make_referral("PROLIFIC", group="common_assault", offences=8, days_ago=5, spacing=10),
    ]
    sel = select_cohort(refs, iomscore.score(refs))
    assert sel.get("FLEX").decision == "selected"
    assert sel.get("FLEX").eligible_by == "acquisitive_with_drug_need"
    assert any("flex" in r for r in sel.get("FLEX").reasons)
    assert sel.get("NOFLEX").decision == "not eligible"
    assert sel.get("PROLIFIC").decision == "not eligible"


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "harm,routed",
    [
        ({"rosh": "high"}, True),
        ({"rosh": "very_high"}, True),
        ({"mappa_level": 2}, True),
        ({"mappa_level": 3}, True),
        ({"rosh": "medium"}, False),
        ({"mappa_level": 1}, False),
        ({}, False),
    ],
)
def test_serious_harm_is_routed_never_selected(harm: dict, routed: bool) -> None:
    refs = [make_referral("TOP", offences=9, days_ago=5, spacing=5, **harm), make_referral("LOW", days_ago=200)]
    sel = select_cohort(refs, iomscore.score(refs), capacity=1)
    top = sel.get("TOP")
    assert top.routed is routed
    if routed:
        assert top.decision == "refer to MAPPA / review" and top.rank is None
        assert top.recommended_action == "defer"
        assert any("not selected on a reoffending score alone" in r for r in top.reasons)
        assert sel.get("LOW").decision == "selected"  # the place goes to the next person
    else:
        assert top.decision == "selected"


def test_routing_applies_to_current_members_and_the_ineligible() -> None:
    refs = [
        make_referral("MEMBER", rosh="high", days_ago=500),
        make_referral("SHOP", group="shop_theft", mappa_level=3),
    ]
    sel = select_cohort(refs, iomscore.score(refs), current_cohort=["MEMBER"])
    assert decisions(sel) == {"MEMBER": "refer to MAPPA / review", "SHOP": "refer to MAPPA / review"}
    assert sel.get("SHOP").eligible is False


_small_lists = st.integers(min_value=0, max_value=10_000).map(lambda s: demo_referrals(12, seed=s))


@given(refs=_small_lists, who=st.integers(0, 11), k=st.integers(0, 8))
def test_raising_rosh_to_high_routes_and_never_selects(refs, who: int, k: int) -> None:
    before = select_cohort(refs, iomscore.score(refs), capacity=k)
    raised = list(refs)
    raised[who] = raised[who].model_copy(
        update={"serious_harm": iomscore.SeriousHarm(rosh_level="high")}
    )
    after = select_cohort(raised, iomscore.score(raised), capacity=k)
    pid = refs[who].person_id
    assert after.get(pid).decision == "refer to MAPPA / review"
    b, a = decisions(before), decisions(after)
    for p in b:
        # nobody moves from routed to selected
        assert not (b[p] == "refer to MAPPA / review" and a[p] == "selected")
    # the score itself does not read serious harm
    assert after.get(pid).score == before.get(pid).score


# --- capacity and tie-break -------------------------------------------------------------------


@given(refs=_small_lists, k=st.integers(0, 15))
def test_never_more_than_k_selected(refs, k: int) -> None:
    sel = select_cohort(refs, iomscore.score(refs), capacity=k)
    s = sel.summary()
    assert s["selected"] <= k
    candidates = s["selected"] + s["over_capacity"]
    assert s["selected"] == min(k, candidates)
    ranks = sorted(d.rank for d in sel.decisions if d.rank is not None)
    assert ranks == list(range(1, candidates + 1))
    assert sum(s[key] for key in ("selected", "over_capacity", "not_eligible", "routed", "deselection_reviews", "not_scored")) == s["referred"]


@given(refs=_small_lists, k=st.integers(0, 12), seed=st.integers(0, 2**32 - 1))
def test_shuffling_the_input_gives_identical_decisions(refs, k: int, seed: int) -> None:
    scores = iomscore.score(refs)
    shuffled = list(zip(refs, scores))
    random.Random(seed).shuffle(shuffled)
    a = select_cohort(refs, scores, capacity=k)
    b = select_cohort([r for r, _ in shuffled], [s for _, s in shuffled], capacity=k)
    assert a.by_person() == b.by_person()
    assert a.selected == b.selected


def test_tie_break_order_is_as_documented() -> None:
    refs = [
        make_referral("D", offences=2, days_ago=30),
        make_referral("C", offences=3, days_ago=60),  # more offences in 12 months
        make_referral("B", offences=2, days_ago=10),  # same count as D/A, more recent
        make_referral("A", offences=2, days_ago=30),  # identical to D: person_id decides
        make_referral("E", offences=1, days_ago=5),
    ]
    sel = select_cohort(refs, fixed_scores(refs, [10, 10, 10, 10, 11]), capacity=3)
    order = [d.person_id for d in sel.ranked()]
    assert order == ["E", "C", "B", "A", "D"]
    assert sel.selected == ("E", "C", "B")
    assert "person_id" in sel.tie_break and "higher score first" in sel.tie_break


def test_capacity_zero_and_policy_default() -> None:
    refs = demo_referrals(30, seed=3)
    assert select_cohort(refs, iomscore.score(refs), capacity=0).summary()["selected"] == 0
    sel = select_cohort(refs, iomscore.score(refs))
    assert sel.capacity == load_policy().capacity.places


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_bad_capacity(bad) -> None:
    refs = [make_referral("A")]
    with pytest.raises(SelectionError, match="capacity"):
        select_cohort(refs, iomscore.score(refs), capacity=bad)


# --- de-selection -----------------------------------------------------------------------------


def test_deselection_review_for_quiet_current_members() -> None:
    refs = [
        make_referral("QUIET", days_ago=400),  # 13 months offence-free
        make_referral("QUIET_NEW", days_ago=400),
        make_referral("ACTIVE", days_ago=20),
    ]
    sel = select_cohort(refs, iomscore.score(refs), current_cohort=["QUIET", "ACTIVE"])
    assert sel.get("QUIET").decision == "de-selection review"
    assert sel.get("QUIET").recommended_action == "exclude"
    assert any("No proven offending for 13 months at risk" in r for r in sel.get("QUIET").reasons)
    assert sel.get("QUIET_NEW").decision != "de-selection review"
    assert sel.get("ACTIVE").decision == "selected" and sel.get("ACTIVE").current_member


def test_current_members_keep_places_before_new_referrals() -> None:
    refs = [make_referral("MEMBER", offences=1, days_ago=100), make_referral("NEW", offences=6, days_ago=5)]
    sel = select_cohort(refs, iomscore.score(refs), current_cohort=["MEMBER"], capacity=1)
    assert sel.get("MEMBER").score < sel.get("NEW").score
    assert sel.selected == ("MEMBER",)
    assert sel.get("NEW").decision == "eligible - over capacity"


def test_members_missing_from_the_list_are_reported() -> None:
    refs = [make_referral("A")]
    sel = select_cohort(refs, iomscore.score(refs), current_cohort=["GONE"])
    assert "GONE" in sel.warnings[0]


# --- inputs and outputs -----------------------------------------------------------------------


def test_score_batch_input_and_unscored_rows() -> None:
    refs = [make_referral("A"), make_referral("B", sex=None)]
    table = iomscore.ReferralTable.from_referrals(refs)
    batch = iomscore.score_batch(table, "ogrs3")
    sel = select_cohort(table, batch)
    assert sel.get("A").decision == "selected"
    assert sel.get("B").decision == "not scored" and sel.get("B").score is None
    assert sel.model is not None and sel.model.name.lower().startswith("ogrs3")


def test_scores_matched_by_person_id_not_position() -> None:
    refs = demo_referrals(10, seed=5)
    scores = iomscore.score(refs)
    assert select_cohort(refs, scores).by_person() == select_cohort(refs, scores[::-1]).by_person()


def test_input_errors() -> None:
    refs = [make_referral("A"), make_referral("B")]
    scores = iomscore.score(refs)
    with pytest.raises(SelectionError, match="appears 2 times"):
        select_cohort([refs[0], refs[0]], [scores[0]])
    with pytest.raises(SelectionError, match="no score"):
        select_cohort(refs, scores[:1])
    with pytest.raises(SelectionError, match="not in the referrals"):
        select_cohort(refs[:1], scores)


def test_round_trip_and_exports() -> None:
    refs = demo_referrals(15, seed=7)
    sel = select_cohort(refs, iomscore.score(refs), capacity=4, current_cohort=["IOM-0001"])
    again = CohortSelection.from_dict(sel.to_dict())
    assert again == sel and again.sha256 == sel.sha256
    frame = sel.to_frame()
    assert list(frame["person_id"]) == [r.person_id for r in refs]
    assert int((frame["decision"] == "selected").sum()) == sel.summary()["selected"] == len(sel.selected)
    assert frame["rank"].dropna().astype(int).tolist() == [d.rank for d in sel.decisions if d.rank is not None]
    assert all(set(d.needs) == set(iomscore.PATHWAYS) for d in sel.decisions)
    with pytest.raises(KeyError):
        sel.get("nobody")


def test_selection_is_frozen() -> None:
    refs = [make_referral("A")]
    sel = select_cohort(refs, iomscore.score(refs))
    with pytest.raises(ValidationError):
        sel.decisions[0].score = 99.0  # type: ignore[misc]


def test_vectorised_path_scales() -> None:
    refs = demo_referrals(400, seed=11)
    table = iomscore.ReferralTable.from_referrals(refs)
    sel = select_cohort(table, iomscore.score_batch(table), capacity=20)
    assert sel.summary()["selected"] == 20
    top = [d.score for d in sel.ranked()[:20]]
    assert np.all(np.diff(top) <= 0)
    assert all(d.decision == "selected" for d in sel.ranked()[:20])


# --- counts, tie-break values, reserves, lookups ----------------------------------------------

_DECISION_COUNTS = ("selected", "over_capacity", "not_eligible", "routed", "deselection_reviews", "not_scored")


def _check_summary_identities(sel: CohortSelection) -> None:
    s = sel.summary()
    assert s["referred"] == sum(s[k] for k in _DECISION_COUNTS)
    assert s["candidates"] == s["selected"] + s["over_capacity"]
    assert s["candidates"] == s["eligible_candidates"] + s["candidates_not_eligible"]
    assert s["eligible"] == (
        s["eligible_candidates"] + s["eligible_routed"] + s["eligible_deselection"] + s["eligible_not_scored"]
    )
    # each count is what it says, read off the decisions
    ds = sel.decisions
    assert s["eligible_routed"] == sum(d.eligible and d.decision == "refer to MAPPA / review" for d in ds)
    assert s["eligible_deselection"] == sum(d.eligible and d.decision == "de-selection review" for d in ds)
    assert s["candidates_not_eligible"] == sum(d.rank is not None and not d.eligible for d in ds)


_referral_lists = st.lists(referral_strategy(max_sanctions=12), max_size=14, unique_by=lambda r: r.person_id)


@given(
    refs=st.one_of(_referral_lists, _small_lists),
    k=st.integers(0, 10),
    members=st.sets(st.integers(0, 13), max_size=6),
    scorer=st.sampled_from(["iom-priority", "ogrs3"]),
)
def test_summary_counts_add_up(refs, k: int, members: set[int], scorer: str) -> None:
    table = iomscore.ReferralTable.from_referrals(refs)
    current = [refs[i].person_id for i in sorted(members) if i < len(refs)]
    sel = select_cohort(table, iomscore.score_batch(table, scorer), capacity=k, current_cohort=current)
    _check_summary_identities(sel)


def test_summary_counts_on_a_list_with_every_kind_of_decision() -> None:
    refs = demo_referrals(200, seed=21)
    table = iomscore.ReferralTable.from_referrals(refs)
    members = [r.person_id for r in refs[::4]]
    sel = select_cohort(table, iomscore.score_batch(table, "ogrs3"), capacity=10, current_cohort=members)
    s = sel.summary()
    for key in ("selected", "over_capacity", "not_eligible", "routed", "deselection_reviews", "not_scored",
                "eligible_routed", "eligible_deselection", "candidates_not_eligible"):
        assert s[key] > 0, key
    _check_summary_identities(sel)


def test_tie_break_values_show_what_split_equal_scores() -> None:
    refs = [
        make_referral("D", offences=2, days_ago=30),
        make_referral("C", offences=3, days_ago=60),
        make_referral("B", offences=2, days_ago=10),
        make_referral("A", offences=2, days_ago=30),
        make_referral("E", offences=1, days_ago=5),
        make_referral("SHOP", group="shop_theft"),
    ]
    sel = select_cohort(refs, fixed_scores(refs, [10, 10, 10, 10, 11, 12]), capacity=3)
    policy = load_policy()
    a, b, d = sel.get("A").tie_break, sel.get("B").tie_break, sel.get("D").tie_break
    assert [label for label, _ in a] == [
        "score" if k.key == "score" else "person_id" if k.key == "person_id" else iomscore.FEATURES[k.feature].description
        for k in policy.tie_break
    ]
    assert a[0] == ("score", "10") and a[-1] == ("person_id", "A")
    assert a[1] == b[1] == d[1]  # same offences in 12 months ...
    assert a[2] == d[2] != b[2]  # ... B's last offence is more recent
    assert a[:-1] == d[:-1]  # A and D differ only by person_id
    assert sel.get("E").tie_break[0] == ("score", "11")
    assert sel.get("SHOP").tie_break == ()  # not a candidate


def test_tie_break_missing_feature_reads_not_recorded() -> None:
    refs = [make_referral("NONE", offences=0), make_referral("ONE", offences=1)]
    policy = load_policy()
    keep_all = type(policy).model_validate({**policy.content(), "deselection": []}).with_sha256()
    sel = select_cohort(refs, fixed_scores(refs, [5, 5]), keep_all, current_cohort=["NONE"], capacity=2)
    none = dict(sel.get("NONE").tie_break)
    assert sel.get("NONE").rank is not None
    assert none[iomscore.FEATURES["days_since_last_offence"].description] == "not recorded"


def test_reserves_are_the_next_over_capacity_candidates() -> None:
    refs = demo_referrals(80, seed=9)
    sel = select_cohort(refs, iomscore.score(refs), capacity=5)
    over = [d for d in sel.ranked() if d.decision == "eligible - over capacity"]
    assert len(over) > 4
    assert sel.reserves(3) == tuple(over[:3])
    assert [d.rank for d in sel.reserves(3)] == [6, 7, 8]
    assert sel.reserves(10_000) == tuple(over)
    assert sel.reserves(0) == ()
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="reserves"):
            sel.reserves(bad)  # type: ignore[arg-type]


def test_get_is_consistent_and_follows_replaced_decisions() -> None:
    refs = demo_referrals(60, seed=4)
    sel = select_cohort(refs, iomscore.score(refs), capacity=7)
    for d in sel.decisions:
        assert sel.get(d.person_id) is d
    fewer = sel.model_copy(update={"decisions": sel.decisions[:10]})
    assert fewer.get(sel.decisions[3].person_id) is sel.decisions[3]
    with pytest.raises(KeyError):
        fewer.get(sel.decisions[20].person_id)
    assert fewer.ranked() == tuple(d for d in sel.ranked() if d in sel.decisions[:10])


def test_decisions_are_what_validation_would_build() -> None:
    refs = demo_referrals(40, seed=12)
    table = iomscore.ReferralTable.from_referrals(refs)
    for scores in (iomscore.score_batch(table, "ogrs3"), iomscore.score(refs)):
        sel = select_cohort(table, scores, capacity=6, current_cohort=[refs[0].person_id, refs[5].person_id])
        for d in sel.decisions:
            again = Decision.model_validate(d.model_dump())
            assert again == d and again.model_dump_json() == d.model_dump_json()


def test_score_batch_and_score_results_give_the_same_selection() -> None:
    refs = demo_referrals(50, seed=13)
    table = iomscore.ReferralTable.from_referrals(refs)
    a = select_cohort(table, iomscore.score_batch(table), capacity=8, current_cohort=["IOM-0003"])
    b = select_cohort(refs, iomscore.score(refs), capacity=8, current_cohort=["IOM-0003"])
    assert a == b and a.sha256 == b.sha256


def test_saved_selections_without_tie_break_keep_their_hash() -> None:
    refs = demo_referrals(20, seed=2)
    sel = select_cohort(refs, iomscore.score(refs), capacity=3)
    data = sel.to_dict()
    assert all(("tie_break" in d) == (d["rank"] is not None) for d in data["decisions"])
    old = copy.deepcopy({k: v for k, v in data.items() if k not in ("summary", "sha256")})
    for d in old["decisions"]:
        d.pop("tie_break", None)  # as a selection saved before the field existed
    loaded = CohortSelection.from_dict(old)
    assert loaded.sha256 == spec_sha256(old)
    assert data["sha256"] == sel.sha256 and CohortSelection.from_dict(data) == sel


def _canonical_sha256(sel: CohortSelection) -> str:
    data = sel.model_dump(mode="json")
    for d in data["decisions"]:
        if not d["tie_break"]:
            del d["tie_break"]
        if d["cohort"] is None:  # one-cohort selections: as saved before several cohorts existed
            del d["cohort"]
    if not data["cohorts"]:
        del data["cohorts"]
    if data["turnover"] is None:
        del data["turnover"]
    if data.get("decision_log") is None:  # fields left out when empty, so older selections keep their sha256
        data.pop("decision_log", None)
    if not data.get("shown_scores"):
        data.pop("shown_scores", None)
    return spec_sha256(data)


@given(refs=_small_lists, k=st.integers(0, 6), scorer=st.sampled_from(["iom-priority", "ogrs3"]))
def test_streamed_sha256_is_the_hash_of_the_canonical_json(refs, k: int, scorer: str) -> None:
    table = iomscore.ReferralTable.from_referrals(refs)
    sel = select_cohort(table, iomscore.score_batch(table, scorer), capacity=k,
                        current_cohort=[refs[0].person_id, "GONE"])
    assert sel.sha256 == _canonical_sha256(sel)
    loaded = CohortSelection.from_dict(sel.to_dict())
    assert loaded.sha256 == sel.sha256


def test_sha256_follows_changed_fields_and_odd_values() -> None:
    refs = demo_referrals(12, seed=6)
    sel = select_cohort(refs, iomscore.score(refs), capacity=2)
    first = sel.sha256
    assert sel.sha256 == first  # kept
    other = sel.model_copy(update={"capacity": 3})
    assert other.sha256 == _canonical_sha256(other) != first
    odd = sel.decisions[0].model_copy(update={"person_id": 'é "quoted"\n', "score": 1e16, "needs": {}})
    mixed = sel.model_copy(update={"decisions": (odd, *sel.decisions[1:]), "warnings": ("ünïcode",)})
    assert mixed.sha256 == _canonical_sha256(mixed)
    bad = sel.model_copy(update={"decisions": (sel.decisions[0].model_copy(update={"score": float("nan")}),)})
    with pytest.raises(ValueError):
        bad.sha256  # noqa: B018 - NaN is not JSON, as before
