"""The panel pack: one self-contained HTML file for an IOM panel meeting.

The page has inline CSS and inline SVG only: no JavaScript, no web fonts, no images or
style sheets from elsewhere, so it opens offline and prints the same everywhere. Print
styles set A4 pages; each person's card starts a new page and is not split where it fits
on one. People are shown by their pseudonymous ``person_id`` only, and every piece of text
is HTML-escaped. Protected characteristics appear only as group totals in the fairness
summary, never on a person's card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any, Final, Literal

from ..cohort._decisions import (
    DEFAULT_MIN_GROUP_SIZE,
    GroupsArg,
    LogEntry,
    selection_rates,
)
from ..cohort._diff import RunDiff, diff_runs
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
from ..schema._vocabulary import PATHWAYS
from ._svg import breakdown_chart

__all__ = ["render_panel", "write_panel"]

_BAD_CARDS: Final = "cards must be 'all', 'candidates' or 'none', not {value!r}"

_PATHWAY_LABELS: Final = {
    "accommodation": "Accommodation",
    "education_training_employment": "Education, training and employment",
    "health": "Health",
    "drugs_alcohol": "Drugs and alcohol",
    "finance_benefit_debt": "Finance, benefit and debt",
    "children_families": "Children and families",
    "attitudes_thinking_behaviour": "Attitudes, thinking and behaviour",
}
_NEED_TEXT: Final = {
    "not_assessed": "Not assessed",
    "no_need": "No need",
    "some_need": "Some need",
    "significant_need": "Significant need",
}
_DECISION_CLASS: Final = {
    SELECTED: "selected",
    OVER_CAPACITY: "over",
    NOT_ELIGIBLE: "noteligible",
    ROUTED: "routed",
    DESELECTION: "deselect",
    NOT_SCORED: "notscored",
}

_CSS: Final = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Helvetica Neue", Arial, "Liberation Sans", sans-serif; font-size: 10.5pt;
  line-height: 1.35; color: #111; margin: 0 auto; padding: 12px; max-width: 186mm;
  overflow-wrap: anywhere; }
h1 { font-size: 17pt; margin: 0 0 4px; }
h2 { font-size: 13pt; margin: 14px 0 6px; border-bottom: 2px solid #1f5fa8; padding-bottom: 2px; }
h3 { font-size: 11pt; margin: 10px 0 4px; }
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
.summary td { width: 25%; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; font-size: 9pt;
  border: 1px solid #888; overflow-wrap: normal; word-break: normal; }
.badge.selected { background: #dcefdc; border-color: #2e7d32; }
.badge.over { background: #fff4d6; border-color: #a07800; }
.badge.noteligible { background: #eee; border-color: #777; }
.badge.routed { background: #fde0e0; border-color: #b71c1c; }
.badge.deselect { background: #e6e0f5; border-color: #4a2f8f; }
.badge.notscored { background: #eee; border-color: #b71c1c; }
.card { break-before: page; page-break-before: always; break-inside: avoid;
  page-break-inside: avoid; border: 1px solid #999; padding: 8px 10px; margin: 12px 0; }
.card h2 { margin-top: 0; }
.card .headline { font-size: 11pt; margin: 2px 0 6px; }
.chart { display: block; width: 100%; max-width: 100%; height: auto; margin: 4px 0; }
.needs { display: grid; grid-template-columns: repeat(4, 1fr); gap: 4px; margin: 4px 0; }
.need { border: 1px solid #aaa; padding: 3px 5px; font-size: 9pt; min-height: 38px; }
.need b { display: block; font-weight: 600; }
.need.significant_need { background: #f7d4d4; }
.need.some_need { background: #fbecc8; }
.need.no_need { background: #e3f1e3; }
.need.not_assessed { background: #f2f2f2; font-style: italic; }
.warn { background: #fff8e1; border-left: 4px solid #a07800; padding: 3px 6px; }
.change { background: #eef4fb; border-left: 4px solid #1f5fa8; padding: 3px 6px; }
.decision-box { border: 1px dashed #666; padding: 6px; margin-top: 8px; }
.decision-box .line { border-bottom: 1px solid #999; height: 18px; margin: 4px 0; }
.small { color: #555; font-size: 9pt; }
.caveat { font-size: 9pt; background: #f4f4f4; padding: 4px 6px; }
.flag { color: #8a5a00; font-weight: 600; }
@media print {
  body { padding: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _score(d: Decision) -> str:
    if d.score is None:
        return "not scored"
    if d.unit == "points":
        return f"{d.score:g}"
    return f"{d.score:.1f}%"


def _badge(decision: str) -> str:
    return f'<span class="badge {_DECISION_CLASS.get(decision, "")}">{_e(decision)}</span>'


def _pct(x: float | None) -> str:
    return "&ndash;" if x is None else f"{100 * x:.0f}%"


def _summary(sel: CohortSelection) -> str:
    s = sel.summary()
    cells = [
        ("Places", s["places"]),
        ("Referred", s["referred"]),
        ("Eligible", s["eligible"]),
        ("Selected (recommended)", s["selected"]),
        ("Eligible, over capacity", s["over_capacity"]),
        ("Not eligible", s["not_eligible"]),
        ("Referred to MAPPA / review", s["routed"]),
        ("De-selection reviews", s["deselection_reviews"]),
    ]
    if s["not_scored"]:
        cells.append(("Not scored", s["not_scored"]))
    if s["current_members"]:
        cells.append(("Current cohort members in this list", s["current_members"]))
    rows = []
    for i in range(0, len(cells), 2):
        pair = cells[i : i + 2]
        rows.append(
            "<tr>" + "".join(f"<th>{_e(k)}</th><td class=\"num\">{_e(v)}</td>" for k, v in pair) + "</tr>"
        )
    return '<table class="summary" id="summary"><tbody>' + "".join(rows) + "</tbody></table>"


def _ranked_table(sel: CohortSelection, recorded: Mapping[str, LogEntry]) -> str:
    head = (
        "<thead><tr><th style=\"width:7%\">Rank</th><th style=\"width:14%\">Person</th>"
        "<th class=\"num\" style=\"width:8%\">Score</th><th style=\"width:10%\">Band</th>"
        "<th style=\"width:19%\">Recommendation</th><th>Top reasons</th>"
        + ("<th style=\"width:13%\">Panel decision</th>" if recorded else "")
        + "</tr></thead>"
    )
    rows = []
    for d in sel.ranked():
        reasons = d.score_reasons[:2] if d.decision in (SELECTED, OVER_CAPACITY) else d.reasons[:2]
        cell = "<br>".join(_e(r) for r in reasons)
        rec = ""
        if recorded:
            e = recorded.get(d.person_id)
            rec = "<td>" + (_e(e.decision) + (" (override)" if e.is_override else "") if e else "&ndash;") + "</td>"
        rows.append(
            f"<tr><td>{'' if d.rank is None else _e(d.rank)}</td>"
            f'<td><a href="#card-{_e(d.person_id)}">{_e(d.person_id)}</a></td>'
            f'<td class="num">{_e(_score(d))}</td><td>{_e(d.band or "")}</td>'
            f"<td>{_badge(d.decision)}</td><td>{cell}</td>{rec}</tr>"
        )
    return '<table id="ranked">' + head + "<tbody>" + "".join(rows) + "</tbody></table>"


def _needs_grid(needs: Mapping[str, str]) -> str:
    cells = []
    for p in PATHWAYS:
        level = needs.get(p, "not_assessed")
        cells.append(
            f'<div class="need {_e(level)}"><b>{_e(_PATHWAY_LABELS[p])}</b>{_e(_NEED_TEXT.get(level, level))}</div>'
        )
    return '<div class="needs">' + "".join(cells) + "</div>"


def _card(d: Decision, change_lines: Sequence[str], recorded: LogEntry | None) -> str:
    out = [f'<section class="card" id="card-{_e(d.person_id)}">']
    out.append(f"<h2>{_e(d.person_id)}</h2>")
    rank = f" &middot; rank {_e(d.rank)}" if d.rank is not None else ""
    band = f", band <b>{_e(d.band)}</b>" if d.band else ""
    member = " &middot; already in the cohort" if d.current_member else ""
    out.append(f'<p class="headline">Score <b>{_e(_score(d))}</b>{band}{rank}{member} &middot; {_badge(d.decision)}</p>')
    out.append("<h3>Why this recommendation</h3><ul>" + "".join(f"<li>{_e(r)}</li>" for r in d.reasons) + "</ul>")
    out.append("<h3>Score breakdown</h3>")
    out.append(breakdown_chart(d.breakdown, d.unit, title=f"Score breakdown for {d.person_id}"))
    parts = sorted((p for p in d.breakdown if p.value != 0), key=lambda p: (-p.value, p.name))
    if parts:
        from ..scoring._result import format_part_value

        out.append(
            "<ul>" + "".join(f"<li>{_e(p.reason)} ({_e(format_part_value(p.value, d.unit))})</li>" for p in parts) + "</ul>"
        )
    else:
        out.append('<p class="small">No part of the score is above zero.</p>')
    out.append("<h3>Pathway needs</h3>" + _needs_grid(d.needs))
    out.append("<h3>Data quality</h3>")
    if d.warnings:
        out.append('<ul class="warn">' + "".join(f"<li>{_e(w)}</li>" for w in d.warnings) + "</ul>")
    else:
        out.append('<p class="small">No data-quality warnings.</p>')
    out.append("<h3>Since the last panel</h3>")
    if change_lines:
        out.append('<ul class="change">' + "".join(f"<li>{_e(c)}</li>" for c in change_lines) + "</ul>")
    else:
        out.append('<p class="small">No change recorded (or no previous panel run given).</p>')
    if recorded is not None:
        out.append(
            '<div class="decision-box"><b>Panel decision recorded:</b> '
            f"{_e(recorded.decision)}{' (override of the recommendation)' if recorded.is_override else ''}"
            f" &middot; {_e(recorded.panel)}, {_e(recorded.decided_by)}, {_e(recorded.decided_at.isoformat())}"
            f"<br>Reason: {_e(recorded.reason)}</div>"
        )
    else:
        out.append(
            '<div class="decision-box"><b>Panel decision:</b> include &#9744; exclude &#9744; defer &#9744;'
            '<br>Reason (required):<div class="line"></div><div class="line"></div>'
            "Decided by: __________________ Date: ____________</div>"
        )
    out.append("</section>")
    return "".join(out)


def _fairness(sel: CohortSelection, groups: GroupsArg | None, characteristics: Sequence[str] | None, min_group_size: int) -> str:
    if groups is None:
        return '<p class="small">No protected characteristics were given, so selection rates by group are not shown.</p>'
    rates = selection_rates(sel, groups, characteristics=characteristics, min_group_size=min_group_size)
    names = list(dict.fromkeys(g.characteristic for g in rates.by_group))
    if characteristics is None:
        names = [n for n in names if any(g.group != "not recorded" for g in rates.groups(n))]
    out = [
        (
            f"<p>Overall: {rates.selected} of {rates.referred} referred selected ({_pct(rates.rate)}); "
            f"{rates.eligible} eligible.</p>"
        )
    ]
    if not names:
        out.append('<p class="small">No protected characteristic is recorded for anyone in this list.</p>')
    for name in names:
        out.append(f"<h3>{_e(name.replace('_', ' ').capitalize())}</h3>")
        rows = []
        for g in rates.groups(name):
            flag = ' <span class="flag">small group</span>' if g.small else ""
            rows.append(
                f"<tr><td>{_e(g.group)}{flag}</td><td class=\"num\">{g.referred}</td>"
                f"<td class=\"num\">{g.eligible}</td><td class=\"num\">{g.selected}</td>"
                f"<td class=\"num\">{_pct(g.rate)}</td></tr>"
            )
        out.append(
            '<table class="fairness"><thead><tr><th>Group</th><th class="num">Referred</th>'
            '<th class="num">Eligible</th><th class="num">Selected</th><th class="num">Selection rate</th>'
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
    out.append(f'<p class="caveat">{_e(rates.caveat)} Selection rates describe who the recommendation picks; '
               "they say nothing about whether the score is equally accurate for each group "
               "(see <code>iomscore.fairness.audit</code> with outcomes).</p>")
    return "".join(out)


def _changes(diff: RunDiff) -> str:
    def ids(changes: Sequence[Any]) -> str:
        items = [c if isinstance(c, str) else c.person_id for c in changes]
        return ", ".join(_e(i) for i in items) if items else "none"

    out = ["<ul>"]
    out.append(f"<li>Entered the recommended cohort: {ids(diff.entered)}</li>")
    out.append(f"<li>Left the recommended cohort: {ids(diff.left)}</li>")
    out.append(f"<li>Score moved: {ids(diff.score_moved)}</li>")
    out.append(f"<li>New referrals: {ids(diff.new_referrals)}</li>")
    out.append(f"<li>No longer referred: {ids(diff.no_longer_referred)}</li>")
    out.append("</ul>")
    for note in diff.notes:
        out.append(f'<p class="warn">{_e(note)}</p>')
    return "".join(out)


def render_panel(
    selection: CohortSelection,
    *,
    previous: CohortSelection | None = None,
    groups: GroupsArg | None = None,
    characteristics: Sequence[str] | None = None,
    decisions: Mapping[str, LogEntry] | None = None,
    title: str = "IOM panel pack",
    panel: str | None = None,
    meeting_date: dt.date | str | None = None,
    generated_at: dt.datetime | str | None = None,
    cards: Literal["all", "candidates", "none"] = "candidates",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> str:
    """The panel pack as one self-contained HTML document.

    Parameters
    ----------
    selection : CohortSelection
        This run's recommendations.
    previous : CohortSelection, optional
        The previous panel run; each card then says what changed since.
    groups : ReferralTable or mapping, optional
        Protected characteristics for the fairness summary (group totals only).
    characteristics : sequence of str, optional
        Which characteristics to summarise (default: those recorded for anyone).
    decisions : mapping of person_id to LogEntry, optional
        Decisions already recorded (e.g. ``DecisionLog.latest(selection)``); shown on the
        list and the cards. Without them each card has an empty decision box for the meeting.
    title, panel : str
        Page title and panel name.
    meeting_date : date or str, optional
    generated_at : datetime or str, optional
        Shown in the header; omitted when not given (the library never reads the clock here).
    cards : {"candidates", "all", "none"}
        ``"candidates"`` (default): a card for everyone except people not eligible (they are
        in the ranked list with their reasons); ``"all"``: everyone.
    min_group_size : int
        Groups smaller than this are flagged in the fairness summary.

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> import iomscore
    >>> from iomscore.cohort import select_cohort
    >>> r = iomscore.Referral(person_id="P<1>", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01", sanctions=[{"offence_date": "2025-02-01",
    ...     "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
    ...     "disposal": "community_order"}])
    >>> page = render_panel(select_cohort([r], iomscore.score([r])))
    >>> "P&lt;1&gt;" in page and "<script" not in page
    True
    """
    if cards not in ("all", "candidates", "none"):
        raise ValueError(_BAD_CARDS.format(value=cards))
    recorded = dict(decisions or {})
    diff = diff_runs(previous, selection) if previous is not None else None
    s = selection
    model = s.model
    meta = [
        f"Policy <b>{_e(s.policy_name)} {_e(s.policy_version)}</b> (sha256 <code>{_e(s.policy_sha256[:12])}</code>)",
    ]
    if model is not None:
        meta.append(f"model <b>{_e(model.name)} {_e(model.version)}</b> (sha256 <code>{_e(model.sha256[:12])}</code>)")
    line2 = []
    if panel:
        line2.append(f"Panel: {_e(panel)}")
    if meeting_date:
        line2.append(f"Meeting: {_e(meeting_date)}")
    if generated_at:
        line2.append(f"Generated: {_e(generated_at if isinstance(generated_at, str) else generated_at.isoformat(timespec='minutes'))}")
    body = [f"<h1>{_e(title)}</h1>"]
    if line2:
        body.append(f'<p class="meta">{" &middot; ".join(line2)}</p>')
    body.append(f'<p class="meta">{"; ".join(meta)}. Selection run <code>{_e(s.sha256[:12])}</code>.</p>')
    body.append(
        '<p class="small">Recommendations, not decisions: the panel decides and records a reason '
        "for each decision. People are shown by pseudonymous identifier only. Serious-harm cases are "
        "referred to MAPPA / review and never selected on a reoffending score alone.</p>"
    )
    body.append("<h2>Summary</h2>" + _summary(s))
    body.append(f'<p class="small">Ranking: {_e(s.tie_break)}.</p>')
    for w in s.warnings:
        body.append(f'<p class="warn">{_e(w)}</p>')
    if diff is not None:
        body.append("<h2>Changes since the last panel</h2>" + _changes(diff))
    body.append("<h2>Ranked list</h2>" + _ranked_table(s, recorded))
    body.append("<h2>Fairness summary: selection rates by group</h2>")
    body.append(_fairness(s, groups, characteristics, min_group_size))
    if cards != "none":
        for d in s.ranked():
            if cards == "candidates" and d.decision == NOT_ELIGIBLE:
                continue
            lines = diff.for_person(d.person_id).lines() if diff and diff.for_person(d.person_id) else ()  # type: ignore[union-attr]
            body.append(_card(d, lines, recorded.get(d.person_id)))
    return (
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_panel(path: str | Path, selection: CohortSelection, **kwargs: Any) -> Path:
    """Write :func:`render_panel` to ``path`` (UTF-8) and return the path.

    Examples
    --------
    >>> import iomscore, tempfile, pathlib
    >>> from iomscore.cohort import select_cohort
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
    ...     date_of_birth="1990-02-01")
    >>> out = write_panel(pathlib.Path(tempfile.mkdtemp()) / "pack.html",
    ...                   select_cohort([r], iomscore.score([r])))
    >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    path = Path(path)
    path.write_text(render_panel(selection, **kwargs), encoding="utf-8")
    return path
