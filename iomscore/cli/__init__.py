"""The ``iomscore`` command line: one parser, one reader, one set of exit codes.

Usage
-----
::

    iomscore score INPUT [--sanctions S.csv] [--custody C.csv] --scorer NAME -o OUTPUT [--rejects FILE]
    iomscore explain INPUT --person ID [--scorer NAME] [--format text|markdown|json]
    iomscore select REFERRALS [--capacity N] [--policy P] [--format text|json|csv] [--out FILE]
    iomscore panel REFERRALS [--capacity N] --out PACK.html [--generated-at TS] [--save-selection S.json]
    iomscore decide LOG --selection S.json --person P --decision include|exclude|defer --reason TEXT --by NAME
    iomscore decisions LOG
    iomscore scorers | schema | features
    iomscore synth -n N --seed S -o OUTPUT
    iomscore check SCORER_OR_SPEC

Every command that reads a referral list reads it the same way (``.jsonl`` or ``.json``: JSON
Lines or a JSON array; ``.csv`` or ``.parquet``: the two-table form, with ``<stem>-sanctions``
and ``<stem>-custody`` found beside it), rejects bad rows with their reason and line rather
than stopping, and ends with ``read N = scored S + rejected R`` on stderr. Exit status: 0
when something was scored, 1 when nothing could be (or a check failed), 2 for a usage, file,
model or policy error, printed as one line ``iomscore: error: ...``. Subcommands live in
modules named after them (:mod:`iomscore.cli.score`, ...).
"""

from __future__ import annotations

from .._public import set_module
from ._main import build_parser, main
from ._progress import ProgressBar

__all__ = ["ProgressBar", "build_parser", "main"]

set_module(globals(), __all__, __name__)
