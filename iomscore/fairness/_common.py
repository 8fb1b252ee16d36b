"""Input checking shared by the fairness audit, the proxy check and the group-rate engine.

Group labels are read by :mod:`iomscore.fairness._rates` (one place for "not recorded").

Error messages are module-level constants so that callers and tests can match them.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

_NOT_ONE_DIMENSIONAL: Final = "{name} must be one-dimensional; got an array of shape {shape}."
_MISMATCHED_LENGTHS: Final = (
    "{name} has {got} entries but {other} has {expected}; every argument must describe "
    "the same people in the same order."
)
_EMPTY_INPUT: Final = "{name} is empty; there is nobody to assess."
_NOT_NUMERIC: Final = "{name} must contain numbers; could not convert it to floats ({error})."
_NOT_FINITE: Final = (
    "{name} contains {count} missing or infinite value(s) (first at position {first}); "
    "remove or impute them before assessing."
)
_EMPTY_MAPPING: Final = "{name} must map at least one characteristic name to an array of labels."
_NOT_A_MAPPING: Final = (
    "{name} must be a mapping of characteristic name to labels, e.g. "
    "{{'race': [...], 'sex': [...]}}; got {type_name}."
)
_BAD_NAME: Final = "Characteristic and feature names must be non-empty strings; got {name!r}."
_BAD_MIN_GROUP_SIZE: Final = "min_group_size must be an integer of at least 1; got {value!r}."


def as_1d(values: Any, name: str) -> np.ndarray:
    """Return ``values`` as a one-dimensional numpy array, or raise naming the argument."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        raise ValueError(_NOT_ONE_DIMENSIONAL.format(name=name, shape=arr.shape))
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(_NOT_ONE_DIMENSIONAL.format(name=name, shape=arr.shape))
    return arr


def as_finite_floats(values: Any, name: str) -> npt.NDArray[np.float64]:
    """Return ``values`` as finite float64, or raise naming the argument."""
    arr = as_1d(values, name)
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(_NOT_NUMERIC.format(name=name, error=error)) from None
    bad = ~np.isfinite(out)
    if bad.any():
        raise ValueError(
            _NOT_FINITE.format(name=name, count=int(bad.sum()), first=int(np.argmax(bad)))
        )
    return out


def check_length(arr: np.ndarray, name: str, expected: int, other: str) -> None:
    """Raise if ``arr`` does not have ``expected`` entries."""
    if arr.shape[0] != expected:
        raise ValueError(
            _MISMATCHED_LENGTHS.format(name=name, got=arr.shape[0], other=other, expected=expected)
        )


def check_mapping(value: Any, name: str) -> Mapping[str, Any]:
    """Check that ``value`` is a non-empty mapping with string keys (a DataFrame is accepted)."""
    if (
        hasattr(value, "columns")
        and hasattr(value, "__getitem__")
        and not isinstance(value, Mapping)
    ):
        value = {str(column): value[column] for column in value.columns}
    if not isinstance(value, Mapping):
        raise TypeError(_NOT_A_MAPPING.format(name=name, type_name=type(value).__name__))
    if len(value) == 0:
        raise ValueError(_EMPTY_MAPPING.format(name=name))
    for key in value:
        if not isinstance(key, str) or not key.strip():
            raise ValueError(_BAD_NAME.format(name=key))
    return value


def check_min_group_size(value: Any) -> int:
    """Return ``value`` as an int of at least 1, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(_BAD_MIN_GROUP_SIZE.format(value=value))
    return int(value)


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> npt.NDArray[np.float64]:
    """Elementwise ``numerator / denominator`` with NaN where the denominator is zero."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def auc_rows(
    scores: npt.NDArray[np.float64], positive: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Area under the ROC curve for each row, from average ranks (Mann-Whitney U).

    Ties between a positive and a negative count one half. Rows with only one class give NaN.

    Parameters
    ----------
    scores : numpy.ndarray of shape (r, m)
        Scores, higher meaning more likely positive.
    positive : numpy.ndarray of bool, shape (r, m)
        The class of each entry.

    Returns
    -------
    numpy.ndarray of shape (r,)

    Examples
    --------
    >>> import numpy as np
    >>> auc_rows(np.array([[0.1, 0.4, 0.35, 0.8]]), np.array([[False, False, True, True]]))
    array([0.75])
    """
    from scipy.stats import rankdata  # only the audit and the proxy check need scipy

    scores = np.atleast_2d(scores)
    positive = np.atleast_2d(positive)
    m = scores.shape[1]
    if m == 0:
        return np.full(scores.shape[0], np.nan)
    ranks = rankdata(scores, axis=1, method="average")
    n_pos = positive.sum(axis=1).astype(np.float64)
    n_neg = m - n_pos
    rank_sum = np.where(positive, ranks, 0.0).sum(axis=1)
    return safe_divide(rank_sum - n_pos * (n_pos + 1.0) / 2.0, n_pos * n_neg)


def join_labels(parts: Sequence[npt.NDArray[np.str_]]) -> npt.NDArray[np.str_]:
    """Join per-person labels of several characteristics with ``" & "``."""
    out = parts[0].astype(str)
    for part in parts[1:]:
        out = np.char.add(np.char.add(out, " & "), part.astype(str))
    return out
