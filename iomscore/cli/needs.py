"""``iomscore needs SELECTION_OR_LIST``: the demand a cohort puts on each pathway's services.

For a selection (the JSON ``iomscore select --format json`` writes) the people selected are
counted, overall and per cohort; for a referral list, everyone on it. Each of the seven
pathways gets the people with some need, with significant need, and not assessed. With
``--by sex,ethnicity`` the same counts by group (a selection needs ``--referrals``, the list it
was made from, for the characteristics). Text, Markdown, JSON or CSV. See
:func:`iomscore.cohort.pathway_demand`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Final

from ._common import (
    EXIT_OK,
    NO_INPUT,
    CliError,
    add_input_arguments,
    check_outputs,
    emit,
    file_name,
    input_paths,
    print_rejects,
    read_input,
)

__all__ = ["read_selection", "register", "run"]

_REFERRALS_FOR_SELECTION: Final = "--referrals is for a selection (the list it was made from); {path} is a referral list"
_BY_NEEDS_REFERRALS: Final = (
    "--by {by} with a selection needs --referrals FILE (the referral list it was made from, which holds the "
    "characteristics)"
)
_DECISIONS_FOR_LIST: Final = "--decisions is for a selection; {path} is a referral list"


def read_selection(path: str | Path) -> Any:
    """The :class:`~iomscore.cohort.CohortSelection` in ``path``, or ``None`` for a referral list.

    A selection is a JSON object with ``decisions`` (what ``iomscore select --format json``
    writes); anything else is read as a referral list.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "refs.jsonl"
    >>> _ = p.write_text('{"person_id": "A"}\\n')
    >>> read_selection(p) is None
    True
    """
    p = Path(path)
    if p.suffix.lower() in (".jsonl", ".ndjson", ".csv", ".parquet"):
        return None
    with p.open("r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(256).lstrip()
    if not head.startswith("{"):
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except ValueError:
        return None  # JSON Lines, or not JSON: the referral reader says what is wrong
    if not (isinstance(data, dict) and "decisions" in data and "policy_name" in data):
        return None
    from ..cohort import CohortSelection

    return CohortSelection.from_dict(data)


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def run(args: argparse.Namespace) -> int:
    """Count the pathway demand and write the table."""
    from ..cohort import pathway_demand

    path = Path(args.input)
    if not path.is_file():
        raise CliError(NO_INPUT.format(path=path))
    inputs: list[tuple[str, str | Path | None]] = [("the input", path)]
    if args.referrals:
        inputs.append(("the referral list", args.referrals))
    check_outputs(inputs, [("-o", args.output)])
    by = _names(args.by)
    selection = read_selection(path)
    if selection is not None:
        decisions = None if args.decisions == "all" else (_names(args.decisions) or ["selected"])
        referrals = None
        if by and not args.referrals:
            raise CliError(_BY_NEEDS_REFERRALS.format(by=",".join(by)))
        if args.referrals:
            from ..io import read_referrals

            if not Path(args.referrals).is_file():
                raise CliError(NO_INPUT.format(path=args.referrals))
            read = read_referrals(args.referrals)
            print_rejects(read.rejects)
            referrals = read.table
        demand = pathway_demand(selection, decisions=decisions, referrals=referrals, by=by,
                                min_group_size=args.min_group_size)
    else:
        if args.referrals:
            raise CliError(_REFERRALS_FOR_SELECTION.format(path=path))
        if args.decisions:
            raise CliError(_DECISIONS_FOR_LIST.format(path=path))
        input_paths(args)  # the sibling tables, found as every reading command finds them
        read = read_input(args)
        print_rejects(read.rejects)
        demand = pathway_demand(read.table, by=by, min_group_size=args.min_group_size)
    render = {"text": demand.to_text, "markdown": demand.to_markdown, "json": demand.to_json, "csv": demand.to_csv}
    emit(render[args.format](), args.output, f"pathway demand of {demand.people} people")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``needs`` to the ``iomscore`` subcommands.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="iomscore")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["needs", "selection.json", "--by", "sex,ethnicity", "--format", "csv"])
    >>> args.by, args.format
    ('sex,ethnicity', 'csv')
    """
    from ..fairness._rates import DEFAULT_MIN_GROUP_SIZE

    p = subparsers.add_parser(
        "needs", help="pathway demand: people with some and significant need on each pathway",
        description="For a selection (the people selected, per cohort) or a referral list: people with some and "
        "significant need on each of the seven resettlement pathways, with the people not assessed beside.")
    add_input_arguments(p, "input")
    for action in p._actions:
        if action.dest == "input":
            action.metavar = "SELECTION_OR_LIST"
            action.help = "a selection (JSON from iomscore select --format json) or a referral list"
    p.add_argument("--by", default=None, help="also count by group of these characteristics, e.g. sex,ethnicity")
    p.add_argument("--referrals", default=None,
                   help="for a selection with --by: the referral list it was made from (the characteristics)")
    p.add_argument("--decisions", default=None,
                   help="for a selection: the recommendations counted, comma-separated, or 'all' "
                   "(default: selected)")
    p.add_argument("--min-group-size", type=int, default=DEFAULT_MIN_GROUP_SIZE,
                   help="flag groups smaller than this as too small to compare (default: %(default)s)")
    p.add_argument("--format", choices=("text", "markdown", "json", "csv"), default="text")
    p.add_argument("-o", "--output", type=file_name, default=None, help="write here (default: standard output)")
    p.set_defaults(func=run)
