"""Binarisation: the candidate yes/no conditions a points model chooses its items from.

A numeric column gives threshold conditions ``x >= t`` (t is a value seen in the data, so a
condition reads "age 21 or more", never "age >= 20.5"); several chosen thresholds of one column
add up to a step function, which is exactly a table of bins ``[t_i, t_{i+1})``; a missing value
meets none of them (it scores like the lowest bin) unless the column is in ``missing_high``.

A categorical column is first read into levels (:mod:`iomscore.learn._levels`: rare levels
merged into *other*, "not recorded" a level of its own when enough rows lack a value, otherwise
scored like the most common level). Then:

* two levels (after merging) give one condition, the level that is not the most common;
* a nominal column with more levels is ordered by outcome rate and gives the nested groups
  "the levels from rank t up" (points >= 0), each written as its smaller side ("the levels
  below rank t", points <= 0, is the same step): a chosen set of them is a step function over
  the ordered levels, non-decreasing in rate order, so levels of similar risk share a bin and one item can
  cover many levels (a 30-level column does not use the item budget one level at a time);
* an ordinal text column (``"18-22"``, ``"10 or more"``) gives "``level`` or above" in the order
  its levels name (monotone where declared), and "not recorded" its own condition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np

from ._base import Columns
from ._levels import Levels, read_levels

__all__ = ["Condition", "ConditionSet", "binarise"]


@dataclass(frozen=True)
class Condition:
    """One binary condition on a column.

    ``op`` is ``">="`` (numeric, ``value`` the threshold), ``"=="`` (one category), ``"in"``
    (a group of categories of a nominal column), ``"at least"`` (an ordered categorical column:
    ``value`` and every level above it) or ``"missing"`` (not recorded). For a categorical
    condition ``members`` lists the categories that meet it and ``with_missing`` says whether a
    value not recorded does."""

    column: int
    feature: str
    op: Literal[">=", "==", "in", "at least", "missing"]
    value: Any
    members: tuple[Any, ...] = ()
    with_missing: bool = False

    def describe(self) -> str:
        if self.op == ">=":
            v = self.value
            v = int(v) if float(v).is_integer() else v
            return f"{self.feature} >= {v}"
        if self.op == "missing":
            return f"{self.feature} not recorded"
        tail = " (or not recorded)" if self.with_missing else ""
        if self.op == "at least":
            return f"{self.feature} {self.value!r} or above{tail}"
        if self.op == "in":
            shown = ", ".join(repr(m) for m in self.members[:6])
            more = f", ... ({len(self.members)} levels)" if len(self.members) > 6 else ""
            return f"{self.feature} in {{{shown}{more}}}{tail}"
        return f"{self.feature} == {self.value!r}{tail}"


@dataclass
class ConditionSet:
    """Candidate conditions and the 0/1 matrix of which rows meet them."""

    conditions: list[Condition]
    matrix: np.ndarray  # (n_samples, n_conditions) float64 of 0/1
    feature_of: np.ndarray  # (n_conditions,) column index
    sign: np.ndarray  # (n_conditions,) +1 points >= 0, -1 points <= 0, 0 free
    levels: dict[int, Levels] = field(default_factory=dict)  # categorical columns as read


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


_PRIOR_ROWS: Final = 10.0  # pseudo-rows at the overall rate when ordering nominal levels by outcome rate


def _categorical(
    j: int, name: str, lv: Levels, weights: np.ndarray, y01: np.ndarray, *, max_thresholds: int,
    min_support: float, sign: int,
) -> tuple[list[Condition], list[np.ndarray], list[int]]:
    """Candidate conditions of one categorical column (see :func:`binarise`)."""
    conds: list[Condition] = []
    blocks: list[np.ndarray] = []
    signs: list[int] = []
    cats = lv.categories
    k = len(cats)
    total = float(weights.sum())
    if lv.ordinal:
        rank = np.empty(k, dtype=np.float64)
        rank[lv.order] = np.arange(k, dtype=np.float64)
        # a value not recorded meets the conditions the reference level meets (plus its own step)
        row_rank = np.where(lv.codes >= 0, rank[np.maximum(lv.codes, 0)], rank[lv.reference])
        ts = _weighted_thresholds(row_rank, weights, max_thresholds, min_support)
        for t in ts:
            members = tuple(cats[i] for i in lv.order[int(t):])
            conds.append(Condition(j, name, "at least", cats[lv.order[int(t)]], members,
                                   bool(rank[lv.reference] >= t)))
            signs.append(sign)
        if len(ts):
            blocks.append((row_rank[:, None] >= ts[None, :]).astype(np.float64))
        if lv.missing_own and min_support <= lv.missing_weight / total <= 1 - min_support:
            conds.append(Condition(j, name, "missing", None, (), True))
            blocks.append((lv.codes < 0).astype(np.float64)[:, None])
            signs.append(0)
        return conds, blocks, signs
    row_unit = lv.row_unit
    n_units = lv.n_units
    if n_units < 2:
        return conds, blocks, signs
    uw = np.bincount(row_unit, weights=weights, minlength=n_units)
    if n_units == 2:
        # one condition: the unit other than the reference's (the other is its complement)
        ref_unit = int(lv.unit[lv.reference]) if lv.reference >= 0 else lv.missing_unit
        chosen = [[1 - ref_unit]]
        frees = [0]
    else:
        # order the units by (smoothed) outcome rate; a condition is "the units from rank t up",
        # so one item groups many levels and the steps are non-negative in rate order
        uy = np.bincount(row_unit, weights=weights * y01, minlength=n_units)
        rate = (uy + _PRIOR_ROWS * (uy.sum() / max(total, 1e-12))) / (uw + _PRIOR_ROWS)
        first = np.full(n_units, len(row_unit), dtype=np.int64)
        np.minimum.at(first, row_unit, np.arange(len(row_unit)))
        order = np.lexsort((first, rate))
        urank = np.empty(n_units, dtype=np.float64)
        urank[order] = np.arange(n_units, dtype=np.float64)
        ts = _weighted_thresholds(urank[row_unit], weights, max_thresholds, min_support)
        # each group is written as its smaller side ("rank from t up" with points >= 0, or "below
        # t" with points <= 0: the same step), since the screening step judges small groups better
        up_share = np.array([uw[order[int(t):]].sum() for t in ts]) / max(total, 1e-12)
        chosen = [[int(u) for u in (order[int(t):] if sh <= 0.5 else order[: int(t)])] for t, sh in zip(ts, up_share)]
        frees = [1 if sh <= 0.5 else -1 for sh in up_share]
    for i_group, us in enumerate(chosen):
        free = frees[i_group] if n_units > 2 else 0
        inside = np.isin(row_unit, us)
        share = float(weights[inside].sum() / total) if total > 0 else 0.0
        if not min_support <= share <= 1 - min_support:
            continue
        member_idx = [i for i in range(k) if int(lv.unit[i]) in us]
        members = tuple(cats[i] for i in sorted(member_idx, key=lambda i: (-lv.weight[i], lv.first[i])))
        with_missing = lv.missing_unit in us
        if not members:
            op: Any = "missing"
        elif len(members) == 1 and not with_missing:
            op = "=="
        else:
            op = "in"
        conds.append(Condition(j, name, op, members[0] if op == "==" else None, members, with_missing))
        blocks.append(inside.astype(np.float64)[:, None])
        signs.append(free)
    return conds, blocks, signs


def binarise(
    cols: Columns,
    weights: np.ndarray,
    *,
    allowed: list[int],
    max_thresholds: int,
    min_support: float,
    missing_high: frozenset[int] = frozenset(),
    y01: np.ndarray | None = None,
    signs: np.ndarray | None = None,
    levels: dict[int, Levels] | None = None,
    min_level_rows: float = 0.0,
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
        Most thresholds per numeric column (and per ordered categorical column).
    min_support : float
        Least weight share on each side of a condition.
    missing_high : frozenset of int
        Numeric columns whose missing values meet every ``>=`` condition (score like the
        highest values): the decreasing features, so that a value not recorded never scores
        more than a recorded one.
    y01 : ndarray of shape (n_samples,), optional
        The outcome as 0/1: nominal levels are ordered by their outcome rate.
    signs : ndarray of int, optional
        Monotone sign of each column (+1 increasing, -1 decreasing, 0 free).
    levels : dict of int to Levels, optional
        Categorical columns already read (:func:`iomscore.learn._levels.read_levels`); others
        are read here.
    min_level_rows : float
        Least weighted rows of a category of its own (rarer ones are merged into *other*).

    Notes
    -----
    A numeric column gives ``x >= t`` at values seen in the data. A categorical column is read
    into levels (rare levels merged, "not recorded" a level of its own when common enough, see
    :mod:`iomscore.learn._levels`); then an *ordinal text* column gives "``level`` or above" at
    each level (in the order the levels name), a two-level column gives one condition (the
    level other than the most common, which is its complement), and a nominal column gives the
    groups "levels from rank t up" with the levels ordered by their outcome rate, so a chosen
    set of conditions groups the levels into bins of equal points.
    """
    conditions: list[Condition] = []
    blocks: list[np.ndarray] = []
    sign_list: list[int] = []
    col_signs = np.zeros(len(cols.names), dtype=np.int64) if signs is None else signs
    y = np.zeros(cols.n_samples) if y01 is None else y01
    read: dict[int, Levels] = dict(levels or {})
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
                sign_list.extend([int(col_signs[j])] * len(ts))
        else:
            if j not in read:
                read[j] = read_levels(col, name, weights, min_rows=min_level_rows, min_share=min_support)
            conds, bl, sg = _categorical(j, name, read[j], weights, y, max_thresholds=max_thresholds,
                                         min_support=min_support, sign=int(col_signs[j]))
            conditions.extend(conds)
            blocks.extend(bl)
            sign_list.extend(sg)
    matrix = np.hstack(blocks) if blocks else np.zeros((cols.n_samples, 0))
    feature_of = np.array([c.column for c in conditions], dtype=np.int64)
    return ConditionSet(conditions=conditions, matrix=matrix, feature_of=feature_of,
                        sign=np.array(sign_list, dtype=np.int64), levels=read)
