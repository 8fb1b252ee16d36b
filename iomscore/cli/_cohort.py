"""What ``select`` and ``panel`` share: their options and the read -> score -> select steps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ._common import add_input_arguments, file_name, input_paths, print_rejects, read_input
from .runs import note_run

if TYPE_CHECKING:
    from ..cohort import CohortSelection, Occupancy
    from ..io import ScoreRun

__all__ = ["add_selection_arguments", "anchor_decision_log", "current_cohort", "run_selection", "selection_inputs"]


def current_cohort(value: str | None) -> list[str] | Occupancy:
    """person_ids from a file with one per line or from a comma-separated list, or the
    occupancy form: a CSV file whose header names ``person_id, cohort, start_date,
    expected_end_date`` (one place each, with its cohort and expected end).

    Examples
    --------
    >>> current_cohort("P1, P2,,P3")
    ['P1', 'P2', 'P3']
    >>> current_cohort(None)
    []
    """
    from ..cohort._places import Occupancy, is_occupancy_text

    if not value:
        return []
    p = Path(value)
    if p.is_file():
        text = p.read_text(encoding="utf-8-sig")
        if is_occupancy_text(text):
            return Occupancy.from_csv_text(text, source=str(p))
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [v.strip() for v in value.split(",") if v.strip()]


def selection_inputs(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    """Every file ``select`` or ``panel`` reads (so that no output can overwrite one)."""
    found: list[tuple[str, Path | None]] = list(input_paths(args, "referrals"))
    for what, name in [("the policy", "policy"), ("the scorer spec", "scorer"), ("the current cohort", "current_cohort"),
                       ("the previous selection", "previous"), ("the decision log", "decisions")]:
        value = getattr(args, name, None)
        if value and Path(value).is_file():
            found.append((what, Path(value)))
    return found


def add_selection_arguments(p: argparse.ArgumentParser) -> None:
    """The referral list, policy, scorer, capacity and current cohort."""
    from ..cohort import DEFAULT_POLICY
    from ..scoring import DEFAULT_SCORER

    add_input_arguments(p, "referrals")
    p.add_argument("--policy", default=DEFAULT_POLICY,
                   help="policy file or shipped policy name (default: %(default)s)")
    p.add_argument("--scorer", default=DEFAULT_SCORER, help="scorer name or spec file (default: %(default)s)")
    p.add_argument("--capacity", type=int, default=None, help="places available (default: the policy's)")
    p.add_argument("--rejects", default=None, type=file_name,
                   help="also write every rejected row, with its reason, to this CSV file")
    p.add_argument("--current-cohort", default=None,
                   help="people already in the cohort: a file with one person_id per line, a comma-separated list, "
                   "or a CSV of the places taken (person_id, cohort, start_date, expected_end_date): the run then "
                   "says how many places free up by the meeting date and in each of the next three months")


def anchor_decision_log(selection: CohortSelection, log_path: str) -> CohortSelection:
    """The selection with the decision log's anchor recorded in it (printed on stderr).

    The log must verify; decisions later made on this selection are appended only to a log
    that still holds this record, and ``iomscore decisions LOG --verify --selection`` checks it.
    """
    from ..cohort import DecisionLog

    held = DecisionLog(log_path).anchor()
    sys.stderr.write(f"decision log {log_path}: {held.records} record(s), anchor {held} (recorded in the selection)\n")
    return selection.model_copy(update={"decision_log": held})


def run_selection(args: argparse.Namespace) -> tuple[CohortSelection, ScoreRun]:
    """Read the list (rejects listed on stderr), score it and select under the policy."""
    from ..cohort import select_cohort
    from ..io import score_read, write_rejects

    result = read_input(args, "referrals")
    run = score_read(result, args.scorer)
    print_rejects(run.rejects, more_hint=not args.rejects)
    if args.rejects:
        write_rejects(args.rejects, run.rejects)
    selection = select_cohort(result.table, run.scores, args.policy,
                              current_cohort=current_cohort(args.current_cohort), capacity=args.capacity,
                              as_of=getattr(args, "meeting_date", None))
    if run.orphans_line:
        sys.stderr.write(f"{run.orphans_line}\n")
    sys.stderr.write(f"{run.counts_line}\n")
    if getattr(args, "decisions", None):
        selection = anchor_decision_log(selection, args.decisions)
    note_run(args, run=run, selection=selection, outputs={"rejects": args.rejects})
    return selection, run


