"""Property-based tests of iomscore.fairness.audit (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.fairness import METRICS, AuditResult, GroupMetrics, audit

LABELS = st.sampled_from(["a", "b", "c", None])


@st.composite
def cohorts(draw: st.DrawFn, distinct_scores: bool = False) -> dict[str, object]:
    n = draw(st.integers(min_value=2, max_value=60))
    if distinct_scores:
        scores = draw(st.permutations(list(range(n))))
        scores = [float(v) for v in scores]
    else:
        scores = draw(st.lists(st.integers(0, 6).map(float), min_size=n, max_size=n))
    outcomes = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    race = draw(st.lists(LABELS, min_size=n, max_size=n))
    sex = draw(st.lists(st.sampled_from(["F", "M"]), min_size=n, max_size=n))
    probabilities = draw(st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n))
    threshold = draw(st.integers(0, 7).map(float))
    capacity = draw(st.integers(0, n))
    return {
        "scores": scores,
        "outcomes": outcomes,
        "groups": {"race": race, "sex": sex},
        "probabilities": probabilities,
        "threshold": threshold,
        "capacity": capacity,
    }


def run(c: dict[str, object], **kwargs: object) -> AuditResult:
    options: dict[str, object] = {
        "threshold": c["threshold"],
        "capacity": c["capacity"],
        "probabilities": c["probabilities"],
        "intersections": [("race", "sex")],
        "min_group_size": 1,
        "n_bootstrap": 0,
    }
    options.update(kwargs)
    return audit(c["scores"], c["outcomes"], c["groups"], **options)  # type: ignore[arg-type]


def same_row(x: GroupMetrics, y: GroupMetrics) -> bool:
    if (x.n, x.n_positive, x.n_selected, x.n_selected_capacity, x.too_small) != (
        y.n,
        y.n_positive,
        y.n_selected,
        y.n_selected_capacity,
        y.too_small,
    ):
        return False
    for m in METRICS:
        a, b = x.metric(m), y.metric(m)
        if not (math.isnan(a) and math.isnan(b)) and not math.isclose(a, b, abs_tol=1e-12):
            return False
    return True


@settings(max_examples=60, deadline=None)
@given(cohorts(distinct_scores=True), st.randoms(use_true_random=False))
def test_permuting_people_leaves_group_metrics_unchanged(
    c: dict[str, object], random: object
) -> None:
    n = len(c["scores"])  # type: ignore[arg-type]
    order = list(range(n))
    random.shuffle(order)  # type: ignore[attr-defined]

    def take(values: object) -> list[object]:
        return [values[i] for i in order]  # type: ignore[index]

    shuffled = dict(
        c,
        scores=take(c["scores"]),
        outcomes=take(c["outcomes"]),
        probabilities=take(c["probabilities"]),
        groups={k: take(v) for k, v in c["groups"].items()},  # type: ignore[attr-defined]
    )
    before, after = run(c), run(shuffled)
    assert len(before.groups) == len(after.groups)
    for x, y in zip(before.groups, after.groups, strict=True):
        assert (x.characteristic, x.group) == (y.characteristic, y.group)
        assert same_row(x, y)


@settings(max_examples=60, deadline=None)
@given(cohorts())
def test_relabelling_groups_permutes_rows(c: dict[str, object]) -> None:
    # a bijection that reverses the alphabetical order of the recorded labels
    rename = {"a": "z", "b": "y", "c": "x", None: None}
    race = [rename[v] for v in c["groups"]["race"]]  # type: ignore[index]
    relabelled = dict(c, groups={"race": race, "sex": c["groups"]["sex"]})  # type: ignore[index]
    before = {(g.characteristic, g.group): g for g in run(c, intersections=()).groups}
    after = {(g.characteristic, g.group): g for g in run(relabelled, intersections=()).groups}
    text = {k: v for k, v in rename.items() if k is not None}
    for (characteristic, group), row in before.items():
        new = text.get(group, group) if characteristic == "race" else group
        assert same_row(row, after[(characteristic, new)])
    assert len(before) == len(after)


@settings(max_examples=80, deadline=None)
@given(cohorts())
def test_counts_add_up_and_rates_are_proportions(c: dict[str, object]) -> None:
    res = run(c)
    scores = np.asarray(c["scores"], dtype=float)
    outcomes = np.asarray(c["outcomes"])
    n_selected = int((scores >= c["threshold"]).sum())
    for characteristic in res.characteristics:
        rows = [g for g in res.groups if g.characteristic == characteristic]
        assert sum(g.n for g in rows) == len(scores)
        assert sum(g.n_positive or 0 for g in rows) == int(outcomes.sum())
        assert sum(g.n_selected or 0 for g in rows) == n_selected
        assert sum(g.n_selected_capacity or 0 for g in rows) == c["capacity"]
        assert sum(g.is_reference for g in rows) == 1
        for g in rows:
            for m in METRICS:
                value = g.metric(m)
                if m == "calibration_in_the_large":
                    assert math.isnan(value) or -1.0 <= value <= 1.0
                else:
                    assert math.isnan(value) or 0.0 <= value <= 1.0
            if not math.isnan(g.tpr):
                assert math.isclose(g.tpr + g.fnr, 1.0)
            if not math.isnan(g.fpr):
                assert math.isclose(g.fpr + g.tnr, 1.0)
            assert math.isnan(g.auc) == (g.n_positive in (0, g.n))


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_comparisons_are_consistent_with_rows(c: dict[str, object]) -> None:
    res = run(c, n_bootstrap=20)
    refs = res.reference_groups
    for comp in res.comparisons:
        row = res.group(comp.characteristic, comp.group)
        ref = res.group(comp.characteristic, refs[comp.characteristic])
        value, ref_value = row.metric(comp.metric), ref.metric(comp.metric)
        if math.isnan(value) or math.isnan(ref_value):
            assert math.isnan(comp.difference)
        else:
            assert math.isclose(comp.difference, value - ref_value, abs_tol=1e-12)
        if not math.isnan(comp.difference_low):
            assert comp.difference_low <= comp.difference_high


@settings(max_examples=20, deadline=None)
@given(cohorts(), st.integers(0, 2**32 - 1))
def test_bootstrap_is_deterministic_for_a_seed(c: dict[str, object], seed: int) -> None:
    one = run(c, n_bootstrap=30, random_state=seed).to_dict()
    two = run(c, n_bootstrap=30, random_state=seed).to_dict()
    assert one == two
