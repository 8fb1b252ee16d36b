"""The selection-policy format: validation, hashing, the shipped policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iomscore.cohort import PolicyError, SelectionPolicy, load_policy

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "policies" / "neighbourhood-crime-cohort.json"


def _data() -> dict:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def test_shipped_policy_loads_and_its_hash_matches() -> None:
    policy = load_policy()
    assert policy.name == "neighbourhood-crime-cohort"
    assert policy.sha256 == _data()["sha256"] == policy.compute_sha256()
    assert policy.capacity.places == 20
    assert policy.tie_break[-1].key == "person_id"
    assert load_policy(SHIPPED) == policy
    assert load_policy("neighbourhood-crime-cohort") == policy


def test_file_edited_after_hashing_does_not_load(tmp_path: Path) -> None:
    data = _data()
    data["capacity"]["places"] = 25
    p = tmp_path / "edited.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PolicyError, match="does not match its content"):
        load_policy(p)
    del data["sha256"]  # deleting the hash no longer switches the check off: the name is pinned
    p.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PolicyError, match="claims the shipped name 'neighbourhood-crime-cohort'"):
        load_policy(p, allow_unhashed=True)
    data["name"] = "local-variant"  # under a name of its own, and only when the caller says so
    p.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PolicyError, match="records no sha256.*allow_unhashed=True.*--allow-unhashed"):
        load_policy(p)
    assert load_policy(p, allow_unhashed=True).capacity.places == 25


def test_to_json_round_trips() -> None:
    policy = load_policy()
    again = SelectionPolicy.model_validate_json(policy.to_json())
    assert again.compute_sha256() == policy.sha256


def test_routing_must_cover_high_rosh_and_mappa_2_3() -> None:
    data = _data()
    data.pop("sha256")
    data["routing"] = [r for r in data["routing"] if r["field"] != "mappa_level"]
    with pytest.raises(ValueError, match="mappa_level=2"):
        SelectionPolicy.model_validate(data)


def test_tie_break_must_end_with_person_id() -> None:
    data = _data()
    data.pop("sha256")
    data["tie_break"] = data["tie_break"][:-1]
    with pytest.raises(ValueError, match="must end with person_id"):
        SelectionPolicy.model_validate(data)


@pytest.mark.parametrize("feature,message", [("no_such_feature", "does not define"), ("sex", "sensitive")])
def test_conditions_read_known_non_sensitive_features(feature: str, message: str) -> None:
    data = _data()
    data.pop("sha256")
    data["eligibility"]["core"][0]["conditions"][0]["feature"] = feature
    with pytest.raises(ValueError, match=message):
        SelectionPolicy.model_validate(data)


def test_unknown_fields_are_rejected() -> None:
    data = _data()
    data.pop("sha256")
    data["capacity"]["beds"] = 3
    with pytest.raises(ValueError):
        SelectionPolicy.model_validate(data)


def test_with_capacity_rehashes() -> None:
    policy = load_policy()
    smaller = policy.with_capacity(5)
    assert smaller.capacity.places == 5 and smaller.sha256 != policy.sha256
    assert smaller.sha256 == smaller.compute_sha256()


def test_missing_policy_name_is_an_error() -> None:
    with pytest.raises(PolicyError, match="no shipped policy named 'no-such-policy'.*give its path"):
        load_policy("no-such-policy")
