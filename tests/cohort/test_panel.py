"""The panel pack HTML (escaping, no external resources, content, figures that add up, cards,
the ranked-list CSV) and the CLI subcommands."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from cohort_helpers import ASSESSMENT, demo_referrals, make_referral
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iomscore
from iomscore import Referral
from iomscore.cli import build_parser, main
from iomscore.cohort import CohortSelection, DecisionLog, diff_runs, select_cohort, selection_rates
from iomscore.features import FeatureFrame
from iomscore.io import ReadCounts, Reject
from iomscore.panel import breakdown_chart, ranked_csv_path, render_panel, write_panel
from iomscore.panel._csv import COLUMNS

EVIL = '<script>alert("x")</script>'
STAMP = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)


def _table(refs: list[Referral]) -> iomscore.ReferralTable:
    return iomscore.ReferralTable.from_referrals(refs)


def _select(refs: list[Referral], capacity: int, **kwargs) -> tuple[iomscore.ReferralTable, CohortSelection]:
    table = _table(refs)
    return table, select_cohort(table, iomscore.score_batch(table), capacity=capacity, **kwargs)


def _page(**kwargs) -> str:
    refs = [
        make_referral(EVIL, offences=4, days_ago=10, ethnicity="QQ-ethnic-label"),
        make_referral("P&2", offences=2, days_ago=20, ethnicity="QQ-ethnic-label"),
        make_referral("ROUTED", rosh="very_high"),
        make_referral("SHOP", group="shop_theft"),
    ]
    table, sel = _select(refs, 1)
    return render_panel(sel, groups=table, title="Panel <b>", panel="North & East", generated_at=STAMP, **kwargs)


def _cards(page: str) -> list[str]:
    """Each person's card: the first sheet and its continuation sheets."""
    sheets = re.findall(r'<section class="card(?:-cont)?" id="card-.*?</section>', page, re.DOTALL)
    out: list[str] = []
    for sheet in sheets:
        if sheet.startswith('<section class="card" '):
            out.append(sheet)
        else:
            out[-1] += sheet
    return out


def _card_of(page: str, person: str) -> str:
    from html import escape

    ident = f'id="card-{escape(person, quote=True)}"'
    found = [c for c in _cards(page) if ident in c.split(">", 1)[0]]
    assert len(found) == 1, person
    return found[0]


def _figures(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-figure="([^"]+)">(\d+)<', page)}


def _check_sums(page: str) -> int:
    """Every sum line adds up, both by its figures and by its printed text; returns how many."""
    figures = _figures(page)
    lines = re.findall(r'<p class="sum" data-total="([^"]+)" data-parts="([^"]*)">([^<]*)</p>', page)
    for total, parts, text in lines:
        assert figures[total] == sum(figures[p] for p in parts.split()), (total, parts, figures)
        numbers = [int(x) for x in re.findall(r"(?<![\w-])(\d+)(?= [a-zA-Z]|\s*=)", text)]
        assert numbers[0] == figures[total] and numbers[0] == sum(numbers[1:]), text
        assert "(adds up)" in text
    return len(lines)


def test_person_ids_and_text_are_escaped() -> None:
    page = _page()
    assert EVIL not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "P&amp;2" in page and "North &amp; East" in page and "Panel &lt;b&gt;" in page


def test_no_external_resources_and_no_javascript() -> None:
    page = _page(cards="all")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page
    assert not re.search(r"\son[a-z]+\s*=", page, re.IGNORECASE)  # no inline event handlers
    assert "<link" not in page.lower() and "<img" not in page.lower() and "<iframe" not in page.lower()


def test_page_structure_and_card_modes() -> None:
    page = _page()  # default: the meeting (selected, reserves, routed; not the not-eligible SHOP)
    assert "@page { size: A4" in page and "break-before: page" in page and "break-inside: avoid" in page
    assert page.count('<section class="card"') == 3
    assert 'id="card-SHOP"' not in page
    assert _page(cards="candidates").count('<section class="card"') == 3
    assert _page(cards="all").count('<section class="card"') == 4
    assert _page(cards="none").count('<section class="card"') == 0
    # one pathway-demand chart of the people selected; the rest is one breakdown chart per card
    demand = re.search(r'<h2 id="pathway-demand">.*?</svg>', page, flags=re.DOTALL)
    assert demand is not None and demand.group(0).count("<svg") == 1
    page = page.replace(demand.group(0), "")
    assert page.count("<svg") == 3
    assert 'id="summary"' in page and 'id="ranked"' in page and 'id="capacity-line"' in page
    for label in ("Accommodation", "Drugs and alcohol", "Attitudes, thinking and behaviour"):
        assert page.count(label) == 3
    assert "small group" in page and "fewer than 10" in page
    with pytest.raises(ValueError, match="cards must be one of"):
        _page(cards="everyone")
    with pytest.raises(ValueError, match="reserves"):
        _page(reserves=-1)


def test_protected_characteristics_only_in_the_fairness_summary() -> None:
    page = _page(cards="all")
    assert "QQ-ethnic-label" not in "".join(_cards(page))
    assert "QQ-ethnic-label" in page


def test_meeting_pack_cards_selected_reserves_routed_and_reviews() -> None:
    refs = [make_referral(f"E{i:02d}", offences=1 + i % 7, days_ago=5 + 3 * i) for i in range(12)]
    refs += [make_referral("MAPPA", mappa_level=3), make_referral("GONE", group="shop_theft"),
             make_referral("QUIET", offences=1, days_ago=800)]
    table, sel = _select(refs, 3, current_cohort=["QUIET"])
    page = render_panel(sel, groups=table, generated_at=STAMP)
    carded = re.findall(r'<section class="card" id="card-([^"]+)"', page)
    s = sel.summary()
    reserves = [d.person_id for d in sel.ranked() if d.decision == "eligible - over capacity"][:5]
    assert carded[:3] == list(sel.selected) and carded[3:8] == reserves
    assert {"MAPPA", "QUIET"} <= set(carded) and "GONE" not in carded
    assert len(carded) == s["selected"] + 5 + s["routed"] + s["deselection_reviews"]
    assert "Reserve 1 of 5: rank 4" in _card_of(page, reserves[0])
    fewer = render_panel(sel, groups=table, generated_at=STAMP, reserves=2)
    assert fewer.count('<section class="card"') == len(carded) - 3
    assert "Reserve 3 of" not in fewer


def test_summary_figures_add_up_with_read_counts_and_rejects() -> None:
    refs = demo_referrals(40, seed=3)
    table, sel = _select(refs, 5, current_cohort=["IOM-0001", "IOM-0002"])
    rejects = [Reject("referrals.csv", 2 + i, f"X{i}", "date_of_birth", "is missing") for i in range(4)]
    rejects += [Reject("referrals.csv", 9, "Y", "assessment_date", "is not a date"),
                Reject("sanctions.csv", 3, "Y", "sanctions[0].offence_group", "unknown offence group 'zz'")]
    rejects += [Reject("referrals.csv", 20 + i, f"Z{i}", f"f{i}", f"reason {i}") for i in range(6)]
    counts = ReadCounts(referral_rows=len(refs) + 11, valid=len(refs), rejected=11)
    page = render_panel(sel, groups=table, generated_at=STAMP, read_counts=counts, rejects=rejects,
                        meeting_date="2025-06-02")
    f = _figures(page)
    assert f["read"] == 51 and f["rejected"] == 11 and f["referred"] == 40
    assert f["eligible"] == sel.summary()["eligible"]
    assert _check_sums(page) == 4
    table_html = re.search(r'<table class="figures" id="rejects">.*?</table>', page, re.DOTALL).group(0)
    assert "is missing</td><td class=\"num\">4<" in table_html
    assert "4 other reason(s)</td><td class=\"num\">4<" in table_html and f["reject_reasons"] == len(rejects)
    assert "Referral rows read" in page


def test_summary_without_read_counts_still_adds_up() -> None:
    table, sel = _select(demo_referrals(25, seed=8), 4)
    page = render_panel(sel, groups=table, generated_at=STAMP)
    assert "read" not in _figures(page) and _check_sums(page) == 3
    assert "was not given to the pack" in page


def test_capacity_line_shows_the_tie_break_that_split_two_equal_scores() -> None:
    refs = [make_referral(p, offences=3, days_ago=30) for p in ("TIE-B", "TIE-A", "TIE-C")]
    table, sel = _select(refs, 1)
    assert sel.selected == ("TIE-A",)
    page = render_panel(sel, groups=table, generated_at=STAMP)
    line = re.search(r'<table id="capacity-line">.*?</table>', page, re.DOTALL).group(0)
    assert "TIE-A (rank 1, last place)" in line and "TIE-B (rank 2, first reserve)" in line
    decided = [row for row in re.findall(r"<tr>.*?</tr>", line) if "decided here" in row]
    assert len(decided) == 1 and "person_id" in decided[0]
    assert "At the capacity line" in _card_of(page, "TIE-A") and "At the capacity line" in _card_of(page, "TIE-B")
    assert "separated by person_id" in _card_of(page, "TIE-A")
    assert "At the capacity line" not in _card_of(page, "TIE-C")


def test_ranking_values_of_a_selection_saved_without_them_come_from_the_shipped_policy() -> None:
    refs = [make_referral(p, offences=3, days_ago=30) for p in ("TIE-B", "TIE-A")]
    table, sel = _select(refs, 1)
    data = sel.to_dict()
    for d in data["decisions"]:
        d.pop("tie_break", None)
    data.pop("sha256")  # edited here: from_dict checks a recorded sha256
    old = CohortSelection.from_dict(data)
    assert all(not getattr(d, "tie_break", ()) for d in old.decisions)
    page = render_panel(old, groups=table, generated_at=STAMP)
    line = re.search(r'<table id="capacity-line">.*?</table>', page, re.DOTALL).group(0)
    decided = [row for row in re.findall(r"<tr>.*?</tr>", line) if "decided here" in row]
    assert len(decided) == 1 and "person_id" in decided[0] and "<td>TIE-A</td><td>TIE-B</td>" in decided[0]


def test_cards_show_the_offence_history_the_counts_are_made_of() -> None:
    refs = demo_referrals(30, seed=5)
    prison = make_referral("PRISON", offences=5, days_ago=20, spacing=200).model_copy(
        update={"custody": (iomscore.schema.CustodyPeriod(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 1)),
                            iomscore.schema.CustodyPeriod(start=dt.date(2025, 3, 1)))})
    refs.append(Referral.model_validate(prison.model_dump()))
    table, sel = _select(refs, 6)
    page = render_panel(sel, groups=table, generated_at=STAMP, cards="all")
    frame = FeatureFrame(table.batch)
    recent = np.asarray(frame["offences_12m_at_risk"])
    tax = iomscore.offence_taxonomy()
    for i, ref in enumerate(refs):
        card = _card_of(page, ref.person_id)
        rows = re.findall(r"<tr><td>\d{4}-\d\d-\d\d</td>.*?</tr>", card)
        assert len(rows) == len(ref.sanctions)
        assert sum("&#9679;" in r for r in rows) == (0 if np.isnan(recent[i]) else int(recent[i]))
        for s in ref.sanctions:
            assert f"<td>{s.offence_date.isoformat()}</td>" in card
            assert tax.get(s.offence_group).label.replace("&", "&amp;") in card
    prison_card = _card_of(page, "PRISON")
    assert "From 2024-01-01 to 2024-12-01 (335 days)" in prison_card and "still in custody" in prison_card
    assert page.count('id="at-risk"') == 1 and "time not" not in page.split('id="at-risk"')[1][:20]
    assert "Time at risk." in page and "does not look quiet" in page


def test_long_cards_continue_on_labelled_sheets_and_keep_the_decision_box_on_the_first() -> None:
    refs = [make_referral("LONG", offences=120, days_ago=5, spacing=4), make_referral("SHORT", offences=2)]
    table, sel = _select(refs, 2)
    data = sel.to_dict()
    for d in data["decisions"]:
        if d["person_id"] == "LONG":
            d["reasons"] = [f"Reason {k}: " + "a long explanation of the recommendation " * 6 for k in range(10)]
            d["warnings"] = ["First warning <check>", "Second warning"]
    data.pop("sha256")  # edited here: from_dict checks a recorded sha256
    sel = CohortSelection.from_dict(data)
    page = render_panel(sel, groups=table, generated_at=STAMP)
    card = _card_of(page, "LONG")
    sheets = re.findall(r'<section class="card(?:-cont)?".*?</section>', card, re.DOTALL)
    n = len(sheets)
    assert n >= 3 and f'data-sheets="{n}"' in sheets[0]
    for i, sheet in enumerate(sheets, start=1):
        assert f"LONG &middot; card page {i} of {n}</p>" in sheet
        assert sheet.endswith(f"End of LONG card page {i} of {n}</p></section>")
        assert (sheet.count('class="decision-box"') == 1) == (i == 1)
        if i > 1:
            assert f"LONG (continued, card page {i} of {n})" in sheet
    assert "Continued on card page 2 of" in sheets[0]
    assert all(f"Reason {k}:" in card for k in range(10))
    assert "First warning &lt;check&gt;" in card and "Second warning" in card
    assert len(re.findall(r"<tr><td>\d{4}-", card)) == 120
    short = re.findall(r'<section class="card(?:-cont)?"', _card_of(page, "SHORT"))
    assert len(short) == 1


def test_every_warning_is_on_the_card() -> None:
    table, sel = _select(demo_referrals(10, seed=2), 3)
    data = sel.to_dict()
    target = sel.selected[0]
    for d in data["decisions"]:
        if d["person_id"] == target:
            d["warnings"] = [f"warning number {k} & more" for k in range(7)]
    data.pop("sha256")  # edited here: from_dict checks a recorded sha256
    page = render_panel(CohortSelection.from_dict(data), groups=table, generated_at=STAMP)
    card = _card_of(page, target)
    assert all(f"warning number {k} &amp; more" in card for k in range(7))


def test_assessment_dates_after_the_meeting_are_flagged_and_counted() -> None:
    late = [make_referral(f"L{i}", offences=3, days_ago=10 + i) for i in range(3)]
    table, sel = _select(late, 2)
    meeting = (ASSESSMENT - dt.timedelta(days=5)).isoformat()
    page = render_panel(sel, groups=table, generated_at=STAMP, meeting_date=meeting)
    f = _figures(page)
    assert f["assessment_after_meeting"] == 3 and f["assessment_after_meeting_selected"] == 2
    for d in sel.decisions:
        assert f"is after the meeting date {meeting}" in _card_of(page, d.person_id)
    on_time = render_panel(sel, groups=table, generated_at=STAMP, meeting_date=ASSESSMENT.isoformat())
    assert _figures(on_time)["assessment_after_meeting"] == 0 and "is after the meeting date" not in on_time


def test_rates_show_counts_and_one_decimal_and_come_from_the_caller() -> None:
    table, sel = _select(demo_referrals(41, seed=9), 3)
    rates = selection_rates(sel, table)
    page = render_panel(sel, groups=table, generated_at=STAMP)
    assert render_panel(sel, rates=rates, table=table, generated_at=STAMP) == page
    assert f"{rates.selected} of {rates.referred} ({100 * rates.selected / rates.referred:.1f}%)" in page
    for g in rates.by_group:
        assert f"{g.selected} of {g.referred} (" in page
    assert re.search(r"\d+ of \d+ \(\d+\.\d%\)", page)


def test_recorded_decisions_and_changes_are_shown(tmp_path: Path) -> None:
    refs = demo_referrals(12, seed=4)
    table = _table(refs)
    before = select_cohort(table, iomscore.score_batch(table), capacity=3)
    refs2 = refs[1:] + [make_referral("LATE", offences=7, days_ago=3, spacing=5)]
    table2 = _table(refs2)
    after = select_cohort(table2, iomscore.score_batch(table2), capacity=3)
    log = DecisionLog(tmp_path / "log.jsonl")
    log.record(after, "LATE", "defer", panel="North", decided_by="chair", reason="Needs <housing> check",
               decided_at="2025-06-03T10:00:00+01:00")
    page = render_panel(after, previous=before, decisions=log.latest(after), generated_at=STAMP)
    assert "Changes since the last panel" in page and "New referral since the last panel" in page
    assert "Needs &lt;housing&gt; check" in page and "(override" in page
    assert render_panel(after, diff=diff_runs(before, after), decisions=log.latest(after), generated_at=STAMP) == page


def test_write_panel_writes_the_ranked_csv_atomically_and_byte_stably(tmp_path: Path) -> None:
    refs = demo_referrals(30, seed=7) + [make_referral(p, offences=2) for p in ("=SUM(A1)", "+1", "-x", "@y")]
    table, sel = _select(refs, 4)
    outs = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        out = write_panel(tmp_path / run / "pack.html", sel, groups=table, generated_at=STAMP, meeting_date="2025-06-02")
        outs.append(out)
        assert sorted(p.name for p in (tmp_path / run).iterdir()) == ["pack-ranked.csv", "pack.html"]
    assert outs[0].read_bytes() == outs[1].read_bytes()
    csv_a = ranked_csv_path(outs[0])
    assert csv_a.read_bytes() == ranked_csv_path(outs[1]).read_bytes()
    rows = list(csv.DictReader(io.StringIO(csv_a.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == COLUMNS and len(rows) == len(refs)
    assert [r["person_id"] for r in rows] == ["'" * (d.person_id[0] in "=+-@") + d.person_id for d in sel.ranked()]
    ids = {r["person_id"] for r in rows}
    assert {"'=SUM(A1)", "'+1", "'-x", "'@y"} <= ids and "=SUM(A1)" not in ids
    assert [r["position"] for r in rows] == [str(i) for i in range(1, len(refs) + 1)]
    assert sum(r["in_pack"] == "card" for r in rows) == outs[0].read_text(encoding="utf-8").count('<section class="card"')
    assert all(not r["score"].startswith("'") for r in rows)
    page = outs[0].read_text(encoding="utf-8")
    assert "pack-ranked.csv" in page and f"all {len(refs)} referrals" in page


def test_without_the_csv_the_full_list_is_in_the_pack(tmp_path: Path) -> None:
    table, sel = _select(demo_referrals(20, seed=1), 3)
    out = write_panel(tmp_path / "p.html", sel, groups=table, generated_at=STAMP, ranked_csv=False)
    assert not ranked_csv_path(out).exists()
    page = out.read_text(encoding="utf-8")
    assert "The full ranked list" in page
    assert all(d.person_id in page for d in sel.decisions)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 40), capacity=st.integers(0, 8), seed=st.integers(0, 10_000), reserves=st.integers(0, 6),
       members=st.integers(0, 3))
def test_figures_always_add_up_and_every_card_has_its_markers(n: int, capacity: int, seed: int, reserves: int,
                                                              members: int) -> None:
    refs = demo_referrals(n, seed=seed)
    table, sel = _select(refs, capacity, current_cohort=[r.person_id for r in refs[:members]])
    page = render_panel(sel, groups=table, generated_at=STAMP, reserves=reserves, meeting_date="2025-06-01")
    assert _check_sums(page) == 3
    s = sel.summary()
    expected = s["selected"] + min(reserves, s["over_capacity"]) + s["routed"] + s["deselection_reviews"] + s["not_scored"]
    cards = _cards(page)
    assert len(cards) == expected
    for card in cards:
        sheets = re.findall(r'<section class="card(?:-cont)?".*?</section>', card, re.DOTALL)
        assert all("card page" in sh and "End of " in sh for sh in sheets)
        assert card.count('class="decision-box"') == 1


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
