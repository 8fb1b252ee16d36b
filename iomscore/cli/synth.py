"""``iomscore synth``: write a synthetic, seeded referral list."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import EXIT_OK, file_name, whole_number

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    """Write the list as JSON Lines or as the two-table CSV form."""
    from .. import synth
    from ..io import format_from_suffix

    table = synth.generate(args.n, args.seed, bad_fraction=args.bad_fraction,
                           oasys_fraction=getattr(args, "oasys_fraction", 0.0))
    fmt = args.format or format_from_suffix(args.output)
    if fmt == "jsonl":
        synth.write_jsonl(table, args.output)
        sys.stderr.write(f"wrote {table.n} referrals to {args.output}\n")
    else:
        ref, san, cus = synth.default_paths(args.output)
        synth.write_csv(table, ref, san, cus, bad_fraction=args.bad_fraction, seed=args.seed)
        sys.stderr.write(f"wrote {table.n} referrals to {ref} (sanctions: {san}, custody: {cus})\n")
    if getattr(args, "outcomes", None):
        synth.write_outcomes_csv(synth.generate_outcomes(table, args.seed), args.outcomes)
        sys.stderr.write(f"wrote outcomes of {table.n} referrals to {args.outcomes} (generating model: iomscore.synth)\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``synth`` to the subcommands."""
    p = sub.add_parser("synth", help="write a synthetic, seeded referral list")
    p.add_argument("-n", type=whole_number(1), required=True, help="number of referrals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, type=file_name,
                   help="OUTPUT.jsonl, or OUTPUT.csv (+ OUTPUT-sanctions.csv, OUTPUT-custody.csv)")
    p.add_argument("--format", choices=("csv", "jsonl"), help="override the output suffix")
    p.add_argument("--bad-fraction", type=float, default=0.0, help="share of deliberately invalid rows")
    p.add_argument("--oasys-fraction", type=float, default=0.0, metavar="F",
                   help="share of people given OASys assessment answers (oasys_* columns, read by ogp2, ovp2 and "
                   "snsv-dynamic); default 0: the output is as without the option")
    p.add_argument("--outcomes", metavar="OUTCOMES.csv",
                   help="also write seeded reoffending outcomes drawn from the documented generating model "
                   "(iomscore.synth.OUTCOME_MODEL)")
    p.set_defaults(func=run)
