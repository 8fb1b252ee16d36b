"""The one parser, the one dispatcher and the one place errors are printed."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import re
import sys
from collections.abc import Sequence
from typing import Final

from .. import __version__
from .._errors import IomscoreError
from . import runs
from ._common import EXIT_ERROR, CliError, err

__all__ = ["build_parser", "main"]

#: Options naming a spec or policy: a command with one also takes --allow-unhashed.
_MODEL_OPTIONS = ("scorer", "policy")
ALLOW_UNHASHED_HELP = (
    "load a spec or policy file that records no sha256 (one you wrote yourself); shipped names and "
    "recorded hashes are still checked"
)

#: Subcommand modules (of :mod:`iomscore.cli`) in the order ``iomscore --help`` lists them, with
#: the commands each registers. They are imported only when registered: a run registers just the
#: module of its command (:func:`_modules_for`), so ``iomscore score`` loads none of the others'
#: domain code (cohort, panel, fairness, the property kit and hypothesis).
_COMMANDS: Final[dict[str, tuple[str, ...]]] = {
    "score": ("score",),
    "explain": ("explain",),
    "select": ("select",),
    "panel": ("panel",),
    "needs": ("needs",),
    "decide": ("decide", "decisions"),
    "runs": ("runs",),
    "audit": ("audit",),
    "drift": ("drift",),
    "card": ("card",),
    "info": ("scorers", "schema", "features"),
    "synth": ("synth",),
    "check": ("check",),
    "learn": ("learn",),
    "spec": ("spec",),
}
_MODULE_OF: Final = {command: module for module, commands in _COMMANDS.items() for command in commands}
#: ``-v``, ``-vv``, ... and ``--verbose``: the top-level options a command may follow (none takes a value).
_VERBOSE: Final = re.compile(r"-v+|--verbose")


def _modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The subcommand modules that parse ``argv`` exactly as the whole parser does.

    The command's own module when ``argv`` names one after nothing but ``-v`` options; none
    for ``--version`` (printed before a command is looked at); every module otherwise (the
    list of ``--help``, an unknown command's choices, an option spelt some other way).

    Examples
    --------
    >>> _modules_for(["-vv", "decisions", "log.jsonl", "-h"])
    ('decide',)
    >>> _modules_for(["--version"])
    ()
    >>> len(_modules_for(["-h", "score"])) == len(_COMMANDS)
    True
    """
    for word in argv:
        if word == "--version":
            return ()
        if not _VERBOSE.fullmatch(word):
            module = _MODULE_OF.get(word)
            return (module,) if module is not None else tuple(_COMMANDS)
    return tuple(_COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    """The ``iomscore`` argument parser with every subcommand.

    Examples
    --------
    >>> build_parser().parse_args(["select", "refs.jsonl", "--capacity", "5"]).capacity
    5
    """
    return _parser(tuple(_COMMANDS))


def _parser(modules: Sequence[str]) -> argparse.ArgumentParser:
    """The ``iomscore`` argument parser with the subcommands of ``modules`` (in ``_COMMANDS`` order)."""
    parser = argparse.ArgumentParser(prog="iomscore", description="Explainable IOM cohort-selection scoring.")
    parser.add_argument("--version", action="version", version=f"iomscore {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        importlib.import_module(f"{__package__}.{name}").register(sub)
    for command in sub.choices.values():
        if any(a.dest in _MODEL_OPTIONS for a in command._actions):
            command.add_argument("--allow-unhashed", action="store_true", help=ALLOW_UNHASHED_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 nothing scored, 2 error)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(_modules_for(argv))
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
            build_parser().print_help(sys.stderr)  # every command listed, whichever were registered
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
