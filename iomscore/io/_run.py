"""A scored read: :class:`ScoreRun` and :func:`score_read`, the step every batch driver shares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from ..scoring._api import DEFAULT_SCORER, score_batch
from ..scoring._protocol import Scorer
from ..scoring._registry import get_scorer
from ..scoring._result import ScoreBatch
from ._common import NOT_SCORED, ReadResult, Reject

__all__ = ["ORPHANS_LINE", "ScoreRun", "score_read"]

logger = logging.getLogger("iomscore.io")

ORPHANS_LINE: Final = "also rejected {n} sanction or custody row(s) that match no referral (see the rejects)"


@dataclass
class ScoreRun:
    """Outcome of a batch job. ``read == scored + rejected`` always holds."""

    read: int
    scored: int
    rejected: int
    scores: ScoreBatch
    rejects: list[Reject] = field(default_factory=list)
    input: ReadResult | None = None

    @property
    def orphans(self) -> int:
        """Sanction and custody rows naming no referral (each in the rejects)."""
        if self.input is None:
            return 0
        return self.input.counts.orphan_sanction_rows + self.input.counts.orphan_custody_rows

    @property
    def counts_line(self) -> str:
        return f"read {self.read} = scored {self.scored} + rejected {self.rejected}"

    @property
    def orphans_line(self) -> str:
        """The line that counts orphan rows (``""`` when there are none): they are not
        referrals, so ``counts_line`` does not count them, but they are in the rejects."""
        if not self.orphans:
            return ""
        return ORPHANS_LINE.format(n=self.orphans)


def score_read(
    result: ReadResult,
    scorer: str | Path | Scorer = DEFAULT_SCORER,
    *,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScoreRun:
    """Score the valid referrals of ``result``; rows the scorer refuses become rejects."""
    s = get_scorer(scorer)
    if result.table.n == 0:  # nothing valid to score (scorers need at least one row)
        scores = ScoreBatch(score=np.zeros(0), band=np.zeros(0, dtype=object), probabilities={}, part_names=(),
                            part_labels=(), part_values=np.zeros((0, 0)), part_reasons=(), model=s.identity,
                            person_id=np.zeros(0, dtype=object))
    else:
        scores = score_batch(result.table, s, chunk_size=chunk_size, progress=progress)
    rejects = list(result.rejects)
    if scores.error is not None:
        for i in np.flatnonzero(~scores.ok).tolist():
            row = int(result.rows[i])
            rejects.append(Reject(result.source, row, str(scores.person_id[i]) if scores.person_id is not None else "",
                                  "", NOT_SCORED.format(scorer=s.identity.name, reason=scores.error[i]), row))
        rejects.sort(key=lambda r: (r.referral_row if r.referral_row is not None else 1 << 62,
                                    0 if r.referral_row is not None else 1, r.source, r.row))
    scored = int(scores.ok.sum())
    read = result.counts.referral_rows
    run = ScoreRun(read=read, scored=scored, rejected=read - scored, scores=scores, rejects=rejects, input=result)
    logger.info("%s", run.counts_line)
    return run
