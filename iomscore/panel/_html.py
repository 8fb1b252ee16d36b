"""The panel pack: one self-contained HTML file for an IOM panel meeting.

The page has inline CSS and inline SVG only: no JavaScript, no web fonts, no images or
style sheets from elsewhere, so it opens offline and prints the same everywhere. Print
styles set A4 pages. People are shown by their pseudonymous ``person_id`` only, and every
piece of text is HTML-escaped. Protected characteristics appear only as group totals in the
fairness summary, never on a person's card.

By default (``cards="meeting"``) the pack is for the meeting: a card for everyone selected,
a stated number of reserves (the next in rank), every de-selection review, every person
referred to MAPPA / review and anyone who could not be scored. The full ranked list of every
referral goes to a CSV file beside the pack (:func:`write_panel`). The front matter states
how many referral rows were read, rejected, not eligible, routed and over capacity, with the
sums written out so they can be checked on the page.

The pack renders what it is given: the run-to-run changes (a
:class:`~iomscore.cohort.RunDiff`) and the selection rates by group (a
:class:`~iomscore.cohort.SelectionRates`) are computed by the caller; ``previous=`` and
``groups=`` without them delegate to :func:`~iomscore.cohort.diff_runs` and
:func:`~iomscore.cohort.selection_rates`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np

from ..cohort._decisions import (
    DEFAULT_MIN_GROUP_SIZE,
    GroupsArg,
    LogEntry,
    SelectionRates,
    selection_rates,
)
from ..cohort._diff import RunDiff, diff_runs
from ..cohort._policy import SelectionPolicy, load_policy
from ..cohort._select import (
    DESELECTION,
    NOT_ELIGIBLE,
    NOT_SCORED,
    OVER_CAPACITY,
    ROUTED,
    SELECTED,
    CohortSelection,
    Decision,
)
from ..fairness._rates import format_rate
from ..io._atomic import write_text_atomic
from ..schema._table import ReferralTable
from ._cards import CARD_CSS, DECISION_CLASS, CardInput, leaves_lines, render_card
from ._csv import ranked_csv_path, ranked_csv_text
from ._demand import demand_section
from ._format import e, fmt_score, parse_date
from ._history import AT_RISK_MONTHS, assessment_dates, person_records
from ._places import cohort_figures, cohort_reserves, cohort_roles, turnover_section

if TYPE_CHECKING:
    from ..io import ReadCounts, Reject

__all__ = ["CARD_MODES", "render_panel", "write_panel"]

#: The values of ``cards``: ``"meeting"`` (default), ``"candidates"``, ``"all"``, ``"none"``.
CARD_MODES: Final = ("meeting", "candidates", "all", "none")
CardsArg = Literal["meeting", "candidates", "all", "none"]
_BAD_CARDS: Final = "cards must be one of 'meeting', 'candidates', 'all' or 'none', not {value!r}"
_BAD_RESERVES: Final = "reserves must be a whole number, 0 or more; got {value!r}"
_TABLE_MISMATCH: Final = (
    "the referral table does not hold {count} of the selection's people (e.g. {people}); "
    "pass the table the selection was made from"
)
_TOP_REJECT_REASONS: Final = 5
#: Fallback for ``generated_at`` is the current time in UTC; pass it for byte-identical packs.
_GENERATED_FORMAT: Final = "minutes"

_CSS: Final = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: Arial, "Liberation Sans", Helvetica, sans-serif; font-size: 10.5pt;
  line-height: 1.35; color: #111; margin: 0 auto; padding: 12px; max-width: calc(186mm + 24px);
  overflow-wrap: anywhere; }
h1 { font-size: 17pt; margin: 0 0 4px; }
h2 { font-size: 13pt; margin: 14px 0 6px; border-bottom: 2px solid #1f5fa8; padding-bottom: 2px;
  break-after: avoid; }
h3 { font-size: 11pt; margin: 10px 0 4px; break-after: avoid; }
p, ul { margin: 4px 0; }
ul { padding-left: 18px; }
.meta { color: #333; font-size: 9pt; }
.meta code { font-size: 8.5pt; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: 4px 0 8px; }
th, td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th { background: #e8eef6; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; }
table.figures { width: 70%; }
table.index { font-size: 9pt; }
table.index td { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 1px 4px; }
table.index .badge { font-size: 8pt; padding: 0 4px; }
table.figures th { background: #f4f7fb; font-weight: 400; }
table.figures tr.total th, table.figures tr.total td { font-weight: 700; }
.sum { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 9pt; background: #f4f4f4;
  padding: 2px 6px; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; font-size: 9pt;
  border: 1px solid #888; overflow-wrap: normal; word-break: normal; }
.badge.selected { background: #dcefdc; border-color: #2e7d32; }
.badge.over { background: #fff4d6; border-color: #a07800; }
.badge.noteligible { background: #eee; border-color: #777; }
.badge.routed { background: #fde0e0; border-color: #b71c1c; }
.badge.deselect { background: #e6e0f5; border-color: #4a2f8f; }
.badge.notscored { background: #eee; border-color: #b71c1c; }
.chart { display: block; width: 100%; max-width: 100%; height: auto; margin: 2px 0; }
.card .chart { max-width: 150mm; }
.needs { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 4px; margin: 2px 0; }
.need { border: 1px solid #aaa; padding: 2px 5px; font-size: 9pt; line-height: 1.25; }
.need b { display: block; font-weight: 600; }
.need.significant_need { background: #f7d4d4; }
.need.some_need { background: #fbecc8; }
.need.no_need { background: #e3f1e3; }
.need.not_assessed { background: #f2f2f2; font-style: italic; }
.warn { background: #fff8e1; border-left: 4px solid #a07800; padding: 3px 6px 3px 20px; }
p.warn { padding-left: 6px; }
.change { background: #eef4fb; border-left: 4px solid #1f5fa8; padding: 3px 6px 3px 20px; }
.decision-box { border: 1px dashed #666; padding: 6px; margin-top: 8px; }
.decision-box .line { border-bottom: 1px solid #999; height: 18px; margin: 4px 0; }
.small { color: #555; font-size: 9pt; }
.caveat { font-size: 9pt; background: #f4f4f4; padding: 4px 6px; }
.caveat, .warn, .sum, .explain, table.figures { break-inside: avoid; }
.flag { color: #8a5a00; font-weight: 600; }
.explain { background: #f4f7fb; border-left: 4px solid #1f5fa8; padding: 4px 8px; }
@media print {
  body { padding: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
}
""" + CARD_CSS


@dataclass(frozen=True)
class _Pack:
    html: str
    csv: str | None


def _shown_scores(s: CohortSelection) -> dict[str, list[tuple[str, str, str | None, bool]]]:
    """Per person: (label, score text, band, ranks) of each of the policy's ``show_scores``."""
    out: dict[str, list[tuple[str, str, str | None, bool]]] = {}
    if not s.shown_scores:
        return out
    for i, d in enumerate(s.decisions):
        rows = out[d.person_id] = []
        for shown in s.shown_scores:
            value = shown.score[i]
            if value is None:
                text = "not scored"
            elif shown.unit == "points":
                text = f"{value:g}"
            else:
                text = f"{value:.2f}%"
            rows.append((shown.label, text, shown.band[i], shown.ranks))
    return out


def _badge(decision: str) -> str:
    return f'<span class="badge {DECISION_CLASS.get(decision, "")}">{e(decision)}</span>'


def _table_rows(table: ReferralTable, ids: Sequence[str]) -> np.ndarray:
    """Row of each of ``ids`` in ``table`` (the selection's order is usually the table's)."""
    tids = np.asarray(table.batch.person_id, dtype=object).astype(str)
    want = np.asarray(ids, dtype=object).astype(str) if len(ids) else np.zeros(0, dtype=str)
    if tids.shape == want.shape and np.array_equal(tids, want):
        return np.arange(len(ids), dtype=np.int64)
    order = np.argsort(tids, kind="stable")
    pos = np.searchsorted(tids[order], want)
    pos = np.clip(pos, 0, max(len(tids) - 1, 0))
    found = tids[order][pos] == want if len(tids) else np.zeros(len(ids), dtype=bool)
    if not found.all():
        missing = want[~found]
        raise ValueError(_TABLE_MISMATCH.format(count=missing.size, people=", ".join(missing[:3].tolist())))
    return order[pos].astype(np.int64)


def _reserves(selection: CohortSelection, ranked: Sequence[Decision], n: int) -> list[Decision]:
    """The next ``n`` candidates in rank after the selected (``CohortSelection.reserves`` when present)."""
    if n == 0:
        return []
    method = getattr(selection, "reserves", None)
    if callable(method):
        got = list(method(n))
        by_id = {d.person_id: d for d in ranked} if got and isinstance(got[0], str) else {}
        return [by_id[g] if isinstance(g, str) else g for g in got]
    over = [d for d in ranked if d.decision == OVER_CAPACITY and d.rank is not None]
    return over[:n]


def _fallback_ranking(
    selection: CohortSelection, table: ReferralTable | None, rows: np.ndarray, people: Sequence[Decision]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Ranking values from the shipped policy file, for selections made before
    ``Decision.tie_break`` existed (only when the policy's hash matches the selection's)."""
    from ..cohort._policy import PolicyError, load_policy
    from ..features import FeatureFrame

    if table is None or not people:
        return {}
    try:
        policy = load_policy(selection.policy_name)
    except (PolicyError, OSError, ValueError):
        return {}
    if policy.sha256 != selection.policy_sha256:
        return {}
    frame = FeatureFrame(table.take(rows).batch)
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    columns: list[tuple[str, np.ndarray | None]] = []
    for k in policy.tie_break:
        if k.feature is not None:
            label = str(k.feature).replace("_", " ")
            columns.append((label, np.asarray(frame[str(k.feature)], dtype=np.float64)))
        else:
            columns.append(("Score" if k.key == "score" else "person_id", None))
    for i, d in enumerate(people):
        values = []
        for label, col in columns:
            if col is None:
                values.append((label, fmt_score(d) if label == "Score" else d.person_id))
            else:
                v = float(col[i])
                values.append((label, "missing" if np.isnan(v) else f"{v:g}"))
        out[d.person_id] = tuple(values)
    return out


def _ranking_values(
    selection: CohortSelection, table: ReferralTable | None, row_of: Mapping[str, int], people: Sequence[Decision]
) -> dict[str, tuple[tuple[str, str], ...]]:
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    missing = []
    for d in people:
        if d.rank is None:
            continue
        tb = getattr(d, "tie_break", None)
        if tb:
            out[d.person_id] = tuple((str(k), str(v)) for k, v in tb)
        else:
            missing.append(d)
    if missing and table is not None:
        rows = np.asarray([row_of[d.person_id] for d in missing], dtype=np.int64)
        out.update(_fallback_ranking(selection, table, rows, missing))
    return out


def _boundary(
    last: Decision | None, nxt: Decision | None, values: Mapping[str, Sequence[tuple[str, str]]]
) -> tuple[str, str, list[tuple[str, str, str]], int | None]:
    """Text for each side of the capacity line, the rows of the comparison, and the deciding key."""
    if last is None or nxt is None:
        return "", "", [], None
    a, b = list(values.get(last.person_id, ())), list(values.get(nxt.person_id, ()))
    rows = [(la, va, vb) for (la, va), (_, vb) in zip(a, b)]
    decided = next((i for i, (_, va, vb) in enumerate(rows) if va != vb), None)
    if decided is None:
        why = "their ranking values are not recorded in this selection"
        key_a = key_b = why
    else:
        label, va, vb = rows[decided]
        same = "; ".join(f"{la} {x}" for la, x, _ in rows[:decided])
        tied = f"level on {same}; " if same else ""
        key_a = (
            f"ranked {last.rank}, the last place; next is {nxt.person_id} (rank {nxt.rank}): {tied}"
            f"separated by {label}: {va} here against {vb}."
        )
        key_b = (
            f"ranked {nxt.rank}, the first after the last place; {last.person_id} (rank {last.rank}) "
            f"took it: {tied}separated by {label}: {va} there against {vb} here."
        )
    return key_a, key_b, rows, decided


def _figures_table(rows: Sequence[tuple[str, str, int, bool]]) -> str:
    out = []
    for label, key, value, total in rows:
        cls = ' class="total"' if total else ""
        out.append(f'<tr{cls}><th>{e(label)}</th><td class="num" data-figure="{e(key)}">{value}</td></tr>')
    return '<table class="figures"><tbody>' + "".join(out) + "</tbody></table>"


def _sum_line(total_key: str, total: int, parts: Sequence[tuple[str, str, int]]) -> str:
    terms = " + ".join(f"{v} {label}" for label, _, v in parts)
    keys = " ".join(k for _, k, _ in parts)
    ok = "adds up" if total == sum(v for _, _, v in parts) else "DOES NOT ADD UP"
    return (
        f'<p class="sum" data-total="{e(total_key)}" data-parts="{e(keys)}">'
        f"{total} = {e(terms)} ({ok})</p>"
    )


def _summary(
    sel: CohortSelection,
    read_counts: ReadCounts | None,
    rejects: Sequence[Reject],
    late: Mapping[str, bool],
    meeting: dt.date | None,
    n_reserves: int,
    carded: int,
) -> str:
    s = sel.summary()
    decisions = sel.decisions
    by = Counter((d.decision, bool(d.eligible)) for d in decisions)
    n = len(decisions)
    counts = {
        "selected": s["selected"],
        "over_capacity": s["over_capacity"],
        "not_eligible": s["not_eligible"],
        "routed": s["routed"],
        "deselection": s["deselection_reviews"],
        "not_scored": s["not_scored"],
    }
    out = []
    if read_counts is not None:
        read, rejected = int(read_counts.referral_rows), int(read_counts.rejected)
        out.append("<h3>Referrals read</h3>")
        out.append(
            _figures_table(
                [
                    ("Referral rows read", "read", read, True),
                    ("Rejected when read (not scored; reasons below)", "rejected", rejected, False),
                    ("Referred: read, valid and in this selection", "referred", n, False),
                ]
            )
        )
        out.append(_sum_line("read", read, [("rejected", "rejected", rejected), ("referred", "referred", n)]))
        if int(read_counts.valid) != n:
            out.append(
                f'<p class="warn">The reader kept {int(read_counts.valid)} valid referral rows but this '
                f"selection holds {n} people: the pack and the file it was read from do not match.</p>"
            )
    else:
        out.append(
            '<p class="small">How many rows were read and rejected was not given to the pack; the '
            "figures below count the referrals in this selection.</p>"
        )
    out.append("<h3>What the recommendation says about each referral</h3>")
    labels = [
        ("Selected (recommended for a place)", "selected"),
        ("Eligible, over capacity", "over_capacity"),
        ("Not eligible (entry rules not met)", "not_eligible"),
        ("Referred to MAPPA / review (serious harm)", "routed"),
        ("De-selection reviews (current members)", "deselection"),
        ("Not scored", "not_scored"),
    ]
    rows = [("Referred", "referred", n, True)] + [(lab, key, counts[key], False) for lab, key in labels]
    out.append(_figures_table(rows))
    short = {"selected": "selected", "over_capacity": "over capacity", "not_eligible": "not eligible",
             "routed": "referred to MAPPA / review", "deselection": "de-selection reviews", "not_scored": "not scored"}
    out.append(_sum_line("referred", n, [(short[key], key, counts[key]) for _, key in labels]))

    # Eligible people, by where they went.
    elig_parts = [
        ("selected", "eligible_selected", by[(SELECTED, True)]),
        ("over capacity", "eligible_over_capacity", by[(OVER_CAPACITY, True)]),
        ("referred to MAPPA / review", "eligible_routed", int(s.get("eligible_routed", by[(ROUTED, True)]))),
        ("de-selection reviews", "eligible_deselection", int(s.get("eligible_deselection", by[(DESELECTION, True)]))),
        ("not scored", "eligible_not_scored", by[(NOT_SCORED, True)]),
    ]
    out.append(
        _figures_table(
            [("Eligible (meet the entry rules)", "eligible", s["eligible"], True)]
            + [(f"  of whom {lab}", key, v, False) for lab, key, v in elig_parts]
        )
    )
    out.append(_sum_line("eligible", s["eligible"], elig_parts))
    kept = by[(SELECTED, False)] + by[(OVER_CAPACITY, False)]
    if kept:
        out.append(
            f'<p class="small">{kept} current cohort member(s) no longer meet the entry rules but stay '
            "candidates for their place (the cards say so); they are counted as selected or over "
            "capacity above, not as eligible.</p>"
        )
    places = s["places"]
    unfilled = max(places - s["selected"], 0)
    place_rows = [
        ("Places", "places", places, True),
        ("Selected", "places_selected", s["selected"], False),
        ("Unfilled", "places_unfilled", unfilled, False),
    ]
    out.append("<h3>Places</h3>" + _figures_table(place_rows))
    out.append(_sum_line("places", places, [("selected", "places_selected", s["selected"]), ("unfilled", "places_unfilled", unfilled)]))
    out.append(
        f"<p>This pack has a card for {carded} people; {n_reserves} reserve(s), the next in rank after "
        "the last place, have cards in case a place is declined or the panel decides otherwise.</p>"
    )
    if meeting is not None:
        n_late = sum(1 for v in late.values() if v)
        late_sel = sum(1 for d in decisions if d.decision == SELECTED and late.get(d.person_id))
        cls = "warn" if n_late else "small"
        out.append(
            f'<p class="{cls}">Assessment dates after the meeting date ({e(meeting.isoformat())}): '
            f'<b data-figure="assessment_after_meeting">{n_late}</b> of {n} referred, '
            f'<b data-figure="assessment_after_meeting_selected">{late_sel}</b> of them selected. '
            + ("Their features and time at risk are counted to a date that has not come yet: check "
               "each flagged record before relying on its score." if n_late else "")
            + "</p>"
        )
    return "".join(out)


def _rejects_section(read_counts: ReadCounts | None, rejects: Sequence[Reject]) -> str:
    if read_counts is None and not rejects:
        return ""
    out = ["<h2>Rejected when read</h2>"]
    if not rejects:
        out.append('<p class="small">No row was rejected.</p>')
        return "".join(out)
    tally = Counter(r.reason for r in rejects)
    ordered = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ordered[:_TOP_REJECT_REASONS]
    rest = ordered[_TOP_REJECT_REASONS:]
    rows = [f'<tr><td>{e(reason)}</td><td class="num">{count}</td></tr>' for reason, count in top]
    if rest:
        rows.append(
            f'<tr><td>{len(rest)} other reason(s)</td><td class="num">{sum(c for _, c in rest)}</td></tr>'
        )
    rows.append(f'<tr class="total"><th>All reasons</th><td class="num" data-figure="reject_reasons">{len(rejects)}</td></tr>')
    out.append(
        '<table class="figures" id="rejects"><thead><tr><th>Reason</th><th class="num" style="width:18%">Rows</th></tr>'
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    out.append(
        '<p class="small">A rejected referral can have more than one reason, and sanction or custody rows '
        "that match no referral are listed too, so the reasons need not add up to the rejected referral "
        "rows. The rejects file lists every row with its reason.</p>"
    )
    return "".join(out)


def _capacity_section(
    last: Decision | None, nxt: Decision | None, rows: Sequence[tuple[str, str, str]], decided: int | None, tie_break: str
) -> str:
    out = ["<h2>The capacity line</h2>", f'<p class="small">Ranking: {e(tie_break)}.</p>']
    if last is None or nxt is None:
        out.append(
            '<p class="small">No one was ranked just outside the places: every candidate was selected '
            "(or there are no places), so no tie-break decided who is in.</p>"
        )
        return "".join(out)
    head = (
        f"<thead><tr><th>Ranking key</th><th>{e(last.person_id)} (rank {last.rank}, last place)</th>"
        f"<th>{e(nxt.person_id)} (rank {nxt.rank}, first reserve)</th></tr></thead>"
    )
    body = []
    for i, (label, va, vb) in enumerate(rows):
        mark = " <b>&larr; decided here</b>" if i == decided else ""
        body.append(f"<tr><td>{e(label)}{mark}</td><td>{e(va)}</td><td>{e(vb)}</td></tr>")
    if not rows:
        body.append('<tr><td colspan="3">The ranking values are not recorded in this selection.</td></tr>')
    out.append('<table id="capacity-line">' + head + "<tbody>" + "".join(body) + "</tbody></table>")
    if decided is not None and decided > 0:
        out.append(
            f'<p>They are level on the first {decided} key(s); the tie-break decided the last place. The '
            "panel may prefer to decide between them.</p>"
        )
    return "".join(out)


def _cohort_lines(s: CohortSelection, ranked: Sequence[Decision]) -> list[tuple[Any, Decision | None, Decision | None]]:
    """Several cohorts: each cohort's last selected and first over capacity after them."""
    out: list[tuple[Any, Decision | None, Decision | None]] = []
    for c in s.cohorts:
        mine = [d for d in ranked if d.cohort == c.name and d.rank is not None]
        chosen = [d for d in mine if d.decision == SELECTED]
        last = chosen[-1] if chosen else None
        nxt = next((d for d in mine if d.decision == OVER_CAPACITY and last is not None
                    and (d.rank or 0) > (last.rank or 0)), None)
        out.append((c, last, nxt))
    return out


def _changes(diff: RunDiff, carded: set[str]) -> str:
    def ids(changes: Sequence[Any]) -> str:
        items = [c if isinstance(c, str) else c.person_id for c in changes]
        if not items:
            return "none"
        shown = [i for i in items if i in carded][:30]
        more = len(items) - len(shown)
        text = ", ".join(e(i) for i in shown)
        if more:
            text += (", and " if shown else "") + f"{more} {'more ' if shown else ''}without a card (see the ranked list CSV)"
        return f"{len(items)}: {text}"

    out = ["<ul>"]
    out.append(f"<li>Entered the recommended cohort: {ids(diff.entered)}</li>")
    out.append(f"<li>Left the recommended cohort: {ids(diff.left)}</li>")
    out.append(f"<li>Score moved: {ids(diff.score_moved)}</li>")
    out.append(f"<li>New referrals: {ids(diff.new_referrals)}</li>")
    out.append(f"<li>No longer referred: {ids(diff.no_longer_referred)}</li>")
    out.append("</ul>")
    for note in diff.notes:
        out.append(f'<p class="warn">{e(note)}</p>')
    return "".join(out)


def _cohort_tag(d: Decision) -> str:
    """The cohort under the rank in the lists (several-cohort selections only)."""
    cohort = getattr(d, "cohort", None)
    return f'<br><span class="small">{e(cohort)}</span>' if cohort else ""


def _list_table(people: Sequence[Decision], roles: Mapping[str, str], recorded: Mapping[str, LogEntry], carded: set[str]) -> str:
    head = (
        '<thead><tr><th style="width:6%">Rank</th><th style="width:14%">Person</th>'
        '<th class="num" style="width:7%">Score</th><th style="width:9%">Band</th>'
        '<th style="width:23%">Recommendation</th><th>Why (first reason)</th>'
        + ('<th style="width:12%">Panel decision</th>' if recorded else "")
        + "</tr></thead>"
    )
    rows = []
    for d in people:
        reasons = d.score_reasons[:1] if d.decision in (SELECTED, OVER_CAPACITY) else d.reasons[:1]
        role = roles.get(d.person_id)
        cell = (f"<i>{e(role)}</i>: " if role and role.startswith("Reserve") else "") + "<br>".join(e(r) for r in reasons)
        rec = ""
        if recorded:
            entry = recorded.get(d.person_id)
            rec = "<td>" + (e(entry.decision) + (" (override)" if entry.is_override else "") if entry else "&ndash;") + "</td>"
        who = f'<a href="#card-{e(d.person_id)}">{e(d.person_id)}</a>' if d.person_id in carded else e(d.person_id)
        rows.append(
            f"<tr><td>{'' if d.rank is None else e(d.rank)}{_cohort_tag(d)}</td><td>{who}</td>"
            f'<td class="num">{e(fmt_score(d))}</td><td>{e(d.band or "")}</td>'
            f"<td>{_badge(d.decision)}</td><td>{cell}</td>{rec}</tr>"
        )
    return '<table id="ranked" class="index">' + head + "<tbody>" + "".join(rows) + "</tbody></table>"


def _fairness(rates: SelectionRates | None, characteristics: Sequence[str] | None) -> str:
    if rates is None:
        return '<p class="small">No protected characteristics were given, so selection rates by group are not shown.</p>'
    names = list(dict.fromkeys(g.characteristic for g in rates.by_group))
    if characteristics is None:
        names = [n for n in names if any(g.group != "not recorded" for g in rates.groups(n))]
    out = [
        f"<p>Overall, selected of the people referred: {e(format_rate(rates.selected, rates.referred))}; "
        f"{rates.eligible} eligible.</p>"
    ]
    if not names:
        out.append('<p class="small">No protected characteristic is recorded for anyone in this list.</p>')
    for name in names:
        out.append(f"<h3>{e(name.replace('_', ' ').capitalize())}</h3>")
        rows = []
        for g in rates.groups(name):
            flag = ' <span class="flag">small group</span>' if g.small else ""
            rows.append(
                f"<tr><td>{e(g.group)}{flag}</td><td class=\"num\">{g.referred}</td>"
                f"<td class=\"num\">{g.eligible}</td><td class=\"num\">{g.selected}</td>"
                f"<td class=\"num\">{e(format_rate(g.selected, g.referred))}</td></tr>"
            )
        out.append(
            '<table class="fairness"><thead><tr><th>Group</th><th class="num">Referred</th>'
            '<th class="num">Eligible</th><th class="num">Selected</th>'
            '<th class="num" style="width:26%">Selected of referred</th>'
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
    out.append(f'<p class="caveat">{e(rates.caveat)} Selection rates describe who the recommendation picks; '
               "they say nothing about whether the score is equally accurate for each group "
               "(see <code>iomscore.fairness.audit</code> with outcomes).</p>")
    return "".join(out)


_AT_RISK_TEXT: Final = (
    f"<b>Time at risk.</b> Counts such as &ldquo;offences in the last {AT_RISK_MONTHS} months at risk&rdquo; "
    "look back over time the person spent out of custody, not over the calendar: time in custody "
    f"is skipped, so the last {AT_RISK_MONTHS} months at risk can reach further back than {AT_RISK_MONTHS} "
    "calendar months. Someone released recently therefore does not look quiet just because they "
    "could not offend while inside. On each card, offences within the last "
    f"{AT_RISK_MONTHS} months at risk of the assessment date are marked &#9679;."
)


def _generated_text(generated_at: dt.datetime | str | None) -> str:
    if generated_at is None:
        generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if isinstance(generated_at, str):
        return generated_at
    return generated_at.isoformat(timespec=_GENERATED_FORMAT)


def _build(
    selection: CohortSelection,
    *,
    previous: CohortSelection | None,
    diff: RunDiff | None,
    groups: GroupsArg | None,
    table: ReferralTable | None,
    characteristics: Sequence[str] | None,
    rates: SelectionRates | None,
    decisions: Mapping[str, LogEntry] | None,
    title: str,
    panel: str | None,
    meeting_date: dt.date | str | None,
    generated_at: dt.datetime | str | None,
    cards: str,
    reserves: int,
    read_counts: ReadCounts | None,
    rejects: Sequence[Reject],
    ranked_csv: bool,
    min_group_size: int,
    csv_name: str | None,
    policy: SelectionPolicy | str | Path | None = None,
    scorer: Any = None,
    drift: str | None = None,
) -> _Pack:
    if cards not in CARD_MODES:
        raise ValueError(_BAD_CARDS.format(value=cards))
    if isinstance(reserves, bool) or not isinstance(reserves, (int, np.integer)) or reserves < 0:
        raise ValueError(_BAD_RESERVES.format(value=reserves))
    s = selection
    recorded = dict(decisions or {})
    if diff is None and previous is not None:
        diff = diff_runs(previous, s)
    if rates is None and groups is not None:
        rates = selection_rates(s, groups, characteristics=characteristics, min_group_size=min_group_size)
    if table is None and isinstance(groups, ReferralTable):
        table = groups
    meeting = parse_date(meeting_date)

    ranked = s.ranked()
    ids = [d.person_id for d in s.decisions]
    rows = _table_rows(table, ids) if table is not None else np.zeros(0, dtype=np.int64)
    row_of = dict(zip(ids, rows.tolist())) if table is not None else {}
    assessed: dict[str, str] = {}
    late: dict[str, bool] = {}
    if table is not None:
        days = assessment_dates(table)[rows]
        text = np.datetime_as_string(days, unit="D")
        assessed = {p: ("" if t == "NaT" else str(t)) for p, t in zip(ids, text.tolist())}
        if meeting is not None:
            after = days > np.datetime64(meeting.isoformat(), "D")
            late = dict(zip(ids, after.tolist()))

    selected = [d for d in ranked if d.decision == SELECTED]
    reserve_list = _reserves(s, ranked, int(reserves))
    if s.cohorts:  # several cohorts: each cohort's next in rank
        reserve_list, reserve_at = cohort_reserves(s, int(reserves))
    reserve_rank = {d.person_id: k for k, d in enumerate(reserve_list, start=1)}
    meeting_set = [
        d
        for d in ranked
        if d.decision in (SELECTED, DESELECTION, ROUTED, NOT_SCORED) or d.person_id in reserve_rank
    ]
    if cards == "meeting":
        carded_list = meeting_set
    elif cards == "candidates":
        carded_list = [d for d in ranked if d.decision != NOT_ELIGIBLE]
    elif cards == "all":
        carded_list = list(ranked)
    else:
        carded_list = []
    carded = {d.person_id for d in carded_list}
    n_candidates = sum(1 for d in s.decisions if d.rank is not None)

    roles: dict[str, str] = {}
    for d in ranked:
        if d.decision == SELECTED:
            roles[d.person_id] = f"Selected: rank {d.rank} of {n_candidates} candidates for {s.capacity} place(s)"
        elif d.person_id in reserve_rank:
            roles[d.person_id] = f"Reserve {reserve_rank[d.person_id]} of {len(reserve_list)}: rank {d.rank}"
        elif d.decision == OVER_CAPACITY:
            roles[d.person_id] = f"Eligible, over capacity: rank {d.rank}"
        elif d.decision == DESELECTION:
            roles[d.person_id] = "De-selection review"
        elif d.decision == ROUTED:
            roles[d.person_id] = "Referred to MAPPA / review"
        elif d.decision == NOT_SCORED:
            roles[d.person_id] = "Not scored"
        else:
            roles[d.person_id] = "Not eligible"
    if s.cohorts:
        roles.update(cohort_roles(s, ranked, reserve_at))

    last = selected[-1] if selected else None
    nxt = next((d for d in ranked if d.rank is not None and last is not None and d.rank == (last.rank or 0) + 1), None)
    lines = _cohort_lines(s, ranked)  # several cohorts: (cohort, last place, first reserve) each
    if s.cohorts:
        last = nxt = None
    at_line = {id(d) for _, a, b in lines for d in (a, b) if d is not None}
    ranking_people = [d for d in ranked if d.rank is not None
                      and (d.person_id in carded or d is last or d is nxt or id(d) in at_line)]
    csv_people = ranking_people
    if ranked_csv:
        csv_people = [d for d in ranked if d.rank is not None]
    ranking = _ranking_values(s, table, row_of, csv_people if ranked_csv else ranking_people)
    text_a, text_b, boundary_rows, decided = _boundary(last, nxt, ranking)
    boundary_text: dict[int, str] = {}
    for _, a, b in lines:
        ta, tb, _, _ = _boundary(a, b, ranking)
        boundary_text.update({id(a): ta, id(b): tb} if a is not None and b is not None else {})

    records = {}
    if table is not None and carded_list:
        recs = person_records(table, [row_of[d.person_id] for d in carded_list])
        records = {d.person_id: r for d, r in zip(carded_list, recs)}

    # --- front matter ----------------------------------------------------------------------
    model = s.model
    meta = [f"Policy <b>{e(s.policy_name)} {e(s.policy_version)}</b> (sha256 <code>{e(s.policy_sha256[:12])}</code>)"]
    if model is not None:
        meta.append(f"model <b>{e(model.name)} {e(model.version)}</b> (sha256 <code>{e(model.sha256[:12])}</code>)")
    line2 = []
    if panel:
        line2.append(f"Panel: {e(panel)}")
    if meeting is not None:
        line2.append(f"Meeting: {e(meeting.isoformat())}")
    line2.append(f"Generated: {e(_generated_text(generated_at))}")
    body = [f"<h1>{e(title)}</h1>", f'<p class="meta">{" &middot; ".join(line2)}</p>']
    body.append(f'<p class="meta">{"; ".join(meta)}. Selection run <code>{e(s.sha256[:12])}</code>.</p>')
    body.append(
        '<p class="small">Recommendations, not decisions: the panel decides and records a reason '
        "for each decision. People are shown by pseudonymous identifier only. Serious-harm cases are "
        "referred to MAPPA / review and never selected on a reoffending score alone.</p>"
    )
    body.append(f'<p class="explain" id="at-risk">{_AT_RISK_TEXT}</p>')
    if drift:
        body.append(f'<p class="explain drift" id="drift"><b>Drift against the baseline:</b> {e(drift)}</p>')
    body.append("<h2>Summary</h2>")
    body.append(f'<div id="summary">{_summary(s, read_counts, rejects, late, meeting, len(reserve_list), len(carded_list))}'
                f"{cohort_figures(s)}</div>")
    for w in s.warnings:
        body.append(f'<p class="warn">{e(w)}</p>')
    body.append(_rejects_section(read_counts, rejects))
    body.append(turnover_section(s))
    if not s.cohorts:
        body.append(_capacity_section(last, nxt, boundary_rows, decided, s.tie_break))
    for c, a, b in lines:
        _, _, rows_c, decided_c = _boundary(a, b, ranking)
        body.append(_capacity_section(a, b, rows_c, decided_c, c.tie_break).replace(
            "<h2>The capacity line</h2>", f"<h2>The capacity line: {e(c.title)}</h2>", 1).replace(
            'id="capacity-line"', f'id="capacity-line-{e(c.name)}"', 1))
    if diff is not None:
        body.append("<h2>Changes since the last panel</h2>" + _changes(diff, carded))
    listed = carded_list if cards != "none" else meeting_set
    if cards == "meeting" or cards == "none":
        intro = (
            "Everyone selected, the reserves, de-selection reviews, referrals to MAPPA / review and "
            "anyone not scored"
        )
    elif cards == "candidates":
        intro = "Everyone except the people not eligible"
    else:
        intro = "Everyone referred"
    body.append(f"<h2>In this pack ({len(listed)} people)</h2>")
    if ranked_csv:
        where = f"<code>{e(csv_name)}</code>" if csv_name else "the ranked-list CSV written with this pack"
        body.append(
            f"<p>{e(intro)}, in rank order. The full ranked list of all {len(s.decisions)} referrals, "
            f"with every reason, is in {where} beside this pack.</p>"
        )
    else:
        body.append(f"<p>{e(intro)}, in rank order. The full ranked list is at the end of the pack.</p>")
    body.append(_list_table(listed, roles, recorded, carded))
    body.append("<h2>Fairness summary: selection rates by group</h2>")
    body.append(_fairness(rates, characteristics))
    body.append(demand_section(s))

    # --- cards -----------------------------------------------------------------------------
    leaves: dict[str, str] = {}
    if policy is not None and table is not None and carded_list:
        rules = policy if isinstance(policy, SelectionPolicy) else load_policy(policy)
        leaves = leaves_lines(rules, scorer, table, row_of, carded_list)
    shown = _shown_scores(s)
    for d in carded_list:
        change = diff.for_person(d.person_id) if diff is not None else None
        flags = []
        if late.get(d.person_id) and meeting is not None:
            flags.append(
                f"Assessment date {assessed.get(d.person_id)} is after the meeting date {meeting.isoformat()}: "
                "check the record before relying on this score."
            )
        boundary = text_a if d is last else text_b if d is nxt else boundary_text.get(id(d))
        body.append(
            render_card(
                CardInput(
                    decision=d,
                    role=roles[d.person_id],
                    record=records.get(d.person_id),
                    change_lines=change.lines() if change is not None else (),
                    recorded=recorded.get(d.person_id),
                    ranking=ranking.get(d.person_id, ()),
                    boundary=boundary or None,
                    flags=flags,
                    leaves=leaves.get(d.person_id),
                    shown_scores=shown.get(d.person_id, ()),
                    ranked_by=s.model.name if s.model is not None else "",
                )
            )
        )
    if not ranked_csv:
        body.append('<h2 style="break-before: page">The full ranked list</h2>')
        body.append(_list_table(ranked, roles, recorded, carded))

    html = (
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(b for b in body if b)
        + "\n</body></html>\n"
    )
    csv_text = None
    if ranked_csv:
        in_pack = {d.person_id: "card" for d in carded_list}
        for d in listed:
            in_pack.setdefault(d.person_id, "listed")
        csv_text = ranked_csv_text(s, ranked, in_pack=in_pack, assessed=assessed, late=late, tie_breaks=ranking, diff=diff)
    return _Pack(html, csv_text)


def render_panel(
    selection: CohortSelection,
    *,
    previous: CohortSelection | None = None,
    diff: RunDiff | None = None,
    groups: GroupsArg | None = None,
    table: ReferralTable | None = None,
    characteristics: Sequence[str] | None = None,
    rates: SelectionRates | None = None,
    decisions: Mapping[str, LogEntry] | None = None,
    title: str = "IOM panel pack",
    panel: str | None = None,
    meeting_date: dt.date | str | None = None,
    generated_at: dt.datetime | str | None = None,
    cards: CardsArg = "meeting",
    reserves: int = 5,
    read_counts: ReadCounts | None = None,
    rejects: Sequence[Reject] = (),
    ranked_csv: bool = True,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    policy: SelectionPolicy | str | Path | None = None,
    scorer: Any = None,
    drift: str | None = None,
) -> str:
    """The panel pack as one self-contained HTML document.

    Parameters
    ----------
    selection : CohortSelection
        This run's recommendations.
    previous : CohortSelection, optional
        The previous panel run; when ``diff`` is not given, :func:`~iomscore.cohort.diff_runs`
        compares it with this run and each card says what changed.
    diff : RunDiff, optional
        The changes since the last panel, computed by the caller.
    groups : ReferralTable or mapping, optional
        Protected characteristics for the fairness summary (group totals only). A
        :class:`~iomscore.ReferralTable` also serves as ``table``.
    table : ReferralTable, optional
        The referrals the selection was made from: the cards show each person's offence
        history, custody periods and assessment date from it (default: ``groups`` when it is
        a table).
    characteristics : sequence of str, optional
        Which characteristics to summarise (default: those recorded for anyone).
    rates : SelectionRates, optional
        Selection rates by group, computed by the caller; when not given and ``groups`` is,
        :func:`~iomscore.cohort.selection_rates` computes them.
    decisions : mapping of person_id to LogEntry, optional
        Decisions already recorded (e.g. ``DecisionLog.latest(selection)``); shown on the
        list and the cards. Without them each card has an empty decision box for the meeting.
    title, panel : str
        Page title and panel name.
    meeting_date : date or str, optional
        Assessment dates after it are flagged on the cards and counted in the summary.
    generated_at : datetime or str, optional
        Shown in the header. Pass it (e.g. the time the referral extract was taken) for
        byte-identical packs from the same inputs; when omitted the current time in UTC is
        used, the only clock the pack reads.
    cards : {"meeting", "candidates", "all", "none"}
        ``"meeting"`` (default): a card for everyone selected, ``reserves`` reserves,
        de-selection reviews, referrals to MAPPA / review and anyone not scored;
        ``"candidates"``: everyone except people not eligible; ``"all"``: everyone;
        ``"none"``: no cards.
    reserves : int
        How many people next in rank after the last place get a card as reserves (default 5).
    read_counts : iomscore.io.ReadCounts, optional
        What the reader saw (rows read, rejected); the summary then starts from the rows read.
    rejects : sequence of iomscore.io.Reject
        The rejected rows; the pack shows the most common reasons with their counts.
    ranked_csv : bool
        ``True`` (default): the full ranked list goes to a CSV beside the pack
        (:func:`write_panel` writes it) and the pack lists only the people with a card;
        ``False``: the full ranked list is printed at the end of the pack.
    min_group_size : int
        Groups smaller than this are flagged in the fairness summary.
    policy : SelectionPolicy, str or Path, optional
        The selection's policy: each card of a scored person then says when, with no new
        offence on record, they would no longer meet its entry rules
        (:func:`~iomscore.cohort.leaves_after`, computed once for the people carded).
    scorer : str, Path or Scorer, optional
        The scorer for that (default :data:`iomscore.DEFAULT_SCORER`).
    drift : str, optional
        One line on drift against a baseline (:meth:`iomscore.monitoring.DriftReport.summary`),
        shown under the header.

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> import datetime as dt, iomscore
    >>> from iomscore.cohort import select_cohort
    >>> r = iomscore.Referral(person_id="P<1>", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}])
    >>> table = iomscore.ReferralTable.from_referrals([r])
    >>> page = render_panel(select_cohort(table, iomscore.score_batch(table)), table=table,
    ...                     generated_at=dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC))
    >>> "P&lt;1&gt;" in page and "<script" not in page and "Burglary (domestic)" in page
    True
    """
    return _build(
        selection, previous=previous, diff=diff, groups=groups, table=table, characteristics=characteristics,
        rates=rates, decisions=decisions, title=title, panel=panel, meeting_date=meeting_date,
        generated_at=generated_at, cards=cards, reserves=reserves, read_counts=read_counts, rejects=rejects,
        ranked_csv=ranked_csv, min_group_size=min_group_size, csv_name=None,
        policy=policy, scorer=scorer, drift=drift,
    ).html


def write_panel(
    path: str | Path,
    selection: CohortSelection,
    *,
    previous: CohortSelection | None = None,
    diff: RunDiff | None = None,
    groups: GroupsArg | None = None,
    table: ReferralTable | None = None,
    characteristics: Sequence[str] | None = None,
    rates: SelectionRates | None = None,
    decisions: Mapping[str, LogEntry] | None = None,
    title: str = "IOM panel pack",
    panel: str | None = None,
    meeting_date: dt.date | str | None = None,
    generated_at: dt.datetime | str | None = None,
    cards: CardsArg = "meeting",
    reserves: int = 5,
    read_counts: ReadCounts | None = None,
    rejects: Sequence[Reject] = (),
    ranked_csv: bool = True,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    policy: SelectionPolicy | str | Path | None = None,
    scorer: Any = None,
    drift: str | None = None,
) -> Path:
    """Write :func:`render_panel` to ``path`` (UTF-8) and the ranked list beside it; return ``path``.

    With ``ranked_csv`` (default) the full ranked list of every referral is written to
    ``<stem>-ranked.csv`` in the same directory (:func:`~iomscore.panel.ranked_csv_path`).
    Both files are written atomically: to a temporary file beside the target, then renamed.
    The other parameters are those of :func:`render_panel`.

    Examples
    --------
    >>> import datetime as dt, iomscore, tempfile, pathlib
    >>> from iomscore.cohort import select_cohort
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01")
    >>> out = write_panel(pathlib.Path(tempfile.mkdtemp()) / "pack.html",
    ...                   select_cohort([r], iomscore.score([r])),
    ...                   generated_at=dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC))
    >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    >>> (out.parent / "pack-ranked.csv").read_text(encoding="utf-8").splitlines()[1][:14]
    '1,,P1,not elig'
    """
    path = Path(path)
    csv_path = ranked_csv_path(path)
    pack = _build(
        selection, previous=previous, diff=diff, groups=groups, table=table, characteristics=characteristics,
        rates=rates, decisions=decisions, title=title, panel=panel, meeting_date=meeting_date,
        generated_at=generated_at, cards=cards, reserves=reserves, read_counts=read_counts, rejects=rejects,
        ranked_csv=ranked_csv, min_group_size=min_group_size, csv_name=csv_path.name,
        policy=policy, scorer=scorer, drift=drift,
    )
    if pack.csv is not None:
        write_text_atomic(csv_path, pack.csv)
    write_text_atomic(path, pack.html)
    return path
