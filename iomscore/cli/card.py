"""``iomscore card SCORER_OR_SPEC -o CARD``: the model card of any scorer, as Markdown or HTML.

A built-in scorer's name, a points spec file (shipped, learned or hand-written) or a scorer
installed through the ``iomscore.scorers`` entry point: the card is built from what the scorer
declares (:func:`iomscore.monitoring.model_card`), with the owner's blanks clearly marked.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import EXIT_OK, emit, file_name

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    """Write the card (to ``-o``, else standard output)."""
    from ..monitoring import model_card

    card = model_card(args.scorer, source=args.scorer)
    text = card.to_html() if args.format == "html" else card.to_markdown()
    emit(text, args.output, card.title)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``card`` to the ``iomscore`` subcommands.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="iomscore")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["card", "ogrs3", "-o", "ogrs3.md"]).format
    'markdown'
    """
    p = subparsers.add_parser(
        "card", help="write the model card of a scorer or spec",
        description="Purpose and intended use, who is affected, inputs read and not read, how a score is "
        "made, validation, limitations, version and sha256, and the ATRS tier 1 and 2 fields (owner's "
        "blanks marked).")
    p.add_argument("scorer", metavar="SCORER_OR_SPEC", help="a scorer name (e.g. iom-priority, ogrs3) or a spec file")
    p.add_argument("--format", choices=("markdown", "html"), default="markdown")
    p.add_argument("-o", "--output", type=file_name, default=None, help="write the card here (default: standard output)")
    p.set_defaults(func=run)
