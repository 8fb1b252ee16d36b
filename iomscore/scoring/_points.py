"""The points scorer: scores from a declarative :class:`~iomscore.PointsSpec`.

A factor whose value is not recorded (``NaN``) scores the spec's ``missing_points`` and the
row carries a warning naming it. Features counted from the sanction list
(:attr:`iomscore.features.FeatureDef.needs_list`) are not recorded exactly when the history
is given only as a summary; those get their own warning (:data:`SUMMARY_ONLY_WARNING`), so a
summary-only referral is never scored as if it had no offences without saying so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np

from .._arrays import factorize, unique_representatives
from ..features._engine import FEATURES
from ..schema._vocabulary import NOT_RECORDED
from ._result import (
    RENDER_EACH_BELOW,
    ModelIdentity,
    ScoreBatch,
    empty_warnings,
    object_array,
    render_unique,
)
from ._spec import Factor, PointsSpec, load_spec

__all__ = ["SUMMARY_ONLY_WARNING", "PointsScorer"]

_MISSING_FEATURE: Final = "spec {spec!r} reads feature {feature!r}, which the input does not provide"
#: Warning on a row with a category its factor does not list (scored as a missing value).
UNSEEN_WARNING: Final = "a category the spec does not list (scored with the points for a missing value): {labels}"
_UNSEEN_REASON: Final = "{label}: {value}, a category the spec does not list (scored as not recorded)"
_NOT_RECORDED_WARNING: Final = "not recorded (scored with the spec's points for a missing value): {labels}"
#: Warning on a row whose history is given only as a summary, for the factors it cannot give.
#: No semicolons: score files join a row's warnings with "; " and JSON Lines output splits on it.
SUMMARY_ONLY_WARNING: Final = "history given as a summary only: {labels} cannot be counted from it, so {effect}"
#: How a factor's missing points compare with the points a recorded value could score.
_SUMMARY_EFFECT: Final = {
    frozenset({"low"}): "the score may be too low",
    frozenset({"high"}): "the score may be too high",
}
_SUMMARY_EFFECT_EITHER: Final = "the score may be too low or too high"


def _join(labels: list[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"`` (no semicolons: output files join warnings with them)."""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _missing_effect(factor: Factor) -> str:
    """``"low"`` when a recorded value could only score as much or more than a missing one."""
    points = [b.points for b in factor.bins]
    if factor.missing_points <= min(points):
        return "low"
    return "high" if factor.missing_points >= max(points) else "either"


def _format_value(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return NOT_RECORDED
        if float(value).is_integer():
            return str(int(value))
        return f"{float(value):.2f}".rstrip("0").rstrip(".")
    return str(value)


#: Bins below which a factor's bin is counted edge by edge (``searchsorted`` above).
_FEW_EDGES: Final = 8


class _FactorTable:
    """Vectorised lookup of one factor's bin for every row."""

    def __init__(self, factor: Factor) -> None:
        self.factor = factor
        self.points = np.asarray([b.points for b in factor.bins] + [factor.missing_points], dtype=np.int64)
        self.categorical = factor.is_categorical
        #: Reason templates by bin; then the missing value's, then an unlisted category's.
        self.templates = (*[b.reason for b in factor.bins], factor.missing_reason, _UNSEEN_REASON)
        if self.categorical:
            self.categories = {str(b.equals): i for i, b in enumerate(factor.bins)}
            # Numeric columns holding category codes (e.g. 1.0 for "1") match on their integer text.
        else:
            self.edges = np.asarray([b.lower for b in factor.bins[1:]], dtype=np.float64)

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        """Bin of each value; ``len(bins)`` marks a missing value."""
        missing = len(self.factor.bins)
        if not self.categorical:
            v = np.asarray(values, dtype=np.float64)
            if self.edges.size <= _FEW_EDGES:  # (a pass an edge: faster than a search a row)
                idx = np.zeros(v.shape, dtype=np.intp)
                for edge in self.edges.tolist():
                    idx += v >= edge
            else:
                idx = np.searchsorted(self.edges, v, side="right")
            idx[np.isnan(v)] = missing
            return idx
        arr = np.asarray(values)
        if arr.dtype.kind == "f":
            text = np.where(np.isnan(arr), "", np.char.mod("%g", np.nan_to_num(arr)))
        else:
            text = arr.astype(str)
        inverse, uniques = factorize(text.reshape(-1).tolist())
        mapped = np.asarray([self.categories.get(str(u), missing) for u in uniques], dtype=np.int64)
        return mapped[inverse] if inverse.size else np.zeros(0, dtype=np.int64)

    def unseen(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Rows with a recorded category the factor does not list (they score as missing)."""
        out = np.zeros(idx.shape[0], dtype=bool)
        if not self.categorical:
            return out
        arr = np.asarray(values)
        if arr.dtype.kind == "f":
            recorded = ~np.isnan(arr)
        else:
            inverse, uniques = factorize(arr.astype(str).reshape(-1).tolist())
            known = np.asarray([u not in ("", "None", "nan") for u in uniques], dtype=bool)
            recorded = known[inverse] if inverse.size else out
        return recorded & (idx == len(self.factor.bins))


class PointsScorer:
    """Score with a points spec: the sum of each factor's points, then bands and probabilities.

    Parameters
    ----------
    spec : PointsSpec or path
        The spec, or the path of a JSON/TOML spec file (its recorded sha256 and, for a shipped
        name, its pin are checked: :func:`~iomscore.load_spec`).
    allow_unhashed : bool, default False
        Let a spec file that records no sha256 load (you wrote it and know what it holds).

    Examples
    --------
    >>> import numpy as np, iomscore
    >>> scorer = iomscore.get_scorer("iom-priority")
    >>> scorer.name
    'iom-priority'
    >>> batch = scorer.score_features({f: np.zeros(2) for f in scorer.features})
    >>> bool((batch.part_values.sum(axis=1) == batch.score).all())
    True
    """

    def __init__(self, spec: PointsSpec | str | Path, *, allow_unhashed: bool = False) -> None:
        if not isinstance(spec, PointsSpec):
            spec = load_spec(spec, allow_unhashed=allow_unhashed)
        elif spec.sha256 is None:
            spec = spec.with_sha256()
        self.spec = spec
        self.name = spec.name
        self.version = spec.version
        self._tables = [_FactorTable(f) for f in spec.factors]
        self._features = spec.features  # computed by the (frozen) spec on every read
        self._list_only = [f.feature in FEATURES and FEATURES[f.feature].needs_list for f in spec.factors]
        self._effects = [_missing_effect(f) for f in spec.factors]
        self._categorical = [k for k, t in enumerate(self._tables) if t.categorical]
        self._numeric = [k for k, t in enumerate(self._tables) if not t.categorical]
        # Numeric factors' edges as one matrix (NaN-padded: no value is >= NaN), for bins() on
        # a few rows: a value's bin is the number of edges at or below it, as searchsorted gives.
        width = max([self._tables[k].edges.size for k in self._numeric], default=0)
        self._edge_matrix = np.full((len(self._numeric), width), np.nan)
        for row, k in enumerate(self._numeric):
            self._edge_matrix[row, : self._tables[k].edges.size] = self._tables[k].edges
        # Per-spec constants of score_features: every factor's points in one table (a row's
        # points are one lookup at bin index + the factor's offset), missing-bin indices, bands.
        self._points_table = np.concatenate([t.points for t in self._tables] or [np.zeros(0, dtype=np.int64)])
        self._points_offset = np.cumsum([0] + [t.points.size for t in self._tables[:-1]], dtype=np.int64)
        self._missing_bin = np.asarray([len(f.bins) for f in spec.factors], dtype=np.int64)
        self._labels_lower = [f.label.lower() for f in spec.factors]
        self._band_names = np.asarray([b.name for b in spec.bands], dtype=object)
        self._band_cuts = np.asarray([b.lower for b in spec.bands[1:]], dtype=np.float64)
        table = spec.probability
        self._probability = None if table is None else (
            table.key, np.asarray(table.probabilities, dtype=np.float64), np.asarray(table.totals))
        k0 = 1 if spec.intercept != 0 else 0
        self._part_names = ("intercept",) * k0 + tuple(f.name for f in spec.factors)
        self._part_labels = ("Base points",) * k0 + tuple(f.label for f in spec.factors)
        self._identity = ModelIdentity(
            name=spec.name, version=spec.version, sha256=spec.sha256 or spec.compute_sha256(), kind="points"
        )

    def __repr__(self) -> str:
        return f"PointsScorer({self.name!r}, version={self.version!r})"

    @property
    def features(self) -> tuple[str, ...]:
        return self._features

    @property
    def monotone(self) -> Mapping[str, str]:
        out: dict[str, str] = {}
        for f in self.spec.factors:
            if f.monotone is not None:
                if out.get(f.feature, f.monotone) != f.monotone:
                    out.pop(f.feature)
                    continue
                out[f.feature] = f.monotone
        return out

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def _columns(self, features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        cols = {}
        for name in self.features:
            try:
                cols[name] = np.asarray(features[name])
            except KeyError:
                raise KeyError(_MISSING_FEATURE.format(spec=self.name, feature=name)) from None
        return cols

    def bins(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Bin index of every factor for every row (n x factors; a missing value gets ``len(bins)``)."""
        cols = self._columns(features)
        n = np.asarray(cols[self._tables[0].factor.feature]).shape[0] if self._tables else 0
        if n >= RENDER_EACH_BELOW or not self._numeric:
            return np.column_stack([t.bin_index(cols[t.factor.feature]) for t in self._tables])
        # A few rows (a single score): every numeric factor in one comparison, not one call each.
        idx = np.empty((n, len(self._tables)), dtype=np.int64)
        v = np.stack([np.asarray(cols[self._tables[k].factor.feature], dtype=np.float64) for k in self._numeric], axis=1)
        counted = (v[:, :, None] >= self._edge_matrix).sum(axis=2)
        idx[:, self._numeric] = np.where(np.isnan(v), self._missing_bin[self._numeric], counted)
        for k in self._categorical:
            idx[:, k] = self._tables[k].bin_index(cols[self._tables[k].factor.feature])
        return idx

    def points(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Total points of every row (``int64``), exactly as the spec defines them."""
        idx = self.bins(features)
        total = np.full(idx.shape[0], self.spec.intercept, dtype=np.int64)
        for k, t in enumerate(self._tables):
            total += t.points[idx[:, k]]
        return total

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        cols = self._columns(features)
        n = next(iter(cols.values())).shape[0] if cols else 0
        idx = self.bins(cols) if cols else np.zeros((n, 0), dtype=np.int64)
        has_intercept = self.spec.intercept != 0
        k0 = 1 if has_intercept else 0
        values = np.empty((n, len(self._tables) + k0), dtype=np.int64)
        values[:, k0:] = self._points_table[idx + self._points_offset]
        reasons: list[np.ndarray] = []
        if has_intercept:
            values[:, 0] = self.spec.intercept
            reasons.append(np.full(n, self.spec.intercept_reason, dtype=object))
        missing = idx == self._missing_bin
        unseen: np.ndarray | None = None
        for k in self._categorical:
            t = self._tables[k]
            flags = t.unseen(cols[t.factor.feature], idx[:, k])
            if flags.any():
                if unseen is None:
                    unseen = np.zeros(idx.shape, dtype=bool)
                unseen[:, k] = flags
        if unseen is not None:
            missing &= ~unseen
        for k, t in enumerate(self._tables):
            reasons.append(self._reasons(t, idx[:, k], cols[t.factor.feature], None if unseen is None else unseen[:, k]))
        total = values.sum(axis=1)
        warnings = self._missing_warnings(missing) if missing.any() else empty_warnings(n)
        if unseen is not None:
            warnings = self._unseen_warnings(warnings, unseen)
        band = self._band_names[np.searchsorted(self._band_cuts, total, side="right")]
        probabilities: dict[str, np.ndarray] = {}
        if self._probability is not None:
            key, lookup, totals = self._probability
            probabilities[key] = lookup[np.searchsorted(totals, total)]
        return ScoreBatch(
            score=total.astype(np.float64),
            band=band,
            probabilities=probabilities,
            part_names=self._part_names,
            part_labels=self._part_labels,
            part_values=values.astype(np.float64),
            part_reasons=tuple(reasons),
            model=self._identity,
            unit="points",
            baseline_part="intercept" if has_intercept else None,
            warnings=warnings,
            error=None,
        )

    def _missing_warnings(self, flags: np.ndarray) -> np.ndarray:
        """Per row, the warnings about factors whose value was not recorded (``flags``: n x factors).

        Factors on features counted from the sanction list get :data:`SUMMARY_ONLY_WARNING`
        (their value is missing because the history is given only as a summary); any other
        missing factor is listed in the not-recorded warning. Text is built once per distinct
        pattern of missing factors.
        """
        warnings = empty_warnings(flags.shape[0])
        rows = np.flatnonzero(flags.any(axis=1))
        if rows.size == 0:
            return warnings
        weights = np.int64(1) << np.arange(flags.shape[1], dtype=np.int64)
        keys = flags[rows].astype(np.int64) @ weights
        labels = self._labels_lower
        representative, inverse = unique_representatives(keys)
        texts = np.empty(representative.size, dtype=object)
        for i, r in enumerate(representative.tolist()):
            on = flags[rows[r]].tolist()
            summary = [k for k, x in enumerate(on) if x and self._list_only[k]]
            other = [labels[k] for k, x in enumerate(on) if x and not self._list_only[k]]
            row: list[str] = []
            if summary:
                effects = frozenset(self._effects[k] for k in summary)
                row.append(SUMMARY_ONLY_WARNING.format(
                    labels=_join([labels[k] for k in summary]),
                    effect=_SUMMARY_EFFECT.get(effects, _SUMMARY_EFFECT_EITHER),
                ))
            if other:
                row.append(_NOT_RECORDED_WARNING.format(labels=_join(other)))
            texts[i] = tuple(row)
        warnings[rows] = texts[inverse]
        return warnings

    def _unseen_warnings(self, warnings: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """Add :data:`UNSEEN_WARNING` to the rows with unlisted categories (text per pattern)."""
        rows = np.flatnonzero(flags.any(axis=1))
        weights = np.int64(1) << np.arange(flags.shape[1], dtype=np.int64)
        representative, inverse = unique_representatives(flags[rows].astype(np.int64) @ weights)
        labels = self._labels_lower
        texts = np.empty(representative.size, dtype=object)
        for i, r in enumerate(representative.tolist()):
            named = [labels[k] for k, x in enumerate(flags[rows[r]].tolist()) if x]
            texts[i] = (UNSEEN_WARNING.format(labels="; ".join(named)),)
        out = warnings.copy()
        out[rows] = [tuple(w) + t for w, t in zip(warnings[rows].tolist(), texts[inverse].tolist())]
        return out

    def _reasons(self, table: _FactorTable, bin_idx: np.ndarray, values: np.ndarray,
                 unseen: np.ndarray | None = None) -> np.ndarray:
        f = table.factor
        templates = table.templates

        def render(r: int) -> str:
            b = int(bin_idx[r])
            t = len(f.bins) + 1 if unseen is not None and unseen[r] else b
            return templates[t].format(value=_format_value(values[r]), points=int(table.points[b]), label=f.label)

        if bin_idx.shape[0] < RENDER_EACH_BELOW:  # as render_unique would, without building keys
            return object_array([render(r) for r in range(bin_idx.shape[0])])
        if table.categorical:
            keys = bin_idx
            if unseen is not None and unseen.any():  # unlisted categories: one text per value
                codes, _ = factorize(np.asarray(values).astype(str).reshape(-1).tolist())
                keys = np.where(unseen, len(f.bins) + 1 + codes, bin_idx)
        else:
            v = np.asarray(values, dtype=np.float64)
            # Equal (bin, value) pairs share a text; values are rounded to 1/100 for the key.
            cents = np.nan_to_num(np.round(v * 100), nan=-1).astype(np.int64) + 1
            lo = int(cents.min()) if cents.size else 0
            span = int(cents.max()) - lo + 1 if cents.size else 1
            keys = bin_idx.astype(np.int64) * span + (cents - lo)
        return render_unique(keys, render)
