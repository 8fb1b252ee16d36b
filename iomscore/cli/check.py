"""``iomscore check SCORER_OR_SPEC``: run :func:`iomscore.testing.check_scorer` from the shell.

``SCORER_OR_SPEC`` is a scorer name (``iom-priority``, ``ogrs3``, a registered or entry-point
scorer), a points spec file (``.json``/``.toml``), or ``module:attribute`` naming a scorer
object, class or factory in an importable module. Prints each property with PASS, FAIL (and
the smallest counterexample, as referral JSON) or SKIP; exits 0 when every property passed
or was skipped, 1 when one failed, 2 when the scorer cannot be found.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Final

from ..scoring._protocol import Scorer
from ..scoring._registry import get_scorer
from ..testing import check_scorer
from ..testing._check import DEFAULT_MAX_EXAMPLES, PROPERTIES
from . import _common

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "register", "resolve_scorer", "run"]

EXIT_OK: Final = _common.EXIT_OK
EXIT_FAILED: Final = _common.EXIT_NOTHING_SCORED
EXIT_USAGE: Final = _common.EXIT_ERROR
_NOT_A_SCORER: Final = "{target} is not a scorer (it has no score_features method)"
_CANNOT_LOAD: Final = "cannot load scorer {target!r}: {error}"
_HELP: Final = "run the iomscore property suite against a scorer or points spec"


def resolve_scorer(target: str) -> Scorer:
    """The scorer named by ``target``: a name, a spec path, or ``module:attribute``.

    Examples
    --------
    >>> resolve_scorer("ogrs3").name
    'ogrs3'
    >>> resolve_scorer("iomscore:OGRS3").name
    'ogrs3'
    """
    if ":" in target and not Path(target).exists():
        module_name, _, attr = target.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "score_features")):
            obj = obj()
        if not hasattr(obj, "score_features"):
            raise TypeError(_NOT_A_SCORER.format(target=target))
        return obj
    return get_scorer(target)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` command to an ``argparse`` subparsers object."""
    p = subparsers.add_parser("check", help=_HELP, description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scorer", metavar="SCORER_OR_SPEC",
                   help="scorer name, points spec file, or module:attribute")
    p.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES,
                   help=f"examples tried per property (default {DEFAULT_MAX_EXAMPLES})")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the search (default: derandomized, the same examples every run)")
    p.add_argument("--property", action="append", choices=PROPERTIES, dest="properties",
                   help="run only this property (repeatable)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the check; print the report to stdout. Returns the exit status."""
    try:
        scorer = resolve_scorer(args.scorer)
    except (KeyError, ValueError, ImportError, AttributeError, TypeError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        _common.err(_CANNOT_LOAD.format(target=args.scorer, error=message))
        return EXIT_USAGE
    report = check_scorer(
        scorer,
        max_examples=args.max_examples,
        seed=args.seed,
        raise_on_failure=False,
        properties=getattr(args, "properties", None),
    )
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(report.to_text() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILED
