"""The one parser, the one dispatcher and the one place errors are printed."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from .._errors import IomscoreError
from . import (
    audit,
    card,
    check,
    decide,
    drift,
    explain,
    info,
    learn,
    needs,
    runs,
    score,
    select,
    spec,
    synth,
)
from . import panel as panel_command
from ._common import EXIT_ERROR, CliError, err

__all__ = ["build_parser", "main"]

#: Options naming a spec or policy: a command with one also takes --allow-unhashed.
_MODEL_OPTIONS = ("scorer", "policy")
ALLOW_UNHASHED_HELP = (
    "load a spec or policy file that records no sha256 (one you wrote yourself); shipped names and "
    "recorded hashes are still checked"
)

#: Subcommand modules in the order ``iomscore --help`` lists them.
_COMMANDS = (score, explain, select, panel_command, needs, decide, runs, audit, drift, card, info, synth, check, learn, spec)


def build_parser() -> argparse.ArgumentParser:
    """The ``iomscore`` argument parser with every subcommand.

    Examples
    --------
    >>> build_parser().parse_args(["select", "refs.jsonl", "--capacity", "5"]).capacity
    5
    """
    parser = argparse.ArgumentParser(prog="iomscore", description="Explainable IOM cohort-selection scoring.")
    parser.add_argument("--version", action="version", version=f"iomscore {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMANDS:
        module.register(sub)
    for command in sub.choices.values():
        if any(a.dest in _MODEL_OPTIONS for a in command._actions):
            command.add_argument("--allow-unhashed", action="store_true", help=ALLOW_UNHASHED_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 nothing scored, 2 error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("iomscore: %(message)s"))
    log = logging.getLogger("iomscore")
    log.addHandler(handler)
    previous = log.level
    log.setLevel(level)
    try:
        if getattr(args, "func", None) is None:
            parser.print_help(sys.stderr)
            return EXIT_ERROR
        from ..scoring._spec import allowing_unhashed

        unhashed = allowing_unhashed() if getattr(args, "allow_unhashed", False) else contextlib.nullcontext()
        try:
            with unhashed:
                return runs.record_run(args, int(args.func(args)))  # the run log, after the outputs
        except (CliError, IomscoreError, OSError, ValueError, KeyError, ImportError) as exc:
            err(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
            return EXIT_ERROR
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
