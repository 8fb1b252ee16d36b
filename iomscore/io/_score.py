"""The batch job: read, score, write scores and rejects; the path the CLI and demo share."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from ..scoring._api import DEFAULT_SCORER, score_batch
from ..scoring._protocol import Scorer
from ..scoring._registry import get_scorer
from ..scoring._result import ScoreBatch
from ._atomic import staged, write_text_atomic
from ._common import NOT_SCORED, ReadResult, Reject
from ._csv import read_csv
from ._jsonl import read_jsonl
from ._parquet import read_parquet
from ._write import format_from_suffix, write_rejects, write_scores

__all__ = ["COUNTS_FORMAT", "ScoreRun", "counts_path", "read_referrals", "score_files", "score_read", "sibling_tables",
           "write_counts"]

logger = logging.getLogger("iomscore.io")

_BAD_INPUT_FORMAT: Final = "cannot tell the format of {path}: use a .jsonl, .csv or .parquet name or pass format="
ORPHANS_LINE: Final = "also rejected {n} sanction or custody row(s) that match no referral (see the rejects)"
#: ``format`` of a counts file (:func:`write_counts`).
COUNTS_FORMAT: Final = "iomscore.counts/1"
_JSONL_WITH_TABLES: Final = "JSON Lines input holds sanctions inside each referral; do not pass a sanctions file"


def sibling_tables(path: str | os.PathLike[str]) -> tuple[Path | None, Path | None]:
    """The ``<stem>-sanctions<suffix>`` and ``<stem>-custody<suffix>`` files beside ``path``, if present.

    ``iomscore synth -o referrals.csv`` writes these names, and ``iomscore score`` finds
    them when ``--sanctions``/``--custody`` are not given.
    """
    p = Path(path)
    found = []
    for kind in ("sanctions", "custody"):
        candidate = p.with_name(f"{p.stem}-{kind}{p.suffix}")
        found.append(candidate if candidate.is_file() else None)
    return found[0], found[1]


def read_referrals(
    path: str | os.PathLike[str],
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
    *,
    format: str | None = None,
) -> ReadResult:
    """Read a referral list in any supported form (chosen by ``format`` or the file name).

    ``.jsonl``/``.ndjson``/``.json``: JSON Lines; ``.csv``: two-table CSV; ``.parquet``:
    two-table Parquet.
    """
    fmt = format or format_from_suffix(path, default="")
    if fmt == "jsonl":
        if sanctions is not None or custody is not None:
            raise ValueError(_JSONL_WITH_TABLES)
        return read_jsonl(path)
    if fmt == "csv":
        return read_csv(path, sanctions, custody)
    if fmt == "parquet":
        return read_parquet(path, sanctions, custody)
    raise ValueError(_BAD_INPUT_FORMAT.format(path=path))


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


def counts_path(output: str | os.PathLike[str]) -> Path:
    """The counts file beside a scores file: ``<stem>-counts.json``.

    Examples
    --------
    >>> counts_path("out/scores.csv").as_posix()
    'out/scores-counts.json'
    """
    p = Path(output)
    return p.with_name(f"{p.stem}-counts.json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_counts(path: str | os.PathLike[str], run: ScoreRun, files: dict[str, tuple[Path, Path]]) -> None:
    """Write the counts of a finished run and the sha256 of each file it wrote, as JSON.

    ``files`` maps a role (``"scores"``, ``"rejects"``) to ``(name written in the file,
    path to hash)``. A reader can tell a finished, current scores file: its counts file
    exists and the sha256 in it matches. ``iomscore score`` writes it last and removes the
    previous one when a run starts, so outputs of a run that failed never look current.
    """
    doc = {
        "format": COUNTS_FORMAT,
        "read": run.read,
        "scored": run.scored,
        "rejected": run.rejected,
        "orphan_rows": run.orphans,
        "files": {role: {"path": str(name), "sha256": _sha256(real)} for role, (name, real) in files.items()},
    }
    write_text_atomic(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


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


def score_files(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
    scorer: str | Path | Scorer = DEFAULT_SCORER,
    rejects: str | os.PathLike[str] | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    top: int = 3,
) -> ScoreRun:
    """Read ``input``, score it, write ``output`` (and ``rejects`` when given).

    Examples
    --------
    >>> import tempfile, pathlib, iomscore
    >>> from iomscore.io import write_referrals_csv, score_files
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> from iomscore import synth
    >>> write_referrals_csv(synth.generate(50, seed=3), d / "r.csv", d / "r-sanctions.csv")
    >>> run = score_files(d / "r.csv", d / "scores.csv", sanctions=d / "r-sanctions.csv")
    >>> run.counts_line
    'read 50 = scored 50 + rejected 0'
    """
    result = read_referrals(input, sanctions, custody, format=input_format)
    run = score_read(result, scorer, chunk_size=chunk_size, progress=progress)
    with staged([output, rejects]) as (out, rej):  # both written, then both renamed
        assert out is not None
        write_scores(out, run.scores, format=output_format or format_from_suffix(output), top=top)  # type: ignore[arg-type]
        if rej is not None:
            write_rejects(rej, run.rejects, format=format_from_suffix(rejects or ""))
    return run
