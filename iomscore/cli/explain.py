"""``iomscore explain``: the full breakdown of one person's score."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Final

import numpy as np

from ._common import EXIT_NOTHING_SCORED, EXIT_OK, add_input_arguments, err, read_input

__all__ = ["register", "run"]

NOT_FOUND: Final = "person {person!r} is not in {input}"
REJECTED: Final = "person {person!r} was rejected: {field}: {reason} ({source} row {row})"


def run(args: argparse.Namespace) -> int:
    """Print the explanation of ``--person`` in the chosen format."""
    from ..io import ReadResult, score_read
    from ..scoring import get_scorer

    result = read_input(args)
    matches = np.flatnonzero(result.table.batch.person_id == args.person)
    if matches.size == 0:
        for r in result.rejects:
            if r.person_id == args.person:
                err(REJECTED.format(person=args.person, field=r.field or "-", reason=r.reason, source=r.source,
                                    row=r.row))
                return EXIT_NOTHING_SCORED
        err(NOT_FOUND.format(person=args.person, input=args.input))
        return EXIT_NOTHING_SCORED
    one = matches[:1]
    sub = ReadResult(table=result.table.take(one), rows=result.rows[one], source=result.source)
    sub.counts.referral_rows = sub.counts.valid = 1
    run = score_read(sub, get_scorer(args.scorer))
    if run.scored == 0:
        err(run.rejects[0].reason)
        return EXIT_NOTHING_SCORED
    sys.stdout.write(run.scores.result(0).explain(format=args.format) + "\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``explain`` to the subcommands."""
    from ..scoring import DEFAULT_SCORER

    p = sub.add_parser("explain", help="full breakdown of one person's score")
    add_input_arguments(p)
    p.add_argument("--person", required=True, help="person_id to explain")
    p.add_argument("--scorer", default=DEFAULT_SCORER)
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.set_defaults(func=run)
