"""The MoJ regression cases of the OASys v4 predictors, read once and checked one way.

Shared by tests/scoring/test_ogrs4.py (static predictors, referrals without answers) and
tests/scoring/test_ogrs4_dynamic.py (all six, referrals with answers).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

import iomscore


def read_cases(path: Path) -> list[dict[str, str]]:
    """The 10,000 rows of ``ogrs4/reference-cases.csv``."""
    with path.open(encoding="utf-8", newline="") as fh:
        out = list(csv.DictReader(fh))
    assert len(out) == 10_000
    return out


def calculable_mask(rows: list[dict[str, str]]) -> np.ndarray:
    """Which cases the MoJ service calculates (all but one)."""
    mask = np.array([r["calculable"] == "1" for r in rows])
    assert int((~mask).sum()) == 1
    return mask


def assert_reproduces(scored: iomscore.ScoreBatch, rows: list[dict[str, str]], col: str,
                      calculable: np.ndarray) -> None:
    """Probability within 1e-12, percent and band exactly, and a breakdown that sums to the score."""
    assert (scored.ok == calculable).all()
    ok = calculable
    expected_p = np.array([float(r[f"{col}_probability"]) for r, c in zip(rows, ok) if c])
    expected_pct = np.array([float(r[f"{col}_percent"]) for r, c in zip(rows, ok) if c])
    expected_band = np.array([r[f"{col}_band"].lower() for r, c in zip(rows, ok) if c], dtype=object)
    np.testing.assert_allclose(scored.probabilities["2y"][ok], expected_p, rtol=0, atol=1e-12)
    assert (scored.score[ok] == expected_pct).all()
    assert (scored.band[ok] == expected_band).all()
    np.testing.assert_allclose(scored.part_values[ok].sum(axis=1), scored.score[ok], rtol=0, atol=1e-9)
