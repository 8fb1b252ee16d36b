"""The group-rate engine: labels, counts, formatting, and the same groups everywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.cohort import CohortSelection, Decision, selection_rates
from iomscore.fairness import NOT_RECORDED, audit, format_rate, group_rates
from iomscore.fairness._rates import normalise_labels, sorted_groups
from iomscore.schema import NOT_RECORDED as SCHEMA_NOT_RECORDED

MISSING = [None, float("nan"), np.nan, pd.NA, pd.NaT, "", "   ", "\t\n"]


def test_the_missing_label_is_the_schema_vocabulary() -> None:
    assert NOT_RECORDED == SCHEMA_NOT_RECORDED == "not recorded"


@pytest.mark.parametrize("missing", MISSING, ids=repr)
def test_every_kind_of_missing_label_is_not_recorded(missing: object) -> None:
    labels = normalise_labels(np.array(["a", missing], dtype=object), "g").tolist()
    assert labels == ["a", NOT_RECORDED]
    rates = group_rates([True, False], {"g": np.array(["a", missing], dtype=object)})
    assert [(r.group, r.n) for r in rates.rows] == [("a", 1), (NOT_RECORDED, 1)]


def test_all_missing_kinds_form_one_group_and_nobody_is_dropped() -> None:
    values = pd.Series(["b", *MISSING, " a "], dtype=object)
    rates = group_rates([1] * len(values), {"g": values}, min_group_size=1)
    assert [(r.group, r.n) for r in rates.rows] == [("a", 1), ("b", 1), (NOT_RECORDED, len(MISSING))]
    assert sum(r.n for r in rates.rows) == rates.n == len(values)


def test_labels_of_equal_but_different_values_are_kept_apart() -> None:
    assert normalise_labels(np.array([1, True, 1.0, "1"], dtype=object), "g").tolist() == ["1", "True", "1.0", "1"]


def test_sorted_groups_puts_not_recorded_last() -> None:
    assert sorted_groups(normalise_labels(["z", None, "A", "a"], "g")) == ["A", "a", "z", NOT_RECORDED]


@pytest.mark.parametrize(
    ("count", "n", "text"),
    [(3, 41, "3 of 41 (7.3%)"), (0, 5, "0 of 5 (0.0%)"), (5, 5, "5 of 5 (100.0%)"), (1, 3, "1 of 3 (33.3%)"),
     (2, 3, "2 of 3 (66.7%)"), (0, 0, "0 of 0 (no rate)")],
)
def test_format_rate(count: int, n: int, text: str) -> None:
    assert format_rate(count, n) == text


def test_result_counts_formatting_and_frame() -> None:
    rates = group_rates(
        [1, 0, 1, 0, 0], {"sex": ["F", "F", "M", None, "M"], "eth": ["x", "y", "x", "x", "y"]},
        extra={"eligible": [1, 1, 0, 0, 1]}, min_group_size=2,
    )
    assert (rates.n, rates.count, rates.count_of("eligible"), rates.formatted()) == (5, 2, 3, "2 of 5 (40.0%)")
    assert rates.characteristics == ("sex", "eth")
    f = rates.groups("sex")[0]
    assert (f.group, f.n, f.count, f.rate, f.small, f.count_of("eligible")) == ("F", 2, 1, 0.5, False, 2)
    assert rates.groups("sex")[2].small and rates.groups("sex")[2].group == NOT_RECORDED
    frame = rates.to_frame()
    assert list(frame.columns) == ["characteristic", "group", "n", "count", "rate", "small", "eligible", "formatted"]
    assert frame["formatted"].tolist()[:2] == ["1 of 2 (50.0%)", "1 of 2 (50.0%)"]
    assert rates.to_dict()["rows"][0]["extra"] == {"eligible": 2}
    with pytest.raises(KeyError, match="no count named"):
        f.count_of("selected")


def test_overall_only_and_empty() -> None:
    assert group_rates([True, False]).rows == ()
    empty = group_rates([], {"g": []})
    assert (empty.n, empty.rate, empty.rows, empty.formatted()) == (0, None, (), "0 of 0 (no rate)")


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"groups\['g'\] has 1 entries but counted has 2"):
        group_rates([1, 0], {"g": ["a"]})
    with pytest.raises(ValueError, match="counted must say, for each person"):
        group_rates([2, 0], {"g": ["a", "b"]})
    with pytest.raises(ValueError, match=r"extra\['e'\] must say"):
        group_rates([1, 0], extra={"e": ["yes", "no"]})
    with pytest.raises(KeyError, match="no characteristic 'race'"):
        group_rates([1, 0], {"g": ["a", "b"]}, characteristics=["race"])
    with pytest.raises(ValueError, match="min_group_size"):
        group_rates([1], {"g": ["a"]}, min_group_size=0)
    with pytest.raises(TypeError, match="groups must be a mapping"):
        group_rates([1], ["a"])  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------

LABELS = st.sampled_from(["a", "b", " b", "c ", None, "", "  ", float("nan"), pd.NA])


@st.composite
def people(draw: st.DrawFn) -> tuple[list[bool], list[object], list[object]]:
    n = draw(st.integers(0, 50))
    counted = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    g1 = draw(st.lists(LABELS, min_size=n, max_size=n))
    g2 = draw(st.lists(st.sampled_from(["F", "M", None]), min_size=n, max_size=n))
    return counted, g1, g2


def _rows(rates: object) -> list[tuple[str, str, int, int]]:
    return [(r.characteristic, r.group, r.n, r.count) for r in rates.rows]  # type: ignore[attr-defined]


@settings(max_examples=80, deadline=None)
@given(people(), st.randoms(use_true_random=False))
def test_rates_do_not_depend_on_row_order(data, rnd) -> None:
    counted, g1, g2 = data
    order = list(range(len(counted)))
    rnd.shuffle(order)
    a = group_rates(counted, {"g1": np.array(g1, dtype=object), "g2": np.array(g2, dtype=object)})
    b = group_rates(
        [counted[i] for i in order],
        {"g1": np.array([g1[i] for i in order], dtype=object), "g2": np.array([g2[i] for i in order], dtype=object)},
    )
    assert a == b


@settings(max_examples=80, deadline=None)
@given(people())
def test_counts_add_up_to_the_people_given(data) -> None:
    counted, g1, g2 = data
    rates = group_rates(counted, {"g1": np.array(g1, dtype=object), "g2": np.array(g2, dtype=object)},
                        extra={"not_counted": [not c for c in counted]})
    assert rates.n == len(counted) and rates.count == sum(counted)
    for name in ("g1", "g2"):
        rows = rates.groups(name)
        assert sum(r.n for r in rows) == rates.n
        assert sum(r.count for r in rows) == rates.count
        assert sum(r.count_of("not_counted") for r in rows) == rates.n - rates.count
        assert all(r.n > 0 and r.rate == r.count / r.n for r in rows)
        assert len({r.group for r in rows}) == len(rows)
        assert all(r.group == r.group.strip() and r.group for r in rows)


def _selection(counted: list[bool]) -> CohortSelection:
    decisions = tuple(
        Decision(person_id=f"P{i:03d}", decision="selected" if c else "eligible - over capacity",
                 recommended_action="include" if c else "exclude", reasons=("r",), eligible=True)
        for i, c in enumerate(counted)
    )
    return CohortSelection(policy_name="p", policy_version="1", policy_sha256="0" * 64, model=None,
                           capacity=sum(counted), tie_break="", decisions=decisions)


@settings(max_examples=60, deadline=None)
@given(people())
def test_the_same_people_give_the_same_groups_everywhere(data) -> None:
    counted, g1, g2 = data
    sel = _selection(counted)
    ids = [d.person_id for d in sel.decisions]
    by_person = {"g1": dict(zip(ids, g1, strict=True)), "g2": dict(zip(ids, g2, strict=True))}
    panel = selection_rates(sel, by_person, min_group_size=1)
    engine = group_rates(counted, {"g1": np.array(g1, dtype=object), "g2": np.array(g2, dtype=object)},
                         min_group_size=1)
    assert [(g.characteristic, g.group, g.referred, g.selected) for g in panel.by_group] == _rows(engine)
    assert [g.formatted() for g in panel.by_group] == [r.formatted() for r in engine.rows]
    if counted:
        scores = [float(c) for c in counted]
        result = audit(scores, [0] * len(counted), {"g1": np.array(g1, dtype=object), "g2": g2},
                       threshold=0.5, min_group_size=1, n_bootstrap=0)
        assert [(g.characteristic, g.group, g.n, g.n_selected) for g in result.groups] == _rows(engine)


def test_an_audit_and_a_panel_agree_on_pandas_missing_values() -> None:
    labels = pd.Series(["a", pd.NA, None, "a", float("nan")], dtype=object)
    sel = _selection([True, False, True, False, False])
    panel = selection_rates(sel, {"g": dict(zip([d.person_id for d in sel.decisions], labels, strict=True))})
    result = audit([1, 0, 1, 0, 0], [0, 1, 0, 1, 0], {"g": labels}, min_group_size=1, n_bootstrap=0)
    assert [g.group for g in panel.by_group] == [g.group for g in result.groups] == ["a", NOT_RECORDED]
