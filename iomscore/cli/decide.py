"""``iomscore decide`` and ``iomscore decisions``: record panel decisions and read them back.

``decide`` appends one decision to the hash-chained decision log
(:class:`iomscore.cohort.DecisionLog`), against a selection saved by ``iomscore select
--format json --out`` or ``iomscore panel --save-selection``, and prints the log's new anchor
(``N:SHA256``: its record count and last record's hash) to keep outside the log. It refuses
a log that does not verify, or that no longer holds the anchor the selection recorded.
``decisions`` lists the log, verifies its hash chain (exit 1 naming the first line that breaks
it) and prints override rates overall and, given ``--referrals``, by group of each protected
characteristic, counted by the same engine as the panel pack's selection rates
(:func:`iomscore.fairness.group_rates`). ``decisions --verify`` only verifies: the chain, and
the log against an anchor (``--anchor N:SHA256``, or the one a ``--selection`` recorded).
CSV text cells are neutralised against formula injection (:mod:`iomscore.io._text`).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any, Final

from ..io._text import neutralise
from ._common import EXIT_NOTHING_SCORED, EXIT_OK, CliError, err, print_rejects, read_input

__all__ = ["register"]

#: The panel name recorded when ``--panel`` is not given.
DEFAULT_PANEL: Final = "IOM panel"

NO_SELECTION: Final = "selection file not found: {path}"
BAD_SELECTION: Final = (
    "{path} is not a selection written by 'iomscore select --format json' or "
    "'iomscore panel --save-selection': {problem}"
)
NO_LOG: Final = "decision log not found: {path}"
BLANK: Final = "{option} is blank: {why}"
BLANK_REASON: Final = "a panel decision needs a reason; say why, in plain English"
BLANK_OTHER: Final = "give a value"
UNKNOWN_PERSON: Final = (
    "--person {person!r} is not in the selection {path} ({count} people); decisions are "
    "recorded against a recommendation"
)
BAD_TIME: Final = "--at {value!r} is not an ISO 8601 time; give e.g. 2025-06-03T10:20:00+01:00"
NAIVE_TIME: Final = "--at {value!r} has no time zone; give an offset, e.g. 2025-06-03T10:20:00+01:00"
LOG_BROKEN_BEFORE: Final = "{message}; nothing was recorded (check the log with 'iomscore decisions {path}')"
NOT_VERIFIED: Final = "{message}; the decision log does not verify"
RECORDED: Final = "recorded in {log}: {person} {decision} ({direction}) by {by}, {panel}, at {at}"
ANCHOR_LINE: Final = (
    "decision log {log}: {records} record(s), anchor {anchor} (keep it outside the log; "
    "'iomscore decisions {log} --verify --anchor {anchor}' checks nothing up to it changed)"
)
VERIFIED: Final = "decision log {log}: {records} record(s), hash chain verified; anchor now {anchor}"
VERIFIED_AGAINST: Final = "verified against the anchor {held}{source}: nothing up to record {upto} changed"
AFTER_ANCHOR: Final = (
    "{after} record(s) after the anchor (records {first}-{last}) are not covered by it: check them "
    "against the panel's own record"
)
NO_ANCHOR_IN_SELECTION: Final = (
    "the selection {path} records no decision-log anchor (it was saved without --decisions); "
    "give --anchor N:SHA256 instead"
)
ANCHOR_AND_SELECTION: Final = "give --anchor or --selection to verify against, not both"
NO_GROUPS: Final = (
    "Override rates by group need the people's protected characteristics: give --referrals FILE."
)
NO_RECORDED_GROUPS: Final = "No protected characteristic is recorded for anyone decided on."

_CSV_COLUMNS: Final = (
    "entry",
    "person_id",
    "decision",
    "recommendation",
    "recommended_action",
    "override",
    "decided_at",
    "decided_by",
    "panel",
    "reason",
    "score",
    "band",
    "selection_sha256",
)


# --- shared pieces ----------------------------------------------------------------------------


def _load_selection(path_text: str) -> Any:
    """The saved selection, or a one-line :class:`CliError` (never pydantic's text)."""
    from pydantic import ValidationError

    from ..cohort import CohortSelection

    path = Path(path_text)
    if not path.is_file():
        raise CliError(NO_SELECTION.format(path=path))
    from ..cohort import SelectionError

    try:
        return CohortSelection.load(path)
    except SelectionError as exc:
        raise CliError(str(exc)) from None
    except UnicodeDecodeError:
        raise CliError(BAD_SELECTION.format(path=path, problem="not UTF-8 text")) from None
    except RecursionError:
        raise CliError(BAD_SELECTION.format(path=path, problem="nested too deep")) from None
    except json.JSONDecodeError as exc:
        raise CliError(BAD_SELECTION.format(path=path, problem=f"not JSON ({exc.msg}, line {exc.lineno})")) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the document"
        problem = f"{where}: {str(first['msg']).removeprefix('Value error, ')}"
        raise CliError(BAD_SELECTION.format(path=path, problem=problem)) from None
    except (AttributeError, TypeError):  # e.g. a JSON list instead of an object
        raise CliError(BAD_SELECTION.format(path=path, problem="not a JSON object")) from None


def _not_blank(value: str, option: str, why: str = BLANK_OTHER) -> str:
    if not value.strip():
        raise CliError(BLANK.format(option=option, why=why))
    return value.strip()


def _check_time(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(BAD_TIME.format(value=value)) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise CliError(NAIVE_TIME.format(value=value))
    return value.strip()


# --- iomscore decide ----------------------------------------------------------------------------


def run_decide(args: argparse.Namespace) -> int:
    """Append one decision to the log and print one line saying what was recorded."""
    from ..cohort import DecisionLog, DecisionLogError

    person = _not_blank(args.person, "--person")
    reason = _not_blank(args.reason, "--reason", BLANK_REASON)
    decided_by = _not_blank(args.decided_by, "--by")
    panel = _not_blank(args.panel, "--panel")
    at = _check_time(args.decided_at)
    selection = _load_selection(args.selection)
    if person not in selection.by_person():
        raise CliError(UNKNOWN_PERSON.format(person=person, path=args.selection, count=len(selection)))
    log = DecisionLog(args.log)
    try:
        log.entries()  # never append to a log that does not verify (record checks again, locked)
        entry = log.record(
            selection, person, args.decision, panel=panel, decided_by=decided_by, reason=reason, decided_at=at
        )
    except DecisionLogError as exc:
        raise CliError(LOG_BROKEN_BEFORE.format(message=exc, path=args.log)) from None
    held = log.anchor()
    sys.stdout.write(
        RECORDED.format(
            log=args.log,
            person=entry.person_id,
            decision=entry.decision,
            direction="override: recommended " + entry.recommended_action if entry.is_override else "as recommended",
            by=entry.decided_by,
            panel=entry.panel,
            at=entry.decided_at.isoformat(),
        )
        + "\n"
        + ANCHOR_LINE.format(log=args.log, records=held.records, anchor=held)
        + "\n"
    )
    return EXIT_OK


# --- iomscore decisions -------------------------------------------------------------------------


def _recorded_characteristics(report: Any) -> list[str]:
    """Characteristics with at least one recorded label among the people decided on."""
    from ..schema import NOT_RECORDED

    names = list(dict.fromkeys(g.characteristic for g in report.by_group))
    return [n for n in names if any(g.group != NOT_RECORDED for g in report.groups(n))]


def _text(path: str, entries: Any, report: Any, names: list[str] | None, undecided: int | None,
          anchor: Any = None) -> str:
    head = f"decision log {path}: {len(entries)} decision(s), hash chain verified"
    lines = [head + (f"; anchor {anchor}" if anchor is not None else "")]
    for i, e in enumerate(entries, start=1):
        lines.append(
            f"{i:>4}  {e.person_id:<16} {e.decision:<8} {e.direction:<30} "
            f"{e.decided_at.isoformat()}  {e.decided_by} ({e.panel}): {e.reason}"
        )
    if undecided is not None:
        lines.append(f"{undecided} people in the selection have no decision yet.")
    lines.append(f"Overrides (latest decision per person): {report.formatted()}")
    for direction, count in report.by_direction.items():
        lines.append(f"  {direction}: {count}")
    if names is None:
        lines.append(NO_GROUPS)
    elif not names:
        lines.append(NO_RECORDED_GROUPS)
    for name in names or ():
        lines.append(f"Overrides by {name.replace('_', ' ')}:")
        rows = report.groups(name)
        width = max(len(g.group) for g in rows)
        for g in rows:
            flag = "  small group" if g.small else ""
            lines.append(f"  {g.group:<{width}}  {g.formatted()}{flag}")
    if names:
        lines.append(report.caveat)
    return "\n".join(lines) + "\n"


def _json(path: str, entries: Any, report: Any, names: list[str] | None, undecided: int | None,
          anchor: Any = None) -> str:
    data = report.to_dict()
    data["by_group"] = [g for g in data["by_group"] if names and g["characteristic"] in names]
    data["formatted"] = report.formatted()
    out = {
        "log": path,
        "verified": True,
        "anchor": None if anchor is None else str(anchor),
        "decisions": [e.model_dump(mode="json") | {"is_override": e.is_override} for e in entries],
        "undecided": undecided,
        "override_rates": data,
    }
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


def _csv(path: str, entries: Any, report: Any, names: list[str] | None, undecided: int | None,
         anchor: Any = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_COLUMNS)
    for i, e in enumerate(entries, start=1):
        w.writerow(
            [
                i,
                neutralise(e.person_id),
                e.decision,
                neutralise(e.recommendation),
                e.recommended_action,
                "yes" if e.is_override else "no",
                e.decided_at.isoformat(),
                neutralise(e.decided_by),
                neutralise(e.panel),
                neutralise(e.reason),
                "" if e.score is None else e.score,
                neutralise(e.band or ""),
                e.selection_sha256,
            ]
        )
    return buf.getvalue()


_RENDER: Final = {"text": _text, "json": _json, "csv": _csv}


def run_decisions(args: argparse.Namespace) -> int:
    """List the log, verify its chain (exit 1 when it does not verify) and print override rates."""
    from ..cohort import DecisionLog, DecisionLogError, override_rates

    path = Path(args.log)
    if not path.is_file():
        raise CliError(NO_LOG.format(path=path))
    selection = _load_selection(args.selection) if args.selection else None
    if args.verify:
        return _verify(path, args, selection)
    table = None
    if args.referrals:
        result = read_input(args, "referrals")
        print_rejects(result.rejects)
        table = result.table
    try:
        entries, anchor, _ = DecisionLog(path).verify(args.anchor)
    except DecisionLogError as exc:
        err(NOT_VERIFIED.format(message=exc))
        return EXIT_NOTHING_SCORED
    undecided = None
    if selection is not None:
        entries = tuple(e for e in entries if e.selection_sha256 == selection.sha256)
        decided = {e.person_id for e in entries}
        undecided = sum(d.person_id not in decided for d in selection.decisions)
    report = override_rates(entries, table, min_group_size=args.min_group_size)
    names = None if table is None else _recorded_characteristics(report)
    sys.stdout.write(_RENDER[args.format](str(path), entries, report, names, undecided, anchor))
    return EXIT_OK


def _verify(path: Path, args: argparse.Namespace, selection: Any) -> int:
    """``decisions --verify``: the chain, and the log against an anchor; exit 1 if it fails."""
    from ..cohort import DecisionLog, DecisionLogError

    if args.anchor and selection is not None:
        raise CliError(ANCHOR_AND_SELECTION)
    held: Any = args.anchor
    source = ""
    if selection is not None:
        held = selection.decision_log
        if held is None:
            raise CliError(NO_ANCHOR_IN_SELECTION.format(path=args.selection))
        source = f" recorded in {args.selection}"
    try:
        _, now, after = DecisionLog(path).verify(held)
    except DecisionLogError as exc:
        err(NOT_VERIFIED.format(message=exc))
        return EXIT_NOTHING_SCORED
    records = int(now.records or 0)
    lines = [VERIFIED.format(log=path, records=records, anchor=now)]
    if held is not None:
        upto = records - after
        lines.append(VERIFIED_AGAINST.format(held=held, source=source, upto=upto))
        if after:
            lines.append(AFTER_ANCHOR.format(after=after, first=upto + 1, last=records))
    if args.format == "json":
        out = {"log": str(path), "verified": True, "records": records, "anchor": str(now),
               "verified_against": None if held is None else str(held), "after_anchor": after}
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK

def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def register(subparsers: Any) -> None:
    """Add ``decide`` and ``decisions`` to the ``iomscore`` subcommands.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="iomscore")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["decide", "log.jsonl", "--selection", "run.json", "--person", "P1",
    ...     "--decision", "defer", "--reason", "Awaiting housing", "--by", "chair-02"])
    >>> args.decision, args.panel, args.decided_at
    ('defer', 'IOM panel', None)
    >>> parser.parse_args(["decisions", "log.jsonl", "--format", "json"]).format
    'json'
    """
    from ..cohort._decisions import DEFAULT_MIN_GROUP_SIZE
    from ..schema._vocabulary import DECISIONS

    p = subparsers.add_parser(
        "decide",
        help="record one panel decision in the decision log",
        description="Append one panel decision (with its reason, who decided and when) to the "
        "hash-chained decision log, against a saved selection.",
    )
    p.add_argument("log", metavar="LOG", help="decision log (.jsonl); created on the first decision")
    p.add_argument("--selection", required=True, metavar="SELECTION.json",
                   help="the run decided on: 'iomscore select --format json --out' or 'iomscore panel --save-selection'")
    p.add_argument("--person", required=True, metavar="PERSON_ID", help="whom the decision is about")
    p.add_argument("--decision", required=True, choices=DECISIONS)
    p.add_argument("--reason", required=True, help="why, in plain English (required, not blank)")
    p.add_argument("--by", required=True, dest="decided_by", metavar="NAME",
                   help="who records the decision: a role or pseudonymous staff id")
    p.add_argument("--panel", default=DEFAULT_PANEL, help="which panel decided (default: %(default)s)")
    p.add_argument("--at", dest="decided_at", default=None, metavar="TIMESTAMP",
                   help="when, ISO 8601 with a time zone, e.g. 2025-06-03T10:20:00+01:00 (default: now, UTC)")
    p.set_defaults(func=run_decide)

    q = subparsers.add_parser(
        "decisions",
        help="list the decision log, verify it and print override rates",
        description="List the decisions, verify the log's hash chain (exit 1 if it does not verify) "
        "and print override rates overall and, with --referrals, by group.",
    )
    q.add_argument("log", metavar="LOG", help="decision log (.jsonl)")
    q.add_argument("--selection", default=None, metavar="SELECTION.json",
                   help="only the decisions made on this selection (with --verify: verify against the "
                   "decision-log anchor it recorded)")
    q.add_argument("--verify", action="store_true",
                   help="only verify the log: its hash chain and, with --anchor or --selection, that nothing "
                   "up to the anchor changed (exit 1 if not)")
    q.add_argument("--anchor", default=None, metavar="N:SHA256",
                   help="an anchor printed by 'iomscore decide' or recorded in a selection: the log must still "
                   "hold that record (the last line edited, lines removed or the log rewritten fail)")
    q.add_argument("--referrals", default=None, metavar="FILE",
                   help="the referral list, for override rates by protected characteristic and sex")
    q.add_argument("--format", choices=tuple(_RENDER), default="text",
                   help="text (default), json, or csv (the decisions only, one row each)")
    q.add_argument("--min-group-size", type=_positive, default=DEFAULT_MIN_GROUP_SIZE,
                   help="flag groups with fewer decisions than this (default: %(default)s)")
    q.set_defaults(func=run_decisions)
