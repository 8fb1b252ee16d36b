"""The audit reproduces ProPublica's published COMPAS error rates on the real Broward file.

The file lives outside the repository at ``../shared/data/compas/broward-two-years.csv``
(relative to the project root). In CI it always exists, so a missing file fails the test
when the environment variable ``CI`` is set; locally the test is skipped instead.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from iomscore.fairness import audit

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "compas" / "broward-two-years.csv"

# ProPublica (Angwin et al. 2016), all 7,214 rows, decile_score > 4 = "high", in percent.
PUBLISHED = {
    ("African-American", "fpr"): 44.85,
    ("Caucasian", "fpr"): 23.45,
    ("African-American", "fnr"): 27.99,
    ("Caucasian", "fnr"): 47.72,
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    if not DATA.exists():
        message = f"COMPAS data not found at {DATA} (see ../shared/data/README.md)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with DATA.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def column(rows: list[dict[str, str]], name: str) -> np.ndarray:
    return np.array([row[name] for row in rows])


def test_reproduces_propublica_error_rates(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 7214
    res = audit(
        column(rows, "decile_score").astype(float),
        column(rows, "two_year_recid").astype(int),
        {"race": column(rows, "race")},
        threshold=4,
        selected_if="gt",
        n_bootstrap=0,
    )
    for (race, metric), published in PUBLISHED.items():
        measured = 100 * res.group("race", race).metric(metric)
        assert abs(measured - published) < 0.01, (race, metric, measured, published)


def test_filtered_audit(rows: list[dict[str, str]]) -> None:
    days = np.array([float(v) if v else np.nan for v in column(rows, "days_b_screening_arrest")])
    keep = (
        (days >= -30)
        & (days <= 30)
        & (column(rows, "is_recid").astype(int) != -1)
        & (column(rows, "c_charge_degree") != "O")
        & (column(rows, "score_text") != "N/A")
    )
    assert int(keep.sum()) == 6172
    decile = column(rows, "decile_score").astype(float)[keep]
    y = column(rows, "two_year_recid").astype(int)[keep]
    capacity = round(0.2 * keep.sum())
    res = audit(
        decile,
        y,
        {"race": column(rows, "race")[keep], "sex": column(rows, "sex")[keep]},
        threshold=4,
        selected_if="gt",
        capacity=capacity,
        intersections=[("race", "sex")],
        reference={"race": "Caucasian"},
        n_bootstrap=200,
    )
    black, white = res.group("race", "African-American"), res.group("race", "Caucasian")
    assert (black.n, white.n) == (3175, 2103)
    # the FPR gap on the filtered rows is about 20 points and clearly away from zero
    gap = res.comparison("race", "African-American", "fpr")
    assert 0.15 < gap.difference < 0.25 and gap.difference_low > 0.1
    assert res.comparison("race", "African-American", "selection_rate").four_fifths_flag
    assert res.group("race", "Native American").too_small
    assert (
        sum(g.n_selected_capacity or 0 for g in res.groups if g.characteristic == "sex") == capacity
    )
