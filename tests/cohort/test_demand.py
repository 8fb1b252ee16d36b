"""Pathway demand against hand-computed small cases: overall, per cohort, by group (through the
fairness engine), in the CLI (text, Markdown, JSON, CSV) and in the panel pack."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import iomscore
from iomscore.cli import main
from iomscore.cohort import CohortSelection, PathwayDemand, pathway_demand, select_cohort
from iomscore.cohort._demand import NO_COHORT
from iomscore.cohort._select import CohortInfo, Decision
from iomscore.fairness import group_rates
from iomscore.panel import render_panel
from iomscore.schema._vocabulary import PATHWAYS

# Four people; needs not listed are not assessed.
#            accommodation      drugs_alcohol      health
PEOPLE = [
    ("A", "male", "White", {"accommodation": "significant_need", "drugs_alcohol": "significant_need",
                            "health": "some_need"}),
    ("B", "female", "Black", {"accommodation": "some_need", "drugs_alcohol": "significant_need",
                              "health": "no_need"}),
    ("C", "male", None, {"accommodation": "no_need", "drugs_alcohol": "some_need"}),
    ("D", "male", "White", {}),
]


def _referrals() -> list[iomscore.Referral]:
    return [iomscore.Referral(person_id=p, assessment_date="2025-06-01", date_of_birth="1990-01-01", sex=s,
                              protected={"ethnicity": eth}, needs=needs) for p, s, eth, needs in PEOPLE]


def _counts(d: PathwayDemand, pathway: str, **where: str) -> tuple[int, int, int, int, int]:
    r = d.get(pathway, **where)
    return r.people, r.no_need, r.some_need, r.significant_need, r.not_assessed


def test_overall_by_hand() -> None:
    d = pathway_demand(_referrals())
    assert d.people == 4 and d.cohorts == () and d.what == "a referral list"
    # (people, no need, some, significant, not assessed)
    assert _counts(d, "accommodation") == (4, 1, 1, 1, 1)
    assert _counts(d, "drugs_alcohol") == (4, 0, 1, 2, 1)
    assert _counts(d, "health") == (4, 1, 1, 0, 2)
    assert _counts(d, "children_families") == (4, 0, 0, 0, 4)
    assert [r.pathway for r in d.overall()] == list(PATHWAYS)
    for r in d.rows:
        assert r.no_need + r.some_need + r.significant_need + r.not_assessed == r.people
        assert r.with_need == r.some_need + r.significant_need


def test_per_cohort_by_hand() -> None:
    d = pathway_demand(_referrals(), cohorts=["core", "flex", "core", None])
    assert d.cohorts == ("core", "flex", NO_COHORT)
    assert _counts(d, "accommodation", cohort="core") == (2, 1, 0, 1, 0)  # A, C
    assert _counts(d, "drugs_alcohol", cohort="core") == (2, 0, 1, 1, 0)
    assert _counts(d, "drugs_alcohol", cohort="flex") == (1, 0, 0, 1, 0)  # B
    assert _counts(d, "drugs_alcohol", cohort=NO_COHORT) == (1, 0, 0, 0, 1)  # D
    # the cohorts add up to everyone, pathway by pathway
    for k, total in enumerate(d.overall()):
        parts = [d.for_cohort(c)[k] for c in d.cohorts]
        for attr in ("people", "some_need", "significant_need", "not_assessed"):
            assert sum(getattr(p, attr) for p in parts) == getattr(total, attr)
    with pytest.raises(ValueError, match="one per person"):
        pathway_demand(_referrals(), cohorts=["core"])


def test_by_group_through_the_fairness_engine() -> None:
    d = pathway_demand(_referrals(), by=["sex", "ethnicity"], min_group_size=2)
    assert d.groups("sex") == ("female", "male") and d.groups("ethnicity") == ("Black", "White", "not recorded")
    assert _counts(d, "drugs_alcohol", characteristic="sex", group="male") == (3, 0, 1, 1, 1)
    assert _counts(d, "drugs_alcohol", characteristic="sex", group="female") == (1, 0, 0, 1, 0)
    assert _counts(d, "accommodation", characteristic="ethnicity", group="not recorded") == (1, 1, 0, 0, 0)
    assert d.get("health", characteristic="sex", group="female").small
    assert not d.get("health", characteristic="sex", group="male").small
    # the groups and their sizes are group_rates' own
    rates = group_rates([True] * 4, {"sex": [p[1] for p in PEOPLE], "ethnicity": [p[2] for p in PEOPLE]},
                        characteristics=["sex", "ethnicity"], min_group_size=2)
    assert [(r.characteristic, r.group, r.n) for r in rates.rows] == [
        (ch, g, d.for_group(ch, g)[0].people) for ch in ("sex", "ethnicity") for g in d.groups(ch)]
    with pytest.raises(KeyError, match="religion_x"):
        pathway_demand(_referrals(), by=["religion_x"])


def _selection(refs: list[iomscore.Referral]) -> CohortSelection:
    """A hand-made two-cohort selection: A in core, B and C in local, D over capacity."""
    needs = {r.person_id: {p: getattr(r.needs, p) for p in PATHWAYS} for r in refs}

    def decision(pid: str, what: str, cohort: str | None, rank: int | None) -> Decision:
        action = "include" if what == "selected" else "exclude"
        return Decision(person_id=pid, decision=what, recommended_action=action, reasons=("x",), eligible=True,
                        rank=rank, needs=needs[pid], cohort=cohort)

    return CohortSelection(
        policy_name="two-cohorts", policy_version="1", policy_sha256="0" * 64, model=None, capacity=3,
        tie_break="score", cohorts=(CohortInfo(name="core", title="Core", places=1, tie_break="score"),
                                    CohortInfo(name="local", title="Local", places=2, tie_break="score")),
        decisions=(decision("A", "selected", "core", 1), decision("B", "selected", "local", 1),
                   decision("C", "selected", "local", 2), decision("D", "eligible - over capacity", "local", 3)),
    )


def test_selection_counts_the_people_selected_per_cohort() -> None:
    refs = _referrals()
    sel = _selection(refs)
    d = pathway_demand(sel)
    assert d.people == 3 and d.cohorts == ("core", "local") and d.what == "selected of two-cohorts 1"
    assert _counts(d, "drugs_alcohol") == (3, 0, 1, 2, 0)
    assert _counts(d, "drugs_alcohol", cohort="local") == (2, 0, 1, 1, 0)
    assert _counts(d, "health", cohort="core") == (1, 0, 1, 0, 0)
    everyone = pathway_demand(sel, decisions=None)
    assert everyone.people == 4 and _counts(everyone, "drugs_alcohol", cohort="local") == (3, 0, 1, 1, 1)
    with pytest.raises(ValueError, match="referrals="):
        pathway_demand(sel, by=["sex"])
    by_sex = pathway_demand(sel, referrals=refs, by=["sex"], min_group_size=1)
    assert _counts(by_sex, "accommodation", characteristic="sex", group="male") == (2, 1, 0, 1, 0)  # A, C
    with pytest.raises(ValueError, match="unknown decision"):
        pathway_demand(sel, decisions=["chosen"])


def test_a_real_selection_matches_its_referrals() -> None:
    refs = _referrals()
    sel = select_cohort(refs, iomscore.score(refs), capacity=2)
    chosen = set(sel.selected)
    d = pathway_demand(sel)
    assert d.people == len(chosen) and d.cohorts == ()
    for k, p in enumerate(PATHWAYS):
        levels = [getattr(r.needs, p) for r in refs if r.person_id in chosen]
        row = d.overall()[k]
        assert (row.some_need, row.significant_need, row.not_assessed) == (
            levels.count("some_need"), levels.count("significant_need"), levels.count("not_assessed"))


def test_renderings_agree() -> None:
    d = pathway_demand(_referrals(), cohorts=["core", "flex", "core", None], by=["sex"], min_group_size=1)
    data = json.loads(d.to_json())
    assert data["people"] == 4 and len(data["rows"]) == 7 * (1 + 3 + 2)
    rows = list(csv.DictReader(io.StringIO(d.to_csv())))
    assert len(rows) == len(d.rows)
    drugs_core = next(r for r in rows if r["cohort"] == "core" and r["pathway"] == "drugs_alcohol")
    assert (drugs_core["people"], drugs_core["some_need"], drugs_core["significant_need"]) == ("2", "1", "1")
    frame = d.to_frame()
    assert list(frame.columns)[:4] == ["cohort", "characteristic", "group", "pathway"] and len(frame) == len(d.rows)
    text = d.to_text()
    assert "Cohort core (2 people)" in text and "sex: female (1 people)" in text
    assert "| Drugs and alcohol | 1 | 1 | 0 |" in d.to_markdown()
    assert d.to_json() == pathway_demand(_referrals(), cohorts=["core", "flex", "core", None], by=["sex"],
                                         min_group_size=1).to_json()


def test_csv_cells_are_neutralised() -> None:
    d = pathway_demand(_referrals(), cohorts=["=cmd()", "=cmd()", "=cmd()", "=cmd()"])
    assert "'=cmd()" in d.to_csv() and ",=cmd()" not in d.to_csv()


def test_pack_shows_the_chart_and_the_cohort_table() -> None:
    refs = _referrals()
    sel = _selection(refs)
    html = render_panel(sel, generated_at="2025-06-02T09:00:00")
    section = html[html.index('<h2 id="pathway-demand">'):]
    assert section.count('<svg class="chart demand"') == 1
    assert '<table class="demand">' in section and "<th>core (1)</th>" in section and "<th>local (2)</th>" in section
    # Drugs and alcohol: core A significant; local B significant, C some; nobody unassessed
    assert "<td>Drugs and alcohol</td><td>1 / 0 / 0</td><td>1 / 1 / 0</td>" in section


def test_cli_needs_on_a_selection_and_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refs = _referrals()
    sel = _selection(refs)
    (tmp_path / "sel.json").write_text(sel.to_json(), encoding="utf-8")
    iomscore.io.write_referrals_jsonl(iomscore.ReferralTable.from_referrals(refs), tmp_path / "refs.jsonl")
    assert main(["needs", str(tmp_path / "sel.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Pathway demand: 3 people (selected of two-cohorts 1)") and "Cohort local (2 people)" in out
    assert main(["needs", str(tmp_path / "sel.json"), "--by", "sex"]) == 2
    assert "--referrals" in capsys.readouterr().err
    assert main(["needs", str(tmp_path / "sel.json"), "--by", "sex", "--referrals", str(tmp_path / "refs.jsonl"),
                 "--format", "json", "--min-group-size", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    male = [r for r in data["rows"] if r["group"] == "male" and r["pathway"] == "accommodation"]
    assert [(r["people"], r["significant_need"]) for r in male] == [(2, 1)]
    assert main(["needs", str(tmp_path / "refs.jsonl"), "--format", "csv", "-o", str(tmp_path / "d.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "d.csv").open(encoding="utf-8")))
    assert len(rows) == 7 and rows[3]["pathway"] == "drugs_alcohol" and rows[3]["significant_need"] == "2"
    assert main(["needs", str(tmp_path / "refs.jsonl"), "--format", "markdown", "--by", "sex,ethnicity"]) == 0
    assert "## ethnicity: not recorded (1 people, small: do not compare)" in capsys.readouterr().out
    assert main(["needs", str(tmp_path / "refs.jsonl"), "-o", str(tmp_path / "refs.jsonl")]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
