"""``iomscore spec show SPEC [--format text|markdown|html]``: a points spec as a table.

Prints the factors, their bins and points, the bands and the probability for every total of
a spec file or a shipped spec (``iom-priority``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from ._common import EXIT_OK, CliError

__all__ = ["register", "run_show"]

NO_SPEC_FILE: Final = "spec file does not exist: {path}"
NOT_A_SPEC: Final = "{name!r} is not a points spec (a spec file, or the name of a shipped spec)"


def run_show(args: argparse.Namespace) -> int:
    """Print the spec in the chosen format."""
    from ..scoring._registry import _shipped_specs
    from ..scoring._spec import load_spec

    target = str(args.spec)
    path = Path(target)
    shipped = _shipped_specs()
    if target in shipped:
        path = shipped[target]
    elif path.suffix.lower() in {".json", ".toml"} or path.parent != Path("."):
        if not path.is_file():
            raise CliError(NO_SPEC_FILE.format(path=path))
    elif not path.is_file():
        raise CliError(NOT_A_SPEC.format(name=target))
    spec = load_spec(path)
    render = {"text": spec.to_text, "markdown": spec.to_markdown, "html": spec.to_html}[args.format]
    sys.stdout.write(render())
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``spec show`` to the subcommands."""
    p = subparsers.add_parser("spec", help="show a points spec as a table")
    sub = p.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND", required=True)
    show = sub.add_parser("show", help="print a spec's factors, bins, points and probability table",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    show.add_argument("spec", metavar="SPEC", help="spec file (.json/.toml) or shipped spec name")
    show.add_argument("--format", choices=("text", "markdown", "html"), default="text")
    show.set_defaults(func=run_show)
