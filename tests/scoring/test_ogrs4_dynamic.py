"""All six OASys v4 predictors against the 10,000 MoJ regression cases, from referrals with answers.

Each case is a :class:`iomscore.Referral` with its sanction summary and its OASys assessment
(:class:`iomscore.OASysAssessment`) built from the input columns only; the ages and months come
from iomscore's own date code. The static predictors read the same referrals (they ignore the
answers), the dynamic ones read the answers too.
"""

from __future__ import annotations

import numpy as np
import pytest
from ogrs4_reference import assert_reproduces, calculable_mask, read_cases

import iomscore
from iomscore.features import FeatureFrame
from iomscore.schema._batch import ReferralBatch
from iomscore.schema._rules import check_batch
from iomscore.schema._vocabulary import OASYS_COLUMNS
from iomscore.testing import check_scorer, referrals

#: scorer name -> column prefix in reference-cases.csv
ALL = {"ogrs4g": "ogrs4g", "ogrs4v": "ogrs4v", "snsv": "snsv_static", "ogp2": "ogp2", "ovp2": "ovp2",
       "snsv-dynamic": "snsv_dynamic"}
DYNAMIC = ("ogp2", "ovp2", "snsv-dynamic")
STATIC_OF = {"ogp2": "ogrs4g", "ovp2": "ogrs4v", "snsv-dynamic": "snsv"}
_DRUGS = {"heroin": "heroin", "methadone": "methadone", "other_opiate": "other_opiates", "crack": "crack_cocaine",
          "powder_cocaine": "powder_cocaine", "misused_prescribed": "misused_prescribed",
          "benzodiazepines": "benzodiazepines", "cannabis": "cannabis", "steroids": "steroids", "other": "other_drugs",
          "ketamine": "ketamine", "spice": "spice", "hallucinogens": "hallucinogens", "solvents": "solvents"}
_PREVIOUS = ("homicide", "wounding_gbh", "kidnapping", "firearms", "robbery", "aggravated_burglary", "weapon",
             "criminal_damage_life", "arson")


def _assessment(row: dict[str, str]) -> dict[str, object]:
    num = lambda c: int(row[c])
    return {
        "weapon": row["s2_2_weapon"] == "1",
        "accommodation": num("s3_4_accommodation"),
        "unemployed": row["s4_2_unemployed"] == "2",  # scored 0/2 (see the data README on 4.2)
        "partner_relationship": num("s6_4_partner_relationship"),
        "domestic_abuse": row["s6_7_domestic_abuse"] == "1",
        "relationship_status": {"1": "living_together", "2": "not_living_together", "3": "no_relationship"}[
            row["s6_8_relationship_status"]],
        "regular_activities": num("s7_2_regular_activities"),
        "drug_motivation": ("full", "partial", "none")[num("s8_8_drug_motivation")],
        "alcohol_current": num("s9_1_alcohol_current"),
        "alcohol_binge": num("s9_2_alcohol_binge"),
        "impulsivity": num("s11_2_impulsivity"),
        "temper": num("s11_4_temper"),
        "procriminal_attitudes": num("s12_1_procriminal_attitudes"),
        "drugs_misused": [name for col, name in _DRUGS.items() if row[f"drug_{col}"] == "1"],
        "previous_offences": [name for name in _PREVIOUS if row[f"prev_{name}"] == "1"],
    }


def _referral(row: dict[str, str], oasys: bool = True) -> iomscore.Referral:
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
        oasys=_assessment(row) if oasys else None,
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


@pytest.mark.parametrize("name", sorted(ALL))
def test_reproduces_every_calculable_case(name: str, rows: list[dict[str, str]], table: iomscore.ReferralTable,
                                          calculable: np.ndarray) -> None:
    col = ALL[name]
    scored = iomscore.score_batch(table, name)
    assert_reproduces(scored, rows, col, calculable)
    if name in DYNAMIC:  # every case has all the answers: none falls back
        assert not any("instead of" in w for ws in scored.warnings for w in ws)
        assert scored.part_names[-1] == "oasys_answers"


def test_intermediate_values_from_the_referrals(rows: list[dict[str, str]], table: iomscore.ReferralTable) -> None:
    f = FeatureFrame(table.batch)
    for feature, column in (("age_at_current_conviction", "age_at_current_conviction"),
                            ("age_at_followup_start", "age_at_followup_start"),
                            ("months_since_followup_start", "offence_free_months")):
        assert (f[feature] == np.array([float(r[column]) for r in rows])).all(), feature
    career = f["age_at_current_conviction"] - f["age_at_first_sanction"]
    assert (career == np.array([float(r["career_years"]) for r in rows])).all()
    assert (f["oasys_assessed"] == 1).all()
    assert (f["oasys_unemployed"] * 2 == np.array([float(r["s4_2_unemployed"]) for r in rows])).all()
    assert (f["oasys_relationship_status"] + 1 == np.array([float(r["s6_8_relationship_status"]) for r in rows])).all()
    assert (f["oasys_drug_other_opiates"] == np.array([float(r["drug_other_opiate"]) for r in rows])).all()


def test_without_an_assessment_the_static_predictor_scores_and_says_so(rows: list[dict[str, str]]) -> None:
    sample = [_referral(r, oasys=False) for r in rows[:200] if r["calculable"] == "1"]
    t = iomscore.ReferralTable.from_referrals(sample)
    for name in DYNAMIC:
        dyn, static = iomscore.score_batch(t, name), iomscore.score_batch(t, STATIC_OF[name])
        assert (dyn.score == static.score).all() and (dyn.band == static.band).all()
        assert (dyn.probabilities["2y"] == static.probabilities["2y"]).all()
        assert (dyn.part_values[:, :-1] == static.part_values).all() and (dyn.part_values[:, -1] == 0).all()
        assert all(any("no OASys assessment" in w and "instead of" in w for w in ws) for ws in dyn.warnings)
        assert dyn.model.name == name


def test_a_missing_answer_falls_back_naming_it(rows: list[dict[str, str]]) -> None:
    row = rows[0]
    answers = {**_assessment(row), "accommodation": None, "temper": None}
    r = _referral(row).model_copy(update={"oasys": iomscore.OASysAssessment(**answers)})  # type: ignore[arg-type]
    ogp2 = iomscore.score(r, scorer="ogp2")
    assert ogp2.score == float(row["ogrs4g_percent"])
    assert any("3.4 suitability of accommodation" in w and "OGRS4/G" in w for w in ogp2.warnings)
    assert not any("11.4" in w for w in ogp2.warnings)  # OGP2 does not read temper
    assert any("11.4 temper control" in w for w in iomscore.score(r, scorer="ovp2").warnings)
    # 8.8 unanswered counts as full motivation (0), as the MoJ service reads it: no fallback
    r88 = r.model_copy(update={"oasys": iomscore.OASysAssessment(**{**_assessment(row), "drug_motivation": None})})
    assert not iomscore.score(r88, scorer="ogp2").warnings


def test_identities_differ_and_name_their_kind() -> None:
    ids = {n: iomscore.get_scorer(n).identity for n in ALL}
    assert len({i.sha256 for i in ids.values()}) == 6
    assert {ids[n].kind for n in DYNAMIC} == {"oasys-dynamic"}
    assert set(ALL) <= set(iomscore.available_scorers())


def test_answer_codes_out_of_range_name_the_field(table: iomscore.ReferralTable) -> None:
    batch = table.batch.take(np.arange(3))
    bad = batch.oasys.copy()
    bad[0, OASYS_COLUMNS.index("accommodation")] = 3
    bad[1, OASYS_COLUMNS.index("drug_spice")] = 2
    present = batch.oasys_present.copy()
    present[2] = False
    v = check_batch(ReferralBatch(**{**batch.__dict__, "oasys": bad, "oasys_present": present}))
    assert v.field.tolist() == ["oasys.accommodation", "oasys.drugs_misused", "oasys"]
    with pytest.raises(ValueError, match="accommodation"):
        iomscore.OASysAssessment(accommodation=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="drugs_misused"):
        iomscore.OASysAssessment(drugs_misused=["tea"])  # type: ignore[list-item]


def test_the_breakdown_names_the_answers(table: iomscore.ReferralTable) -> None:
    result = iomscore.score_batch(table.take(np.arange(1)), "ogp2").result(0)
    text = [p.reason for p in result.breakdown]
    assert text[-1] == ("OASys answers adding most: 8.8 motivation to tackle drug misuse: none; "
                        "3.4 suitability of accommodation: problem score 1; "
                        "6.4 current relationship with partner: problem score 2")
    assert result.breakdown[-1].name == "oasys_answers" and result.breakdown[-1].value > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", DYNAMIC)
def test_check_scorer(name: str) -> None:
    report = check_scorer(name, max_examples=40, referrals=referrals(with_oasys=True))
    assert report.ok


def test_identities_are_pinned() -> None:
    pins = pytest.importorskip("iomscore.scoring._pins")
    for name in ALL:
        assert iomscore.get_scorer(name).identity.sha256 == pins.pinned("scorer", name), name
