"""Shared machinery of the learned points models: input columns, points tables, calibration, specs.

Both :class:`~iomscore.learn.PointsClassifier` and :class:`~iomscore.learn.Scorecard` end up as
the same object: for every used feature a *points table* (numeric bins ``[lower, upper)`` or
categories), an integer intercept, and a logistic map from the total to a probability. This
module holds that common representation, evaluates it with vectorised numpy, and turns it into a
:class:`iomscore._spec.PointsSpec`, so that scoring from the exported file gives exactly what the
fitted estimator gives.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
from scipy.special import expit
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..scoring._spec import Band, Bin, Factor, PointsSpec, ProbabilityTable

logger = logging.getLogger(__name__)

Kind = Literal["numeric", "categorical"]

WARN_UNSEEN: Final = (
    "{feature}: {n} categories not seen when fitting, scored with the points for a missing value: {values}"
)
ERR_ONLY_BINARY: Final = (
    "Only binary classification is supported. The type of the target is {y_type}."
)
ERR_Y_NONE: Final = "{name} requires y to be passed, but the target y is None"
ERR_ONE_CLASS: Final = (
    "{name} needs samples of 2 classes in y; got 1 class ({cls!r})."
)
ERR_INFINITE: Final = "Input X contains infinity in column {column!r}; use NaN for a missing value."
ERR_BAD_CATEGORY: Final = (
    "column {column!r} is categorical but holds {value!r} of type {type}; categories must be "
    "str, int or bool so that a points spec can compare them with 'equals'."
)
ERR_UNKNOWN_FEATURE: Final = "{param}: unknown feature {feature!r}; the columns are {columns}"
ERR_NOT_NUMERIC: Final = "column {column!r} was numeric when the model was fitted but holds {value!r} now"
ERR_BAD_MONOTONE: Final = (
    "monotone[{feature!r}] = {value!r}: use 'increasing', 'decreasing', +1, -1 or None"
)
ERR_MONOTONE_CATEGORICAL: Final = (
    "monotone constraint on {feature!r}, which is categorical; a constraint needs an order "
    "(levels that all read as numbers or ranges, such as '18-22' or '10 or more', have one)"
)
ERR_NO_FEATURES: Final = "allowed_features leaves no column to learn from"
ERR_SPEC_NAME: Final = "spec name {name!r} must match ^[a-z0-9][a-z0-9_.-]*$"


# --------------------------------------------------------------------------------------------
# Input columns
# --------------------------------------------------------------------------------------------


def _is_dataframe(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "iloc") and hasattr(X, "dtypes")


def _missing_mask(col: np.ndarray) -> np.ndarray:
    """NaN or None in an object or float array, vectorised."""
    if col.dtype.kind == "f":
        return np.isnan(col)
    if col.dtype.kind == "O":
        with np.errstate(invalid="ignore"):
            nan = np.asarray(col != col, dtype=np.bool_)  # noqa: PLR0124 (NaN is the only value unequal to itself)
        none = np.asarray([v is None for v in col.tolist()], dtype=np.bool_)
        return nan | none
    return np.zeros(col.shape[0], dtype=bool)


def _normalise_category(value: Any, column: str) -> str | int | bool:
    """A category as a JSON-able str, int or bool (numpy scalars unwrapped)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, (str, np.str_)):
        return str(value)
    raise ValueError(ERR_BAD_CATEGORY.format(column=column, value=value, type=type(value).__name__))


def _factorise(col: np.ndarray, column: str) -> tuple[np.ndarray, list[str | int | bool], np.ndarray]:
    """Codes into the list of normalised categories (-1 for missing), the categories, missing mask."""
    missing = _missing_mask(col)
    present = col[~missing]
    try:
        uniques, inverse = np.unique(present, return_inverse=True)
    except TypeError:  # mixed types: order by text, still exact per value
        keys = present.astype(str)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        uniques = present[first]
    cats_raw = [_normalise_category(u, column) for u in uniques.tolist()]
    # Normalisation can merge values (e.g. 1 and 1.0): map through a dict of unique categories.
    cats: list[str | int | bool] = []
    index: dict[tuple[str, Any], int] = {}
    remap = np.empty(len(cats_raw), dtype=np.int64)
    for i, c in enumerate(cats_raw):
        key = (type(c).__name__, c)
        if key not in index:
            index[key] = len(cats)
            cats.append(c)
        remap[i] = index[key]
    codes = np.full(col.shape[0], -1, dtype=np.int64)
    codes[~missing] = remap[inverse.ravel()]
    return codes, cats, missing


@dataclass
class Columns:
    """The input as one 1-D array per column: float64 for numeric, object for categorical."""

    names: list[str]
    kinds: list[Kind]
    arrays: list[np.ndarray]
    n_samples: int


def _resolve_features(
    param: str, wanted: Sequence[Any] | None, names: list[str]
) -> list[int] | None:
    if wanted is None:
        return None
    out = []
    for f in wanted:
        if isinstance(f, (int, np.integer)) and not isinstance(f, bool):
            if not 0 <= int(f) < len(names):
                raise ValueError(ERR_UNKNOWN_FEATURE.format(param=param, feature=f, columns=names))
            out.append(int(f))
        elif f in names:
            out.append(names.index(f))
        else:
            raise ValueError(ERR_UNKNOWN_FEATURE.format(param=param, feature=f, columns=names))
    return out


def read_columns(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    categorical_features: Sequence[Any] | None = None,
) -> Columns:
    """Validate ``X`` (numpy array or DataFrame) and split it into typed columns.

    On ``reset`` the column kinds are decided and stored in ``estimator.feature_kinds_``:
    a DataFrame column is numeric if its dtype is numeric (not bool); an array column is numeric
    if it converts to float; ``categorical_features`` forces a column to be categorical.
    """
    frame = X if _is_dataframe(X) else None
    arr = validate_data(estimator, X, reset=reset, dtype=None, ensure_all_finite=False)
    if arr.dtype.kind == "c":  # pragma: no cover - check_array already refuses complex
        raise ValueError("Complex data not supported")
    n, d = arr.shape
    names = (
        [str(c) for c in estimator.feature_names_in_]
        if hasattr(estimator, "feature_names_in_")
        else [f"x{j}" for j in range(d)]
    )
    raw_cols: list[np.ndarray] = []
    for j in range(d):
        if frame is not None:
            raw_cols.append(np.asarray(frame.iloc[:, j].to_numpy()))
        else:
            raw_cols.append(arr[:, j])
    if reset:
        forced = set(_resolve_features("categorical_features", categorical_features, names) or [])
        kinds: list[Kind] = []
        for j, col in enumerate(raw_cols):
            if j in forced or col.dtype.kind == "b":
                kinds.append("categorical")
            elif frame is not None:
                dtype = frame.dtypes.iloc[j]
                numeric = getattr(dtype, "kind", "O") in "iuf"
                kinds.append("numeric" if numeric else "categorical")
            elif col.dtype.kind in "iuf":
                kinds.append("numeric")
            else:
                try:
                    col.astype(np.float64)
                    kinds.append("numeric")
                except ValueError:
                    kinds.append("categorical")
        estimator.feature_kinds_ = kinds
    kinds = list(estimator.feature_kinds_)
    arrays: list[np.ndarray] = []
    for j, (col, kind) in enumerate(zip(raw_cols, kinds)):
        if kind == "numeric":
            try:
                num = col.astype(np.float64)
            except ValueError as exc:
                if reset:
                    raise
                raise ValueError(ERR_NOT_NUMERIC.format(column=names[j], value=col[:3])) from exc
            if np.isinf(num).any():
                raise ValueError(ERR_INFINITE.format(column=names[j]))
            arrays.append(num)
        else:
            arrays.append(np.asarray(col, dtype=object))
    return Columns(names=names, kinds=kinds, arrays=arrays, n_samples=n)


def check_binary_target(estimator: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``classes_`` and y as 0/1 (1 = ``classes_[1]``, the outcome that raises priority)."""
    if y is None:
        raise ValueError(ERR_Y_NONE.format(name=type(estimator).__name__))
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    if y_type not in ("binary",):
        raise ValueError(ERR_ONLY_BINARY.format(y_type=y_type))
    classes, y01 = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(ERR_ONE_CLASS.format(name=type(estimator).__name__, cls=classes[0]))
    return classes, y01.astype(np.float64).ravel()


def resolve_monotone(
    monotone: Any, names: list[str], kinds: list[Kind], ordinal: frozenset[int] = frozenset()
) -> np.ndarray:
    """Monotone constraints as an int array: +1 increasing, -1 decreasing, 0 free.

    ``ordinal``: categorical columns whose levels have an order (ordinal text), which may be
    constrained too."""
    out = np.zeros(len(names), dtype=np.int64)
    if monotone is None:
        return out
    items = monotone.items() if isinstance(monotone, dict) else enumerate(monotone)
    for key, value in items:
        (j,) = _resolve_features("monotone", [key], names) or [0]
        if value in ("increasing", 1, +1, True):
            sign = 1
        elif value in ("decreasing", -1):
            sign = -1
        elif value in (None, 0, "none"):
            sign = 0
        else:
            raise ValueError(ERR_BAD_MONOTONE.format(feature=names[j], value=value))
        if sign and kinds[j] == "categorical" and j not in ordinal:
            raise ValueError(ERR_MONOTONE_CATEGORICAL.format(feature=names[j]))
        out[j] = sign
    return out


# --------------------------------------------------------------------------------------------
# Points tables
# --------------------------------------------------------------------------------------------


@dataclass
class FactorTable:
    """Integer points for one feature.

    Numeric: ``thresholds`` t_1 < ... < t_m cut the line into bins ``[-inf, t_1), [t_1, t_2), ...,
    [t_m, inf)`` with ``points`` of length m + 1. Categorical: ``categories`` with ``points`` of
    the same length. ``missing_points`` is given to NaN/None (and to unseen categories).
    """

    feature: str
    column: int
    kind: Kind
    points: np.ndarray
    thresholds: np.ndarray = field(default_factory=lambda: np.empty(0))
    categories: list[str | int | bool] = field(default_factory=list)
    missing_points: int = 0
    monotone: int = 0
    labels: list[str] = field(default_factory=list)
    reference: int = -1  # categorical: index of the reference category (0 points); -1 none

    def evaluate(self, col: np.ndarray) -> np.ndarray:
        """Points of every row (int64), vectorised."""
        if self.kind == "numeric":
            missing = np.isnan(col)
            idx = np.searchsorted(self.thresholds, np.where(missing, -np.inf, col), side="right")
            pts = self.points[idx]
            return np.where(missing, self.missing_points, pts).astype(np.int64)
        codes, cats, missing = _factorise(col, self.feature)
        lookup = {(type(c).__name__, c): int(p) for c, p in zip(self.categories, self.points)}
        unseen = [c for c in cats if (type(c).__name__, c) not in lookup]
        if unseen:
            logger.warning(WARN_UNSEEN.format(feature=self.feature, values=unseen[:5], n=len(unseen)))
        table = np.array(
            [lookup.get((type(c).__name__, c), self.missing_points) for c in cats] + [self.missing_points],
            dtype=np.int64,
        )
        return table[codes]  # code -1 picks the trailing missing entry

    def shift_to_zero_min(self) -> int:
        """Shift points so the smallest is 0; return the shift to add to the intercept."""
        low = int(min(int(self.points.min()), self.missing_points))
        self.points = self.points - low
        self.missing_points -= low
        return low

    def normalise(self) -> int:
        """Move points into the base points so the table reads as a person scores it; return the
        shift to add to the intercept.

        A categorical factor with a ``reference`` category gets 0 points there (every other row
        is then the step from the most common category, and one step shows as one non-zero
        row); otherwise the smallest points become 0 (numeric bins read upward from 0)."""
        if self.kind == "categorical" and 0 <= self.reference < len(self.points):
            ref = int(self.points[self.reference])
            self.points = self.points - ref
            self.missing_points -= ref
            return ref
        return self.shift_to_zero_min()


def total_points(tables: Sequence[FactorTable], intercept: int, cols: Columns) -> np.ndarray:
    total = np.full(cols.n_samples, intercept, dtype=np.int64)
    for t in tables:
        total += t.evaluate(cols.arrays[t.column])
    return total


# --------------------------------------------------------------------------------------------
# Calibration: a two-parameter logistic map from total points to a probability
# --------------------------------------------------------------------------------------------


def logistic_loss(margin: np.ndarray, w1: np.ndarray, w0: np.ndarray) -> float:
    return float(w1 @ np.logaddexp(0.0, -margin) + w0 @ np.logaddexp(0.0, margin))


def fit_logit_1d(
    s: np.ndarray, w1: np.ndarray, w0: np.ndarray, *, ridge: float = 1e-6, iters: int = 50
) -> tuple[float, float, float]:
    """Maximum-likelihood ``(a, b)`` of P(y=1) = expit(a*s + b) and its loss; weights per row."""
    s = np.asarray(s, dtype=np.float64)
    uniq, inv = np.unique(s, return_inverse=True)
    W1 = np.bincount(inv, weights=w1, minlength=len(uniq))
    W0 = np.bincount(inv, weights=w0, minlength=len(uniq))
    total = W1.sum() + W0.sum()
    b = math.log((W1.sum() + 0.5) / (W0.sum() + 0.5))
    a = 0.0
    if len(uniq) == 1:
        return 1.0, b - uniq[0], logistic_loss(np.full(len(uniq), b), W1, W0)
    centre = float((uniq * (W1 + W0)).sum() / total)
    u = uniq - centre
    lam = ridge * total
    for _ in range(iters):
        m = a * u + b
        p = expit(m)
        r = (W1 + W0) * p - W1
        h = (W1 + W0) * p * (1 - p)
        g = np.array([r @ u + lam * a, r.sum()])
        H = np.array([[h @ (u * u) + lam, h @ u], [h @ u, h.sum() + 1e-12]])
        step = np.linalg.solve(H, g)
        a, b = a - step[0], b - step[1]
        if abs(step).max() < 1e-10:
            break
    if not a > 0:  # no positive association: keep a tiny positive slope so ranks agree
        a = 1e-6
    b = b - a * centre
    return float(a), float(b), logistic_loss(a * uniq + b, W1, W0)


@dataclass
class Calibration:
    """P(outcome | total) = expit(slope * total + offset); ``intercept_shift`` re-centres totals."""

    slope: float
    offset: float


def centre_intercept(raw_totals_slope: float, offset: float) -> int:
    """Integer shift I such that (S + I) > 0 exactly when expit(a*S + b) > 0.5 for integers S."""
    tau = -offset / raw_totals_slope
    return -int(math.floor(tau))


def probability_table(
    min_total: int, max_total: int, cal: Calibration
) -> tuple[np.ndarray, np.ndarray]:
    """Totals min..max and their probabilities, with P > 0.5 exactly when the total is > 0."""
    totals = np.arange(min_total, max_total + 1, dtype=np.int64)
    p = expit(cal.slope * totals + cal.offset)
    p = np.where(totals > 0, np.maximum(p, np.nextafter(0.5, 1.0)), np.minimum(p, 0.5))
    return totals, p


# --------------------------------------------------------------------------------------------
# Fitted-model mixin: decision_function / predict_proba / predict / to_spec
# --------------------------------------------------------------------------------------------


def _fmt(v: float) -> float | int:
    """A threshold as it should appear in JSON: an int when integral, otherwise the float."""
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def factor_name(feature: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]+", "_", feature.lower()).strip("_") or "feature"
    if not base[0].isalpha():
        base = "f_" + base
    name, i = base, 2
    while name in used:
        name, i = f"{base}_{i}", i + 1
    used.add(name)
    return name


def _literal(text: Any) -> str:
    """Text placed in a reason template as it is: braces doubled, so a label or a category such
    as ``"a {b}"`` is printed, never read as a placeholder."""
    return str(text).replace("{", "{{").replace("}", "}}")


def _bin_reason(label: str, lower: Any, upper: Any) -> str:
    label = _literal(label)
    if lower is None and upper is None:
        return f"{label}: {{value}}"
    if lower is None:
        return f"{label} below {upper} ({{value}})"
    if upper is None:
        return f"{label} {lower} or more ({{value}})"
    if isinstance(lower, int) and isinstance(upper, int) and upper == lower + 1:
        return f"{label} {lower} ({{value}})"
    return f"{label} from {lower} to below {upper} ({{value}})"


def build_spec(
    *,
    tables: Sequence[FactorTable],
    intercept: int,
    calibration: Calibration,
    name: str,
    version: str,
    title: str,
    description: str,
    outcome: str,
    probability_key: str,
    provenance: dict[str, Any],
    bands: Sequence[tuple[str, int | None, int | None, str]] | None,
    intercept_reason: str,
    rationale: str,
    feature_labels: Mapping[str, str] | None = None,
) -> PointsSpec:
    """Assemble a validated :class:`PointsSpec` from points tables (no sha256 recorded yet)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise ValueError(ERR_SPEC_NAME.format(name=name))
    used: set[str] = set()
    factors: list[Factor] = []
    for t in tables:
        label = (feature_labels or {}).get(t.feature, t.feature)
        bins: list[Bin] = []
        if t.kind == "numeric":
            edges: list[Any] = [None] + [_fmt(v) for v in t.thresholds] + [None]
            for i, pts in enumerate(t.points):
                lo, hi = edges[i], edges[i + 1]
                bins.append(Bin(lower=lo, upper=hi, points=int(pts), reason=_bin_reason(label, lo, hi)))
        else:
            for c, pts in zip(t.categories, t.points):
                bins.append(Bin(equals=c, points=int(pts), reason=f"{_literal(label)} is {_literal(c)}"))
        monotone = {1: "increasing", -1: "decreasing"}.get(t.monotone)
        factors.append(
            Factor(
                name=factor_name(t.feature, used),
                feature=t.feature,
                label=label,
                bins=tuple(bins),
                missing_points=int(t.missing_points),
                missing_reason="{label}: not recorded",
                monotone=monotone,
                rationale=rationale,
            )
        )
    min_total = intercept + sum(min(int(t.points.min()), t.missing_points) for t in tables)
    max_total = intercept + sum(max(int(t.points.max()), t.missing_points) for t in tables)
    totals, probs = probability_table(min_total, max_total, calibration)
    if bands is None:
        bands = [
            ("lower", None, 1, "Total 0 or less: the outcome is estimated as less likely than not"),
            ("higher", 1, None, "Total above 0: the outcome is estimated as more likely than not"),
        ]
    return PointsSpec(
        name=name,
        version=version,
        title=title,
        description=description,
        intercept=int(intercept),
        intercept_reason=intercept_reason,
        factors=tuple(factors),
        bands=tuple(Band(name=b[0], lower=b[1], upper=b[2], description=b[3]) for b in bands),
        probability=ProbabilityTable(
            outcome=outcome,
            key=probability_key,
            totals=tuple(int(t) for t in totals),
            probabilities=tuple(float(p) for p in probs),
        ),
        provenance=provenance,
    )


class PointsModelMixin:
    """Prediction from ``tables_``, ``intercept_``, ``calibration_`` and ``classes_``."""

    tables_: list[FactorTable]
    intercept_: int
    calibration_: Calibration
    classes_: np.ndarray
    categorical_features: Any

    def _columns(self, X: Any) -> Columns:
        check_is_fitted(self, "tables_")
        return read_columns(self, X, reset=False)

    def decision_function(self, X: Any) -> np.ndarray:
        """Total points of each row (integers as float64); above 0 predicts ``classes_[1]``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        cols = self._columns(X)
        return total_points(self.tables_, self.intercept_, cols).astype(np.float64)

    def _proba_from_totals(self, totals: np.ndarray) -> np.ndarray:
        p = expit(self.calibration_.slope * totals + self.calibration_.offset)
        return np.where(totals > 0, np.maximum(p, np.nextafter(0.5, 1.0)), np.minimum(p, 0.5))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities ``[P(classes_[0]), P(classes_[1])]`` from the probability table.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        p1 = self._proba_from_totals(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` when the total is above 0 (probability above one half)."""
        above = self.decision_function(X) > 0
        return self.classes_[above.astype(np.int64)]

    def probability_for_total(self, total: int | np.ndarray) -> np.ndarray:
        """The probability-table entry for a total (or array of totals)."""
        check_is_fitted(self, "tables_")
        return self._proba_from_totals(np.asarray(total, dtype=np.float64))

    def save_spec(self, path: Any, **kwargs: Any) -> PointsSpec:
        """Write :meth:`to_spec` as hashed JSON to ``path`` and return the hashed spec."""
        from pathlib import Path

        spec = self.to_spec(**kwargs).with_sha256()  # type: ignore[attr-defined]
        Path(path).write_text(spec.to_json(), encoding="utf-8")
        return spec
