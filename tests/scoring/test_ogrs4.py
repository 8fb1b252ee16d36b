"""OGRS4/G, OGRS4/V and SNSV static against the 10,000 MoJ regression cases.

Every case is built as a :class:`iomscore.Referral` from its inputs (dates, sex, sanction
counts, age at first sanction, the Home Office code); the ages, offence-free months and career
years come from iomscore's own date code and are compared with the intermediate columns.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from ogrs4_reference import assert_reproduces, calculable_mask, read_cases

import iomscore
from iomscore.features import FeatureFrame
from iomscore.schema._vocabulary import ACTUARIAL_CATEGORIES
from iomscore.scoring._ogrs4 import hmpps_percent, oasys_coefficients
from iomscore.testing import check_scorer

STATIC = {"ogrs4g": "ogrs4g", "ogrs4v": "ogrs4v", "snsv": "snsv_static"}


def _referral(row: dict[str, str]) -> iomscore.Referral:
    return iomscore.Referral(
        person_id=row["case_no"],
        assessment_date=row["assessment_date"],
        date_of_birth=row["date_of_birth"],
        sex={"M": "male", "F": "female"}[row["gender"]],
        sanction_summary={
            "previous_sanctions": int(row["total_sanctions"]) - 1,
            "violent_sanctions": int(row["violent_sanctions"]),
            "age_at_first_sanction": int(row["age_at_first_sanction"]),
            "current_conviction_date": row["current_conviction_date"],
            "followup_start_date": row["followup_start_date"] or None,
            "current_offence_code": row["offence_code"],
        },
    )


@pytest.fixture(scope="module")
def rows(require_data) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return read_cases(require_data("ogrs4/reference-cases.csv"))


@pytest.fixture(scope="module")
def table(rows: list[dict[str, str]]) -> iomscore.ReferralTable:
    return iomscore.ReferralTable.from_referrals([_referral(r) for r in rows])


@pytest.fixture(scope="module")
def calculable(rows: list[dict[str, str]]) -> np.ndarray:
    return calculable_mask(rows)


@pytest.mark.parametrize("name", sorted(STATIC))
def test_reproduces_every_calculable_case(name: str, rows: list[dict[str, str]], table: iomscore.ReferralTable,
                                          calculable: np.ndarray) -> None:
    col = STATIC[name]
    scored = iomscore.score_batch(table, name)
    assert_reproduces(scored, rows, col, calculable)


def test_the_uncalculable_case_names_the_code(table: iomscore.ReferralTable, calculable: np.ndarray) -> None:
    scored = iomscore.score_batch(table, "ogrs4g")
    (row,) = np.flatnonzero(~calculable)
    assert "00000" in str(scored.error[row])


def test_intermediate_values_from_iomscore_dates(rows: list[dict[str, str]], table: iomscore.ReferralTable) -> None:
    f = FeatureFrame(table.batch)
    expect = {k: np.array([float(r[k]) for r in rows]) for k in
              ("age_at_current_conviction", "age_at_followup_start", "offence_free_months", "career_years",
               "copas_g_log_rate", "copas_v_log_rate")}
    assert (f["age_at_current_conviction"] == expect["age_at_current_conviction"]).all()
    assert (f["age_at_followup_start"] == expect["age_at_followup_start"]).all()
    assert (f["months_since_followup_start"] == expect["offence_free_months"]).all()
    career = f["age_at_current_conviction"] - f["age_at_first_sanction"]
    assert (career == expect["career_years"]).all()
    n = f["total_sanctions"]
    np.testing.assert_allclose(np.log(n / (career + 26)), expect["copas_g_log_rate"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.log(n / (career + 12)), expect["copas_v_log_rate"], rtol=0, atol=1e-15)
    v = f["violent_sanctions"]
    has = v > 0
    vexp = np.array([float(r["violent_log_rate"]) for r, h in zip(rows, has) if h])
    np.testing.assert_allclose(np.log(v[has] / (career[has] + 30)), vexp, rtol=0, atol=1e-15)
    assert all(r["violent_log_rate"] == "" for r, h in zip(rows, has) if not h)


def test_actuarial_category_from_the_code(rows: list[dict[str, str]], table: iomscore.ReferralTable) -> None:
    got = FeatureFrame(table.batch)["current_actuarial_category"].astype(int)
    assert [ACTUARIAL_CATEGORIES[g] for g in got] == [r["actuarial_category"] for r in rows]


def test_removed_and_recategorised_codes_warn(rows: list[dict[str, str]], table: iomscore.ReferralTable) -> None:
    scored = iomscore.score_batch(table, "ogrs4g")
    for i, r in enumerate(rows):
        warned = any(r["offence_code"] in w for w in scored.warnings[i])
        assert warned == (r["category_mapping"] != "current" and r["calculable"] == "1"), r["case_no"]


def test_coefficients_are_the_shipped_data() -> None:
    doc = oasys_coefficients()
    assert doc["source"]["commit"] == "016919c5305b083e690a145856909c7b6de8c6a1"
    assert len(doc["built_from"]["coefficients"]["sha256"]) == 64
    assert set(doc["actuarial_categories"]) == set(ACTUARIAL_CATEGORIES)
    ids = {iomscore.get_scorer(n).identity.sha256 for n in STATIC}
    assert len(ids) == 3


def test_percent_rounds_half_up_and_caps() -> None:
    assert hmpps_percent(np.array([0.00005, 0.000049999, 0.999951]))[:3].tolist() == [0.01, 0.0, 99.99]


def test_unknown_and_malformed_codes_are_refused_naming_the_code() -> None:
    tax = iomscore.offence_taxonomy()
    with pytest.raises(ValueError, match="'99999'"):
        tax.resolve_offence_code("99999")
    with pytest.raises(ValueError, match="'1040'"):
        tax.resolve_offence_code("1040")
    with pytest.raises(ValueError, match="99999"):
        iomscore.Sanction(offence_date="2024-01-01", sanction_date="2024-02-01", offence_code="99999",
                          disposal="fine")
    removed = tax.resolve_offence_code("03703")
    assert removed.status == "removed_at_f0c8151" and "03703" in str(removed.warning)


def test_sanction_list_with_home_office_codes() -> None:
    r = iomscore.Referral(
        person_id="L", assessment_date="2025-10-03", date_of_birth="1990-06-07", sex="female",
        sanctions=[
            {"offence_date": "2024-01-01", "sanction_date": "2024-02-01", "offence_code": "10400",
             "disposal": "custody", "custody_days": 90},
            {"offence_date": "2020-01-01", "sanction_date": "2020-02-01", "offence_group": "shop_theft",
             "disposal": "fine"},
            {"offence_date": "2018-01-01", "sanction_date": "2018-02-01", "offence_group": "common_assault",
             "disposal": "fine"},
        ],
        custody=[{"start": "2024-02-01", "end": "2024-04-01"}],
    )
    f = FeatureFrame.from_referrals([r])
    assert f["total_sanctions"][0] == 3 and f["violent_sanctions"][0] == 2
    assert f["months_since_followup_start"][0] == 18  # from release on 2024-04-01
    assert f["age_at_followup_start"][0] == 33
    result = iomscore.score(r, scorer="ogrs4v")
    m = oasys_coefficients()["predictors"]["ogrs4v"]["terms"]
    t = {k: float(v) for k, v in m.items()}
    career, n, v, age, ofm = 33 - 27, 3, 2, 33, 18
    logit = (t["TWO_YEAR_CONSTANT"] + t["FEMALE"] + sum(t[k] * age ** p for k, p in (
        ("AAI_FEMALE", 1), ("AAI_QUADRATIC_FEMALE", 2), ("AAI_CUBIC_FEMALE", 3), ("AAI_QUARTIC_FEMALE", 4)))
        + t["SANCTION_OCCASIONS"] * n + t["THREE_PLUS_SANCTIONS_COPAS_V_FEMALE"] * math.log(n / (career + 12))
        + t["VIOLENT_SANCTIONS"] * v + t["VIOLENT_RATE"] * math.log(v / (career + 30))
        + sum(t[k] * ofm ** p for k, p in (("OFFENCE_FREE_MONTHS", 1), ("OFFENCE_FREE_MONTHS_QUADRATIC", 2),
                                           ("OFFENCE_FREE_MONTHS_CUBIC", 3), ("OFFENCE_FREE_MONTHS_QUARTIC", 4)))
        + float(oasys_coefficients()["predictors"]["ogrs4v"]["offence_category_values"][
            "VIOLENCE_AGAINST_THE_PERSON_SUB_ABH"]))
    assert result.probabilities["2y"] == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-14)


def test_summary_rules_name_the_field() -> None:
    base = {"previous_sanctions": 1, "age_at_first_sanction": 18, "current_conviction_date": "1997-06-07",
            "current_offence_code": "07111", "violent_sanctions": 2}
    for change, field in (({"violent_sanctions": 3}, "sanction_summary.violent_sanctions"),
                          ({"followup_start_date": "1970-06-07"}, "sanction_summary.followup_start_date"),
                          ({"age_at_first_sanction": 40}, "sanction_summary.age_at_first_sanction")):
        with pytest.raises(ValueError, match=field.replace(".", r"\.")):
            iomscore.Referral(person_id="A", assessment_date="2025-10-03", date_of_birth="1970-06-07",
                              sex="male", sanction_summary={**base, **change})


def test_violent_predictors_need_violent_sanctions() -> None:
    r = iomscore.Referral(person_id="A", assessment_date="2025-10-03", date_of_birth="1970-06-07", sex="male",
                          sanction_summary={"previous_sanctions": 1, "age_at_first_sanction": 18,
                                            "current_conviction_date": "1997-06-07", "current_offence_code": "07111"})
    assert iomscore.score(r, scorer="ogrs4g").band == "low"
    with pytest.raises(iomscore.ScoringError, match="violent sanctions not recorded"):
        iomscore.score(r, scorer="ogrs4v")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STATIC))
def test_check_scorer(name: str) -> None:
    check_scorer(name, max_examples=40)
