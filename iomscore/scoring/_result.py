"""Result types shared by every scorer.

:class:`ScoreResult` is what one person gets: a frozen pydantic model that serialises to JSON.
:class:`ScoreBatch` is the same for many people as arrays; ``ScoreBatch.result(i)`` gives the
:class:`ScoreResult` of row ``i``, so both paths say the same thing.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import metadata
from typing import Any, Final, Literal, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .._arrays import factorize, unique_inverse, unique_representatives

__all__ = [
    "SCORE_FORMAT",
    "BreakdownPart",
    "ModelIdentity",
    "ScoreBatch",
    "ScoreResult",
    "explain",
    "format_part_value",
    "render_unique",
]

Unit = Literal["points", "percentage points"]
_M = TypeVar("_M", bound=BaseModel)
_NO_COLUMNS: Final = "combine_codes needs at least one column of codes"
#: The ``format`` of a :class:`ScoreResult` in JSON: the name and version of the output contract.
SCORE_FORMAT: Final = "iomscore.score/1"
#: Day numbers (days since 1970-01-01) of 0001-01-01 and 9999-12-31, the dates Python can hold.
_FIRST_DATE_DAY: Final = -719162
_LAST_DATE_DAY: Final = 2932896
_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1)
def iomscore_version() -> str | None:
    """The installed iomscore's version (``None`` when run from a source tree not installed)."""
    try:
        return metadata.version("iomscore")
    except metadata.PackageNotFoundError:  # pragma: no cover - the test environment installs it
        return None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelIdentity(_Frozen):
    """Which model produced a score: enough to find the exact spec that did it."""

    name: str
    version: str
    sha256: str = Field(description="sha256 of the model spec (canonical JSON)")
    kind: str = Field(description="'ogrs3', 'points', 'estimator', ...")


class BreakdownPart(_Frozen):
    """One additive part of a score, with the fact on record behind it."""

    name: str
    label: str
    value: float = Field(description="Contribution to the score, in the scorer's unit")
    reason: str = Field(description="Plain-English statement of the fact behind the value")


class ScoreResult(_Frozen):
    """The score of one person, and why.

    ``sum(part.value for part in breakdown)`` equals ``score`` (exactly for points scorers;
    to floating-point rounding, under 1e-9, for probability scorers such as OGRS3).

    Its JSON (``model_dump_json()``, :func:`iomscore.score_json`) is the versioned output
    contract: ``format`` names it (``"iomscore.score/1"``; a later incompatible shape gets a
    new number), ``iomscore_version`` is the iomscore that scored and ``assessment_date`` the
    referral's assessment date. These three have defaults (``None`` for the last two, when
    not known), so results saved before they existed still load.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="A", assessment_date="2025-01-01",
    ...     date_of_birth="1990-01-01", sex="male", sanctions=[{"offence_date": "2024-10-01",
    ...     "sanction_date": "2024-11-01", "offence_group": "shop_theft", "disposal": "fine"}])
    >>> result = iomscore.score(r, scorer="iom-priority")
    >>> result.score == sum(p.value for p in result.breakdown)
    True
    """

    format: Literal["iomscore.score/1"] = Field(default=SCORE_FORMAT, description="Name and version of this output contract")
    iomscore_version: str | None = Field(default=None, description="Version of the iomscore that scored")
    person_id: str
    assessment_date: dt.date | None = Field(default=None, description="The referral's assessment date")
    score: float
    band: str
    probabilities: dict[str, float] = Field(default_factory=dict)
    unit: Unit = "points"
    breakdown: tuple[BreakdownPart, ...]
    reasons: tuple[str, ...] = Field(description="Breakdown lines ranked by contribution, largest first")
    model: ModelIdentity
    warnings: tuple[str, ...] = ()

    def explain(self, format: Literal["text", "markdown", "json"] = "text", *,
                leaves_after: LeavesLookup | None = None) -> str:
        """Render the breakdown for a panel (see :func:`iomscore.explain`)."""
        return explain(self, format=format, leaves_after=leaves_after)


def format_part_value(value: float, unit: str) -> str:
    """``+8`` for points, ``+12.3 percentage points`` for probability scorers."""
    if unit == "points":
        if float(value).is_integer():
            return f"{int(value):+d}"
        return f"{value:+.2f}"
    return f"{value:+.1f} percentage points"


@dataclass(frozen=True, eq=False)
class ScoreBatch:
    """Scores of n people as arrays.

    ``part_values[i, k]`` is part ``k`` of row ``i``; rows where ``error[i]`` is not ``None``
    could not be scored (their other fields are meaningless).
    """

    score: np.ndarray
    band: np.ndarray
    probabilities: Mapping[str, np.ndarray]
    part_names: tuple[str, ...]
    part_labels: tuple[str, ...]
    part_values: np.ndarray
    part_reasons: tuple[np.ndarray, ...]
    model: ModelIdentity
    unit: Unit = "points"
    warnings: np.ndarray | None = None
    error: np.ndarray | None = None
    person_id: np.ndarray | None = None
    #: Assessment date of each row as days since 1970-01-01 (``None`` when not known).
    assessment_day: np.ndarray | None = None
    #: Name of the part that is a starting point (the same for everyone, or the formula's
    #: reference); it stays in the breakdown but is not ranked among the reasons.
    baseline_part: str | None = None

    def __len__(self) -> int:
        return int(self.score.shape[0])

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the rows that were scored."""
        if self.error is None:
            return np.ones(len(self), dtype=bool)
        return np.asarray([e is None for e in self.error], dtype=bool)

    def with_person_id(self, person_id: np.ndarray, assessment_day: np.ndarray | None = None) -> ScoreBatch:
        """This batch with each row's person id (and assessment date, as days since 1970-01-01)."""
        day = self.assessment_day if assessment_day is None else np.asarray(assessment_day, dtype=np.int64)
        # dataclasses.replace without its per-field calls (~5 us of a single score): the fields
        # copied, the two set, the cached ranking (not a field) left behind
        new = object.__new__(type(self))
        fields = {k: v for k, v in self.__dict__.items() if k != "_ranked"}
        fields["person_id"] = np.asarray(person_id, dtype=object)
        fields["assessment_day"] = day
        object.__setattr__(new, "__dict__", fields)
        return new

    def _assessment_dates(self, rows: np.ndarray | None = None) -> list[dt.date | None]:
        if self.assessment_day is None:
            return [None] * (len(self) if rows is None else len(rows))
        days = np.asarray(self.assessment_day, dtype=np.int64)
        days = days if rows is None else days[rows]
        dates: list[dt.date | None] = days.astype("datetime64[D]").tolist()
        bad = (days < _FIRST_DATE_DAY) | (days > _LAST_DATE_DAY)  # outside 0001-01-01..9999-12-31: not a date
        for k in np.flatnonzero(bad).tolist():
            dates[k] = None
        return dates

    def ranked_parts(self) -> np.ndarray:
        """Per row, part indices ordered by contribution (largest first; ties in part order).

        The baseline part, if any, is ranked last: it is a starting point, not a reason. The
        ranking is computed once per batch and cached (read-only); ``part_values`` must not be
        changed in place after it is first asked for.
        """
        cached = self.__dict__.get("_ranked")
        if cached is None:
            cached = self._rank_rows(None)
            cached.setflags(write=False)
            object.__setattr__(self, "_ranked", cached)  # a cache, not a field: frozen still holds
        return cached

    def _rank_rows(self, rows: np.ndarray | None) -> np.ndarray:
        """:meth:`ranked_parts` of ``rows`` only (the cached ranking when there is one)."""
        cached = self.__dict__.get("_ranked")
        if cached is not None:
            return cached if rows is None else cached[rows]
        values = -(self.part_values if rows is None else self.part_values[rows])
        if self.baseline_part is not None and self.baseline_part in self.part_names:
            values[:, self.part_names.index(self.baseline_part)] = np.inf
        return np.argsort(values, axis=1, kind="stable")

    def shown_parts(self, top: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Per row, the parts of its first ``top`` reason lines, in rank order: the ranked
        parts (:meth:`ranked_parts`) less zero-valued ones and the baseline; ``-1`` past a
        row's last line. One row per entry of ``rows`` (default: every row).

        Only ``top`` parts a row are found (a pass each over the rows), not a whole ranking,
        unless one is cached or a value is not finite.

        Examples
        --------
        >>> import iomscore
        >>> from iomscore import synth
        >>> batch = iomscore.score_batch(synth.generate(30, seed=2))
        >>> batch.part_values[1, :7].tolist()
        [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0]
        >>> [batch.part_names[k] for k in batch.shown_parts(2)[1] if k >= 0]  # (ties: the first part first)
        ['recency', 'need_drugs_alcohol']
        >>> batch.reason_lines([1], top=2)
        [['Latest offence 14 months at risk ago: +1', 'Some drugs and alcohol need: +1']]
        """
        values = self.part_values if rows is None else self.part_values[rows]
        n, k = values.shape if values.ndim == 2 else (len(self) if rows is None else len(rows), 0)
        slots = max(0, min(int(top), k))
        out = np.full((n, slots), -1, dtype=np.int64)
        if n == 0 or slots == 0:
            return out
        base = self.part_names.index(self.baseline_part) if self.baseline_part in self.part_names else None
        finite = bool(np.isfinite(values).all())
        if self.__dict__.get("_ranked") is not None or not finite:
            ranked = self._rank_rows(rows)
            shown = np.take_along_axis(values, ranked, axis=1) != 0.0
            if base is not None:
                shown &= ranked != base
            seen = np.cumsum(shown, axis=1)
            r, c = np.nonzero(shown & (seen <= slots))
            out[r, seen[r, c] - 1] = ranked[r, c]
            return out
        # (the largest value left in each row, ties to the first part, as the stable ranking)
        key = np.where(values != 0.0, values, -np.inf)
        if base is not None:
            key[:, base] = -np.inf
        every = np.arange(n)
        for t in range(slots):
            part = key.argmax(axis=1)
            hit = key[every, part] > -np.inf
            if not hit.any():
                break
            out[:, t] = np.where(hit, part, -1)
            key[every, part] = -np.inf
        return out

    def _row_order(self, row: int, values: list[float]) -> Sequence[int]:
        """:meth:`_rank_rows` of one row whose part values (as floats) are ``values``."""
        if self.__dict__.get("_ranked") is not None or any(math.isnan(v) for v in values):
            return self._rank_rows(np.asarray([row]))[0].tolist()  # (NaN: ranked last, as argsort does)
        keys = [-v for v in values]
        if self.baseline_part is not None and self.baseline_part in self.part_names:
            keys[self.part_names.index(self.baseline_part)] = math.inf
        return sorted(range(len(keys)), key=keys.__getitem__)  # stable, as the argsort

    def _lines(self, row: int, order: Sequence[int], top: int | None, values: list[float] | None = None) -> list[str]:
        lines = []
        for k in order:
            v = float(self.part_values[row, k]) if values is None else values[k]
            if v == 0.0 or self.part_names[k] == self.baseline_part:
                continue
            lines.append(f"{self.part_reasons[k][row]}: {format_part_value(v, self.unit)}")
            if top is not None and len(lines) >= top:
                break
        return lines

    def reason_lines(self, rows: Sequence[int] | np.ndarray | None = None, top: int | None = None) -> list[list[str]]:
        """``"reason: +value"`` lines per row, ranked; zero-valued parts are left out.

        Only the requested rows are ranked (or the cached ranking is used), so the cost is
        proportional to ``len(rows)`` times the number of parts.
        """
        idx = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        ranked = self.ranked_parts() if rows is None else self._rank_rows(idx)
        return [self._lines(row, order, top) for row, order in zip(idx.tolist(), ranked.tolist())]

    def result(self, i: int) -> ScoreResult:
        """The :class:`ScoreResult` of row ``i`` (ranks the parts of that row only).

        Examples
        --------
        >>> import iomscore
        >>> from iomscore import synth
        >>> batch = iomscore.score_batch(synth.generate(3, seed=1))
        >>> batch.result(2) == batch.results()[2]
        True
        """
        if self.error is not None and self.error[i] is not None:
            raise ValueError(f"row {i} was not scored: {self.error[i]}")
        # Built as results() builds them: every value is converted to its field's type here,
        # so pydantic's validation would only check our own values again.
        values = [float(v) for v in self.part_values[i].tolist()]
        parts = tuple(
            trusted_model(BreakdownPart, {"name": name, "label": label, "value": value, "reason": str(reasons[i])})
            for name, label, value, reasons in zip(self.part_names, self.part_labels, values, self.part_reasons)
        )
        warnings = () if self.warnings is None else self.warnings[i]
        if self.assessment_day is None:
            date = None
        else:
            day = int(self.assessment_day[i])
            date = dt.date.fromordinal(day + _EPOCH_ORDINAL) if _FIRST_DATE_DAY <= day <= _LAST_DATE_DAY else None
        return trusted_model(
            ScoreResult,
            {
                "format": SCORE_FORMAT,
                "iomscore_version": iomscore_version(),
                "person_id": "" if self.person_id is None else str(self.person_id[i]),
                "assessment_date": date,
                "score": float(self.score[i]),
                "band": str(self.band[i]),
                "probabilities": {k: float(v[i]) for k, v in self.probabilities.items()},
                "unit": self.unit,
                "breakdown": parts,
                "reasons": tuple(self._lines(i, self._row_order(i, values), None, values)),
                "model": self.model,
                "warnings": warnings if type(warnings) is tuple else tuple(warnings),
            },
        )

    def results(self) -> list[ScoreResult]:
        """``[self.result(i) for i in range(len(self))]``, in time linear in the batch.

        Breakdowns and reason lines are built once per distinct pattern of part values and
        reason texts (:meth:`breakdowns`, :meth:`reason_tuples`) and shared between rows;
        the results equal those of :meth:`result` field for field. Raises ``ValueError`` on
        the first row that was not scored, as :meth:`result` does.
        """
        n = len(self)
        if self.error is not None:
            bad = np.flatnonzero(~self.ok)
            if bad.size:
                self.result(int(bad[0]))  # raises with the row's error
        breakdowns = self.breakdowns().tolist()
        reasons = self.reason_tuples().tolist()
        pid = [""] * n if self.person_id is None else [str(p) for p in np.asarray(self.person_id).tolist()]
        score = np.asarray(self.score, dtype=np.float64).tolist()
        band = [str(b) for b in np.asarray(self.band).tolist()]
        probs = {k: np.asarray(v, dtype=np.float64).tolist() for k, v in self.probabilities.items()}
        if probs:
            prob_rows: Sequence[dict[str, float]] = [dict(zip(probs, vals)) for vals in zip(*probs.values())]
        else:
            prob_rows = [{} for _ in range(n)]
        warn = [()] * n if self.warnings is None else [w if type(w) is tuple else tuple(w) for w in self.warnings.tolist()]
        unit, model, version = self.unit, self.model, iomscore_version()
        dates = self._assessment_dates()
        with paused_gc():
            return [
                trusted_model(
                    ScoreResult,
                    {
                        "format": SCORE_FORMAT,
                        "iomscore_version": version,
                        "person_id": pid[i],
                        "assessment_date": dates[i],
                        "score": score[i],
                        "band": band[i],
                        "probabilities": prob_rows[i],
                        "unit": unit,
                        "breakdown": breakdowns[i],
                        "reasons": reasons[i],
                        "model": model,
                        "warnings": warn[i],
                    },
                )
                for i in range(n)
            ]

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per person, in batch order, and typed columns.

        Columns, in order: ``person_id`` (string), ``assessment_date`` (datetime64, ``NaT``
        when not known), ``score`` (float64), ``band`` (string),
        ``prob_<horizon>`` (float64) for each probability the scorer gives (``prob_1y``,
        ``prob_2y`` for OGRS3), ``part_<name>`` (float64) for each breakdown part (its value in
        ``unit``), ``reasons`` and ``warnings`` (tuples of strings, ranked as in
        :class:`ScoreResult`), ``unit``, ``model_name``, ``model_version``, ``model_sha256``
        (strings) and ``error`` (string; missing for a scored row). A row that was not scored
        has missing score, band, probabilities and parts, and no reasons. Requires pandas (the
        ``pandas`` extra); raises ``ImportError`` saying so when it is missing.

        Examples
        --------
        >>> import iomscore
        >>> from iomscore import synth
        >>> batch = iomscore.score_batch(synth.generate(4, seed=1), "ogrs3")
        >>> frame = batch.to_frame()
        >>> frame.columns[:6].tolist(), len(frame) == len(batch)
        (['person_id', 'assessment_date', 'score', 'band', 'prob_1y', 'prob_2y'], True)
        >>> bool((frame.filter(like="part_").sum(axis=1) - frame["score"]).abs().max() < 1e-9)
        True
        """
        from .._pandas import require_pandas

        pd = require_pandas("ScoreBatch.to_frame()")
        n = len(self)
        ok = self.ok
        all_ok = bool(ok.all())

        def numbers(values: np.ndarray) -> np.ndarray:
            out = np.asarray(values, dtype=np.float64).copy()
            if not all_ok:
                out[~ok] = np.nan
            return out

        def strings(values: Any) -> Any:
            text = np.array(values, dtype=object)
            if not all_ok:
                text[~ok] = None
            return pd.array(text, dtype="string")

        pid = np.full(n, "", dtype=object) if self.person_id is None else np.asarray(self.person_id, dtype=object)
        columns: dict[str, Any] = {
            "person_id": pd.array(pid.astype(str), dtype="string"),
            "assessment_date": pd.to_datetime(pd.Series(self._assessment_dates(), dtype=object)),
            "score": numbers(self.score),
            "band": strings(np.asarray(self.band).astype(str).astype(object)),
        }
        for horizon, values in self.probabilities.items():
            columns[f"prob_{horizon}"] = numbers(values)
        for k, name in enumerate(self.part_names):
            columns[f"part_{name}"] = numbers(self.part_values[:, k])
        reasons = self.reason_tuples() if n else object_array([])
        if not all_ok:
            reasons = reasons.copy()
            reasons[~ok] = object_array([()] * int((~ok).sum()))
        columns["reasons"] = reasons
        columns["warnings"] = empty_warnings(n) if self.warnings is None else object_array(
            [w if type(w) is tuple else tuple(w) for w in self.warnings.tolist()]
        )
        for column, value in (
            ("unit", self.unit),
            ("model_name", self.model.name),
            ("model_version", self.model.version),
            ("model_sha256", self.model.sha256),
        ):
            columns[column] = pd.array(np.full(n, value, dtype=object), dtype="string")
        error = np.full(n, None, dtype=object) if self.error is None else np.asarray(self.error, dtype=object)
        columns["error"] = pd.array(error, dtype="string")
        return pd.DataFrame(columns)

    def patterns(self) -> tuple[np.ndarray, np.ndarray]:
        """``(representative, inverse)``: rows whose every part has the same value (bit for bit)
        and the same reason text share a pattern, and so the same breakdown and reason lines.

        ``inverse[i]`` is the pattern of row ``i``; ``representative[p]`` one row of pattern
        ``p``. Computed once and cached, in a few sorts per part (reason texts are grouped by
        the object holding them, then hashed once per distinct object: :func:`text_codes`).
        """
        cached = self.__dict__.get("_patterns")
        if cached is None:
            cached = combine_codes(self._part_codes())
            object.__setattr__(self, "_patterns", cached)
        return cached

    def _part_codes(self) -> list[np.ndarray]:
        """Per part, a code per row such that equal codes mean equal (value, reason text)."""
        cached = self.__dict__.get("_part_code_cache")
        if cached is None:
            n = len(self)
            cached = []
            for k in range(len(self.part_names)):
                value_code = float_codes(self.part_values[:, k]) if n else np.zeros(0, dtype=np.int64)
                text_code = text_codes(self.part_reasons[k])
                _, code = combine_codes([value_code, text_code.reshape(n)])
                cached.append(code)
            object.__setattr__(self, "_part_code_cache", cached)
        return cached

    def breakdowns(self) -> np.ndarray:
        """Object array: the breakdown (tuple of :class:`BreakdownPart`) of every row.

        Rows with equal parts share one tuple, and equal parts one :class:`BreakdownPart`
        (they are frozen), so this costs a few object builds per distinct part, not per row.

        Examples
        --------
        >>> import iomscore
        >>> from iomscore import synth
        >>> batch = iomscore.score_batch(synth.generate(50, seed=2))
        >>> batch.breakdowns()[7] == batch.result(7).breakdown
        True
        """
        n, kk = len(self), len(self.part_names)
        if n == 0:
            return np.empty(0, dtype=object)
        rep, inverse = self.patterns()
        per_part: list[np.ndarray] = []
        for k, code in enumerate(self._part_codes()):
            first, _ = unique_representatives(code)
            name, label, values, reasons = self.part_names[k], self.part_labels[k], self.part_values[:, k], self.part_reasons[k]
            objs = object_array([
                trusted_model(BreakdownPart, {"name": name, "label": label, "value": float(values[r]), "reason": str(reasons[r])})
                for r in first.tolist()
            ])
            per_part.append(objs[code[rep]])  # the part object of each pattern
        tuples = object_array(list(zip(*per_part)) if kk else [()] * rep.size)
        return tuples[inverse]

    def reason_tuples(self, top: int | None = None) -> np.ndarray:
        """Object array: the ranked reason lines of every row as a tuple (at most ``top``).

        The same text as :meth:`reason_lines`, on arrays: each line's text is built once per
        distinct (part, value, reason), and each distinct tuple of lines once.

        Examples
        --------
        >>> import iomscore
        >>> from iomscore import synth
        >>> batch = iomscore.score_batch(synth.generate(40, seed=3))
        >>> list(batch.reason_tuples(top=2)[5]) == batch.reason_lines([5], top=2)[0]
        True
        """
        n, kk = len(self), len(self.part_names)
        if n == 0 or kk == 0:
            return object_array([()] * n)
        slots = kk if top is None else max(1, min(top, kk))  # reason_lines gives one line for top <= 0
        codes = self._part_codes()
        # Line codes: part k's code c is offset[k] + c + 1 (0: no line in that slot).
        widths = [int(c.max()) + 1 for c in codes]
        offset = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        code_matrix = np.column_stack(codes) + offset + 1  # (n, parts)
        shown = self.shown_parts(slots)
        every = np.arange(n)
        slot_codes = [np.where(part >= 0, code_matrix[every, np.maximum(part, 0)], 0) for part in shown.T]
        representative, inverse = combine_codes(slot_codes)
        used = np.unique(np.concatenate([c[representative] for c in slot_codes]))
        text: dict[int, str] = {}
        part_of = np.searchsorted(offset + 1, used, side="right") - 1
        rows_of = [unique_representatives(c)[0] for c in codes]  # codes are dense: 0..m-1
        for g, k in zip(used.tolist(), part_of.tolist()):
            if g == 0:
                continue
            row = int(rows_of[k][g - offset[k] - 1])
            value = float(self.part_values[row, k])
            text[g] = f"{self.part_reasons[k][row]}: {format_part_value(value, self.unit)}"
        tuples = object_array(
            [tuple(text[c] for c in cs if c) for cs in zip(*(s[representative].tolist() for s in slot_codes))]
        )
        return tuples[inverse]


def float_codes(values: np.ndarray) -> np.ndarray:
    """Codes of a float column, equal exactly when the values are equal bit for bit (so
    ``-0.0`` and ``0.0`` differ, as they do in JSON)."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        small = np.isfinite(v).all() and bool((np.abs(v) < 2**52).all())
    if small:
        as_int = v.astype(np.int64)
        if bool((as_int == v).all()) and not bool((np.signbit(v) & (v == 0)).any()):
            return as_int - as_int.min()
    return unique_representatives(v.view(np.int64))[1]


def text_codes(texts: np.ndarray | Sequence[object]) -> np.ndarray:
    """Codes of a column of text (or other hashables), equal exactly when the values are.

    Reason columns hold few distinct strings, each shared by many rows (they come from
    :func:`render_unique`), so rows are first grouped by object identity, read as integers
    from the array's buffer in one step, and only one row per distinct object is hashed.

    Examples
    --------
    >>> c = text_codes(np.array(["b", "a", "b", "".join(["a"])], dtype=object))
    >>> bool(c[0] == c[2] and c[1] == c[3] and c[0] != c[1])
    True
    """
    objs = np.ascontiguousarray(np.asarray(texts, dtype=object).reshape(-1))
    if objs.size == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        identity = np.frombuffer(objs, dtype=np.intp)  # the object each slot refers to
    except (TypeError, ValueError, BufferError):  # pragma: no cover - no buffer of references
        return factorize(objs.tolist())[0]
    first, inverse = unique_inverse(identity)
    codes, _ = factorize(objs[first].tolist())  # equal text held by different objects
    return codes[inverse]


def combine_codes(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(representative, inverse)`` of rows of several non-negative integer code columns.

    Rows are equal when every column's code is; codes are packed into one integer key (and
    compacted when the key would overflow), then grouped in linear time.

    Examples
    --------
    >>> rep, inv = combine_codes([np.array([0, 1, 0, 0]), np.array([2, 2, 2, 5])])
    >>> inv.tolist(), len(rep)
    ([0, 2, 0, 1], 3)
    """
    if not columns:
        raise ValueError(_NO_COLUMNS)
    key = np.zeros(np.asarray(columns[0]).shape[0], dtype=np.int64)
    span = 1
    for column in columns:
        c = np.asarray(column, dtype=np.int64).reshape(-1)
        width = int(c.max()) + 1 if c.size else 1
        if span * width >= 1 << 62:
            rep, key = unique_representatives(key)
            span = max(int(rep.size), 1)
        key = key * width + c
        span *= width
    return unique_representatives(key)


def trusted_model(cls: type[_M], fields: dict[str, Any], fields_set: set[str] | None = None) -> _M:
    """A pydantic model from values already of the field types, without validation.

    For batch paths that build millions of frozen models from checked arrays: it does what
    ``cls.model_construct(**fields)`` does (every field must be given) without its per-field
    Python loop. The result compares, dumps and hashes like a validated instance.
    ``fields_set`` may be one set shared by many instances (pydantic copies it before any
    change), which saves a set per object.

    Examples
    --------
    >>> part = trusted_model(BreakdownPart, {"name": "a", "label": "A", "value": 1.0, "reason": "r"})
    >>> part == BreakdownPart(name="a", label="A", value=1.0, reason="r")
    True
    """
    if len(fields) != _field_count(cls):  # fields added with defaults since the caller was written
        given = set(fields) if fields_set is None else fields_set
        defaults = _defaults(cls)
        fields = {name: fields[name] if name in fields else defaults[name] for name in cls.model_fields}
        fields_set = given
    obj = cls.__new__(cls)
    _set = object.__setattr__
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", set(fields) if fields_set is None else fields_set)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


@cache
def _field_count(cls: type[BaseModel]) -> int:
    """``len(cls.model_fields)``, read once per class (the class attribute costs a descriptor call)."""
    return len(cls.model_fields)


def _defaults(cls: type[BaseModel]) -> dict[str, Any]:
    """Default values of ``cls``'s optional fields (default factories called afresh)."""
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in cls.model_fields.items()
        if not field.is_required()
    }


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch path builds many small objects.

    Building a million frozen models (none of them in a reference cycle) otherwise triggers
    repeated full collections that scan every object built so far, doubling the cost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def object_array(items: Sequence[object]) -> np.ndarray:
    """A 1-d object array holding ``items`` as they are (tuples stay elements, not rows)."""
    return np.fromiter(items, dtype=object, count=len(items))


_NO_WARNINGS: Final[tuple[str, ...]] = ()


def empty_warnings(n: int) -> np.ndarray:
    """``n`` rows of no warnings (each the empty tuple).

    Examples
    --------
    >>> empty_warnings(2).tolist()
    [(), ()]
    """
    out = np.empty(n, dtype=object)
    out.fill(_NO_WARNINGS)  # (one object in every slot, with no list of n built first)
    return out


#: Below this many rows :func:`render_unique` renders every row: grouping the rows by key to
#: render each distinct text once pays for itself only on larger batches (a single score).
RENDER_EACH_BELOW: Final = 16


def render_unique(keys: np.ndarray, render: Callable[[int], str]) -> np.ndarray:
    """Render text once per distinct key and spread it over the rows.

    ``keys`` is an integer array (one per row) such that rows with equal keys get equal text;
    ``render(row)`` formats the text of one representative row. This keeps reason text for a
    million people at the cost of a few thousand string formats. Fewer than
    :data:`RENDER_EACH_BELOW` rows are rendered one by one (the same text, by that contract).
    """
    keys = np.asarray(keys)
    if keys.size == 0:
        return np.empty(0, dtype=object)
    if keys.size < RENDER_EACH_BELOW:
        return object_array([render(r) for r in range(keys.size)])
    representative, inverse = unique_representatives(keys)
    texts = np.array([render(int(r)) for r in representative], dtype=object)
    return texts[inverse]


def render_rows(columns: Sequence[np.ndarray], render: Callable[..., str], keys: Callable[[], np.ndarray]) -> np.ndarray:
    """:func:`render_unique` with the text made from row values: ``render(*values)`` gets row
    ``r`` of each of ``columns`` as Python scalars (``tolist``), and ``keys()`` gives the integer
    key of every row (called only when rows are grouped, not for a few rows, which are
    rendered one by one without building keys).
    """
    n = np.asarray(columns[0]).shape[0]
    if n == 0:
        return np.empty(0, dtype=object)
    if n < RENDER_EACH_BELOW:
        return object_array([render(*values) for values in zip(*[np.asarray(c).tolist() for c in columns])])
    representative, inverse = unique_representatives(keys())
    texts = [render(*values) for values in zip(*[np.asarray(c)[representative].tolist() for c in columns])]
    return np.array(texts, dtype=object)[inverse]


__all__ += ["RENDER_EACH_BELOW", "combine_codes", "empty_warnings", "float_codes", "object_array", "paused_gc", "render_rows", "text_codes", "trusted_model"]


# Rendering a score's breakdown for a panel: text, Markdown or JSON.

_BAD_FORMAT: Final = "format must be 'text', 'markdown' or 'json', not {format!r}"


class LeavesLookup(Protocol):
    """What :func:`explain` needs of :class:`iomscore.cohort.LeavesAfter` (kept here as a protocol:
    the engine scores, so it sits above this module)."""

    def index(self, person_id: str) -> int: ...

    def for_person(self, i: int) -> dict[str, Any] | None: ...

    def sentence(self, i: int) -> str: ...


def _probabilities(result: ScoreResult) -> str:
    if not result.probabilities:
        return ""
    return ", ".join(f"{k}: {v:.1%}" for k, v in result.probabilities.items())


def _score_text(result: ScoreResult) -> str:
    if result.unit == "points":
        return f"{result.score:g} points"
    return f"{result.score:.1f}%"


def explain(result: ScoreResult, format: Literal["text", "markdown", "json"] = "text", *,
            leaves_after: LeavesLookup | None = None) -> str:
    """The breakdown of ``result``, largest contribution first, with the reason for each part.

    With ``leaves_after`` (a :class:`iomscore.cohort.LeavesAfter` that includes the person),
    the output also says when they would leave: a line in text and Markdown, and in JSON a
    ``"leaves_after"`` object (``months_at_risk``, ``date``, ``score``, ``band``, ``rule``) or
    ``null`` when the rule does not hold within the months looked ahead; without it the JSON
    has no ``"leaves_after"`` key.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1995-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}])
    >>> print(iomscore.explain(iomscore.score(r)).splitlines()[0])  # doctest: +ELLIPSIS
    P1: ... points, band ... (iom-priority ...)
    >>> from iomscore.cohort import leaves_after
    >>> table = iomscore.ReferralTable.from_referrals([r])
    >>> print(iomscore.explain(iomscore.score(r), leaves_after=leaves_after(table, threshold=4)).splitlines()[-1])
      leaves: below the entry threshold of 4 after 20 more offence-free months at risk, on 2027-02-01 if not in custody
    """
    ordered = sorted(result.breakdown, key=lambda p: -p.value)
    model = f"{result.model.name} {result.model.version}"
    leaves: tuple[dict[str, Any] | None, str] | None = None
    if leaves_after is not None:
        i = leaves_after.index(result.person_id)
        leaves = (leaves_after.for_person(i), leaves_after.sentence(i))
    if format == "json":
        data = result.model_dump(mode="json")
        if leaves is not None:
            data["leaves_after"] = leaves[0]
        return json.dumps(data, indent=2, ensure_ascii=False)
    probs = _probabilities(result)
    if format == "text":
        lines = [f"{result.person_id}: {_score_text(result)}, band {result.band} ({model})"]
        if probs:
            lines.append(f"  probabilities: {probs}")
        for p in ordered:
            lines.append(f"  {format_part_value(p.value, result.unit):>24}  {p.reason}")
        for w in result.warnings:
            lines.append(f"  warning: {w}")
        lines.append(f"  model sha256: {result.model.sha256}")
        if leaves is not None:
            lines.append(f"  leaves: {leaves[1]}")
        return "\n".join(lines)
    if format == "markdown":
        lines = [
            f"### {result.person_id}: {_score_text(result)}, band **{result.band}**",
            "",
            f"Model: `{model}` (sha256 `{result.model.sha256[:12]}`)" + (f"; probabilities {probs}" if probs else ""),
            "",
            "| Contribution | Factor | Reason |",
            "|---:|---|---|",
        ]
        for p in ordered:
            reason = p.reason.replace("|", "\\|")
            lines.append(f"| {format_part_value(p.value, result.unit)} | {p.label} | {reason} |")
        lines.append(f"| **{_score_text(result)}** | **Total** | |")
        if result.warnings:
            lines += ["", *[f"- Warning: {w}" for w in result.warnings]]
        if leaves is not None:
            lines += ["", f"**When would they leave:** {leaves[1]}."]
        return "\n".join(lines)
    raise ValueError(_BAD_FORMAT.format(format=format))
