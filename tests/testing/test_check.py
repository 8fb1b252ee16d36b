"""check_scorer passes on the built-in scorers and fails, with a counterexample, on broken ones."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping

import numpy as np
import pytest

import iomscore
from iomscore import ModelIdentity, PointsScorer, PointsSpec, ScoreBatch
from iomscore.features import FEATURES, OFFENCE_FREE_CAP_MONTHS
from iomscore.scoring._spec import Bin, Factor
from iomscore.testing import (
    PROPERTIES,
    CheckReport,
    ScorerCheckError,
    check_scorer,
    declares_offence_monotone,
)

EXAMPLES = 15


def _builtin_scorers() -> list[str]:
    """Every built-in and shipped scorer that scores referrals (reads iomscore features)."""
    out = []
    for name in iomscore.available_scorers():
        s = iomscore.get_scorer(name)
        if all(f in FEATURES for f in s.features):
            out.append(name)
    return out


@functools.cache
def _report(name: str) -> CheckReport:
    return check_scorer(name, max_examples=EXAMPLES, raise_on_failure=False)


@pytest.mark.parametrize("name", _builtin_scorers())
def test_builtin_scorers_pass(name: str) -> None:
    report = _report(name)
    assert report.ok, report.to_text()
    assert [r.name for r in report.results] == list(PROPERTIES)


def test_ogrs3_skips_what_it_does_not_declare() -> None:
    report = _report("ogrs3")
    skipped = {r.name for r in report.skipped}
    assert skipped == {"offence_monotonicity", "recency_monotonicity", "feature_monotonicity",
                       "spec_round_trip"}
    assert len(report.passed) == len(PROPERTIES) - 4
    assert "not declared" in report["offence_monotonicity"].message
    assert "not applicable" in report["spec_round_trip"].message


def test_iom_priority_checks_everything() -> None:
    assert declares_offence_monotone(iomscore.get_scorer("iom-priority")) == (True, "")
    report = _report("iom-priority")
    assert len(report.passed) == len(PROPERTIES) and not report.skipped


# --- broken scorers: the kit must be able to fail --------------------------------------


def _lying_spec() -> PointsSpec:
    """Declares recent offending 'increasing' while its points fall (the validator is bypassed)."""
    bins = (
        Bin(upper=1, points=5, reason="none"),
        Bin(lower=1, upper=3, points=2, reason="{value}"),
        Bin(lower=3, points=0, reason="{value}"),
    )
    factor = Factor.model_construct(
        name="recent", feature="offences_12m_at_risk", label="Recent offending", bins=bins,
        missing_points=0, missing_reason="{label}: not recorded", monotone="increasing", rationale="",
    )
    base = PointsSpec.model_validate({
        "name": "lying", "version": "1", "title": "Lying",
        "factors": [{"name": "x", "feature": "offences_12m_at_risk", "label": "x",
                     "bins": [{"points": 0, "reason": "x"}]}],
        "bands": [{"name": "low", "upper": 3}, {"name": "high", "lower": 3}],
    })
    return base.model_copy(update={"factors": (factor,)})


class _Wrapped:
    """A third-party style scorer delegating to iom-priority, with a defect added by ``mangle``."""

    name = "wrapped"
    version = "0"

    def __init__(self) -> None:
        self.inner = iomscore.get_scorer("iom-priority")
        self._identity = ModelIdentity(name=self.name, version=self.version, sha256="0" * 64, kind="test")

    @property
    def features(self) -> tuple[str, ...]:
        return self.inner.features

    @property
    def monotone(self) -> Mapping[str, str]:
        return self.inner.monotone

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        return self.mangle(dataclasses.replace(self.inner.score_features(features), model=self._identity))

    def mangle(self, b: ScoreBatch) -> ScoreBatch:
        return b


class _Noisy(_Wrapped):
    def __init__(self) -> None:
        super().__init__()
        self.rng = np.random.default_rng()

    def mangle(self, b: ScoreBatch) -> ScoreBatch:
        noise = self.rng.integers(0, 2, len(b)).astype(float)
        values = b.part_values.copy()
        values[:, 0] += noise
        return dataclasses.replace(b, score=b.score + noise, part_values=values)


class _NotAdditive(_Wrapped):
    def mangle(self, b: ScoreBatch) -> ScoreBatch:
        return dataclasses.replace(b, score=b.score + 1)


class _BatchRelative(_Wrapped):
    """Scores each row relative to the batch mean: depends on who else is in the batch."""

    def mangle(self, b: ScoreBatch) -> ScoreBatch:
        shift = np.full(len(b), float(b.score.mean()) if len(b) else 0.0)
        values = b.part_values.copy()
        values[:, 0] -= shift
        return dataclasses.replace(b, score=b.score - shift, part_values=values)


class _OutOfRange(_Wrapped):
    def mangle(self, b: ScoreBatch) -> ScoreBatch:
        values = b.part_values.copy()
        values[:, 0] += 1000
        return dataclasses.replace(b, score=b.score + 1000, part_values=values)

    @property
    def spec(self) -> PointsSpec:
        return self.inner.spec


def _assert_fails(report: CheckReport, name: str) -> None:
    result = report[name]
    assert result.status == "fail", report.to_text()
    assert result.message
    assert result.counterexample is not None
    data = json.loads(result.counterexample)
    referral = data[0] if isinstance(data, list) else data
    iomscore.Referral.model_validate(referral)  # the counterexample is a valid referral


def test_lying_monotone_spec_fails() -> None:
    scorer = PointsScorer(_lying_spec())
    report = check_scorer(scorer, max_examples=EXAMPLES, raise_on_failure=False,
                          properties=["feature_monotonicity", "offence_monotonicity"])
    for name in ("feature_monotonicity", "offence_monotonicity"):
        _assert_fails(report, name)
    assert "offences_12m_at_risk" in report["feature_monotonicity"].message
    assert "lowered the score" in report["offence_monotonicity"].message


def test_counterexample_is_shrunk() -> None:
    report = check_scorer(PointsScorer(_lying_spec()), max_examples=EXAMPLES, raise_on_failure=False,
                          properties=["offence_monotonicity"])
    referral = iomscore.Referral.model_validate_json(report["offence_monotonicity"].counterexample)
    # A referral whose score an added offence lowers has 0 or 2 offences in the last 12 months
    # at risk (the points fall at 1 and at 3); shrinking leaves little else.
    frame = iomscore.FeatureFrame.from_referrals([referral])
    assert frame["offences_12m_at_risk"][0] in (0, 2)
    assert len(referral.sanctions) <= 6


def test_nondeterministic_scorer_fails() -> None:
    report = check_scorer(_Noisy(), max_examples=EXAMPLES, raise_on_failure=False, properties=["determinism"])
    _assert_fails(report, "determinism")


def test_non_additive_breakdown_fails() -> None:
    report = check_scorer(_NotAdditive(), max_examples=EXAMPLES, raise_on_failure=False,
                          properties=["breakdown_additivity", "determinism"])
    _assert_fails(report, "breakdown_additivity")
    assert report["determinism"].status == "pass"
    assert "breakdown sums to" in report["breakdown_additivity"].message


def test_batch_dependent_scorer_fails() -> None:
    report = check_scorer(_BatchRelative(), max_examples=EXAMPLES, raise_on_failure=False, max_shrinks=50,
                          properties=["single_equals_batch", "order_invariance"])
    _assert_fails(report, "single_equals_batch")
    assert report["order_invariance"].status == "pass"  # shuffling keeps the batch mean


def test_out_of_range_scorer_fails() -> None:
    report = check_scorer(_OutOfRange(), max_examples=EXAMPLES, raise_on_failure=False,
                          properties=["score_bounds", "spec_round_trip"])
    _assert_fails(report, "score_bounds")


def test_raises_assertion_error_listing_failures() -> None:
    with pytest.raises(AssertionError, match="determinism") as info:
        check_scorer(_Noisy(), max_examples=EXAMPLES, properties=["determinism", "breakdown_additivity"])
    assert isinstance(info.value, ScorerCheckError)
    assert info.value.report.failed[0].name == "determinism"
    assert "counterexample" in str(info.value)


def test_report_renders_and_serialises() -> None:
    report = check_scorer(_NotAdditive(), max_examples=10, raise_on_failure=False,
                          properties=["breakdown_additivity", "spec_round_trip"])
    text = report.to_text()
    assert "FAIL  breakdown_additivity" in text and "SKIP  spec_round_trip" in text
    assert "2 properties: 0 passed, 1 failed, 1 skipped" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["counts"] == {"pass": 0, "fail": 1, "skipped": 1}
    assert data["results"][0]["counterexample"]["person_id"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.scorer = "x"  # type: ignore[misc]


def test_deterministic_by_default() -> None:
    a = check_scorer(_NotAdditive(), max_examples=EXAMPLES, raise_on_failure=False,
                     properties=["breakdown_additivity"])
    b = check_scorer(_NotAdditive(), max_examples=EXAMPLES, raise_on_failure=False,
                     properties=["breakdown_additivity"])
    assert a.to_dict() == b.to_dict()


def test_unknown_property() -> None:
    with pytest.raises(ValueError, match="unknown property"):
        check_scorer("ogrs3", properties=["nope"])


def test_explicit_offence_monotone_attribute() -> None:
    scorer = iomscore.OGRS3()  # its own instance: get_scorer's are shared by everyone in the process
    scorer.offence_monotone = True  # type: ignore[attr-defined]
    assert declares_offence_monotone(scorer) == (True, "")
    # OGRS3's Copas rate can fall when an old offence is added: the kit finds it.
    report = check_scorer(scorer, max_examples=40, raise_on_failure=False, properties=["offence_monotonicity"])
    _assert_fails(report, "offence_monotonicity")


# --- summary-only referrals: a long record is never silently scored as none --------------


@pytest.mark.parametrize("name", ["iom-priority", "ogrs3"])
def test_shipped_scorers_do_not_ignore_a_summary(name: str) -> None:
    report = check_scorer(name, max_examples=150, raise_on_failure=False, properties=["summary_only_history"])
    assert report.ok, report.to_text()


class _Silent(_Wrapped):
    """iom-priority as it was: the summary is ignored (offences counted as 0) and nothing is said."""

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        # The values of someone with no history: no offences, the offence-free cap.
        none = {f: float(OFFENCE_FREE_CAP_MONTHS) if f == "offence_free_months_at_risk" else 0.0 for f in self.features}
        filled = {f: np.nan_to_num(np.asarray(features[f], dtype=np.float64), nan=none[f])
                  if FEATURES[f].needs_list else features[f] for f in self.features}
        b = self.inner.score_features(filled)
        return dataclasses.replace(b, model=self._identity, warnings=None)


class _Counts:
    """A minimal third-party scorer: recent offences only, missing read as 0, no warnings."""

    name = "counts"
    version = "0"
    features = ("offences_12m_at_risk",)
    monotone: Mapping[str, str] = {"offences_12m_at_risk": "increasing"}
    identity = ModelIdentity(name="counts", version="0", sha256="1" * 64, kind="test")

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        x = np.nan_to_num(np.asarray(features["offences_12m_at_risk"], dtype=np.float64), nan=0.0)
        n = x.shape[0]
        return ScoreBatch(score=x, band=np.where(x >= 2, "high", "low").astype(object), probabilities={},
                          part_names=("recent",), part_labels=("Recent",), part_values=x.reshape(n, 1),
                          part_reasons=(np.full(n, "recent", dtype=object),), model=self.identity)


@pytest.mark.parametrize("scorer", [_Silent(), _Counts()], ids=["silent-iom-priority", "third-party"])
def test_a_scorer_ignoring_the_summary_fails(scorer: object) -> None:
    report = check_scorer(scorer, max_examples=EXAMPLES, raise_on_failure=False,  # type: ignore[arg-type]
                          properties=["summary_only_history", "determinism"])
    _assert_fails(report, "summary_only_history")
    assert report["determinism"].status == "pass"
    message = report["summary_only_history"].message
    assert "lowest band 'low'" in message and "no warning that the history is incomplete" in message
    assert "the same person with no history at all" in message
    referral = iomscore.Referral.model_validate_json(report["summary_only_history"].counterexample or "")
    assert referral.sanctions == () and referral.sanction_summary is not None
    assert referral.sanction_summary.previous_sanctions >= 20
    assert (referral.assessment_date - referral.sanction_summary.current_conviction_date).days <= 91


def test_a_low_band_that_reads_the_summary_passes() -> None:
    # 20+ previous sanctions earn 3 points: still the lowest band, no warning, but the summary
    # moved the score above that of the same person with no history, so it was not ignored.
    spec = PointsSpec.model_validate({
        "name": "record-only", "version": "1", "title": "Record only",
        "factors": [{"name": "record", "feature": "previous_sanctions", "label": "Previous sanctions",
                     "bins": [{"upper": 20, "points": 0, "reason": "few"}, {"lower": 20, "points": 3, "reason": "many"}]}],
        "bands": [{"name": "low", "upper": 10}, {"name": "high", "lower": 10}],
    })
    report = check_scorer(PointsScorer(spec), max_examples=EXAMPLES, raise_on_failure=False,
                          properties=["summary_only_history"])
    assert report.ok, report.to_text()
    # A spec on offence counts cannot read the summary, but the points scorer says so: it passes.
    blind = spec.model_copy(update={"factors": (spec.factors[0].model_copy(update={
        "feature": "offences_12m_at_risk"}),)}).with_sha256()
    report = check_scorer(PointsScorer(blind), max_examples=EXAMPLES, raise_on_failure=False,
                          properties=["summary_only_history"])
    assert report.ok, report.to_text()
