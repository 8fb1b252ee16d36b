"""``iomscore scorers | schema | features``: what is available and what it reads."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import EXIT_OK

__all__ = ["register"]


def _scorers(args: argparse.Namespace) -> int:
    from ..scoring import available_scorers, get_scorer

    for name in available_scorers():
        try:
            ident = get_scorer(name).identity
            sys.stdout.write(f"{name}\t{ident.version}\t{ident.kind}\t{ident.sha256[:12]}\n")
        except Exception as exc:  # noqa: BLE001 - a broken third-party scorer must not hide the others
            sys.stdout.write(f"{name}\t(unavailable: {exc})\n")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from .._contract import contract_schema

    sys.stdout.write(json.dumps(contract_schema(args.what), indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


def _features(args: argparse.Namespace) -> int:
    from ..features._engine import feature_table

    rows = feature_table()
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    w = max(len(r["name"]) for r in rows)
    u = max(len(r["unit"]) for r in rows)
    for r in rows:
        sys.stdout.write(f"{r['name']:<{w}}  {r['unit']:<{u}}  {r['description']}\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``scorers``, ``schema`` and ``features`` to the subcommands."""
    p = sub.add_parser("scorers", help="list available scorers (name, version, kind, sha256)")
    p.set_defaults(func=_scorers)
    from .._contract import SCHEMAS

    p = sub.add_parser("schema", help="print a JSON Schema: a referral (one JSON Lines record, the default), "
                       "a score, a selection or a decision-log record")
    p.add_argument("--what", choices=tuple(SCHEMAS), default="referral",
                   help="which document: " + ", ".join(f"{k} ({v})" for k, v in SCHEMAS.items()))
    p.set_defaults(func=_schema)
    p = sub.add_parser("features", help="list the derived features with unit and definition")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_features)
