"""The two-table CSV form on disk, shared by the batch-driver tests (tests/io/test_stream.py,
tests/io/test_grouped.py): a list's three file names, and what the whole-list path writes."""

from __future__ import annotations

from pathlib import Path

from iomscore.io import read_referrals, score_read, write_rejects, write_scores

SCORER = "iom-priority"


def tables(r: Path) -> tuple[Path, Path, Path]:
    """The referrals file and its sanctions and custody siblings (``r-sanctions.csv``, ...)."""
    return r, r.with_name(f"{r.stem}-sanctions{r.suffix}"), r.with_name(f"{r.stem}-custody{r.suffix}")


def score_whole(r: Path, out: Path, fmt: str = "csv") -> tuple[bytes, bytes]:
    """The scores and rejects the whole-list path (read whole, score, write) gives for ``r``
    (a sibling table that does not exist is not read)."""
    ref, san, cus = tables(r)
    run = score_read(read_referrals(ref, san if san.is_file() else None, cus if cus.is_file() else None), SCORER)
    write_scores(out, run.scores, format=fmt)  # type: ignore[arg-type]
    rej = out.with_name(out.stem + "-rej.csv")
    write_rejects(rej, run.rejects)
    return out.read_bytes(), rej.read_bytes()
