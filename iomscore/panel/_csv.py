"""The full ranked list beside the pack, as CSV: every referral, one row each.

The pack carries cards only for the people the meeting decides about; everyone else is in
this file. It is written atomically (a temporary file in the same directory, then a rename),
so a reader never sees half a file. Text cells that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are neutralised as
OWASP recommends, by prefixing a single quote; numeric cells are written by iomscore from
numbers and left as they are.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from ..cohort._diff import RunDiff
from ..cohort._select import CohortSelection, Decision
from ..io._text import neutralise  # the one rule for every CSV iomscore writes

__all__ = ["COLUMNS", "neutralise", "ranked_csv_path", "ranked_csv_text"]

#: Columns of the ranked-list CSV, in order.
COLUMNS: Final = (
    "position",
    "rank",
    "person_id",
    "decision",
    "recommended_action",
    "in_pack",
    "score",
    "band",
    "eligible",
    "current_member",
    "assessment_date",
    "assessment_after_meeting",
    "tie_break",
    "reasons",
    "warnings",
    "since_last_panel",
)
def ranked_csv_path(pack: str | os.PathLike[str]) -> Path:
    """Where :func:`~iomscore.panel.write_panel` writes the ranked list: ``<stem>-ranked.csv``.

    Examples
    --------
    >>> ranked_csv_path("out/pack.html").as_posix()
    'out/pack-ranked.csv'
    """
    p = Path(pack)
    return p.with_name(f"{p.stem}-ranked.csv")


def ranked_csv_text(
    selection: CohortSelection,
    ranked: Sequence[Decision],
    *,
    in_pack: Mapping[str, str],
    assessed: Mapping[str, str],
    late: Mapping[str, bool],
    tie_breaks: Mapping[str, Sequence[tuple[str, str]]],
    diff: RunDiff | None,
) -> str:
    """The CSV text: a header and one row per decision, in ``ranked`` order."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    several = bool(selection.cohorts)  # several cohorts: a cohort column after the decision
    w.writerow(_with_cohort(COLUMNS, "cohort") if several else COLUMNS)
    joined: dict[tuple[str, ...], str] = {}  # reason lists repeat across people: join and neutralise once

    def text(parts: Sequence[str]) -> str:
        key = tuple(parts)
        out = joined.get(key)
        if out is None:
            out = joined[key] = neutralise("; ".join(key))
        return out

    for pos, d in enumerate(ranked, start=1):
        change = diff.for_person(d.person_id) if diff is not None else None
        row = (
            pos,
            "" if d.rank is None else d.rank,
            neutralise(d.person_id),
            d.decision,
            d.recommended_action,
            in_pack.get(d.person_id, "no"),
            "" if d.score is None else f"{d.score:g}",
            neutralise(d.band or ""),
            "yes" if d.eligible else "no",
            "yes" if d.current_member else "no",
            assessed.get(d.person_id, ""),
            "yes" if late.get(d.person_id) else "",
            text([f"{k}: {v}" for k, v in tie_breaks.get(d.person_id, ())]),
            text(d.reasons),
            text(d.warnings),
            text(change.lines()) if change is not None else "",
        )
        w.writerow(_with_cohort(row, neutralise(d.cohort or "")) if several else row)
    return buf.getvalue()


def _with_cohort(row: Sequence[object], cohort: object) -> tuple[object, ...]:
    at = COLUMNS.index("decision") + 1
    return (*row[:at], cohort, *row[at:])
