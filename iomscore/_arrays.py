"""Array helpers that stay fast at a million rows.

``np.unique`` is avoided on the batch path: on object arrays it is slow, and on integer arrays
without ``return_inverse`` NumPy 2 takes a hashing route that is slower than sorting when
most values are distinct.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["factorize", "sorted_unique", "unique_inverse", "unique_representatives"]


def unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` for an integer or float array, by one stable sort.

    ``first[k]`` is the index of the first occurrence of the k-th smallest distinct value;
    ``inverse[i]`` is the rank of ``keys[i]`` among the distinct values.

    Examples
    --------
    >>> first, inverse = unique_inverse(np.array([5, 3, 5, 9]))
    >>> first.tolist(), inverse.tolist()
    ([1, 0, 3], [1, 0, 1, 2])
    """
    keys = np.asarray(keys).reshape(-1)
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.empty(keys.size, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    inverse = np.empty(keys.size, dtype=np.int64)
    inverse[order] = group
    return order[new], inverse


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Distinct values of an integer array, sorted."""
    ordered = np.asarray(keys).reshape(-1)
    if ordered.size == 0:
        return ordered
    if not bool((ordered[1:] >= ordered[:-1]).all()):  # input is often already in order
        ordered = np.sort(ordered)
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def factorize(values: Iterable[object]) -> tuple[np.ndarray, list[object]]:
    """Codes by first appearance, and the distinct values, for strings or other hashables.

    Examples
    --------
    >>> codes, uniques = factorize(["b", "a", "b"])
    >>> codes.tolist(), uniques
    ([0, 1, 0], ['b', 'a'])
    """
    table: dict[object, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64)
    return codes, list(table)


def unique_representatives(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(representative, inverse)``: one row index per distinct key, and each row's key rank.

    Small non-negative integer keys (the usual case: bin and value codes) are grouped by a
    lookup table in linear time; other keys by :func:`unique_inverse`. The representative of
    a key is always the same row for the same input (its last occurrence, or its first).
    """
    keys = np.asarray(keys).reshape(-1)
    n = keys.size
    if n == 1:  # one referral: nothing to group (the single-score path)
        return np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    if n and keys.dtype.kind in "iu":
        lo, hi = int(keys.min()), int(keys.max())
        if lo >= 0 and hi < 4 * n + (1 << 16):
            present = np.zeros(hi + 1, dtype=bool)
            present[keys] = True
            ids = np.flatnonzero(present)
            rank = np.zeros(hi + 1, dtype=np.int64)
            rank[ids] = np.arange(ids.size)
            inverse = rank[keys]
            representative = np.empty(ids.size, dtype=np.int64)
            representative[inverse] = np.arange(n)
            return representative, inverse
    return unique_inverse(keys)
