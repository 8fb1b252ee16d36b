"""``check_scorer``: the iomscore property suite, runnable against any scorer.

In the spirit of scikit-learn's ``check_estimator``: every property is searched with
hypothesis (:func:`hypothesis.find`), and a failure reports the smallest counterexample found,
as referral JSON.

Properties
----------
``contract``
    The :class:`~iomscore.ScoreBatch` has one row per referral and consistent parts, the model
    identity is the scorer's, features are known and ``monotone`` names declared features.
``determinism``
    Scoring the same referrals twice gives byte-identical output (score, band, error,
    probabilities, breakdown, reasons, warnings).
``single_equals_batch``
    A referral scored alone and inside a batch gives the same row, and :func:`iomscore.score`
    returns ``batch.result(i)`` (or raises :class:`~iomscore.ScoringError` for rows the scorer
    cannot score).
``order_invariance``
    Shuffling a batch gives the same output per person.
``record_order_invariance``
    Listing a referral's sanctions and custody periods in another order changes nothing.
``protected_invariance``
    Changing only protected characteristics (and ``sex``, unless the scorer declares the
    ``"sex"`` feature) leaves the output byte-identical.
``serious_harm_independence``
    Changing only risk-of-serious-harm and MAPPA information leaves the output byte-identical,
    so it can never raise a reoffending score.
``referral_facts_independence``
    Changing only the referral facts (supervision status and dates, release date, agreement to
    engage: :func:`iomscore.testing.referral_facts`) leaves the output byte-identical, unless the
    scorer declares one of their features (:data:`REFERRAL_FACT_FEATURES`; then skipped). These
    are facts for eligibility and planning, not for a reoffending score.
``breakdown_additivity``
    The breakdown sums to the score: exactly for points, within 1e-9 (relative) otherwise.
``score_bounds``
    Scores are finite, probabilities in [0, 1], percentages in [0, 100], bands named; a scorer
    with a points ``spec`` stays within ``spec.min_total..spec.max_total`` on whole points and
    names one of its bands.
``offence_monotonicity``, ``recency_monotonicity``
    One more offence, or an offence moved later (nearer the assessment), never lowers the
    score. Checked only where the scorer declares it (see :func:`declares_offence_monotone`);
    otherwise reported as skipped.
``feature_monotonicity``
    For each feature in ``scorer.monotone``, raising that feature alone (others fixed) moves
    ``score_features`` only in the declared direction.
``summary_only_history``
    A referral given only as a sanction summary with a long, recent record (at least
    :data:`LONG_RECORD_PREVIOUS` previous sanctions, the current conviction within
    :data:`RECENT_CONVICTION_DAYS` days of the assessment) is never silently scored as if it
    had no record: it fails when it gets the lowest band (the first band of a points spec;
    for other scorers, the band of the comparison), scores no higher than the same person
    with no history at all (or, where the scorer cannot score that, with no previous
    sanctions), and carries no warning that the comparison does not carry.
``json_round_trip``
    A referral and a :class:`~iomscore.ScoreResult` survive JSON unchanged, and the referral
    read back scores the same.
``spec_round_trip``
    For a scorer with a points ``spec``: spec -> JSON file -> :func:`iomscore.load_spec` gives
    the same sha256 and the same scores. Not applicable otherwise (skipped).

Rows a scorer cannot score (``ScoreBatch.error`` set, for example OGRS3 without a recorded sex)
are not failures; determinism and the invariances must hold for them too (the same error).
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, FlakyFailure, NoSuchExample
from pydantic import BaseModel

from .._errors import IomscoreError
from ..features._engine import FEATURES, FeatureFrame
from ..schema._referral import Referral
from ..schema._table import ReferralTable
from ..scoring._api import ScoringError, score, score_batch
from ..scoring._points import PointsScorer
from ..scoring._protocol import Scorer
from ..scoring._registry import get_scorer
from ..scoring._result import ModelIdentity, ScoreBatch, ScoreResult
from ..scoring._spec import PointsSpec, load_spec
from . import _strategies as S

__all__ = [
    "LONG_RECORD_PREVIOUS",
    "OFFENCE_MONOTONE_FEATURES",
    "PROPERTIES",
    "RECENT_CONVICTION_DAYS",
    "CheckReport",
    "PropertyResult",
    "ScorerCheckError",
    "check_scorer",
    "declares_offence_monotone",
]

T = TypeVar("T")
Status = Literal["pass", "fail", "skipped"]

#: How each feature moves when one offence is added to a referral, or an offence is moved
#: later (nearer the assessment date), all else equal: ``"increasing"``, ``"decreasing"`` or
#: ``"unchanged"``. Features missing here (rates, ages at sanctions, occasion counts, the
#: current offence) can move either way, or from "not recorded" to a value.
OFFENCE_MONOTONE_FEATURES: Final[Mapping[str, str]] = {
    **{f"offences_{m}m_at_risk": "increasing" for m in (6, 12, 24, 36)},
    "proven_offences": "increasing",
    "neighbourhood_offences": "increasing",
    "neighbourhood_offences_24m_at_risk": "increasing",
    "acquisitive_offences": "increasing",
    "acquisitive_offences_24m_at_risk": "increasing",
    "violent_offences": "increasing",
    "drug_offences": "increasing",
    "offence_free_months_at_risk": "decreasing",
    **{f: "unchanged" for f in FEATURES if f.startswith("need")},
    "age_at_assessment": "unchanged",
    "custody_days_total": "unchanged",
    "sex": "unchanged",
    **{f: "unchanged" for f in sorted(S.REFERRAL_FACT_FEATURES)},
}

#: Every property, in the order they run and are reported.
PROPERTIES: Final = (
    "contract",
    "determinism",
    "single_equals_batch",
    "order_invariance",
    "record_order_invariance",
    "protected_invariance",
    "serious_harm_independence",
    "referral_facts_independence",
    "breakdown_additivity",
    "score_bounds",
    "offence_monotonicity",
    "recency_monotonicity",
    "feature_monotonicity",
    "summary_only_history",
    "json_round_trip",
    "spec_round_trip",
)

#: ``summary_only_history``: a long record has at least this many previous sanctions ...
LONG_RECORD_PREVIOUS: Final = 20
#: ... and a current conviction at most this many days (about three months) before the assessment.
RECENT_CONVICTION_DAYS: Final = 91
_MAX_SUMMARY_PREVIOUS: Final = 60

DEFAULT_MAX_EXAMPLES: Final = 50
DEFAULT_MAX_SHRINKS: Final = 300
ADDITIVITY_TOLERANCE: Final = 1e-9

_UNKNOWN_PROPERTY: Final = "unknown property {name!r}; choose from {known}"
_CHECK_FAILED: Final = "check_scorer: {n} of {total} properties failed for {scorer}:\n{details}"
_FLAKY: Final = " (flaky: the failure did not reproduce on replay, so the scorer is not deterministic)"
_RAISED: Final = "the scorer raised {type}: {message}"
_DIFFERS: Final = "{what} changed the output: {diff}"
_NOT_DECLARED: Final = "not declared (skipped): {reason}"
_READS_FACTS: Final = "not applicable (skipped): the scorer declares {features}, features of the referral facts"
_NO_SPEC: Final = "not applicable (skipped): the scorer has no points spec"
_CANNOT_SCORE: Final = "not applicable (skipped): the scorer reads {features}, which referrals do not give"
_NO_MONOTONE: Final = "not declared (skipped): the scorer declares no monotone features"
_LOWERED: Final = "{what} {verb} the score from {before!r} to {after!r}"
_SUMMARY_IGNORED: Final = (
    "a referral given only as a summary ({previous} previous sanctions, current conviction {days} days "
    "before the assessment) got the lowest band {band!r} with score {score!r}, no higher than {reference} "
    "({reference_score!r}), and no warning that the history is incomplete"
)
_NO_HISTORY: Final = "the same person with no history at all"
_NO_PREVIOUS: Final = "the same summary with no previous sanctions"
_FEATURE_WRONG_WAY: Final = (
    "feature {feature!r} is declared {direction} but raising it from {a!r} to {b!r} (others fixed) "
    "moved the score from {before!r} to {after!r}"
)


class ScorerCheckError(IomscoreError, AssertionError):
    """Raised by :func:`check_scorer` when a property fails; ``report`` holds every result."""

    def __init__(self, message: str, report: CheckReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one property.

    Attributes
    ----------
    name : str
        One of :data:`PROPERTIES`.
    status : {"pass", "fail", "skipped"}
    message : str
        What failed (with the values), or why the property was skipped; empty on a pass.
    counterexample : str or None
        The smallest failing input hypothesis found, as JSON: a referral
        (``Referral.model_dump_json``), or a list of referrals for batch properties.
    """

    name: str
    status: Status
    message: str = ""
    counterexample: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``name``, ``status``, ``message`` and ``counterexample`` (parsed JSON)."""
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "counterexample": None if self.counterexample is None else json.loads(self.counterexample),
        }


@dataclass(frozen=True)
class CheckReport:
    """Results of :func:`check_scorer` for one scorer.

    Examples
    --------
    >>> import iomscore
    >>> from iomscore.testing import check_scorer
    >>> report = check_scorer("iom-priority", max_examples=5, properties=["determinism"])
    >>> report.ok, [r.status for r in report.results]
    (True, ['pass'])
    """

    scorer: str
    version: str
    sha256: str
    results: tuple[PropertyResult, ...]
    max_examples: int
    seed: int | None = None
    _by_name: dict[str, PropertyResult] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {r.name: r for r in self.results})

    def __getitem__(self, name: str) -> PropertyResult:
        return self._by_name[name]

    @property
    def ok(self) -> bool:
        """True when no property failed (skipped properties do not count against it)."""
        return not self.failed

    @property
    def passed(self) -> tuple[PropertyResult, ...]:
        return tuple(r for r in self.results if r.status == "pass")

    @property
    def failed(self) -> tuple[PropertyResult, ...]:
        return tuple(r for r in self.results if r.status == "fail")

    @property
    def skipped(self) -> tuple[PropertyResult, ...]:
        return tuple(r for r in self.results if r.status == "skipped")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "scorer": self.scorer,
            "version": self.version,
            "sha256": self.sha256,
            "ok": self.ok,
            "max_examples": self.max_examples,
            "seed": self.seed,
            "counts": {"pass": len(self.passed), "fail": len(self.failed), "skipped": len(self.skipped)},
            "results": [r.to_dict() for r in self.results],
        }

    def to_text(self, *, counterexamples: bool = True) -> str:
        """One line per property (``PASS``, ``FAIL``, ``SKIP``), counterexamples indented."""
        lines = [f"iomscore check: {self.scorer} {self.version} (sha256 {self.sha256[:12]})"]
        tag = {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP"}
        for r in self.results:
            line = f"{tag[r.status]}  {r.name}"
            if r.message:
                line += f": {r.message}"
            lines.append(line)
            if counterexamples and r.counterexample is not None:
                lines.append("      counterexample:")
                lines.extend("        " + x for x in r.counterexample.splitlines())
        lines.append(
            f"{len(self.results)} properties: {len(self.passed)} passed, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


# --- comparing outputs ------------------------------------------------------------------


def _bits(x: Any) -> bytes:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64)).tobytes()


def _row(batch: ScoreBatch, i: int) -> dict[str, Any]:
    """Everything a scorer says about row ``i``, in a form compared bit for bit."""
    return {
        "score": _bits(batch.score[i]),
        "band": str(batch.band[i]),
        "error": None if batch.error is None else batch.error[i],
        "probabilities": {k: _bits(v[i]) for k, v in sorted(batch.probabilities.items())},
        "unit": batch.unit,
        "parts": tuple(batch.part_names),
        "part_values": _bits(batch.part_values[i]),
        "reasons": tuple(str(r[i]) for r in batch.part_reasons),
        "warnings": () if batch.warnings is None else tuple(batch.warnings[i]),
    }


def _show(batch: ScoreBatch, i: int) -> dict[str, Any]:
    return {
        "score": float(batch.score[i]),
        "band": str(batch.band[i]),
        "error": None if batch.error is None else batch.error[i],
        "probabilities": {k: float(v[i]) for k, v in batch.probabilities.items()},
        "part_values": [float(x) for x in batch.part_values[i]],
        "reasons": [str(r[i]) for r in batch.part_reasons],
        "warnings": [] if batch.warnings is None else list(batch.warnings[i]),
    }


def _diff(a: ScoreBatch, i: int, b: ScoreBatch, j: int) -> str | None:
    """``None`` when rows are identical, else which fields differ and how."""
    ra, rb = _row(a, i), _row(b, j)
    if ra == rb:
        return None
    sa, sb = _show(a, i), _show(b, j)
    parts = []
    for key in ra:
        if ra[key] != rb[key]:
            parts.append(f"{key} {sa.get(key, ra[key])!r} -> {sb.get(key, rb[key])!r}")
    return "; ".join(parts)


def _score(scorer: Scorer, referrals: Sequence[Referral]) -> ScoreBatch:
    return score_batch(ReferralTable.from_referrals(referrals), scorer)


def _ok(batch: ScoreBatch, i: int) -> bool:
    return batch.error is None or batch.error[i] is None


def _num(x: Any) -> float:
    return float(x)


# --- the search -------------------------------------------------------------------------


class _ShrinkBudgetSpent(BaseException):
    """Raised through hypothesis (it lets BaseException through) to stop shrinking."""


@dataclass
class _Context:
    scorer: Scorer
    settings: settings
    seed: int | None
    referrals: st.SearchStrategy[Referral]
    max_shrinks: int


def _search(ctx: _Context, strategy: st.SearchStrategy[T], violation: Callable[[T], str | None]) -> tuple[T, str] | None:
    """The smallest example for which ``violation`` returns a message (or raises), or ``None``."""

    latest: list[tuple[T, str]] = []
    calls = [0]

    def message(example: T) -> str | None:
        if latest:
            calls[0] += 1
            if calls[0] > ctx.max_shrinks:
                raise _ShrinkBudgetSpent
        try:
            msg = violation(example)
        except Exception as exc:  # noqa: BLE001 - a scorer raising on a valid input fails the property
            msg = _RAISED.format(type=type(exc).__name__, message=exc)
        if msg is not None:
            # The shrinker only tries inputs smaller than its best, so the latest failure is
            # the smallest found so far.
            latest[:] = [(example, msg)]
        return msg

    rng = None if ctx.seed is None else random.Random(ctx.seed)
    try:
        example = find(strategy, lambda x: message(x) is not None, settings=ctx.settings, random=rng)
    except NoSuchExample:
        return None
    except _ShrinkBudgetSpent:
        return latest[0]
    except (Flaky, FlakyFailure):
        # The failure did not reproduce when hypothesis replayed it: the property itself is not
        # deterministic. Report the last failing example seen (not necessarily the smallest).
        if not latest:
            raise
        example, msg = latest[0]
        return example, msg + _FLAKY
    return example, message(example) or "failed"


def _json(example: Any) -> str:
    def plain(x: Any) -> Any:
        if isinstance(x, BaseModel):
            return x.model_dump(mode="json")
        if isinstance(x, (list, tuple)):
            return [plain(y) for y in x]
        return x

    if isinstance(example, BaseModel):
        return example.model_dump_json(indent=2)
    return json.dumps(plain(example), indent=2)


def _result(name: str, ctx: _Context, strategy: st.SearchStrategy[T], violation: Callable[[T], str | None],
            shown: Callable[[T], Any] = lambda x: x) -> PropertyResult:
    found = _search(ctx, strategy, violation)
    if found is None:
        return PropertyResult(name, "pass")
    example, msg = found
    return PropertyResult(name, "fail", msg, _json(shown(example)))


# --- properties -------------------------------------------------------------------------


def _batches(ctx: _Context, max_size: int = 4) -> st.SearchStrategy[list[Referral]]:
    """Lists of referrals with distinct person ids (``P0``, ``P1``, ...)."""
    return st.lists(ctx.referrals, min_size=1, max_size=max_size).map(
        lambda rs: [r.model_copy(update={"person_id": f"P{i}"}) for i, r in enumerate(rs)]
    )


def _p_contract(ctx: _Context) -> PropertyResult:
    s = ctx.scorer
    problems = []
    unknown = [f for f in s.features if f not in FEATURES]
    if unknown:
        problems.append(f"features {unknown} are not iomscore features")
    bad = {f: d for f, d in dict(s.monotone).items() if f not in s.features or d not in ("increasing", "decreasing")}
    if bad:
        problems.append(f"monotone declares {bad}: features not read, or not 'increasing'/'decreasing'")
    if not isinstance(s.identity, ModelIdentity):
        problems.append(f"identity is a {type(s.identity).__name__}, not a ModelIdentity")
    if problems:
        return PropertyResult("contract", "fail", "; ".join(problems))

    def violation(rs: list[Referral]) -> str | None:
        b = _score(s, rs)
        n, k = len(rs), len(b.part_names)
        checks = [
            (len(b) == n, f"{len(b)} scores for {n} referrals"),
            (b.band.shape[0] == n, "band has the wrong length"),
            (b.part_values.shape == (n, k), f"part_values has shape {b.part_values.shape}, expected {(n, k)}"),
            (len(b.part_labels) == k and len(b.part_reasons) == k, "part labels or reasons do not match part names"),
            (all(len(r) == n for r in b.part_reasons), "part reasons have the wrong length"),
            (all(np.asarray(v).shape[0] == n for v in b.probabilities.values()), "probabilities have the wrong length"),
            (b.error is None or b.error.shape[0] == n, "error has the wrong length"),
            (b.warnings is None or b.warnings.shape[0] == n, "warnings have the wrong length"),
            (b.model == s.identity, f"batch model {b.model} is not the scorer identity {s.identity}"),
        ]
        failed = [msg for ok, msg in checks if not ok]
        return "; ".join(failed) or None

    return _result("contract", ctx, _batches(ctx), violation)


def _p_determinism(ctx: _Context) -> PropertyResult:
    def violation(rs: list[Referral]) -> str | None:
        a, b = _score(ctx.scorer, rs), _score(ctx.scorer, rs)
        for i in range(len(rs)):
            d = _diff(a, i, b, i)
            if d is not None:
                return _DIFFERS.format(what=f"scoring {rs[i].person_id!r} a second time", diff=d)
        return None

    return _result("determinism", ctx, _batches(ctx), violation)


def _p_single_batch(ctx: _Context) -> PropertyResult:
    s = ctx.scorer

    def violation(rs: list[Referral]) -> str | None:
        batch = _score(s, rs)
        for i, r in enumerate(rs):
            alone = _score(s, [r])
            d = _diff(alone, 0, batch, i)
            if d is not None:
                return _DIFFERS.format(what=f"scoring {r.person_id!r} alone rather than in the batch", diff=d)
            if _ok(batch, i):
                one = score(r, s)
                if one.model_dump() != batch.result(i).model_dump():
                    return f"iomscore.score({r.person_id!r}) differs from score_batch(...).result({i})"
            else:
                try:
                    score(r, s)
                except ScoringError:
                    continue
                return f"iomscore.score({r.person_id!r}) did not raise ScoringError for an unscored row"
        return None

    return _result("single_equals_batch", ctx, _batches(ctx), violation)


def _p_order(ctx: _Context) -> PropertyResult:
    pairs = _batches(ctx, 5).flatmap(lambda rs: st.tuples(st.just(rs), st.permutations(rs)))

    def violation(pair: tuple[list[Referral], list[Referral]]) -> str | None:
        rs, shuffled = pair
        a, b = _score(ctx.scorer, rs), _score(ctx.scorer, shuffled)
        where = {r.person_id: j for j, r in enumerate(shuffled)}
        for i, r in enumerate(rs):
            d = _diff(a, i, b, where[r.person_id])
            if d is not None:
                return _DIFFERS.format(what=f"shuffling the batch (person {r.person_id!r})", diff=d)
        return None

    return _result("order_invariance", ctx, pairs, violation, shown=lambda p: p[0])


@st.composite
def _reordered(draw: st.DrawFn, base: st.SearchStrategy[Referral]) -> tuple[Referral, Referral]:
    r = draw(base)
    s = draw(st.permutations(r.sanctions)) if r.sanctions else ()
    c = draw(st.permutations(r.custody)) if r.custody else ()
    return r, S._replace(r, sanctions=tuple(s), custody=tuple(c))


def _p_record_order(ctx: _Context) -> PropertyResult:
    def violation(pair: tuple[Referral, Referral]) -> str | None:
        r, shuffled = pair
        d = _diff(_score(ctx.scorer, [r]), 0, _score(ctx.scorer, [shuffled]), 0)
        if d is None:
            return None
        order = [r.sanctions.index(x) for x in shuffled.sanctions]
        return _DIFFERS.format(what=f"listing the sanctions in the order {order}", diff=d)

    return _result("record_order_invariance", ctx, _reordered(ctx.referrals), violation, shown=lambda p: p[0])


def _p_protected(ctx: _Context) -> PropertyResult:
    reads_sex = "sex" in ctx.scorer.features
    sexes = st.just(None) if reads_sex else st.sampled_from(("male", "female", None))
    changes = st.tuples(ctx.referrals, S.protected_characteristics(), sexes)

    def violation(t: tuple[Referral, Any, str | None]) -> str | None:
        r, protected, sex = t
        update: dict[str, Any] = {"protected": protected}
        if not reads_sex:
            update["sex"] = sex
        other = S._replace(r, **update)
        d = _diff(_score(ctx.scorer, [r]), 0, _score(ctx.scorer, [other]), 0)
        if d is None:
            return None
        change = {k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in update.items()}
        return _DIFFERS.format(what=f"changing only {json.dumps(change)}", diff=d)

    return _result("protected_invariance", ctx, changes, violation, shown=lambda t: t[0])


def _p_serious_harm(ctx: _Context) -> PropertyResult:
    changes = st.tuples(ctx.referrals, S.serious_harm())

    def violation(t: tuple[Referral, Any]) -> str | None:
        r, harm = t
        other = S._replace(r, serious_harm=harm)
        d = _diff(_score(ctx.scorer, [r]), 0, _score(ctx.scorer, [other]), 0)
        if d is None:
            return None
        return _DIFFERS.format(what=f"changing only serious_harm to {harm.model_dump_json()}", diff=d)

    return _result("serious_harm_independence", ctx, changes, violation, shown=lambda t: t[0])


def _p_referral_facts(ctx: _Context) -> PropertyResult:
    declared = sorted(S.REFERRAL_FACT_FEATURES & set(ctx.scorer.features))
    if declared:
        return PropertyResult("referral_facts_independence", "skipped",
                              _READS_FACTS.format(features=", ".join(declared)))
    changes = ctx.referrals.flatmap(lambda r: st.tuples(st.just(r), S.referral_facts(r)))

    def violation(t: tuple[Referral, dict[str, Any]]) -> str | None:
        r, facts = t
        other = S._replace(r, **facts)
        d = _diff(_score(ctx.scorer, [r]), 0, _score(ctx.scorer, [other]), 0)
        if d is None:
            return None
        change = {k: (v.model_dump(mode="json") if isinstance(v, BaseModel) else v) for k, v in facts.items()}
        return _DIFFERS.format(what=f"changing only {json.dumps(change, default=str)}", diff=d)

    return _result("referral_facts_independence", ctx, changes, violation, shown=lambda t: t[0])


def _p_additivity(ctx: _Context) -> PropertyResult:
    def violation(r: Referral) -> str | None:
        b = _score(ctx.scorer, [r])
        if not _ok(b, 0):
            return None
        total = float(b.part_values[0].sum())
        value = float(b.score[0])
        if b.unit == "points":
            if total != value:
                return f"the breakdown sums to {total!r}, the score is {value!r}"
        elif not abs(total - value) <= ADDITIVITY_TOLERANCE * max(1.0, abs(value)):
            return f"the breakdown sums to {total!r}, the score is {value!r} (tolerance {ADDITIVITY_TOLERANCE})"
        return None

    return _result("breakdown_additivity", ctx, ctx.referrals, violation)


def _spec_of(scorer: Scorer) -> PointsSpec | None:
    spec = getattr(scorer, "spec", None)
    return spec if isinstance(spec, PointsSpec) else None


def _p_bounds(ctx: _Context) -> PropertyResult:
    spec = _spec_of(ctx.scorer)

    def violation(r: Referral) -> str | None:
        b = _score(ctx.scorer, [r])
        if not _ok(b, 0):
            return None
        value = float(b.score[0])
        band = b.band[0]
        if not np.isfinite(value):
            return f"the score is {value!r}"
        for key, p in b.probabilities.items():
            if not 0.0 <= float(p[0]) <= 1.0:
                return f"probability {key!r} is {float(p[0])!r}, outside [0, 1]"
        if b.unit == "percentage points" and not 0.0 <= value <= 100.0:
            return f"the score {value!r} is a percentage outside [0, 100]"
        if not isinstance(band, str) or not band:
            return f"the band is {band!r}"
        if spec is not None:
            if not (spec.min_total <= value <= spec.max_total and value.is_integer()):
                return f"the score {value!r} is not a whole number in [{spec.min_total}, {spec.max_total}]"
            if band not in {x.name for x in spec.bands}:
                return f"the band {band!r} is not one of the spec's bands"
        return None

    return _result("score_bounds", ctx, ctx.referrals, violation)


def declares_offence_monotone(scorer: Scorer) -> tuple[bool, str]:
    """Whether ``scorer`` declares that more, or more recent, offending never lowers its score.

    The rule, in order:

    1. a scorer with a boolean attribute ``offence_monotone`` declares (or disclaims) it
       outright;
    2. otherwise it declares it when every feature it reads is in
       :data:`OFFENCE_MONOTONE_FEATURES` and ``scorer.monotone`` declares each feature that
       offending moves in the direction offending moves it (``offences_12m_at_risk``
       increasing, ``offence_free_months_at_risk`` decreasing, ...). Features offending cannot
       move (needs, age at assessment) need no declaration.

    Monotone in each feature separately, with every feature moving the declared way, makes
    the score monotone in offending.

    Returns
    -------
    (bool, str)
        The answer and, when it is no, why.

    Examples
    --------
    >>> import iomscore
    >>> declares_offence_monotone(iomscore.get_scorer("iom-priority"))
    (True, '')
    >>> declares_offence_monotone(iomscore.get_scorer("ogrs3"))[0]
    False
    """
    explicit = getattr(scorer, "offence_monotone", None)
    if isinstance(explicit, bool):
        return explicit, "" if explicit else "the scorer sets offence_monotone = False"
    declared = dict(scorer.monotone)
    for f in scorer.features:
        moves = OFFENCE_MONOTONE_FEATURES.get(f)
        if moves is None:
            return False, f"it reads {f!r}, which more offending can move either way"
        if moves != "unchanged" and declared.get(f) != moves:
            return False, f"it reads {f!r} without declaring it {moves}"
    return True, ""


def _monotone_result(name: str, ctx: _Context, pairs: st.SearchStrategy[tuple[Referral, Referral]],
                     what: Callable[[Referral, Referral], str]) -> PropertyResult:
    declared, reason = declares_offence_monotone(ctx.scorer)
    if not declared:
        return PropertyResult(name, "skipped", _NOT_DECLARED.format(reason=reason))

    def violation(pair: tuple[Referral, Referral]) -> str | None:
        r, more = pair
        b = _score(ctx.scorer, [r, more])
        if not (_ok(b, 0) and _ok(b, 1)):
            return None
        before, after = float(b.score[0]), float(b.score[1])
        if after < before:
            return _LOWERED.format(what=what(r, more), verb="lowered", before=before, after=after)
        return None

    return _result(name, ctx, pairs, violation, shown=lambda p: p[0])


@st.composite
def _with_added(draw: st.DrawFn, base: st.SearchStrategy[Referral]) -> tuple[Referral, Referral]:
    r = draw(base)
    if r.sanction_summary is not None and not r.sanctions:
        # A listed offence ends "history given only as a summary": the list-only features go
        # from not recorded to counted, which is not one more offence. Start from a list.
        r = S._replace(r, sanction_summary=None)
    return r, S._draw_added(draw, r)


@st.composite
def _with_recent(draw: st.DrawFn, base: st.SearchStrategy[Referral]) -> tuple[Referral, Referral]:
    r = draw(base)
    movable = [k for k, s in enumerate(r.sanctions) if s.offence_date < s.sanction_date]
    if not movable:
        return r, r
    k = draw(st.sampled_from(movable))
    s = r.sanctions[k]
    lo, hi = s.offence_date.toordinal() + 1, s.sanction_date.toordinal()
    day = S._between(draw, lo, hi)
    moved = s.model_copy(update={"offence_date": S._date(day)})
    history = tuple(moved if j == k else x for j, x in enumerate(r.sanctions))
    return r, S._replace(r, sanctions=history)


def _p_offence(ctx: _Context) -> PropertyResult:
    def what(r: Referral, more: Referral) -> str:
        return f"adding the offence {more.sanctions[-1].model_dump_json()}"

    return _monotone_result("offence_monotonicity", ctx, _with_added(ctx.referrals), what)


def _p_recency(ctx: _Context) -> PropertyResult:
    def what(r: Referral, later: Referral) -> str:
        k = next(j for j, (a, b) in enumerate(zip(r.sanctions, later.sanctions)) if a != b)
        return (f"moving sanctions[{k}].offence_date from {r.sanctions[k].offence_date} "
                f"to {later.sanctions[k].offence_date}")

    return _monotone_result("recency_monotonicity", ctx, _with_recent(ctx.referrals), what)


_BUMPS: Final = (1, 2, 3, 5, 10, 25, 0.5)


def _feature_columns(scorer: Scorer, r: Referral) -> dict[str, np.ndarray]:
    """The features ``scorer`` reads, for ``r`` (one row each).

    Features the engine does not define (a scorer of other data) get ``r``'s offence count,
    so the search still varies them.
    """
    frame = FeatureFrame(ReferralTable.from_referrals([r]).batch)
    return {f: np.asarray(frame[f] if f in FEATURES else frame["proven_offences"], dtype=np.float64)
            for f in scorer.features}


def _p_feature_monotone(ctx: _Context) -> PropertyResult:
    s = ctx.scorer
    declared = {f: d for f, d in dict(s.monotone).items() if f in s.features}
    if not declared:
        return PropertyResult("feature_monotonicity", "skipped", _NO_MONOTONE)
    names = sorted(declared)
    cases = st.tuples(ctx.referrals, st.sampled_from(names), st.none() | st.integers(0, 60),
                      st.sampled_from(_BUMPS))

    def violation(t: tuple[Referral, str, int | None, float]) -> str | None:
        r, feature, start, bump = t
        base = _feature_columns(s, r)
        value = float(base[feature][0]) if start is None else float(start)
        if np.isnan(value):
            return None
        cols = {f: np.repeat(v, 2) for f, v in base.items()}
        cols[feature] = np.asarray([value, value + bump])
        b = s.score_features(cols)
        if not (_ok(b, 0) and _ok(b, 1)):
            return None
        before, after = float(b.score[0]), float(b.score[1])
        wrong = after < before if declared[feature] == "increasing" else after > before
        if wrong:
            return _FEATURE_WRONG_WAY.format(feature=feature, direction=declared[feature], a=value,
                                             b=value + bump, before=before, after=after)
        return None

    return _result("feature_monotonicity", ctx, cases, violation, shown=lambda t: t[0])


@st.composite
def _summary_only(draw: st.DrawFn, base: st.SearchStrategy[Referral]) -> tuple[Referral, Referral, Referral]:
    """A summary-only referral with a long, recent record; the same person with no history;
    and with the same summary but no previous sanctions (first sanction = current conviction)."""
    r = draw(base)
    summary = S._draw_summary(draw, r.assessment_date, r.date_of_birth, LONG_RECORD_PREVIOUS,
                              _MAX_SUMMARY_PREVIOUS, RECENT_CONVICTION_DAYS)
    first = summary.model_copy(update={"previous_sanctions": 0,
                                       "first_sanction_date": summary.current_conviction_date})
    return (S._replace(r, sanctions=(), sanction_summary=summary),
            S._replace(r, sanctions=(), sanction_summary=None),
            S._replace(r, sanctions=(), sanction_summary=first))


def _lowest_band(scorer: Scorer) -> str | None:
    spec = _spec_of(scorer)
    return None if spec is None else spec.bands[0].name


def _p_summary_only(ctx: _Context) -> PropertyResult:
    lowest = _lowest_band(ctx.scorer)

    def warnings(b: ScoreBatch, i: int) -> set[str]:
        return set() if b.warnings is None else {str(w) for w in b.warnings[i]}

    def violation(t: tuple[Referral, Referral, Referral]) -> str | None:
        b = _score(ctx.scorer, list(t))
        if not _ok(b, 0):
            return None
        ref = 1 if _ok(b, 1) else 2  # no history at all; else the summary without previous sanctions
        band = str(b.band[0])
        if lowest is not None and band != lowest:
            return None
        if _ok(b, ref):
            if float(b.score[0]) > float(b.score[ref]) or warnings(b, 0) - warnings(b, ref):
                return None
            if lowest is None and band != str(b.band[ref]):
                return None
        elif lowest is None or warnings(b, 0):
            return None
        summary = t[0].sanction_summary
        assert summary is not None
        return _SUMMARY_IGNORED.format(
            previous=summary.previous_sanctions,
            days=(t[0].assessment_date - summary.current_conviction_date).days,
            band=band, score=float(b.score[0]),
            reference=_NO_HISTORY if ref == 1 else _NO_PREVIOUS,
            reference_score=float(b.score[ref]) if _ok(b, ref) else None,
        )

    return _result("summary_only_history", ctx, _summary_only(ctx.referrals), violation, shown=lambda t: t[0])


def _p_json(ctx: _Context) -> PropertyResult:
    def violation(r: Referral) -> str | None:
        back = Referral.model_validate_json(r.model_dump_json())
        if back != r:
            return "the referral read back from its JSON is not equal to it"
        d = _diff(_score(ctx.scorer, [r]), 0, _score(ctx.scorer, [back]), 0)
        if d is not None:
            return _DIFFERS.format(what="a JSON round trip of the referral", diff=d)
        b = _score(ctx.scorer, [r])
        if _ok(b, 0):
            result = b.result(0)
            if ScoreResult.model_validate_json(result.model_dump_json()) != result:
                return "the ScoreResult read back from its JSON is not equal to it"
        return None

    return _result("json_round_trip", ctx, ctx.referrals, violation)


def _p_spec(ctx: _Context) -> PropertyResult:
    spec = _spec_of(ctx.scorer)
    if spec is None:
        return PropertyResult("spec_round_trip", "skipped", _NO_SPEC)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.json"
        path.write_text(spec.to_json(), encoding="utf-8")
        loaded = load_spec(path)
    if loaded.sha256 != ctx.scorer.identity.sha256 or loaded.compute_sha256() != spec.compute_sha256():
        return PropertyResult(
            "spec_round_trip", "fail",
            f"sha256 after a JSON round trip is {loaded.sha256}, the scorer's identity says {ctx.scorer.identity.sha256}",
        )
    if PointsSpec.model_validate_json(spec.to_json()).content() != spec.content():
        return PropertyResult("spec_round_trip", "fail", "the spec read back from its JSON has different content")
    again = PointsScorer(loaded)

    def violation(r: Referral) -> str | None:
        cols = _feature_columns(ctx.scorer, r)
        a, b = ctx.scorer.score_features(cols), again.score_features(cols)
        d = _diff(a, 0, b, 0)
        if d is not None:
            return _DIFFERS.format(what="scoring with the spec read back from JSON", diff=d)
        if a.model != b.model:
            return f"the model identity changed: {a.model} -> {b.model}"
        return None

    return _result("spec_round_trip", ctx, ctx.referrals, violation)


_RUNNERS: Final[Mapping[str, Callable[[_Context], PropertyResult]]] = {
    "contract": _p_contract,
    "determinism": _p_determinism,
    "single_equals_batch": _p_single_batch,
    "order_invariance": _p_order,
    "record_order_invariance": _p_record_order,
    "protected_invariance": _p_protected,
    "serious_harm_independence": _p_serious_harm,
    "referral_facts_independence": _p_referral_facts,
    "breakdown_additivity": _p_additivity,
    "score_bounds": _p_bounds,
    "offence_monotonicity": _p_offence,
    "recency_monotonicity": _p_recency,
    "feature_monotonicity": _p_feature_monotone,
    "summary_only_history": _p_summary_only,
    "json_round_trip": _p_json,
    "spec_round_trip": _p_spec,
}
assert tuple(_RUNNERS) == PROPERTIES
#: Properties that run on feature arrays, so also for scorers of non-iomscore features.
_ARRAY_PROPERTIES: Final = frozenset({"contract", "feature_monotonicity", "spec_round_trip"})


def check_scorer(
    scorer: Scorer | str | Path,
    *,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    raise_on_failure: bool = True,
    properties: Sequence[str] | None = None,
    referrals: st.SearchStrategy[Referral] | None = None,
    max_shrinks: int = DEFAULT_MAX_SHRINKS,
) -> CheckReport:
    """Run the iomscore property suite against a scorer: built-in, learned or third-party.

    Each property (see :data:`PROPERTIES` and the module documentation) is searched with
    :func:`hypothesis.find`; on a failure, hypothesis shrinks the input and the report carries
    the smallest counterexample as referral JSON.

    Parameters
    ----------
    scorer : Scorer, str or Path
        A scorer object, or anything :func:`iomscore.get_scorer` accepts (a name or a spec path).
    max_examples : int
        Examples tried per property.
    seed : int, optional
        Seed of the search. By default the search is derandomized: the same scorer always gets
        the same examples.
    raise_on_failure : bool
        Raise :class:`ScorerCheckError` (an ``AssertionError``) listing the failures, like
        scikit-learn's ``check_estimator``. With ``False``, return the report either way.
    properties : sequence of str, optional
        Run only these properties.
    referrals : hypothesis strategy, optional
        Referrals to search over (default :func:`iomscore.testing.referrals`), for example
        ``referrals(sex=st.just("male"))`` for a scorer that needs ``sex``.
    max_shrinks : int
        Property evaluations allowed, after the first failure, to shrink the counterexample
        (a count, not a time, so the result does not depend on the machine). The report
        carries the smallest failure found within it.

    Returns
    -------
    CheckReport

    Raises
    ------
    ScorerCheckError
        A property failed and ``raise_on_failure`` is true.

    Examples
    --------
    >>> from iomscore.testing import check_scorer
    >>> report = check_scorer("ogrs3", max_examples=5, properties=["offence_monotonicity",
    ...                                                            "breakdown_additivity"])
    >>> [(r.name, r.status) for r in report.results]
    [('offence_monotonicity', 'skipped'), ('breakdown_additivity', 'pass')]
    """
    s = get_scorer(scorer)
    names = PROPERTIES if properties is None else tuple(properties)
    for n in names:
        if n not in _RUNNERS:
            raise ValueError(_UNKNOWN_PROPERTY.format(name=n, known=", ".join(PROPERTIES)))
    ctx = _Context(
        scorer=s,
        settings=settings(
            max_examples=max_examples,
            derandomize=seed is None,
            database=None,
            deadline=None,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        ),
        seed=seed,
        # a scorer that reads OASys answers gets them on one referral in four
        referrals=(S.referrals(with_oasys=None if any(f.startswith("oasys_") for f in s.features) else False)
                   if referrals is None else referrals),
        max_shrinks=max_shrinks,
    )
    unknown = [f for f in s.features if f not in FEATURES]
    results = tuple(
        PropertyResult(n, "skipped", _CANNOT_SCORE.format(features=unknown))
        if unknown and n not in _ARRAY_PROPERTIES
        else _RUNNERS[n](ctx)
        for n in names
    )
    identity = s.identity
    report = CheckReport(identity.name, identity.version, identity.sha256, results, max_examples, seed)
    if raise_on_failure and not report.ok:
        details = "\n".join(
            f"- {r.name}: {r.message}" + (f"\n  counterexample: {_compact(r.counterexample)}" if r.counterexample else "")
            for r in report.failed
        )
        raise ScorerCheckError(
            _CHECK_FAILED.format(n=len(report.failed), total=len(results), scorer=identity.name, details=details),
            report,
        )
    return report


def _compact(text: str | None) -> str:
    return "" if text is None else json.dumps(json.loads(text), separators=(",", ":"))
