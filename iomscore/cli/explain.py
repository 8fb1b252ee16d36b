"""``iomscore explain``: the full breakdown of one person's score, and when they would leave.

The last line says when, with no new offence on record, the person would leave: without a
policy or threshold, when their band would drop; with ``--policy`` when they would no longer
meet the policy's entry rules, with ``--threshold`` when the score would fall below it
(:func:`iomscore.cohort.leaves_after`; ``"leaves_after"`` in the JSON).
"""

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
    from ..cohort import leaves_after
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
    scorer = get_scorer(args.scorer)
    run = score_read(sub, scorer)
    if run.scored == 0:
        err(run.rejects[0].reason)
        return EXIT_NOTHING_SCORED
    leaves = None
    if not args.no_leaves:
        leaves = leaves_after(sub.table, scorer, policy=args.policy, cohort=args.cohort,
                              threshold=args.threshold, max_months=args.max_months)
    sys.stdout.write(run.scores.result(0).explain(format=args.format, leaves_after=leaves) + "\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``explain`` to the subcommands."""
    from ..scoring import DEFAULT_SCORER
    from ..scoring._leaves import DEFAULT_MAX_MONTHS

    p = sub.add_parser("explain", help="full breakdown of one person's score")
    add_input_arguments(p)
    p.add_argument("--person", required=True, help="person_id to explain")
    p.add_argument("--scorer", default=DEFAULT_SCORER)
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    leave = p.add_argument_group("when would they leave (with no new offence on record)")
    leave.add_argument("--policy", default=None,
                       help="leave when no longer meeting this policy's entry rules (a shipped name or a file)")
    leave.add_argument("--cohort", default=None, help="with a several-cohort policy: whose entry rules (default: any)")
    leave.add_argument("--threshold", type=float, default=None,
                       help="leave when the score falls below this entry threshold (default, with no policy: "
                       "when the band drops)")
    leave.add_argument("--max-months", type=int, default=DEFAULT_MAX_MONTHS,
                       help="months at risk to look ahead (default %(default)s)")
    leave.add_argument("--no-leaves", action="store_true", help="leave out the when-would-they-leave line")
    p.set_defaults(func=run)
