"""The referral facts (supervision, release date, agreement to engage): both input forms, the
rules that name the field, and the four features policies read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import iomscore
from iomscore import Referral, ReferralTable, synth
from iomscore.features import FeatureFrame
from iomscore.io import read_csv, read_jsonl, write_referrals_jsonl
from iomscore.schema._batch import FACT_FIELDS, MISSING_DAY
from iomscore.schema._rules import check_batch
from iomscore.schema._vocabulary import (
    STATUTORY_SUPERVISION,
    SUPERVISION_LABELS,
    SUPERVISION_STATUSES,
)

FACT_FEATURES = ("statutory_supervision", "supervision_months_remaining", "weeks_until_release", "agreed_to_engage")
_SANCTION = {"offence_date": "2025-01-03", "sanction_date": "2025-02-01", "offence_group": "shop_theft",
             "disposal": "custody", "custody_days": 200}


def _referral(pid: str = "A", **facts: object) -> Referral:
    return Referral(person_id=pid, assessment_date="2025-06-01", date_of_birth="1990-01-01",
                    sanctions=[_SANCTION], **facts)  # type: ignore[arg-type]


def _examples() -> list[Referral]:
    return [
        _referral("A", supervision={"status": "licence", "start_date": "2025-05-01", "end_date": "2025-08-10"},
                  release_date="2025-05-01", agreed_to_engage=True),
        _referral("B", supervision={"status": "none"}, agreed_to_engage=False),
        _referral("C"),
        _referral("D", supervision={"status": "community_order", "end_date": "2026-06-01"}),
        _referral("E", release_date="2025-06-15"),
    ]


def test_vocabulary_codes_and_labels() -> None:
    assert SUPERVISION_STATUSES == ("licence", "post_sentence_supervision", "community_order",
                                    "suspended_sentence_order", "none")
    assert set(SUPERVISION_LABELS) == set(SUPERVISION_STATUSES)
    assert STATUTORY_SUPERVISION == set(SUPERVISION_STATUSES) - {"none"}


def test_features_hand_computed() -> None:
    f = FeatureFrame.from_referrals(_examples())
    nan = np.nan
    # A: licence to 2025-08-10, 70 days after the assessment; released 31 days before it.
    np.testing.assert_array_equal(f["statutory_supervision"], [1, 0, nan, 1, nan])
    np.testing.assert_allclose(f["supervision_months_remaining"], [70 / (365.25 / 12), nan, nan, 12 * 365 / 365.25, nan])
    np.testing.assert_allclose(f["weeks_until_release"], [-31 / 7, nan, nan, nan, 2.0])
    np.testing.assert_array_equal(f["agreed_to_engage"], [1, 0, nan, nan, nan])


def test_single_equals_batch_for_the_facts() -> None:
    refs = _examples()
    together = FeatureFrame.from_referrals(refs)
    for i, r in enumerate(refs):
        alone = FeatureFrame.from_referrals([r])
        for name in FACT_FEATURES:
            np.testing.assert_array_equal(alone[name], together[name][i : i + 1])


def _facts(table: ReferralTable) -> dict[str, list[int]]:
    return {name: table.batch._col(name).tolist() for name in FACT_FIELDS}


def test_round_trip_jsonl_csv_parquet(tmp_path: Path) -> None:
    table = ReferralTable.from_referrals(_examples())
    want = _facts(table)
    write_referrals_jsonl(table, tmp_path / "r.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert lines[0]["supervision"] == {"status": "licence", "start_date": "2025-05-01", "end_date": "2025-08-10"}
    assert lines[0]["release_date"] == "2025-05-01" and lines[0]["agreed_to_engage"] is True
    assert lines[1]["agreed_to_engage"] is False and "supervision" not in lines[2]
    assert _facts(read_jsonl(tmp_path / "r.jsonl").table) == want
    synth.write_csv(table, tmp_path / "r.csv")
    got = read_csv(tmp_path / "r.csv", tmp_path / "r-sanctions.csv")
    assert not got.rejects and _facts(got.table) == want
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    for stem in ("r", "r-sanctions"):
        with open(tmp_path / f"{stem}.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}), tmp_path / f"{stem}.parquet")
    got = iomscore.io.read_parquet(tmp_path / "r.parquet", tmp_path / "r-sanctions.parquet")
    assert not got.rejects and _facts(got.table) == want


def test_parquet_typed_columns(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    import datetime as dt

    pq.write_table(pa.table({
        "person_id": ["A", "B"], "assessment_date": [dt.date(2025, 6, 1)] * 2,
        "date_of_birth": [dt.date(1990, 1, 1)] * 2, "supervision_status": ["licence", None],
        "supervision_end_date": [dt.date(2025, 9, 1), None], "release_date": [None, dt.date(2025, 7, 1)],
        "agreed_to_engage": pa.array([True, None], type=pa.bool_()),
    }), tmp_path / "r.parquet")
    got = iomscore.io.read_parquet(tmp_path / "r.parquet")
    assert not got.rejects
    b = got.table.batch
    assert b._col("supervision_status").tolist() == [0, -1]
    assert b._col("agreed_to_engage").tolist() == [1, -1]
    assert b._col("release_day").tolist()[0] == MISSING_DAY


@pytest.mark.parametrize(("facts", "field", "words"), [
    ({"supervision": {"status": "licence", "start_date": "2025-05-01", "end_date": "2025-04-01"}},
     "supervision.end_date", "supervision ends (2025-04-01) before it starts (2025-05-01)"),
    ({"supervision": {"status": "none", "end_date": "2025-09-01"}}, "supervision.end_date", "status is none"),
    ({"supervision": {"start_date": "2025-05-01"}}, "supervision.status", "without a supervision status"),
    ({"release_date": "2025-01-02"}, "release_date",
     "release date 2025-01-02 is before the offence date 2025-01-03 of the current offence"),
    ({"release_date": "1850-01-01"}, "release_date", "outside the supported range"),
])
def test_rules_name_the_field(facts: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        _referral(**facts)
    assert f"{field}: " in str(info.value) and words in str(info.value)


def test_release_rule_reads_the_current_offence_only() -> None:
    # released from an earlier sentence, then a later offence dealt with by a community order:
    # the release date is for the current offence, so 2024-06-01 before a 2025 offence is refused
    with pytest.raises(ValidationError, match="release_date"):
        _referral(release_date="2024-06-01")
    # an earlier offence after the release is fine when the current one is before it
    r = Referral(person_id="A", assessment_date="2025-06-01", date_of_birth="1990-01-01", release_date="2025-03-01",
                 sanctions=[_SANCTION, {**_SANCTION, "offence_date": "2025-04-01", "sanction_date": "2025-04-02",
                                        "disposal": "fine", "custody_days": None, "current": False},
                            {**_SANCTION, "offence_date": "2024-12-01", "sanction_date": "2025-02-01",
                             "current": True}])
    assert r.release_date is not None
    # a summary-only history has no offence dates: the release date is not checked against it
    Referral(person_id="S", assessment_date="2025-06-01", date_of_birth="1990-01-01", release_date="2020-01-01",
             sanction_summary={"previous_sanctions": 3, "age_at_first_sanction": 16,
                               "current_conviction_date": "2025-02-01", "current_offence_group": "shop_theft"})


def test_agreement_with_statutory_supervision_is_accepted() -> None:
    r = _referral(supervision={"status": "community_order", "end_date": "2026-01-01"}, agreed_to_engage=True)
    assert r.agreed_to_engage is True and not check_batch(ReferralTable.from_referrals([r]).batch).mask.any()


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_csv_rejects_name_file_row_and_field(tmp_path: Path) -> None:
    header = ["person_id", "assessment_date", "date_of_birth", "supervision_status", "supervision_start_date",
              "supervision_end_date", "release_date", "agreed_to_engage"]
    base = ["2025-06-01", "1990-01-01"]
    _write(tmp_path / "r.csv", header, [
        ["OK", *base, "licence", "2025-05-01", "2025-09-01", "2025-05-01", "yes"],
        ["BADSTATUS", *base, "parole", "", "", "", ""],
        ["BADDATE", *base, "licence", "", "2025-13-01", "", ""],
        ["BADBOOL", *base, "none", "", "", "", "maybe"],
        ["ENDS", *base, "licence", "2025-05-01", "2025-04-01", "", ""],
        ["NONEDATE", *base, "none", "", "2025-04-01", "", ""],
        ["RELEASE", *base, "", "", "", "2025-01-01", ""],
        ["NOSTATUS", *base, "", "2025-05-01", "", "", ""],
    ])
    _write(tmp_path / "s.csv", ["person_id", "offence_date", "sanction_date", "offence_group", "disposal"],
           [["RELEASE", "2025-01-03", "2025-02-01", "shop_theft", "fine"]])
    got = read_csv(tmp_path / "r.csv", tmp_path / "s.csv")
    assert got.table.batch.person_id.tolist() == ["OK"]
    found = {r.person_id: (Path(r.source).name, r.row, r.field) for r in got.rejects}
    assert found == {
        "BADSTATUS": ("r.csv", 3, "supervision.status"),
        "BADDATE": ("r.csv", 4, "supervision.end_date"),
        "BADBOOL": ("r.csv", 5, "agreed_to_engage"),
        "ENDS": ("r.csv", 6, "supervision.end_date"),
        "NONEDATE": ("r.csv", 7, "supervision.end_date"),
        "RELEASE": ("r.csv", 8, "release_date"),
        "NOSTATUS": ("r.csv", 9, "supervision.status"),
    }
    reasons = {r.person_id: r.reason for r in got.rejects}
    assert "expected one of licence, post_sentence_supervision" in reasons["BADSTATUS"]
    assert "expected YYYY-MM-DD" in reasons["BADDATE"] and "expected true or false" in reasons["BADBOOL"]


def test_json_schema_describes_the_facts() -> None:
    schema = Referral.model_json_schema()
    assert {"supervision", "release_date", "agreed_to_engage"} <= set(schema["properties"])
    status = schema["$defs"]["Supervision"]["properties"]["status"]
    assert set(SUPERVISION_STATUSES) <= set(json.dumps(status).replace('"', " ").split())


def test_synth_facts_are_valid_and_plausible() -> None:
    table = synth.generate(5000, seed=11)
    b = table.batch
    assert not check_batch(b).mask.any()
    status = b._col("supervision_status")
    shares = np.bincount(status + 1, minlength=len(SUPERVISION_STATUSES) + 1) / b.n
    assert 0.02 < shares[0] < 0.08  # not recorded
    assert all(s > 0.02 for s in shares[1:])  # every status occurs
    f = FeatureFrame(b)
    in_custody = f["weeks_until_release"] > 0
    assert in_custody.any() and (status[in_custody] == SUPERVISION_STATUSES.index("licence")).mean() > 0.9
    none = status == SUPERVISION_STATUSES.index("none")
    assert (b._col("supervision_end_day")[none] == MISSING_DAY).all()
    agreed = f["agreed_to_engage"]
    assert 0.45 < np.nanmean(agreed[none]) < 0.8
