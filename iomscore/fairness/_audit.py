"""Group-fairness audit of any scorer's output against outcomes and protected characteristics.

The audit assesses a score that has already been produced; it never changes the score. Every
number is computed within a group of people referred (for example everyone recorded as
``"Female"``) and then compared with a reference group, with bootstrap confidence intervals.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from iomscore.fairness import _render as r
from iomscore.fairness._common import (
    as_1d,
    as_finite_floats,
    auc_rows,
    check_length,
    check_mapping,
    check_min_group_size,
    join_labels,
    safe_divide,
)
from iomscore.fairness._rates import NOT_RECORDED, normalise_labels, sorted_groups

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["METRICS", "AuditResult", "Comparison", "GroupMetrics", "audit"]

logger = logging.getLogger("iomscore.fairness")

# --------------------------------------------------------------------------------------------
# Error messages (module-level constants so that they can be matched in tests).
# --------------------------------------------------------------------------------------------
_NON_BINARY_OUTCOMES: Final = (
    "outcomes must be binary (0/1 or False/True, 1 = reoffended); found other values such as "
    "{values}. People without a completed follow-up must be removed before assessing."
)
_BAD_PROBABILITIES: Final = (
    "probabilities must lie between 0 and 1; found {count} value(s) outside (first at "
    "position {first})."
)
_BAD_THRESHOLD: Final = "threshold must be a finite number or None; got {value!r}."
_BAD_SELECTED_IF: Final = (
    "selected_if must be 'ge' (score >= threshold) or 'gt' (score > threshold); got {value!r}."
)
_BAD_CAPACITY: Final = (
    "capacity must be a whole number of people between 0 and the number of people referred "
    "({n}), or None; got {value!r}. For a share, pass e.g. round(0.2 * n)."
)
_BAD_N_BOOTSTRAP: Final = "n_bootstrap must be a whole number of at least 0; got {value!r}."
_BAD_CONFIDENCE: Final = "confidence must be strictly between 0 and 1; got {value!r}."
_BAD_RANDOM_STATE: Final = "random_state must be a non-negative integer or None; got {value!r}."
_UNKNOWN_INTERSECTION: Final = (
    "intersections entry {entry!r} names {name!r}, which is not a key of groups (known: {known})."
)
_SHORT_INTERSECTION: Final = (
    "each intersections entry must be a tuple of at least two characteristic names from "
    "groups; got {entry!r}."
)
_UNKNOWN_REFERENCE_CHARACTERISTIC: Final = (
    "reference names {name!r}, which is neither a key of groups nor a requested intersection "
    "(known: {known})."
)
_UNKNOWN_REFERENCE_GROUP: Final = (
    "reference group {label!r} for {name!r} does not occur in the data (groups: {known})."
)
_NAME_CLASH: Final = (
    "the intersection name {name!r} clashes with a key of groups; rename the characteristic."
)
_NO_SUCH_ROW: Final = "no {what} for characteristic {characteristic!r}, group {group!r}{extra}."

# --------------------------------------------------------------------------------------------
# Metrics.
# --------------------------------------------------------------------------------------------
METRICS: Final[tuple[str, ...]] = (
    "base_rate",
    "selection_rate",
    "selection_rate_capacity",
    "tpr",
    "fpr",
    "tnr",
    "fnr",
    "ppv",
    "auc",
    "calibration_in_the_large",
    "brier",
)
"""Names of the per-group metrics, in the order they are reported."""

_THRESHOLD_METRICS: Final = ("selection_rate", "tpr", "fpr", "tnr", "fnr", "ppv")
_PROBABILITY_METRICS: Final = ("calibration_in_the_large", "brier")
_NO_RATIO: Final = frozenset({"calibration_in_the_large"})
_SELECTION_METRICS: Final = ("selection_rate", "selection_rate_capacity")
_FOUR_FIFTHS: Final = 0.8
_MIN_DENOMINATOR: Final = 10
_MAX_CELLS: Final = 2_000_000  # bootstrap chunk size (replicates x people)
_INTERSECTION_SEPARATOR: Final = " x "

_LABELS: Final[Mapping[str, str]] = {
    "base_rate": "base rate",
    "selection_rate": "selected (threshold)",
    "selection_rate_capacity": "selected (capacity)",
    "tpr": "TPR",
    "fpr": "FPR",
    "tnr": "TNR",
    "fnr": "FNR",
    "ppv": "PPV",
    "auc": "AUC",
    "calibration_in_the_large": "calibration in the large",
    "brier": "Brier",
}
_UNIT_LESS: Final = frozenset({"auc", "brier"})  # shown as numbers, not percentages


@dataclass(frozen=True)
class GroupMetrics:
    """The metrics of one group (or one intersection of groups) of people referred.

    Rates are proportions in [0, 1]; ``NaN`` means "not reported" and ``notes`` says why.

    Attributes
    ----------
    characteristic : str
        The protected characteristic, e.g. ``"race"``, or an intersection such as
        ``"race x sex"``.
    group : str
        The group label, e.g. ``"Female"``; for intersections the labels joined by ``" & "``.
        Missing labels form the group ``"not recorded"``.
    n : int
        Number of people in the group (always reported).
    n_positive, n_selected, n_selected_capacity : int or None
        People with outcome 1, selected at the threshold and selected at capacity. ``None``
        when the group is too small or the selection was not requested.
    too_small : bool
        True when ``n < min_group_size``: the metrics are then not reported.
    is_reference : bool
        True for the reference group of the characteristic.
    base_rate : float
        Observed proportion with outcome 1.
    selection_rate : float
        Proportion selected at the threshold.
    selection_rate_capacity : float
        Proportion selected when the top ``capacity`` people overall are selected.
    tpr, fpr, tnr, fnr, ppv : float
        True-positive, false-positive, true-negative and false-negative rates and positive
        predictive value of selection at the threshold.
    auc : float
        Area under the ROC curve of the score within the group.
    calibration_in_the_large : float
        Mean predicted probability minus observed rate (only with ``probabilities``).
    brier : float
        Mean squared error of the probabilities (only with ``probabilities``).
    notes : tuple of str
        Why any metric is not reported.
    """

    characteristic: str
    group: str
    n: int
    n_positive: int | None
    n_selected: int | None
    n_selected_capacity: int | None
    too_small: bool
    is_reference: bool
    base_rate: float
    selection_rate: float
    selection_rate_capacity: float
    tpr: float
    fpr: float
    tnr: float
    fnr: float
    ppv: float
    auc: float
    calibration_in_the_large: float
    brier: float
    notes: tuple[str, ...] = ()

    def metric(self, name: str) -> float:
        """Return the value of the metric ``name`` (one of :data:`METRICS`)."""
        if name not in METRICS:
            raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
        return float(getattr(self, name))


@dataclass(frozen=True)
class Comparison:
    """One metric of one group compared with the reference group of the same characteristic.

    Attributes
    ----------
    characteristic, group, reference : str
        Where the comparison is made and against which group.
    metric : str
        One of :data:`METRICS`.
    value, reference_value : float
        The metric in the group and in the reference group.
    difference, difference_low, difference_high : float
        ``value - reference_value`` and its bootstrap percentile interval.
    ratio, ratio_low, ratio_high : float
        ``value / reference_value`` and its interval (``NaN`` when the reference value is 0,
        and always for calibration in the large, whose sign makes a ratio meaningless).
    four_fifths_flag : bool or None
        Only for the selection rates: True when the lower of the two selection rates is less
        than four-fifths of the higher (in either direction). ``None`` for other metrics or
        when it cannot be computed.
    note : str
        Why anything is not reported, or a warning about the interval.
    """

    characteristic: str
    group: str
    reference: str
    metric: str
    value: float
    reference_value: float
    difference: float
    difference_low: float
    difference_high: float
    ratio: float
    ratio_low: float
    ratio_high: float
    four_fifths_flag: bool | None
    note: str = ""


@dataclass(frozen=True)
class AuditResult:
    """The result of :func:`audit`: per-group rows, comparison rows and the settings used.

    Attributes
    ----------
    groups : tuple of GroupMetrics
        One row per group of each characteristic and intersection, in the order the
        characteristics were given (intersections last), groups in alphabetical order with
        ``"not recorded"`` last.
    comparisons : tuple of Comparison
        One row per non-reference group and reported metric.
    references : tuple of (str, str)
        ``(characteristic, reference group)`` pairs; see :attr:`reference_groups`.
    n : int
        Number of people referred.
    threshold : float or None
        The selection threshold, and ``selected_if`` its comparison ("ge": score >= threshold,
        "gt": score > threshold).
    selected_if : str
    capacity : int or None
        Number of people selected at capacity.
    capacity_score : float or None
        Score of the last person selected at capacity.
    min_group_size, n_bootstrap, confidence, random_state
        The settings used.
    metrics : tuple of str
        The metrics that could be computed with the inputs given.
    notes : tuple of str
        General remarks (e.g. metrics not available, ties at the capacity boundary).
    """

    groups: tuple[GroupMetrics, ...]
    comparisons: tuple[Comparison, ...]
    references: tuple[tuple[str, str], ...]
    n: int
    threshold: float | None
    selected_if: str
    capacity: int | None
    capacity_score: float | None
    min_group_size: int
    n_bootstrap: int
    confidence: float
    random_state: int | None
    metrics: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    # ---------------------------------------------------------------- look-ups
    @property
    def reference_groups(self) -> dict[str, str]:
        """Mapping of characteristic to its reference group."""
        return dict(self.references)

    @property
    def characteristics(self) -> tuple[str, ...]:
        """Characteristics and intersections in report order."""
        return tuple(dict.fromkeys(g.characteristic for g in self.groups))

    def group(self, characteristic: str, group: str) -> GroupMetrics:
        """Return the row of one group.

        Examples
        --------
        >>> res = audit([0.9, 0.2, 0.8, 0.1], [1, 0, 1, 0], {"sex": ["F", "F", "M", "M"]},
        ...             threshold=0.5, min_group_size=1, n_bootstrap=0)
        >>> res.group("sex", "F").tpr
        1.0
        """
        for row in self.groups:
            if row.characteristic == characteristic and row.group == group:
                return row
        raise KeyError(
            _NO_SUCH_ROW.format(what="group", characteristic=characteristic, group=group, extra="")
        )

    def comparison(self, characteristic: str, group: str, metric: str) -> Comparison:
        """Return the comparison of ``metric`` between ``group`` and its reference group."""
        for row in self.comparisons:
            if (row.characteristic, row.group, row.metric) == (characteristic, group, metric):
                return row
        raise KeyError(
            _NO_SUCH_ROW.format(
                what="comparison",
                characteristic=characteristic,
                group=group,
                extra=f", metric {metric!r}",
            )
        )

    @property
    def four_fifths_flags(self) -> tuple[Comparison, ...]:
        """Comparisons whose selection rates fail the four-fifths rule."""
        return tuple(c for c in self.comparisons if c.four_fifths_flag)

    # ---------------------------------------------------------------- exports
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary (NaN and infinities become ``None``).

        Examples
        --------
        >>> import json
        >>> res = audit([0.9, 0.2, 0.8, 0.1], [1, 0, 1, 0], {"sex": ["F", "F", "M", "M"]},
        ...             threshold=0.5, min_group_size=1, n_bootstrap=0)
        >>> json.loads(json.dumps(res.to_dict()))["groups"][0]["group"]
        'F'
        """
        settings = {
            "n": self.n,
            "threshold": self.threshold,
            "selected_if": self.selected_if,
            "capacity": self.capacity,
            "capacity_score": self.capacity_score,
            "min_group_size": self.min_group_size,
            "n_bootstrap": self.n_bootstrap,
            "confidence": self.confidence,
            "random_state": self.random_state,
            "metrics": list(self.metrics),
        }
        return r.json_safe(
            {
                "settings": settings,
                "references": self.reference_groups,
                "groups": [asdict(g) for g in self.groups],
                "comparisons": [asdict(c) for c in self.comparisons],
                "notes": list(self.notes),
            }
        )

    def to_frame(self, table: Literal["groups", "comparisons"] = "groups") -> pd.DataFrame:
        """A pandas DataFrame of the per-group rows or of the comparisons.

        pandas is imported only here (install the ``iomscore[pandas]`` extra).

        Parameters
        ----------
        table : {"groups", "comparisons"}
            Which table to return.

        Examples
        --------
        >>> res = audit([0.9, 0.2, 0.8, 0.1], [1, 0, 1, 0], {"sex": ["F", "F", "M", "M"]},
        ...             threshold=0.5, min_group_size=1, n_bootstrap=0)
        >>> res.to_frame()[["group", "n", "tpr"]].to_dict("list")
        {'group': ['F', 'M'], 'n': [2, 2], 'tpr': [1.0, 1.0]}
        """
        import pandas as pd

        if table == "groups":
            rows = [asdict(g) for g in self.groups]
            for row in rows:
                row["notes"] = "; ".join(row["notes"])
            return pd.DataFrame(rows, columns=[f.name for f in _fields(GroupMetrics)])
        if table == "comparisons":
            return pd.DataFrame(
                [asdict(c) for c in self.comparisons],
                columns=[f.name for f in _fields(Comparison)],
            )
        raise ValueError(f"table must be 'groups' or 'comparisons'; got {table!r}.")

    def _summary_lines(self) -> list[str]:
        lines = [f"Assessed {self.n} people referred."]
        if self.threshold is not None:
            op = ">=" if self.selected_if == "ge" else ">"
            lines.append(f"Selection at the threshold: score {op} {self.threshold:g}.")
        if self.capacity is not None:
            score = (
                ""
                if self.capacity_score is None
                else f"; the last score selected is {self.capacity_score:g}"
            )
            lines.append(
                f"Selection at capacity: the top {self.capacity} people by score, ties broken by "
                f"input position{score}."
            )
        refs = ", ".join(f"{c}: {g}" for c, g in self.references)
        lines.append(f"Reference groups: {refs}.")
        if self.n_bootstrap:
            lines.append(
                f"Intervals: {self.confidence:.0%} bootstrap percentile intervals from "
                f"{self.n_bootstrap} resamples within each group (random_state="
                f"{self.random_state})."
            )
        lines.append(
            f"Groups with fewer than {self.min_group_size} people are reported as too small: "
            "their size is shown, their metrics are not."
        )
        return lines

    def _group_table(self) -> tuple[list[str], list[list[str]]]:
        shown = [m for m in METRICS if m in self.metrics]
        headers = ["characteristic", "group", "n"] + [_LABELS[m] for m in shown] + ["notes"]
        rows = []
        for g in self.groups:
            group = g.group + (" (reference)" if g.is_reference else "")
            cells = [g.characteristic, group, str(g.n)]
            for m in shown:
                value = g.metric(m)
                if g.too_small:
                    cells.append(r.TOO_SMALL)
                elif m in _UNIT_LESS:
                    cells.append(r.fmt_number(value))
                elif m == "calibration_in_the_large":
                    cells.append(r.fmt_points(value))
                else:
                    cells.append(r.fmt_percent(value))
            cells.append("; ".join(g.notes))
            rows.append(cells)
        return headers, rows

    def _comparison_table(
        self, metrics: Sequence[str] | None
    ) -> tuple[list[str], list[list[str]], list[bool]]:
        keep = set(metrics) if metrics is not None else None
        ci = f"{self.confidence:.0%} CI"
        headers = [
            "characteristic",
            "group",
            "reference",
            "metric",
            "group value",
            "reference value",
            "difference",
            ci,
            "ratio",
            ci,
            "four-fifths",
            "note",
        ]
        rows, flags = [], []
        for c in self.comparisons:
            if keep is not None and c.metric not in keep:
                continue
            val: Callable[[float | None], str]
            diff: Callable[[float | None], str]
            if c.metric in _UNIT_LESS:
                val, diff = r.fmt_number, partial(r.fmt_number, signed=True)
            else:
                val, diff = r.fmt_percent, r.fmt_points
            flag = "" if c.four_fifths_flag is None else ("FLAG" if c.four_fifths_flag else "ok")
            rows.append(
                [
                    c.characteristic,
                    c.group,
                    c.reference,
                    _LABELS[c.metric],
                    val(c.value),
                    val(c.reference_value),
                    diff(c.difference),
                    r.fmt_interval(c.difference_low, c.difference_high, diff),
                    r.fmt_number(c.ratio, 2),
                    r.fmt_interval(c.ratio_low, c.ratio_high, lambda v: r.fmt_number(v, 2)),
                    flag,
                    c.note,
                ]
            )
            flags.append(bool(c.four_fifths_flag))
        return headers, rows, flags

    def _flag_lines(self) -> list[str]:
        out = []
        for c in self.four_fifths_flags:
            which = "threshold" if c.metric == "selection_rate" else "capacity"
            out.append(
                f"{c.characteristic} = {c.group}: selected at the {which} "
                f"{r.fmt_percent(c.value)} vs {r.fmt_percent(c.reference_value)} for "
                f"{c.reference} (ratio {r.fmt_number(c.ratio, 2)})."
            )
        return out

    def to_markdown(
        self, *, metrics: Sequence[str] | None = None, title: str | None = "Fairness audit"
    ) -> str:
        """A Markdown report: settings, per-group table, comparisons, four-fifths flags, notes.

        Parameters
        ----------
        metrics : sequence of str, optional
            Restrict the comparison table to these metrics (default: all reported metrics).
        title : str or None
            Level-2 heading; ``None`` for no heading.

        Examples
        --------
        >>> res = audit([0.9, 0.2, 0.8, 0.1], [1, 0, 1, 0], {"sex": ["F", "F", "M", "M"]},
        ...             threshold=0.5, min_group_size=1, n_bootstrap=0)
        >>> "| sex | F (reference) | 2 |" in res.to_markdown()
        True
        """
        parts: list[str] = []
        if title:
            parts.append(f"## {title}\n")
        parts.append("\n".join(f"- {r.markdown_text(x)}" for x in self._summary_lines()) + "\n")
        parts.append("### Per-group metrics\n")
        parts.append(r.markdown_table(*self._group_table()) + "\n")
        headers, rows, _ = self._comparison_table(metrics)
        parts.append("### Differences and ratios against the reference group\n")
        parts.append((r.markdown_table(headers, rows) if rows else "No comparisons.") + "\n")
        parts.append("### Four-fifths rule\n")
        flags = self._flag_lines()
        parts.append(
            ("\n".join(f"- {r.markdown_text(x)}" for x in flags) if flags else "No group flagged.")
            + "\n"
        )
        if self.notes:
            parts.append("### Notes\n")
            parts.append("\n".join(f"- {r.markdown_text(x)}" for x in self.notes) + "\n")
        return "\n".join(parts)

    def to_html(
        self, *, metrics: Sequence[str] | None = None, title: str = "Fairness audit"
    ) -> str:
        """A self-contained HTML page (inline CSS, no JavaScript) with the same tables.

        Examples
        --------
        >>> res = audit([0.9, 0.2, 0.8, 0.1], [1, 0, 1, 0], {"sex": ["F", "F", "M", "M"]},
        ...             threshold=0.5, min_group_size=1, n_bootstrap=0)
        >>> page = res.to_html()
        >>> page.startswith("<!DOCTYPE html>") and "<script" not in page
        True
        """
        body = [r.html_paragraphs(self._summary_lines())]
        headers, rows = self._group_table()
        body.append(
            r.html_table(
                headers, rows, caption="Per-group metrics", text_columns=(0, 1, len(headers) - 1)
            )
        )
        headers, rows, flags = self._comparison_table(metrics)
        body.append(
            r.html_table(
                headers,
                rows,
                caption="Differences and ratios against the reference group",
                text_columns=(0, 1, 2, 3, len(headers) - 1),
                flagged_rows=flags,
            )
        )
        flag_lines = self._flag_lines() or ["Four-fifths rule: no group flagged."]
        body.append(r.html_paragraphs(flag_lines, css_class="flag-line"))
        body.append(r.html_paragraphs(self.notes))
        return r.html_document(title, "\n".join(body))


def _fields(cls: type) -> tuple[Any, ...]:
    from dataclasses import fields

    return fields(cls)


# --------------------------------------------------------------------------------------------
# Computation.
# --------------------------------------------------------------------------------------------
@dataclass
class _People:
    outcome: npt.NDArray[np.bool_]
    score: npt.NDArray[np.float64]
    selected: npt.NDArray[np.bool_] | None
    selected_capacity: npt.NDArray[np.bool_] | None
    probability: npt.NDArray[np.float64] | None


def _metrics_rows(
    people: _People, index: npt.NDArray[np.intp]
) -> dict[str, npt.NDArray[np.float64]]:
    """All metrics for each row of ``index`` (shape (r, m)): one resample per row."""
    y = people.outcome[index]
    m = index.shape[1]
    n_pos = y.sum(axis=1).astype(np.float64)
    n_neg = m - n_pos
    nan = np.full(index.shape[0], np.nan)
    out: dict[str, npt.NDArray[np.float64]] = {"base_rate": n_pos / m}
    if people.selected is not None:
        sel = people.selected[index]
        n_sel = sel.sum(axis=1).astype(np.float64)
        tp = (sel & y).sum(axis=1).astype(np.float64)
        fp = n_sel - tp
        out["selection_rate"] = n_sel / m
        out["tpr"] = safe_divide(tp, n_pos)
        out["fnr"] = safe_divide(n_pos - tp, n_pos)
        out["fpr"] = safe_divide(fp, n_neg)
        out["tnr"] = safe_divide(n_neg - fp, n_neg)
        out["ppv"] = safe_divide(tp, n_sel)
    else:
        for name in _THRESHOLD_METRICS:
            out[name] = nan
    if people.selected_capacity is not None:
        out["selection_rate_capacity"] = people.selected_capacity[index].mean(axis=1)
    else:
        out["selection_rate_capacity"] = nan
    out["auc"] = auc_rows(people.score[index], y)
    if people.probability is not None:
        p = people.probability[index]
        out["calibration_in_the_large"] = p.mean(axis=1) - n_pos / m
        out["brier"] = ((p - y) ** 2).mean(axis=1)
    else:
        for name in _PROBABILITY_METRICS:
            out[name] = nan
    return out


def _bootstrap(
    people: _People, members: npt.NDArray[np.intp], n_bootstrap: int, rng: np.random.Generator
) -> dict[str, npt.NDArray[np.float64]]:
    """Metrics on ``n_bootstrap`` resamples (with replacement) of the people in ``members``."""
    m = members.shape[0]
    chunk = max(1, min(n_bootstrap, _MAX_CELLS // max(m, 1)))
    pieces: list[dict[str, npt.NDArray[np.float64]]] = []
    done = 0
    while done < n_bootstrap:
        b = min(chunk, n_bootstrap - done)
        draw = members[rng.integers(0, m, size=(b, m))]
        pieces.append(_metrics_rows(people, draw))
        done += b
    return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}


def _interval(draws: npt.NDArray[np.float64], confidence: float) -> tuple[float, float, float]:
    """Percentile interval of the finite draws, and the share of draws that were undefined."""
    finite = draws[np.isfinite(draws)]
    undefined = 1.0 - finite.size / max(draws.size, 1)
    if finite.size < max(2, draws.size // 2):
        return np.nan, np.nan, undefined
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high), undefined


def _check_int(value: Any, message: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(message.format(value=value))
    return int(value)


def _intersection_name(names: Sequence[str]) -> str:
    return _INTERSECTION_SEPARATOR.join(names)


def _resolve_reference(
    reference: Mapping[Any, Any] | None, known: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """Map characteristic name -> requested reference label, checking both exist."""
    out: dict[str, str] = {}
    if reference is None:
        return out
    if not isinstance(reference, Mapping):
        raise TypeError(
            f"reference must be a mapping of characteristic to group label; got "
            f"{type(reference).__name__}."
        )
    for key, label in reference.items():
        name = _intersection_name(key) if isinstance(key, tuple) else str(key)
        if name not in known:
            raise ValueError(
                _UNKNOWN_REFERENCE_CHARACTERISTIC.format(name=key, known=", ".join(known))
            )
        text = " & ".join(str(p) for p in label) if isinstance(label, tuple) else str(label)
        if text not in known[name]:
            raise ValueError(
                _UNKNOWN_REFERENCE_GROUP.format(
                    label=label, name=name, known=", ".join(known[name])
                )
            )
        out[name] = text
    return out


def audit(
    scores: Any,
    outcomes: Any,
    groups: Mapping[str, Any],
    *,
    threshold: float | None = None,
    selected_if: Literal["ge", "gt"] = "ge",
    capacity: int | None = None,
    probabilities: Any = None,
    intersections: Sequence[Sequence[str]] = (),
    reference: Mapping[Any, Any] | None = None,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> AuditResult:
    """Assess a score against outcomes within and between groups of people referred.

    For each group of each protected characteristic (and each requested intersection) the
    audit reports the group size, base rate, selection rates at a threshold and at a capacity,
    error rates, positive predictive value, AUC and, when probabilities are given, calibration
    in the large and the Brier score. Each group is then compared with a reference group
    (differences and ratios with bootstrap confidence intervals), and selection rates are
    checked against the four-fifths rule.

    Parameters
    ----------
    scores : array-like of shape (n,)
        One finite score per person referred; higher means higher priority (higher risk).
    outcomes : array-like of shape (n,)
        1 (or True) if the person reoffended in the follow-up period, else 0.
    groups : mapping of str to array-like of shape (n,)
        Protected characteristics, e.g. ``{"race": [...], "sex": [...]}``. Missing labels
        (``None``, ``NaN``, ``""``) form the group ``"not recorded"``; nobody is dropped.
        A pandas DataFrame is accepted (its columns are the characteristics).
    threshold : float, optional
        Selection threshold. A person is selected when ``score >= threshold`` (the default,
        ``selected_if="ge"``) or ``score > threshold`` (``selected_if="gt"``). Without a
        threshold the threshold metrics (selection rate, TPR, FPR, TNR, FNR, PPV) are not
        reported.
    selected_if : {"ge", "gt"}
        Comparison used with ``threshold``.
    capacity : int, optional
        Number of places. The top ``capacity`` people overall by score are selected; ties
        are broken by input position (a stable sort on ``-score``: earlier rows first).
        Per-group selection rates at capacity are then reported.
    probabilities : array-like of shape (n,), optional
        Predicted probabilities of the outcome, for calibration in the large and the Brier
        score. They are never guessed from ``scores``: without them those metrics are not
        reported, even if the scores happen to lie in [0, 1].
    intersections : sequence of tuples of str
        Intersections to report, e.g. ``[("race", "sex")]``; named ``"race x sex"`` with
        groups such as ``"Caucasian & Female"``.
    reference : mapping, optional
        Reference group per characteristic, e.g. ``{"race": "Caucasian"}``; for an
        intersection use the key ``("race", "sex")`` (or ``"race x sex"``) and a tuple of
        labels. Default: the largest group that is recorded and not too small (ties: first
        alphabetically).
    min_group_size : int
        Groups with fewer people are reported as too small: their size is shown, their
        metrics are not (``NaN`` with a note), and they are not compared.
    n_bootstrap : int
        Bootstrap resamples per group (0 for no intervals).
    confidence : float
        Coverage of the percentile intervals.
    random_state : int or None
        Seed of the bootstrap; a fixed seed gives identical results on every run.

    Returns
    -------
    AuditResult
        Frozen result with ``groups`` and ``comparisons`` rows and ``.to_frame()``,
        ``.to_dict()``, ``.to_markdown()`` and ``.to_html()``.

    Raises
    ------
    ValueError, TypeError
        With a message naming the offending argument (lengths differ, outcomes not binary,
        scores not finite, unknown characteristic in ``intersections`` or ``reference``...).

    Notes
    -----
    Intervals come from a stratified bootstrap: the people of each group are resampled with
    replacement, independently of the reference group, and each interval is the percentile
    interval of the resampled difference (or ratio). Selection at capacity is held fixed per
    person while resampling (the interval reflects who is in the group, not a re-ranking).
    A comparison whose rate has fewer than 10 people in its denominator in either group
    carries a note: the bootstrap then understates the uncertainty.

    Examples
    --------
    >>> res = audit(
    ...     scores=[9, 7, 3, 2, 8, 6, 4, 1],
    ...     outcomes=[1, 0, 1, 0, 1, 1, 0, 0],
    ...     groups={"sex": ["F", "F", "F", "F", "M", "M", "M", "M"]},
    ...     threshold=5, capacity=3, min_group_size=1, n_bootstrap=200,
    ... )
    >>> row = res.group("sex", "F")
    >>> row.tpr, row.fpr, row.selection_rate_capacity
    (0.5, 0.5, 0.5)
    >>> res.comparison("sex", "M", "fpr").difference
    -0.5
    """
    score = as_finite_floats(scores, "scores")
    n = score.shape[0]
    if n == 0:
        raise ValueError("scores is empty; there is nobody to assess.")
    outcome = _check_outcomes(outcomes, n)
    labels = _group_labels(groups, intersections, n)
    settings = _check_settings(
        n,
        threshold=threshold,
        selected_if=selected_if,
        capacity=capacity,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        random_state=random_state,
    )
    probability = _check_probabilities(probabilities, n)
    order = {name: sorted_groups(arr) for name, arr in labels.items()}
    requested = _resolve_reference(reference, order)

    notes: list[str] = []
    selected = _select_at_threshold(score, settings, notes)
    selected_capacity, capacity_score = _select_at_capacity(score, settings.capacity, notes)
    if probability is None:
        notes.append(
            "No probabilities given: calibration in the large and Brier score not reported."
        )
    people = _People(outcome, score, selected, selected_capacity, probability)
    available = _available_metrics(people)
    if settings.n_bootstrap == 0:
        notes.append("n_bootstrap=0: no confidence intervals.")

    seeds = np.random.SeedSequence(settings.random_state).spawn(len(labels))
    group_rows: list[GroupMetrics] = []
    comparison_rows: list[Comparison] = []
    references: list[tuple[str, str]] = []
    for (name, arr), seed in zip(labels.items(), seeds, strict=True):
        rows, comparisons, ref = _assess_characteristic(
            name,
            arr,
            order[name],
            requested.get(name),
            people,
            available,
            settings,
            np.random.default_rng(seed),
        )
        group_rows.extend(rows)
        comparison_rows.extend(comparisons)
        references.append((name, ref))

    result = AuditResult(
        groups=tuple(group_rows),
        comparisons=tuple(comparison_rows),
        references=tuple(references),
        n=n,
        threshold=settings.threshold,
        selected_if=settings.selected_if,
        capacity=settings.capacity,
        capacity_score=capacity_score,
        min_group_size=settings.min_group_size,
        n_bootstrap=settings.n_bootstrap,
        confidence=settings.confidence,
        random_state=settings.random_state,
        metrics=available,
        notes=tuple(notes),
    )
    flagged = result.four_fifths_flags
    if flagged:
        logger.info(
            "fairness audit: %d selection-rate comparison(s) fail the four-fifths rule",
            len(flagged),
        )
    return result


# --------------------------------------------------------------------------------------------
# The steps of the audit, in the order audit() takes them.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Settings:
    """The checked settings of one audit."""

    threshold: float | None
    selected_if: str
    capacity: int | None
    min_group_size: int
    n_bootstrap: int
    confidence: float
    random_state: int | None


def _check_outcomes(outcomes: Any, n: int) -> npt.NDArray[np.bool_]:
    """Outcomes as booleans (True = reoffended), or raise naming the values that are not 0/1."""
    raw_outcome = as_1d(outcomes, "outcomes")
    check_length(raw_outcome, "outcomes", n, "scores")
    try:
        y_float = raw_outcome.astype(np.float64)
    except (TypeError, ValueError):
        values = ", ".join(repr(v) for v in list(dict.fromkeys(raw_outcome.tolist()))[:5])
        raise ValueError(_NON_BINARY_OUTCOMES.format(values=values)) from None
    bad = ~np.isin(y_float, (0.0, 1.0))
    if bad.any():
        values = ", ".join(repr(v) for v in list(dict.fromkeys(raw_outcome[bad].tolist()))[:5])
        raise ValueError(_NON_BINARY_OUTCOMES.format(values=values))
    return y_float == 1.0


def _group_labels(
    groups: Mapping[str, Any], intersections: Sequence[Sequence[str]], n: int
) -> dict[str, npt.NDArray[np.str_]]:
    """Labels of every characteristic, then of every requested intersection."""
    groups = check_mapping(groups, "groups")
    labels: dict[str, npt.NDArray[np.str_]] = {}
    for name, values in groups.items():
        arr = normalise_labels(values, f"groups[{name!r}]")
        check_length(arr, f"groups[{name!r}]", n, "scores")
        labels[name] = arr
    for entry in intersections:
        if isinstance(entry, str) or len(entry) < 2:
            raise ValueError(_SHORT_INTERSECTION.format(entry=entry))
        for part in entry:
            if part not in labels:
                raise ValueError(
                    _UNKNOWN_INTERSECTION.format(entry=entry, name=part, known=", ".join(labels))
                )
        joined = _intersection_name(entry)
        if joined in groups:
            raise ValueError(_NAME_CLASH.format(name=joined))
        labels[joined] = join_labels([labels[part] for part in entry])
    return labels


def _check_settings(
    n: int,
    *,
    threshold: Any,
    selected_if: Any,
    capacity: Any,
    min_group_size: Any,
    n_bootstrap: Any,
    confidence: Any,
    random_state: Any,
) -> _Settings:
    """Check every setting of :func:`audit`, in the order of its signature."""
    if selected_if not in ("ge", "gt"):
        raise ValueError(_BAD_SELECTED_IF.format(value=selected_if))
    if threshold is not None:
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, numbers.Real)
            or not np.isfinite(float(threshold))
        ):
            raise ValueError(_BAD_THRESHOLD.format(value=threshold))
        threshold = float(threshold)
    if capacity is not None:
        if (
            isinstance(capacity, bool)
            or not isinstance(capacity, numbers.Integral)
            or not 0 <= int(capacity) <= n
        ):
            raise ValueError(_BAD_CAPACITY.format(n=n, value=capacity))
        capacity = int(capacity)
    min_group_size = check_min_group_size(min_group_size)
    n_bootstrap = _check_int(n_bootstrap, _BAD_N_BOOTSTRAP)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not (0.0 < float(confidence) < 1.0)
    ):
        raise ValueError(_BAD_CONFIDENCE.format(value=confidence))
    if random_state is not None:
        random_state = _check_int(random_state, _BAD_RANDOM_STATE)
    return _Settings(
        threshold=threshold,
        selected_if=selected_if,
        capacity=capacity,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=float(confidence),
        random_state=random_state,
    )


def _check_probabilities(probabilities: Any, n: int) -> npt.NDArray[np.float64] | None:
    """Probabilities as finite floats in [0, 1], or ``None`` when not given."""
    if probabilities is None:
        return None
    probability = as_finite_floats(probabilities, "probabilities")
    check_length(probability, "probabilities", n, "scores")
    outside = (probability < 0.0) | (probability > 1.0)
    if outside.any():
        raise ValueError(
            _BAD_PROBABILITIES.format(count=int(outside.sum()), first=int(np.argmax(outside)))
        )
    return probability


def _select_at_threshold(
    score: npt.NDArray[np.float64], settings: _Settings, notes: list[str]
) -> npt.NDArray[np.bool_] | None:
    """Who is selected at the threshold (``None`` without one, with a note)."""
    if settings.threshold is None:
        notes.append("No threshold given: selection rate, TPR, FPR, TNR, FNR and PPV not reported.")
        return None
    if settings.selected_if == "ge":
        return score >= settings.threshold
    return score > settings.threshold


def _select_at_capacity(
    score: npt.NDArray[np.float64], capacity: int | None, notes: list[str]
) -> tuple[npt.NDArray[np.bool_] | None, float | None]:
    """Who is among the top ``capacity`` by score (ties by input position), and the last score.

    Notes when the boundary score is shared by people on both sides of it, or when there is
    no capacity.
    """
    if capacity is None:
        notes.append("No capacity given: selection rate at capacity not reported.")
        return None, None
    n = score.shape[0]
    ranked = np.argsort(-score, kind="stable")
    selected_capacity = np.zeros(n, dtype=bool)
    selected_capacity[ranked[:capacity]] = True
    if capacity == 0:
        return selected_capacity, None
    capacity_score = float(score[ranked[capacity - 1]])
    tied = score == capacity_score
    n_tied, n_tied_in = int(tied.sum()), int((tied & selected_capacity).sum())
    if n_tied_in < n_tied:
        notes.append(
            f"At capacity {capacity}, {n_tied} people share the boundary score "
            f"{capacity_score:g}; {n_tied_in} of them were selected by input position "
            "(earlier rows first). Reordering the input changes who they are."
        )
    return selected_capacity, capacity_score


def _available_metrics(people: _People) -> tuple[str, ...]:
    """The metrics the inputs given allow, in report order."""
    return tuple(
        m
        for m in METRICS
        if not (people.selected is None and m in _THRESHOLD_METRICS)
        and not (people.selected_capacity is None and m == "selection_rate_capacity")
        and not (people.probability is None and m in _PROBABILITY_METRICS)
    )


def _pick_reference(
    order: Sequence[str], sizes: Mapping[str, int], requested: str | None, min_group_size: int
) -> str:
    """The requested reference group, or the largest recorded group that is not too small.

    Ties go to the first alphabetically; when no group qualifies, the largest group that is
    not too small, else the largest group.
    """
    if requested is not None:
        return requested
    eligible = [
        g for g in order if NOT_RECORDED not in g.split(" & ") and sizes[g] >= min_group_size
    ]
    if not eligible:
        eligible = [g for g in order if sizes[g] >= min_group_size] or list(order)
    return max(eligible, key=lambda g: sizes[g])  # first alphabetically among ties


@dataclass(frozen=True)
class _GroupResult:
    """One group's row, with the point values, counts and bootstrap draws to compare it."""

    row: GroupMetrics
    point: dict[str, float]
    count: dict[str, int]
    draws: dict[str, npt.NDArray[np.float64]] | None


def _assess_group(
    name: str,
    group: str,
    members: npt.NDArray[np.intp],
    is_reference: bool,
    people: _People,
    settings: _Settings,
    rng: np.random.Generator,
) -> _GroupResult:
    """Metrics of one group, its counts and (unless too small) its bootstrap draws."""
    size = int(members.size)
    too_small = size < settings.min_group_size
    point = {k: float(v[0]) for k, v in _metrics_rows(people, members[None, :]).items()}
    n_pos = int(people.outcome[members].sum())
    selected, selected_capacity = people.selected, people.selected_capacity
    count = {
        "n_positive": n_pos,
        "n_negative": size - n_pos,
        "n_selected": -1 if selected is None else int(selected[members].sum()),
        "n_selected_capacity": (
            -1 if selected_capacity is None else int(selected_capacity[members].sum())
        ),
    }
    draws = None
    if not too_small and settings.n_bootstrap > 0:
        draws = _bootstrap(people, members, settings.n_bootstrap, rng)
    shown = {m: (np.nan if too_small else point[m]) for m in METRICS}
    row = GroupMetrics(
        characteristic=name,
        group=group,
        n=size,
        n_positive=None if too_small else n_pos,
        n_selected=None if too_small or selected is None else count["n_selected"],
        n_selected_capacity=(
            None if too_small or selected_capacity is None else count["n_selected_capacity"]
        ),
        too_small=too_small,
        is_reference=is_reference,
        notes=_group_notes(point, count, too_small, settings.min_group_size, selected),
        **shown,
    )
    return _GroupResult(row, point, count, draws)


def _assess_characteristic(
    name: str,
    labels: npt.NDArray[np.str_],
    order: Sequence[str],
    requested: str | None,
    people: _People,
    available: Sequence[str],
    settings: _Settings,
    rng: np.random.Generator,
) -> tuple[list[GroupMetrics], list[Comparison], str]:
    """The group rows of one characteristic, its comparisons and its reference group."""
    members = {g: np.flatnonzero(labels == g) for g in order}
    sizes = {g: int(idx.size) for g, idx in members.items()}
    ref = _pick_reference(order, sizes, requested, settings.min_group_size)
    results = {
        g: _assess_group(name, g, idx, g == ref, people, settings, rng)
        for g, idx in members.items()
    }
    points = {g: res.point for g, res in results.items()}
    counts = {g: res.count for g, res in results.items()}
    draws = {g: res.draws for g, res in results.items() if res.draws is not None}
    ref_small = sizes[ref] < settings.min_group_size
    comparisons = [
        _compare(
            name,
            g,
            ref,
            metric,
            points,
            counts,
            draws,
            sizes,
            settings.min_group_size,
            ref_small,
            settings.n_bootstrap,
            settings.confidence,
        )
        for g in order
        if g != ref
        for metric in available
    ]
    return [res.row for res in results.values()], comparisons, ref


_DENOMINATORS: Final[Mapping[str, str]] = {
    "tpr": "n_positive",
    "fnr": "n_positive",
    "fpr": "n_negative",
    "tnr": "n_negative",
    "ppv": "n_selected",
}
_DENOMINATOR_WORDS: Final[Mapping[str, str]] = {
    "n_positive": "people who reoffended",
    "n_negative": "people who did not reoffend",
    "n_selected": "people selected",
}


def _group_notes(
    point: Mapping[str, float],
    count: Mapping[str, int],
    too_small: bool,
    min_group_size: int,
    selected: npt.NDArray[np.bool_] | None,
) -> tuple[str, ...]:
    if too_small:
        return (f"too small: fewer than {min_group_size} people, metrics not reported",)
    notes = []
    if count["n_positive"] == 0 or count["n_negative"] == 0:
        only = "did not reoffend" if count["n_positive"] == 0 else "reoffended"
        undefined = (
            "AUC"
            if selected is None
            else ("AUC, TPR, FNR" if count["n_positive"] == 0 else "AUC, FPR, TNR")
        )
        notes.append(f"everyone in this group {only}: {undefined} undefined")
    if selected is not None and count["n_selected"] == 0:
        notes.append("nobody selected at the threshold: PPV undefined")
    return tuple(notes)


def _compare(
    name: str,
    g: str,
    ref: str,
    metric: str,
    points: Mapping[str, Mapping[str, float]],
    counts: Mapping[str, Mapping[str, int]],
    draws: Mapping[str, Mapping[str, npt.NDArray[np.float64]]],
    sizes: Mapping[str, int],
    min_group_size: int,
    ref_small: bool,
    n_bootstrap: int,
    confidence: float,
) -> Comparison:
    nan = float("nan")
    if sizes[g] < min_group_size or ref_small:
        who = g if sizes[g] < min_group_size else f"reference group {ref}"
        return Comparison(
            name,
            g,
            ref,
            metric,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            None,
            note=f"not compared: {who} has fewer than {min_group_size} people",
        )
    value, ref_value = points[g][metric], points[ref][metric]
    difference = value - ref_value
    ratio = nan
    if metric not in _NO_RATIO and np.isfinite(value) and np.isfinite(ref_value) and ref_value:
        ratio = value / ref_value
    notes = []
    if not (np.isfinite(value) and np.isfinite(ref_value)):
        notes.append("undefined in " + (g if not np.isfinite(value) else f"reference group {ref}"))
    d_low = d_high = r_low = r_high = nan
    if n_bootstrap > 0 and not notes:
        a, b = draws[g][metric], draws[ref][metric]
        d_low, d_high, undefined = _interval(a - b, confidence)
        if metric not in _NO_RATIO:
            ratios = safe_divide(a, b)
            r_low, r_high, _ = _interval(ratios, confidence)
        if undefined > 0.05:
            notes.append(f"{undefined:.0%} of resamples undefined")
    denominator = _DENOMINATORS.get(metric)
    if denominator is not None:
        smallest = min(counts[g][denominator], counts[ref][denominator])
        if smallest < _MIN_DENOMINATOR:
            notes.append(
                f"only {smallest} {_DENOMINATOR_WORDS[denominator]} in the smaller denominator: "
                "the interval understates the uncertainty"
            )
    flag = None
    if metric in _SELECTION_METRICS and np.isfinite(value) and np.isfinite(ref_value):
        high = max(value, ref_value)
        if high > 0:
            flag = bool(min(value, ref_value) < _FOUR_FIFTHS * high)
    return Comparison(
        characteristic=name,
        group=g,
        reference=ref,
        metric=metric,
        value=value,
        reference_value=ref_value,
        difference=difference,
        difference_low=d_low,
        difference_high=d_high,
        ratio=ratio,
        ratio_low=r_low,
        ratio_high=r_high,
        four_fifths_flag=flag,
        note="; ".join(notes),
    )
