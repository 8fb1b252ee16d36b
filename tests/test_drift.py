"""Population drift: PSI invariants (hypothesis), the cut-offs, and ``iomscore drift``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iomscore import cli, synth
from iomscore.cli._common import EXIT_ERROR, EXIT_OK
from iomscore.monitoring import MODERATE, SIGNIFICANT, drift, drift_referrals, psi, psi_level

numbers = st.lists(st.one_of(st.integers(-5, 40).map(float), st.floats(-1e3, 1e3, allow_nan=False),
                             st.just(math.nan)), min_size=1, max_size=80)
labels = st.lists(st.one_of(st.sampled_from(["low", "medium", "high", "very high"]), st.none()), min_size=1, max_size=80)
samples = st.one_of(numbers.map(lambda v: np.asarray(v, dtype=float)), labels.map(lambda v: np.asarray(v, dtype=object)))


@st.composite
def pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    a = draw(samples)
    if a.dtype == object:
        return a, np.asarray(draw(labels), dtype=object)
    return a, np.asarray(draw(numbers), dtype=float)


@given(samples)
def test_identical_distributions_give_zero(a: np.ndarray) -> None:
    assert psi(a, a) == 0.0
    assert psi(a, np.concatenate([a, a])) == pytest.approx(0.0, abs=1e-9)  # same shares, twice the people


@given(pairs())
def test_psi_is_symmetric_and_non_negative(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    assert psi(a, b) == pytest.approx(psi(b, a), rel=1e-9, abs=1e-12)
    assert psi(a, b) >= 0


@given(pairs(), st.randoms(use_true_random=False))
def test_psi_does_not_depend_on_row_order(pair: tuple[np.ndarray, np.ndarray], rnd) -> None:
    a, b = pair
    pa, pb = a.copy(), b.copy()
    rnd.shuffle(pa)
    rnd.shuffle(pb)
    assert psi(pa, pb) == pytest.approx(psi(a, b), rel=1e-9, abs=1e-12)


def test_a_known_value_and_the_cut_offs() -> None:
    # shares 0.8/0.2 against 0.5/0.5: (0.5-0.8) ln(0.5/0.8) + (0.5-0.2) ln(0.5/0.2)
    expected = -0.3 * math.log(0.5 / 0.8) + 0.3 * math.log(0.5 / 0.2)
    assert psi(["a"] * 8 + ["b"] * 2, ["a"] * 5 + ["b"] * 5) == pytest.approx(expected)
    assert (psi_level(MODERATE - 1e-9), psi_level(MODERATE), psi_level(SIGNIFICANT)) == ("stable", "moderate", "significant")
    with pytest.raises(ValueError, match="current sample is empty"):
        psi([1.0], [])


def test_a_shifted_population_is_flagged_by_feature_score_and_band() -> None:
    base = synth.generate(400, 1)
    report = drift_referrals(base, base)
    assert all(r.psi == 0 for r in report.rows) and report.rows[0].name == "band"
    n = base.n  # nobody with an offence in the last 12 months, then everybody with one
    heavy = drift({"offences_12m_at_risk": np.zeros(n)}, {"offences_12m_at_risk": np.ones(n)})
    assert heavy.rows[0].level == "significant" and "1 of 1 variables shifted" in heavy.summary()


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("drift")
    out = {}
    for name, seed in (("may", 1), ("june", 2)):
        refs = d / f"{name}.jsonl"
        synth.write_jsonl(synth.generate(300, seed), refs)
        assert cli.main(["score", str(refs), "-o", str(d / f"{name}-scores.csv")]) == 0
        out[name], out[f"{name}-scores"] = refs, d / f"{name}-scores.csv"
    return out


def test_drift_command_formats(lists, capsys) -> None:
    assert cli.main(["drift", str(lists["may"]), str(lists["june"]), "--format", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in data["rows"]]
    assert names[:2] == ["band", "score"] and "offences_12m_at_risk" in names and "sex" not in names
    assert data["cutoffs"] == {"moderate": 0.1, "significant": 0.25} and data["scorer"]["name"] == "iom-priority"
    assert cli.main(["drift", str(lists["may-scores"]), str(lists["june-scores"])]) == EXIT_OK
    text = capsys.readouterr().out
    assert "band" in text and "PSI" in text and "offences_12m" not in text
    page_path = lists["may"].with_name("drift.html")
    assert cli.main(["drift", str(lists["may"]), str(lists["june"]), "--format", "html", "-o", str(page_path)]) == 0
    page = page_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script" not in page
    assert cli.main(["drift", str(lists["may"]), str(lists["june"]), "--format", "markdown"]) == EXIT_OK
    assert "| variable | kind | PSI |" in capsys.readouterr().out


def test_drift_refuses_mixed_inputs(lists, capsys) -> None:
    assert cli.main(["drift", str(lists["may"]), str(lists["june-scores"])]) == EXIT_ERROR
    assert "compare two referral lists or two score files" in capsys.readouterr().err
