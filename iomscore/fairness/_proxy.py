"""Proxy check: how well does each input feature alone predict membership of a protected group?

A score that never reads race can still sort people by race if one of its inputs is strongly
associated with race. The proxy check measures that association feature by feature, so that a
reviewer can see which inputs carry protected information and how much.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from iomscore.fairness import _render as r
from iomscore.fairness._common import (
    as_1d,
    auc_rows,
    check_length,
    check_mapping,
    check_min_group_size,
)
from iomscore.fairness._rates import normalise_labels, sorted_groups

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DEFAULT_AUC_THRESHOLD",
    "DEFAULT_NMI_THRESHOLD",
    "ProxyResult",
    "ProxyRow",
    "proxy_check",
]

logger = logging.getLogger("iomscore.fairness")

DEFAULT_AUC_THRESHOLD: Final = 0.65
"""Flag a feature when it alone separates a group from everyone else with AUC >= 0.65.

AUC 0.5 means the feature says nothing about membership. Rice & Harris (2005, *Law and Human
Behavior* 29(5)) map AUC onto Cohen's d: 0.556 ~ small (d = 0.2), 0.639 ~ medium (d = 0.5),
0.714 ~ large (d = 0.8). 0.65 is just past a medium effect: the feature, on its own, ranks a
randomly chosen member of the group above a randomly chosen non-member (or below, since
direction is ignored) 65% of the time. That is strong enough to matter for selection and
still well short of a near-perfect stand-in.
"""

DEFAULT_NMI_THRESHOLD: Final = 0.05
"""Flag threshold when ``method="nmi"``: a rule of thumb, less grounded than the AUC one.

One-vs-rest normalised mutual information is 0 for independence and 1 when the binned
feature determines membership. Values of a few hundredths are already noticeable at the
sample sizes of referral lists; 0.05 is a screening level, not a test.
"""

_BAD_METHOD: Final = "method must be 'auc' or 'nmi'; got {value!r}."
_BAD_PROXY_THRESHOLD: Final = (
    "threshold must be a number between {low} and 1 for method {method!r}; got {value!r}."
)
_BAD_N_BINS: Final = "n_bins must be an integer of at least 2; got {value!r}."

_DEFAULTS: Final[Mapping[str, float]] = {
    "auc": DEFAULT_AUC_THRESHOLD,
    "nmi": DEFAULT_NMI_THRESHOLD,
}


@dataclass(frozen=True)
class ProxyRow:
    """How well one feature alone predicts membership of one group (one vs the rest).

    Attributes
    ----------
    feature, characteristic, group : str
        What is measured.
    n : int
        People with the feature recorded (numeric features with missing values lose those
        people; see ``note``).
    n_group : int
        Members of the group among them.
    too_small : bool
        True when ``n_group`` or the rest is below ``min_group_size``: not measured.
    auc : float
        ``max(AUC, 1 - AUC)`` of the feature as a score for membership, in [0.5, 1].
    nmi : float
        Normalised mutual information between the binned feature and membership, in [0, 1].
    flagged : bool
        True when the measure chosen by ``method`` is at or above the threshold.
    note : str
        Anything the reader should know about this row.
    """

    feature: str
    characteristic: str
    group: str
    n: int
    n_group: int
    too_small: bool
    auc: float
    nmi: float
    flagged: bool
    note: str = ""


@dataclass(frozen=True)
class ProxyResult:
    """The result of :func:`proxy_check`.

    Attributes
    ----------
    rows : tuple of ProxyRow
        One row per feature, characteristic and group.
    method : str
        ``"auc"`` or ``"nmi"``: the measure compared with ``threshold``.
    threshold : float
        The flag threshold.
    n_bins : int
        Quantile bins used for numeric features in the mutual information.
    min_group_size : int
        Groups (or their complements) smaller than this are not measured.
    notes : tuple of str
        General remarks.
    """

    rows: tuple[ProxyRow, ...]
    method: str
    threshold: float
    n_bins: int
    min_group_size: int
    notes: tuple[str, ...] = ()

    @property
    def flagged(self) -> tuple[ProxyRow, ...]:
        """The rows at or above the threshold."""
        return tuple(row for row in self.rows if row.flagged)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary (NaN becomes ``None``).

        Examples
        --------
        >>> res = proxy_check({"x": [1, 2, 3, 4]}, {"sex": ["F", "F", "M", "M"]},
        ...                   min_group_size=1)
        >>> res.to_dict()["rows"][0]["auc"]
        1.0
        """
        return r.json_safe(
            {
                "settings": {
                    "method": self.method,
                    "threshold": self.threshold,
                    "n_bins": self.n_bins,
                    "min_group_size": self.min_group_size,
                },
                "rows": [asdict(row) for row in self.rows],
                "notes": list(self.notes),
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame with one row per feature, characteristic and group.

        Examples
        --------
        >>> res = proxy_check({"x": [1, 2, 3, 4]}, {"sex": ["F", "F", "M", "M"]},
        ...                   min_group_size=1)
        >>> res.to_frame()["group"].tolist()
        ['F', 'M']
        """
        import pandas as pd

        return pd.DataFrame(
            [asdict(row) for row in self.rows], columns=[f.name for f in fields(ProxyRow)]
        )

    def _table(self) -> tuple[list[str], list[list[str]], list[bool]]:
        headers = [
            "feature",
            "characteristic",
            "group",
            "n",
            "n in group",
            "AUC (either direction)",
            "NMI",
            "flag",
            "note",
        ]
        rows = []
        for row in self.rows:
            rows.append(
                [
                    row.feature,
                    row.characteristic,
                    row.group,
                    str(row.n),
                    str(row.n_group),
                    r.TOO_SMALL if row.too_small else r.fmt_number(row.auc),
                    r.TOO_SMALL if row.too_small else r.fmt_number(row.nmi),
                    "FLAG" if row.flagged else "",
                    row.note,
                ]
            )
        return headers, rows, [row.flagged for row in self.rows]

    def _summary(self) -> list[str]:
        measure = "AUC" if self.method == "auc" else "normalised mutual information"
        lines = [
            (
                f"A feature is flagged as a possible proxy when its one-vs-rest {measure} is "
                f"at or above {self.threshold:g}."
            ),
        ]
        flagged = self.flagged
        if flagged:
            lines.append(
                "Flagged: "
                + "; ".join(
                    f"{row.feature} for {row.characteristic} = {row.group} "
                    f"(AUC {row.auc:.3f}, NMI {row.nmi:.3f})"
                    for row in flagged
                )
                + "."
            )
        else:
            lines.append("No feature flagged.")
        return lines + list(self.notes)

    def to_markdown(self, *, title: str | None = "Proxy check") -> str:
        """A Markdown table with a short summary of the flagged features.

        Examples
        --------
        >>> res = proxy_check({"x": [1, 2, 3, 4]}, {"sex": ["F", "F", "M", "M"]},
        ...                   min_group_size=1)
        >>> "| x | sex | F |" in res.to_markdown()
        True
        """
        parts = [f"## {title}\n"] if title else []
        parts.append("\n".join(f"- {r.markdown_text(x)}" for x in self._summary()) + "\n")
        headers, rows, _ = self._table()
        parts.append(r.markdown_table(headers, rows) + "\n")
        return "\n".join(parts)

    def to_html(self, *, title: str = "Proxy check") -> str:
        """A self-contained HTML page (inline CSS, no JavaScript)."""
        headers, rows, flags = self._table()
        body = (
            r.html_paragraphs(self._summary())
            + "\n"
            + r.html_table(headers, rows, text_columns=(0, 1, 2, 7, 8), flagged_rows=flags)
        )
        return r.html_document(title, body)


def _encode_feature(
    values: Any, name: str, n_bins: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64] | None, npt.NDArray[np.intp], str]:
    """Return (kept rows, numeric values or None if categorical, bin codes, note)."""
    arr = as_1d(values, name)
    numeric: npt.NDArray[np.float64] | None = None
    if arr.dtype.kind in "biuf":
        numeric = arr.astype(np.float64)
    elif arr.dtype.kind == "O":
        try:
            numeric = arr.astype(np.float64)
        except (TypeError, ValueError):
            numeric = None
    if numeric is None:
        labels = normalise_labels(arr, name)
        _, codes = np.unique(labels, return_inverse=True)
        return np.ones(arr.shape[0], dtype=bool), None, codes.ravel(), "categorical"
    keep = np.isfinite(numeric)
    note = ""
    if not keep.all():
        note = f"{int((~keep).sum())} missing value(s) left out"
    x = numeric[keep]
    distinct = np.unique(x)
    if distinct.size <= n_bins:
        codes = np.searchsorted(distinct, x)
    else:
        edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
        codes = np.searchsorted(edges, x, side="right")
    return keep, x, codes.astype(np.intp), note


def _one_vs_rest_auc(
    x: npt.NDArray[np.float64] | None, codes: npt.NDArray[np.intp], member: npt.NDArray[np.bool_]
) -> float:
    if x is None:
        # Categorical: score each category by its share of members (the best ordering).
        totals = np.bincount(codes).astype(np.float64)
        inside = np.bincount(codes, weights=member.astype(np.float64), minlength=totals.size)
        x = (inside / np.maximum(totals, 1.0))[codes]
    auc = float(auc_rows(x[None, :], member[None, :])[0])
    return max(auc, 1.0 - auc) if np.isfinite(auc) else float("nan")


def proxy_check(
    features: Any,
    protected: Any,
    *,
    threshold: float | None = None,
    method: Literal["auc", "nmi"] = "auc",
    n_bins: int = 10,
    min_group_size: int = 30,
) -> ProxyResult:
    """Measure how well each feature alone predicts membership of each protected group.

    For every feature, protected characteristic and group, the feature is used on its own to
    tell members of the group from everyone else. Two measures are reported:

    - ``auc``: the one-vs-rest area under the ROC curve, as ``max(AUC, 1 - AUC)`` so that the
      direction does not matter (0.5 = no information, 1 = perfect separation);
    - ``nmi``: normalised mutual information between the binned feature and membership
      (0 = independent, 1 = the feature determines membership).

    A row is flagged (and a ``logging`` warning is emitted on the ``iomscore.fairness``
    logger) when the measure chosen by ``method`` is at or above ``threshold``.

    Parameters
    ----------
    features : mapping of str to array-like, or pandas.DataFrame
        The scorer's inputs, one value per person. Numeric features are used as they are;
        other features are treated as categories.
    protected : mapping of str to array-like, or pandas.DataFrame
        Protected characteristics, e.g. ``{"race": [...]}``. Missing labels form the group
        ``"not recorded"``.
    threshold : float, optional
        Flag threshold. Default :data:`DEFAULT_AUC_THRESHOLD` (0.65, just past a medium effect
        size; see its documentation) for ``method="auc"`` and
        :data:`DEFAULT_NMI_THRESHOLD` (0.05) for ``method="nmi"``.
    method : {"auc", "nmi"}
        Which measure is compared with the threshold. Both are always reported.
    n_bins : int
        Numeric features with more than ``n_bins`` distinct values are cut into ``n_bins``
        quantile bins for the mutual information (the AUC uses the raw values).
    min_group_size : int
        Groups, or their complements, with fewer people are reported as too small.

    Returns
    -------
    ProxyResult
        Frozen result with ``rows`` and ``.to_frame()``, ``.to_dict()``, ``.to_markdown()``.

    Notes
    -----
    For a categorical feature the AUC scores each category by its share of group members,
    the ordering that separates best; with many rare categories this is optimistic.
    Missing values of a numeric feature are left out of that feature's row (counted in the
    note); missing categories form their own category.

    A low value does not prove a feature is harmless: several weak proxies together can
    predict membership well. This check looks at one feature at a time.

    Examples
    --------
    >>> res = proxy_check(
    ...     {"priors": [0, 1, 2, 3, 4, 5, 6, 7], "noise": [3, 1, 4, 1, 5, 9, 2, 6]},
    ...     {"group": ["a", "a", "a", "a", "b", "b", "b", "b"]},
    ...     min_group_size=1,
    ... )
    >>> [(row.feature, row.group, row.auc, row.flagged) for row in res.rows][:2]
    [('priors', 'a', 1.0, True), ('priors', 'b', 1.0, True)]
    """
    from sklearn.metrics import normalized_mutual_info_score

    feature_map = check_mapping(features, "features")
    protected_map = check_mapping(protected, "protected")
    if method not in _DEFAULTS:
        raise ValueError(_BAD_METHOD.format(value=method))
    if threshold is None:
        threshold = _DEFAULTS[method]
    low = 0.5 if method == "auc" else 0.0
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not low <= float(threshold) <= 1.0
    ):
        raise ValueError(_BAD_PROXY_THRESHOLD.format(low=low, method=method, value=threshold))
    threshold = float(threshold)
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 2:
        raise ValueError(_BAD_N_BINS.format(value=n_bins))
    min_group_size = check_min_group_size(min_group_size)

    labels: dict[str, npt.NDArray[np.str_]] = {}
    n: int | None = None
    first = ""
    for name, values in protected_map.items():
        arr = normalise_labels(values, f"protected[{name!r}]")
        if n is None:
            n, first = arr.shape[0], f"protected[{name!r}]"
        check_length(arr, f"protected[{name!r}]", n, first)
        labels[name] = arr
    assert n is not None

    rows: list[ProxyRow] = []
    for fname, values in feature_map.items():
        raw = as_1d(values, f"features[{fname!r}]")
        check_length(raw, f"features[{fname!r}]", n, first)
        keep, x, codes, kind = _encode_feature(raw, f"features[{fname!r}]", int(n_bins))
        note = "" if kind == "categorical" else kind
        for cname, arr in labels.items():
            kept = arr[keep]
            for group in sorted_groups(arr):
                member = kept == group
                n_in = int(member.sum())
                n_kept = int(member.size)
                small = min(n_in, n_kept - n_in) < min_group_size
                if small:
                    auc = nmi = float("nan")
                else:
                    auc = _one_vs_rest_auc(x, codes, member)
                    nmi = float(normalized_mutual_info_score(member, codes))
                measure = auc if method == "auc" else nmi
                flagged = bool(not small and np.isfinite(measure) and measure >= threshold)
                rows.append(
                    ProxyRow(
                        feature=fname,
                        characteristic=cname,
                        group=group,
                        n=n_kept,
                        n_group=n_in,
                        too_small=small,
                        auc=auc,
                        nmi=nmi,
                        flagged=flagged,
                        note=note,
                    )
                )
    result = ProxyResult(
        rows=tuple(rows),
        method=method,
        threshold=threshold,
        n_bins=int(n_bins),
        min_group_size=min_group_size,
    )
    if result.flagged:
        logger.warning(
            "proxy check: %d feature/group pair(s) at or above %s %.3g: %s",
            len(result.flagged),
            method.upper(),
            threshold,
            ", ".join(f"{row.feature}~{row.characteristic}={row.group}" for row in result.flagged),
        )
    return result
