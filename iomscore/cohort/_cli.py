"""Command-line subcommands ``iomscore select`` and ``iomscore panel``.

:func:`register` adds both to the ``iomscore`` command's subparsers; each sets ``func`` to a
function taking the parsed arguments and returning an exit code (0 success, 2 bad input).

Referral files are ``.json`` (a list of referrals, or an object with a ``referrals`` list)
or ``.jsonl`` (one referral per line), in the :class:`iomscore.Referral` schema, or the
two-table ``.csv``/``.parquet`` form of :mod:`iomscore.io` (sanctions and custody tables found
beside the referrals file as ``<stem>-sanctions`` and ``<stem>-custody``).
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

from pydantic import ValidationError

from ..schema._referral import Referral
from ..schema._table import ReferralTable
from ..scoring._api import DEFAULT_SCORER, ScoringError, score_batch
from ..scoring._spec import SpecError
from ._decisions import DecisionLog, DecisionLogError
from ._policy import DEFAULT_POLICY, PolicyError
from ._select import CohortSelection, SelectionError, select_cohort

__all__ = ["read_referrals", "register", "run_panel", "run_select"]

EXIT_OK: Final = 0
EXIT_BAD_INPUT: Final = 2
_BAD_REFERRAL: Final = "{path}: referral {where} is invalid: {error}"
_BAD_FILE: Final = "{path}: cannot read referrals: {error}"
_BAD_SHAPE: Final = "{path}: expected a list of referrals or an object with a 'referrals' list"


class CliInputError(ValueError):
    """An input file given on the command line cannot be used."""


def read_referrals(path: str | Path) -> list[Referral]:
    """Read and validate referrals from a ``.json`` or ``.jsonl`` file.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
    >>> _ = p.write_text(json.dumps({"person_id": "P1", "assessment_date": "2025-06-01",
    ...     "date_of_birth": "1990-01-01"}) + "\\n")
    >>> [r.person_id for r in read_referrals(p)]
    ['P1']
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliInputError(_BAD_FILE.format(path=p, error=exc)) from None
    items: list[tuple[str, Any]] = []
    try:
        if p.suffix.lower() in (".jsonl", ".ndjson"):
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    items.append((f"on line {number}", json.loads(line)))
        else:
            data = json.loads(text)
            if isinstance(data, dict) and isinstance(data.get("referrals"), list):
                data = data["referrals"]
            if not isinstance(data, list):
                raise CliInputError(_BAD_SHAPE.format(path=p))
            items = [(f"number {i + 1}", x) for i, x in enumerate(data)]
    except json.JSONDecodeError as exc:
        raise CliInputError(_BAD_FILE.format(path=p, error=exc)) from None
    out = []
    for where, raw in items:
        try:
            out.append(Referral.model_validate(raw))
        except ValidationError as exc:
            who = raw.get("person_id") if isinstance(raw, dict) else None
            label = f"{where} ({who})" if who else where
            raise CliInputError(_BAD_REFERRAL.format(path=p, where=label, error=exc)) from None
    return out


def _current(value: str | None) -> list[str]:
    if not value:
        return []
    p = Path(value)
    if p.exists():
        return [line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [v.strip() for v in value.split(",") if v.strip()]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "referrals",
        help="referral list: .json/.jsonl, or .csv/.parquet in the two-table form "
        "(<stem>-sanctions and <stem>-custody beside it)",
    )
    parser.add_argument("--policy", default=DEFAULT_POLICY, help="policy file or shipped policy name (default: %(default)s)")
    parser.add_argument("--scorer", default=DEFAULT_SCORER, help="scorer name or spec file (default: %(default)s)")
    parser.add_argument("--capacity", type=int, default=None, help="places available (default: the policy's)")
    parser.add_argument(
        "--current-cohort",
        default=None,
        help="people already in the cohort: a file with one person_id per line, or a comma-separated list",
    )


def _read_table(path: str) -> ReferralTable:
    """Referrals from JSON/JSON Lines (every record must be valid) or the two-table CSV or
    Parquet form (invalid rows are listed on stderr and left out, as ``iomscore score`` does)."""
    if Path(path).suffix.lower() not in (".csv", ".parquet"):
        return ReferralTable.from_referrals(read_referrals(path))
    from ..io import read_referrals as read_tables
    from ..io import sibling_tables

    sanctions, custody = sibling_tables(path)
    result = read_tables(path, sanctions, custody)
    for r in result.rejects:
        print(f"iomscore: rejected {r.person_id or '?'} ({r.source} row {r.row}) {r.field}: {r.reason}",
              file=sys.stderr)
    c = result.counts
    print(f"read {c.referral_rows} = valid {c.valid} + rejected {c.rejected}", file=sys.stderr)
    return result.table


def _select(args: argparse.Namespace) -> tuple[CohortSelection, ReferralTable]:
    table = _read_table(args.referrals)
    scores = score_batch(table, args.scorer)
    selection = select_cohort(
        table, scores, args.policy, current_cohort=_current(args.current_cohort), capacity=args.capacity
    )
    return selection, table


def _fail(message: str) -> int:
    print(f"iomscore: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


_ERRORS: Final = (CliInputError, PolicyError, SelectionError, ScoringError, SpecError, DecisionLogError, KeyError, OSError)


def _text(selection: CohortSelection) -> str:
    s = selection.summary()
    lines = [
        (
            f"policy {selection.policy_name} {selection.policy_version}; {s['places']} places; "
            f"{s['referred']} referred, {s['eligible']} eligible, {s['selected']} selected, "
            f"{s['over_capacity']} over capacity, {s['not_eligible']} not eligible, {s['routed']} routed, "
            f"{s['deselection_reviews']} de-selection reviews"
        )
    ]
    for d in selection.ranked():
        rank = "" if d.rank is None else str(d.rank)
        score = "-" if d.score is None else f"{d.score:g}"
        lines.append(f"{rank:>4}  {d.person_id:<16} {score:>6}  {d.decision:<26} {d.reasons[0] if d.reasons else ''}")
    lines.extend(f"warning: {w}" for w in selection.warnings)
    return "\n".join(lines) + "\n"


def _csv(selection: CohortSelection) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["person_id", "rank", "decision", "recommended_action", "score", "band", "reasons"])
    for d in selection.ranked():
        w.writerow([d.person_id, d.rank or "", d.decision, d.recommended_action, "" if d.score is None else d.score, d.band or "", "; ".join(d.reasons)])
    return buf.getvalue()


def run_select(args: argparse.Namespace) -> int:
    """``iomscore select``: print or write a recommendation for every referral."""
    try:
        selection, _ = _select(args)
    except _ERRORS as exc:
        return _fail(str(exc))
    render = {"json": lambda s: s.to_json(), "csv": _csv, "text": _text}[args.format]
    out = render(selection)
    if args.out:
        Path(args.out).write_text(out, encoding="utf-8")
        print(f"wrote {args.out}: {selection.summary()['selected']} selected of {len(selection)} referred")
    else:
        sys.stdout.write(out)
    return EXIT_OK


def run_panel(args: argparse.Namespace) -> int:
    """``iomscore panel``: write the self-contained HTML panel pack."""
    from ..panel import write_panel

    try:
        selection, table = _select(args)
        previous = CohortSelection.load(args.previous) if args.previous else None
        decisions = DecisionLog(args.decisions).latest(selection) if args.decisions else None
    except (*_ERRORS, ValueError) as exc:
        return _fail(str(exc))
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0)
    path = write_panel(
        args.out,
        selection,
        previous=previous,
        groups=table,
        decisions=decisions,
        title=args.title,
        panel=args.panel_name,
        meeting_date=args.meeting_date,
        generated_at=generated,
        cards=args.cards,
    )
    if args.save_selection:
        Path(args.save_selection).write_text(selection.to_json(), encoding="utf-8")
    s = selection.summary()
    print(
        f"wrote {path}: {s['selected']} selected, {s['routed']} routed, "
        f"{s['deselection_reviews']} de-selection reviews of {s['referred']} referred"
    )
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``select`` and ``panel`` to the ``iomscore`` command's subparsers.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="iomscore")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["select", "refs.jsonl", "--capacity", "5"]).capacity
    5
    """
    sel = subparsers.add_parser(
        "select",
        help="recommend a cohort under a selection policy",
        description="Score referrals and recommend, for every person, a decision and its reasons.",
    )
    _common(sel)
    sel.add_argument("--format", choices=("text", "json", "csv"), default="text")
    sel.add_argument("--out", default=None, help="write to this file instead of standard output")
    sel.set_defaults(func=run_select)

    pan = subparsers.add_parser(
        "panel",
        help="write the HTML panel pack for a meeting",
        description="Write one self-contained HTML file (no network, no JavaScript, prints on A4).",
    )
    _common(pan)
    pan.add_argument("--out", default="panel-pack.html", help="HTML file to write (default: %(default)s)")
    pan.add_argument("--previous", default=None, help="the previous run's selection JSON, to show what changed")
    pan.add_argument("--decisions", default=None, help="decision log (.jsonl) whose decisions on this run to show")
    pan.add_argument("--save-selection", default=None, help="also write this run's selection JSON (for the next --previous)")
    pan.add_argument("--title", default="IOM panel pack")
    pan.add_argument("--panel-name", default=None)
    pan.add_argument("--meeting-date", default=None)
    pan.add_argument("--cards", choices=("candidates", "all", "none"), default="candidates")
    pan.set_defaults(func=run_panel)
