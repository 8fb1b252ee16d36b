"""Binarisation: the candidate yes/no conditions a points model chooses its items from.

A numeric column gives threshold conditions ``x >= t`` (t is a value seen in the data, so a
condition reads "age 21 or more", never "age >= 20.5"); several chosen thresholds of one column
add up to a step function, which is exactly a table of bins ``[t_i, t_{i+1})``. A categorical
column gives ``x == c`` for each category (one category of a two-category column is left out: it
is the other's complement), and, when enough rows lack a value, ``x not recorded``: "not
recorded" is a level of its own with its own points. Otherwise missing values satisfy no
condition, so they score like the lowest bin of a numeric column and like an unlisted category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ._base import Columns, _factorise

__all__ = ["Condition", "ConditionSet", "binarise"]


@dataclass(frozen=True)
class Condition:
    """One binary condition: ``column >= value`` (numeric), ``column == value`` (categorical) or
    ``column`` not recorded (categorical, ``op="missing"``)."""

    column: int
    feature: str
    op: Literal[">=", "==", "missing"]
    value: Any

    def describe(self) -> str:
        if self.op == ">=":
            v = self.value
            v = int(v) if float(v).is_integer() else v
            return f"{self.feature} >= {v}"
        if self.op == "missing":
            return f"{self.feature} not recorded"
        return f"{self.feature} == {self.value!r}"


@dataclass
class ConditionSet:
    """Candidate conditions and the 0/1 matrix of which rows meet them."""

    conditions: list[Condition]
    matrix: np.ndarray  # (n_samples, n_conditions) float64 of 0/1
    feature_of: np.ndarray  # (n_conditions,) column index


def _weighted_thresholds(
    x: np.ndarray, w: np.ndarray, max_thresholds: int, min_support: float
) -> np.ndarray:
    """Values t seen in the data such that the weight share with x >= t, and x < t, is at least
    ``min_support``; at most ``max_thresholds`` of them, spread by weighted quantile."""
    ok = ~np.isnan(x) & (w > 0)
    if not ok.any():
        return np.empty(0)
    values, inv = np.unique(x[ok], return_inverse=True)
    if len(values) < 2:
        return np.empty(0)
    wv = np.bincount(inv, weights=w[ok], minlength=len(values))
    total = w.sum()
    below = np.cumsum(wv)[:-1] / total  # share strictly below values[1:]
    above = 1.0 - below - (w[~ok].sum() / total)  # share at or above (missing excluded)
    cand = values[1:]
    keep = (below >= min_support) & (above >= min_support)
    cand, below = cand[keep], below[keep]
    if len(cand) > max_thresholds:
        # pick the candidate closest to each of max_thresholds evenly spaced quantiles
        qs = (np.arange(max_thresholds) + 0.5) / max_thresholds
        qs = below.min() + qs * (below.max() - below.min())
        idx = np.unique(np.clip(np.searchsorted(below, qs), 0, len(cand) - 1))
        cand = cand[idx]
    return cand


def binarise(
    cols: Columns,
    weights: np.ndarray,
    *,
    allowed: list[int],
    max_thresholds: int,
    min_support: float,
    missing_high: frozenset[int] = frozenset(),
) -> ConditionSet:
    """Build the candidate conditions from the allowed columns.

    Parameters
    ----------
    cols : Columns
        Typed input columns.
    weights : ndarray of shape (n_samples,)
        Row weights (thresholds and supports are weighted shares, so repeating a row and
        doubling its weight give the same candidates).
    allowed : list of int
        Column indices that may be used.
    max_thresholds : int
        Most thresholds per numeric column.
    min_support : float
        Least weight share on each side of a condition.
    missing_high : frozenset of int
        Numeric columns whose missing values meet every ``>=`` condition (score like the
        highest values): the decreasing features, so that a value not recorded never scores
        more than a recorded one.
    """
    conditions: list[Condition] = []
    blocks: list[np.ndarray] = []
    total = weights.sum()
    for j in allowed:
        col = cols.arrays[j]
        name = cols.names[j]
        if cols.kinds[j] == "numeric":
            ts = _weighted_thresholds(col, weights, max_thresholds, min_support)
            if len(ts):
                with np.errstate(invalid="ignore"):
                    block = (col[:, None] >= ts[None, :]).astype(np.float64)
                if j in missing_high:
                    block[np.isnan(col)] = 1.0
                blocks.append(block)
                conditions.extend(Condition(j, name, ">=", float(t)) for t in ts)
        else:
            codes, cats, _ = _factorise(col, name)
            if len(cats) < 2 and not (codes < 0).any():
                continue
            share = np.bincount(codes[codes >= 0], weights=weights[codes >= 0], minlength=len(cats)) / total
            order = [k for k in range(len(cats)) if min_support <= share[k] <= 1 - min_support]
            if len(cats) == 2 and len(order) == 2 and not (codes < 0).any():
                order = [int(np.argmin(share))]  # the other category is its complement
            if order:
                block = (codes[:, None] == np.asarray(order)[None, :]).astype(np.float64)
                blocks.append(block)
                conditions.extend(Condition(j, name, "==", cats[k]) for k in order)
            missing_share = float(weights[codes < 0].sum() / total) if total > 0 else 0.0
            if min_support <= missing_share <= 1 - min_support and missing_share > 0:
                blocks.append((codes < 0).astype(np.float64)[:, None])
                conditions.append(Condition(j, name, "missing", None))
    matrix = np.hstack(blocks) if blocks else np.zeros((cols.n_samples, 0))
    feature_of = np.array([c.column for c in conditions], dtype=np.int64)
    return ConditionSet(conditions=conditions, matrix=matrix, feature_of=feature_of)
