"""The ``iomscore`` command line.

Usage
-----
::

    iomscore score INPUT [--sanctions S.csv] [--custody C.csv] --scorer NAME -o OUTPUT [--rejects FILE]
    iomscore explain INPUT --person ID [--sanctions S.csv] [--scorer NAME] [--format text|markdown|json]
    iomscore scorers
    iomscore schema
    iomscore features
    iomscore synth -n N --seed S -o OUTPUT [--bad-fraction F]

``score`` reads JSON Lines (``.jsonl``), two-table CSV (``.csv``; the sanctions and custody
tables are found beside INPUT as ``<stem>-sanctions.csv`` / ``<stem>-custody.csv`` when not
given) or Parquet, and writes CSV, JSON Lines or Parquet (by OUTPUT's suffix or ``--format``).
Rows that cannot be scored go to the rejects file (default ``<OUTPUT stem>-rejects.csv``) with
the reason, and the run ends with ``read N = scored S + rejected R`` on stderr. Exit status:
0 when at least one referral was scored, 1 when none could be, 2 for a usage or file error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final, TextIO

import numpy as np

from . import __version__

__all__ = ["ProgressBar", "main"]

logger = logging.getLogger("iomscore")

EXIT_OK: Final = 0
EXIT_NOTHING_SCORED: Final = 1
EXIT_ERROR: Final = 2
_PLUGINS: Final = ("iomscore.testing._cli", "iomscore.cohort._cli")
_NOT_FOUND: Final = "person {person!r} is not in {input}"
_REJECTED: Final = "person {person!r} was rejected: {field}: {reason} ({source} row {row})"
_NO_INPUT: Final = "input file not found: {path}"
_PROGRESS_CHUNK: Final = 50_000


class ProgressBar:
    """A one-line progress bar on a terminal stream; does nothing when it is not a TTY.

    Examples
    --------
    >>> import io
    >>> bar = ProgressBar(io.StringIO())  # not a terminal: silent
    >>> bar(5, 10); bar.close()
    >>> bar.enabled
    False
    """

    def __init__(self, stream: TextIO | None = None, label: str = "scoring", width: int = 30) -> None:
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.label = label
        self.width = width
        self._start = time.perf_counter()
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        frac = 1.0 if total <= 0 else min(done / total, 1.0)
        filled = round(frac * self.width)
        elapsed = time.perf_counter() - self._start
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac:6.1%} {done}/{total} {elapsed:5.1f}s")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _err(message: str) -> None:
    sys.stderr.write(f"iomscore: {message}\n")


def _input_tables(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    from .io import format_from_suffix, sibling_tables

    sanctions = Path(args.sanctions) if args.sanctions else None
    custody = Path(args.custody) if getattr(args, "custody", None) else None
    fmt = args.input_format or format_from_suffix(args.input, default="")
    if fmt in ("csv", "parquet"):
        found_s, found_c = sibling_tables(args.input)
        if sanctions is None and found_s is not None:
            logger.info("using sanctions table %s", found_s)
            sanctions = found_s
        if custody is None and found_c is not None:
            logger.info("using custody table %s", found_c)
            custody = found_c
    return sanctions, custody


def _cmd_score(args: argparse.Namespace) -> int:
    from .io import read_referrals, score_read, write_rejects, write_scores

    if not Path(args.input).is_file():
        _err(_NO_INPUT.format(path=args.input))
        return EXIT_ERROR
    sanctions, custody = _input_tables(args)
    output = Path(args.output)
    rejects = Path(args.rejects) if args.rejects else output.with_name(f"{output.stem}-rejects.csv")
    result = read_referrals(args.input, sanctions, custody, format=args.input_format)
    bar = ProgressBar(sys.stderr, label=f"scoring ({args.scorer})")
    chunk = args.chunk_size or (_PROGRESS_CHUNK if bar.enabled and result.table.n > _PROGRESS_CHUNK else None)
    try:
        run = score_read(result, args.scorer, chunk_size=chunk, progress=bar)
    finally:
        bar.close()
    write_scores(output, run.scores, format=args.format, top=args.top)
    write_rejects(rejects, run.rejects)
    sys.stderr.write(f"{run.counts_line}\n")
    if run.rejected:
        sys.stderr.write(f"rejects: {rejects}\n")
    return EXIT_OK if run.scored > 0 else EXIT_NOTHING_SCORED


def _cmd_explain(args: argparse.Namespace) -> int:
    from .io import read_referrals, score_read
    from .scoring._registry import get_scorer

    if not Path(args.input).is_file():
        _err(_NO_INPUT.format(path=args.input))
        return EXIT_ERROR
    sanctions, custody = _input_tables(args)
    result = read_referrals(args.input, sanctions, custody, format=args.input_format)
    matches = [i for i, p in enumerate(result.table.batch.person_id.tolist()) if p == args.person]
    if not matches:
        for r in result.rejects:
            if r.person_id == args.person:
                _err(_REJECTED.format(person=args.person, field=r.field or "-", reason=r.reason, source=r.source,
                                      row=r.row))
                return EXIT_NOTHING_SCORED
        _err(_NOT_FOUND.format(person=args.person, input=args.input))
        return EXIT_NOTHING_SCORED
    one = result.table.take(np.asarray(matches[:1]))
    from .io._common import ReadResult

    sub = ReadResult(table=one, rows=result.rows[matches[:1]], source=result.source)
    sub.counts.referral_rows = sub.counts.valid = 1
    run = score_read(sub, get_scorer(args.scorer))
    if run.scored == 0:
        _err(run.rejects[0].reason)
        return EXIT_NOTHING_SCORED
    sys.stdout.write(run.scores.result(0).explain(format=args.format) + "\n")
    return EXIT_OK


def _cmd_scorers(args: argparse.Namespace) -> int:
    from .scoring._registry import available_scorers, get_scorer

    for name in available_scorers():
        try:
            ident = get_scorer(name).identity
            sys.stdout.write(f"{name}\t{ident.version}\t{ident.kind}\t{ident.sha256[:12]}\n")
        except Exception as exc:  # noqa: BLE001 - a broken third-party scorer must not hide the others
            sys.stdout.write(f"{name}\t(unavailable: {exc})\n")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from .schema._referral import Referral

    sys.stdout.write(json.dumps(Referral.model_json_schema(), indent=2, sort_keys=True) + "\n")
    return EXIT_OK


def _cmd_features(args: argparse.Namespace) -> int:
    from .features._engine import feature_table

    rows = feature_table()
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    w = max(len(r["name"]) for r in rows)
    u = max(len(r["unit"]) for r in rows)
    for r in rows:
        sys.stdout.write(f"{r['name']:<{w}}  {r['unit']:<{u}}  {r['description']}\n")
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace) -> int:
    from . import synth
    from .io import format_from_suffix

    table = synth.generate(args.n, args.seed, bad_fraction=args.bad_fraction)
    fmt = args.format or format_from_suffix(args.output)
    if fmt == "jsonl":
        synth.write_jsonl(table, args.output)
        sys.stderr.write(f"wrote {table.n} referrals to {args.output}\n")
    else:
        ref, san, cus = synth.default_paths(args.output)
        synth.write_csv(table, ref, san, cus, bad_fraction=args.bad_fraction, seed=args.seed)
        sys.stderr.write(f"wrote {table.n} referrals to {ref} (sanctions: {san}, custody: {cus})\n")
    return EXIT_OK


def _add_input(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="referrals: .jsonl, .csv (two-table form) or .parquet")
    p.add_argument("--sanctions", help="sanctions table (default: <stem>-sanctions.<ext> beside INPUT if present)")
    p.add_argument("--custody", help="custody table (default: <stem>-custody.<ext> beside INPUT if present)")
    p.add_argument("--input-format", choices=("jsonl", "csv", "parquet"), help="override the input suffix")


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The argument parser and its subparsers (plugins add theirs to the latter)."""
    from .scoring._api import DEFAULT_SCORER

    parser = argparse.ArgumentParser(prog="iomscore", description="Explainable IOM cohort-selection scoring.")
    parser.add_argument("--version", action="version", version=f"iomscore {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("score", help="score a referral list; bad rows go to a rejects file")
    _add_input(p)
    p.add_argument("--scorer", default=DEFAULT_SCORER, help=f"scorer name or spec path (default {DEFAULT_SCORER})")
    p.add_argument("-o", "--output", required=True, help="output file (.csv, .jsonl or .parquet)")
    p.add_argument("--rejects", help="rejects file (default: <OUTPUT stem>-rejects.csv)")
    p.add_argument("--format", choices=("csv", "jsonl", "parquet"), help="override the output suffix")
    p.add_argument("--top", type=int, default=3, help="reasons per person (default 3)")
    p.add_argument("--chunk-size", type=int, default=None, help="score in chunks of this many referrals")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("explain", help="full breakdown of one person's score")
    _add_input(p)
    p.add_argument("--person", required=True, help="person_id to explain")
    p.add_argument("--scorer", default=DEFAULT_SCORER)
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("scorers", help="list available scorers (name, version, kind, sha256)")
    p.set_defaults(func=_cmd_scorers)
    p = sub.add_parser("schema", help="print the JSON Schema of a referral (one JSON Lines record)")
    p.set_defaults(func=_cmd_schema)
    p = sub.add_parser("features", help="list the derived features with unit and definition")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_cmd_features)

    p = sub.add_parser("synth", help="write a synthetic, seeded referral list")
    p.add_argument("-n", type=int, required=True, help="number of referrals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True,
                   help="OUTPUT.jsonl, or OUTPUT.csv (+ OUTPUT-sanctions.csv, OUTPUT-custody.csv)")
    p.add_argument("--format", choices=("csv", "jsonl"), help="override the output suffix")
    p.add_argument("--bad-fraction", type=float, default=0.0, help="share of deliberately invalid rows")
    p.set_defaults(func=_cmd_synth)
    return parser, sub


def _register_plugins(sub: argparse._SubParsersAction) -> None:
    for module in _PLUGINS:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            if exc.name is not None and module.startswith(exc.name):
                continue  # not installed / not written yet
            logger.warning("could not load the %s subcommand: %s", module, exc)
            continue
        register = getattr(mod, "register", None)
        if register is not None:
            register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser, sub = build_parser()
    _register_plugins(sub)
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
        try:
            return int(args.func(args))
        except (OSError, ValueError, KeyError, ImportError) as exc:
            _err(str(exc) if not isinstance(exc, KeyError) else str(exc.args[0]))
            return EXIT_ERROR
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
