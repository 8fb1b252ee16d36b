"""Tests of iomscore.fairness.proxy_check."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from iomscore.fairness import DEFAULT_AUC_THRESHOLD, NOT_RECORDED, proxy_check


def rows_by_key(result: object) -> dict[tuple[str, str, str], object]:
    return {(r.feature, r.characteristic, r.group): r for r in result.rows}  # type: ignore[attr-defined]


def test_perfect_proxy_is_flagged_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    member = np.array([0] * 50 + [1] * 50)
    labels = np.where(member == 1, "b", "a")
    with caplog.at_level(logging.WARNING, logger="iomscore.fairness"):
        res = proxy_check({"x": member * 3.0 + 1}, {"g": labels})
    rows = rows_by_key(res)
    assert rows[("x", "g", "a")].auc == 1.0  # direction does not matter
    assert rows[("x", "g", "b")].auc == 1.0
    assert rows[("x", "g", "b")].nmi == pytest.approx(1.0)
    assert len(res.flagged) == 2
    assert "proxy check" in caplog.text and "x~g=b" in caplog.text


def test_hand_computed_auc() -> None:
    # members score 3, 1, 4 vs non-members 2, 0, 5 (min_group_size=1):
    # pairs won: 3>2,3>0 (2); 1>0 (1); 4>2,4>0 (2) -> 5 of 9
    res = proxy_check({"x": [3, 1, 4, 2, 0, 5]}, {"g": list("mmmnnn")}, min_group_size=1)
    m = rows_by_key(res)[("x", "g", "m")]
    assert m.auc == pytest.approx(max(5 / 9, 4 / 9))
    assert not m.flagged


def test_direction_invariance_and_independent_noise() -> None:
    rng = np.random.default_rng(0)
    labels = np.where(rng.random(4000) < 0.4, "b", "a")
    signal = (labels == "b") * 0.6 + rng.normal(size=4000)
    noise = rng.normal(size=4000)
    res = proxy_check({"signal": signal, "minus": -signal, "noise": noise}, {"g": labels})
    rows = rows_by_key(res)
    assert rows[("signal", "g", "b")].auc == pytest.approx(rows[("minus", "g", "b")].auc)
    # d = 0.6 -> AUC = Phi(0.6 / sqrt 2) ~ 0.664
    assert rows[("signal", "g", "b")].auc == pytest.approx(0.664, abs=0.02)
    assert rows[("signal", "g", "b")].flagged
    assert rows[("noise", "g", "b")].auc < 0.54
    assert not rows[("noise", "g", "b")].flagged
    assert rows[("noise", "g", "b")].nmi < rows[("signal", "g", "b")].nmi


def test_categorical_feature_and_missing_labels() -> None:
    # charge degree F/M; group b is 80% F, group a 20% F
    degree = ["F"] * 40 + ["M"] * 10 + ["F"] * 10 + ["M"] * 40
    race = ["b"] * 50 + ["a"] * 48 + [None, ""]
    res = proxy_check({"degree": degree}, {"race": race})
    rows = rows_by_key(res)
    b = rows[("degree", "race", "b")]
    # P(F|b) = 0.8, P(F|rest) = 10/50 = 0.2: AUC = 0.8*0.8 + 0.5*(0.8*0.2+0.2*0.2)... exact:
    # pairs (member, non-member): member F beats non-member M: 40*40; ties count half:
    # F-F 40*10, M-M 10*40 -> (1600 + 0.5*(400 + 400)) / 2500 = 0.8
    assert b.auc == pytest.approx(0.8)
    assert rows[("degree", "race", NOT_RECORDED)].n_group == 2
    assert rows[("degree", "race", NOT_RECORDED)].too_small


def test_missing_numeric_values_left_out_with_note() -> None:
    x = [1.0, 2.0, float("nan"), 4.0] * 20
    res = proxy_check({"x": x}, {"g": ["a", "b"] * 40})
    row = rows_by_key(res)[("x", "g", "a")]
    assert row.n == 60 and "20 missing" in row.note


def test_method_nmi_and_threshold() -> None:
    member = np.array([0, 1] * 50)
    res = proxy_check({"x": member}, {"g": member.astype(str)}, method="nmi", threshold=0.5)
    assert res.method == "nmi" and res.threshold == 0.5
    assert all(r.flagged for r in res.rows)
    assert proxy_check({"x": member}, {"g": member.astype(str)}).threshold == DEFAULT_AUC_THRESHOLD


def test_errors() -> None:
    with pytest.raises(ValueError, match="method must be"):
        proxy_check({"x": [1, 2]}, {"g": ["a", "b"]}, method="gini")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold must be"):
        proxy_check({"x": [1, 2]}, {"g": ["a", "b"]}, threshold=0.3)
    with pytest.raises(ValueError, match=r"features\['x'\] has 3 entries"):
        proxy_check({"x": [1, 2, 3]}, {"g": ["a", "b"]})
    with pytest.raises(ValueError, match="n_bins"):
        proxy_check({"x": [1, 2]}, {"g": ["a", "b"]}, n_bins=1)


def test_exports() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"age": np.arange(100), "sex": ["F", "M"] * 50})
    res = proxy_check(frame, {"race": ["a"] * 60 + ["b"] * 40})
    out = res.to_frame()
    assert list(out.columns[:3]) == ["feature", "characteristic", "group"]
    assert len(out) == 4
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert payload["settings"]["method"] == "auc"
    md = res.to_markdown()
    assert "| age | race | a |" in md and "FLAG" in md
    assert "<script" not in res.to_html()
    assert math.isclose(out.loc[0, "auc"], 1.0)
