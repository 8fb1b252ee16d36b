"""One referral scored alone says exactly what it says inside a large batch.

Scorers take shortcuts for small batches (a single score renders each row's reasons directly
instead of grouping rows by key, skips the warning tables when nothing is missing, computes
OGRS3's Shapley values on stacked arrays); these tests hold the shortcut and the batch path to
the same bytes: score, band, error, probabilities, parts, reasons and warnings, and the
:class:`iomscore.ScoreResult` JSON of :func:`iomscore.score`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
from iomscore import ReferralTable, score_batch, synth
from iomscore.schema._referral import referral_batch
from iomscore.scoring._ogrs3 import _shapley_by_subset, _shapley_stacked
from iomscore.scoring._result import RENDER_EACH_BELOW
from iomscore.testing import edge_case_referrals, points_specs, referrals

#: A points spec exercising what the built-in one does not: an intercept, categorical factors
#: (with categories the spec does not list), missing points, non-integer values in reasons and
#: a probability table.
MIXED_SPEC = iomscore.PointsSpec.model_validate({
    "format": "iomscore.points/1", "name": "mixed", "version": "1.0.0", "title": "Mixed",
    "intercept": 3, "intercept_reason": "Base points for everyone",
    "factors": [
        {"name": "group", "feature": "current_ogrs3_group", "label": "Offence group", "missing_points": 1, "bins": [
            {"equals": 1, "points": 2, "reason": "group {value}: {points}"},
            {"equals": 2, "points": 0, "reason": "{label} two"},
            {"equals": 7, "points": 5, "reason": "group {value}"}]},
        {"name": "housing", "feature": "need_accommodation", "label": "Accommodation", "bins": [
            {"equals": "0", "points": 0, "reason": "no need"}, {"equals": "2", "points": 4, "reason": "need {value}"}]},
        {"name": "recent", "feature": "offences_12m_at_risk", "label": "Recent", "missing_points": 2, "bins": [
            {"upper": 1, "points": 0, "reason": "none recent"},
            {"lower": 1, "upper": 3.5, "points": 2, "reason": "{value} recent"},
            {"lower": 3.5, "points": 5, "reason": "{value} recent ({points})"}]},
        {"name": "copas", "feature": "copas_rate", "label": "Copas", "missing_points": -1, "bins": [
            {"upper": -1.25, "points": 0, "reason": "rate {value}"}, {"lower": -1.25, "points": 3, "reason": "high {value}"}]},
        {"name": "rate", "feature": "offences_per_year_at_risk", "label": "Rate", "bins": [
            {"upper": 0.5, "points": -2, "reason": "{value} a year"}, {"lower": 0.5, "points": 1, "reason": "{value} per year"}]},
    ],
    "bands": [{"name": "low", "upper": 4}, {"name": "mid", "lower": 4, "upper": 9}, {"name": "high", "lower": 9}],
    "probability": {"outcome": "reoffending", "key": "2y", "totals": list(range(-3, 25)),
                    "probabilities": [round((t + 3) / 28, 4) for t in range(-3, 25)]},
})
SCORERS = {
    "iom-priority": iomscore.get_scorer("iom-priority"),
    "ogrs3": iomscore.get_scorer("ogrs3"),
    "mixed": iomscore.PointsScorer(MIXED_SPEC),
}


def _padding() -> list[iomscore.Referral]:
    """Enough synthetic referrals (some given as summaries) to take any batch past the shortcuts."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.jsonl"
        synth.write_jsonl(synth.generate(2 * RENDER_EACH_BELOW, seed=11, summary_fraction=0.25), path)
        return [iomscore.Referral.model_validate_json(line) for line in path.read_text("utf-8").splitlines()]


PADDING = _padding()


def _row(batch: iomscore.ScoreBatch, i: int) -> tuple[object, ...]:
    return (
        batch.score[i].tobytes(), str(batch.band[i]), None if batch.error is None else batch.error[i],
        {k: v[i].tobytes() for k, v in batch.probabilities.items()}, batch.part_values[i].tobytes(),
        tuple(str(r[i]) for r in batch.part_reasons), None if batch.warnings is None else tuple(batch.warnings[i]),
    )


def _check(scorer: iomscore.Scorer, rs: list[iomscore.Referral]) -> None:
    big = score_batch(ReferralTable.from_referrals(rs + PADDING), scorer)
    assert len(big) >= RENDER_EACH_BELOW
    for i, r in enumerate(rs):
        alone = score_batch(ReferralTable.from_referrals([r]), scorer)
        assert _row(alone, 0) == _row(big, i)
        if big.ok[i]:
            expected = big.result(i).model_dump_json()
            assert iomscore.score(r, scorer).model_dump_json() == expected
            # validated with the rules: scoring reuses the batch its validation made
            validated = iomscore.Referral.model_validate_json(r.model_dump_json())
            assert referral_batch([validated]) is referral_batch([validated])
            assert iomscore.score(validated, scorer).model_dump_json() == expected


@pytest.mark.parametrize("name", SCORERS)
@settings(max_examples=40, deadline=None)
@given(rs=st.lists(st.one_of(referrals(), edge_case_referrals()), min_size=1, max_size=3))
def test_a_referral_alone_is_scored_as_in_a_large_batch(name: str, rs: list[iomscore.Referral]) -> None:
    _check(SCORERS[name], rs)


@settings(max_examples=15, deadline=None)
@given(spec=points_specs(), rs=st.lists(referrals(), min_size=1, max_size=2))
def test_any_points_spec_scores_a_referral_alone_as_in_a_batch(spec: iomscore.PointsSpec,
                                                               rs: list[iomscore.Referral]) -> None:
    _check(iomscore.PointsScorer(spec), rs)


def test_the_padding_reaches_the_batch_paths() -> None:
    """The large batch really takes the grouped paths: unlisted categories, summaries, unscored rows."""
    mixed = score_batch(ReferralTable.from_referrals(PADDING), SCORERS["mixed"])
    warnings = {w for ws in mixed.warnings for w in ws} if mixed.warnings is not None else set()
    assert any(w.startswith("a category the spec does not list") for w in warnings)
    assert any(w.startswith("history given as a summary only") for w in warnings)
    reasons = mixed.part_reasons[4]
    assert len({str(x) for x in reasons}) < len(reasons)  # rows share rendered texts
    assert np.isfinite(mixed.score).all()


_TERM = st.one_of(st.floats(-12, 12, allow_nan=False), st.sampled_from([0.0, -0.0, 1e-12, -3.5]))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), k=st.integers(1, 6), n=st.integers(1, 12), intercept=st.floats(-4, 4))
def test_shapley_for_a_few_rows_is_bit_identical_to_the_batch_form(data: st.DataObject, k: int, n: int,
                                                                   intercept: float) -> None:
    """OGRS3 and the OASys v4 predictors take every subset at once for a few rows, one subset at a
    time for a batch; the values must not depend on which (the last bit shows in the JSON)."""
    rows = data.draw(st.lists(st.lists(_TERM, min_size=k, max_size=k), min_size=n, max_size=n))
    terms = np.asarray(rows, dtype=np.float64).reshape(n, k)
    assert _shapley_stacked(intercept, terms).tobytes() == _shapley_by_subset(intercept, terms).tobytes()


def test_a_copy_with_changes_is_not_scored_from_the_original_batch() -> None:
    r = PADDING[0]
    validated = iomscore.Referral.model_validate_json(r.model_dump_json())
    before = iomscore.score(validated, "iom-priority")
    changed = validated.model_copy(update={"person_id": "someone-else", "sanctions": ()})
    after = iomscore.score(changed, "iom-priority")
    assert after.person_id == "someone-else"
    assert after.model_dump_json() == iomscore.score_batch(ReferralTable.from_referrals([changed])).result(0).model_dump_json()
    assert before.person_id == r.person_id


_PART_VALUE = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, np.inf, -np.inf, np.nan]),
                        st.floats(-100, 100), st.integers(-5, 5).map(float))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 4), k=st.integers(1, 5), baseline=st.booleans(),
       unit=st.sampled_from(["points", "percentage points"]))
def test_one_result_is_the_same_as_in_results(data: st.DataObject, n: int, k: int, baseline: bool, unit: str) -> None:
    """``ScoreBatch.result(i)`` ranks one row's parts and converts its assessment date itself;
    it must say what ``results()`` (ranking every row, converting every date) says, for ties,
    signed zeros, infinities, NaN, a baseline part and dates Python cannot hold."""
    values = np.asarray(data.draw(st.lists(st.lists(_PART_VALUE, min_size=k, max_size=k), min_size=n, max_size=n)))
    days = data.draw(st.lists(st.one_of(st.integers(-719163, -719161), st.integers(2932895, 2932897),
                                        st.integers(-10**6, 4 * 10**6)), min_size=n, max_size=n))
    names = tuple(f"p{j}" for j in range(k))
    batch = iomscore.ScoreBatch(
        score=np.zeros(n), band=np.asarray(["b"] * n, dtype=object), probabilities={"1y": np.zeros(n)},
        part_names=names, part_labels=names, part_values=values,
        part_reasons=tuple(np.asarray([f"r{j}.{i}" for i in range(n)], dtype=object) for j in range(k)),
        model=iomscore.get_scorer("iom-priority").identity, unit=unit,  # type: ignore[arg-type]
        baseline_part=names[data.draw(st.integers(0, k - 1))] if baseline else None,
        person_id=np.asarray([f"P{i}" for i in range(n)], dtype=object), assessment_day=np.asarray(days),
    )
    alone = [batch.result(i) for i in range(n)]  # before the batch's ranking is cached
    together = batch.results()
    for a, b in zip(alone, together):
        assert a.assessment_date == b.assessment_date and a.reasons == b.reasons
        assert a.model_dump_json() == b.model_dump_json()
    batch.ranked_parts()
    assert [batch.result(i).reasons for i in range(n)] == [r.reasons for r in together]


@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=st.integers(1, 5), k=st.integers(1, 6), baseline=st.booleans(), top=st.integers(0, 7),
       finite=st.booleans())
def test_shown_parts_are_the_ranked_parts_that_show(data: st.DataObject, n: int, k: int, baseline: bool, top: int,
                                                    finite: bool) -> None:
    """``shown_parts`` (a pass per line, or the whole ranking when a value is not finite or a
    ranking is cached) gives the first ``top`` ranked parts that are not zero nor the baseline."""
    value = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5]) | st.integers(-3, 3).map(float) if finite else _PART_VALUE
    values = np.asarray(data.draw(st.lists(st.lists(value, min_size=k, max_size=k), min_size=n, max_size=n)))
    names = tuple(f"p{j}" for j in range(k))
    batch = iomscore.ScoreBatch(
        score=np.zeros(n), band=np.asarray(["b"] * n, dtype=object), probabilities={},
        part_names=names, part_labels=names, part_values=values,
        part_reasons=tuple(np.asarray([f"r{j}.{i}" for i in range(n)], dtype=object) for j in range(k)),
        model=iomscore.get_scorer("iom-priority").identity,
        baseline_part=names[data.draw(st.integers(0, k - 1))] if baseline else None,
    )
    rows = np.asarray(data.draw(st.lists(st.integers(0, n - 1), max_size=6)), dtype=np.int64)
    fresh = batch.shown_parts(top), batch.shown_parts(top, rows)
    ranked = batch.ranked_parts()
    base = names.index(batch.baseline_part) if batch.baseline_part else -1
    want = [[p for p in order if values[i, p] != 0.0 and p != base][:top] for i, order in enumerate(ranked.tolist())]
    width = min(top, k)
    padded = np.asarray([w + [-1] * (width - len(w)) for w in want], dtype=np.int64).reshape(n, width)
    for got, expected in zip((*fresh, batch.shown_parts(top), batch.shown_parts(top, rows)),
                             (padded, padded[rows], padded, padded[rows])):
        assert got.shape == expected.shape and got.tolist() == expected.tolist()


def _reference_terms(features: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """OGRS3's terms as first written: every check's mask in turn, the age band clipped."""
    from iomscore.schema._taxonomy import offence_taxonomy
    from iomscore.scoring import _ogrs3 as o

    sex, age, previous, total, copas, group = (np.asarray(features[k], dtype=np.float64) for k in (
        "sex", "age_at_assessment", "previous_sanctions", "total_sanctions", "copas_rate", "current_ogrs3_group"))
    caution_only = np.asarray(features["caution_only_history"], dtype=np.float64) > 0
    n = sex.shape[0]
    error = np.full(n, None, dtype=object)
    checks = ((np.isnan(group) | np.isnan(previous), o._NO_SANCTION), (~np.isfinite(copas), o._BAD_CAREER),
              (age < 10, o._TOO_YOUNG), (np.isnan(sex), o._NO_SEX))
    bad = checks[0][0] | checks[1][0] | checks[2][0] | checks[3][0]
    given = np.zeros(n, dtype=bool)
    for rows, message in checks:
        error[rows & ~given] = message
        given |= rows
    ok = ~bad
    age, previous = np.where(ok, age, 10), np.where(ok, previous, 0)
    copas, group = np.where(ok, copas, 0.0), np.where(ok, group, 0)
    band = np.clip(np.searchsorted(o._AGE_BAND_LOWER, age, side="right") - 1, 0, len(o.AGE_BAND_LOWER) - 1)
    terms = np.empty((n, 4))
    terms[:, 0] = np.where(sex == 1, o._AGE_FEMALE[band], o._AGE_MALE[band])
    conviction = np.where(np.minimum(previous, o.PREVIOUS_SANCTIONS_CAP) > 0, o.SANCTION_REPEAT, o.SANCTION_FIRST)
    caution = np.where(total <= 1, o.CAUTION_FIRST, np.where(total == 2, o.CAUTION_SECOND, o.CAUTION_MULTIPLE))
    terms[:, 1] = np.where(caution_only, caution, conviction)
    terms[:, 2] = o.COPAS_COEFFICIENT * copas
    terms[:, 3] = offence_taxonomy().ogrs3_parameters[group.astype(np.int64)]
    terms[bad] = 0.0
    return terms, band, error, ok


_ODD = st.sampled_from([np.nan, np.inf, -np.inf])
_TERM_INPUTS = ("sex", "age_at_assessment", "previous_sanctions", "copas_rate", "current_ogrs3_group",
                "caution_only_history")


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(1, 4))
def test_ogrs3_terms_screen_agrees_with_every_check(data: st.DataObject, n: int) -> None:
    """``_terms`` screens the usual all-scorable case with one finite sum and runs the checks in
    turn only when that fails; it must agree with the checks run every time, whatever the
    values: one or two NaN or infinities in any input (or none), ages under 10."""
    from iomscore.scoring._ogrs3 import _terms

    def column(values: st.SearchStrategy[float]) -> np.ndarray:
        return np.asarray(data.draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)

    features = {
        "sex": column(st.sampled_from([0.0, 1.0])),
        "age_at_assessment": column(st.integers(5, 90).map(float)),
        "previous_sanctions": column(st.integers(0, 80).map(float)),
        "copas_rate": column(st.floats(-5, 2)),
        "current_ogrs3_group": column(st.integers(0, 19).map(float)),
        "caution_only_history": column(st.sampled_from([0.0, 1.0])),
    }
    odd = st.tuples(st.integers(0, n - 1), st.sampled_from(_TERM_INPUTS), _ODD)
    for row, name, value in data.draw(st.lists(odd, max_size=2)):
        if name == "current_ogrs3_group" and not np.isnan(value):
            continue  # a group code is a whole number or NaN (it indexes the parameters)
        features[name][row] = value
    features["total_sanctions"] = features["previous_sanctions"] + 1
    got, want = _terms(features), _reference_terms(features)
    assert got[0].tobytes() == want[0].tobytes()
    assert got[1].tolist() == want[1].tolist() and got[2].tolist() == want[2].tolist()
    assert got[3].tolist() == want[3].tolist()


@pytest.mark.parametrize("name", _TERM_INPUTS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 9.0, 10.0])
def test_ogrs3_terms_screen_each_odd_value(name: str, value: float) -> None:
    """Each odd value alone, in each input, in one row among ordinary ones (the cases the screen
    must send to the checks, or may let through)."""
    from iomscore.scoring._ogrs3 import _terms

    if name == "current_ogrs3_group" and not (np.isnan(value) or value == 9.0):
        pytest.skip("a group code is a whole number or NaN")
    features = {"sex": [0.0, 1.0], "age_at_assessment": [30.0, 45.0], "previous_sanctions": [3.0, 0.0],
                "copas_rate": [-1.5, -0.2], "current_ogrs3_group": [4.0, 11.0], "caution_only_history": [0.0, 1.0]}
    arrays = {k: np.asarray(v) for k, v in features.items()}
    arrays[name][1] = value
    arrays["total_sanctions"] = arrays["previous_sanctions"] + 1
    got, want = _terms(arrays), _reference_terms(arrays)
    assert got[0].tobytes() == want[0].tobytes()
    assert [g.tolist() for g in got[1:]] == [w.tolist() for w in want[1:]]
