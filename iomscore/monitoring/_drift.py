"""Population drift: has the population being scored moved away from the one a scorer was checked on?

:func:`psi` is the population stability index of two samples of one variable,

    PSI = sum over bins of (c - b) * ln(c / b)

where ``b`` and ``c`` are the shares of the baseline and current samples in each bin. Bins are
shared by both samples so that the index is symmetric (swapping baseline and current gives the
same value) and depends only on the two distributions, not on the order of the rows: numeric
variables with more than :data:`MAX_CATEGORIES` distinct values are cut at the deciles of the
*pooled* sample; other variables (categories, counts, bands) get one bin per value. Missing
values (``NaN``, ``None``, blank) form their own bin. An empty bin in one sample gets a share of
:data:`EPSILON` in both formula terms, so the index stays finite.

The usual reading: below 0.1 no significant change; 0.1 to 0.25 a moderate shift worth
investigating; 0.25 or more a significant shift, and the scorer's validation figures may no
longer describe the people now referred. PSI says *that* a distribution moved, not *why*
(a new recording practice, a new referral route, a real change in offending), and nothing about
whether the scorer is still accurate: that needs outcomes.

:func:`drift` compares two referral lists (every feature the scorer reads, the score and the
band) or two score files (score and band).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "EPSILON",
    "MAX_CATEGORIES",
    "MODERATE",
    "SIGNIFICANT",
    "DriftReport",
    "DriftRow",
    "drift",
    "drift_referrals",
    "psi",
    "psi_level",
]

#: PSI at or above which a shift is moderate.
MODERATE: Final = 0.1
#: PSI at or above which a shift is significant.
SIGNIFICANT: Final = 0.25
#: Share given to an empty bin so the index stays finite.
EPSILON: Final = 1e-4
#: Variables with at most this many distinct values get one bin per value.
MAX_CATEGORIES: Final = 20
N_QUANTILE_BINS: Final = 10
MISSING: Final = "missing"

LEVELS: Final = {
    "stable": "no significant change (PSI < 0.1)",
    "moderate": "moderate shift (0.1 <= PSI < 0.25): investigate",
    "significant": "significant shift (PSI >= 0.25): validation figures may no longer apply",
}
_EMPTY: Final = "cannot compare {name}: the {which} sample is empty"
_LENGTHS: Final = "{name}: baseline and current must each be one-dimensional"
READING: Final = (
    "PSI says that a distribution moved, not why (recording practice, referral routes, real change "
    "in offending), and nothing about accuracy: for that, audit with outcomes (iomscore audit)."
)


def psi_level(value: float) -> str:
    """``"stable"``, ``"moderate"`` or ``"significant"`` by the 0.1 / 0.25 cut-offs.

    Examples
    --------
    >>> psi_level(0.05), psi_level(0.1), psi_level(0.3)
    ('stable', 'moderate', 'significant')
    """
    return "significant" if value >= SIGNIFICANT else "moderate" if value >= MODERATE else "stable"


def _missing(values: np.ndarray) -> npt.NDArray[np.bool_]:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "iub":
        return np.zeros(values.size, dtype=bool)
    text = values.astype(str)
    return np.isin(np.char.strip(text), ["", "None", "nan", "NaN", "<NA>"])


def _numeric(values: np.ndarray) -> np.ndarray | None:
    if values.dtype.kind in "iufb":
        return values.astype(float)
    return None


@dataclass(frozen=True)
class _Bins:
    labels: tuple[str, ...]
    baseline: npt.NDArray[np.int64]
    current: npt.NDArray[np.int64]


def _bins(baseline: np.ndarray, current: np.ndarray) -> _Bins:
    mb, mc = _missing(baseline), _missing(current)
    nb, nc = _numeric(baseline), _numeric(current)
    labels: list[str]
    if nb is not None and nc is not None:
        pooled = np.concatenate([nb[~mb], nc[~mc]])
        distinct = np.unique(pooled)
        if distinct.size <= MAX_CATEGORIES:
            edges = distinct
            ib = np.searchsorted(edges, nb[~mb])
            ic = np.searchsorted(edges, nc[~mc])
            labels = [f"{v:g}" for v in edges]
        else:
            cuts = np.unique(np.quantile(pooled, np.linspace(0, 1, N_QUANTILE_BINS + 1)[1:-1], method="linear"))
            ib = np.searchsorted(cuts, nb[~mb], side="right")
            ic = np.searchsorted(cuts, nc[~mc], side="right")
            bounds = [-math.inf, *cuts.tolist(), math.inf]
            labels = [_interval(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
        k = len(labels)
        cb = np.bincount(ib, minlength=k)
        cc = np.bincount(ic, minlength=k)
    else:
        tb, tc = baseline.astype(str)[~mb], current.astype(str)[~mc]
        labels_arr, inverse = np.unique(np.concatenate([tb, tc]), return_inverse=True)
        labels = [str(v) for v in labels_arr]
        k = len(labels)
        cb = np.bincount(inverse[: tb.size], minlength=k)
        cc = np.bincount(inverse[tb.size:], minlength=k)
    if mb.any() or mc.any():
        labels.append(MISSING)
        cb = np.append(cb, int(mb.sum()))
        cc = np.append(cc, int(mc.sum()))
    return _Bins(tuple(labels), cb.astype(np.int64), cc.astype(np.int64))


def _interval(low: float, high: float) -> str:
    if math.isinf(low):
        return f"< {high:g}"
    if math.isinf(high):
        return f">= {low:g}"
    return f"{low:g} to < {high:g}"


def _index(cb: np.ndarray, cc: np.ndarray) -> float:
    b = np.maximum(cb / cb.sum(), EPSILON)
    c = np.maximum(cc / cc.sum(), EPSILON)
    return float(np.sum((c - b) * np.log(c / b)))


def psi(baseline: Any, current: Any, *, name: str = "value") -> float:
    """Population stability index of two samples of one variable (0 = same distribution).

    Parameters
    ----------
    baseline, current : array-like of shape (n,) and (m,)
        Numbers (``NaN`` missing) or labels (``None`` / blank missing).
    name : str
        Used in error messages.

    Examples
    --------
    >>> psi([1, 2, 3, 4], [4, 3, 2, 1])
    0.0
    >>> round(psi(["low"] * 8 + ["high"] * 2, ["low"] * 5 + ["high"] * 5), 3)
    0.416
    """
    return _row(name, "feature", np.asarray(baseline), np.asarray(current)).psi


@dataclass(frozen=True)
class DriftRow:
    """The PSI of one variable, with the shares of each bin in both samples."""

    name: str
    kind: str  # "feature", "score" or "band"
    psi: float
    level: str
    bins: tuple[str, ...]
    baseline_share: tuple[float, ...]
    current_share: tuple[float, ...]
    baseline_n: int
    current_n: int


def _row(name: str, kind: str, baseline: np.ndarray, current: np.ndarray) -> DriftRow:
    if baseline.ndim != 1 or current.ndim != 1:
        raise ValueError(_LENGTHS.format(name=name))
    for which, values in (("baseline", baseline), ("current", current)):
        if values.size == 0:
            raise ValueError(_EMPTY.format(name=name, which=which))
    bins = _bins(baseline, current)
    value = _index(bins.baseline, bins.current)
    value = 0.0 if abs(value) < 1e-12 else value
    return DriftRow(
        name=name, kind=kind, psi=value, level=psi_level(value), bins=bins.labels,
        baseline_share=tuple((bins.baseline / bins.baseline.sum()).round(6).tolist()),
        current_share=tuple((bins.current / bins.current.sum()).round(6).tolist()),
        baseline_n=int(baseline.size), current_n=int(current.size),
    )


@dataclass(frozen=True)
class DriftReport:
    """PSI per feature the scorer reads, per score and per band, largest first within each kind."""

    rows: tuple[DriftRow, ...]
    baseline: str
    current: str
    scorer: Mapping[str, str] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def worst(self) -> DriftRow | None:
        """The row with the largest PSI."""
        return max(self.rows, key=lambda r: r.psi, default=None)

    def summary(self) -> str:
        """One line, e.g. for the panel pack: the largest shift and how many moved.

        Examples
        --------
        >>> drift_report = drift({"score": [1, 2, 3]}, {"score": [1, 2, 3]}, baseline_label="May",
        ...     current_label="June")
        >>> drift_report.summary()
        'Drift May -> June: no variable shifted (largest PSI 0.000, score).'
        """
        worst = self.worst
        if worst is None:
            return f"Drift {self.baseline} -> {self.current}: nothing compared."
        moved = [r for r in self.rows if r.level != "stable"]
        head = f"Drift {self.baseline} -> {self.current}: "
        if not moved:
            return head + f"no variable shifted (largest PSI {worst.psi:.3f}, {worst.name})."
        sig = sum(r.level == "significant" for r in moved)
        return head + (f"{len(moved)} of {len(self.rows)} variables shifted ({sig} significantly); "
                       f"largest PSI {worst.psi:.3f}, {worst.name}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"baseline": self.baseline, "current": self.current, "scorer": dict(self.scorer or {}),
                "cutoffs": {"moderate": MODERATE, "significant": SIGNIFICANT}, "summary": self.summary(),
                "reading": READING, "notes": list(self.notes), "rows": [asdict(r) for r in self.rows]}

    def _table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["variable", "kind", "PSI", "reading", "baseline n", "current n"]
        rows = [[r.name, r.kind, f"{r.psi:.3f}", LEVELS[r.level], str(r.baseline_n), str(r.current_n)]
                for r in self.rows]
        return headers, rows

    def _lines(self) -> list[str]:
        lines = [self.summary(), f"Cut-offs: {MODERATE} moderate, {SIGNIFICANT} significant. {READING}"]
        if self.scorer:
            lines.append(f"Scorer: {self.scorer.get('name')} {self.scorer.get('version')} "
                         f"(sha256 {self.scorer.get('sha256')}).")
        return lines + list(self.notes)

    def to_text(self) -> str:
        """Plain text: the summary and one line per variable."""
        width = max((len(r.name) for r in self.rows), default=8)
        out = self._lines() + [""]
        out += [f"{r.name:<{width}}  {r.kind:<7}  PSI {r.psi:6.3f}  {LEVELS[r.level]}" for r in self.rows]
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        """A Markdown report with the PSI table and, for each shifted variable, its bins."""
        from ..fairness._render import markdown_table, markdown_text

        parts = ["# Population drift", "", *[f"- {markdown_text(x)}" for x in self._lines()], ""]
        parts += [markdown_table(*self._table()), ""]
        for r in self.rows:
            if r.level == "stable":
                continue
            parts += [f"## {markdown_text(r.name)} (PSI {r.psi:.3f})", ""]
            rows = [[b, f"{100 * x:.1f}%", f"{100 * y:.1f}%"] for b, x, y in
                    zip(r.bins, r.baseline_share, r.current_share, strict=True)]
            parts += [markdown_table(["bin", "baseline", "current"], rows), ""]
        return "\n".join(parts)

    def chart(self) -> str:
        """A small inline SVG: one bar per variable, with the 0.1 and 0.25 cut-offs marked."""
        bar_h, gap, label_w, width = 14, 4, 190, 560
        top = max([SIGNIFICANT * 1.2, *(r.psi for r in self.rows)])
        scale = (width - label_w - 50) / top
        height = (bar_h + gap) * len(self.rows) + 30
        colours = {"stable": "#4d7f3a", "moderate": "#b8860b", "significant": "#b22222"}
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="drift-chart" width="{width}" height="{height}" '
                 f'viewBox="0 0 {width} {height}" role="img" aria-label="PSI by variable">']
        for i, r in enumerate(self.rows):
            y = 10 + i * (bar_h + gap)
            w = max(1.0, r.psi * scale)
            parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 3}" text-anchor="end" font-size="11">'
                         f"{html.escape(r.name)}</text>")
            parts.append(f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="{colours[r.level]}"><title>{html.escape(r.name)}: {r.psi:.3f}</title></rect>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}" font-size="10">{r.psi:.3f}</text>')
        for cut in (MODERATE, SIGNIFICANT):
            x = label_w + cut * scale
            parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 16}" stroke="#555" '
                         f'stroke-dasharray="3,3"/><text x="{x:.1f}" y="{height - 4}" font-size="10" '
                         f'text-anchor="middle">{cut}</text>')
        parts.append("</svg>")
        return "".join(parts)

    def to_html(self) -> str:
        """A self-contained HTML page (inline CSS and SVG, no JavaScript), every text escaped."""
        from ..fairness._render import html_document, html_paragraphs, html_table

        headers, rows = self._table()
        body = [html_paragraphs(self._lines()), self.chart(),
                html_table(headers, rows, caption="Population stability index", text_columns=(0, 1, 3))]
        for r in self.rows:
            if r.level == "stable":
                continue
            bins = [[b, f"{100 * x:.1f}%", f"{100 * y:.1f}%"] for b, x, y in
                    zip(r.bins, r.baseline_share, r.current_share, strict=True)]
            body.append(html_table(["bin", "baseline", "current"], bins, caption=f"{r.name} (PSI {r.psi:.3f})",
                                   text_columns=(0,)))
        return html_document("Population drift", "\n".join(body))


_KIND_ORDER: Final = {"band": 0, "score": 1, "feature": 2}


def drift(
    baseline: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    baseline_label: str = "baseline",
    current_label: str = "current",
    kinds: Mapping[str, str] | None = None,
    scorer: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> DriftReport:
    """PSI of every variable present in both ``baseline`` and ``current``.

    Parameters
    ----------
    baseline, current : mapping of str to array-like
        The variables of each population, e.g. ``{"band": [...], "score": [...]}``.
    baseline_label, current_label : str
        How the two populations are named in the report (e.g. file names or months).
    kinds : mapping, optional
        ``{name: "feature" | "score" | "band"}``; default ``"band"`` and ``"score"`` by name,
        ``"feature"`` otherwise. Rows are ordered band, score, then features, largest PSI first.
    scorer : mapping, optional
        The scorer identity (name, version, sha256) the variables were read for.
    notes : sequence of str
        Extra lines for the report.

    Examples
    --------
    >>> report = drift({"band": ["low"] * 8 + ["high"] * 2}, {"band": ["low"] * 5 + ["high"] * 5})
    >>> report.rows[0].name, report.rows[0].level
    ('band', 'significant')
    """
    kinds = dict(kinds or {})
    rows = []
    for name in baseline:
        if name not in current:
            continue
        kind = kinds.get(name, name if name in ("band", "score") else "feature")
        rows.append(_row(name, kind, np.asarray(baseline[name]), np.asarray(current[name])))
    rows.sort(key=lambda r: (_KIND_ORDER.get(r.kind, 3), -r.psi, r.name))
    return DriftReport(tuple(rows), baseline_label, current_label, dict(scorer) if scorer else None, tuple(notes))


def drift_referrals(baseline: Any, current: Any, scorer: Any = None, *, baseline_label: str = "baseline",
                    current_label: str = "current") -> DriftReport:
    """Drift between two referral lists: every feature ``scorer`` reads, its score and its band.

    Parameters
    ----------
    baseline, current : ReferralTable
    scorer : str, Path or Scorer, optional
        Default :data:`iomscore.DEFAULT_SCORER`.

    Examples
    --------
    >>> from iomscore import synth
    >>> report = drift_referrals(synth.generate(200, 1), synth.generate(200, 2))
    >>> report.rows[0].name, all(r.psi >= 0 for r in report.rows)
    ('band', True)
    """
    from ..features import compute_features
    from ..scoring import DEFAULT_SCORER, get_scorer, score_batch

    s = get_scorer(DEFAULT_SCORER if scorer is None else scorer)
    variables = []
    for table in (baseline, current):
        values: dict[str, Any] = dict(compute_features(table.batch, s.features))
        scores = score_batch(table, s)
        values["score"] = np.where(scores.ok, scores.score, np.nan) if scores.error is not None else scores.score
        values["band"] = np.asarray(scores.band, dtype=object)
        variables.append(values)
    identity = s.identity
    return drift(variables[0], variables[1], baseline_label=baseline_label, current_label=current_label,
                 scorer={"name": identity.name, "version": identity.version, "sha256": identity.sha256})
