"""The run log from the command line: every run that scores, selects or renders is recorded.

``select`` and ``panel`` always append a record to the run log (``--run-log PATH``; default
``iomscore-runs.jsonl`` beside the output, or beside the referral list when ``select`` writes
to standard output). ``score`` appends one only when ``--run-log PATH`` is given
(``--no-run-log``, the default, cancels an earlier ``--run-log`` in a wrapper script). The
record is written after the command has written its outputs (:func:`record_run`, called once by
the dispatcher), so it holds the sha256 of what was actually written; a command that fails
with a usage or input error writes no outputs and no record.

``iomscore runs LOG`` lists the log and verifies its hash chain; ``--remove-before DATE``
applies a retention rule (:meth:`iomscore.monitoring.RunLog.prune`).

The record's ``time`` is the only clock read: ``--run-log-time`` (or the environment variable
``IOMSCORE_RUN_LOG_TIME``) pins it, so a test or a demo run twice gives the same log bytes.
The log is a separate file; no output carries the run time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ._common import EXIT_NOTHING_SCORED, EXIT_OK, CliError, err

if TYPE_CHECKING:
    from ..monitoring import RunRecord

__all__ = ["DEFAULT_RUN_LOG", "add_run_log_arguments", "note_run", "record_run", "register"]

#: File name of the run log when ``--run-log`` is not given (beside the output).
DEFAULT_RUN_LOG: Final = "iomscore-runs.jsonl"
#: Environment variable that pins the run log's clock (ISO 8601 with a zone).
CLOCK_VARIABLE: Final = "IOMSCORE_RUN_LOG_TIME"

BAD_TIME: Final = "--run-log-time / IOMSCORE_RUN_LOG_TIME {value!r} is not an ISO 8601 time (e.g. 2026-01-15T09:30:00Z)"
NO_LOG: Final = "run log not found: {path}"
BAD_CUTOFF: Final = "--remove-before {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time with a zone"
NOT_VERIFIED: Final = "{message}; the run log does not verify"
VERIFIED: Final = "run log {path}: {n} record{s}, hash chain verified"
LAST_LINE: Final = "last record sha256 {sha256} (note it elsewhere: removing the last record is what a chain cannot show)"
ANCHOR_NOW: Final = "anchor {anchor} ('iomscore runs {path} --anchor {anchor}' later checks nothing up to it changed)"
ANCHOR_OK: Final = "verified against the anchor {held}: nothing up to record {upto} changed; {after} record(s) after it"
ANCHOR_LOST: Final = "run log {path} does not verify against the anchor {held}: {problem}"
CHECKPOINT_LINE: Final = (
    "retention: {removed} earlier record{s} removed (before {before}); their sha256 are kept in the "
    "checkpoint, the first kept record chains to it"
)
REMOVED: Final = "removed {n} record{s} before {before}; the log still verifies"
NOTHING_REMOVED: Final = "no records before {before}; nothing removed"

_FACTS: Final = "_run_facts"
_SKIPPED_OPTIONS: Final = frozenset({"func", "verbose", _FACTS})


def add_run_log_arguments(p: argparse.ArgumentParser, *, always: bool) -> None:
    """``--run-log PATH`` and ``--run-log-time``; ``--no-run-log`` too when the log is opt-in.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_run_log_arguments(p, always=False)
    >>> p.parse_args(["--run-log", "runs.jsonl", "--no-run-log"]).run_log is None
    True
    """
    g = p.add_argument_group("run log")
    if always:
        g.add_argument("--run-log", default=None, metavar="PATH",
                       help=f"append this run's record to PATH (default: {DEFAULT_RUN_LOG} beside the output)")
    else:
        g.add_argument("--run-log", default=None, metavar="PATH",
                       help="append this run's record to PATH (default: no run log for score)")
        g.add_argument("--no-run-log", dest="run_log", action="store_const", const=None,
                       help="no run log (the default for score; cancels an earlier --run-log)")
    g.add_argument("--run-log-time", default=None, metavar="TIME",
                   help=f"time recorded in the run log (ISO 8601; default now, or ${CLOCK_VARIABLE}): "
                   "pin it for reproducible test runs")
    p.set_defaults(_run_log_always=always)


def note_run(args: argparse.Namespace, *, run: Any = None, selection: Any = None,
             outputs: Mapping[str, str | os.PathLike[str] | None] | None = None) -> None:
    """Remember what a command read, scored, selected and wrote, for :func:`record_run`.

    Examples
    --------
    >>> args = argparse.Namespace()
    >>> note_run(args, outputs={"scores": "out.csv", "rejects": None})
    >>> note_run(args, outputs={"pack": "pack.html"})
    >>> sorted(vars(args)["_run_facts"]["outputs"])
    ['pack', 'scores']
    """
    facts = vars(args).setdefault(_FACTS, {"outputs": {}})
    if run is not None:
        facts["run"] = run
    if selection is not None:
        facts["selection"] = selection
    for role, path in (outputs or {}).items():
        if path is not None:
            facts["outputs"][role] = str(path)


def _clock(value: str | None) -> dt.datetime:
    value = value or os.environ.get(CLOCK_VARIABLE) or None
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        stamp = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(BAD_TIME.format(value=value)) from None
    return stamp.replace(tzinfo=stamp.tzinfo or dt.UTC)


def _log_path(args: argparse.Namespace, facts: Mapping[str, Any]) -> Path | None:
    if args.run_log:
        return Path(args.run_log)
    if not getattr(args, "_run_log_always", False):
        return None
    out = getattr(args, "out", None) or getattr(args, "output", None)
    source = getattr(args, "referrals", None) or getattr(args, "input", None) or "."
    beside = Path(out) if out else Path(str(source))
    return beside.parent / DEFAULT_RUN_LOG


def _file(role: str, path: str | os.PathLike[str], rows: int | None = None) -> dict[str, Any] | None:
    from ..monitoring import file_sha256

    p = Path(path)
    if not p.is_file():
        return None
    out: dict[str, Any] = {"role": role, "path": str(path), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
    if rows is not None:
        out["rows"] = rows
    return out


def _inputs(args: argparse.Namespace, run: Any) -> list[dict[str, Any]]:
    from ..io import format_from_suffix, sibling_tables

    counts = run.input.counts if run is not None and run.input is not None else None
    source = getattr(args, "referrals", None) or getattr(args, "input", None)
    found: list[dict[str, Any] | None] = []
    if source:
        sanctions, custody = getattr(args, "sanctions", None), getattr(args, "custody", None)
        fmt = getattr(args, "input_format", None) or format_from_suffix(source, default="")
        if fmt in ("csv", "parquet"):
            s, c = sibling_tables(source)
            sanctions = sanctions or s
            custody = custody or c
        found.append(_file("referrals", source, None if counts is None else counts.referral_rows))
        if sanctions:
            found.append(_file("sanctions", sanctions, None if counts is None else counts.sanction_rows))
        if custody:
            found.append(_file("custody", custody, None if counts is None else counts.custody_rows))
    for role, option in (("scorer spec", "scorer"), ("policy", "policy"), ("current cohort", "current_cohort"),
                         ("previous selection", "previous"), ("decision log", "decisions"),
                         ("drift baseline", "baseline")):
        value = getattr(args, option, None)
        if value:
            found.append(_file(role, value))
    return [f for f in found if f is not None]


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


def build_record(args: argparse.Namespace, status: int, time: dt.datetime) -> dict[str, Any]:
    """The run record of a finished command (before ``format`` and ``prev_sha256``)."""
    from .. import __version__

    facts = vars(args).get(_FACTS, {"outputs": {}})
    run, selection = facts.get("run"), facts.get("selection")
    options = {k: _json_safe(v) for k, v in sorted(vars(args).items()) if k not in _SKIPPED_OPTIONS and not k.startswith("_")}
    counts: dict[str, int] = {}
    scorer = None
    if run is not None:
        counts.update(read=run.read, scored=run.scored, rejected=run.rejected)
        scorer = run.scores.model.model_dump(mode="json") if run.scores.model is not None else None
    policy = None
    if selection is not None:
        summary = selection.summary()
        counts.update(referred=summary["referred"], selected=summary["selected"])
        policy = {"name": selection.policy_name, "version": selection.policy_version, "sha256": selection.policy_sha256}
    outputs = [f for role, path in sorted(facts["outputs"].items()) if (f := _file(role, path)) is not None]
    record: dict[str, Any] = {
        "time": time.isoformat(),
        "iomscore_version": __version__,
        "command": args.command,
        "options": options,
        "exit_status": status,
        "inputs": _inputs(args, run),
        "scorer": scorer,
        "policy": policy,
        "outputs": outputs,
        "counts": counts,
    }
    if selection is not None:
        record["selection_sha256"] = selection.sha256
    return record


def record_run(args: argparse.Namespace, status: int) -> int:
    """Append the finished command's record to its run log (if it keeps one); return ``status``.

    Called once by the dispatcher after every successful command; a no-op for commands that
    keep no run log (no ``--run-log`` option) and for ``score`` without ``--run-log``.
    """
    if not hasattr(args, "run_log") or status not in (EXIT_OK, EXIT_NOTHING_SCORED):
        return status
    facts = vars(args).get(_FACTS, {"outputs": {}})
    path = _log_path(args, facts)
    if path is None:
        return status
    from ..monitoring import RunLog

    RunLog(path).append(build_record(args, status, _clock(args.run_log_time)))
    return status


# --- iomscore runs ---------------------------------------------------------------------------


def _line(record: RunRecord) -> str:
    d = record.data
    if record.is_checkpoint:
        n = int(d.get("removed", 0))
        return CHECKPOINT_LINE.format(removed=n, s="" if n == 1 else "s", before=d.get("before"))
    counts = d.get("counts") or {}
    head = f"{record.line:>4}  {d.get('time')}  {d.get('command')} (exit {d.get('exit_status')})"
    parts: list[str] = []
    scorer, policy = d.get("scorer"), d.get("policy")
    if scorer:
        parts.append(f"scorer {scorer.get('name')} {scorer.get('version')} ({str(scorer.get('sha256'))[:12]})")
    if policy:
        parts.append(f"policy {policy.get('name')} {policy.get('version')} ({str(policy.get('sha256'))[:12]})")
    if "read" in counts:
        text = f"read {counts['read']} = scored {counts['scored']} + rejected {counts['rejected']}"
        if "selected" in counts:
            text += f"; selected {counts['selected']}"
        parts.append(text)
    outputs = ", ".join(f"{o['path']} ({o['sha256'][:12]})" for o in d.get("outputs") or [])
    if outputs:
        parts.append(f"wrote {outputs}")
    return f"{head}: " + "; ".join(parts)


def _cutoff(value: str) -> str:
    text = value.strip()
    try:
        if len(text) == 10:
            dt.date.fromisoformat(text)
        elif dt.datetime.fromisoformat(text).tzinfo is None:
            raise ValueError(text)
    except ValueError:
        raise argparse.ArgumentTypeError(BAD_CUTOFF.format(value=value)) from None
    return text


def run(args: argparse.Namespace) -> int:
    """List (and optionally prune) a run log; exit 1 when it does not verify."""
    from .._chain import Anchor, AnchorError, check_anchor
    from .._chain import anchor as chain_anchor
    from ..monitoring import RunLog, RunLogError

    log = RunLog(args.log)
    if not log.path.is_file():
        raise CliError(NO_LOG.format(path=log.path))
    notes: list[str] = []
    try:
        if args.remove_before:
            checkpoint = log.prune(args.remove_before)
            if checkpoint is None:
                notes.append(NOTHING_REMOVED.format(before=args.remove_before))
            else:
                n = int(checkpoint["removed"])
                notes.append(REMOVED.format(n=n, s="" if n == 1 else "s", before=checkpoint["before"]))
        records = log.records()
        now = chain_anchor(log.path, checkpoints=True)
        if args.anchor:
            held = Anchor.parse(args.anchor)
            after = check_anchor(log.path, held, checkpoints=True)
            notes.append(ANCHOR_OK.format(held=held, upto=int(now.records or 0) - after, after=after))
    except AnchorError as exc:
        err(NOT_VERIFIED.format(message=ANCHOR_LOST.format(path=log.path, held=args.anchor, problem=exc)))
        return EXIT_NOTHING_SCORED
    except RunLogError as exc:
        err(NOT_VERIFIED.format(message=exc))
        return EXIT_NOTHING_SCORED
    runs = [r for r in records if not r.is_checkpoint]
    if args.format == "json":
        checkpoint_data = next((r.data for r in records if r.is_checkpoint), None)
        data = {"path": str(log.path), "verified": True, "records": [r.data for r in runs], "checkpoint": checkpoint_data}
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return EXIT_OK
    n = len(runs)
    lines = [*notes, VERIFIED.format(path=log.path, n=n, s="" if n == 1 else "s")]
    lines.extend(_line(r) for r in records)
    if records:
        lines.append(LAST_LINE.format(sha256=records[-1].sha256))
    lines.append(ANCHOR_NOW.format(anchor=now, path=log.path))
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``runs`` to the ``iomscore`` subcommands.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="iomscore")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["runs", "iomscore-runs.jsonl", "--remove-before", "2025-01-01"]).remove_before
    '2025-01-01'
    """
    p = subparsers.add_parser(
        "runs",
        help="list the run log and verify its hash chain",
        description="List every recorded run (what was read, scored, selected and written, with "
        "sha256) and verify the hash chain: exit 1, naming the first line, when a record was "
        "edited, deleted, reordered or appended outside the chain.",
    )
    p.add_argument("log", metavar="LOG", help=f"run log (.jsonl), e.g. {DEFAULT_RUN_LOG}")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--anchor", default=None, metavar="N:SHA256",
                   help="an anchor printed by an earlier 'iomscore runs': exit 1 unless the log still holds that "
                   "record (records pruned since count)")
    p.add_argument("--remove-before", type=_cutoff, default=None, metavar="DATE",
                   help="retention: remove the records of runs before DATE (YYYY-MM-DD, UTC midnight, or a "
                   "time with a zone), keeping a checkpoint with their sha256 so the log still verifies")
    p.set_defaults(func=run)
