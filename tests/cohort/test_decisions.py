"""The decision log (append-only, reasons mandatory, scores never edited) and override rates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from cohort_helpers import demo_referrals, make_referral
from hypothesis import given
from hypothesis import strategies as st

import iomscore
from iomscore.cohort import (
    NOT_RECORDED,
    DecisionLog,
    DecisionLogError,
    LogEntry,
    override_rates,
    select_cohort,
    selection_rates,
)

WHEN = "2025-06-03T10:00:00+01:00"


@pytest.fixture()
def selection():
    refs = [
        make_referral("A", offences=5, days_ago=10, ethnicity="white"),
        make_referral("B", offences=2, days_ago=40, ethnicity="black"),
        make_referral("C", offences=1, days_ago=200, ethnicity=None),
        make_referral("D", group="shop_theft", ethnicity="black"),
        make_referral("E", rosh="high", ethnicity="white"),
    ]
    return select_cohort(refs, iomscore.score(refs), capacity=2), iomscore.ReferralTable.from_referrals(refs)


def test_record_and_read_back(selection, tmp_path: Path) -> None:
    sel, _ = selection
    log = DecisionLog(tmp_path / "log.jsonl")
    e = log.record(sel, "A", "include", panel="North", decided_by="chair-01", reason="Agreed", decided_at=WHEN)
    assert e.recommendation == "selected" and not e.is_override
    assert e.score == sel.get("A").score and e.band == sel.get("A").band
    assert e.model_sha256 == sel.model.sha256 and e.policy_sha256 == sel.policy_sha256
    assert e.selection_sha256 == sel.sha256
    assert e.decided_at == dt.datetime.fromisoformat(WHEN)
    assert log.entries() == (e,)


def test_log_is_append_only(selection, tmp_path: Path) -> None:
    sel, _ = selection
    path = tmp_path / "log.jsonl"
    log = DecisionLog(path)
    log.record(sel, "A", "include", panel="North", decided_by="x", reason="r1", decided_at=WHEN)
    first = path.read_bytes()
    log.record(sel, "A", "defer", panel="North", decided_by="y", reason="changed our mind", decided_at=WHEN)
    second = path.read_bytes()
    assert second.startswith(first) and len(second.splitlines()) == 2
    # a second DecisionLog on the same file appends too
    DecisionLog(path).record(sel, "B", "exclude", panel="North", decided_by="y", reason="r3", decided_at=WHEN)
    assert path.read_bytes().startswith(second)
    assert [e.decision for e in log.entries()] == ["include", "defer", "exclude"]
    assert log.latest(sel)["A"].decision == "defer"


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_reason_is_mandatory(selection, tmp_path: Path, reason: str) -> None:
    sel, _ = selection
    path = tmp_path / "log.jsonl"
    with pytest.raises(DecisionLogError, match="needs a reason"):
        DecisionLog(path).record(sel, "A", "include", panel="North", decided_by="x", reason=reason, decided_at=WHEN)
    assert not path.exists() or path.read_bytes() == b""


def test_other_record_errors(selection, tmp_path: Path) -> None:
    sel, _ = selection
    log = DecisionLog(tmp_path / "log.jsonl")
    with pytest.raises(DecisionLogError, match="no time zone"):
        log.record(sel, "A", "include", panel="P", decided_by="x", reason="r", decided_at="2025-06-03T10:00:00")
    with pytest.raises(DecisionLogError, match="not in this selection"):
        log.record(sel, "Z", "include", panel="P", decided_by="x", reason="r", decided_at=WHEN)
    with pytest.raises(DecisionLogError):
        log.record(sel, "A", "maybe", panel="P", decided_by="x", reason="r", decided_at=WHEN)  # type: ignore[arg-type]
    assert log.entries() == ()


def test_default_time_is_utc_now(selection, tmp_path: Path) -> None:
    sel, _ = selection
    before = dt.datetime.now(dt.UTC)
    e = DecisionLog(tmp_path / "l.jsonl").record(sel, "A", "include", panel="P", decided_by="x", reason="r")
    assert e.decided_at.utcoffset() == dt.timedelta(0)
    assert before <= e.decided_at <= dt.datetime.now(dt.UTC)


def test_a_decision_never_edits_the_score(selection, tmp_path: Path) -> None:
    sel, _ = selection
    snapshot = sel.to_json()
    log = DecisionLog(tmp_path / "log.jsonl")
    for pid, choice in [("A", "exclude"), ("C", "include"), ("E", "include")]:
        log.record(sel, pid, choice, panel="P", decided_by="x", reason="panel view", decided_at=WHEN)
    assert sel.to_json() == snapshot
    for e in log.entries():
        assert e.score == sel.get(e.person_id).score


def test_edited_or_reordered_log_is_detected(selection, tmp_path: Path) -> None:
    sel, _ = selection
    path = tmp_path / "log.jsonl"
    log = DecisionLog(path)
    for pid in "ABC":
        log.record(sel, pid, "include", panel="P", decided_by="x", reason=f"reason {pid}", decided_at=WHEN)
    lines = path.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[0])
    edited["score"] = 99.0
    path.write_text("\n".join([json.dumps(edited, sort_keys=True), *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(DecisionLogError, match="line 2"):
        log.entries()
    path.write_text("\n".join([lines[1], lines[0], lines[2]]) + "\n", encoding="utf-8")
    with pytest.raises(DecisionLogError, match="line 1"):
        log.entries()
    path.write_text(lines[0] + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DecisionLogError, match="line 2"):
        log.entries()


def test_override_detection(selection, tmp_path: Path) -> None:
    sel, _ = selection
    log = DecisionLog(tmp_path / "log.jsonl")
    rec = {d.person_id: d.recommended_action for d in sel.decisions}
    assert rec == {"A": "include", "B": "include", "C": "exclude", "D": "exclude", "E": "defer"}
    cases = {"A": ("include", False), "B": ("exclude", True), "C": ("include", True), "D": ("exclude", False), "E": ("include", True)}
    for pid, (choice, _) in cases.items():
        log.record(sel, pid, choice, panel="P", decided_by="x", reason="r", decided_at=WHEN)
    for e in log.entries():
        assert e.is_override is cases[e.person_id][1]
    report = override_rates(log)
    assert (report.decisions, report.overrides) == (5, 3)
    assert report.rate == pytest.approx(0.6)
    assert report.by_direction == {"exclude (recommended include)": 1, "include (recommended defer)": 1, "include (recommended exclude)": 1}


def test_override_rates_by_group_add_up(selection, tmp_path: Path) -> None:
    sel, table = selection
    log = DecisionLog(tmp_path / "log.jsonl")
    for pid, choice in [("A", "exclude"), ("B", "include"), ("C", "include"), ("D", "exclude"), ("E", "include")]:
        log.record(sel, pid, choice, panel="P", decided_by="x", reason="r", decided_at=WHEN)
    report = override_rates(log, table, characteristics=["ethnicity", "sex"], min_group_size=2)
    eth = {g.group: g for g in report.groups("ethnicity")}
    assert set(eth) == {"white", "black", "not recorded"}
    assert (eth["white"].decisions, eth["white"].overrides) == (2, 2)
    assert eth["not recorded"].small and not eth["white"].small
    for name in ("ethnicity", "sex"):
        rows = report.groups(name)
        assert sum(g.decisions for g in rows) == report.decisions
        assert sum(g.overrides for g in rows) == report.overrides
        assert sum(g.overrides_in + g.overrides_out for g in rows) <= report.overrides
    assert report.to_frame().shape[0] == len(report.by_group)
    assert "fewer than 2" in report.caveat


def _entry(pid: str, decision: str, action: str) -> LogEntry:
    return LogEntry(
        person_id=pid, decision=decision, recommendation="x", recommended_action=action, panel="P",
        decided_by="x", decided_at=WHEN, reason="r", score=1.0, band="b", model_sha256=None,
        policy_sha256="p", selection_sha256="s", prev_sha256="0" * 64,
    )


actions = st.sampled_from(["include", "exclude", "defer"])


@given(
    rows=st.lists(st.tuples(st.integers(0, 30), actions, actions, st.sampled_from(["a", "b", None, " ", pd.NA, float("nan")])), max_size=40)
)
def test_override_counts_always_add_up(rows) -> None:
    entries = [_entry(f"P{i}", d, a) for i, d, a, _ in rows]
    groups = {"g": {f"P{i}": label for i, _, _, label in rows}}
    report = override_rates(entries, groups)
    latest = {f"P{i}": (d, a) for i, d, a, _ in rows}
    assert report.decisions == len(latest)
    assert report.overrides == sum(d != a for d, a in latest.values())
    assert sum(g.decisions for g in report.by_group) == report.decisions
    assert sum(g.overrides for g in report.by_group) == report.overrides
    assert sum(report.by_direction.values()) == report.overrides
    assert all(g.group in {"a", "b", "not recorded"} for g in report.by_group)


def test_selection_rates() -> None:
    refs = demo_referrals(30, seed=2)
    table = iomscore.ReferralTable.from_referrals(refs)
    sel = select_cohort(table, iomscore.score_batch(table), capacity=6)
    rates = selection_rates(sel, table, characteristics=["ethnicity"])
    rows = rates.groups("ethnicity")
    assert sum(g.referred for g in rows) == 30 and sum(g.selected for g in rows) == rates.selected == 6
    assert all(g.small == (g.referred < 10) for g in rows)
    assert rates.rate == pytest.approx(6 / 30)


def test_selection_rates_formatting_and_frame() -> None:
    refs = demo_referrals(30, seed=2)
    table = iomscore.ReferralTable.from_referrals(refs)
    sel = select_cohort(table, iomscore.score_batch(table), capacity=6)
    rates = selection_rates(sel, table, characteristics=["sex"])
    assert rates.formatted() == "6 of 30 (20.0%)"
    for g in rates.groups("sex"):
        assert g.formatted() == f"{g.selected} of {g.referred} ({100 * g.selected / g.referred:.1f}%)"
    assert rates.to_frame()["referred"].sum() == 30


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT, "", "  "], ids=repr)
def test_missing_labels_are_not_recorded_in_both_rates(selection, tmp_path: Path, missing: object) -> None:
    sel, _ = selection
    log = DecisionLog(tmp_path / "log.jsonl")
    for pid in "ABCDE":
        log.record(sel, pid, "include", panel="P", decided_by="x", reason="r", decided_at=WHEN)
    # E is absent from the mapping: also "not recorded", not dropped
    groups = {"g": {"A": "x", "B": missing, "C": " x ", "D": missing}}
    over = override_rates(log, groups, min_group_size=1)
    chosen = selection_rates(sel, groups, min_group_size=1)
    assert [(g.group, g.decisions) for g in over.by_group] == [("x", 2), (NOT_RECORDED, 3)]
    assert [(g.group, g.referred) for g in chosen.by_group] == [("x", 2), (NOT_RECORDED, 3)]
    assert over.groups("g")[1].formatted() == "2 of 3 (66.7%)"  # B, D and E; D and E are overrides
    assert over.formatted() == "3 of 5 (60.0%)"


def test_unknown_characteristic_and_bad_group_size(selection) -> None:
    sel, table = selection
    with pytest.raises(KeyError, match="no characteristic 'race'"):
        selection_rates(sel, table, characteristics=["race"])
    with pytest.raises(ValueError, match="min_group_size"):
        override_rates([], min_group_size=0)



def test_record_errors_are_one_line_naming_the_field(selection, tmp_path: Path) -> None:
    sel, _ = selection
    log = DecisionLog(tmp_path / "log.jsonl")
    cases = [
        ({"reason": " "}, "reason: a panel decision needs a reason"),
        ({"decided_by": " "}, "decided_by: must not be blank"),
        ({"decided_at": "tomorrow"}, "decided_at 'tomorrow' is not an ISO 8601 time"),
    ]
    for change, expected in cases:
        kwargs = {"panel": "P", "decided_by": "x", "reason": "r", "decided_at": WHEN, **change}
        with pytest.raises(DecisionLogError) as info:
            log.record(sel, "A", "include", **kwargs)  # type: ignore[arg-type]
        assert str(info.value).startswith(expected) and "\n" not in str(info.value)
    path = tmp_path / "bad.jsonl"
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(DecisionLogError, match="line 1: Invalid JSON") as info:
        DecisionLog(path).entries()
    assert "\n" not in str(info.value)
