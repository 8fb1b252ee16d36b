"""What every subcommand shares: exit codes, the one way of printing errors and the one reader.

Every command that reads a referral list reads it through :func:`read_input` (which calls
:func:`iomscore.io.read_referrals`), so the same file gives the same accepted and rejected
rows, with the same reasons and line numbers, whichever command reads it; and every such
command ends with the same counts line (:func:`counts_line`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ..io import ReadResult, Reject, ScoreRun

__all__ = [
    "EXIT_ERROR",
    "EXIT_NOTHING_SCORED",
    "EXIT_OK",
    "CliError",
    "add_input_arguments",
    "counts_line",
    "err",
    "file_name",
    "print_rejects",
    "read_input",
    "whole_number",
]

logger = logging.getLogger("iomscore")

#: Exit status: success.
EXIT_OK: Final = 0
#: Exit status: the run finished but nothing could be scored (or a check failed).
EXIT_NOTHING_SCORED: Final = 1
#: Exit status: a usage, input-file, model or policy error; nothing was written.
EXIT_ERROR: Final = 2

NO_INPUT: Final = "input file not found: {path}"
REJECT_LINE: Final = "rejected {person} ({source} row {row}) {field}: {reason}"
MORE_REJECTS: Final = "... and {count} more rejected rows"
REJECTS_HINT: Final = " (write them all with --rejects FILE)"
_SHOWN_REJECTS: Final = 20
BAD_WHOLE_NUMBER: Final = "must be a whole number, {least} or more, not {value!r}"
EMPTY_FILE_NAME: Final = "needs a file name, not an empty string"


class CliError(Exception):
    """A problem the command line reports in one line and exits with :data:`EXIT_ERROR`."""


def err(message: str) -> None:
    """Print ``iomscore: error: MESSAGE`` on stderr: the one form every command uses."""
    sys.stderr.write(f"iomscore: error: {message}\n")


def whole_number(least: int) -> Callable[[str], int]:
    """An argparse ``type`` for whole numbers of ``least`` or more (a usage error otherwise).

    Examples
    --------
    >>> whole_number(1)("3")
    3
    >>> whole_number(1)("-1")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a whole number, 1 or more, not '-1'
    """

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            n = least - 1
        if n < least:
            raise argparse.ArgumentTypeError(BAD_WHOLE_NUMBER.format(least=least, value=value))
        return n

    return parse


def file_name(value: str) -> str:
    """An argparse ``type`` for a file to write: anything but an empty string.

    Examples
    --------
    >>> file_name("out.csv")
    'out.csv'
    """
    if not value.strip():
        raise argparse.ArgumentTypeError(EMPTY_FILE_NAME)
    return value


def add_input_arguments(p: argparse.ArgumentParser, name: str = "input") -> None:
    """The referral-list argument and the options that locate its other tables."""
    p.add_argument(name, help="referrals: .jsonl or .json (JSON Lines or a JSON array), "
                   ".csv or .parquet (two-table form)")
    p.add_argument("--sanctions", help="sanctions table (default: <stem>-sanctions.<ext> beside the referrals)")
    p.add_argument("--custody", help="custody table (default: <stem>-custody.<ext> beside the referrals)")
    p.add_argument("--input-format", choices=("jsonl", "json", "csv", "parquet"),
                   help="override the input suffix (json and jsonl are read alike)")


def read_input(args: argparse.Namespace, name: str = "input") -> ReadResult:
    """Read the referral list named on the command line, in whatever form it has.

    Raises
    ------
    CliError
        When the file does not exist.
    """
    from ..io import format_from_suffix, read_referrals, sibling_tables

    path = Path(getattr(args, name))
    if not path.is_file():
        raise CliError(NO_INPUT.format(path=path))
    sanctions = Path(args.sanctions) if getattr(args, "sanctions", None) else None
    custody = Path(args.custody) if getattr(args, "custody", None) else None
    fmt = getattr(args, "input_format", None)
    fmt = "jsonl" if fmt == "json" else fmt
    if (fmt or format_from_suffix(path, default="")) in ("csv", "parquet"):
        found_s, found_c = sibling_tables(path)
        if sanctions is None and found_s is not None:
            logger.info("using sanctions table %s", found_s)
            sanctions = found_s
        if custody is None and found_c is not None:
            logger.info("using custody table %s", found_c)
            custody = found_c
    return read_referrals(path, sanctions, custody, format=fmt)


def print_rejects(rejects: list[Reject], limit: int = _SHOWN_REJECTS, *, more_hint: bool = True) -> None:
    """List rejected rows on stderr (the first ``limit``; the rest counted)."""
    for r in rejects[:limit]:
        sys.stderr.write("iomscore: " + REJECT_LINE.format(
            person=r.person_id or "?", source=r.source, row=r.row, field=r.field or "-", reason=r.reason) + "\n")
    if len(rejects) > limit:
        hint = REJECTS_HINT if more_hint else ""
        sys.stderr.write("iomscore: " + MORE_REJECTS.format(count=len(rejects) - limit) + hint + "\n")


def counts_line(run: ScoreRun) -> str:
    """The line every reading command ends with: ``read N = scored S + rejected R``."""
    return run.counts_line
