"""The referral schema: validation names the field, models are frozen and strict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

import iomscore
from iomscore.schema._rules import _CUSTODY_CODE, check_batch
from iomscore.schema._table import ReferralTable
from iomscore.schema._vocabulary import DISPOSALS


def base(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person_id": "P1",
        "assessment_date": "2025-06-01",
        "date_of_birth": "1995-02-01",
        "sex": "male",
        "sanctions": [
            {"offence_date": "2025-01-10", "sanction_date": "2025-02-01",
             "offence_group": "burglary_domestic", "disposal": "community_order"},
            {"offence_date": "2024-03-01", "sanction_date": "2024-04-01",
             "offence_group": "shop_theft", "disposal": "fine"},
        ],
    }
    data.update(overrides)
    return data


def error_text(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        iomscore.Referral.model_validate(data)
    return str(info.value)


def test_valid_referral_round_trips_through_json() -> None:
    r = iomscore.Referral.model_validate(base(needs={"drugs_alcohol": "significant_need"}))
    again = iomscore.Referral.model_validate_json(r.model_dump_json())
    assert again == r


def test_frozen_and_unknown_fields_rejected() -> None:
    r = iomscore.Referral.model_validate(base())
    with pytest.raises(ValidationError):
        r.person_id = "other"  # type: ignore[misc]
    assert "extra_forbidden" in error_text(base(name="Jane Doe"))


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"sanctions": [{"offence_date": "2025-07-01", "sanction_date": "2025-07-02",
                         "offence_group": "shop_theft", "disposal": "fine"}]},
         "sanctions[0].offence_date", "after the assessment date"),
        ({"sanctions": [{"offence_date": "2025-01-01", "sanction_date": "2024-12-01",
                         "offence_group": "shop_theft", "disposal": "fine"}]},
         "sanctions[0].sanction_date", "before the offence date"),
        ({"sanctions": [{"offence_date": "2004-01-01", "sanction_date": "2005-01-01",
                         "offence_group": "shop_theft", "disposal": "fine"}]},
         "sanctions[0].offence_date", "the person was 8"),
        ({"custody": [{"start": "2024-05-01", "end": "2024-04-01"}]},
         "custody[0].end", "ends (2024-04-01) before it starts (2024-05-01)"),
        ({"sanctions": [{"offence_date": "2025-01-01", "sanction_date": "2025-02-01",
                         "offence_group": "shop_theft", "disposal": "fine", "custody_days": 30}]},
         "sanctions[0].custody_days", "non-custodial"),
        ({"date_of_birth": "2020-01-01"}, "date_of_birth", "people under 10"),
    ],
)
def test_cross_field_errors_name_the_field(change: dict[str, Any], field: str, phrase: str) -> None:
    text = error_text(base(**change))
    assert field in text
    assert phrase in text


def test_unknown_offence_group_names_the_field() -> None:
    data = base()
    data["sanctions"][1]["offence_group"] = "jaywalking"
    text = error_text(data)
    assert "sanctions.1.offence_group" in text and "unknown offence group 'jaywalking'" in text


def test_position_in_message_is_the_input_position() -> None:
    data = base()
    data["sanctions"].append({"offence_date": "2026-01-01", "sanction_date": "2026-01-02",
                              "offence_group": "shop_theft", "disposal": "fine"})
    assert "sanctions[2].offence_date" in error_text(data)


def test_occasion_must_share_a_sanction_date() -> None:
    data = base()
    for s, day in zip(data["sanctions"], ("2025-02-01", "2025-02-02")):
        s["occasion_id"] = "court-7"
        s["offence_date"] = "2025-01-10"
        s["sanction_date"] = day
    assert "occasion court-7 have different sanction dates" in error_text(data)


def test_only_one_current_sanction() -> None:
    data = base()
    for s in data["sanctions"]:
        s["current"] = True
    assert "sanctions[0].current" in error_text(data)


def test_batch_rules_agree_with_the_model(tmp_path: Any) -> None:
    good = iomscore.Referral.model_validate(base())
    bad = iomscore.Referral.model_validate(
        base(person_id="BAD", custody=[{"start": "2024-05-01", "end": "2024-04-01"}]),
        context={"skip_rules": True},
    )
    v = check_batch(ReferralTable.from_referrals([good, bad, good]).batch)
    assert v.mask.tolist() == [False, True, False]
    assert v.field[1] == "custody[0].end"


def test_custody_code_constant_matches_disposals() -> None:
    assert DISPOSALS[_CUSTODY_CODE] == "custody"


def test_json_schema_is_exported() -> None:
    schema = iomscore.Referral.model_json_schema()
    text = json.dumps(schema)
    assert "serious_harm" in schema["properties"] and "protected" in schema["properties"]
    assert "significant_need" in text


def test_parse_referral_names_the_record_and_every_field() -> None:
    data = base(person_id="P-77", sex="unknown")
    data["sanctions"][0]["offence_group"] = "jaywalking"
    with pytest.raises(iomscore.ReferralError) as info:
        iomscore.parse_referral(json.dumps(data))
    err = info.value
    assert err.record == "P-77"
    fields = [f for f, _ in err.problems]
    assert fields == ["sex", "sanctions[0].offence_group"]
    assert str(err).startswith("referral P-77: sex: ")


def test_parse_referral_cross_field_rule_has_its_path() -> None:
    with pytest.raises(iomscore.ReferralError) as info:
        iomscore.parse_referral(base(custody=[{"start": "2024-05-01", "end": "2024-04-01"}]))
    assert info.value.problems[0][0] == "custody[0].end"


def test_parse_referral_without_person_id_uses_the_callers_label() -> None:
    with pytest.raises(iomscore.ReferralError, match="referral line 12: "):
        iomscore.parse_referral("{not json", record="line 12")
