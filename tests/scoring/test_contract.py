"""The versioned output contract: ScoreResult JSON and score_json."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

import iomscore
from iomscore import synth
from iomscore.schema._batch import day_to_date

REFERRAL: dict[str, Any] = {
    "person_id": "P1", "assessment_date": "2025-06-01", "date_of_birth": "1995-02-01", "sex": "male",
    "sanctions": [{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                   "offence_group": "burglary_domestic", "disposal": "community_order"}],
}


def test_results_carry_format_version_and_assessment_date() -> None:
    result = iomscore.score(iomscore.parse_referral(REFERRAL), scorer="ogrs3")
    data = json.loads(result.model_dump_json())
    assert list(data)[:4] == ["format", "iomscore_version", "person_id", "assessment_date"]
    assert data["format"] == "iomscore.score/1"
    assert data["iomscore_version"] == iomscore.__version__
    assert data["assessment_date"] == "2025-06-01"
    assert iomscore.ScoreResult.model_validate_json(result.model_dump_json()) == result


def test_batch_results_have_each_rows_assessment_date() -> None:
    table = synth.generate(30, seed=7)
    results = iomscore.score_batch(table).results()
    dates = [r.assessment_date for r in results]
    assert all(isinstance(d, dt.date) for d in dates)
    assert dates == [day_to_date(int(d)) for d in table.batch.assessment_day]
    assert len(set(dates)) > 1, "the synthetic list should have several assessment dates"
    chunked = iomscore.score_batch(table, chunk_size=7).results()
    assert [r.model_dump_json() for r in chunked] == [r.model_dump_json() for r in results]


def test_saved_results_without_the_new_fields_still_load() -> None:
    result = iomscore.score(iomscore.parse_referral(REFERRAL))
    old = json.loads(result.model_dump_json())
    for key in ("format", "iomscore_version", "assessment_date"):
        old.pop(key)
    loaded = iomscore.ScoreResult.model_validate(old)
    assert (loaded.format, loaded.iomscore_version, loaded.assessment_date) == ("iomscore.score/1", None, None)
    assert loaded.score == result.score and loaded.breakdown == result.breakdown
    with pytest.raises(ValueError, match="iomscore.score/1"):
        iomscore.ScoreResult.model_validate({**old, "format": "iomscore.score/2"})


def test_score_json_one_and_many_match_score() -> None:
    one = json.loads(iomscore.score_json(json.dumps(REFERRAL), scorer="iom-priority"))
    direct = json.loads(iomscore.score(iomscore.parse_referral(REFERRAL), scorer="iom-priority").model_dump_json())
    assert one == direct
    second = {**REFERRAL, "person_id": "P2", "sex": "female"}
    many = json.loads(iomscore.score_json(json.dumps([REFERRAL, second]).encode("utf-8"), scorer="ogrs3"))
    assert [m["person_id"] for m in many] == ["P1", "P2"]
    assert all(m["format"] == "iomscore.score/1" and m["model"]["name"] == "ogrs3" for m in many)
    assert json.loads(iomscore.score_json("[]")) == []


def test_score_json_lists_every_problem_with_its_path() -> None:
    bad_date = {**REFERRAL, "person_id": "P2", "date_of_birth": "2030-01-01"}
    bad_sanction = {**REFERRAL, "person_id": "P3",
                    "sanctions": [{**REFERRAL["sanctions"][0], "offence_group": "no_such_group", "disposal": 5}]}
    with pytest.raises(iomscore.ReferralError) as info:
        iomscore.score_json(json.dumps([REFERRAL, bad_date, bad_sanction, "x"]))
    fields = [f for f, _ in info.value.problems]
    assert "[1].date_of_birth" in fields
    assert any(f.startswith("[2].sanctions[0].offence_group") for f in fields)
    assert any(f.startswith("[2].sanctions[0].disposal") for f in fields)
    assert "[3]" in fields
    assert not any(f.startswith("[0]") for f in fields)
    assert "P2" in info.value.record and "P3" in info.value.record


@pytest.mark.parametrize("text", ["{not json", b"\xff", "3", '"a referral"', "null"])
def test_score_json_refuses_what_is_not_referrals(text: str | bytes) -> None:
    with pytest.raises(iomscore.ReferralError):
        iomscore.score_json(text)


def test_score_json_single_object_error_names_the_person() -> None:
    with pytest.raises(iomscore.ReferralError, match="referral P1: .*date_of_birth"):
        iomscore.score_json(json.dumps({**REFERRAL, "date_of_birth": "2030-01-01"}))
