"""What every subcommand shares: exit codes, the one way of printing errors and the one reader.

Every command that reads a referral list reads it through :func:`read_input` (which calls
:func:`iomscore.io.read_referrals`), so the same file gives the same accepted and rejected
rows, with the same reasons and line numbers, whichever command reads it; and every such
command ends with the same counts line (:attr:`iomscore.io.ScoreRun.counts_line`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ..io import ReadResult, Reject

__all__ = [
    "EXIT_ERROR",
    "EXIT_NOTHING_SCORED",
    "EXIT_OK",
    "CliError",
    "add_input_arguments",
    "check_outputs",
    "emit",
    "err",
    "file_name",
    "input_paths",
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
NO_SANCTIONS: Final = ("warning: no sanctions table (give --sanctions, or put %s beside the referrals): "
                       "everyone is scored on an empty sanction history unless their row has a summary")
REJECT_LINE: Final = "rejected {person} ({source} row {row}) {field}: {reason}"
MORE_REJECTS: Final = "... and {count} more rejected rows"
REJECTS_HINT: Final = " (write them all with --rejects FILE)"
_SHOWN_REJECTS: Final = 20
SAME_AS_INPUT: Final = "{option} {path} is {what} of this run: refusing to overwrite it (nothing was written)"
SAME_OUTPUT: Final = "{option} and {other} both name {path}: give them different files (nothing was written)"
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


def input_paths(args: argparse.Namespace, name: str = "input") -> list[tuple[str, Path]]:
    """The files a reading command reads: ``(what, path)`` of the referral list and the
    sanctions and custody tables (given, or found beside the referrals).

    Raises
    ------
    CliError
        When the referral list does not exist.
    """
    from ..io import format_from_suffix, sibling_tables

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
    out = [("the referral list", path)]
    if sanctions is not None:
        out.append(("the sanctions table", sanctions))
    if custody is not None:
        out.append(("the custody table", custody))
    return out


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())


def check_outputs(inputs: Sequence[tuple[str, str | os.PathLike[str] | None]],
                  outputs: Sequence[tuple[str, str | os.PathLike[str] | None]]) -> None:
    """Refuse, before anything is read or written, an output that is an input or another output.

    ``inputs`` are ``(what, path)`` (``"the referral list"``), ``outputs`` ``(option, path)``
    (``"-o"``); ``None`` paths are skipped.

    Raises
    ------
    CliError
        Naming the option and the file.

    Examples
    --------
    >>> check_outputs([("the referral list", "r.csv")], [("-o", "scores.csv")])
    >>> check_outputs([("the referral list", "r.csv")], [("-o", "./r.csv")])
    Traceback (most recent call last):
    iomscore.cli._common.CliError: -o r.csv is the referral list of this run: refusing to overwrite it (nothing was written)
    """
    ins = [(what, Path(p)) for what, p in inputs if p is not None]
    outs = [(option, Path(p)) for option, p in outputs if p is not None]
    for i, (option, out) in enumerate(outs):
        for what, path in ins:
            if _same_file(out, path):
                raise CliError(SAME_AS_INPUT.format(option=option, path=out, what=what))
        for other, prev in outs[:i]:
            if _same_file(out, prev):
                raise CliError(SAME_OUTPUT.format(option=other, other=option, path=out))


def read_input(args: argparse.Namespace, name: str = "input") -> ReadResult:
    """Read the referral list named on the command line, in whatever form it has.

    Raises
    ------
    CliError
        When the file does not exist.
    """
    from ..io import format_from_suffix, read_referrals

    paths = {what: p for what, p in input_paths(args, name)}
    fmt = getattr(args, "input_format", None)
    fmt = "jsonl" if fmt == "json" else fmt
    referrals = paths["the referral list"]
    result = read_referrals(referrals, paths.get("the sanctions table"), paths.get("the custody table"), format=fmt)
    if "the sanctions table" not in paths and (fmt or format_from_suffix(referrals, default="")) in ("csv", "parquet"):
        logger.warning(NO_SANCTIONS, referrals.with_name(f"{referrals.stem}-sanctions{referrals.suffix}"))
    return result


def print_rejects(rejects: list[Reject], limit: int = _SHOWN_REJECTS, *, more_hint: bool = True) -> None:
    """List rejected rows on stderr (the first ``limit``; the rest counted)."""
    for r in rejects[:limit]:
        sys.stderr.write("iomscore: " + REJECT_LINE.format(
            person=r.person_id or "?", source=r.source, row=r.row, field=r.field or "-", reason=r.reason) + "\n")
    if len(rejects) > limit:
        hint = REJECTS_HINT if more_hint else ""
        sys.stderr.write("iomscore: " + MORE_REJECTS.format(count=len(rejects) - limit) + hint + "\n")


def emit(text: str, output: str | None, said: str = "") -> None:
    """Write ``text`` to ``output`` atomically and say so, or to standard output when not given.

    Examples
    --------
    >>> emit("a report\\n", None)
    a report
    """
    if output:
        from ..io._atomic import write_text_atomic

        write_text_atomic(output, text)
        sys.stdout.write(f"wrote {output}" + (f": {said}" if said else "") + "\n")
    else:
        sys.stdout.write(text)
