"""``iomscore learn REFERRALS --outcomes OUTCOMES.csv --target COLUMN -o SPEC.json``.

Learns a points table from a team's own referrals and outcomes over iomscore's own features
(:func:`iomscore.learn.learn`), writes it as a hashed spec that ``iomscore score``, ``select``,
``panel`` and ``check`` read like ``iom-priority``, and beside it a cross-validated report
(``SPEC.report.md``: the learned table against OGRS3 and iom-priority on the same folds, AUC,
Brier score, ECE, and the points table) with its calibration plot (``SPEC.calibration.svg``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from ._common import EXIT_OK, CliError, add_input_arguments, print_rejects, read_input

__all__ = ["register", "report_paths", "run"]

_HELP: Final = "learn a points table from your own referrals and outcomes"
_SAME_FILE: Final = "-o {path} would overwrite an input file"


def report_paths(spec: Path) -> tuple[Path, Path]:
    """``(SPEC.report.md, SPEC.calibration.svg)`` beside the spec.

    Examples
    --------
    >>> [p.name for p in report_paths(Path("out/my-table.json"))]
    ['my-table.report.md', 'my-table.calibration.svg']
    """
    return spec.with_name(f"{spec.stem}.report.md"), spec.with_name(f"{spec.stem}.calibration.svg")


def run(args: argparse.Namespace) -> int:
    """Read, learn, write the spec (and the report unless ``--no-report``)."""
    from ..evaluation import learned_report
    from ..learn import learn, read_outcomes

    output = Path(args.output)
    if output.resolve() in {Path(args.input).resolve(), Path(args.outcomes).resolve()}:
        raise CliError(_SAME_FILE.format(path=output))
    outcomes = read_outcomes(args.outcomes)
    result = read_input(args)
    print_rejects(result.rejects)
    features = [f.strip() for f in args.features.split(",") if f.strip()] if args.features else None
    model = learn(
        result.table,
        outcomes,
        args.target,
        features=features,
        include_sex=args.include_sex,
        name=args.name,
        version=args.version,
        provenance={"referrals_file": Path(args.input).name, "outcomes_file": Path(args.outcomes).name},
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(model.spec.to_json(), encoding="utf-8")
    clf = model.classifier
    sys.stderr.write(
        f"wrote {output}: {len(model.spec.factors)} factors, {getattr(clf, 'n_steps_', '?')} steps, learned from "
        f"{int(model.at_risk.sum())} of {result.table.n} referrals at risk for {args.target} "
        f"(sha256 {model.spec.sha256})\n"
    )
    if not args.no_report:
        md_path, svg_path = report_paths(output)
        report = learned_report(model, result.table, n_splits=args.folds, random_state=args.seed,
                                svg_name=svg_path.name)
        md_path.write_text(report.markdown, encoding="utf-8")
        svg_path.write_text(report.svg, encoding="utf-8")
        line = "; ".join(f"{r.name} AUC {r.auc:.3f} Brier {r.brier:.4f} ECE {r.ece_pooled:.3f}" for r in report.results)
        sys.stderr.write(f"wrote {md_path} and {svg_path}: {line}\n")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``learn`` to the subcommands."""
    p = subparsers.add_parser("learn", help=_HELP, description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_arguments(p)
    p.add_argument("--outcomes", required=True, metavar="OUTCOMES.csv",
                   help="outcomes table: person_id, outcome columns (1/0, empty when not known), follow-up dates")
    p.add_argument("--target", required=True, metavar="COLUMN",
                   help="outcome column, or y_1y / y_2y / y_year2_given_none_year1 from assessment_date, "
                   "reoffence_date and follow_up_end")
    p.add_argument("-o", "--output", required=True, metavar="SPEC.json", help="where to write the spec")
    p.add_argument("--features", help="comma-separated iomscore features (default: iomscore.learn.DEFAULT_FEATURES)")
    p.add_argument("--include-sex", action="store_true", help="allow the sex feature (never by default)")
    p.add_argument("--name", default="learned-points", help="spec name (default learned-points)")
    p.add_argument("--version", default="1.0.0", help="spec version (default 1.0.0)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds of the report (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the folds (default 0)")
    p.add_argument("--no-report", action="store_true", help="write only the spec")
    p.set_defaults(func=run)
