"""One card per person, laid out so that no printed page of a card runs onto the next.

A card is one or more *sheets*. Each sheet is a box a little shorter than the printable
height of an A4 page, starts a new page and may not be split (``break-before: page``,
``break-inside: avoid``), so a sheet is always exactly one page. The first sheet holds the
headline, the ranking values, the score chart, the needs grid and the decision box (the
signature block, always at the foot of the first sheet). The lists whose length depends on
the person -- flags, reasons, the plain-English breakdown, changes since the last panel and
the offence history -- fill the room left on the first sheet and continue on following
sheets, each labelled "continued" with its page number. How much fits is worked out from
the line heights the style sheet fixes (:data:`LAYOUT`), with margins to spare; the browser
test prints the largest packs and checks each sheet's first and last line are on one page.

Every sheet starts with a marker line (``<person> · card page i of n``) and ends with one
(``End of <person> card page i of n``), so a reader (and the test) can tell a page that
belongs to a card, and which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from ..cohort._decisions import LogEntry
from ..cohort._leaves import leaves_after
from ..cohort._policy import SelectionPolicy
from ..cohort._select import (
    DESELECTION,
    NOT_ELIGIBLE,
    NOT_SCORED,
    OVER_CAPACITY,
    ROUTED,
    SELECTED,
    Decision,
)
from ..schema._table import ReferralTable
from ..schema._vocabulary import NEED_LABELS, PATHWAY_LABELS, PATHWAYS
from ..scoring._result import format_part_value
from ._fit import text_lines
from ._format import e, fmt_date, fmt_score
from ._history import AT_RISK_MONTHS, PersonRecord
from ._svg import ROW as CHART_ROW
from ._svg import WIDTH as CHART_WIDTH
from ._svg import breakdown_chart

__all__ = ["CARD_CSS", "LAYOUT", "CardInput", "leaves_lines", "render_card"]

#: Heights in CSS pixels (96 per inch) that the card style sheet fixes, and the room on a
#: sheet. A sheet is 262 mm high (the A4 page less its 14 mm margins is 269 mm).
LAYOUT: Final = {
    "sheet": 262 / 25.4 * 96,
    "frame": 2 + 12 + 2 * 14 + 6,  # border, padding, the two marker lines and spare
    "line": 18.0,  # one line of card text (10 pt, line-height 1.35 = 17.9 px)
    "h2": 30.0,
    "h3": 26.0,
    "list": 6.0,  # margin round a list
    "row": 16.0,  # one offence-history row (nowrap, fixed line height)
    "needs": 112.0,
    "decision": 108.0,
    "note": 40.0,
    "spare": 4.0,
}
DECISION_CLASS: Final = {
    SELECTED: "selected",
    OVER_CAPACITY: "over",
    NOT_ELIGIBLE: "noteligible",
    ROUTED: "routed",
    DESELECTION: "deselect",
    NOT_SCORED: "notscored",
}
_MAX_RECORDED_REASON: Final = 600
#: The heading of the card's when-would-they-leave line.
LEAVES_TITLE: Final = "When would they leave (no new offence on record)"

CARD_CSS: Final = """
.card, .card-cont { break-before: page; page-break-before: always; break-inside: avoid;
  page-break-inside: avoid; height: 262mm; display: flex; flex-direction: column;
  border: 1px solid #999; padding: 6px 10px; margin: 0; overflow: hidden; font-size: 10pt;
  line-height: 1.35; }
.card-body { flex: 1 1 auto; min-height: 0; overflow: hidden; }
.card h2, .card-cont h2 { margin: 0 0 4px; font-size: 13pt; line-height: 20px; border-bottom: 2px solid #1f5fa8;
  padding-bottom: 2px; }
.card h3, .card-cont h3 { font-size: 10.5pt; line-height: 18px; margin: 6px 0 2px; }
.card ul, .card-cont ul { margin: 2px 0; padding-left: 16px; }
.card p, .card-cont p { margin: 2px 0; }
.mark { flex: none; font-size: 7.5pt; line-height: 12px; height: 14px; color: #555; margin: 0; white-space: nowrap;
  overflow: hidden; }
.mark.end { text-align: right; }
.headline { font-size: 10.5pt; }
.hist { font-size: 8.5pt; margin: 2px 0; }
.hist th, .hist td { padding: 0 4px; line-height: 14px; height: 15px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.hist td.risk { text-align: center; }
.ranking { background: #f4f7fb; border-left: 4px solid #1f5fa8; padding: 2px 6px; margin: 4px 0; }
.ranking.boundary { background: #fff4d6; border-left-color: #a07800; }
.card .decision-box { flex: none; margin-top: 6px; }
.more { color: #333; font-style: italic; }
.parts { margin: 2px 0; }
.leaves { margin: 4px 0; padding: 2px 6px; border-left: 4px solid #2e7d32; background: #f1f8f2; }
.shown { background: #f7f7f7; border-left: 4px solid #666; padding: 2px 6px; margin: 4px 0; }
"""


@dataclass(frozen=True)
class CardInput:
    """Everything one card shows."""

    decision: Decision
    role: str
    record: PersonRecord | None = None
    change_lines: Sequence[str] = ()
    recorded: LogEntry | None = None
    ranking: Sequence[tuple[str, str]] = ()
    boundary: str | None = None
    flags: Sequence[str] = ()
    #: When would they leave (:func:`leaves_lines`): one sentence, or None for no line.
    leaves: str | None = None
    #: Scores shown side by side (policy ``show_scores``): (label, score text, band, ranks),
    #: and the name of the scorer that ranks (for the line saying which one does).
    shown_scores: Sequence[tuple[str, str, str | None, bool]] = ()
    ranked_by: str = ""


_CARD_WIDTH: Final = 186 / 25.4 * 96 - 2 * 10 - 2  # page width less the card's padding and border
_LIST_WIDTH: Final = _CARD_WIDTH - 16
_BOXED_LIST_WIDTH: Final = _CARD_WIDTH - 30
_FONT: Final = 10 / 72 * 96
_SMALL_FONT: Final = 9 / 72 * 96


def _text_height(text: str, width: float = _LIST_WIDTH, font: float = _FONT, line: float | None = None) -> float:
    return text_lines(text, width, font) * (line if line is not None else LAYOUT["line"])


@dataclass
class _List:
    """A list that may continue on the next sheet: a heading, a wrapper and items."""

    key: str
    title: str
    open: str
    close: str
    items: list[tuple[str, float]] = field(default_factory=list)
    head: float = 0.0  # height of the heading and wrapper (table header) on each sheet


def _shown_scores(card: CardInput) -> tuple[str, float]:
    """The scores shown side by side, with their bands, and which one ranks; its height."""
    if not card.shown_scores:
        return "", 0.0
    items, texts = [], []
    for label, score, band, _ in card.shown_scores:
        items.append(f"{e(label)} <b>{e(score)}</b>" + (f", band <b>{e(band)}</b>" if band else ""))
        texts.append(f"{label} {score}" + (f", band {band}" if band else ""))
    ranking = [label for label, _, _, ranks in card.shown_scores if ranks]
    if ranking:
        line = f"{ranking[0]} ranks this cohort; the others are shown for comparison and change no decision."
    else:
        line = (f"None of these ranks this cohort ({card.ranked_by or 'another scorer'} does); they are shown "
                "for comparison and change no decision.")
    text = "Scores side by side: " + " · ".join(texts) + ". " + line
    html = (f'<p class="shown"><b>Scores side by side:</b> {" &middot; ".join(items)}.<br>'
            f'<span class="ranks">{e(line)}</span></p>')
    return html, _text_height(text, _CARD_WIDTH - 16) + LAYOUT["line"] + 8


def _badge(decision: str) -> str:
    return f'<span class="badge {DECISION_CLASS.get(decision, "")}">{e(decision)}</span>'


def _needs_grid(needs: dict[str, str]) -> str:
    cells = []
    for p in PATHWAYS:
        level = needs.get(p, "not_assessed")
        cells.append(
            f'<div class="need {e(level)}"><b>{e(PATHWAY_LABELS[p])}</b>{e(NEED_LABELS.get(level, level))}</div>'
        )
    return '<div class="needs">' + "".join(cells) + "</div>"


def _chart_height(d: Decision) -> float:
    shown = sum(1 for p in d.breakdown if p.value != 0)
    rows = CHART_ROW * max(shown, 1) + 8
    return rows * (150 / 25.4 * 96 / CHART_WIDTH) + 6


def _decision_box(recorded: LogEntry | None) -> tuple[str, float]:
    if recorded is None:
        return (
            '<div class="decision-box"><b>Panel decision:</b> include &#9744; exclude &#9744; defer &#9744;'
            " &nbsp; Decided by: ________________ Date: ___________"
            '<br>Reason (required):<div class="line"></div><div class="line"></div></div>',
            LAYOUT["decision"],
        )
    reason = recorded.reason
    if len(reason) > _MAX_RECORDED_REASON:
        reason = reason[:_MAX_RECORDED_REASON].rstrip() + "\u2026 (the full reason is in the decision log)"
    override = " (override of the recommendation)" if recorded.is_override else ""
    head = (
        f"Panel decision recorded: {recorded.decision}{override} \u00b7 {recorded.panel}, "
        f"{recorded.decided_by}, {recorded.decided_at.isoformat()}"
    )
    html = (
        f'<div class="decision-box"><b>Panel decision recorded:</b> {e(recorded.decision)}{e(override)}'
        f" &middot; {e(recorded.panel)}, {e(recorded.decided_by)}, {e(recorded.decided_at.isoformat())}"
        f"<br>Reason: {e(reason)}</div>"
    )
    return html, _text_height(head, _CARD_WIDTH - 14) + _text_height("Reason: " + reason, _CARD_WIDTH - 14) + 30


def _history_lists(record: PersonRecord | None) -> list[_List]:
    if record is None:
        return []
    out = []
    hist = _List(
        "history",
        "Offence history on record",
        '<table class="hist"><thead><tr><th style="width:13%">Offence</th><th style="width:13%">Sentenced</th>'
        '<th style="width:40%">Offence group</th><th style="width:20%">Disposal</th>'
        '<th class="num" style="width:7%">Custody</th>'
        f'<th style="width:7%" title="within {AT_RISK_MONTHS} months at risk">{AT_RISK_MONTHS} m</th></tr></thead><tbody>',
        "</tbody></table>",
        head=LAYOUT["h3"] + LAYOUT["row"] + 6,
    )
    for o in record.offences:
        custody = "" if o.custody_days is None else f"{o.custody_days} d"
        current = " (current)" if o.current else ""
        hist.items.append(
            (
                f"<tr><td>{e(fmt_date(o.offence_date))}</td><td>{e(fmt_date(o.sanction_date))}</td>"
                f"<td>{e(o.group)}{e(current)}</td><td>{e(o.disposal)}</td><td class=\"num\">{e(custody)}</td>"
                f"<td class=\"risk\">{'&#9679;' if o.recent else ''}</td></tr>",
                LAYOUT["row"],
            )
        )
    if hist.items:
        out.append(hist)
    periods = _List("custody", "Custody periods on record", "<ul>", "</ul>", head=LAYOUT["h3"] + LAYOUT["list"])
    for c in record.custody:
        end = "still in custody" if c.end is None else f"to {fmt_date(c.end)}"
        days = f" ({(c.end - c.start).days} days)" if c.end is not None and c.start is not None else ""
        periods.items.append((f"<li>From {e(fmt_date(c.start))} {e(end)}{e(days)}</li>", LAYOUT["line"]))
    if periods.items:
        out.append(periods)
    return out


def _text_list(key: str, title: str, texts: Sequence[str], cls: str = "") -> _List:
    boxed = 4 if cls in ("warn", "change") else 0  # the boxes' padding
    lst = _List(key, title, f'<ul class="{cls}">' if cls else "<ul>", "</ul>", head=LAYOUT["h3"] + LAYOUT["list"] + boxed)
    width = _BOXED_LIST_WIDTH if cls in ("warn", "change") else _LIST_WIDTH
    lst.items = [(f"<li>{e(t)}</li>", _text_height(t, width)) for t in texts]
    return lst


def _history_intro(card: CardInput) -> tuple[str, float]:
    rec = card.record
    if rec is None:
        text = "The offence history is not shown: the referral table was not given to the pack."
        return f'<h3>Offence history on record</h3><p class="small">{e(text)}</p>', LAYOUT["h3"] + LAYOUT["line"]
    parts = []
    if rec.summary:
        parts.append(rec.summary)
    n = len(rec.offences)
    if n:
        parts.append(
            f"{n} proven offence(s) on record, latest first; {rec.recent_count} within the last "
            f"{AT_RISK_MONTHS} months at risk of the assessment date (marked \u25cf; time at risk is "
            "explained at the front of the pack). Custody: days of custody given with the sentence."
        )
    elif not rec.summary:
        parts.append("No proven offence on record.")
    if not rec.custody:
        parts.append("No custody period on record.")
    text = " ".join(parts)
    return (
        f'<h3>Offence history on record</h3><p class="small">{e(text)}</p>',
        LAYOUT["h3"] + _text_height(text, _CARD_WIDTH, _SMALL_FONT, 16.5) + 4,
    )


def _paginate(lists: list[_List], first_room: float, other_room: float) -> list[list[tuple[_List, list[str]]]]:
    """Split the lists' items over sheets, in order; the first sheet has ``first_room`` pixels.

    While on the first sheet, room for the one "continued on" note is kept free unless the
    item placed is the very last one. A fresh continuation sheet always takes at least one
    item, so an item taller than a sheet cannot stop the layout.
    """
    todo = [lst for lst in lists if lst.items]
    sheets: list[list[tuple[_List, list[str]]]] = [[]]
    room = first_room
    on_first = True
    for k, lst in enumerate(todo):
        j = 0
        while j < len(lst.items):
            placed: list[str] = []
            avail = room - lst.head
            while j < len(lst.items):
                html, h = lst.items[j]
                very_last = k == len(todo) - 1 and j == len(lst.items) - 1
                reserve = LAYOUT["note"] if on_first and not very_last else 0.0
                fresh = not on_first and not sheets[-1] and not placed
                if h + reserve <= avail or fresh:
                    placed.append(html)
                    avail -= h
                    j += 1
                else:
                    break
            if placed:
                sheets[-1].append((lst, placed))
                room = avail
            if j < len(lst.items):
                sheets.append([])
                room = other_room
                on_first = False
    return sheets


def _render_list(lst: _List, items: list[str], continued: bool) -> str:
    title = lst.title + (" (continued)" if continued else "")
    heading = f"<h3>{e(title)}</h3>" if lst.title else ""
    return f"{heading}{lst.open}{''.join(items)}{lst.close}"


def render_card(card: CardInput) -> str:
    """The HTML of one card: one or more sheets, each exactly one printed page."""
    d = card.decision
    pid = d.person_id
    parts_sorted = sorted((p for p in d.breakdown if p.value != 0), key=lambda p: (-p.value, p.name))

    # Fixed blocks of the first sheet (always there) and their heights.
    band = f", band <b>{e(d.band)}</b>" if d.band else ""
    member = " &middot; already in the cohort" if d.current_member else ""
    assessed = ""
    if card.record is not None:
        assessed = f" &middot; assessed {e(fmt_date(card.record.assessment_date))}"
    headline = (
        f'<p class="headline">{e(card.role)} &middot; score <b>{e(fmt_score(d))}</b>{band}{member}{assessed}'
        f" &middot; {_badge(d.decision)}</p>"
    )
    headline_text = (
        f"{card.role} \u00b7 score {fmt_score(d)}"
        + (f", band {d.band}" if d.band else "")
        + (" \u00b7 already in the cohort" if d.current_member else "")
        + (f" \u00b7 assessed {fmt_date(card.record.assessment_date)}" if card.record is not None else "")
        + f" \u00b7 {d.decision} M"  # the badge's padding and border
    )
    fixed = LAYOUT["h2"] + _text_height(headline_text, _CARD_WIDTH - 20, 14.0, 19.0) + 4
    ranking_html = ""
    if card.ranking or card.boundary:
        text = "Ranking values, in the policy's order: " + "; ".join(f"{k} {v}" for k, v in card.ranking)
        cls = "ranking boundary" if card.boundary else "ranking"
        ranking_body = "<b>Ranking values</b>, in the policy's order: " + "; ".join(
            f"{e(k)} <b>{e(v)}</b>" for k, v in card.ranking
        )
        fixed += _text_height(text, _CARD_WIDTH - 16) + 8
        if card.boundary:
            ranking_body += f"<br><b>At the capacity line:</b> {e(card.boundary)}"
            fixed += _text_height("At the capacity line: " + card.boundary, _CARD_WIDTH - 16)
        ranking_html = f'<p class="{cls}">{ranking_body}</p>'
    leaves_html = ""
    if card.leaves:
        leaves_html = f'<p class="leaves"><b>{LEAVES_TITLE}:</b> {e(card.leaves)}.</p>'
        fixed += _text_height(f"{LEAVES_TITLE}: {card.leaves}.", _CARD_WIDTH - 16) + 8
    shown_html, shown_h = _shown_scores(card)
    fixed += shown_h

    chart = breakdown_chart(d.breakdown, d.unit, title=f"Score breakdown for {pid}")
    fixed += LAYOUT["h3"] + _chart_height(d)
    fixed += LAYOUT["h3"] + LAYOUT["needs"]
    intro_html, intro_h = _history_intro(card)
    fixed += intro_h
    decision_html, decision_h = _decision_box(card.recorded)

    flags = _text_list("flags", "Check before deciding", card.flags, "warn")
    reasons = _text_list("reasons", "Why this recommendation", d.reasons)
    plain = " \u00b7 ".join(f"{p.reason} ({format_part_value(p.value, d.unit)})" for p in parts_sorted)
    breakdown = _List("breakdown", "The score in plain English", '<p class="parts">', "</p>", head=LAYOUT["h3"] + 4)
    breakdown.items = [(e(plain or "No part of the score is above zero."), _text_height(plain or "x", _CARD_WIDTH))]
    def untitled(key: str, text: str) -> _List:
        lst = _List(key, "", '<p class="small">', "</p>", head=4)
        lst.items = [(e(text), _text_height(text, _CARD_WIDTH, _SMALL_FONT, 16.5))]
        return lst

    no_warnings = "No data-quality warnings."
    no_change = "No change since the last panel (or no previous panel run given)."
    if not d.warnings and not card.change_lines:
        quality, changes = untitled("quality", no_warnings + " " + no_change), _List("changes", "", "", "")
    else:
        quality = _text_list("quality", "Data quality", d.warnings, "warn") if d.warnings else untitled("quality", no_warnings)
        changes = (
            _text_list("changes", "Since the last panel", card.change_lines, "change")
            if card.change_lines
            else untitled("changes", no_change)
        )
    history = _history_lists(card.record)
    lists = [flags, reasons, breakdown, quality, changes, *history]

    sheet = LAYOUT["sheet"] - LAYOUT["frame"] - LAYOUT["spare"]
    first_room = sheet - fixed - decision_h
    other_room = sheet - LAYOUT["h2"] - LAYOUT["line"]
    sheets = _paginate(lists, first_room, other_room)
    n = len(sheets)
    placed_first = {lst.key: items for lst, items in sheets[0]}
    moved = [lst for lst in lists if lst.items and len(placed_first.get(lst.key, ())) < len(lst.items)]
    note = ""
    if moved:
        note = (
            f'<p class="more">Continued on card page 2 of {n}: '
            + "; ".join(e(lst.title or "notes") + (" (the rest)" if lst.key in placed_first else "") for lst in moved)
            + ".</p>"
        )

    def block(lst: _List) -> str:
        out = _render_list(lst, placed_first[lst.key], False) if lst.key in placed_first else ""
        if moved and lst is moved[0]:
            out += note
        return out

    def marks(i: int) -> tuple[str, str]:
        return (
            f'<p class="mark">{e(pid)} &middot; card page {i} of {n}</p>',
            f'<p class="mark end">End of {e(pid)} card page {i} of {n}</p>',
        )

    first_start, first_end = marks(1)
    body = [
        f"<h2>{e(pid)}</h2>",
        headline,
        shown_html,
        block(flags),
        ranking_html,
        leaves_html,
        block(reasons),
        "<h3>Score breakdown</h3>",
        chart,
        block(breakdown),
        "<h3>Pathway needs</h3>",
        _needs_grid(d.needs),
        block(quality),
        block(changes),
        intro_html,
        *(block(h) for h in history),
    ]
    out = [
        f'<section class="card" id="card-{e(pid)}" data-sheets="{n}">{first_start}<div class="card-body">'
        + "".join(body)
        + f"</div>{decision_html}{first_end}</section>"
    ]
    for i, s in enumerate(sheets[1:], start=2):
        start, end = marks(i)
        rendered = "".join(_render_list(lst, items, True) for lst, items in s)
        out.append(
            f'<section class="card-cont" id="card-{e(pid)}-{i}">{start}<div class="card-body">'
            f"<h2>{e(pid)} (continued, card page {i} of {n})</h2>"
            f'<p class="small">The decision box is on card page 1.</p>{rendered}</div>{end}</section>'
        )
    return "\n".join(out)


def leaves_lines(
    policy: SelectionPolicy, scorer: Any, table: ReferralTable, rows: Mapping[str, int], people: Sequence[Decision]
) -> dict[str, str]:
    """When each scored person in ``people`` would no longer meet the entry rules of their cohort.

    One :func:`iomscore.cohort.leaves_after` call over the rows of ``table`` for these people
    (re-scored as arrays a month at a time), not one per person; people not scored get no line.
    A several-cohort policy uses each person's cohort (any cohort where they have none).
    """
    scored = [d for d in people if d.score is not None]
    if not scored:
        return {}
    names = {c.name for c in policy.cohort_list()}
    cohort = [d.cohort if d.cohort in names else None for d in scored] if policy.several else None
    found = leaves_after(table.take(np.asarray([rows[d.person_id] for d in scored], dtype=np.int64)), scorer,
                         policy=policy, cohort=cohort)
    return {d.person_id: found.sentence(k) for k, d in enumerate(scored)}
