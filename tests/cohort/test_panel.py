"""The panel pack HTML (escaping, no external resources, content) and the CLI subcommands."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from cohort_helpers import demo_referrals, make_referral

import iomscore
from iomscore.cli import build_parser, main
from iomscore.cohort import CohortSelection, DecisionLog, select_cohort
from iomscore.panel import breakdown_chart, render_panel

EVIL = '<script>alert("x")</script>'


def _page(**kwargs) -> str:
    refs = [
        make_referral(EVIL, offences=4, days_ago=10, ethnicity="QQ-ethnic-label"),
        make_referral("P&2", offences=2, days_ago=20, ethnicity="QQ-ethnic-label"),
        make_referral("ROUTED", rosh="very_high"),
        make_referral("SHOP", group="shop_theft"),
    ]
    table = iomscore.ReferralTable.from_referrals(refs)
    sel = select_cohort(table, iomscore.score_batch(table), capacity=1)
    return render_panel(sel, groups=table, title="Panel <b>", panel="North & East", **kwargs)


def test_person_ids_and_text_are_escaped() -> None:
    page = _page()
    assert EVIL not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "P&amp;2" in page and "North &amp; East" in page and "Panel &lt;b&gt;" in page


def test_no_external_resources_and_no_javascript() -> None:
    page = _page()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page
    assert not re.search(r"\son[a-z]+\s*=", page, re.IGNORECASE)  # no inline event handlers
    assert "<link" not in page.lower() and "<img" not in page.lower() and "<iframe" not in page.lower()


def test_page_structure() -> None:
    page = _page(cards="candidates")
    assert "@page { size: A4" in page and "break-before: page" in page
    assert page.count('<section class="card"') == 3  # not-eligible SHOP has no card
    assert _page(cards="all").count('<section class="card"') == 4
    assert _page(cards="none").count('<section class="card"') == 0
    assert page.count("<svg") == 3
    assert 'id="summary"' in page and 'id="ranked"' in page
    for label in ("Accommodation", "Drugs and alcohol", "Attitudes, thinking and behaviour"):
        assert page.count(label) == 3
    assert "small group" in page and "fewer than 10" in page


def test_protected_characteristics_only_in_the_fairness_summary() -> None:
    page = _page(cards="all")
    cards = "".join(re.findall(r'<section class="card".*?</section>', page, re.DOTALL))
    assert "QQ-ethnic-label" not in cards
    assert "QQ-ethnic-label" in page


def test_recorded_decisions_and_changes_are_shown(tmp_path: Path) -> None:
    refs = demo_referrals(12, seed=4)
    table = iomscore.ReferralTable.from_referrals(refs)
    before = select_cohort(table, iomscore.score_batch(table), capacity=3)
    refs2 = refs[1:] + [make_referral("LATE", offences=7, days_ago=3, spacing=5)]
    table2 = iomscore.ReferralTable.from_referrals(refs2)
    after = select_cohort(table2, iomscore.score_batch(table2), capacity=3)
    log = DecisionLog(tmp_path / "log.jsonl")
    log.record(after, "LATE", "defer", panel="North", decided_by="chair", reason="Needs <housing> check",
               decided_at="2025-06-03T10:00:00+01:00")
    page = render_panel(after, previous=before, decisions=log.latest(after))
    assert "Changes since the last panel" in page and "New referral since the last panel" in page
    assert "Needs &lt;housing&gt; check" in page and "(override" in page


def test_breakdown_chart_handles_negative_and_empty() -> None:
    parts = [
        iomscore.BreakdownPart(name="a", label="Up", value=3, reason="r"),
        iomscore.BreakdownPart(name="b", label="Down", value=-2, reason="r"),
        iomscore.BreakdownPart(name="c", label="Zero", value=0, reason="r"),
    ]
    svg = breakdown_chart(parts)
    assert svg.count('class="bar"') == 2 and "Zero" not in svg
    assert "no parts" in breakdown_chart([])


# --- CLI -----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    return build_parser()


def _write_refs(path: Path, refs) -> Path:
    path.write_text("".join(r.model_dump_json() + "\n" for r in refs), encoding="utf-8")
    return path


def _run(argv: list[str]) -> int:
    return main(argv)


def test_cli_select_formats(tmp_path: Path, capsys) -> None:
    refs = _write_refs(tmp_path / "refs.jsonl", demo_referrals(15, seed=6))
    assert _run(["select", str(refs), "--capacity", "4"]) == 0
    out = capsys.readouterr().out
    assert "4 selected" in out and "IOM-00" in out
    assert _run(["select", str(refs), "--capacity", "4", "--format", "json", "--out", str(tmp_path / "s.json")]) == 0
    sel = CohortSelection.load(tmp_path / "s.json")
    assert len(sel.selected) == 4
    capsys.readouterr()
    assert _run(["select", str(refs), "--format", "csv", "--current-cohort", "IOM-0001,IOM-0002"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("person_id,rank,decision") and len(lines) == 16


def test_cli_panel_writes_pack_and_selection(tmp_path: Path, capsys) -> None:
    refs = demo_referrals(15, seed=6)
    path = _write_refs(tmp_path / "refs.jsonl", refs)
    (tmp_path / "refs.json").write_text(json.dumps({"referrals": [r.model_dump(mode="json") for r in refs]}))
    out = tmp_path / "pack.html"
    assert _run(["panel", str(path), "--out", str(out), "--save-selection", str(tmp_path / "run1.json")]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert _run(["panel", str(tmp_path / "refs.json"), "--out", str(out), "--previous", str(tmp_path / "run1.json"),
                 "--capacity", "2"]) == 0
    assert "Changes since the last panel" in out.read_text(encoding="utf-8")


def test_cli_bad_input_exit_code(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"person_id": "X"}\n', encoding="utf-8")
    assert _run(["select", str(bad)]) == 1  # read, nothing could be scored: not a crash
    assert "rejected X (" + str(bad) + " row 1) assessment_date" in capsys.readouterr().err
    assert _run(["select", str(tmp_path / "missing.json")]) == 2
    good = _write_refs(tmp_path / "ok.jsonl", [make_referral("A")])
    assert _run(["select", str(good), "--policy", "no-such-policy"]) == 2
