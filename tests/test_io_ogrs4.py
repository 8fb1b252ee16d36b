"""The OASys v4 inputs through the readers: JSON Lines, CSV and Parquet give identical scores.

Summary columns ``violent_sanctions``, ``age_at_first_sanction``, ``followup_start_date`` and
``current_offence_code``; sanction column ``offence_code`` (beside or instead of
``offence_group``); the OASys answers as ``oasys_*`` columns of the referrals table.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pytest

import iomscore
from iomscore.io import read_referrals
from iomscore.io._common import OASYS_CSV_COLUMNS
from iomscore.schema._vocabulary import OASYS_DRUGS, OASYS_ITEMS, OASYS_PREVIOUS_OFFENCES

SCORERS = ("ogrs3", "ogrs4g", "ogrs4v", "snsv", "ogp2", "ovp2", "snsv-dynamic")


def _reference_referrals(require_data) -> list[iomscore.Referral]:  # type: ignore[no-untyped-def]
    from tests.scoring.test_ogrs4_dynamic import _referral

    path = require_data("ogrs4/reference-cases.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["calculable"] == "1"][:120]
    out = [_referral(r, oasys=i % 3 != 0) for i, r in enumerate(rows)]
    # some with no first_sanction_date and no group (the age and the code stand in), as the schema allows
    listed = iomscore.Referral(
        person_id="LIST", assessment_date="2025-10-03", date_of_birth="1990-06-07", sex="female",
        sanctions=[
            {"offence_date": "2024-01-01", "sanction_date": "2024-02-01", "offence_code": "10400",
             "disposal": "custody", "custody_days": 90},
            {"offence_date": "2020-01-01", "sanction_date": "2020-02-01", "offence_group": "shop_theft",
             "offence_code": "04600", "disposal": "fine"},
            {"offence_date": "2018-01-01", "sanction_date": "2018-02-01", "offence_group": "common_assault",
             "disposal": "fine"},
        ],
        custody=[{"start": "2024-02-01", "end": "2024-04-01"}],
        oasys={**{k: 1 if v[2] == "problem" else None for k, v in OASYS_ITEMS.items()}, "unemployed": True},
    )
    return [*out, listed]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tables(refs: list[iomscore.Referral]) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    referrals, sanctions, custody = [], [], []
    for r in refs:
        row = {"person_id": r.person_id, "assessment_date": str(r.assessment_date),
               "date_of_birth": str(r.date_of_birth), "sex": r.sex or ""}
        s = r.sanction_summary
        for f in ("previous_sanctions", "first_sanction_date", "current_conviction_date", "violent_sanctions",
                  "age_at_first_sanction", "followup_start_date", "current_offence_code"):
            row[f] = _cell(None if s is None else getattr(s, f))
        # the group is left out where the code gives it (the reader fills it from the code)
        row["current_offence_group"] = "" if s is None or s.current_offence_code else s.current_offence_group
        a = r.oasys
        for c in OASYS_CSV_COLUMNS:
            name = c[6:]
            if a is None:
                row[c] = ""
            elif name in OASYS_ITEMS:
                row[c] = _cell(getattr(a, name))
            elif name.startswith("drug_") and name[5:] in OASYS_DRUGS:
                row[c] = "true" if name[5:] in a.drugs_misused else ""  # not marked: no
            else:
                assert name[9:] in OASYS_PREVIOUS_OFFENCES
                row[c] = "1" if name[9:] in a.previous_offences else "0"
        referrals.append(row)
        for x in r.sanctions:
            sanctions.append({"person_id": r.person_id, "offence_date": str(x.offence_date),
                              "sanction_date": str(x.sanction_date),
                              "offence_group": "" if x.offence_code and x.offence_group == "common_assault"
                              else x.offence_group,
                              "offence_code": x.offence_code or "", "disposal": x.disposal,
                              "custody_days": _cell(x.custody_days)})
        for c in r.custody:
            custody.append({"person_id": r.person_id, "start": str(c.start), "end": _cell(c.end)})
    return referrals, sanctions, custody


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _write_parquet(path: Path, rows: list[dict[str, str]]) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}), path)
    return path


def test_json_csv_and_parquet_give_identical_scores(tmp_path: Path, require_data) -> None:  # type: ignore[no-untyped-def]
    refs = _reference_referrals(require_data)
    referrals, sanctions, custody = _tables(refs)
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("".join(r.model_dump_json() + "\n" for r in refs), "utf-8")
    reads = {
        "direct": iomscore.ReferralTable.from_referrals(refs),
        "jsonl": read_referrals(jsonl).table,
        "csv": read_referrals(_write_csv(tmp_path / "r.csv", referrals), _write_csv(tmp_path / "s.csv", sanctions),
                              _write_csv(tmp_path / "c.csv", custody)).table,
        "parquet": read_referrals(_write_parquet(tmp_path / "r.parquet", referrals),
                                  _write_parquet(tmp_path / "s.parquet", sanctions),
                                  _write_parquet(tmp_path / "c.parquet", custody)).table,
    }
    for form, table in reads.items():
        assert table.batch.n == len(refs), form
        assert (table.batch.oasys == reads["direct"].batch.oasys).all(), form
    for name in SCORERS:
        base = iomscore.score_batch(reads["direct"], name)
        assert base.ok.sum() >= len(refs) - 1, name
        for form, table in reads.items():
            got = iomscore.score_batch(table, name)
            np.testing.assert_array_equal(got.score, base.score, err_msg=f"{name} {form}")
            assert (got.band == base.band).all() and list(got.warnings) == list(base.warnings), (name, form)
    dyn = iomscore.score_batch(reads["csv"], "ogp2")
    assert sum(any("no OASys assessment" in w for w in ws) for ws in dyn.warnings) == 40


def _read_one(tmp_path: Path, referral: dict[str, str], sanction: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    r = _write_csv(tmp_path / "one.csv", [referral])
    s = _write_csv(tmp_path / "one_s.csv", [sanction]) if sanction else None
    return read_referrals(r, s)


_BASE = {"person_id": "A", "assessment_date": "2025-10-03", "date_of_birth": "1970-06-07", "sex": "male",
         "previous_sanctions": "1", "age_at_first_sanction": "18", "current_conviction_date": "1997-06-07",
         "current_offence_code": "07111", "violent_sanctions": "2"}


def test_summary_needs_the_age_or_the_date_and_the_code_or_the_group(tmp_path: Path) -> None:
    assert _read_one(tmp_path, _BASE).counts.valid == 1
    for drop, field in (("age_at_first_sanction", "sanction_summary.first_sanction_date"),
                        ("current_offence_code", "sanction_summary.current_offence_group")):
        result = _read_one(tmp_path, {k: v for k, v in _BASE.items() if k != drop})
        (reject,) = result.rejects
        assert (reject.field, reject.reason) == (field, "required when previous_sanctions is given")
        with pytest.raises(ValueError):  # the typed API refuses the same referral
            iomscore.Referral(person_id="A", assessment_date="2025-10-03", date_of_birth="1970-06-07",
                              sanction_summary={k: v for k, v in _BASE.items()
                                                if k in iomscore.SanctionSummary.model_fields and k != drop})


@pytest.mark.parametrize(("change", "field", "text"), [
    ({"current_offence_code": "99999"}, "sanction_summary.current_offence_code", "'99999'"),
    ({"current_offence_code": "1040"}, "sanction_summary.current_offence_code", "'1040'"),
    ({"age_at_first_sanction": "121"}, "sanction_summary.age_at_first_sanction", "0 to 120"),
    ({"violent_sanctions": "3"}, "sanction_summary.violent_sanctions", "more than the total"),
    ({"oasys_accommodation": "3"}, "oasys.accommodation", "expected one of 0, 1, 2"),
    ({"oasys_relationship_status": "married"}, "oasys.relationship_status", "living_together"),
    ({"oasys_drug_heroin": "maybe"}, "oasys.drugs_misused", "true or false"),
])
def test_bad_values_are_rejected_naming_file_row_and_field(tmp_path: Path, change: dict[str, str], field: str,
                                                           text: str) -> None:
    result = _read_one(tmp_path, {**_BASE, **change})
    (reject,) = result.rejects
    assert (reject.source.endswith("one.csv"), reject.row, reject.field) == (True, 2, field)
    assert text in reject.reason


def test_sanction_codes_unknown_rejected_removed_warned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ref = {"person_id": "A", "assessment_date": "2025-10-03", "date_of_birth": "1970-06-07", "sex": "male"}
    sanction = {"person_id": "A", "offence_date": "2024-01-01", "sanction_date": "2024-02-01", "offence_code": "99999",
                "disposal": "fine"}
    (reject,) = _read_one(tmp_path, ref, sanction).rejects
    assert (reject.source.endswith("one_s.csv"), reject.row, reject.field) == (True, 2, "sanctions[0].offence_code")
    assert "99999" in reject.reason
    with caplog.at_level(logging.WARNING, logger="iomscore.io"):
        result = _read_one(tmp_path, ref, {**sanction, "offence_code": "03703"})
    assert result.counts.valid == 1 and "03703" in caplog.text
    assert iomscore.score_batch(result.table, "ogrs4g").warnings[0]
    # no group and no code: the group is missing
    (reject,) = _read_one(tmp_path, ref, {**sanction, "offence_code": ""}).rejects
    assert (reject.field, reject.reason) == ("sanctions[0].offence_group", "missing value (required)")
