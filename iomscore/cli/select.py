"""``iomscore select``: recommend a decision, with reasons, for every person referred."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from typing import TYPE_CHECKING, Any

import numpy as np  # noqa: F401 - used by the Examples

from ..io._atomic import write_text_atomic
from ..io._text import neutralise
from ._cohort import add_selection_arguments, run_selection, selection_inputs
from ._common import EXIT_NOTHING_SCORED, EXIT_OK, check_outputs, file_name
from .runs import add_run_log_arguments, note_run

if TYPE_CHECKING:
    from ..cohort import CohortSelection
    from ..io import ScoreRun

__all__ = ["register", "run"]


def summary_lines(selection: CohortSelection, run: ScoreRun) -> list[str]:
    """The figures of a run, written so that they add up on their face.

    Examples
    --------
    >>> import iomscore
    >>> from iomscore.cohort import select_cohort
    >>> from iomscore.io import ReadResult, score_read
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01")
    >>> read = ReadResult(table=iomscore.ReferralTable.from_referrals([r]), rows=np.array([1]))
    >>> read.counts.referral_rows = read.counts.valid = 1
    >>> run = score_read(read)
    >>> print("\\n".join(summary_lines(select_cohort(read.table, run.scores), run)))  # doctest: +NORMALIZE_WHITESPACE
    policy neighbourhood-crime-cohort 1.0.0; 20 places
    read 1 = 1 referred + 0 rejected
    referred 1 = 0 selected + 0 over capacity + 1 not eligible + 0 routed + 0 de-selection reviews + 0 not scored
    """
    s = selection.summary()
    rejected = run.read - s["referred"]
    lines = [
        f"policy {selection.policy_name} {selection.policy_version}; {s['places']} places",
        f"read {run.read} = {s['referred']} referred + {rejected} rejected",
        f"referred {s['referred']} = {s['selected']} selected + {s['over_capacity']} over capacity + "
        f"{s['not_eligible']} not eligible + {s['routed']} routed + {s['deselection_reviews']} de-selection "
        f"reviews + {s['not_scored']} not scored",
    ]
    return lines + cohort_lines(selection)


def cohort_lines(selection: CohortSelection) -> list[str]:
    """Per cohort (several-cohort policies) and per cohort's places (occupancy given): figures
    that add up on their face. Empty for a one-cohort selection without occupancy."""
    lines = []
    for c in selection.cohorts:
        f = selection.cohort_summary()[c.name]
        lines.append(
            f"cohort {c.name}: {f['places']} places = {f['selected']} selected + {f['unfilled']} unfilled; "
            f"{f['candidates']} candidates = {f['selected']} selected + {f['over_capacity']} over capacity + "
            f"{f['placed_later']} placed in a later cohort; {f['deselection_reviews']} de-selection reviews"
        )
    if selection.turnover is not None:
        lines += [f"places {line}" for line in selection.turnover.lines()]
        lines += [f"  leaving {x.when}: {x.person_id} ({x.cohort}, expected end {x.expected_end_date.isoformat()}"
                  f"{', estimated from the usual stay' if x.estimated else ''})" for x in selection.turnover.leavers]
    return lines


def _text(selection: CohortSelection, run: ScoreRun) -> str:
    lines = summary_lines(selection, run)
    several = bool(selection.cohorts)
    for d in selection.ranked():
        rank = "" if d.rank is None else str(d.rank)
        score = "-" if d.score is None else f"{d.score:g}"
        where = f"{d.cohort or '-':<10} " if several else ""
        lines.append(f"{rank:>4}  {where}{d.person_id:<16} {score:>6}  {d.decision:<26} {d.reasons[0] if d.reasons else ''}")
    lines.extend(f"warning: {w}" for w in selection.warnings)
    return "\n".join(lines) + "\n"


def _csv(selection: CohortSelection, run: ScoreRun) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    several = bool(selection.cohorts)
    w.writerow(["person_id", *(["cohort"] if several else []), "rank", "decision", "recommended_action", "score", "band",
                "reasons"])
    for d in selection.ranked():
        w.writerow([neutralise(d.person_id), *([neutralise(d.cohort or "")] if several else []), d.rank or "",
                    neutralise(d.decision), neutralise(d.recommended_action),
                    "" if d.score is None else d.score, neutralise(d.band or ""), neutralise("; ".join(d.reasons))])
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    """Print or write the recommendation for every referral."""
    check_outputs(selection_inputs(args), [("--out", args.out), ("--rejects", args.rejects)])
    selection, scored = run_selection(args)
    render = {"json": lambda s, _: s.to_json(), "csv": _csv, "text": _text}[args.format]
    out = render(selection, scored)
    if args.out:
        write_text_atomic(args.out, out)
        note_run(args, outputs={"selection": args.out})
        sys.stdout.write(f"wrote {args.out}: {selection.summary()['selected']} selected of {len(selection)} referred\n")
    else:
        sys.stdout.write(out)
    return EXIT_OK if scored.scored > 0 else EXIT_NOTHING_SCORED


def register(sub: Any) -> None:
    """Add ``select`` to the subcommands."""
    p = sub.add_parser("select", help="recommend a cohort under a selection policy",
                       description="Score referrals and recommend, for every person, a decision and its reasons.")
    add_selection_arguments(p)
    p.add_argument("--meeting-date", default=None,
                   help="the date places are counted at when --current-cohort gives the places taken "
                   "(default: the latest assessment date in the list)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--out", default=None, type=file_name, help="write to this file instead of standard output")
    p.add_argument("--decisions", default=None, metavar="LOG",
                   help="the decision log this run's decisions go to: its anchor (records and last hash) is "
                   "recorded in the selection, so a log rewritten later is refused by 'iomscore decide'")
    add_run_log_arguments(p, always=True)
    p.set_defaults(func=run)
