"""Hostile specs and policies (issue 9, security): pins, hashes, names, templates, bounds.

Every test here fails on the code before the pins (the parent of d786b5f): a shipped model
could be replaced by deleting or recomputing its sha256, by a second file claiming its name or
by a file in the working directory; templates reached ``str.format`` unchecked; huge numbers
and deep nesting were tracebacks.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import iomscore
from iomscore.cohort import PolicyError, load_policy
from iomscore.scoring import _pins
from iomscore.scoring._points import PointsScorer
from iomscore.scoring._registry import clear_scorer_cache, shipped_models_dir
from iomscore.scoring._spec import PointsSpec, SpecError, load_spec, spec_sha256

SHIPPED_SPEC = shipped_models_dir() / "iom-priority.json"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    clear_scorer_cache()
    yield
    clear_scorer_cache()


def _shipped() -> dict[str, Any]:
    return json.loads(SHIPPED_SPEC.read_text(encoding="utf-8"))


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _rehash(data: dict[str, Any]) -> dict[str, Any]:
    """What someone editing a spec by hand does to make it 'certify itself'."""
    out = {k: v for k, v in data.items() if k != "sha256"}
    out["sha256"] = PointsSpec.model_validate(out).compute_sha256()
    return out


def _tiny(**bin_overrides: Any) -> dict[str, Any]:
    spec = {
        "name": "tiny-hostile", "version": "1", "title": "Tiny",
        "factors": [{"name": "r", "feature": "offences_12m_at_risk", "label": "Recent", "bins": [
            {"upper": 1, "points": 0, "reason": "none"},
            {"lower": 1, "points": 2, "reason": "{value} recent offences", **bin_overrides}]}],
        "bands": [{"name": "all"}],
    }
    return spec


def _edited_shipped() -> dict[str, Any]:
    data = _shipped()
    data["factors"][0]["bins"][-1]["points"] += 5
    return data


# --- pinned shipped models --------------------------------------------------------------------


def test_the_pin_table_knows_the_shipped_model() -> None:
    assert _pins.SPECS["iom-priority"] == iomscore.get_scorer("iom-priority").identity.sha256


def test_deleting_the_hash_of_an_edited_shipped_spec_does_not_switch_the_check_off(tmp_path: Path) -> None:
    data = _edited_shipped()
    del data["sha256"]
    path = _write(tmp_path / "iom-priority.json", data)
    with pytest.raises(SpecError, match="claims the shipped name 'iom-priority'"):
        load_spec(path, allow_unhashed=True)  # even when the caller allows unhashed files


def test_a_rehashed_edit_of_a_shipped_spec_does_not_certify_itself(tmp_path: Path) -> None:
    path = _write(tmp_path / "iom-priority.json", _rehash(_edited_shipped()))
    with pytest.raises(SpecError, match=r"claims the shipped name 'iom-priority' .* not the shipped one"):
        iomscore.get_scorer(path)


def test_the_unchanged_shipped_spec_still_loads_without_its_hash(tmp_path: Path) -> None:
    data = _shipped()
    del data["sha256"]
    scorer = iomscore.get_scorer(_write(tmp_path / "copy.json", data))
    assert scorer.identity.sha256 == _pins.SPECS["iom-priority"]


def test_a_second_file_cannot_take_a_shipped_name_by_registering() -> None:
    with pytest.raises(ValueError, match="iomscore's own"):
        iomscore.register_scorer("iom-priority", lambda: PointsScorer(PointsSpec.model_validate(_tiny())))
    with pytest.raises(ValueError, match="iomscore's own"):
        iomscore.register_scorer("ogrs3", lambda: PointsScorer(PointsSpec.model_validate(_tiny())))
    assert iomscore.get_scorer("iom-priority").identity.sha256 == _pins.SPECS["iom-priority"]


def test_an_unhashed_spec_loads_only_when_the_caller_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path / "mine.json", _tiny())
    with pytest.raises(SpecError, match=r"records no sha256.*allow_unhashed=True.*--allow-unhashed"):
        iomscore.get_scorer(path)
    assert iomscore.get_scorer(path, allow_unhashed=True).identity.name == "tiny-hostile"
    with pytest.raises(SpecError, match="records no sha256"):  # the cached scorer is not handed out either
        iomscore.get_scorer(path)
    with pytest.raises(TypeError, match="True or False"):
        iomscore.get_scorer(path, allow_unhashed="yes")  # type: ignore[arg-type]


def test_a_name_never_reads_a_file_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = load_policy()
    hostile = json.loads(shipped.to_json())
    hostile["capacity"]["places"] = 500
    hostile["sha256"] = load_policy.__globals__["SelectionPolicy"].model_validate(
        {k: v for k, v in hostile.items() if k != "sha256"}).compute_sha256()
    for name in ("neighbourhood-crime-cohort", "neighbourhood-crime-cohort.json"):
        _write(tmp_path / name, hostile)
    assert load_policy().sha256 == _pins.POLICIES["neighbourhood-crime-cohort"]
    assert load_policy("neighbourhood-crime-cohort").capacity.places == shipped.capacity.places
    with pytest.raises(PolicyError, match="claims the shipped name"):  # given as a path: read, and refused
        load_policy("./neighbourhood-crime-cohort.json")
    _write(tmp_path / "iom-priority", _tiny())
    assert iomscore.get_scorer("iom-priority").identity.sha256 == _pins.SPECS["iom-priority"]


def test_a_policy_without_a_hash_loads_only_when_allowed(tmp_path: Path) -> None:
    data = json.loads(load_policy().to_json())
    del data["sha256"]
    data["name"] = "local-policy"
    path = _write(tmp_path / "local.json", data)
    with pytest.raises(PolicyError, match="records no sha256"):
        load_policy(path)
    assert load_policy(path, allow_unhashed=True).name == "local-policy"


# --- closed templates ---------------------------------------------------------------------------


@pytest.mark.parametrize(("reason", "bad"), [
    ("{value.__class__.__mro__}", "{value.__class__.__mro__}"),
    ("{value[0]}", "{value[0]}"),
    ("{value!r}", "{value!r}"),
    ("{value:>1000000}", "{value:>1000000}"),
    ("{nope} offences", "{nope}"),
    ("{threshold} offences", "{threshold}"),
    ("an unclosed { brace", "brace"),
])
def test_a_reason_template_outside_the_language_is_refused_at_load(tmp_path: Path, reason: str, bad: str) -> None:
    data = _tiny(reason=reason)
    path = _write(tmp_path / "t.json", data)
    with pytest.raises(SpecError) as info:
        load_spec(path, allow_unhashed=True)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "factors[0].bins[1].reason" in message and bad in message


def test_a_long_template_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.json", _tiny(reason="x" * 501))
    with pytest.raises(SpecError, match="at most 500"):
        load_spec(path, allow_unhashed=True)


def test_templates_of_the_language_render(tmp_path: Path) -> None:
    scorer = PointsScorer(_write(tmp_path / "t.json", _tiny(reason="{{literal}} {value} at {points} ({label})")),
                          allow_unhashed=True)
    batch = scorer.score_features({"offences_12m_at_risk": np.array([3.0])})
    assert batch.part_reasons[0][0] == "{literal} 3 at 2 (Recent)"


@pytest.mark.parametrize(("where", "text", "bad"), [
    ("condition", "{value.real} offences", "{value.real}"),
    ("condition", "{points} offences", "{points}"),
    ("routing", "{threshold}", "{threshold}"),
    ("routing", "{value:>999999}", "{value:>999999}"),
])
def test_policy_templates_are_closed_too(tmp_path: Path, where: str, text: str, bad: str) -> None:
    data = json.loads(load_policy().to_json())
    del data["sha256"]
    data["name"] = "local-policy"
    if where == "condition":
        data["eligibility"]["core"][0]["conditions"][0]["met"] = text
        field = "eligibility.core[0].conditions[0].met"
    else:
        data["routing"][0]["reason"] = text
        field = "routing[0].reason"
    with pytest.raises(PolicyError) as info:
        load_policy(_write(tmp_path / "p.json", data), allow_unhashed=True)
    assert field in str(info.value) and bad in str(info.value) and "\n" not in str(info.value)


# --- clear spec errors --------------------------------------------------------------------------


@pytest.mark.parametrize("change", [
    lambda d: d["factors"][0]["bins"][1].update(points=10**30),
    lambda d: d["factors"][0]["bins"][1].update(lower=10**400),
    lambda d: d.update(intercept=-(10**20)),
    lambda d: d["factors"][0]["bins"][1].update(lower=float("inf")),
])
def test_huge_numbers_and_deep_nesting_are_one_line_spec_errors(tmp_path: Path, change: Any) -> None:
    data = _tiny()
    change(data)
    path = _write(tmp_path / "t.json", data)
    with pytest.raises(SpecError) as info:
        PointsScorer(path, allow_unhashed=True)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_deeply_nested_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"provenance": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(SpecError, match="nested more than"):
        load_spec(path, allow_unhashed=True)


def test_a_hand_edited_spec_says_it_was_edited_not_a_pydantic_error(tmp_path: Path) -> None:
    data = _tiny()
    data["probability"] = {"outcome": "o", "key": "p", "totals": [0, 1, 2], "probabilities": [0.1, 0.2, 0.3]}
    data = _rehash(data)
    edited = copy.deepcopy(data)
    edited["factors"][0]["bins"][1]["points"] = 7  # totals 3..7 now have no probability
    path = _write(tmp_path / "t.json", edited)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "edited after it was hashed" in message and "\n" not in message
    assert "validation error" not in message


def test_a_missing_spec_path_says_the_file_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "missing.json")
    with pytest.raises(KeyError, match="does not exist"):
        iomscore.get_scorer(tmp_path / "missing.json")
    with pytest.raises(KeyError, match="does not exist"):
        iomscore.get_scorer(str(tmp_path / "missing"))  # a path without a suffix is still a path


def test_a_spec_that_is_not_an_object_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not a JSON object"):
        load_spec(_write(tmp_path / "a.json", [1, 2]), allow_unhashed=True)


def test_the_canonical_hash_is_unchanged_for_the_shipped_files() -> None:
    assert spec_sha256(PointsSpec.model_validate(_shipped()).content()) == _pins.SPECS["iom-priority"]
