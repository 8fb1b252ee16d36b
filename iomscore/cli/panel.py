"""``iomscore panel``: the printable HTML pack for a panel meeting."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any, Final

from ..io._atomic import write_text_atomic
from ..panel import CARD_MODES
from ._cohort import add_selection_arguments, run_selection, selection_inputs
from ._common import EXIT_NOTHING_SCORED, EXIT_OK, CliError, check_outputs, file_name
from .decide import _load_selection
from .runs import add_run_log_arguments, note_run

__all__ = ["register", "run"]

BAD_RESERVES: Final = "--reserves must be a whole number, 0 or more, not {value!r}"
BAD_TIMESTAMP: Final = "--generated-at: {value!r} is not an ISO 8601 timestamp (e.g. 2026-01-15T09:30:00Z)"


def generated_at(value: str | None) -> dt.datetime:
    """The pack's timestamp: ``value`` (ISO 8601) or now, in UTC to the second.

    Examples
    --------
    >>> generated_at("2026-01-15T09:30:00Z").isoformat()
    '2026-01-15T09:30:00+00:00'
    """
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CliError(BAD_TIMESTAMP.format(value=value)) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).replace(microsecond=0)


def _reserves(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError(BAD_RESERVES.format(value=value))
    return n


def run(args: argparse.Namespace) -> int:
    """Select, then write the pack (and the selection JSON for next month's ``--previous``)."""
    from ..cohort import DecisionLog
    from ..panel import ranked_csv_path, write_panel

    stamp = generated_at(args.generated_at)
    check_outputs(selection_inputs(args), [("--out", args.out), ("the ranked list", ranked_csv_path(args.out)),
                                           ("--save-selection", args.save_selection), ("--rejects", args.rejects)])
    previous = _load_selection(args.previous) if args.previous else None  # its recorded sha256 checked, first
    selection, scored = run_selection(args)
    drift_line = None
    if args.baseline and scored.input is not None:
        from .drift import drift_against

        drift_line = drift_against(args.baseline, scored.input.table, scored.scores, args.scorer,
                                   args.referrals).summary()
    decisions = None
    if args.decisions:
        # decisions on this run, else the latest decision the panel took on the previous run
        log = DecisionLog(args.decisions)
        decisions = {**(log.latest(previous) if previous is not None else {}), **log.latest(selection)}
    table = scored.input.table if scored.input is not None else None
    path = write_panel(
        args.out,
        selection,
        previous=previous,
        groups=table,
        decisions=decisions,
        title=args.title,
        panel=args.panel_name,
        meeting_date=args.meeting_date,
        generated_at=stamp,
        cards=args.cards,
        reserves=args.reserves,
        read_counts=scored.input.counts if scored.input is not None else None,
        rejects=scored.rejects,
        policy=args.policy,  # the cards say when each person would no longer meet its entry rules
        scorer=args.scorer,
        drift=drift_line,
    )
    if args.save_selection:
        write_text_atomic(args.save_selection, selection.to_json())
    note_run(args, outputs={"pack": path, "ranked list": ranked_csv_path(path), "selection": args.save_selection})
    s = selection.summary()
    sys.stdout.write(
        f"wrote {path}: {s['selected']} selected, {s['routed']} routed, "
        f"{s['deselection_reviews']} de-selection reviews of {s['referred']} referred\n"
    )
    return EXIT_OK if scored.scored > 0 else EXIT_NOTHING_SCORED


def register(sub: Any) -> None:
    """Add ``panel`` to the subcommands."""
    p = sub.add_parser("panel", help="write the HTML panel pack for a meeting",
                       description="Write one self-contained HTML file (no network, no JavaScript, prints on A4).")
    add_selection_arguments(p)
    p.add_argument("--out", default="panel-pack.html", type=file_name, help="HTML file to write (default: %(default)s)")
    p.add_argument("--previous", default=None, help="the previous run's selection JSON, to show what changed")
    p.add_argument("--decisions", default=None,
                   help="decision log (.jsonl) whose decisions on this run to show; its anchor is recorded "
                   "in the saved selection")
    p.add_argument("--save-selection", default=None, type=file_name,
                   help="also write this run's selection JSON (for the next --previous and for iomscore decide)")
    p.add_argument("--title", default="IOM panel pack")
    p.add_argument("--panel-name", default=None)
    p.add_argument("--meeting-date", default=None)
    p.add_argument("--generated-at", default=None,
                   help="timestamp printed on the pack (ISO 8601; default now): pin it so two runs give the same bytes")
    p.add_argument("--cards", choices=CARD_MODES, default="meeting",
                   help="whose cards the pack carries: the meeting's (selected, reserves, de-selection "
                   "reviews and routed people; the default), every candidate, everyone, or none")
    p.add_argument("--baseline", default=None,
                   help="an earlier referral list or score file: the pack carries a one-line drift note against it "
                   "(iomscore drift for the full report)")
    p.add_argument("--reserves", type=_reserves, default=5,
                   help="cards for the next N people in rank below the capacity line (default %(default)s)")
    add_run_log_arguments(p, always=True)
    p.set_defaults(func=run)
