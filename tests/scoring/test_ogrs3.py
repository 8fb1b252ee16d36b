"""OGRS3 against the 980 executable reference cases of the public calculator."""

from __future__ import annotations

import json

import numpy as np
import pytest

import iomscore
from iomscore.scoring._ogrs3 import AGE_FEMALE, AGE_MALE


def _case_referral(case: dict) -> iomscore.Referral:
    tax = iomscore.offence_taxonomy()
    return iomscore.Referral(
        person_id=case["testNumber"],
        assessment_date=case["assessmentDate"],
        date_of_birth=case["birthDate"],
        sex=("male", "female")[case["gender"]],
        sanction_summary={
            "previous_sanctions": case["previousSanctions"],
            "first_sanction_date": case["firstSanctionDate"],
            "current_conviction_date": case["convictionDate"],
            "current_offence_group": tax.codes[case["currentOffenceType"]],
        },
    )


@pytest.fixture(scope="module")
def cases(require_data) -> list[dict]:  # type: ignore[no-untyped-def]
    path = require_data("ogrs3/reference-cases.json")
    data = json.loads(path.read_text())
    executable = [c for c in data if c["execution"]]
    assert len(executable) == 980
    return executable


@pytest.fixture(scope="module")
def scored(cases: list[dict]) -> iomscore.ScoreBatch:
    table = iomscore.ReferralTable.from_referrals([_case_referral(c) for c in cases])
    return iomscore.score_batch(table, "ogrs3")


def test_reproduces_every_executable_reference_case(cases: list[dict], scored: iomscore.ScoreBatch) -> None:
    expected_1y = np.array([c["output_ogrs3_year_1"] for c in cases])
    expected_2y = np.array([c["output_ogrs3_year_2"] for c in cases])
    assert scored.ok.all()
    np.testing.assert_allclose(scored.probabilities["1y"], expected_1y, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scored.probabilities["2y"], expected_2y, rtol=0, atol=1e-9)


def test_breakdown_adds_up_to_the_score(scored: iomscore.ScoreBatch) -> None:
    np.testing.assert_allclose(scored.part_values.sum(axis=1), scored.score, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scored.score, 100 * scored.probabilities["2y"], rtol=0, atol=1e-12)


def test_hmpps_bands(scored: iomscore.ScoreBatch) -> None:
    p = scored.probabilities["2y"]
    expected = np.select([p < 0.5, p < 0.75, p < 0.9], ["low", "medium", "high"], "very high")
    assert (scored.band == expected).all()


def test_single_referral_equals_batch(cases: list[dict], scored: iomscore.ScoreBatch) -> None:
    for i in (0, 17, 500, 979):
        one = iomscore.score(_case_referral(cases[i]), scorer="ogrs3")
        assert one.probabilities == {"1y": scored.probabilities["1y"][i], "2y": scored.probabilities["2y"][i]}
        assert one.model.name == "ogrs3"


def test_full_history_matches_summary() -> None:
    # Three occasions (one with two offences), the last current: 2 previous sanctions.
    history = iomscore.Referral(
        person_id="H", assessment_date="2024-06-01", date_of_birth="1990-05-10", sex="female",
        sanctions=[
            {"offence_date": "2010-01-05", "sanction_date": "2010-03-01", "offence_group": "shop_theft",
             "disposal": "caution"},
            {"offence_date": "2015-02-01", "sanction_date": "2015-04-01", "offence_group": "burglary_domestic",
             "disposal": "community_order", "occasion_id": "court-1"},
            {"offence_date": "2015-02-03", "sanction_date": "2015-04-01", "offence_group": "handling",
             "disposal": "fine", "occasion_id": "court-1"},
            {"offence_date": "2024-01-01", "sanction_date": "2024-02-01", "offence_group": "theft_from_vehicle",
             "disposal": "fine"},
        ],
    )
    summary = iomscore.Referral(
        person_id="S", assessment_date="2024-06-01", date_of_birth="1990-05-10", sex="female",
        sanction_summary={"previous_sanctions": 2, "first_sanction_date": "2010-03-01",
                          "current_conviction_date": "2024-02-01", "current_offence_group": "theft_from_vehicle"},
    )
    a, b = iomscore.score([history, summary], scorer="ogrs3")
    assert a.probabilities == b.probabilities


def test_caution_only_history_uses_caution_levels() -> None:
    def ref(disposals: list[str]) -> iomscore.Referral:
        return iomscore.Referral(
            person_id="C", assessment_date="2024-06-01", date_of_birth="2000-01-01", sex="male",
            sanctions=[{"offence_date": f"20{18 + i}-01-01", "sanction_date": f"20{18 + i}-02-01",
                        "offence_group": "shop_theft", "disposal": d} for i, d in enumerate(disposals)],
        )

    parts = {
        tuple(d): {p.name: p for p in iomscore.score(ref(d), scorer="ogrs3").breakdown}
        for d in (["caution"], ["caution", "caution"], ["caution", "fine"])
    }
    frame = iomscore.FeatureFrame.from_referrals([ref(["caution", "caution"]), ref(["caution", "fine"])])
    assert list(frame["caution_only_history"]) == [1.0, 0.0]
    assert parts[("caution",)]["sanction_history"].reason.startswith("Caution-only history: 1 caution")

    def logit2(disposals: list[str]) -> float:
        p = iomscore.score(ref(disposals), scorer="ogrs3").probabilities["2y"]
        return float(np.log(p / (1 - p)))

    # Same person and dates, only the disposal differs: the logits differ by the sanction terms.
    assert logit2(["fine"]) - logit2(["caution"]) == pytest.approx(0.126142106 - 0.0, abs=1e-9)
    assert logit2(["fine", "fine"]) - logit2(["caution", "caution"]) == pytest.approx(
        0.463062792 - 0.083100501, abs=1e-9)
    assert logit2(["fine"] * 3) - logit2(["caution"] * 3) == pytest.approx(0.463062792 - 0.34859587, abs=1e-9)


def test_age_parameters_follow_the_readme_reading() -> None:
    assert AGE_MALE[0] == 0.0
    assert all(x < 0 for x in AGE_FEMALE)  # not the positive signs of one implementation


def test_rows_that_cannot_be_scored_name_the_person() -> None:
    no_sex = iomscore.Referral(
        person_id="NOSEX", assessment_date="2024-06-01", date_of_birth="1990-01-01",
        sanctions=[{"offence_date": "2024-01-01", "sanction_date": "2024-02-01",
                    "offence_group": "shop_theft", "disposal": "fine"}],
    )
    with pytest.raises(iomscore.ScoringError, match="NOSEX.*sex not recorded"):
        iomscore.score(no_sex, scorer="ogrs3")
    no_history = iomscore.Referral(person_id="EMPTY", assessment_date="2024-06-01",
                                   date_of_birth="1990-01-01", sex="male")
    with pytest.raises(iomscore.ScoringError, match="EMPTY.*no current sanction"):
        iomscore.score(no_history, scorer="ogrs3")
