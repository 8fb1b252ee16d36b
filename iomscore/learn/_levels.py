"""Categorical columns as a person would score them: levels, rare levels, order, the reference.

A categorical column is read once per fit into :class:`Levels`:

* **not recorded** (NaN/None) is a level of its own when enough rows lack a value; otherwise it
  scores like the reference level;
* **rare levels** (fewer than ``min_rows`` weighted rows, or under ``min_share`` of them) are
  merged into one level, *other*, which is itself merged into the reference level when it is
  still too small;
* the **reference level** is the most common recorded level (ties: the level seen first); the
  fitted table gives it 0 points, so every other row of the table is the step from it;
* **ordinal text** (every level reads as a number or a range: ``"18-22"``, ``"10 or more"``,
  ``"< 5"``, ``"25+"``, ``"under 18"``) is recognised and ordered by the values it names; a
  column whose levels mostly read that way but not all is treated as nominal, with a warning
  that names the levels that did not read.

Nothing here depends on the spelling of a level other than for reading ordinal text, and ties
are broken by the row a level is first seen in, so renaming the levels of a nominal column
changes no fitted point.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from ._base import _factorise

__all__ = ["Levels", "ordinal_key", "read_levels"]

logger = logging.getLogger(__name__)

WARN_NOMINAL: Final = (
    "{feature}: {n_read} of {n} levels read as ordered values (e.g. {example!r}) but {bad} do not, "
    "so the column is treated as nominal (levels grouped by outcome rate, not by order)"
)

_NUM: Final = r"(\d+(?:\.\d+)?)"
_TAIL: Final = r"(?:\s+[a-z]+)*"  # a unit after the value: "years", "months", "offences"
_ABOVE_WORDS: Final = r"(?:or|and)\s+(?:more|over|above|older|greater|higher|up)"
_BELOW_WORDS: Final = r"(?:or|and)\s+(?:less|fewer|under|below|younger|lower)"
_INF: Final = math.inf
_PATTERNS: Final = [
    # (pattern, kind): kind says how the number(s) become (low, high)
    (re.compile(rf"{_NUM}\s*(?:-|to)\s*{_NUM}{_TAIL}"), "range"),
    (re.compile(rf"{_NUM}\s*\+{_TAIL}"), "from"),
    (re.compile(rf"{_NUM}{_TAIL}\s+{_ABOVE_WORDS}{_TAIL}"), "from"),
    (re.compile(rf"(?:>=|at\s+least)\s*{_NUM}{_TAIL}"), "from"),
    (re.compile(rf"(?:>|over|above|more\s+than|greater\s+than|older\s+than)\s*{_NUM}{_TAIL}"), "over"),
    (re.compile(rf"(?:<=|up\s+to|at\s+most)\s*{_NUM}{_TAIL}"), "upto"),
    (re.compile(rf"{_NUM}{_TAIL}\s+{_BELOW_WORDS}{_TAIL}"), "upto"),
    (re.compile(rf"(?:<|under|below|less\s+than|fewer\s+than|younger\s+than)\s*{_NUM}{_TAIL}"), "below"),
    (re.compile(rf"{_NUM}{_TAIL}"), "value"),
    (re.compile(r"(?:none|zero|no)"), "zero"),
]
_TINY: Final = 1e-9


def ordinal_key(text: str) -> tuple[float, float] | None:
    """The values a level names, as ``(low, high)``, or None if it does not read as one.

    Parameters
    ----------
    text : str
        A category as written.

    Returns
    -------
    tuple of (float, float) or None
        The lowest and highest value it names (``-inf``/``inf`` when open; a strict bound such
        as ``"< 5"`` stops just short of 5), or None when the text is not a number or a range.

    Examples
    --------
    >>> from iomscore.learn import ordinal_key
    >>> ordinal_key("18-22"), ordinal_key("10 or more"), ordinal_key("25+"), ordinal_key("5 or fewer")
    ((18.0, 22.0), (10.0, inf), (25.0, inf), (-inf, 5.0))
    >>> ordinal_key("< 5") < ordinal_key("5 or fewer") < ordinal_key("5-9")  # "< 5" stops short of 5
    True
    >>> ordinal_key("Burglary") is None
    True
    """
    s = re.sub(r"\s+", " ", text.strip().lower().replace("\u2013", "-").replace("\u2014", "-").replace("\u2265", ">=")
               .replace("\u2264", "<="))
    for pattern, kind in _PATTERNS:
        m = pattern.fullmatch(s)
        if m is None:
            continue
        if kind == "zero":
            return (0.0, 0.0)
        a = float(m.group(1))
        if kind == "range":
            b = float(m.group(2))
            return (a, b) if a <= b else None
        return {
            "from": (a, _INF),
            "over": (a + _TINY, _INF),
            "upto": (-_INF, a),
            "below": (-_INF, a - _TINY),
            "value": (a, a),
        }[kind]
    return None


def _ordinal_order(cats: list[Any], feature: str) -> np.ndarray | None:
    """Level indices in ascending order if every level is ordinal text, else None (warned when
    most levels read as ordered values but some do not)."""
    if len(cats) < 2 or not all(isinstance(c, str) for c in cats):
        return None
    keys = [ordinal_key(str(c)) for c in cats]
    read = [k for k in keys if k is not None]
    if len(read) == len(keys):
        if len(set(read)) != len(read):  # two spellings of the same values: no single order
            logger.warning(WARN_NOMINAL.format(feature=feature, n_read=len(read), n=len(keys), example=cats[0],
                                               bad="some name the same values"))
            return None
        ordered = sorted(range(len(cats)), key=lambda k: read[k])
        return np.array(ordered, dtype=np.int64)
    if len(read) >= 2 and 2 * len(read) >= len(keys):
        bad = [c for c, k in zip(cats, keys) if k is None]
        example = next(c for c, k in zip(cats, keys) if k is not None)
        shown = ", ".join(repr(b) for b in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        logger.warning(WARN_NOMINAL.format(feature=feature, n_read=len(read), n=len(keys), example=example, bad=shown))
    return None


@dataclass
class Levels:
    """One categorical column read for fitting (see the module docstring).

    ``unit`` maps each level to the group it is scored with (rare levels share the *other*
    unit, or the reference's); ``missing_unit`` is the unit of rows not recorded (its own, or
    the reference's)."""

    feature: str
    categories: list[Any]
    codes: np.ndarray  # per row; -1 = not recorded
    weight: np.ndarray  # weighted rows per level
    first: np.ndarray  # first row of each level (tie-breaks)
    missing_weight: float
    missing_first: int
    ordinal: bool
    order: np.ndarray  # level indices: ascending for ordinal text, else by weight (desc)
    rare: np.ndarray  # per level
    reference: int  # level index (most common recorded level); -1 when nothing is recorded
    unit: np.ndarray  # per level
    missing_unit: int
    n_units: int
    missing_own: bool  # "not recorded" is a level of its own
    other_own: bool  # the merged rare levels form a level of their own

    @property
    def row_unit(self) -> np.ndarray:
        return np.where(self.codes >= 0, self.unit[np.maximum(self.codes, 0)], self.missing_unit)


def read_levels(col: np.ndarray, feature: str, weights: np.ndarray, *, min_rows: float, min_share: float) -> Levels:
    """Read one categorical column: levels, rare levels, ordinal order, reference, units."""
    codes, cats, missing = _factorise(col, feature)
    k = len(cats)
    total = float(weights.sum())
    present = codes >= 0
    weight = np.bincount(codes[present], weights=weights[present], minlength=k).astype(np.float64)
    n = len(codes)
    first = np.full(k, n, dtype=np.int64)
    if present.any():
        np.minimum.at(first, codes[present], np.flatnonzero(present))
    missing_weight = float(weights[missing].sum())
    missing_first = int(np.flatnonzero(missing)[0]) if missing.any() else n
    order = _ordinal_order(cats, feature)
    ordinal = order is not None
    if order is None:
        order = np.lexsort((first, -weight)) if k else np.zeros(0, dtype=np.int64)
    share = weight / total if total > 0 else np.zeros(k)
    reference = int(np.lexsort((first, -weight))[0]) if k and weight.max(initial=0) > 0 else (0 if k else -1)
    unit = np.arange(k, dtype=np.int64)
    rare = (weight < min_rows) | (share < min_share)
    if ordinal:
        rare[:] = False  # an ordered level joins its neighbours through the thresholds instead
    if k:
        rare[reference] = False
    other_w = float(weight[rare].sum())
    other_own = bool(rare.any()) and other_w >= min_rows and (total > 0 and other_w / total >= min_share)
    if rare.any():
        unit[rare] = k if other_own else reference
    missing_own = missing_weight > 0 and missing_weight >= min_rows and (total > 0 and missing_weight / total >= min_share)
    missing_unit = k + 1 if missing_own else max(reference, 0)
    # renumber units densely in order of first appearance of their levels
    used = sorted(set(unit.tolist()) | {missing_unit} if (missing.any() or missing_own) else set(unit.tolist()))
    remap = {u: i for i, u in enumerate(used)}
    unit = np.array([remap[u] for u in unit.tolist()], dtype=np.int64)
    missing_unit = remap.get(missing_unit, remap.get(max(reference, 0), 0))
    return Levels(
        feature=feature, categories=cats, codes=codes, weight=weight, first=first, missing_weight=missing_weight,
        missing_first=missing_first, ordinal=ordinal, order=np.asarray(order, dtype=np.int64), rare=rare,
        reference=reference, unit=unit, missing_unit=missing_unit, n_units=len(used), missing_own=missing_own,
        other_own=other_own,
    )
