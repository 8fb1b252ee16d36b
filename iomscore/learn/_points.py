"""A learned sparse integer points scorer (in the family of RiskSLIM and FasterRisk).

The algorithm, all in numpy:

1. **Binarise** every allowed column into candidate yes/no conditions (``age >= 21``,
   ``priors_count >= 3``, ``c_charge_degree == 'M'``), see :mod:`iomscore.learn._conditions`.
   Identical rows are merged into weighted groups, so the work grows with the number of distinct
   people-profiles, not with the number of rows.
2. **Beam search over supports** of a sparse logistic regression (Liu, Zhong, Seltzer & Rudin,
   "FasterRisk: Fast and Accurate Interpretable Risk Scores", NeurIPS 2022, section 3.1): from the
   empty model, each step screens every unused condition by a one-step Newton estimate of the loss
   decrease, tries the best few per beam member, fine-tunes each enlarged support by coordinate
   descent, and keeps the ``beam_width`` lowest-loss supports. Sign constraints implement
   monotonicity (all thresholds of an increasing feature get non-negative points).
3. **Star-ray search over multipliers with sequential rounding** (FasterRisk, section 3.3): each
   continuous solution is scaled by a grid of multipliers and rounded one coordinate at a time to
   integers in ``points_range`` (the rounding step uses a quadratic model of the logistic loss
   that profiles out the intercept); the integer solution with the lowest exact loss wins.
4. **Integer coordinate descent** (the local search of RiskSLIM's polishing step; Ustun & Rudin,
   "Learning Optimized Risk Scores", JMLR 20(150), 2019) moves single points by +/-1 while the
   exact loss, with the logistic map from total to probability refitted, goes down.
5. **Calibration**: the probability for every possible total is expit(a * total + b), fitted by
   maximum likelihood on the training totals (the learned multiplier of FasterRisk is 1/a).

Sparsity has two readings (``item``): a *condition* item is one yes/no step with non-zero points;
a *feature* item is one feature with non-zero points (a factor row of the exported table, an
integer step function), with ``max_steps`` bounding the steps of the whole table. The beam
search enforces both budgets: with ``item="feature"``, a support that already uses ``max_items``
features is only extended by conditions on those features.

The fitted model is a points table per feature, written out by :meth:`PointsClassifier.to_spec`
as an ``iomscore.points/1`` spec that scores exactly as :meth:`PointsClassifier.decision_function`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
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
    logistic_loss,
    read_columns,
    resolve_monotone,
)
from ._conditions import Condition, binarise
from ._levels import Levels, read_levels

logger = logging.getLogger(__name__)

ERR_MAX_ITEMS: Final = "max_items must be an integer >= 1; got {value!r}"
ERR_POINTS_RANGE: Final = (
    "points_range must be a pair of integers (low, high) with low <= 0 <= high and low < high; "
    "got {value!r}"
)
ERR_MISSING: Final = "missing must be 'lowest' or 'least_risk'; got {value!r}"
ERR_ITEM: Final = "item must be 'condition' or 'feature'; got {value!r}"
ERR_MAX_STEPS: Final = "max_steps must be None or an integer >= 1; got {value!r}"
ERR_BEAM: Final = "beam_width must be an integer >= 1; got {value!r}"
ERR_THRESHOLDS: Final = "max_thresholds must be an integer >= 1; got {value!r}"
ERR_SUPPORT: Final = "min_support must be a number in [0, 0.5); got {value!r}"
ERR_LEVEL_ROWS: Final = "min_level_rows must be a number >= 0; got {value!r}"
ERR_EMPTY_MODEL: Final = (
    "the fitted model has no point items (no condition improved the fit), so there is no points "
    "table to export"
)

_BETA_BOX: Final = 6.0  # bound on |coefficient| in logit units for the continuous search
_N_MULTIPLIERS: Final = 28
_POLISH_TOP: Final = 3
_REFINE_FACTOR: Final = 2  # children fine-tuned per kept beam member


@dataclass
class _Sparse:
    support: tuple[int, ...]
    beta: dict[int, float]
    b0: float
    margin: np.ndarray
    loss: float


class _Problem:
    """Grouped binary design with weights, bounds, and coordinate-descent primitives."""

    def __init__(
        self, B: np.ndarray, w1: np.ndarray, w0: np.ndarray, lo: np.ndarray, hi: np.ndarray, ridge: float
    ) -> None:
        self.B, self.w1, self.w0 = B, w1, w0
        self.wt = w1 + w0
        self.lo, self.hi = lo, hi
        self.ridge = ridge
        self.rows = [np.flatnonzero(B[:, j]) for j in range(B.shape[1])]
        self.w1_on = B.T @ w1

    def loss(self, margin: np.ndarray) -> float:
        return logistic_loss(margin, self.w1, self.w0)

    def newton_intercept(self, m: _Sparse, steps: int = 1) -> None:
        for _ in range(steps):
            p = expit(m.margin)
            g = self.wt @ p - self.w1.sum()
            h = self.wt @ (p * (1 - p)) + 1e-12
            d = -g / h
            m.b0 += d
            m.margin += d

    def newton_coord(self, m: _Sparse, j: int, steps: int = 1) -> None:
        rows = self.rows[j]
        mm = m.margin[rows]
        wt = self.wt[rows]
        bj = m.beta.get(j, 0.0)
        start = bj
        for _ in range(steps):
            p = expit(mm)
            g = wt @ p - self.w1_on[j] + self.ridge * bj
            h = wt @ (p * (1 - p)) + self.ridge + 1e-12
            new = min(max(bj - g / h, self.lo[j]), self.hi[j])
            mm = mm + (new - bj)
            bj = new
        m.beta[j] = bj
        m.margin[rows] += bj - start

    def cd(self, m: _Sparse, sweeps: int) -> None:
        for _ in range(sweeps):
            self.newton_intercept(m)
            for j in m.support:
                self.newton_coord(m, j)
        m.loss = self.loss(m.margin) + 0.5 * self.ridge * sum(v * v for v in m.beta.values())

    def screen(self, m: _Sparse, n_expand: int, excluded: np.ndarray) -> np.ndarray:
        """Best unused conditions by a one-Newton-step estimate of the loss decrease."""
        p = expit(m.margin)
        r = self.wt * p - self.w1
        hv = self.wt * p * (1 - p)
        g = self.B.T @ r
        h = self.B.T @ hv + self.ridge + 1e-12
        step = np.clip(-g / h, self.lo, self.hi)
        gain = -(g * step + 0.5 * h * step * step)
        gain[excluded] = -np.inf
        gain[list(m.support)] = -np.inf
        order = np.argsort(-gain, kind="stable")[:n_expand]
        return order[np.isfinite(gain[order]) & (gain[order] > 1e-9)]


def _beam_search(
    prob: _Problem,
    k: int,
    beam_width: int,
    excluded: np.ndarray,
    feature_of: np.ndarray,
    max_features: int | None,
    refine: str = "light",
) -> list[_Sparse]:
    """Beam search over supports of at most ``k`` conditions on at most ``max_features`` features.

    Each child (a parent plus one screened condition) gets three Newton steps on the new
    coefficient and one on the intercept; only the ``beam_width`` children kept are fine-tuned by
    full coordinate-descent sweeps (FasterRisk fine-tunes the same way), which keeps the cost per
    step proportional to the beam, not to beam x candidates."""
    g = prob.B.shape[0]
    start = _Sparse((), {}, 0.0, np.zeros(g), 0.0)
    prob.newton_intercept(start, steps=25)
    start.loss = prob.loss(start.margin)
    beam = [start]
    for _ in range(k):
        children: dict[tuple[int, ...], _Sparse] = {}
        for parent in beam:
            blocked = excluded
            if max_features is not None:
                used = np.unique(feature_of[list(parent.support)]) if parent.support else np.empty(0, dtype=np.int64)
                if len(used) >= max_features:
                    blocked = excluded | ~np.isin(feature_of, used)
            for j in prob.screen(parent, beam_width, blocked):
                support = tuple(sorted(parent.support + (int(j),)))
                if support in children:
                    continue
                child = _Sparse(support, dict(parent.beta), parent.b0, parent.margin.copy(), 0.0)
                prob.newton_coord(child, int(j), steps=3)
                if refine == "full":
                    prob.cd(child, sweeps=2)
                else:
                    prob.newton_intercept(child)
                    child.loss = prob.loss(child.margin) + 0.5 * prob.ridge * sum(v * v for v in child.beta.values())
                children[support] = child
        if not children:
            break
        ranked = sorted(children.values(), key=lambda s: (s.loss, s.support))
        if refine != "full":
            ranked = ranked[: _REFINE_FACTOR * beam_width]
            for m in ranked:
                prob.cd(m, sweeps=2)
            ranked.sort(key=lambda s: (s.loss, s.support))
        ranked = ranked[:beam_width]
        if ranked[0].loss >= beam[0].loss - 1e-9 and beam[0].support:
            break
        beam = ranked
    for m in beam:
        prob.cd(m, sweeps=8)
    return sorted(beam, key=lambda s: (s.loss, s.support))


def _round_star_ray(
    prob: _Problem, sol: _Sparse, ilo: np.ndarray, ihi: np.ndarray
) -> list[tuple[float, np.ndarray]]:
    """Integer points for a grid of multipliers (sequential rounding on a quadratic model)."""
    S = np.array(sol.support, dtype=np.int64)
    beta = np.array([sol.beta[j] for j in S])
    keep = np.abs(beta) > 1e-9
    S, beta = S[keep], beta[keep]
    if len(S) == 0:
        return []
    Z = prob.B[:, S]
    p = expit(sol.margin)
    hv = prob.wt * p * (1 - p)
    r = prob.wt * p - prob.w1
    # quadratic model in the item coefficients with the intercept profiled out
    A = np.column_stack([np.ones(len(hv)), Z])
    H = (A * hv[:, None]).T @ A
    grad = A.T @ r
    Hzz = H[1:, 1:] - np.outer(H[1:, 0], H[0, 1:]) / H[0, 0]
    gz = grad[1:] - H[1:, 0] * grad[0] / H[0, 0]
    lo, hi = ilo[S].astype(np.float64), ihi[S].astype(np.float64)
    with np.errstate(divide="ignore"):
        caps = np.where(beta > 0, hi / beta, lo / beta)
    m_max = float(np.min(caps[np.isfinite(caps) & (caps > 0)], initial=np.inf))
    if not np.isfinite(m_max):
        return []
    m_min = min(0.5 / np.abs(beta).max(), m_max)
    mults = np.unique(np.linspace(m_min, m_max, _N_MULTIPLIERS))
    M, k = len(mults), len(S)
    gamma = beta[None, :] * mults[:, None]  # (M, k) continuous points
    cur = gamma.copy()
    done = np.zeros((M, k), dtype=bool)
    for _ in range(k):
        d = (cur - gamma) / mults[:, None]  # deviation in logit units
        gcur = gz[None, :] + d @ Hzz  # (M, k)
        best_cost = np.full(M, np.inf)
        best_j = np.zeros(M, dtype=np.int64)
        best_v = np.zeros(M)
        for cand in (np.floor(gamma), np.ceil(gamma)):
            cand = np.clip(cand, lo[None, :], hi[None, :])
            delta = (cand - cur) / mults[:, None]
            cost = gcur * delta + 0.5 * np.diag(Hzz)[None, :] * delta * delta
            cost[done] = np.inf
            j = np.argmin(cost, axis=1)
            c = cost[np.arange(M), j]
            better = c < best_cost
            best_cost[better] = c[better]
            best_j[better] = j[better]
            best_v[better] = cand[np.arange(M), j][better]
        cur[np.arange(M), best_j] = best_v
        done[np.arange(M), best_j] = True
    q = np.rint(cur).astype(np.int64)
    out = []
    for row in np.unique(q, axis=0):
        if not row.any():
            continue
        full = np.zeros(prob.B.shape[1], dtype=np.int64)
        full[S] = row
        out.append((_exact_loss(prob, full), full))
    return out


def _totals(prob: _Problem, q: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(q)
    return (prob.B[:, nz] @ q[nz]).astype(np.int64) if len(nz) else np.zeros(prob.B.shape[0], dtype=np.int64)


def _loss_of_totals(prob: _Problem, s: np.ndarray) -> float:
    """Exact loss of integer totals per group, with the map total -> probability refitted.

    The groups are first summed per total (a few dozen distinct totals), so a refit costs
    microseconds instead of a pass over every group."""
    idx = s - s.min()
    W1 = np.bincount(idx, weights=prob.w1)
    W0 = np.bincount(idx, weights=prob.w0)
    keep = np.flatnonzero(W1 + W0 > 0)
    t, W1, W0 = keep.astype(np.float64), W1[keep], W0[keep]
    if len(t) == 1:
        return fit_logit_1d(t, W1, W0)[2]
    # Newton on (a, b) of expit(a * (t - centre) + b), 2x2 solved in closed form
    Wt = W1 + W0
    u = t - (t @ Wt) / Wt.sum()
    lam = 1e-6 * Wt.sum()
    a, b = 0.0, math.log((W1.sum() + 0.5) / (W0.sum() + 0.5))
    for _ in range(50):
        p = expit(a * u + b)
        r = Wt * p - W1
        h = Wt * p * (1 - p)
        ga, gb = r @ u + lam * a, r.sum()
        haa, hab, hbb = h @ (u * u) + lam, h @ u, h.sum() + 1e-12
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if max(abs(da), abs(db)) < 1e-10:
            break
    if not a > 0:
        a = 1e-6
    m = a * u + b
    return float(W1 @ np.logaddexp(0.0, -m) + W0 @ np.logaddexp(0.0, m))


def _exact_loss(prob: _Problem, q: np.ndarray) -> float:
    return _loss_of_totals(prob, _totals(prob, q))


def _polish(prob: _Problem, q: np.ndarray, ilo: np.ndarray, ihi: np.ndarray, max_iter: int = 40) -> tuple[float, np.ndarray]:
    """Integer coordinate descent: +/-1 on a used item while the refitted exact loss drops."""
    q = q.copy()
    s = _totals(prob, q)
    best = _loss_of_totals(prob, s)
    col = {int(j): prob.B[:, j].astype(np.int64) for j in np.flatnonzero(q)}
    for _ in range(max_iter):
        moves = []
        for j in np.flatnonzero(q).tolist():
            for step in (-1, 1):
                v = q[j] + step
                if v == 0 or not ilo[j] <= v <= ihi[j]:
                    continue
                moves.append((_loss_of_totals(prob, s + step * col[int(j)]), int(j), int(v)))
        if not moves:
            break
        loss, j, v = min(moves)
        if loss >= best - 1e-9:
            break
        best = loss
        s = s + (v - q[j]) * col[j]
        q[j] = v
    return best, q


class PointsClassifier(PointsModelMixin, ClassifierMixin, BaseEstimator):
    """Learn a sparse table of integer points from outcomes, with a probability for every total.

    Parameters
    ----------
    max_items : int, default=8
        Most point items. What an item is depends on ``item``: with ``"feature"`` (default, the
        readable table) an item is one feature with non-zero points, i.e. one factor of the
        exported table, scored by an integer step function (monotone where ``monotone`` says
        so) with up to ``max_steps`` steps shared among all items; with ``"condition"`` an item
        is one yes/no condition with non-zero points (a *step*: one threshold of a numeric
        feature or one category), and several items on one feature form that feature's bins.
        The default, ``PointsClassifier()``, is a table of at most 8 factors and 16 steps.
    points_range : tuple of int, default=(-5, 5)
        Smallest and largest points an item may carry (``low <= 0 <= high``).
    monotone : dict or None, default=None
        ``{feature: "increasing" | "decreasing"}`` (or +1/-1); the feature's points then never
        go down (up) as its value grows. Numeric features, and categorical columns whose levels
        all read as ordered values (``"18-22"``, ``"10 or more"``: :func:`~iomscore.learn.ordinal_key`).
    allowed_features : sequence of str or int, or None, default=None
        Columns the model may use (names for a DataFrame, else positions); others are ignored.
    categorical_features : sequence of str or int, or None, default=None
        Columns to treat as categories even if numeric (strings and bools always are). A
        category column is read as a person would score it: "not recorded" a level of its own,
        rare categories merged into *other*, nominal levels grouped by outcome rate, ordinal
        text in its order, the most common category 0 points (see ``min_level_rows``).
    max_thresholds : int, default=24
        Most candidate thresholds per numeric feature (values seen in the data, spread by
        quantile).
    min_support : float, default=0.01
        Least share of the (weighted) rows on each side of a candidate condition.
    beam_width : int, default=8
        Supports kept at each step of the beam search; also the number of candidates tried per
        support.
    item : {"feature", "condition"}, default="feature"
        What ``max_items`` counts (see there). ``"feature"`` learns a small step function per
        feature: smooth predictors such as age and prior offences need several steps, which the
        ``"condition"`` reading charges one item each.
    max_steps : int or None, default=None
        Most steps (yes/no conditions with non-zero points) in the whole table, which for a
        monotone feature is also its number of non-zero bins. ``None``: ``max_items`` when
        ``item="condition"``, ``2 * max_items`` when ``item="feature"``. With
        ``item="condition"`` the smaller of ``max_items`` and ``max_steps`` applies.
    missing : {"lowest", "least_risk"}, default="lowest"
        How a missing numeric value scores: ``"lowest"`` like the feature's lowest values;
        ``"least_risk"`` like its lowest-risk values, i.e. like the highest values of a feature
        declared decreasing (so a value not recorded never scores more than a recorded one,
        and adding offences to a summary-only history never lowers the score).
        :func:`iomscore.learn.learn` uses ``"least_risk"``.
    min_level_rows : float, default=30
        Least (weighted) rows behind a category of its own. Rarer categories (or those under
        ``min_support`` of the rows) are merged into one level, *other* (scored like the most
        common category when the merged level is still too small); "not recorded" is a level
        of its own only with at least this many rows (and ``min_support``), otherwise it scores
        like the most common category.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the outcome whose probability rises with the points.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.
    feature_kinds_ : list of {"numeric", "categorical"}
    conditions_ : list of Condition
        The chosen steps (yes/no conditions with non-zero points).
    item_points_ : ndarray of int
        Points of each step in ``conditions_``.
    n_items_ : int
        Point items under the ``item`` reading (steps, or features used).
    n_steps_ : int
        Steps, ``len(conditions_)``.
    n_features_used_ : int
        Features with non-zero points (factors of the exported table).
    n_nonzero_bins_ : int
        Bins of the exported table with non-zero points, not counting ``missing_points``: a
        categorical factor gives its most common category 0 points (so one step on a category
        is one non-zero row), a numeric factor its smallest points.
    categorical_levels_ : dict of str to dict
        How each categorical column was read: ``ordinal`` (its levels read as ordered values),
        ``reference`` (the most common category, 0 points), ``other`` (the rare categories
        merged into one level), ``not_recorded`` (``"own level"`` or ``"as reference"``).
    tables_ : list of FactorTable
        Points per feature (the spec's factors).
    intercept_ : int
        Base points; the total is above 0 exactly when the probability is above one half.
    calibration_ : Calibration
        P(classes_[1] | total) = expit(slope * total + offset).
    n_candidates_ : int
        Number of candidate conditions searched.

    See Also
    --------
    Scorecard : monotone binning and logistic regression scaled by points to double the odds.

    Notes
    -----
    Ideas used: beam search over supports, star-ray multiplier search and sequential rounding
    from FasterRisk (Liu, Zhong, Seltzer & Rudin, NeurIPS 2022); integer points with a
    probability per total and local integer search from RiskSLIM (Ustun & Rudin, JMLR 2019);
    the argument that a short points table can match black boxes on recidivism data from Rudin,
    "Stop explaining black box machine learning models for high stakes decisions", Nature
    Machine Intelligence 1, 2019. The implementation is ours.

    Examples
    --------
    >>> import numpy as np
    >>> from iomscore.learn import PointsClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 10, size=(500, 3))
    >>> y = (X[:, 0] + rng.normal(0, 2, 500) > 5).astype(int)
    >>> clf = PointsClassifier(max_items=3, monotone={0: "increasing"}).fit(X, y)
    >>> clf.n_features_used_ <= 3 and clf.n_steps_ <= 6  # the default reading: factors, 2 steps each
    True
    >>> spec = clf.to_spec(name="toy")
    >>> spec.factors[0].feature
    'x0'
    """

    def __init__(
        self,
        *,
        max_items: int = 8,
        points_range: tuple[int, int] = (-5, 5),
        monotone: dict[Any, Any] | None = None,
        allowed_features: Sequence[Any] | None = None,
        categorical_features: Sequence[Any] | None = None,
        max_thresholds: int = 24,
        min_support: float = 0.01,
        beam_width: int = 8,
        item: str = "feature",
        max_steps: int | None = None,
        missing: str = "lowest",
        min_level_rows: float = 30,
    ) -> None:
        self.max_items = max_items
        self.points_range = points_range
        self.monotone = monotone
        self.allowed_features = allowed_features
        self.categorical_features = categorical_features
        self.max_thresholds = max_thresholds
        self.min_support = min_support
        self.beam_width = beam_width
        self.item = item
        self.max_steps = max_steps
        self.missing = missing
        self.min_level_rows = min_level_rows

    def _validate_params_(self) -> tuple[int, int]:
        if not isinstance(self.max_items, (int, np.integer)) or isinstance(self.max_items, bool) or self.max_items < 1:
            raise ValueError(ERR_MAX_ITEMS.format(value=self.max_items))
        try:
            low, high = (int(v) for v in self.points_range)
            if (low, high) != tuple(self.points_range):
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(ERR_POINTS_RANGE.format(value=self.points_range)) from None
        if not (low <= 0 <= high and low < high):
            raise ValueError(ERR_POINTS_RANGE.format(value=self.points_range))
        if not isinstance(self.beam_width, (int, np.integer)) or self.beam_width < 1:
            raise ValueError(ERR_BEAM.format(value=self.beam_width))
        if not isinstance(self.max_thresholds, (int, np.integer)) or self.max_thresholds < 1:
            raise ValueError(ERR_THRESHOLDS.format(value=self.max_thresholds))
        if not isinstance(self.min_support, (int, float)) or not 0 <= self.min_support < 0.5:
            raise ValueError(ERR_SUPPORT.format(value=self.min_support))
        if self.missing not in ("lowest", "least_risk"):
            raise ValueError(ERR_MISSING.format(value=self.missing))
        if (not isinstance(self.min_level_rows, (int, float, np.integer, np.floating))
                or isinstance(self.min_level_rows, bool) or not self.min_level_rows >= 0):
            raise ValueError(ERR_LEVEL_ROWS.format(value=self.min_level_rows))
        if self.item not in ("condition", "feature"):
            raise ValueError(ERR_ITEM.format(value=self.item))
        if self.max_steps is not None and (
            not isinstance(self.max_steps, (int, np.integer)) or isinstance(self.max_steps, bool) or self.max_steps < 1
        ):
            raise ValueError(ERR_MAX_STEPS.format(value=self.max_steps))
        return low, high

    def _budget(self) -> tuple[int, int | None]:
        """(most steps, most features) searched: the two readings of ``max_items``."""
        items = int(self.max_items)
        if self.item == "condition":
            steps = items if self.max_steps is None else min(items, int(self.max_steps))
            return steps, None
        steps = 2 * items if self.max_steps is None else int(self.max_steps)
        return steps, items

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PointsClassifier:
        """Learn the points table.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric and categorical columns; NaN/None is allowed and scores as the lowest bin
            (numeric; with ``missing="least_risk"`` the highest bin of a feature declared
            decreasing) or as an unlisted category.
        y : array-like of shape (n_samples,)
            Binary outcome.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights (0 leaves a row out, e.g. people no longer at risk).

        Returns
        -------
        self : PointsClassifier
        """
        low, high = self._validate_params_()
        cols = read_columns(self, X, reset=True, categorical_features=self.categorical_features)
        self.classes_, y01 = check_binary_target(self, y)
        if len(y01) != cols.n_samples:
            raise ValueError(f"X has {cols.n_samples} rows but y has {len(y01)}")
        w = _check_sample_weight(sample_weight, np.empty((cols.n_samples, 0)), dtype=np.float64)
        allowed = _resolve_features("allowed_features", self.allowed_features, cols.names)
        allowed = list(range(len(cols.names))) if allowed is None else allowed
        levels = {
            j: read_levels(cols.arrays[j], cols.names[j], w, min_rows=float(self.min_level_rows),
                           min_share=float(self.min_support))
            for j in allowed if cols.kinds[j] == "categorical"
        }
        ordinal = frozenset(j for j, lv in levels.items() if lv.ordinal)
        signs = resolve_monotone(self.monotone, cols.names, cols.kinds, ordinal)
        decreasing = frozenset(
            int(j) for j in np.flatnonzero(signs < 0) if cols.kinds[j] == "numeric"
        ) if self.missing == "least_risk" else frozenset()
        cs = binarise(cols, w, allowed=allowed, max_thresholds=int(self.max_thresholds),
                      min_support=float(self.min_support), missing_high=decreasing, y01=y01, signs=signs,
                      levels=levels, min_level_rows=float(self.min_level_rows))
        self.categorical_levels_ = {lv.feature: _level_summary(lv) for lv in levels.values()}
        self.n_candidates_ = len(cs.conditions)
        # group identical rows of the condition matrix
        pos = w > 0
        Bm = cs.matrix[pos]
        if Bm.shape[1]:
            keys = np.packbits(Bm.astype(bool), axis=1)
            _, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
            inv = inv.ravel()
            Bg = Bm[first]
        else:
            first = np.zeros(1, dtype=np.int64)
            inv = np.zeros(int(pos.sum()), dtype=np.int64)
            Bg = np.zeros((1, 0))
        w1 = np.bincount(inv, weights=(w * y01)[pos], minlength=len(first))
        w0 = np.bincount(inv, weights=(w * (1 - y01))[pos], minlength=len(first))
        csign = cs.sign
        ilo = np.where(csign > 0, 0, low).astype(np.int64)
        ihi = np.where(csign < 0, 0, high).astype(np.int64)
        clo = np.where(ilo < 0, -_BETA_BOX, 0.0)
        chi = np.where(ihi > 0, _BETA_BOX, 0.0)
        prob = _Problem(Bg, w1, w0, clo, chi, ridge=1e-6 * float(w.sum()))
        excluded = (ilo == 0) & (ihi == 0)
        q = np.zeros(len(cs.conditions), dtype=np.int64)
        if len(cs.conditions):
            steps, max_features = self._budget()
            beam = _beam_search(prob, steps, int(self.beam_width), excluded, cs.feature_of, max_features)
            pool: list[tuple[float, np.ndarray]] = []
            for sol in beam:
                pool.extend(_round_star_ray(prob, sol, ilo, ihi))
            if pool:
                pool.sort(key=lambda t: (t[0], tuple(t[1])))
                polished = [_polish(prob, cand, ilo, ihi) for _, cand in pool[:_POLISH_TOP]]
                polished.sort(key=lambda t: (t[0], tuple(t[1])))
                q = polished[0][1]
        nz = np.flatnonzero(q)
        self.conditions_: list[Condition] = [cs.conditions[j] for j in nz]
        self.item_points_ = q[nz].copy()
        raw = cs.matrix[:, nz] @ q[nz] if len(nz) else np.zeros(cols.n_samples)
        a, b, _ = fit_logit_1d(raw, w * y01, w * (1 - y01))
        intercept = centre_intercept(a, b)
        self.tables_ = self._make_tables(cols, signs, nz, q, cs.conditions, decreasing, cs.levels)
        for t in self.tables_:
            intercept += t.normalise()
        self.intercept_ = int(intercept)
        self.n_steps_ = len(nz)
        self.n_features_used_ = len(self.tables_)
        self.n_nonzero_bins_ = int(sum(int(np.count_nonzero(t.points)) for t in self.tables_))
        self.n_items_ = self.n_steps_ if self.item == "condition" else self.n_features_used_
        # total = raw + shift where shift = intercept after centring (table shifts cancel out)
        shift = centre_intercept(a, b)
        self.calibration_ = Calibration(slope=a, offset=b - a * shift)
        logger.info(
            "PointsClassifier: %d candidate conditions, %d items: %s",
            self.n_candidates_,
            len(nz),
            ", ".join(f"{c.describe()}: {p:+d}" for c, p in zip(self.conditions_, self.item_points_)),
        )
        return self

    @staticmethod
    def _make_tables(
        cols: Any, signs: np.ndarray, nz: np.ndarray, q: np.ndarray, conditions: list[Condition],
        missing_high: frozenset[int], levels: dict[int, Levels],
    ) -> list[FactorTable]:
        by_col: dict[int, list[int]] = {}
        for j in nz:
            by_col.setdefault(conditions[j].column, []).append(int(j))
        tables = []
        for c in sorted(by_col):
            items = by_col[c]
            name = cols.names[c]
            if cols.kinds[c] == "numeric":
                items.sort(key=lambda j: conditions[j].value)
                thr = np.array([conditions[j].value for j in items], dtype=np.float64)
                pts = np.concatenate([[0], np.cumsum([q[j] for j in items])]).astype(np.int64)
                # with missing="least_risk", a missing value of a decreasing feature scores like its highest values
                missing = int(pts[-1]) if c in missing_high else 0
                tables.append(FactorTable(name, c, "numeric", pts, thresholds=thr, missing_points=missing,
                                          monotone=int(signs[c])))
            else:
                tables.append(_categorical_table(name, c, levels[c], [(conditions[j], int(q[j])) for j in items],
                                                 int(signs[c])))
        return tables

    def to_spec(
        self,
        *,
        name: str = "learned-points",
        version: str = "1.0.0",
        title: str = "Learned points scorer",
        description: str = "",
        outcome: str = "the outcome (classes_[1])",
        probability_key: str = "p",
        provenance: dict[str, Any] | None = None,
        bands: Sequence[tuple[str, int | None, int | None, str]] | None = None,
        feature_labels: dict[str, str] | None = None,
    ) -> PointsSpec:
        """The fitted table as an ``iomscore.points/1`` spec (without a recorded sha256).

        Scoring the spec (``iomscore.get_scorer(path).points(columns)``) gives exactly
        :meth:`decision_function`, and its probability table gives :meth:`predict_proba`.

        Parameters
        ----------
        name, version, title, description : str
            Identity of the spec.
        outcome : str
            What the probability is of, e.g. ``"any new offence within 2 years"``.
        probability_key : str
            Key of the probability, e.g. ``"2y"``.
        provenance : dict, optional
            Extra provenance (data, filter, metrics); merged over the hyperparameters and
            items recorded automatically.
        bands : list of (name, lower, upper, description), optional
            Bands of the total; default: total <= 0 "lower", total > 0 "higher".
        feature_labels : dict of str to str, optional
            Label of each feature's factor (default: the column name), as the table and the
            reasons print it.

        Returns
        -------
        PointsSpec
        """
        check_is_fitted(self, "tables_")
        if not self.tables_:
            raise ValueError(ERR_EMPTY_MODEL)
        prov: dict[str, Any] = {
            "learner": "iomscore.learn.PointsClassifier",
            "hyperparameters": _jsonable(self.get_params()),
            "items": [{"condition": c.describe(), "points": int(p)} for c, p in zip(self.conditions_, self.item_points_)],
            "calibration": {"slope": self.calibration_.slope, "offset": self.calibration_.offset},
            "candidate_conditions": int(self.n_candidates_),
            "sparsity": {
                "item": self.item,
                "items": int(self.n_items_),
                "features": int(self.n_features_used_),
                "steps": int(self.n_steps_),
                "nonzero_bins": int(self.n_nonzero_bins_),
            },
        }
        if self.categorical_levels_:
            prov["categorical"] = _jsonable(self.categorical_levels_)
        prov.update(provenance or {})
        return build_spec(
            tables=self.tables_,
            intercept=self.intercept_,
            calibration=self.calibration_,
            name=name,
            version=version,
            title=title,
            description=description,
            outcome=outcome,
            probability_key=probability_key,
            provenance=prov,
            bands=bands,
            intercept_reason="Base points (a total above 0 means the outcome is more likely than not)",
            feature_labels=feature_labels,
            rationale="Learned from outcomes by iomscore.learn.PointsClassifier",
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _categorical_table(
    name: str, column: int, lv: Levels, steps: list[tuple[Condition, int]], sign: int
) -> FactorTable:
    """The points of every category (and of "not recorded") from the chosen conditions, listed
    in the order a person reads them: ordinal text in its order, otherwise by points and then
    by name; the reference is the most common category."""
    cats = lv.categories
    pts = np.zeros(len(cats), dtype=np.int64)
    index = {_key(v): i for i, v in enumerate(cats)}
    missing = 0
    for cond, p in steps:
        for m in cond.members:
            pts[index[_key(m)]] += p
        if cond.with_missing:
            missing += p
    if lv.reference >= 0 and not lv.missing_own:
        missing = int(pts[lv.reference])  # not recorded scores like the most common category
    if lv.ordinal:
        order = [int(i) for i in lv.order]
    else:
        order = sorted(range(len(cats)), key=lambda i: (int(pts[i]), str(cats[i]), int(lv.first[i])))
    return FactorTable(
        name, column, "categorical", pts[order], categories=[cats[i] for i in order], missing_points=missing,
        monotone=sign if lv.ordinal else 0, reference=order.index(lv.reference) if lv.reference >= 0 else -1,
    )


def _level_summary(lv: Levels) -> dict[str, Any]:
    return {
        "ordinal": lv.ordinal,
        "reference": lv.categories[lv.reference] if lv.reference >= 0 else None,
        "other": [lv.categories[i] for i in np.flatnonzero(lv.rare)],
        "not_recorded": "own level" if lv.missing_own else "as reference",
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)

