"""No shipped reoffending scorer moves when only the referral facts change (supervision,
release date, agreement to engage), and check_scorer catches a scorer that reads them unseen."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import given, settings

import iomscore
from iomscore import ModelIdentity, ScoreBatch
from iomscore.schema._batch import MISSING_DAY
from iomscore.testing import REFERRAL_FACT_FEATURES, check_scorer, referral_facts, referrals
from iomscore.testing._check import _row

SHIPPED_REOFFENDING = ("iom-priority", "ogrs3", "ogrs4g", "ogrs4v", "snsv")


@pytest.mark.parametrize("name", SHIPPED_REOFFENDING)
def test_shipped_scorers_do_not_declare_the_facts(name: str) -> None:
    assert not REFERRAL_FACT_FEATURES & set(iomscore.get_scorer(name).features)
    report = check_scorer(name, max_examples=40, properties=["referral_facts_independence"])
    assert report["referral_facts_independence"].status == "pass"


@settings(max_examples=60, deadline=None)
@given(referrals().flatmap(lambda r: referral_facts(r).map(lambda f: (r, f))))
def test_scores_ignore_the_facts(pair: tuple[iomscore.Referral, dict[str, object]]) -> None:
    r, facts = pair
    other = iomscore.Referral(**{**dict(r), **facts})  # validated: the facts are valid for r
    batch = iomscore.ReferralTable.from_referrals([r, other])
    for name in SHIPPED_REOFFENDING:
        b = iomscore.score_batch(batch, iomscore.get_scorer(name))
        assert _row(b, 0) == _row(b, 1), name


class _ReadsRelease:
    """Declares iom-priority's features but adds a point when a release date is given, read
    behind the feature frame: the leak the property exists to catch."""

    def __init__(self) -> None:
        self.inner = iomscore.get_scorer("iom-priority")
        self.identity = ModelIdentity(name="reads-release", version="0", sha256="0" * 64, kind="test")
        self.features = self.inner.features
        self.monotone: Mapping[str, str] = {}

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        b = dataclasses.replace(self.inner.score_features(features), model=self.identity)
        extra = (features.batch._col("release_day") != MISSING_DAY).astype(float)  # type: ignore[attr-defined]
        values = b.part_values.copy()
        values[:, 0] += extra
        return dataclasses.replace(b, score=b.score + extra, part_values=values)


def test_a_scorer_reading_the_facts_unseen_fails() -> None:
    report = check_scorer(_ReadsRelease(), max_examples=30, properties=["referral_facts_independence"],
                          raise_on_failure=False)
    result = report["referral_facts_independence"]
    assert result.status == "fail" and "changing only" in result.message and "release_date" in result.message
    iomscore.Referral.model_validate_json(result.counterexample or "")


class _DeclaresFacts(_ReadsRelease):
    def __init__(self) -> None:
        super().__init__()
        self.features = (*self.inner.features, "weeks_until_release")


def test_a_scorer_declaring_the_facts_is_skipped() -> None:
    report = check_scorer(_DeclaresFacts(), max_examples=5, properties=["referral_facts_independence"],
                          raise_on_failure=False)
    result = report["referral_facts_independence"]
    assert result.status == "skipped" and "weeks_until_release" in result.message


@settings(max_examples=100, deadline=None)
@given(referrals().flatmap(lambda r: referral_facts(r).map(lambda f: (r, f))))
def test_referral_facts_are_valid_for_their_referral(pair: tuple[iomscore.Referral, dict[str, object]]) -> None:
    r, facts = pair
    iomscore.Referral(**{**dict(r), **facts})  # runs every cross-field rule
