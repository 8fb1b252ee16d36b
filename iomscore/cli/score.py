"""``iomscore score``: score a referral list; every row is scored or rejected with its reason."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from ._common import (
    EXIT_NOTHING_SCORED,
    EXIT_OK,
    add_input_arguments,
    check_outputs,
    file_name,
    input_paths,
    read_input,
    whole_number,
)
from ._progress import ProgressBar
from .runs import add_run_log_arguments, note_run

__all__ = ["register", "run"]

_PROGRESS_CHUNK: Final = 50_000


def run(args: argparse.Namespace) -> int:
    """Read, score, write the scores and the rejects; end with the counts line."""
    from ..io import format_from_suffix, score_read, write_rejects, write_scores
    from ..io._atomic import staged
    from ..io._score import counts_path, write_counts

    output = Path(args.output)
    rejects = Path(args.rejects) if args.rejects else output.with_name(f"{output.stem}-rejects.csv")
    counts = counts_path(output)
    check_outputs(input_paths(args), [("-o", output), ("--rejects", rejects), ("the counts file", counts)])
    if counts.is_file():
        counts.unlink()  # until this run has finished, the previous run's outputs are not current
    result = read_input(args)
    bar = ProgressBar(sys.stderr, label=f"scoring ({args.scorer})")
    chunk = args.chunk_size or (_PROGRESS_CHUNK if bar.enabled and result.table.n > _PROGRESS_CHUNK else None)
    try:
        run = score_read(result, args.scorer, chunk_size=chunk, progress=bar)
    finally:
        bar.close()
    with staged([output, rejects, counts]) as (out, rej, cnt):  # all written, then all renamed
        assert out is not None and rej is not None and cnt is not None
        write_scores(out, run.scores, format=args.format or format_from_suffix(output), top=args.top)  # type: ignore[arg-type]
        write_rejects(rej, run.rejects, format=format_from_suffix(rejects))
        write_counts(cnt, run, {"scores": (output, out), "rejects": (rejects, rej)})
    note_run(args, run=run, outputs={"scores": output, "rejects": rejects})
    if run.orphans_line:
        sys.stderr.write(f"{run.orphans_line}\n")
    sys.stderr.write(f"{run.counts_line}\n")
    if run.rejected:
        sys.stderr.write(f"rejects: {rejects}\n")
    return EXIT_OK if run.scored > 0 else EXIT_NOTHING_SCORED


def register(sub: Any) -> None:
    """Add ``score`` to the subcommands."""
    from ..scoring import DEFAULT_SCORER

    p = sub.add_parser("score", help="score a referral list; bad rows go to a rejects file")
    add_input_arguments(p)
    p.add_argument("--scorer", default=DEFAULT_SCORER, help=f"scorer name or spec path (default {DEFAULT_SCORER})")
    p.add_argument("-o", "--output", required=True, type=file_name, help="output file (.csv, .jsonl or .parquet)")
    p.add_argument("--rejects", type=file_name, help="rejects file (default: <OUTPUT stem>-rejects.csv)")
    p.add_argument("--format", choices=("csv", "jsonl", "parquet"), help="override the output suffix")
    p.add_argument("--top", type=whole_number(0), default=3, help="reasons per person (default 3)")
    p.add_argument("--chunk-size", type=whole_number(1), default=None, help="score in chunks of this many referrals")
    add_run_log_arguments(p, always=False)
    p.set_defaults(func=run)
