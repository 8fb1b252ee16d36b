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
from typing import Any, Final, Literal

import joblib
import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from ._base import _is_dataframe, check_binary_target, fit_logit_1d

logger = logging.getLogger(__name__)

ERR_UNTRUSTED: Final = (
    "refusing to load {path}: joblib/pickle files run code when loaded. Pass trusted=True only "
    "for a file you or your organisation produced, together with its expected sha256."
)
ERR_NO_HASH: Final = "refusing to load {path}: trusted=True also needs sha256=<the hash recorded when it was saved>"
ERR_HASH_MISMATCH: Final = (
    "refusing to load {path}: its sha256 is {actual} but {expected} was expected; the file is "
    "not the one that was saved"
)
ERR_NOT_SCORER: Final = "{path} holds a {type}, not an EstimatorScorer"
ERR_CALIBRATION: Final = "calibration must be 'sigmoid', 'isotonic' or None; got {value!r}"
ERR_NO_PROBA: Final = "{name} has neither decision_function nor predict_proba"

_EPS: Final = 1e-12


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
    ) -> None:
        self.estimator = estimator
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
        if frame:
            ref = X.iloc[[0] * n].copy()
            for j, c in enumerate(X.columns):
                ref[c] = np.repeat(np.asarray([self.reference_[j]], dtype=X[c].dtype if X[c].dtype.kind in "iufb" else object), n)
            ref.index = X.index
        else:
            ref = np.repeat(np.asarray(self.reference_, dtype=np.float64)[None, :], n, axis=0)
        f = self.log_odds if self.isotonic_ is None else (lambda Z: logit(np.clip(self.predict_proba(Z)[:, 1], 1e-9, 1 - 1e-9)))
        base = f(ref)
        contrib = np.zeros((n, d))
        P = max(1, int(self.n_permutations))
        for _ in range(P):
            z = ref.copy()
            prev = base
            for j in rng.permutation(d):
                if frame:
                    z.iloc[:, j] = X.iloc[:, j].to_numpy()
                else:
                    z[:, j] = np.asarray(X)[:, j]
                cur = f(z)
                contrib[:, j] += (cur - prev) / P
                prev = cur
        return base, contrib

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path) -> str:
        """Write the fitted scorer with joblib; return the file's sha256 (record it somewhere
        you trust: it is needed to load the file again)."""
        check_is_fitted(self, "estimator_")
        buf = io.BytesIO()
        joblib.dump(self, buf)
        data = buf.getvalue()
        Path(path).write_bytes(data)
        return hashlib.sha256(data).hexdigest()

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
        """
        if not trusted:
            raise PermissionError(ERR_UNTRUSTED.format(path=path))
        if not sha256:
            raise PermissionError(ERR_NO_HASH.format(path=path))
        data = Path(path).read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise PermissionError(ERR_HASH_MISMATCH.format(path=path, actual=actual, expected=sha256))
        obj = joblib.load(io.BytesIO(data))
        if not isinstance(obj, cls):
            raise TypeError(ERR_NOT_SCORER.format(path=path, type=type(obj).__name__))
        return obj
