"""Places that turn over: the forecast against hand-computed cases, the occupancy form, the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

import iomscore
from iomscore import synth
from iomscore.cli import main as cli
from iomscore.cohort import (
    Occupancy,
    OccupancyError,
    Placement,
    forecast_places,
    read_occupancy,
    select_cohort,
)

HEADER = "person_id,cohort,start_date,expected_end_date\n"


def _occ(*rows: str) -> Occupancy:
    return Occupancy.from_csv_text(HEADER + "\n".join(rows) + "\n")


def test_forecast_hand_computed_one_cohort() -> None:
    # meeting 2026-01-12; months end 2026-02-12, 2026-03-12, 2026-04-12
    occ = _occ(
        "A,house,2025-08-01,2026-01-12",  # leaves on the meeting date: by the meeting
        "B,house,2025-09-01,2026-01-13",  # the day after: month 1
        "C,house,2025-10-01,2026-02-12",  # the last day of month 1
        "D,house,2025-10-01,2026-02-13",  # month 2
        "E,house,2025-11-01,2026-04-12",  # the last day of month 3
        "F,house,2025-11-01,2026-04-13",  # later
        "G,house,2025-12-01,",  # no end date, no usual stay
    )
    f = forecast_places(occ, {"house": 10}, "2026-01-12")
    c = f.get("house")
    assert (c.places, c.occupied, c.leaving_by_meeting, c.free_at_meeting) == (10, 7, 1, 4)
    assert c.leaving_in_month == (2, 1, 1) and (c.leaving_later, c.no_end_date, c.estimated_ends) == (1, 1, 0)
    assert c.leaving_by_meeting + sum(c.leaving_in_month) + c.leaving_later + c.no_end_date == c.occupied
    assert [x.person_id for x in f.leavers] == ["A", "B", "C", "D", "E"]
    assert [x.when for x in f.leavers] == ["by the meeting", "month 1", "month 1", "month 2", "month 3"]
    assert f.months == (dt.date(2026, 2, 12), dt.date(2026, 3, 12), dt.date(2026, 4, 12))


def test_forecast_month_ends_clamp_and_usual_stay_estimates() -> None:
    # meeting on 31 January: the months end 28 February, 31 March, 30 April
    occ = _occ("P,house,2025-10-31,", "Q,house,2025-11-30,", "R,house,2026-01-31,2026-03-01")
    f = forecast_places(occ, {"house": 3}, dt.date(2026, 1, 31), stay_months={"house": 4})
    assert f.months == (dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30))
    by = {x.person_id: x for x in f.leavers}
    assert by["P"].expected_end_date == dt.date(2026, 2, 28) and by["P"].estimated and by["P"].when == "month 1"
    assert by["Q"].expected_end_date == dt.date(2026, 3, 30) and by["Q"].when == "month 2"
    assert by["R"].expected_end_date == dt.date(2026, 3, 1) and not by["R"].estimated and by["R"].when == "month 2"
    c = f.get("house")
    assert (c.free_at_meeting, c.leaving_in_month, c.estimated_ends) == (0, (1, 2, 0), 2)


def test_forecast_over_occupied_and_several_cohorts() -> None:
    occ = _occ("A,fixed,2025-01-01,2026-01-01", "B,fixed,2025-01-01,", "C,fixed,2025-01-01,",
               "D,flex,2025-01-01,2026-02-01", "E,other,2025-01-01,2026-01-01")
    f = forecast_places(occ, {"fixed": 1, "flex": 2}, "2026-01-12")
    assert [c.cohort for c in f.cohorts] == ["fixed", "flex"]  # 'other' is not a cohort here
    fixed, flex = f.get("fixed"), f.get("flex")
    # 3 in 1 place, one leaving: still 2 for 1 place, so nothing is free
    assert (fixed.occupied, fixed.leaving_by_meeting, fixed.free_at_meeting) == (3, 1, 0)
    assert (flex.occupied, flex.free_at_meeting, flex.leaving_in_month) == (1, 1, (1, 0, 0))
    frame = f.to_frame()
    assert list(frame["cohort"]) == ["fixed", "flex"] and list(frame["free_at_meeting"]) == [0, 1]
    assert list(frame.columns)[:5] == ["cohort", "places", "occupied", "leaving_by_meeting", "free_at_meeting"]
    assert "E" not in {x.person_id for x in f.leavers}
    with pytest.raises(ValueError, match="months"):
        forecast_places(occ, {"fixed": 1}, "2026-01-12", months=0)


def test_forecast_is_frozen_and_takes_placements() -> None:
    f = forecast_places([Placement(person_id="A", cohort="c", start_date=dt.date(2025, 1, 1))], {"c": 1}, "2025-02-01")
    assert f.get("c").no_end_date == 1 and f.get("c").free_at_meeting == 0
    with pytest.raises(ValidationError, match="frozen"):
        f.as_of = dt.date(2020, 1, 1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("person_id,start_date\nP1,2025-01-01\n", "missing cohort, expected_end_date"),
        (HEADER + "P1,house,2025-13-01,\n", "line 2, start_date: '2025-13-01' is not a date"),
        (HEADER + "P1,house,2025-01-01,2026-02-30\n", "line 2, expected_end_date"),
        (HEADER + "P1,house,2025-05-01,2025-04-01\n", "line 2, expected_end_date: 2025-04-01 is before start_date"),
        (HEADER + "P1,house,2025-01-01,\n\nP1,house,2025-02-01,\n", "line 4, person_id: 'P1' already holds a place (line 2)"),
        (HEADER + ",house,2025-01-01,\n", "line 2, person_id: empty"),
    ],
)
def test_occupancy_errors_name_the_line_and_field(text: str, message: str) -> None:
    with pytest.raises(OccupancyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Occupancy.from_csv_text(text, source="cur.csv")


def test_selection_with_occupancy_frees_the_places_of_leavers(tmp_path) -> None:
    table = synth.generate(200, 4)
    scores = iomscore.score_batch(table)
    ids = [str(p) for p in table.batch.person_id]
    occ = _occ(f"{ids[0]},,2025-01-01,2025-03-01", f"{ids[1]},,2025-01-01,2026-12-01", "AWAY-1,,2025-01-01,",
               "AWAY-2,,2025-01-01,2025-02-01", "AWAY-3,,2025-05-15,")
    sel = select_cohort(table, scores, "iom-house-places", current_cohort=occ, as_of="2025-06-01")
    assert not sel.get(ids[0]).current_member and sel.get(ids[1]).current_member
    assert sel.capacity == 19  # AWAY-3 (not in the list, a four-month stay to 2025-09-15) holds a bed
    assert any("1 of the 20 place(s) of iom-house-places are held by occupants not in this referral list" in w
               for w in sel.warnings)
    t = sel.turnover
    assert t is not None and t.get("iom-house-places").occupied == 5
    assert {x.person_id for x in t.leavers if x.when == "by the meeting"} == {ids[0], "AWAY-1", "AWAY-2"}
    again = CohortSelectionRoundTrip.check(sel)
    assert again.turnover == sel.turnover
    path = tmp_path / "cur.csv"
    path.write_text(HEADER + f"{ids[1]},iom-house-places,2025-01-01,2026-12-01\n", encoding="utf-8")
    assert read_occupancy(path).people() == (ids[1],)
    with pytest.raises(iomscore.cohort.SelectionError, match="line 2, cohort: 'fixed'"):
        select_cohort(table, scores, "iom-house-places", current_cohort=_occ(f"{ids[1]},fixed,2025-01-01,"))


class CohortSelectionRoundTrip:
    @staticmethod
    def check(sel: iomscore.cohort.CohortSelection) -> iomscore.cohort.CohortSelection:
        loaded = iomscore.cohort.CohortSelection.from_dict(json.loads(sel.to_json()))
        assert loaded == sel and loaded.sha256 == sel.sha256
        return loaded


def test_cli_select_takes_the_occupancy_form_and_the_id_list(tmp_path, capsys) -> None:
    table = synth.generate(120, 8)
    ref = tmp_path / "refs.jsonl"
    iomscore.io.write_referrals_jsonl(table, ref)
    ids = [str(p) for p in table.batch.person_id]
    cur = tmp_path / "current.csv"
    cur.write_text(HEADER + f"{ids[0]},,2025-01-01,2026-01-20\nR-9,,2025-12-01,\n", encoding="utf-8")
    log = str(tmp_path / "runs.jsonl")
    assert cli(["select", str(ref), "--policy", "iom-house-places", "--current-cohort", str(cur),
                "--meeting-date", "2026-01-12", "--run-log", log]) == 0
    out = capsys.readouterr().out
    assert "places iom-house-places: 20 places, 2 occupied; 18 free at 2026-01-12 (0 leaving by then)" in out
    assert f"leaving month 1: {ids[0]}" in out and "policy iom-house-places 1.0.0; 19 places" in out
    assert cli(["select", str(ref), "--current-cohort", f"{ids[0]},{ids[1]}", "--run-log", log, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "turnover" not in data and sum(d["current_member"] for d in data["decisions"]) == 2
    listed = tmp_path / "ids.txt"
    listed.write_text(f"{ids[2]}\n", encoding="utf-8")
    assert cli(["select", str(ref), "--current-cohort", str(listed), "--run-log", log, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["current_members"] == 1
