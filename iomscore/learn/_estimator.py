"""Any scikit-learn classifier as an iomscore scorer: calibration, explanations, safe persistence.

Explanations are *local and additive*: for every person, ``base + contributions.sum()`` equals
the explained output exactly (up to floating-point rounding). How the output is split depends on
the model:

``"linear"`` (exact)
    A model whose decision function is ``X @ coef_ + intercept_`` (e.g. ``LogisticRegression``):
    contribution of feature j is ``coef_j * (x_j - mean_j)``, base ``intercept_ + coef_ @ mean``.
    This is also the exact Shapley value of the linear model with the training mean as reference.
``"tree-path"`` (additive, attribution approximate)
    ``GradientBoostingClassifier``: Saabas' path-dependent decomposition (Saabas, "Interpreting
    random forests", 2014; analysed in Lundberg, Erion & Lee, "Consistent individualized feature
    attribution for tree ensembles", 2018): along each tree's decision path, the change in node
    value at a split is credited to the split's feature. The sum is exact; the split of credit is
    an approximation of Shapley values that favours features split near the leaves.
``"permutation"`` (additive, attribution approximate)
    Any other model: baseline Shapley values estimated by ``n_permutations`` random feature
    orders. Starting from a reference person (medians of numeric columns, modes of the others),
    features are switched to the person's values one at a time and each is credited with the
    change in output. Every order telescopes to ``f(x) - f(reference)``, so the sum is exact; the
    credit per feature is a Monte Carlo estimate (Strumbelj & Kononenko, "Explaining prediction
    models and individual predictions with feature contributions", KAIS 41, 2014).

The explained output is the calibrated log-odds when ``calibration="sigmoid"`` (Platt scaling is
affine in the raw margin, so the exact methods stay exact) and for ``"permutation"``; with
``calibration="isotonic"`` the linear and tree methods explain the raw margin, as the
explanation's ``output`` field says.

Persistence uses joblib (pickle), which runs code when loaded: :meth:`EstimatorScorer.load`
refuses unless the caller passes ``trusted=True`` *and* the sha256 the file had when it was saved
(from a record the caller trusts, not from next to the file); the bytes are hashed, compared, and
only then unpickled from memory.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import joblib
import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from ._base import _is_dataframe, check_binary_target, fit_logit_1d

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..scoring._result import ModelIdentity, ScoreBatch

logger = logging.getLogger(__name__)

ERR_UNTRUSTED: Final = (
    "refusing to load {path}: joblib/pickle files run code when loaded. Pass trusted=True only "
    "for a file you or your organisation produced, together with its expected sha256."
)
ERR_TRUSTED_TYPE: Final = (
    "refusing to load {path}: trusted must be the bool True or False, not {value!r} (a string such "
    "as 'no' would otherwise read as true)"
)
ERR_NO_HASH: Final = "refusing to load {path}: trusted=True also needs sha256=<the hash recorded when it was saved>"
ERR_HASH_MISMATCH: Final = (
    "refusing to load {path}: its sha256 is {actual} but {expected} was expected; the file is "
    "not the one that was saved"
)
ERR_NOT_SCORER: Final = "{path} holds a {type}, not an EstimatorScorer"
ERR_CALIBRATION: Final = "calibration must be 'sigmoid', 'isotonic' or None; got {value!r}"
ERR_NO_PROBA: Final = "{name} has neither decision_function nor predict_proba"
ERR_NOT_FEATURES: Final = (
    "EstimatorScorer {name!r} was fitted on columns {columns}, which are not iomscore features; to "
    "score referrals, fit it on iomscore features (iomscore.learn.feature_table)"
)
ERR_SEX_NOT_ASKED: Final = (
    "EstimatorScorer {name!r} was fitted on 'sex'; a scorer reads sex only when asked: pass allow_sex=True"
)
ERR_NO_NAMES: Final = (
    "EstimatorScorer {name!r} was fitted on an array without column names; fit it on a DataFrame whose "
    "columns are iomscore feature names to use it as a scorer"
)
#: Reason of the starting point of an estimator's breakdown.
BASELINE_REASON: Final = "Starting point: the model's estimate for a typical person (medians of the training data)"
#: Warning on a row scored with a typical value in place of a value not recorded.
IMPUTED_WARNING: Final = "not recorded (scored with a value from the training data): {labels}"
#: Bands of an estimator's probability, in percent.
ESTIMATOR_BANDS: Final = ((0.0, "lower"), (50.0, "higher"))

_EPS: Final = 1e-12
_DIGITS: Final = 12  # decimals of a probability in score_features


@dataclass(frozen=True)
class Explanation:
    """Additive explanation of one output per person: ``base + contributions.sum(axis=1)``.

    Attributes
    ----------
    base : ndarray of shape (n_samples,)
    contributions : ndarray of shape (n_samples, n_features)
    feature_names : tuple of str
    method : {"linear", "tree-path", "permutation"}
    output : {"calibrated log-odds", "raw margin"}
    exact : bool
        True when the split of credit is exact for the model (linear), not only the sum.
    """

    base: np.ndarray
    contributions: np.ndarray
    feature_names: tuple[str, ...]
    method: str
    output: str
    exact: bool

    @property
    def total(self) -> np.ndarray:
        return self.base + self.contributions.sum(axis=1)


def _raw_margin(est: Any, X: Any) -> np.ndarray:
    if hasattr(est, "decision_function"):
        return np.asarray(est.decision_function(X), dtype=np.float64).ravel()
    p = np.clip(est.predict_proba(X)[:, 1], _EPS, 1 - _EPS)
    return logit(p)


def sha256_file(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class EstimatorScorer(ClassifierMixin, BaseEstimator):
    """Wrap a scikit-learn classifier: calibrated probabilities and additive explanations.

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn binary classifier (with ``decision_function`` or ``predict_proba``).
    calibration : {"sigmoid", "isotonic"} or None, default="sigmoid"
        Calibration map from the raw margin to a probability, fitted on out-of-fold margins
        (``cv`` folds), or on the data given to ``fit`` when ``prefit=True``. ``None`` uses the
        estimator's own ``predict_proba``.
    cv : int, default=5
        Folds for the out-of-fold margins.
    prefit : bool, default=False
        ``estimator`` is already fitted: ``fit`` only calibrates, on held-out data.
    n_permutations : int, default=16
        Feature orders for the ``"permutation"`` explanation.
    random_state : int, default=0
        Seed of the folds and of the permutations.
    name, version : str
        Identity as an :class:`iomscore.Scorer` (with the sha256 of the saved model).
    allow_sex : bool, default=False
        Whether the scorer may read the ``sex`` feature. As a scorer, the model must be fitted
        on a DataFrame whose columns are iomscore feature names (:data:`iomscore.features.FEATURES`;
        protected characteristics and serious-harm fields are not features); ``sex`` is one only
        when asked.

    Attributes
    ----------
    estimator_ : classifier
        The fitted classifier.
    classes_ : ndarray of shape (2,)
    explainer_ : {"linear", "tree-path", "permutation"}
    reference_ : ndarray of shape (n_features,)
        Reference person of the permutation explanation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from iomscore.learn import EstimatorScorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> s = EstimatorScorer(LogisticRegression()).fit(X, y)
    >>> e = s.explain(X[:5])
    >>> e.method, bool(np.allclose(e.total, s.log_odds(X[:5])))
    ('linear', True)
    """

    def __init__(
        self,
        estimator: Any,
        *,
        calibration: Literal["sigmoid", "isotonic"] | None = "sigmoid",
        cv: int = 5,
        prefit: bool = False,
        n_permutations: int = 16,
        random_state: int = 0,
        name: str = "estimator",
        version: str = "1.0.0",
        allow_sex: bool = False,
    ) -> None:
        self.estimator = estimator
        self.name = name
        self.version = version
        self.allow_sex = allow_sex
        self.calibration = calibration
        self.cv = cv
        self.prefit = prefit
        self.n_permutations = n_permutations
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> EstimatorScorer:
        """Fit (unless ``prefit``) and calibrate.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : EstimatorScorer
        """
        if self.calibration not in ("sigmoid", "isotonic", None):
            raise ValueError(ERR_CALIBRATION.format(value=self.calibration))
        self.classes_, y01 = check_binary_target(self, y)
        if self.prefit:
            check_is_fitted(self.estimator)
            self.estimator_ = self.estimator
            raw = _raw_margin(self.estimator_, X)
        else:
            base = clone(self.estimator)
            if not (hasattr(base, "decision_function") or hasattr(base, "predict_proba")):
                raise ValueError(ERR_NO_PROBA.format(name=type(base).__name__))
            raw = np.zeros(len(y01))
            if self.calibration is not None:
                folds = StratifiedKFold(int(self.cv), shuffle=True, random_state=self.random_state)
                method = "decision_function" if hasattr(base, "decision_function") else "predict_proba"
                oof = cross_val_predict(base, X, y, cv=folds, method=method)
                raw = oof.ravel() if method == "decision_function" else logit(np.clip(oof[:, 1], _EPS, 1 - _EPS))
            self.estimator_ = clone(self.estimator).fit(X, y)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = np.asarray(self.estimator_.classes_)
        self.n_features_in_ = int(np.asarray(X).shape[1]) if not _is_dataframe(X) else X.shape[1]
        if _is_dataframe(X):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.sigmoid_: tuple[float, float] | None = None
        self.isotonic_: IsotonicRegression | None = None
        if self.calibration == "sigmoid":
            a, b, _ = fit_logit_1d(raw, y01, 1 - y01)
            self.sigmoid_ = (a, b)
        elif self.calibration == "isotonic":
            self.isotonic_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y01)
        self.reference_ = self._reference(X)
        if _is_dataframe(X) and all(getattr(X[c].dtype, "kind", "O") in "iufb" for c in X.columns):
            arr = X.to_numpy(dtype=np.float64)
            with np.errstate(all="ignore"):
                self.feature_min_ = np.where(np.isnan(arr).all(axis=0), np.nan, np.nanmin(np.where(np.isnan(arr), np.inf, arr), axis=0))
                self.feature_max_ = np.where(np.isnan(arr).all(axis=0), np.nan, np.nanmax(np.where(np.isnan(arr), -np.inf, arr), axis=0))
        self.explainer_ = self._choose_explainer(X)
        return self

    @staticmethod
    def _reference(X: Any) -> np.ndarray:
        if _is_dataframe(X):
            out = []
            for c in X.columns:
                col = X[c]
                if getattr(col.dtype, "kind", "O") in "iuf":
                    out.append(float(np.nanmedian(col.to_numpy(dtype=np.float64))))
                else:
                    out.append(col.mode(dropna=True).iloc[0])
            return np.asarray(out, dtype=object)
        arr = np.asarray(X, dtype=np.float64)
        return np.nanmedian(arr, axis=0)

    def _choose_explainer(self, X: Any) -> str:
        est = self.estimator_
        name = type(est).__name__
        if hasattr(est, "coef_") and hasattr(est, "intercept_") and np.asarray(est.coef_).shape[0] == 1:
            try:
                Xa = np.asarray(X, dtype=np.float64)[:50]
                lin = Xa @ np.asarray(est.coef_).ravel() + float(np.asarray(est.intercept_).ravel()[0])
                if np.allclose(lin, _raw_margin(est, X[:50] if not _is_dataframe(X) else X.iloc[:50]), atol=1e-8):
                    self.mean_ = np.asarray(X, dtype=np.float64).mean(axis=0)
                    return "linear"
            except (TypeError, ValueError):
                pass
        if name == "GradientBoostingClassifier" and getattr(est, "estimators_", None) is not None and est.estimators_.shape[1] == 1:
            return "tree-path"
        return "permutation"

    # -- prediction ------------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Raw margin of the wrapped model (its log-odds for probabilistic models)."""
        check_is_fitted(self, "estimator_")
        return _raw_margin(self.estimator_, X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated ``[P(classes_[0]), P(classes_[1])]``."""
        check_is_fitted(self, "estimator_")
        if self.sigmoid_ is not None:
            a, b = self.sigmoid_
            p = expit(a * _raw_margin(self.estimator_, X) + b)
        elif self.isotonic_ is not None:
            p = self.isotonic_.predict(_raw_margin(self.estimator_, X))
        else:
            p = self.estimator_.predict_proba(X)[:, 1]
        return np.column_stack([1 - p, p])

    def log_odds(self, X: Any) -> np.ndarray:
        """Calibrated log-odds (sigmoid calibration), otherwise the raw margin."""
        raw = self.decision_function(X)
        if self.sigmoid_ is not None:
            return self.sigmoid_[0] * raw + self.sigmoid_[1]
        return raw

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` when the calibrated probability is above one half."""
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)]

    # -- explanation -----------------------------------------------------------------------
    def _names(self, X: Any) -> tuple[str, ...]:
        if _is_dataframe(X):
            return tuple(str(c) for c in X.columns)
        return tuple(f"x{j}" for j in range(np.asarray(X).shape[1]))

    def explain(self, X: Any) -> Explanation:
        """Per-person additive explanation of the model output (see the module notes).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        Explanation
            ``base + contributions.sum(axis=1)`` equals :meth:`log_odds` (sigmoid or no
            calibration, any method) or the raw margin (isotonic, linear/tree methods).
        """
        check_is_fitted(self, "estimator_")
        names = self._names(X)
        if self.explainer_ == "permutation":
            base, contrib = self._permutation(X)
            if self.isotonic_ is not None:
                output = "calibrated log-odds (isotonic)"
            else:
                output = "calibrated log-odds" if self.sigmoid_ is not None else "raw margin"
            return Explanation(base, contrib, names, "permutation", output, False)
        if self.explainer_ == "linear":
            est = self.estimator_
            coef = np.asarray(est.coef_, dtype=np.float64).ravel()
            Xa = np.asarray(X, dtype=np.float64)
            mean = self.mean_
            contrib = coef[None, :] * (Xa - mean[None, :])
            base = np.full(Xa.shape[0], float(np.asarray(est.intercept_).ravel()[0]) + coef @ mean)
            exact = True
        else:
            base, contrib = self._tree_path(X)
            exact = False
        output = "raw margin"
        if self.sigmoid_ is not None:
            a, b = self.sigmoid_
            base, contrib, output = a * base + b, a * contrib, "calibrated log-odds"
        return Explanation(base, contrib, names, self.explainer_, output, exact)

    def _tree_path(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        from scipy import sparse

        est = self.estimator_
        Xa = np.asarray(X, dtype=np.float32)
        n, d = Xa.shape
        contrib = np.zeros((n, d))
        lr = float(est.learning_rate)
        for tree in est.estimators_[:, 0]:
            t = tree.tree_
            value = t.value[:, 0, 0]
            parent = np.full(t.node_count, -1)
            inner = np.flatnonzero(t.children_left >= 0)
            parent[t.children_left[inner]] = inner
            parent[t.children_right[inner]] = inner
            child = np.flatnonzero(parent >= 0)
            M = sparse.csr_matrix(
                (lr * (value[child] - value[parent[child]]), (child, t.feature[parent[child]])),
                shape=(t.node_count, d),
            )
            contrib += np.asarray((tree.decision_path(Xa) @ M).todense())
        base = _raw_margin(est, X) - contrib.sum(axis=1)  # init + lr * root values: constant
        if np.ptp(base) > 1e-6:  # pragma: no cover - a custom init estimator
            logger.warning("tree-path base is not constant (custom init?); spread %.3g", np.ptp(base))
        return base, contrib

    def _permutation(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        frame = _is_dataframe(X)
        n = X.shape[0]
        d = X.shape[1]
        rng = np.random.default_rng(self.random_state)
        f = self.log_odds if self.isotonic_ is None else (lambda Z: logit(np.clip(self.predict_proba(Z)[:, 1], 1e-9, 1 - 1e-9)))
        P = max(1, int(self.n_permutations))
        orders = [rng.permutation(d) for _ in range(P)]
        numeric = not frame or all(getattr(X[c].dtype, "kind", "O") in "iufb" for c in X.columns)
        if numeric:
            # every switched person of every order in one call of the model: (1 + P*d) blocks of n rows
            xa = X.to_numpy(dtype=np.float64) if frame else np.asarray(X, dtype=np.float64)
            ref_row = np.asarray(self.reference_, dtype=np.float64)
            blocks = [np.repeat(ref_row[None, :], n, axis=0)]
            for order in orders:
                z = blocks[0].copy()
                for j in order:
                    z[:, j] = xa[:, j]
                    blocks.append(z.copy())
            stacked = np.vstack(blocks)
            out = f(pd_frame(stacked, X.columns) if frame else stacked).reshape(len(blocks), n)
            base = out[0]
            contrib = np.zeros((n, d))
            k = 1
            for order in orders:
                prev = base
                for j in order:
                    contrib[:, j] += (out[k] - prev) / P
                    prev = out[k]
                    k += 1
            return base, contrib
        ref = X.iloc[[0] * n].copy()
        for j, c in enumerate(X.columns):
            ref[c] = np.repeat(np.asarray([self.reference_[j]], dtype=X[c].dtype if X[c].dtype.kind in "iufb" else object), n)
        ref.index = X.index
        base = f(ref)
        contrib = np.zeros((n, d))
        for order in orders:
            z = ref.copy()
            prev = base
            for j in order:
                z.iloc[:, j] = X.iloc[:, j].to_numpy()
                cur = f(z)
                contrib[:, j] += (cur - prev) / P
                prev = cur
        return base, contrib

    # -- the iomscore.Scorer protocol ------------------------------------------------------
    @property
    def features(self) -> tuple[str, ...]:
        """The iomscore features the fitted model reads, in its column order.

        Raises
        ------
        ValueError
            The model was fitted on columns that are not iomscore features, or on ``sex``
            without ``allow_sex=True``.
        """
        from ..features._engine import FEATURES

        check_is_fitted(self, "estimator_")
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            raise ValueError(ERR_NO_NAMES.format(name=self.name))
        out = tuple(str(c) for c in names)
        unknown = [c for c in out if c not in FEATURES]
        if unknown:
            raise ValueError(ERR_NOT_FEATURES.format(name=self.name, columns=unknown))
        if "sex" in out and not self.allow_sex:
            raise ValueError(ERR_SEX_NOT_ASKED.format(name=self.name))
        return out

    @property
    def monotone(self) -> Mapping[str, str]:
        """Monotone constraints of the wrapped model (``monotonic_cst``), by feature."""
        cst = getattr(self.estimator_, "monotonic_cst", None)
        names = self.features
        if cst is None:
            return {}
        items = cst.items() if isinstance(cst, dict) else zip(names, list(cst))
        words = {1: "increasing", -1: "decreasing"}
        return {str(k): words[int(v)] for k, v in items if int(v) in words and str(k) in names}

    def _fill_values(self, names: tuple[str, ...], allow_nan: bool) -> np.ndarray:
        """Per feature, the value a missing one is scored with (NaN: left missing)."""
        ref = np.asarray(self.reference_, dtype=np.float64)
        lo = np.asarray(getattr(self, "feature_min_", ref), dtype=np.float64)
        hi = np.asarray(getattr(self, "feature_max_", ref), dtype=np.float64)
        mono = self.monotone
        out = np.full(len(names), np.nan) if allow_nan else ref.copy()
        for j, f in enumerate(names):
            if mono.get(f) == "decreasing":
                out[j] = hi[j]
            elif mono.get(f) == "increasing":
                out[j] = lo[j]
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_sha256", None)  # the digest of the saved bytes is not part of them
        return state

    def _model_bytes(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump(self, buf)
        return buf.getvalue()

    @property
    def sha256(self) -> str:
        """sha256 of the model as :meth:`save` writes it (or as it was loaded)."""
        check_is_fitted(self, "estimator_")
        digest = getattr(self, "_sha256", None)
        if digest is None:
            digest = hashlib.sha256(self._model_bytes()).hexdigest()
            self._sha256 = digest
        return str(digest)

    @property
    def identity(self) -> ModelIdentity:
        """Name, version and the sha256 of the saved model (kind ``"estimator"``)."""
        from ..scoring._result import ModelIdentity

        return ModelIdentity(name=self.name, version=self.version, sha256=self.sha256, kind="estimator")

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        """Score feature arrays: the probability in percent, split additively by feature.

        The breakdown starts from the model's probability for the reference person (medians
        of the training data; the baseline part) and splits the difference to each person's
        probability in proportion to the additive explanation of :meth:`explain`, so the
        parts add up to the score (percentage points). A value not recorded is scored as the
        reference person's value when the wrapped model does not accept missing values, with
        a warning naming it.

        Parameters
        ----------
        features : mapping of str to ndarray
            At least :attr:`features`, arrays of equal length.

        Returns
        -------
        ScoreBatch
        """
        import pandas as pd
        from sklearn.utils import get_tags

        from ..features._engine import FEATURES
        from ..scoring._result import ScoreBatch, empty_warnings, render_unique

        names = self.features
        mat = np.column_stack([np.asarray(features[f], dtype=np.float64) for f in names]) if names else np.zeros((0, 0))
        n = mat.shape[0]
        missing = np.isnan(mat)
        allow_nan = bool(get_tags(self.estimator_).input_tags.allow_nan)
        ref = np.asarray(self.reference_, dtype=np.float64)
        fill = self._fill_values(names, allow_nan)
        filled = missing & ~np.isnan(fill)[None, :]
        mat = np.where(filled, fill[None, :], mat)
        X = pd.DataFrame(mat, columns=list(names))
        ref_frame = pd.DataFrame(ref[None, :], columns=list(names))
        if n and self.explainer_ == "permutation":
            # one call of the model gives the explanation, the probabilities and the reference
            e = self.explain(X)
            c = e.contributions
            p_raw = expit(e.total) if self.isotonic_ is None else self.predict_proba(X)[:, 1]
            p_ref_raw = float(expit(e.base[0])) if self.isotonic_ is None else float(self.predict_proba(ref_frame)[0, 1])
        else:
            c = self.explain(X).contributions if n else np.zeros((0, len(names)))
            p_raw = self.predict_proba(X)[:, 1] if n else np.zeros(0)
            p_ref_raw = float(self.predict_proba(ref_frame)[0, 1])
        # Rounded so that a row's score does not depend on the batch around it (BLAS kernels
        # may round differently by position); far below anything a person reads.
        p = np.round(p_raw, _DIGITS)
        p_ref = round(p_ref_raw, _DIGITS)
        total_c = c.sum(axis=1)
        gap = 100.0 * p - 100.0 * p_ref
        tiny = np.abs(total_c) < 1e-9
        share = np.where(tiny[:, None], 1.0 / max(1, len(names)), c / np.where(tiny, 1.0, total_c)[:, None])
        parts = np.round(share * gap[:, None], _DIGITS - 2)
        values = np.column_stack([np.full(n, 100.0 * p_ref), parts])
        labels = tuple(_label(f) for f in names)
        reasons = [np.full(n, BASELINE_REASON, dtype=object)]
        for k, f in enumerate(names):
            raw = np.asarray(features[f], dtype=np.float64)
            key_v = np.nan_to_num(np.round(raw * 100), nan=-1.0)
            key_c = np.round(parts[:, k] * 10)
            _, keys = np.unique(np.column_stack([key_v, key_c]), axis=0, return_inverse=True)
            unit = FEATURES[f].unit

            def render(r: int, k: int = k, raw: np.ndarray = raw, label: str = labels[k], unit: str = unit) -> str:
                from ..scoring._points import _format_value

                return f"{label}: {_format_value(raw[r])} {unit} ({parts[r, k]:+.1f} percentage points)"

            reasons.append(render_unique(keys.ravel(), render))
        cuts = np.asarray([b[0] for b in ESTIMATOR_BANDS[1:]], dtype=np.float64)
        band_names = np.asarray([b[1] for b in ESTIMATOR_BANDS], dtype=object)
        warnings = empty_warnings(n)
        if filled.any():
            weights = np.int64(1) << np.arange(filled.shape[1], dtype=np.int64)
            keys_m = filled.astype(np.int64) @ weights
            rows = np.flatnonzero(keys_m)
            uniq, inv = np.unique(keys_m[rows], return_inverse=True)
            texts = np.empty(len(uniq), dtype=object)
            for i, key in enumerate(uniq.tolist()):
                which = [labels[j].lower() for j in range(len(names)) if key >> j & 1]
                texts[i] = (IMPUTED_WARNING.format(labels=", ".join(which)),)
            warnings[rows] = texts[inv.ravel()]
        return ScoreBatch(
            score=100.0 * p,
            band=band_names[np.searchsorted(cuts, 100.0 * p, side="right")],
            probabilities={"p": p},
            part_names=("baseline", *names),
            part_labels=("Starting point", *labels),
            part_values=values,
            part_reasons=tuple(reasons),
            model=self.identity,
            unit="percentage points",
            baseline_part="baseline",
            warnings=warnings,
            error=None,
        )

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path) -> str:
        """Write the fitted scorer with joblib; return the file's sha256 (record it somewhere
        you trust: it is needed to load the file again)."""
        check_is_fitted(self, "estimator_")
        data = self._model_bytes()
        Path(path).write_bytes(data)
        self._sha256 = hashlib.sha256(data).hexdigest()
        return self._sha256

    @classmethod
    def load(cls, path: str | Path, *, trusted: bool = False, sha256: str | None = None) -> EstimatorScorer:
        """Load a scorer written by :meth:`save`, only if trusted and the hash matches.

        Parameters
        ----------
        path : str or Path
        trusted : bool, default=False
            Must be True: unpickling runs code from the file.
        sha256 : str
            The hash :meth:`save` returned.

        Raises
        ------
        PermissionError
            Not trusted, no hash given, or the hash does not match.
        TypeError
            ``trusted`` is not a bool (``trusted="no"`` is refused, not read as true).
        """
        if not isinstance(trusted, bool):
            raise TypeError(ERR_TRUSTED_TYPE.format(path=path, value=trusted))
        if not trusted:
            raise PermissionError(ERR_UNTRUSTED.format(path=path))
        if not isinstance(sha256, str) or not sha256:
            raise PermissionError(ERR_NO_HASH.format(path=path))
        data = Path(path).read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise PermissionError(ERR_HASH_MISMATCH.format(path=path, actual=actual, expected=sha256))
        obj = joblib.load(io.BytesIO(data))
        if not isinstance(obj, cls):
            raise TypeError(ERR_NOT_SCORER.format(path=path, type=type(obj).__name__))
        obj._sha256 = actual
        return obj


def pd_frame(values: np.ndarray, columns: Any) -> Any:
    """A float DataFrame with the given columns (for models fitted on named columns)."""
    import pandas as pd

    return pd.DataFrame(values, columns=list(columns))


def _label(feature: str) -> str:
    """A feature name as a label: ``offences_12m_at_risk`` -> ``Offences 12m at risk``."""
    text = feature.replace("_", " ")
    return text[:1].upper() + text[1:]
