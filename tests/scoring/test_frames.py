"""``.to_frame()`` exports: one row per person, typed columns, the same facts as the results."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import iomscore
from iomscore import synth

pd = pytest.importorskip("pandas")


@pytest.mark.parametrize("scorer", ["iom-priority", "ogrs3", "ogrs4v"])
def test_score_frame_says_what_the_results_say(scorer: str) -> None:
    batch = iomscore.score_batch(synth.generate(60, seed=4), scorer)
    frame = batch.to_frame()
    assert len(frame) == len(batch)
    scored = frame[frame["error"].isna()]
    results = {r.person_id: r for r in iomscore.score_batch(
        synth.generate(60, seed=4).batch.take(np.flatnonzero(batch.ok)), scorer).results()}
    assert set(scored["person_id"]) == set(results)
    for row in scored.itertuples(index=False):
        r = results[row.person_id]
        assert (row.score, row.band, row.reasons, row.warnings) == (r.score, r.band, r.reasons, r.warnings)
        for part in r.breakdown:
            assert getattr(row, f"part_{part.name}") == part.value
        for horizon, p in r.probabilities.items():
            assert getattr(row, f"prob_{horizon}") == p
        assert (row.model_name, row.model_version, row.model_sha256, row.unit) == (
            r.model.name, r.model.version, r.model.sha256, r.unit)


def test_score_frame_columns_are_typed() -> None:
    frame = iomscore.score_batch(synth.generate(10, seed=5), "ogrs3").to_frame()
    assert frame["person_id"].dtype == "string" and frame["band"].dtype == "string"
    assert frame["score"].dtype == np.float64 and frame["prob_2y"].dtype == np.float64
    assert all(frame[c].dtype == np.float64 for c in frame.columns if c.startswith("part_"))
    assert frame["person_id"].tolist() == synth.generate(10, seed=5).batch.person_id.tolist()


def test_unscored_rows_have_an_error_and_no_score() -> None:
    ok = iomscore.Referral(person_id="A", assessment_date="2025-01-01", date_of_birth="1990-01-01", sex="male",
                           sanctions=[{"offence_date": "2024-10-01", "sanction_date": "2024-11-01",
                                       "offence_group": "shop_theft", "disposal": "fine"}])
    no_sex = ok.model_copy(update={"person_id": "B", "sex": None})
    batch = iomscore.score_batch(iomscore.ReferralTable.from_referrals([ok, no_sex]), "ogrs3")
    assert batch.error is not None and batch.error[1] is not None, "OGRS3 cannot score without a sex"
    frame = batch.to_frame()
    assert frame["error"].isna().tolist() == [True, False]
    assert np.isnan(frame.loc[1, "score"]) and pd.isna(frame.loc[1, "band"]) and frame.loc[1, "reasons"] == ()
    assert frame.loc[0, "score"] == batch.result(0).score


def test_empty_batch_gives_an_empty_frame_with_the_columns() -> None:
    frame = iomscore.score_batch(synth.generate(5, seed=1).batch.take(np.zeros(0, dtype=np.int64))).to_frame()
    assert len(frame) == 0 and {"person_id", "score", "band", "reasons", "model_sha256"} <= set(frame.columns)


def test_feature_frame_has_one_column_per_feature() -> None:
    batch = synth.generate(20, seed=6).batch
    features = iomscore.FeatureFrame(batch)
    frame = features.to_frame()
    assert frame.columns.tolist() == ["person_id", *iomscore.FEATURES]
    assert frame["person_id"].tolist() == batch.person_id.tolist()
    for name in ("offences_12m_at_risk", "sex", "copas_rate"):
        np.testing.assert_array_equal(frame[name].to_numpy(), features[name])
    restricted = features.restricted(["total_sanctions"]).to_frame()
    assert restricted.columns.tolist() == ["person_id", "total_sanctions"]


def test_a_missing_pandas_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = iomscore.score_batch(synth.generate(2, seed=1))
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=r"ScoreBatch.to_frame\(\) needs pandas.*iomscore\[pandas\]"):
        batch.to_frame()
    with pytest.raises(ImportError, match=r"FeatureFrame.to_frame\(\) needs pandas"):
        iomscore.FeatureFrame(synth.generate(2, seed=1).batch).to_frame()
