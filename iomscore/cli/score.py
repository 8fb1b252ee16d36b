"""``iomscore score``: score a referral list; every row is scored or rejected with its reason."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._common import (
    EXIT_NOTHING_SCORED,
    EXIT_OK,
    NO_SANCTIONS,
    add_input_arguments,
    check_outputs,
    file_name,
    input_paths,
    read_input,
    whole_number,
)
from ._common import logger as _logger
from ._progress import ProgressBar
from .runs import add_run_log_arguments, note_run

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    """Read, score, write the scores and the rejects; end with the counts line."""
    from ..io._score import counts_path

    output = Path(args.output)
    rejects = Path(args.rejects) if args.rejects else output.with_name(f"{output.stem}-rejects.csv")
    counts = counts_path(output)
    check_outputs(input_paths(args), [("-o", output), ("--rejects", rejects), ("the counts file", counts)])
    if counts.is_file():
        counts.unlink()  # until this run has finished, the previous run's outputs are not current
    bar = ProgressBar(sys.stderr, label=f"scoring ({args.scorer})")
    try:
        if args.chunk_size:  # in-memory chunks of the whole list (the same bytes)
            run = _score_in_memory(args, output, rejects, counts, bar)
        else:
            run = _score_partitioned(args, output, rejects, counts, bar)
    finally:
        bar.close()
    note_run(args, run=run, outputs={"scores": output, "rejects": rejects})
    if run.orphans_line:
        sys.stderr.write(f"{run.orphans_line}\n")
    sys.stderr.write(f"{run.counts_line}\n")
    if run.rejected:
        sys.stderr.write(f"rejects: {rejects}\n")
    return EXIT_OK if run.scored > 0 else EXIT_NOTHING_SCORED


def _score_in_memory(args: argparse.Namespace, output: Path, rejects: Path, counts: Path, bar: ProgressBar) -> Any:
    from ..io import format_from_suffix, score_read, write_rejects, write_scores
    from ..io._atomic import staged
    from ..io._score import write_counts

    result = read_input(args)
    run = score_read(result, args.scorer, chunk_size=args.chunk_size, progress=bar)
    with staged([output, rejects, counts]) as (out, rej, cnt):  # all written, then all renamed
        assert out is not None and rej is not None and cnt is not None
        write_scores(out, run.scores, format=args.format or format_from_suffix(output), top=args.top)  # type: ignore[arg-type]
        write_rejects(rej, run.rejects, format=format_from_suffix(rejects))
        write_counts(cnt, run, {"scores": (output, out), "rejects": (rejects, rej)})
    return run


def _score_partitioned(args: argparse.Namespace, output: Path, rejects: Path, counts: Path, bar: ProgressBar) -> Any:
    """Partition by person and score each partition here, in worker processes or on Dask."""
    from ..io import format_from_suffix
    from ..io._malloc import keep_freed_memory, use_jemalloc
    from ..io._score import score_to_files

    keep_freed_memory()  # (process-wide, so here: each chunk's arrays reuse the last one's memory)
    use_jemalloc()
    paths = {what: p for what, p in input_paths(args)}
    referrals = paths["the referral list"]
    fmt = getattr(args, "input_format", None)
    fmt = "jsonl" if fmt == "json" else fmt
    if "the sanctions table" not in paths and (fmt or format_from_suffix(referrals, default="")) in ("csv", "parquet"):
        _logger.warning(NO_SANCTIONS, referrals.with_name(f"{referrals.stem}-sanctions{referrals.suffix}"))
    options: dict[str, Any] = {
        "sanctions": paths.get("the sanctions table"), "custody": paths.get("the custody table"),
        "scorer": args.scorer, "rejects": rejects, "counts": counts, "input_format": fmt,
        "output_format": args.format, "top": args.top, "progress": bar.stage,
    }
    if args.engine == "dask" or args.scheduler:
        from ..dask._cluster import dask_executor

        with dask_executor(workers=args.workers, scheduler=args.scheduler) as executor:
            return score_to_files(referrals, output, executor=executor, **options)
    return score_to_files(referrals, output, workers=args.workers, **options)


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
    p.add_argument("--chunk-size", type=whole_number(1), default=None,
                   help="read the list whole and score it in chunks of this many referrals")
    p.add_argument("--workers", type=whole_number(1), default=1,
                   help="processes scoring partitions of people side by side (default 1; with --engine dask: "
                        "the local cluster's workers)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="where the partitions are scored: this machine's processes (default) or a Dask cluster "
                        "(needs iomscore[dask])")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler (tcp://host:8786) instead of a local cluster; its workers "
                        "must see the directory of -o")
    add_run_log_arguments(p, always=False)
    p.set_defaults(func=run)
