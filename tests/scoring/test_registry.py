"""Finding scorers: built-ins, shipped specs, registered and third-party scorers."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata

import numpy as np
import pytest

import iomscore
from iomscore import ModelIdentity, ScoreBatch
from iomscore.scoring._registry import _registered
from iomscore.scoring._result import empty_warnings


class RecentOnly:
    """A third-party scorer: one point per offence in the last 12 months at risk."""

    name = "recent-only"
    version = "0.1"
    features = ("offences_12m_at_risk",)
    monotone: Mapping[str, str] = {"offences_12m_at_risk": "increasing"}
    identity = ModelIdentity(name="recent-only", version="0.1", sha256="0" * 64, kind="custom")

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        x = np.asarray(features["offences_12m_at_risk"], dtype=float)
        return ScoreBatch(
            score=x, band=np.where(x >= 3, "high", "low").astype(object), probabilities={},
            part_names=("recent",), part_labels=("Recent offending",), part_values=x[:, None],
            part_reasons=(np.array([f"{v:g} recent offences" for v in x], dtype=object),),
            model=self.identity, warnings=empty_warnings(x.size),
        )


class Snoop(RecentOnly):
    """A scorer that tries to read a feature it did not declare."""

    name = "snoop"

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        features["sex"]
        return super().score_features(features)


def referral(pid: str = "P") -> iomscore.Referral:
    return iomscore.Referral(
        person_id=pid, assessment_date="2025-01-01", date_of_birth="1990-01-01", sex="female",
        sanctions=[{"offence_date": f"2024-0{m}-01", "sanction_date": f"2024-0{m}-15",
                    "offence_group": "shop_theft", "disposal": "fine"} for m in (3, 5, 7)],
        protected={"ethnicity": "Mixed"}, serious_harm={"rosh_level": "very_high"},
    )


def test_builtins_are_listed() -> None:
    names = iomscore.available_scorers()
    assert "ogrs3" in names and "iom-priority" in names
    assert iomscore.get_scorer("iom-priority").identity.kind == "points"


def test_registered_scorer_is_found_and_scored() -> None:
    iomscore.register_scorer("recent-only", RecentOnly)
    try:
        assert "recent-only" in iomscore.available_scorers()
        result = iomscore.score(referral(), scorer="recent-only")
        assert (result.score, result.band) == (3.0, "high")
        assert result.reasons == ("3 recent offences: +3",)
    finally:
        _registered.pop("recent-only")


def test_a_scorer_instance_can_be_passed_directly() -> None:
    results = iomscore.score([referral("A"), referral("B")], scorer=RecentOnly())
    assert [r.person_id for r in results] == ["A", "B"]


def test_undeclared_features_cannot_be_read() -> None:
    with pytest.raises(KeyError, match="'sex' was not declared"):
        iomscore.score(referral(), scorer=Snoop())


def test_entry_points_are_consulted(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = metadata.EntryPoint(name="recent-ep", value="tests.scoring.test_registry:RecentOnly", group="iomscore.scorers")

    def fake_entry_points(group: str) -> list[metadata.EntryPoint]:
        return [ep] if group == "iomscore.scorers" else []

    monkeypatch.setattr(metadata, "entry_points", fake_entry_points)
    assert "recent-ep" in iomscore.available_scorers()
    monkeypatch.setattr(ep.__class__, "load", lambda self: RecentOnly)
    assert iomscore.get_scorer("recent-ep").identity.name == "recent-only"


def test_chunked_scoring_is_identical() -> None:
    table = iomscore.ReferralTable.from_referrals([referral(str(i)) for i in range(7)])
    whole = iomscore.score_batch(table, "ogrs3")
    seen: list[tuple[int, int]] = []
    chunked = iomscore.score_batch(table, "ogrs3", chunk_size=3, progress=lambda d, t: seen.append((d, t)))
    np.testing.assert_array_equal(whole.score, chunked.score)
    np.testing.assert_array_equal(whole.part_values, chunked.part_values)
    assert seen == [(3, 7), (6, 7), (7, 7)]
