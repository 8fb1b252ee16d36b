"""Unit tests of iomscore.fairness.audit with hand-computed expected values."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from iomscore.fairness import METRICS, NOT_RECORDED, AuditResult, _common, audit
from iomscore.fairness import _audit as audit_module

# Ten people in two groups of five.
#   A: scores 0.9 0.8 0.7 0.6 0.5   outcomes 1 0 1 1 0
#   B: scores 0.4 0.3 0.2 0.1 0.05  outcomes 0 1 0 0 0
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
OUTCOMES = [1, 0, 1, 1, 0, 0, 1, 0, 0, 0]
GROUPS = {"g": ["A"] * 5 + ["B"] * 5}


def small(**kwargs: object) -> AuditResult:
    defaults: dict[str, object] = {
        "threshold": 0.35,
        "capacity": 3,
        "min_group_size": 1,
        "n_bootstrap": 0,
    }
    defaults.update(kwargs)
    return audit(SCORES, OUTCOMES, GROUPS, **defaults)  # type: ignore[arg-type]


class TestHandComputed:
    def test_group_a(self) -> None:
        a = small().group("g", "A")
        assert (a.n, a.n_positive, a.n_selected, a.n_selected_capacity) == (5, 3, 5, 3)
        assert a.base_rate == pytest.approx(0.6)
        assert a.selection_rate == pytest.approx(1.0)
        assert a.selection_rate_capacity == pytest.approx(0.6)
        assert a.tpr == pytest.approx(1.0)
        assert a.fnr == pytest.approx(0.0)
        assert a.fpr == pytest.approx(1.0)
        assert a.tnr == pytest.approx(0.0)
        assert a.ppv == pytest.approx(0.6)
        # positives 0.9, 0.7, 0.6 vs negatives 0.8, 0.5: 4 of 6 pairs ordered correctly
        assert a.auc == pytest.approx(4 / 6)

    def test_group_b(self) -> None:
        b = small().group("g", "B")
        assert (b.n, b.n_positive, b.n_selected, b.n_selected_capacity) == (5, 1, 1, 0)
        assert b.base_rate == pytest.approx(0.2)
        assert b.selection_rate == pytest.approx(0.2)
        assert b.selection_rate_capacity == 0.0
        assert b.tpr == 0.0 and b.fnr == 1.0
        assert b.fpr == pytest.approx(0.25) and b.tnr == pytest.approx(0.75)
        assert b.ppv == 0.0
        # positive 0.3 beats 0.2, 0.1, 0.05 but not 0.4
        assert b.auc == pytest.approx(0.75)

    def test_probability_metrics(self) -> None:
        res = small(probabilities=SCORES)
        a = res.group("g", "A")
        assert a.calibration_in_the_large == pytest.approx(0.7 - 0.6)
        assert a.brier == pytest.approx((0.01 + 0.64 + 0.09 + 0.16 + 0.25) / 5)
        assert "brier" in res.metrics

    def test_comparison_against_default_reference(self) -> None:
        res = small()
        # equal sizes: the first alphabetically is the reference
        assert res.reference_groups == {"g": "A"}
        c = res.comparison("g", "B", "fpr")
        assert c.reference == "A"
        assert c.difference == pytest.approx(0.25 - 1.0)
        assert c.ratio == pytest.approx(0.25)
        assert c.four_fifths_flag is None

    def test_four_fifths_threshold_and_capacity(self) -> None:
        res = small()
        at_threshold = res.comparison("g", "B", "selection_rate")
        assert at_threshold.four_fifths_flag is True  # 0.2 vs 1.0
        at_capacity = res.comparison("g", "B", "selection_rate_capacity")
        assert at_capacity.four_fifths_flag is True  # 0.0 vs 0.6
        assert len(res.four_fifths_flags) == 2

    def test_four_fifths_both_directions_and_boundary(self) -> None:
        # reference R selected 5/10; X selected 4/10 (ratio 0.8: not flagged); Y 7/10
        # (0.5 < 0.8 * 0.7 = 0.56: flagged although Y is selected *more*)
        labels = ["R"] * 10 + ["X"] * 10 + ["Y"] * 10
        scores = [1] * 5 + [0] * 5 + [1] * 4 + [0] * 6 + [1] * 7 + [0] * 3
        outcomes = [0, 1] * 15
        res = audit(
            scores,
            outcomes,
            {"g": labels},
            threshold=1,
            reference={"g": "R"},
            min_group_size=1,
            n_bootstrap=0,
        )
        assert res.comparison("g", "X", "selection_rate").four_fifths_flag is False
        assert res.comparison("g", "Y", "selection_rate").four_fifths_flag is True

    def test_selected_if_gt(self) -> None:
        ge = audit(
            [1, 2, 3, 4],
            [0, 0, 1, 1],
            {"g": ["a"] * 4},
            threshold=3,
            min_group_size=1,
            n_bootstrap=0,
        )
        gt = audit(
            [1, 2, 3, 4],
            [0, 0, 1, 1],
            {"g": ["a"] * 4},
            threshold=3,
            selected_if="gt",
            min_group_size=1,
            n_bootstrap=0,
        )
        assert ge.group("g", "a").selection_rate == 0.5
        assert gt.group("g", "a").selection_rate == 0.25

    def test_auc_matches_sklearn(self) -> None:
        from sklearn.metrics import roc_auc_score

        rng = np.random.default_rng(1)
        s = rng.integers(0, 5, 300).astype(float)  # many ties
        y = rng.random(300) < 0.3 + 0.1 * s
        res = audit(s, y, {"g": ["x"] * 300}, n_bootstrap=0)
        assert res.group("g", "x").auc == pytest.approx(roc_auc_score(y, s))

    def test_intersections(self) -> None:
        res = audit(
            [5, 4, 3, 2, 1, 0],
            [1, 0, 1, 0, 1, 0],
            {"race": ["a", "a", "b", "b", "a", None], "sex": ["F", "M", "F", "M", "F", "M"]},
            intersections=[("race", "sex")],
            threshold=3,
            min_group_size=1,
            n_bootstrap=0,
        )
        rows = {g.group: g for g in res.groups if g.characteristic == "race x sex"}
        assert set(rows) == {"a & F", "a & M", "b & F", "b & M", "not recorded & M"}
        assert rows["a & F"].n == 2 and rows["a & F"].selection_rate == 0.5
        assert res.characteristics == ("race", "sex", "race x sex")

    def test_explicit_reference_for_intersection(self) -> None:
        res = audit(
            [5, 4, 3, 2],
            [1, 0, 1, 0],
            {"race": ["a", "a", "b", "b"], "sex": ["F", "M", "F", "M"]},
            intersections=[("race", "sex")],
            reference={"race": "b", ("race", "sex"): ("b", "M")},
            min_group_size=1,
            n_bootstrap=0,
        )
        assert res.reference_groups == {"race": "b", "sex": "F", "race x sex": "b & M"}


class TestEdgeCases:
    def test_missing_labels_form_not_recorded_group(self) -> None:
        labels = ["a", None, float("nan"), "", "a", "  ", "b", "a"]
        res = audit(range(8), [0, 1] * 4, {"race": labels}, min_group_size=1, n_bootstrap=0)
        groups = [(g.group, g.n) for g in res.groups]
        assert groups == [("a", 3), ("b", 1), (NOT_RECORDED, 4)]
        assert sum(n for _, n in groups) == 8

    def test_not_recorded_is_not_the_default_reference(self) -> None:
        labels = [None] * 6 + ["a"] * 3 + ["b"] * 2
        res = audit(range(11), [0, 1] * 5 + [0], {"g": labels}, min_group_size=1, n_bootstrap=0)
        assert res.reference_groups == {"g": "a"}

    def test_pandas_missing_values(self) -> None:
        pd = pytest.importorskip("pandas")
        labels = pd.Series(["x", pd.NA, None, "y"], dtype="object")
        res = audit([1, 2, 3, 4], [0, 1, 0, 1], {"g": labels}, min_group_size=1, n_bootstrap=0)
        assert res.group("g", NOT_RECORDED).n == 2

    def test_group_with_one_class(self) -> None:
        res = audit(
            [3, 2, 1, 4, 5, 6],
            [0, 0, 0, 1, 0, 1],
            {"g": ["a"] * 3 + ["b"] * 3},
            threshold=2,
            min_group_size=1,
            n_bootstrap=50,
        )
        a = res.group("g", "a")
        assert math.isnan(a.auc) and math.isnan(a.tpr) and math.isnan(a.fnr)
        assert a.fpr == pytest.approx(2 / 3)
        assert any("AUC" in note for note in a.notes)
        c = res.comparison("g", "b", "auc")  # "a" is the reference
        assert math.isnan(c.difference) and "undefined in reference group a" in c.note

    def test_too_small_groups_are_reported_not_hidden(self) -> None:
        labels = ["big"] * 40 + ["tiny"] * 5
        rng = np.random.default_rng(0)
        res = audit(
            rng.random(45),
            rng.random(45) < 0.5,
            {"g": labels},
            threshold=0.5,
            capacity=10,
            n_bootstrap=20,
        )
        tiny = res.group("g", "tiny")
        assert tiny.too_small and tiny.n == 5
        assert tiny.n_positive is None and tiny.n_selected is None
        assert all(math.isnan(tiny.metric(m)) for m in METRICS)
        assert "too small" in tiny.notes[0]
        c = res.comparison("g", "tiny", "selection_rate")
        assert math.isnan(c.difference) and "fewer than 30" in c.note
        assert c.four_fifths_flag is None
        assert "too small" in res.to_markdown()
        big = res.group("g", "big")
        assert not big.too_small and not math.isnan(big.base_rate)

    def test_capacity_ties_broken_by_input_position(self) -> None:
        first = audit(
            [1, 1, 1, 0],
            [0, 1, 0, 1],
            {"g": ["x", "x", "y", "y"]},
            capacity=2,
            min_group_size=1,
            n_bootstrap=0,
        )
        assert first.group("g", "x").selection_rate_capacity == 1.0
        assert first.group("g", "y").selection_rate_capacity == 0.0
        assert first.capacity_score == 1.0
        assert any("share the boundary score" in note for note in first.notes)
        # same people, reversed order: the tied people now selected are the other ones
        again = audit(
            [0, 1, 1, 1],
            [1, 0, 1, 0],
            {"g": ["y", "y", "x", "x"]},
            capacity=2,
            min_group_size=1,
            n_bootstrap=0,
        )
        assert again.group("g", "x").selection_rate_capacity == 0.5
        # deterministic across runs
        assert (
            first.to_dict()
            == audit(
                [1, 1, 1, 0],
                [0, 1, 0, 1],
                {"g": ["x", "x", "y", "y"]},
                capacity=2,
                min_group_size=1,
                n_bootstrap=0,
            ).to_dict()
        )

    def test_capacity_ties_at_scale(self) -> None:
        # 1,000 people in blocks of 100, scores 1 or 2 with many ties; the top 300 must be
        # exactly the first 300 in order of (-score, input position).
        rng = np.random.default_rng(11)
        scores = rng.integers(1, 3, 1000).astype(float)
        blocks = np.repeat([f"block{i}" for i in range(10)], 100)
        res = audit(
            scores,
            np.arange(1000) % 2,
            {"g": blocks},
            capacity=300,
            min_group_size=1,
            n_bootstrap=0,
        )
        expected = np.zeros(1000, dtype=bool)
        expected[sorted(range(1000), key=lambda i: (-scores[i], i))[:300]] = True
        for i in range(10):
            got = res.group("g", f"block{i}").n_selected_capacity
            assert got == int(expected[i * 100 : (i + 1) * 100].sum())

    def test_capacity_zero_and_everyone(self) -> None:
        none = small(capacity=0)
        assert none.group("g", "A").selection_rate_capacity == 0.0
        assert none.capacity_score is None
        everyone = small(capacity=10)
        assert everyone.group("g", "B").selection_rate_capacity == 1.0

    def test_probabilities_never_guessed(self) -> None:
        res = small()  # scores lie in [0, 1] but no probabilities given
        assert math.isnan(res.group("g", "A").brier)
        assert math.isnan(res.group("g", "A").calibration_in_the_large)
        assert "brier" not in res.metrics
        assert not [c for c in res.comparisons if c.metric == "brier"]
        assert any("No probabilities" in note for note in res.notes)

    def test_no_threshold(self) -> None:
        res = audit(SCORES, OUTCOMES, GROUPS, min_group_size=1, n_bootstrap=0)
        a = res.group("g", "A")
        assert math.isnan(a.tpr) and a.n_selected is None
        assert res.metrics == ("base_rate", "auc")

    def test_boolean_and_float_outcomes(self) -> None:
        as_bool = audit(
            SCORES,
            [bool(v) for v in OUTCOMES],
            GROUPS,
            threshold=0.35,
            min_group_size=1,
            n_bootstrap=0,
        )
        as_float = audit(
            SCORES,
            [float(v) for v in OUTCOMES],
            GROUPS,
            threshold=0.35,
            min_group_size=1,
            n_bootstrap=0,
        )
        assert as_bool.to_dict() == as_float.to_dict()

    def test_small_denominator_note(self) -> None:
        res = small(n_bootstrap=50)
        assert "understates" in res.comparison("g", "B", "tpr").note


class TestErrors:
    def test_mismatched_lengths_names_argument(self) -> None:
        with pytest.raises(ValueError, match=r"outcomes has 3 entries but scores has 4"):
            audit([1, 2, 3, 4], [0, 1, 0], {"g": list("aabb")})
        with pytest.raises(ValueError, match=r"groups\['g'\] has 2 entries"):
            audit([1, 2, 3, 4], [0, 1, 0, 1], {"g": ["a", "b"]})
        with pytest.raises(ValueError, match="probabilities has 2 entries"):
            audit([1, 2, 3, 4], [0, 1, 0, 1], {"g": list("aabb")}, probabilities=[0.1, 0.2])

    def test_message_constant_used(self) -> None:
        expected = _common._MISMATCHED_LENGTHS.format(
            name="outcomes", got=1, other="scores", expected=2
        )
        with pytest.raises(ValueError) as info:
            audit([1, 2], [0], {"g": ["a", "b"]})
        assert str(info.value) == expected

    @pytest.mark.parametrize(
        "outcomes", [[0, 2, 1], [0, 0.5, 1], ["yes", "no", "yes"], [0, float("nan"), 1]]
    )
    def test_non_binary_outcomes(self, outcomes: list[object]) -> None:
        with pytest.raises(ValueError, match="outcomes must be binary"):
            audit([1, 2, 3], outcomes, {"g": list("abc")})

    def test_non_finite_scores(self) -> None:
        with pytest.raises(ValueError, match="scores contains 1 missing"):
            audit([1, float("nan"), 3], [0, 1, 0], {"g": list("abc")})

    def test_probabilities_out_of_range(self) -> None:
        with pytest.raises(ValueError, match="probabilities must lie between 0 and 1"):
            audit([1, 2, 3], [0, 1, 0], {"g": list("abc")}, probabilities=[0.1, 1.2, 0.3])

    def test_bad_settings(self) -> None:
        args = ([1, 2, 3], [0, 1, 0], {"g": list("abc")})
        with pytest.raises(ValueError, match="capacity must be"):
            audit(*args, capacity=4)
        with pytest.raises(ValueError, match="capacity must be"):
            audit(*args, capacity=0.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="selected_if"):
            audit(*args, threshold=1, selected_if="le")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="threshold must be"):
            audit(*args, threshold=float("inf"))
        with pytest.raises(ValueError, match="confidence"):
            audit(*args, confidence=95)
        with pytest.raises(ValueError, match="n_bootstrap"):
            audit(*args, n_bootstrap=-1)
        with pytest.raises(ValueError, match="min_group_size"):
            audit(*args, min_group_size=0)

    def test_bad_groups(self) -> None:
        with pytest.raises(TypeError, match="groups must be a mapping"):
            audit([1, 2], [0, 1], ["a", "b"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="at least one characteristic"):
            audit([1, 2], [0, 1], {})

    def test_unknown_intersection_and_reference(self) -> None:
        args = ([1, 2], [0, 1], {"race": ["a", "b"]})
        with pytest.raises(ValueError, match="names 'sex', which is not a key of groups"):
            audit(*args, intersections=[("race", "sex")])
        with pytest.raises(ValueError, match="at least two"):
            audit(*args, intersections=[("race",)])
        with pytest.raises(ValueError, match="reference names 'sex'"):
            audit(*args, reference={"sex": "F"})
        with pytest.raises(ValueError, match="reference group 'c' for 'race'"):
            audit(*args, reference={"race": "c"})


class TestBootstrap:
    def test_deterministic_for_fixed_seed(self) -> None:
        rng = np.random.default_rng(5)
        s, y = rng.random(200), rng.random(200) < 0.4
        g = {"g": np.where(rng.random(200) < 0.5, "a", "b")}
        one = audit(s, y, g, threshold=0.5, capacity=50, n_bootstrap=200, random_state=3)
        two = audit(s, y, g, threshold=0.5, capacity=50, n_bootstrap=200, random_state=3)
        other = audit(s, y, g, threshold=0.5, capacity=50, n_bootstrap=200, random_state=4)
        assert one.to_dict() == two.to_dict()
        assert (
            one.comparison("g", "b", "fpr").difference_low
            != other.comparison("g", "b", "fpr").difference_low
        )

    def test_chunking_does_not_change_results(self, monkeypatch: pytest.MonkeyPatch) -> None:
        rng = np.random.default_rng(6)
        s, y = rng.random(300), rng.random(300) < 0.4
        g = {"g": np.where(rng.random(300) < 0.5, "a", "b")}
        whole = audit(s, y, g, threshold=0.5, n_bootstrap=100)
        monkeypatch.setattr(audit_module, "_MAX_CELLS", 1000)
        chunked = audit(s, y, g, threshold=0.5, n_bootstrap=100)
        assert whole.to_dict() == chunked.to_dict()

    def test_interval_matches_normal_approximation(self) -> None:
        # two large independent groups: the bootstrap interval of a difference of selection
        # rates should be close to 1.96 * sqrt(p1 q1 / n1 + p2 q2 / n2) each side
        rng = np.random.default_rng(7)
        n1, n2 = 3000, 2000
        s = np.concatenate([rng.random(n1) < 0.3, rng.random(n2) < 0.5]).astype(float)
        y = rng.random(n1 + n2) < 0.5
        labels = ["a"] * n1 + ["b"] * n2
        res = audit(s, y, {"g": labels}, threshold=1, n_bootstrap=2000, random_state=0)
        c = res.comparison("g", "b", "selection_rate")
        p1, p2 = res.group("g", "a").selection_rate, res.group("g", "b").selection_rate
        half = 1.959964 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        assert (c.difference_high - c.difference_low) / 2 == pytest.approx(half, rel=0.1)
        assert c.difference_low < c.difference < c.difference_high

    def test_small_groups_get_wide_intervals(self) -> None:
        # Same population for both groups; the interval for a group of 40 must be far wider
        # than for a group of 1,600 (width ~ 1/sqrt(n): expected ratio around 4).
        widths_small, widths_large = [], []
        for seed in range(5):
            rng = np.random.default_rng(seed)
            n_ref, n_small, n_large = 2000, 40, 1600
            total = n_ref + n_small + n_large
            s = rng.random(total)
            y = rng.random(total) < s
            labels = ["ref"] * n_ref + ["small"] * n_small + ["large"] * n_large
            res = audit(
                s,
                y,
                {"g": labels},
                threshold=0.5,
                reference={"g": "ref"},
                n_bootstrap=300,
                random_state=seed,
            )
            for store, group in ((widths_small, "small"), (widths_large, "large")):
                c = res.comparison("g", group, "selection_rate")
                store.append(c.difference_high - c.difference_low)
        assert all(ws > 2 * wl for ws, wl in zip(widths_small, widths_large, strict=True))
        assert min(widths_small) > 0.2  # a group of 40 can't pin a rate to +-10 points

    def test_no_bootstrap(self) -> None:
        res = small(n_bootstrap=0)
        c = res.comparison("g", "B", "fpr")
        assert math.isnan(c.difference_low) and not math.isnan(c.difference)


class TestExports:
    def test_to_dict_is_json_serialisable_with_none_for_nan(self) -> None:
        res = small(n_bootstrap=20)
        payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
        b = next(g for g in payload["groups"] if g["group"] == "B")
        assert b["brier"] is None
        assert payload["settings"]["threshold"] == 0.35
        assert payload["references"] == {"g": "A"}

    def test_to_frame(self) -> None:
        pytest.importorskip("pandas")
        res = small(n_bootstrap=20)
        groups = res.to_frame()
        assert list(groups["group"]) == ["A", "B"]
        assert groups.loc[1, "fpr"] == pytest.approx(0.25)
        comparisons = res.to_frame("comparisons")
        assert set(comparisons["metric"]) == set(res.metrics)
        with pytest.raises(ValueError):
            res.to_frame("nope")  # type: ignore[arg-type]

    def test_markdown_and_html(self) -> None:
        labels = ["A"] * 5 + ["B <script>"] * 5
        res = audit(
            SCORES,
            OUTCOMES,
            {"g": labels},
            threshold=0.35,
            capacity=3,
            min_group_size=1,
            n_bootstrap=20,
        )
        md = res.to_markdown()
        assert "| g | A (reference) | 5 |" in md
        assert "Four-fifths rule" in md and "FLAG" in md
        page = res.to_html()
        assert page.startswith("<!DOCTYPE html>")
        assert "<script" not in page and "B &lt;script&gt;" in page
        assert "<script" not in md  # labels are escaped in Markdown too
        only_fpr = res.to_markdown(metrics=["fpr"]).split("### Differences")[1]
        assert "| FPR |" in only_fpr and "| PPV |" not in only_fpr

    def test_frozen(self) -> None:
        res = small()
        with pytest.raises(AttributeError):
            res.n = 3  # type: ignore[misc]
        with pytest.raises(AttributeError):
            res.groups[0].tpr = 0.0  # type: ignore[misc]

    def test_wording(self) -> None:
        res = small(n_bootstrap=10, probabilities=SCORES)
        text = (res.to_markdown() + res.to_html()).lower()
        banned = ("un" + "biased", "de" + "bias")  # words the project never uses
        assert not [word for word in banned if word in text]

    def test_logs_but_never_prints(
        self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with caplog.at_level(logging.INFO, logger="iomscore.fairness"):
            small()
        assert "four-fifths" in caplog.text
        out = capsys.readouterr()
        assert out.out == "" and out.err == ""
