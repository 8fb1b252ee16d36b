"""docs/examples/score_service.py: started on localhost (a free port), posted a referral and bad ones."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iomscore._contract import contract_schema

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "score_service.py"
REFERRAL = {"person_id": "P1", "assessment_date": "2025-06-01", "date_of_birth": "1990-01-01", "sex": "male",
            "sanctions": [{"offence_date": "2025-01-01", "sanction_date": "2025-02-01",
                           "offence_group": "burglary_domestic", "disposal": "community_order"}]}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, str(EXAMPLE), "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the scorer is loaded and the port bound
        assert line.startswith("listening on "), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_referral_gets_the_score_contract(url: str) -> None:
    status, body = _post(url, json.dumps(REFERRAL).encode())
    assert status == 200
    jsonschema.validate(body, contract_schema("score"))
    assert body["format"] == "iomscore.score/1" and body["person_id"] == "P1"
    status, many = _post(url, json.dumps([REFERRAL, {**REFERRAL, "person_id": "P2"}]).encode())
    assert status == 200 and [r["person_id"] for r in many] == ["P1", "P2"]


def test_a_bad_referral_gets_422_with_every_field_path(url: str) -> None:
    bad = {**REFERRAL, "date_of_birth": "1990-02-30", "sanctions": [{**REFERRAL["sanctions"][0], "disposal": "x"}]}
    status, body = _post(url, json.dumps(bad).encode())
    assert status == 422
    assert {e["field"] for e in body["errors"]} == {"date_of_birth", "sanctions[0].disposal"}
    status, body = _post(url, b"{not json")
    assert status == 422 and "not valid JSON" in body["errors"][0]["message"]
    status, body = _post(url, json.dumps([REFERRAL, {"person_id": "B"}]).encode())
    assert status == 422 and "[1].assessment_date" in {e["field"] for e in body["errors"]}
