"""``iomscore drift BASELINE CURRENT``: population stability index per feature, score and band.

Two referral lists are scored by ``--scorer`` and compared on every feature the scorer reads,
the score and the band; two score files (what ``iomscore score`` wrote) on the score and band.
Cut-offs 0.1 (moderate) and 0.25 (significant); text, Markdown, HTML (with a small inline SVG)
or JSON. See :mod:`iomscore.monitoring` for what PSI does and does not say.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Final

from ._common import EXIT_OK, NO_INPUT, CliError, emit, file_name

__all__ = ["drift_against", "input_kind", "register", "run"]

MIXED: Final = "{baseline} is {a} and {current} is {b}: compare two referral lists or two score files"


def _first_record(path: Path) -> set[str]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return set(pq.read_schema(path).names)
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    if suffix in (".jsonl", ".ndjson", ".json"):
        text = first.strip().lstrip("[").strip()
        try:
            data = json.loads(text.rstrip(","))
        except ValueError:
            return set()
        if isinstance(data, dict) and "referrals" in data:
            return {"assessment_date"}
        return set(data) if isinstance(data, dict) else set()
    return {c.strip().strip('"') for c in first.split(",")}


def input_kind(path: str | Path) -> str:
    """``"scores"`` for a file ``iomscore score`` wrote, else ``"referrals"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("person_id,score,band\\nP1,3,low\\n")
    >>> input_kind(p)
    'scores'
    """
    columns = _first_record(Path(path))
    return "scores" if {"person_id", "score"} <= columns and "assessment_date" not in columns else "referrals"


def drift_against(baseline: str | Path, table: Any, scores: Any, scorer: Any, current_label: str) -> Any:
    """The :class:`~iomscore.monitoring.DriftReport` of a run's referrals (``table``, scored as
    ``scores`` by ``scorer``) against ``baseline``, a referral list or a score file (detected).

    A baseline referral list is compared feature by feature, score and band; a baseline score
    file by score and band only (it has no features).
    """
    import numpy as np

    from ..monitoring import drift, drift_referrals
    from ._scorefile import read_score_file, referral_table

    path = Path(baseline)
    if not path.is_file():
        raise CliError(NO_INPUT.format(path=path))
    if input_kind(path) == "scores":
        frame = read_score_file(path)
        ok = scores.ok if scores.error is not None else np.ones(len(scores.score), dtype=bool)
        now = {"score": np.where(ok, scores.score, np.nan), "band": np.asarray(scores.band, dtype=object)}
        return drift({"score": frame["score"].to_numpy(float), "band": frame["band"].to_numpy(object)}, now,
                     baseline_label=str(baseline), current_label=current_label)
    return drift_referrals(referral_table(str(path)), table, scorer, baseline_label=str(baseline),
                           current_label=current_label)


def run(args: argparse.Namespace) -> int:
    """Compare the two populations and write the report."""
    from ..monitoring import drift, drift_referrals
    from ._scorefile import read_score_file, referral_table

    paths = [Path(args.baseline), Path(args.current)]
    for p in paths:
        if not p.is_file():
            raise CliError(NO_INPUT.format(path=p))
    kinds = [args.kind or input_kind(p) for p in paths]
    if kinds[0] != kinds[1]:
        raise CliError(MIXED.format(baseline=paths[0], current=paths[1], a=kinds[0], b=kinds[1]))
    labels = {"baseline_label": args.baseline, "current_label": args.current}
    if kinds[0] == "scores":
        frames = [read_score_file(p) for p in paths]
        report = drift(*({"score": f["score"].to_numpy(float), "band": f["band"].to_numpy(object)} for f in frames),
                       **labels)
    else:
        tables = [referral_table(str(p)) for p in paths]
        report = drift_referrals(tables[0], tables[1], args.scorer, **labels)
    render = {"text": report.to_text, "markdown": report.to_markdown, "html": report.to_html,
              "json": lambda: json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"}
    text = render[args.format]()
    emit(text, args.output, report.summary())
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``drift`` to the ``iomscore`` subcommands.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="iomscore")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["drift", "may.jsonl", "june.jsonl", "--format", "html"]).format
    'html'
    """
    from ..scoring import DEFAULT_SCORER

    p = subparsers.add_parser(
        "drift", help="population stability index between two referral lists or two score files",
        description="PSI per feature read by the scorer, per score and per band; 0.1 moderate, 0.25 significant.")
    p.add_argument("baseline", metavar="BASELINE", help="the earlier referral list or score file")
    p.add_argument("current", metavar="CURRENT", help="the later one, of the same kind")
    p.add_argument("--scorer", default=DEFAULT_SCORER, help="scorer whose features are compared (default: %(default)s)")
    p.add_argument("--kind", choices=("referrals", "scores"), default=None, help="override the detected kind of input")
    p.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text")
    p.add_argument("-o", "--output", type=file_name, default=None, help="write the report here (default: standard output)")
    p.set_defaults(func=run)
