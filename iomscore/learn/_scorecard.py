"""A logistic scorecard: monotone binning, logistic regression on weights of evidence, points
scaled by points to double the odds (PDO).

The classic credit-scoring recipe (Siddiqi, "Credit Risk Scorecards", Wiley 2006; Thomas,
Edelman & Crook, "Credit Scoring and its Applications", SIAM 2002), turned so that **higher
points mean higher priority** (higher odds of the outcome):

1. each numeric feature is cut into quantile pre-bins, merged by the pool-adjacent-violators
   algorithm until the outcome rate is monotone (direction given, or the sign of the trend), then
   merged further until every bin holds ``min_bin_fraction`` of the rows and there are at most
   ``max_bins``; each category of a categorical feature is its own bin, except that categories
   with fewer than ``min_bin_rows`` rows are pooled into one bin, *other* (average points when
   it is still too small), and a column whose levels all read as ordered values (``"18-22"``,
   ``"10 or more"``) is listed in that order and, with a declared direction, merged by
   pool-adjacent-violators like a numeric feature;
2. each bin gets its weight of evidence ``WoE = ln(share of outcomes / share of non-outcomes)``
   (with +0.5 smoothing), so a riskier bin has a larger WoE;
3. a logistic regression on the WoE columns gives a coefficient per feature (features whose
   coefficient is not positive are dropped and the regression refitted, so monotone bins stay
   monotone in points);
4. points per bin are ``round(pdo / ln 2 * coefficient * WoE)``: ``pdo`` points double the odds;
5. the probability for every total is a logistic map refitted on the training totals; a
   categorical factor gives its most common category 0 points (a numeric factor its smallest
   bin), the difference moved into the base points.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..scoring._spec import PointsSpec
from ._base import (
    Calibration,
    FactorTable,
    PointsModelMixin,
    _resolve_features,
    build_spec,
    centre_intercept,
    check_binary_target,
    fit_logit_1d,
    read_columns,
    resolve_monotone,
)
from ._conditions import _weighted_thresholds
from ._levels import Levels, read_levels
from ._points import _jsonable

logger = logging.getLogger(__name__)

ERR_PDO: Final = "pdo must be a positive number of points; got {value!r}"
ERR_MAX_BINS: Final = "max_bins must be an integer >= 2; got {value!r}"
ERR_FRACTION: Final = "min_bin_fraction must be in (0, 0.5]; got {value!r}"
ERR_MAX_FEATURES: Final = "max_features must be None or an integer >= 1; got {value!r}"
ERR_MIN_ROWS: Final = "min_bin_rows must be an integer >= 0; got {value!r}"
ERR_C: Final = "C must be a positive number; got {value!r}"
ERR_EMPTY: Final = "the fitted scorecard uses no feature, so there is no points table to export"

_SMOOTH: Final = 0.5


def _pava(rate: np.ndarray, weight: np.ndarray, increasing: bool) -> np.ndarray:
    """Block label of each bin after pool-adjacent-violators (monotone weighted means)."""
    sign = 1.0 if increasing else -1.0
    means: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for r, w in zip(rate * sign, weight):
        means.append(float(r))
        weights.append(float(w))
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            w2 = weights[-2] + weights[-1]
            m2 = (means[-2] * weights[-2] + means[-1] * weights[-1]) / w2 if w2 > 0 else means[-1]
            s2 = sizes[-2] + sizes[-1]
            means[-2:], weights[-2:], sizes[-2:] = [m2], [w2], [s2]
    return np.repeat(np.arange(len(sizes)), sizes)


def _monotone_bins(
    x: np.ndarray,
    w1: np.ndarray,
    w0: np.ndarray,
    direction: int,
    *,
    max_bins: int,
    min_fraction: float,
    max_prebins: int,
) -> np.ndarray:
    """Thresholds of the final bins of one numeric feature (loop over bins, not rows)."""
    w = w1 + w0
    cuts = _weighted_thresholds(x, w, max_prebins, min_fraction / 2)
    ok = ~np.isnan(x)
    idx = np.searchsorted(cuts, x[ok], side="right")
    e = np.bincount(idx, weights=w1[ok], minlength=len(cuts) + 1)
    n = np.bincount(idx, weights=w0[ok], minlength=len(cuts) + 1)
    edges = list(cuts)
    ev, nv = list(e), list(n)

    def merge(i: int) -> None:  # merge bin i with bin i + 1
        ev[i] += ev.pop(i + 1)
        nv[i] += nv.pop(i + 1)
        edges.pop(i)

    if direction != 0 and len(ev) > 1:
        rate = np.array(ev) / np.maximum(np.array(ev) + np.array(nv), 1e-12)
        blocks = _pava(rate, np.array(ev) + np.array(nv), direction > 0)
        for i in range(len(blocks) - 1, 0, -1):
            if blocks[i] == blocks[i - 1]:
                merge(i - 1)
    total = float(w.sum())

    def rates() -> np.ndarray:
        return np.array(ev) / np.maximum(np.array(ev) + np.array(nv), 1e-12)

    while len(ev) > 1:
        sizes = (np.array(ev) + np.array(nv)) / total
        small = np.flatnonzero(sizes < min_fraction)
        if len(ev) <= max_bins and not len(small):
            break
        r = rates()
        if len(small):
            i = int(small[np.argmin(sizes[small])])
            if i == 0:
                merge(0)
            elif i == len(ev) - 1:
                merge(i - 1)
            else:
                merge(i - 1 if abs(r[i] - r[i - 1]) <= abs(r[i] - r[i + 1]) else i)
        else:
            merge(int(np.argmin(np.abs(np.diff(r)))))
    return np.array(edges, dtype=np.float64)


def _woe(e: np.ndarray, n: np.ndarray, E: float, N: float) -> np.ndarray:
    return np.log((e + _SMOOTH) / (E + _SMOOTH)) - np.log((n + _SMOOTH) / (N + _SMOOTH))


def _categorical_woe(
    lv: Levels, w1: np.ndarray, w0: np.ndarray, E: float, N: float, rows_min: float, direction: int
) -> np.ndarray:
    """WoE of each category: rare categories (fewer than ``rows_min`` rows) pooled into one
    level, *other*, which gets the average (0) when it is still too small; an ordinal text
    column with a declared direction is merged by pool-adjacent-violators over its order."""
    k = len(lv.categories)
    present = lv.codes >= 0
    e = np.bincount(lv.codes[present], weights=w1[present], minlength=k)
    n = np.bincount(lv.codes[present], weights=w0[present], minlength=k)
    if lv.ordinal and direction != 0:
        order = lv.order
        blocks = _pava(e[order] / np.maximum(e[order] + n[order], 1e-12), e[order] + n[order], direction > 0)
        be = np.bincount(blocks, weights=e[order])
        bn = np.bincount(blocks, weights=n[order])
        woe_block = _woe(be, bn, E, N)
        woe_block = np.maximum.accumulate(woe_block) if direction > 0 else np.minimum.accumulate(woe_block)
        out = np.empty(k)
        out[order] = woe_block[blocks]
        return out
    woe = np.where(e + n >= rows_min, _woe(e, n, E, N), 0.0)
    rare = (e + n) < rows_min
    if rare.any() and float(e[rare].sum() + n[rare].sum()) >= rows_min:
        woe[rare] = float(_woe(e[rare].sum(), n[rare].sum(), E, N))
    return woe


class Scorecard(PointsModelMixin, ClassifierMixin, BaseEstimator):
    """Logistic scorecard with monotone bins and points to double the odds.

    Parameters
    ----------
    pdo : float, default=20
        Points to double the odds of the outcome (higher points = higher priority).
    max_bins : int, default=5
        Most bins per numeric feature.
    min_bin_fraction : float, default=0.05
        Least share of the (weighted) rows in a numeric bin.
    monotone : dict or None, default=None
        ``{feature: "increasing" | "decreasing" | None}``; a numeric feature not listed gets the
        direction of its outcome trend ("auto"); ``None`` leaves it unconstrained.
    allowed_features : sequence of str or int, or None, default=None
        Columns that may be used.
    categorical_features : sequence of str or int, or None, default=None
        Columns to treat as categories even if numeric.
    C : float, default=1.0
        Inverse L2 regularisation of the logistic regression on the WoE columns.
    max_prebins : int, default=20
        Quantile pre-bins per numeric feature before merging.
    max_features : int or None, default=None
        Most factors: features are dropped one at a time, the one with the smallest spread of
        log-odds (coefficient times the standard deviation of its WoE) first, and the regression
        refitted, until at most this many remain.
    min_bin_rows : int, default=30
        Least (weighted) rows behind any points: categories with fewer rows are pooled into one
        level, *other*, and that level, or the missing values of a feature, with fewer rows gets
        the average (WoE 0) instead of points set from a handful of people.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    tables_ : list of FactorTable
        Points per feature.
    intercept_ : int
        Base points; a total above 0 means the outcome is more likely than not.
    calibration_ : Calibration
        P(classes_[1] | total) = expit(slope * total + offset).
    coef_ : dict of str to float
        Logistic coefficient of each used feature's WoE.
    effective_pdo_ : float
        Points that double the odds in the refitted probability table (close to ``pdo``).

    Examples
    --------
    >>> import numpy as np
    >>> from iomscore.learn import Scorecard
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 10, size=(500, 2))
    >>> y = (X[:, 0] + rng.normal(0, 2, 500) > 5).astype(int)
    >>> card = Scorecard(pdo=10).fit(X, y)
    >>> [t.feature for t in card.tables_][:1]
    ['x0']
    >>> card.to_spec(name="toy-card").factors[0].monotone
    'increasing'
    """

    def __init__(
        self,
        *,
        pdo: float = 20.0,
        max_bins: int = 5,
        min_bin_fraction: float = 0.05,
        monotone: dict[Any, Any] | None = None,
        allowed_features: Sequence[Any] | None = None,
        categorical_features: Sequence[Any] | None = None,
        C: float = 1.0,
        max_prebins: int = 20,
        max_features: int | None = None,
        min_bin_rows: int = 30,
    ) -> None:
        self.pdo = pdo
        self.max_bins = max_bins
        self.min_bin_fraction = min_bin_fraction
        self.monotone = monotone
        self.allowed_features = allowed_features
        self.categorical_features = categorical_features
        self.C = C
        self.max_prebins = max_prebins
        self.max_features = max_features
        self.min_bin_rows = min_bin_rows

    def _check_params(self) -> None:
        if not isinstance(self.pdo, (int, float)) or isinstance(self.pdo, bool) or not self.pdo > 0:
            raise ValueError(ERR_PDO.format(value=self.pdo))
        if not isinstance(self.max_bins, (int, np.integer)) or self.max_bins < 2:
            raise ValueError(ERR_MAX_BINS.format(value=self.max_bins))
        if not isinstance(self.min_bin_fraction, (int, float)) or not 0 < self.min_bin_fraction <= 0.5:
            raise ValueError(ERR_FRACTION.format(value=self.min_bin_fraction))
        if not isinstance(self.C, (int, float)) or not self.C > 0:
            raise ValueError(ERR_C.format(value=self.C))
        if self.max_features is not None and (
            not isinstance(self.max_features, (int, np.integer)) or isinstance(self.max_features, bool)
            or self.max_features < 1
        ):
            raise ValueError(ERR_MAX_FEATURES.format(value=self.max_features))
        if not isinstance(self.min_bin_rows, (int, np.integer)) or isinstance(self.min_bin_rows, bool) or self.min_bin_rows < 0:
            raise ValueError(ERR_MIN_ROWS.format(value=self.min_bin_rows))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Scorecard:
        """Bin, weigh and scale.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : Scorecard
        """
        self._check_params()
        cols = read_columns(self, X, reset=True, categorical_features=self.categorical_features)
        self.classes_, y01 = check_binary_target(self, y)
        w = _check_sample_weight(sample_weight, np.empty((cols.n_samples, 0)), dtype=np.float64)
        w1, w0 = w * y01, w * (1 - y01)
        E, N = float(w1.sum()), float(w0.sum())
        allowed = _resolve_features("allowed_features", self.allowed_features, cols.names)
        allowed = list(range(len(cols.names))) if allowed is None else allowed
        rows_min = max(float(self.min_bin_rows), 1e-12)
        levels = {j: read_levels(cols.arrays[j], cols.names[j], w, min_rows=rows_min, min_share=0.0)
                  for j in allowed if cols.kinds[j] == "categorical"}
        explicit = resolve_monotone(self.monotone, cols.names, cols.kinds,
                                    frozenset(j for j, lv in levels.items() if lv.ordinal))
        listed = set()
        if self.monotone:
            listed = set(_resolve_features("monotone", list(self.monotone), cols.names) or [])
        tables: list[FactorTable] = []
        woe_cols: list[np.ndarray] = []
        for j in allowed:
            col = cols.arrays[j]
            if cols.kinds[j] == "numeric":
                direction = int(explicit[j])
                if j not in listed:  # auto: the sign of the weighted trend
                    ok = ~np.isnan(col) & (w > 0)
                    if ok.sum() > 1 and np.std(col[ok]) > 0:
                        direction = 1 if np.cov(col[ok], y01[ok], aweights=w[ok])[0, 1] >= 0 else -1
                    else:
                        direction = 1
                cuts = _monotone_bins(
                    col, w1, w0, direction,
                    max_bins=int(self.max_bins), min_fraction=float(self.min_bin_fraction),
                    max_prebins=int(self.max_prebins),
                )
                if not len(cuts):
                    continue
                miss = np.isnan(col)
                idx = np.searchsorted(cuts, np.where(miss, -np.inf, col), side="right")
                e = np.bincount(idx[~miss], weights=w1[~miss], minlength=len(cuts) + 1)
                n = np.bincount(idx[~miss], weights=w0[~miss], minlength=len(cuts) + 1)
                woe = _woe(e, n, E, N)
                if direction > 0:
                    woe = np.maximum.accumulate(woe)
                elif direction < 0:
                    woe = np.minimum.accumulate(woe)
                woe_missing = float(_woe(w1[miss].sum(), w0[miss].sum(), E, N)) if w[miss].sum() >= rows_min else 0.0
                tables.append(FactorTable(cols.names[j], j, "numeric", woe, thresholds=cuts, monotone=direction))
                tables[-1].missing_points = woe_missing  # type: ignore[assignment]  # WoE until scaled
                woe_cols.append(np.where(miss, woe_missing, woe[idx]))
            else:
                lv = levels[j]
                codes, cats, miss = lv.codes, lv.categories, lv.codes < 0
                if len(cats) < 2:
                    continue
                woe = _categorical_woe(lv, w1, w0, E, N, rows_min, int(explicit[j]))
                woe_missing = float(_woe(w1[miss].sum(), w0[miss].sum(), E, N)) if w[miss].sum() >= rows_min else 0.0
                order = [int(i) for i in lv.order] if lv.ordinal else list(range(len(cats)))
                tables.append(FactorTable(cols.names[j], j, "categorical", woe[order], categories=[cats[i] for i in order],
                                          monotone=int(explicit[j]) if lv.ordinal else 0,
                                          reference=order.index(lv.reference)))
                tables[-1].missing_points = woe_missing  # type: ignore[assignment]
                woe_cols.append(np.where(miss, woe_missing, np.append(woe, 0.0)[codes]))
        coef: dict[str, float] = {}
        if tables:
            Z = np.column_stack(woe_cols)
            keep = np.arange(len(tables))
            pos = w > 0
            while len(keep):
                lr = LogisticRegression(C=float(self.C), max_iter=1000)
                lr.fit(Z[pos][:, keep], y01[pos], sample_weight=w[pos])
                beta = lr.coef_.ravel()
                if not (beta > 0).all():
                    keep = keep[beta > 0]
                    continue
                if self.max_features is None or len(keep) <= int(self.max_features):
                    break
                spread = beta * Z[pos][:, keep].std(axis=0)
                keep = np.delete(keep, int(np.argmin(spread)))
            if len(keep):
                tables = [tables[i] for i in keep]
                scale = float(self.pdo) / math.log(2.0)
                for t, b in zip(tables, beta):
                    coef[t.feature] = float(b)
                    t.points = np.rint(scale * b * t.points).astype(np.int64)
                    t.missing_points = int(np.rint(scale * b * t.missing_points))
                # a factor whose points are all equal scores nobody differently: drop it
                flat = {id(t) for t in tables if len({*t.points.tolist(), t.missing_points}) == 1}
                for t in tables:
                    if id(t) in flat:
                        coef.pop(t.feature, None)
                tables = [t for t in tables if id(t) not in flat]
            else:
                tables = []
        self.tables_ = tables
        self.coef_ = coef
        raw = np.zeros(cols.n_samples, dtype=np.int64)
        for t in tables:
            raw += t.evaluate(cols.arrays[t.column])
        a, b, _ = fit_logit_1d(raw, w1, w0)
        shift = centre_intercept(a, b)
        intercept = shift
        for t in tables:
            intercept += t.normalise()
        self.intercept_ = int(intercept)
        self.calibration_ = Calibration(slope=a, offset=b - a * shift)
        self.effective_pdo_ = float(math.log(2.0) / a)
        return self

    def to_spec(
        self,
        *,
        name: str = "learned-scorecard",
        version: str = "1.0.0",
        title: str = "Logistic scorecard",
        description: str = "",
        outcome: str = "the outcome (classes_[1])",
        probability_key: str = "p",
        provenance: dict[str, Any] | None = None,
        bands: Sequence[tuple[str, int | None, int | None, str]] | None = None,
        feature_labels: dict[str, str] | None = None,
    ) -> PointsSpec:
        """The scorecard as an ``iomscore.points/1`` spec; see :meth:`PointsClassifier.to_spec`."""
        check_is_fitted(self, "tables_")
        if not self.tables_:
            raise ValueError(ERR_EMPTY)
        prov: dict[str, Any] = {
            "learner": "iomscore.learn.Scorecard",
            "hyperparameters": _jsonable(self.get_params()),
            "woe_coefficients": self.coef_,
            "points_to_double_the_odds": {"requested": float(self.pdo), "effective": self.effective_pdo_},
            "calibration": {"slope": self.calibration_.slope, "offset": self.calibration_.offset},
        }
        prov.update(provenance or {})
        return build_spec(
            tables=self.tables_, intercept=self.intercept_, calibration=self.calibration_,
            name=name, version=version, title=title, description=description, outcome=outcome,
            probability_key=probability_key, provenance=prov, bands=bands,
            intercept_reason="Base points (a total above 0 means the outcome is more likely than not)",
            feature_labels=feature_labels,
            rationale=f"Monotone bins, logistic regression on weights of evidence, {self.pdo:g} points double the odds",
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

