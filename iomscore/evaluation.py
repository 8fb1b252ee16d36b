"""Cross-validation of scorers side by side, and time-dependent outcomes.

:func:`cross_validate` runs every model on the *same* stratified folds and reports AUC, Brier
score, log loss, expected calibration error (10 equal-width bins), fit and prediction time, and
model size; :func:`to_markdown` renders the table. :func:`survival_outcomes` derives a 1-year
outcome and a "reoffending in year 2 given none in year 1" outcome from dates, each with the mask
of people *at risk* for it, so that a model is never trained (or judged) on people who had
already reoffended. :func:`load_compas` reads ProPublica's Broward County file with the standard
filter.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from iomscore.evaluation import cross_validate, to_markdown
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 2)); y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
>>> res = cross_validate({"logistic": LogisticRegression()}, X, y, n_splits=3)
>>> res[0].name, 0.5 < res[0].auc <= 1.0
('logistic', True)
>>> to_markdown(res).splitlines()[0].startswith("| Model")
True
"""

from __future__ import annotations

import io
import logging
import math
import pickle
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from .learn._referrals import window_outcome

__all__ = [
    "COMPAS_FEATURES",
    "CVResult",
    "ColumnScore",
    "CompasData",
    "ReferralReport",
    "at_risk_mask",
    "calibration_svg",
    "cross_validate",
    "expected_calibration_error",
    "learned_report",
    "load_compas",
    "model_size",
    "survival_outcomes",
    "to_markdown",
    "window_outcome",
]

logger = logging.getLogger(__name__)

COMPAS_FEATURES: Final = (
    "age",
    "sex",
    "priors_count",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "c_charge_degree",
)
COMPAS_FILTER: Final = (
    "days_b_screening_arrest between -30 and 30; is_recid != -1; c_charge_degree != 'O'; "
    "score_text != 'N/A'"
)

ERR_MISSING_DATA: Final = "COMPAS data not found at {path}; see ../shared/data/README.md for where it comes from"
ERR_LENGTHS: Final = "X has {n} rows but y has {m}"
ERR_MASK: Final = "at_risk must be a boolean array with one entry per row; got shape {shape}"
ERR_WINDOW: Final = "window must satisfy 0 <= start < end; got ({start}, {end})"


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def expected_calibration_error(y: Any, p: Any, n_bins: int = 10) -> float:
    """Expected calibration error with ``n_bins`` equal-width probability bins.

    ``sum_b (n_b / n) * |mean(y in b) - mean(p in b)|``; a probability of exactly 1 falls in the
    last bin.

    Examples
    --------
    >>> expected_calibration_error([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])
    0.175
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    sy = np.bincount(idx, weights=y, minlength=n_bins)
    sp = np.bincount(idx, weights=p, minlength=n_bins)
    return float(np.abs(sy - sp).sum() / max(len(y), 1))


def model_size(estimator: Any) -> tuple[int, str]:
    """Size of a fitted model: a count and what is counted.

    Point items for :class:`~iomscore.learn.PointsClassifier`; scored bins beyond each factor's
    first for :class:`~iomscore.learn.Scorecard`; non-zero coefficients for linear models (also
    inside a Pipeline); leaves for tree ensembles; otherwise the pickled size in kilobytes.
    """
    est = estimator
    if hasattr(est, "steps"):
        est = est.steps[-1][1]
    if hasattr(est, "estimator_") and not hasattr(est, "tables_"):
        est = est.estimator_
    if hasattr(est, "item_points_"):
        return len(est.item_points_), "point items"
    if hasattr(est, "tables_"):
        return int(sum(len(t.points) - 1 for t in est.tables_)), "scored bins"
    if hasattr(est, "coef_"):
        return int(np.count_nonzero(est.coef_)) + 1, "coefficients"
    if hasattr(est, "_predictors"):
        return int(sum(int(p.nodes["is_leaf"].sum()) for it in est._predictors for p in it)), "leaves"
    if hasattr(est, "estimators_") and hasattr(est, "learning_rate"):
        return int(sum(t.tree_.n_leaves for t in np.ravel(est.estimators_))), "leaves"
    if isinstance(est, ColumnScore):
        return 1, "column + 2 calibration parameters"
    buf = io.BytesIO()
    pickle.dump(estimator, buf)
    return int(math.ceil(len(buf.getvalue()) / 1024)), "kB pickled"


class ColumnScore(ClassifierMixin, BaseEstimator):
    """An existing score (e.g. COMPAS's decile) as a classifier, calibrated by a logistic fit.

    ``decision_function`` is the score itself; ``predict_proba`` is ``expit(a * score + b)`` with
    ``a, b`` fitted on the training folds, so an existing score can be compared in the same
    cross-validation as learned models.

    Parameters
    ----------
    column : int or str, default=0
        Column of X holding the score.

    Examples
    --------
    >>> import numpy as np
    >>> s = ColumnScore().fit(np.array([[1], [2], [8], [9]]), [0, 0, 1, 1])
    >>> s.decision_function(np.array([[5]]))
    array([5.])
    """

    def __init__(self, column: int | str = 0) -> None:
        self.column = column

    def _col(self, X: Any) -> np.ndarray:
        if hasattr(X, "columns"):
            if isinstance(self.column, str):
                return X[self.column].to_numpy(dtype=np.float64)
            return X.iloc[:, self.column].to_numpy(dtype=np.float64)
        return np.asarray(X, dtype=np.float64)[:, int(self.column)]

    def fit(self, X: Any, y: Any) -> ColumnScore:
        from iomscore.learn._base import check_binary_target, fit_logit_1d

        self.classes_, y01 = check_binary_target(self, y)
        a, b, _ = fit_logit_1d(self._col(X), y01, 1 - y01)
        self.slope_, self.offset_ = a, b
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "slope_")
        return self._col(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        p = expit(self.slope_ * self.decision_function(X) + self.offset_)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


# --------------------------------------------------------------------------------------------
# Cross-validation
# --------------------------------------------------------------------------------------------


@dataclass
class CVResult:
    """Mean (and standard deviation over folds) of each metric for one model."""

    name: str
    auc: float
    auc_std: float
    brier: float
    log_loss: float
    ece: float
    fit_seconds: float
    predict_seconds: float
    size: int
    size_unit: str
    n_rows: int
    ece_pooled: float = float("nan")
    folds: list[dict[str, float]] = field(default_factory=list)
    #: Pooled out-of-fold predictions and outcomes (the rows cross-validated, in their order).
    oof_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    oof_y: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _select(X: Any, columns: Sequence[Any] | None, rows: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        sub = X.iloc[rows]
        return sub if columns is None else sub[list(columns)]
    arr = np.asarray(X)[rows]
    return arr if columns is None else arr[:, list(columns)]


def cross_validate(
    models: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    n_splits: int = 5,
    random_state: int = 0,
    at_risk: Any = None,
) -> list[CVResult]:
    """Cross-validate several models on the same stratified folds.

    Parameters
    ----------
    models : mapping of name to estimator or (estimator, columns)
        Unfitted scikit-learn classifiers with ``predict_proba``; ``columns`` (names for a
        DataFrame, else positions) restricts the columns a model sees, e.g. an existing score
        column that other models must not use.
    X : DataFrame or array of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Binary outcome (1 = the outcome).
    n_splits : int, default=5
    random_state : int, default=0
        Seed of the (shuffled, stratified) folds; the folds are fixed across models.
    at_risk : boolean array of shape (n_samples,), optional
        Rows at risk for the outcome (see :func:`survival_outcomes`); other rows are left out
        of both fitting and evaluation.

    Returns
    -------
    list of CVResult
        In the order of ``models``.
    """
    y = np.asarray(y)
    n = len(y)
    n_x = X.shape[0]
    if n_x != n:
        raise ValueError(ERR_LENGTHS.format(n=n_x, m=n))
    rows = np.arange(n)
    if at_risk is not None:
        mask = np.asarray(at_risk)
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(ERR_MASK.format(shape=mask.shape))
        rows = rows[mask]
    yr = y[rows]
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=random_state).split(rows, yr))
    results = []
    for name, spec in models.items():
        est, cols = spec if isinstance(spec, tuple) else (spec, None)
        per_fold = []
        size = (0, "")
        oof = np.zeros(len(rows))
        oof_y = np.zeros(len(rows), dtype=np.int64)
        for tr, te in folds:
            model = clone(est)
            Xtr, Xte = _select(X, cols, rows[tr]), _select(X, cols, rows[te])
            t0 = time.perf_counter()
            model.fit(Xtr, yr[tr])
            t1 = time.perf_counter()
            p = model.predict_proba(Xte)[:, 1]
            t2 = time.perf_counter()
            yt = yr[te]
            pos = model.classes_[1]
            yt01 = (yt == pos).astype(int)
            oof[te], oof_y[te] = p, yt01
            per_fold.append(
                {
                    "auc": float(roc_auc_score(yt01, p)),
                    "brier": float(brier_score_loss(yt01, p)),
                    "log_loss": float(log_loss(yt01, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
                    "ece": expected_calibration_error(yt01, p),
                    "fit_seconds": t1 - t0,
                    "predict_seconds": t2 - t1,
                }
            )
            size = model_size(model)
        mean = {k: float(np.mean([f[k] for f in per_fold])) for k in per_fold[0]}
        results.append(
            CVResult(
                name=name,
                auc=mean["auc"],
                auc_std=float(np.std([f["auc"] for f in per_fold])),
                brier=mean["brier"],
                log_loss=mean["log_loss"],
                ece=mean["ece"],
                fit_seconds=mean["fit_seconds"],
                predict_seconds=mean["predict_seconds"],
                size=size[0],
                size_unit=size[1],
                n_rows=len(rows),
                ece_pooled=expected_calibration_error(oof_y, oof),
                folds=per_fold,
                oof_p=oof,
                oof_y=oof_y,
            )
        )
        logger.info("%s: AUC %.3f Brier %.4f ECE %.4f fit %.2fs", name, mean["auc"], mean["brier"], mean["ece"], mean["fit_seconds"])
    return results


def to_markdown(results: Sequence[CVResult]) -> str:
    """A Markdown table of :func:`cross_validate` results (means over folds).

    "ECE per fold" is the mean of the test folds' ECE (each on about n/5 rows, so it carries
    sampling noise of a few hundredths); "ECE pooled" is the ECE of all out-of-fold predictions
    together.
    """
    lines = [
        "| Model | AUC (sd) | Brier | Log loss | ECE per fold | ECE pooled | Fit s | Predict ms | Size |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        name = r.name.replace("|", "\\|")
        lines.append(
            f"| {name} | {r.auc:.3f} ({r.auc_std:.3f}) | {r.brier:.4f} | {r.log_loss:.4f} | "
            f"{r.ece:.4f} | {r.ece_pooled:.4f} | {r.fit_seconds:.2f} | {1000 * r.predict_seconds:.1f} | {r.size} {r.size_unit} |"
        )
    return "\n".join(lines) + "\n"


def calibration_svg(results: Sequence[CVResult], n_bins: int = 10, title: str = "Calibration (out of fold)") -> str:
    """An SVG reliability plot of the pooled out-of-fold predictions of each result.

    Each model is a line through (mean predicted probability, observed rate) of its non-empty
    equal-width bins; the diagonal is perfect calibration.

    Examples
    --------
    >>> import numpy as np
    >>> r = CVResult("m", .7, 0, .2, .5, .03, 0, 0, 1, "", 4, oof_p=np.array([.1, .2, .8, .9]),
    ...              oof_y=np.array([0, 0, 1, 1]))
    >>> calibration_svg([r]).startswith("<svg")
    True
    """
    from html import escape

    size, pad = 360, 40
    span = size - 2 * pad
    colours = ("#1b6ca8", "#d1495b", "#2e933c", "#8f5bb5", "#e08e0b")

    def xy(px: float, py: float) -> str:
        return f"{pad + px * span:.1f},{size - pad - py * span:.1f}"

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 170}" height="{size}" '
           f'viewBox="0 0 {size + 170} {size}" font-family="sans-serif" font-size="11">',
           f'<text x="{pad}" y="20" font-size="13">{escape(title)}</text>',
           f'<rect x="{pad}" y="{pad}" width="{span}" height="{span}" fill="none" stroke="#999"/>',
           f'<polyline points="{xy(0, 0)} {xy(1, 1)}" stroke="#bbb" stroke-dasharray="4 3" fill="none"/>']
    for t in range(0, 11, 2):
        v = t / 10
        out.append(f'<text x="{pad + v * span:.1f}" y="{size - pad + 14}" text-anchor="middle">{v:.1f}</text>')
        out.append(f'<text x="{pad - 6}" y="{size - pad - v * span + 4:.1f}" text-anchor="end">{v:.1f}</text>')
    out.append(f'<text x="{pad + span / 2}" y="{size - 6}" text-anchor="middle">predicted probability</text>')
    out.append(f'<text x="12" y="{pad + span / 2}" transform="rotate(-90 12 {pad + span / 2})" '
               'text-anchor="middle">observed rate</text>')
    for k, r in enumerate(results):
        p = np.asarray(r.oof_p, dtype=np.float64)
        y = np.asarray(r.oof_y, dtype=np.float64)
        if p.size == 0:
            continue
        idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
        cnt = np.bincount(idx, minlength=n_bins)
        keep = cnt > 0
        mp = np.bincount(idx, weights=p, minlength=n_bins)[keep] / cnt[keep]
        my = np.bincount(idx, weights=y, minlength=n_bins)[keep] / cnt[keep]
        colour = colours[k % len(colours)]
        pts = " ".join(xy(a, b) for a, b in zip(mp.tolist(), my.tolist()))
        out.append(f'<polyline points="{pts}" stroke="{colour}" stroke-width="2" fill="none"/>')
        out += [f'<circle cx="{xy(a, b).split(",")[0]}" cy="{xy(a, b).split(",")[1]}" r="2.5" fill="{colour}"/>'
                for a, b in zip(mp.tolist(), my.tolist())]
        ly = pad + 14 * k + 6
        out.append(f'<rect x="{size + 4}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{size + 18}" y="{ly + 1}">{escape(r.name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


#: Below this many people at risk the report warns that the table is learned from too few.
_FEW_AT_RISK: Final = 1000


@dataclass
class ReferralReport:
    """Cross-validated comparison of a table learned from referrals with OGRS3 and iom-priority."""

    results: list[CVResult]
    markdown: str
    svg: str


def learned_report(
    learned: Any,
    referrals: Any,
    *,
    n_splits: int = 5,
    random_state: int = 0,
    svg_name: str | None = None,
) -> ReferralReport:
    """Cross-validate the learner of ``learned`` against OGRS3 and iom-priority on the same folds.

    OGRS3's two-year probability (as log-odds) and iom-priority's total are each recalibrated
    by a logistic fit on the training folds (:class:`ColumnScore`), so all three are judged on
    the same people at risk, the same folds, by AUC, Brier score and ECE. People OGRS3 cannot
    score (no sex recorded, no current sanction) get the median OGRS3 log-odds, and the report
    says how many.

    Parameters
    ----------
    learned : iomscore.learn.LearnedModel
        From :func:`iomscore.learn.learn` (its classifier is refitted on every fold).
    referrals : ReferralTable or ReferralBatch
        The referrals it was learned from.
    n_splits, random_state : int
        Folds (stratified, shuffled).
    svg_name : str, optional
        File name of the calibration plot, linked from the Markdown.

    Returns
    -------
    ReferralReport
    """
    from scipy.special import logit

    from .scoring._api import score_batch

    X = learned.X.reset_index(drop=True).copy()
    features = list(X.columns)
    og = score_batch(referrals, "ogrs3")
    p2 = np.asarray(og.probabilities["2y"], dtype=np.float64).copy()
    if og.error is not None:
        p2[~og.ok] = np.nan
    lo = logit(np.clip(p2, 1e-6, 1 - 1e-6))
    unscored = int((np.isnan(lo) & learned.at_risk).sum())
    X["ogrs3_log_odds"] = np.where(np.isnan(lo), np.nanmedian(lo) if np.isfinite(lo).any() else 0.0, lo)
    X["iom_priority_points"] = score_batch(referrals, "iom-priority").score
    models = {
        "learned points table": (clone(learned.classifier), features),
        "OGRS3 2y (recalibrated)": (ColumnScore("ogrs3_log_odds"), ["ogrs3_log_odds"]),
        "iom-priority (calibrated)": (ColumnScore("iom_priority_points"), ["iom_priority_points"]),
    }
    results = cross_validate(models, X, learned.y, n_splits=n_splits, random_state=random_state,
                             at_risk=np.asarray(learned.at_risk, dtype=bool))
    spec = learned.spec
    n_risk = int(learned.at_risk.sum())
    lines = [
        f"# Learned points table for {learned.target}: cross-validated report",
        "",
        f"Spec {spec.name} {spec.version}, sha256 {spec.sha256}.",
        f"Referrals: {len(learned.y)}; at risk with a known outcome: {n_risk}; with the outcome: "
        f"{int(learned.y[learned.at_risk].sum())} ({100 * learned.y[learned.at_risk].mean():.1f}%).",
        f"{n_splits}-fold stratified cross-validation (seed {random_state}), the same folds for every model; "
        "the learned table is refitted on each training fold; OGRS3 and iom-priority are recalibrated on it.",
    ]
    if n_risk < _FEW_AT_RISK:
        lines.append(f"Only {n_risk} people are at risk: a table of up to 16 steps will fit noise; read these figures "
                     "as a demonstration, and learn from at least a few thousand referrals before relying on one.")
    if unscored:
        lines.append(f"OGRS3 could not score {unscored} of the people at risk; they were given the median OGRS3 log-odds.")
    lines += ["", "| Model | AUC (sd) | Brier | ECE pooled | ECE per fold |", "|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.auc:.3f} ({r.auc_std:.3f}) | {r.brier:.4f} | {r.ece_pooled:.4f} | {r.ece:.4f} |"
              for r in results]
    if svg_name:
        lines += ["", f"![Calibration of the out-of-fold probabilities]({svg_name})"]
    lines += ["", "## The points table (fitted on everyone at risk)", "", spec.to_markdown().replace("\n# ", "\n### ", 1)]
    md = "\n".join(lines)
    md = md.replace(f"\n# {spec.title}\n", f"\n### {spec.title}\n")
    return ReferralReport(results=results, markdown=md if md.endswith("\n") else md + "\n", svg=calibration_svg(results))


# --------------------------------------------------------------------------------------------
# Time-dependent outcomes
# --------------------------------------------------------------------------------------------


def _days(later: Any, earlier: Any) -> np.ndarray:
    a = np.asarray(later, dtype="datetime64[D]")
    b = np.asarray(earlier, dtype="datetime64[D]")
    d = (a - b).astype("timedelta64[D]")
    out = d.astype(np.float64)
    out[np.isnat(d)] = np.nan
    return out


def at_risk_mask(days_to_event: Any, start: float, end: float, days_followed: Any = None) -> np.ndarray:
    """Who is at risk for an event in ``(start, end]`` days (see :func:`window_outcome`).

    Examples
    --------
    >>> at_risk_mask([100.0, 500.0, float("nan")], 365, 730).tolist()
    [False, True, True]
    """
    t = np.asarray(days_to_event, dtype=np.float64)
    f = np.full(t.shape, np.nan) if days_followed is None else days_followed
    return window_outcome(t, f, start, end)[1]


def survival_outcomes(
    origin: Any,
    event_date: Any,
    follow_up_end: Any = None,
    *,
    year_days: int = 365,
) -> dict[str, np.ndarray]:
    """1-year and year-2-given-none-in-year-1 outcomes from dates, with their at-risk masks.

    Parameters
    ----------
    origin : array-like of dates
        Start of the time at risk (e.g. the assessment or release date).
    event_date : array-like of dates, NaT/None without an event
        Date of the first new offence.
    follow_up_end : array-like of dates, optional
        End of follow-up for each person; ``None`` means everyone without an event was
        followed up for at least two years (true of ProPublica's two-year file by design).
    year_days : int, default=365

    Returns
    -------
    dict with ``days_to_event``, ``y_1y``, ``at_risk_1y``, ``y_2y``, ``at_risk_2y``,
    ``y_year2_given_none_year1`` and ``at_risk_year2`` (people with no event in year 1 and
    followed into year 2). Fit year-2 models only on ``at_risk_year2`` rows.

    Examples
    --------
    >>> import numpy as np
    >>> o = survival_outcomes(np.array(["2013-01-01"] * 3, dtype="datetime64[D]"),
    ...                       np.array(["2013-06-01", "2014-06-01", "NaT"], dtype="datetime64[D]"))
    >>> o["y_1y"].tolist(), o["y_year2_given_none_year1"].tolist(), o["at_risk_year2"].tolist()
    ([1, 0, 0], [0, 1, 0], [False, True, True])
    """
    t = _days(event_date, origin)
    f = np.full(t.shape, np.nan) if follow_up_end is None else _days(follow_up_end, origin)
    y1, r1 = window_outcome(t, f, 0, year_days)
    y2all, r2all = window_outcome(t, f, 0, 2 * year_days)
    y2, r2 = window_outcome(t, f, year_days, 2 * year_days)
    return {
        "days_to_event": t,
        "y_1y": y1,
        "at_risk_1y": r1,
        "y_2y": y2all,
        "at_risk_2y": r2all,
        "y_year2_given_none_year1": y2,
        "at_risk_year2": r2,
    }


# --------------------------------------------------------------------------------------------
# COMPAS data
# --------------------------------------------------------------------------------------------


@dataclass
class CompasData:
    """ProPublica's Broward County data after the standard filter."""

    X: Any  # pandas DataFrame of the features
    y: np.ndarray  # two_year_recid
    decile_score: np.ndarray
    race: np.ndarray  # for audit only, never an input
    outcomes: dict[str, np.ndarray]  # from survival_outcomes (screening date to r_offense_date)
    frame: Any  # the whole filtered frame


def load_compas(path: str | Path, features: Sequence[str] = COMPAS_FEATURES) -> CompasData:
    """Read ``broward-two-years.csv`` and apply ProPublica's filter (6,172 rows).

    Requires pandas. The time-dependent outcomes count days from ``compas_screening_date`` to
    ``r_offense_date``; ``two_year_recid`` agrees with "within 730 days" for all but a few dozen
    rows (ProPublica's own derivation).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(ERR_MISSING_DATA.format(path=path))
    d = pd.read_csv(path)
    keep = (
        d["days_b_screening_arrest"].between(-30, 30)
        & (d["is_recid"] != -1)
        & (d["c_charge_degree"] != "O")
        & (d["score_text"] != "N/A")
    )
    f = d[keep].reset_index(drop=True)
    outcomes = survival_outcomes(
        pd.to_datetime(f["compas_screening_date"]).to_numpy(dtype="datetime64[D]"),
        pd.to_datetime(f["r_offense_date"]).to_numpy(dtype="datetime64[D]"),
    )
    return CompasData(
        X=f[list(features)].copy(),
        y=f["two_year_recid"].to_numpy(dtype=np.int64),
        decile_score=f["decile_score"].to_numpy(dtype=np.float64),
        race=f["race"].to_numpy(dtype=object),
        outcomes=outcomes,
        frame=f,
    )
