"""The typed entry points: score one referral or many."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Final, overload

import numpy as np

from .._errors import IomscoreError
from ..features._engine import FEATURES, FeatureFrame
from ..schema._batch import ReferralBatch
from ..schema._referral import Referral, referral_batch
from ..schema._table import ReferralTable
from ._protocol import Scorer
from ._registry import get_scorer
from ._result import ScoreBatch, ScoreResult

__all__ = ["DEFAULT_SCORER", "score", "score_batch"]

DEFAULT_SCORER: Final = "iom-priority"
_NOT_REFERRAL: Final = "item {i} is a {type}, not an iomscore.Referral (use Referral.model_validate)"
_NOT_REFERRALS: Final = (
    "score() takes an iomscore.Referral or a list of them, not a {type}: validate a mapping with "
    "iomscore.parse_referral(data) (errors with field paths), or give JSON text to iomscore.score_json"
)
_UNKNOWN_FEATURES: Final = "scorer {name!r} reads {features}, which the feature engine does not define"
_NOT_SCORED: Final = "referral {person!r} could not be scored by {scorer!r}: {reason}"

ProgressCallback = Callable[[int, int], None]


class ScoringError(IomscoreError, ValueError):
    """A referral could not be scored; the message names the person and the reason."""


def score_batch(
    referrals: ReferralTable | ReferralBatch,
    scorer: str | Path | Scorer = DEFAULT_SCORER,
    *,
    chunk_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> ScoreBatch:
    """Score a columnar batch: the fast path used by the CLI and batch jobs.

    Features are computed once, restricted to what the scorer declares (so a scorer cannot
    read anything else), and scored as arrays. With ``chunk_size`` the batch is scored in
    chunks and ``progress(done, total)`` is called after each; the output does not depend on
    the chunking.
    """
    s = get_scorer(scorer)
    batch = referrals.batch if isinstance(referrals, ReferralTable) else referrals
    unknown = [f for f in s.features if f not in FEATURES]
    if unknown:
        raise ScoringError(_UNKNOWN_FEATURES.format(name=s.identity.name, features=unknown))
    n = batch.n
    if chunk_size is None or chunk_size >= n:
        out = s.score_features(FeatureFrame(batch).restricted(s.features))
        if progress is not None:
            progress(n, n)
        return out.with_person_id(batch.person_id, batch.assessment_day)
    pieces = []
    for start in range(0, n, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n))
        part = batch.take(rows)
        pieces.append(s.score_features(FeatureFrame(part).restricted(s.features)))
        if progress is not None:
            progress(int(rows[-1]) + 1, n)
    return _concat(pieces).with_person_id(batch.person_id, batch.assessment_day)


def _concat(pieces: list[ScoreBatch]) -> ScoreBatch:
    first = pieces[0]

    def cat(arrays: list[np.ndarray | None]) -> np.ndarray | None:
        return None if any(a is None for a in arrays) else np.concatenate(arrays)  # type: ignore[arg-type]

    return ScoreBatch(
        score=np.concatenate([p.score for p in pieces]),
        band=np.concatenate([p.band for p in pieces]),
        probabilities={k: np.concatenate([p.probabilities[k] for p in pieces]) for k in first.probabilities},
        part_names=first.part_names,
        part_labels=first.part_labels,
        part_values=np.concatenate([p.part_values for p in pieces]),
        part_reasons=tuple(np.concatenate([p.part_reasons[k] for p in pieces]) for k in range(len(first.part_names))),
        model=first.model,
        unit=first.unit,
        baseline_part=first.baseline_part,
        warnings=cat([p.warnings for p in pieces]),
        error=cat([p.error for p in pieces]),
    )


@overload
def score(referrals: Referral, scorer: str | Path | Scorer = ...) -> ScoreResult: ...


@overload
def score(referrals: Iterable[Referral], scorer: str | Path | Scorer = ...) -> list[ScoreResult]: ...


def score(
    referrals: Referral | Iterable[Referral], scorer: str | Path | Scorer = DEFAULT_SCORER
) -> ScoreResult | list[ScoreResult]:
    """Score one referral (returns a :class:`ScoreResult`) or many (a list, in input order).

    Raises :class:`ScoringError` naming the person when a referral cannot be scored by this
    scorer (for example OGRS3 without a recorded sex).

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1995-02-01", sex="male", sanctions=[
    ...     {"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
    ...      "offence_group": "burglary_domestic", "disposal": "community_order"}])
    >>> result = iomscore.score(r, scorer="iom-priority")
    >>> result.person_id, result.score == sum(p.value for p in result.breakdown)
    ('P1', True)
    """
    if isinstance(referrals, (Mapping, str, bytes)):
        raise TypeError(_NOT_REFERRALS.format(type=type(referrals).__name__))
    single = isinstance(referrals, Referral)
    raw: list[object] = [referrals] if isinstance(referrals, Referral) else list(referrals)
    items: list[Referral] = []
    for i, r in enumerate(raw):
        if not isinstance(r, Referral):
            raise TypeError(_NOT_REFERRAL.format(i=i, type=type(r).__name__))
        items.append(r)
    s = get_scorer(scorer)
    batch = score_batch(referral_batch(items), s)  # a score reads no serious-harm or protected column
    if batch.error is not None:
        for row, reason in enumerate(batch.error.tolist()):  # the first row not scored, if any
            if reason is not None:
                raise ScoringError(_NOT_SCORED.format(person=items[row].person_id, scorer=s.identity.name, reason=reason))
    if len(items) == 1:  # one referral: its row directly, without the batch's pattern tables
        one = batch.result(0)
        return one if single else [one]
    results = batch.results()
    return results[0] if single else results
