"""The pack's sections for several cohorts and for places that turn over.

For a several-cohort selection the pack says, per cohort in the policy's order, how its places
and candidates add up (``places == selected + unfilled``; ``candidates == selected + over
capacity + placed in a later cohort``), names the cohort in each person's role, and lists each
cohort's reserves. With an occupancy (the places taken, with expected end dates), it says how
many places are free at the meeting date and free up in each of the next three months, and
lists who is expected to leave. A one-cohort selection without occupancy has none of this, so
its pack is what it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..cohort._select import DESELECTION, OVER_CAPACITY, SELECTED, CohortSelection, Decision
from ._format import e

__all__ = ["cohort_figures", "cohort_reserves", "cohort_roles", "turnover_section"]


def _titles(s: CohortSelection) -> dict[str | None, str]:
    return {c.name: c.title for c in s.cohorts}


def cohort_reserves(s: CohortSelection, n: int) -> tuple[list[Decision], dict[str, tuple[int, int]]]:
    """The next ``n`` over capacity in each cohort, and each reserve's (position, of how many)."""
    out: list[Decision] = []
    where: dict[str, tuple[int, int]] = {}
    for c in s.cohorts:
        mine = list(s.reserves(n, cohort=c.name)) if n else []
        for k, d in enumerate(mine, start=1):
            where[d.person_id] = (k, len(mine))
        out += mine
    return out, where


def cohort_roles(s: CohortSelection, ranked: Sequence[Decision], reserve_at: dict[str, tuple[int, int]]) -> dict[str, str]:
    """Each person's role in the pack, naming the cohort."""
    titles, figures = _titles(s), s.cohort_summary()
    roles: dict[str, str] = {}
    for d in ranked:
        title = titles.get(d.cohort)
        if title is None:
            continue
        if d.decision == SELECTED:
            f = figures[str(d.cohort)]
            roles[d.person_id] = (f"Selected for {title}: rank {d.rank} of {f['candidates']} candidates for "
                                  f"{f['places']} place(s)")
        elif d.person_id in reserve_at:
            k, m = reserve_at[d.person_id]
            roles[d.person_id] = f"Reserve {k} of {m} for {title}: rank {d.rank}"
        elif d.decision == OVER_CAPACITY:
            roles[d.person_id] = f"Eligible, over capacity in {title}: rank {d.rank}"
        elif d.decision == DESELECTION:
            roles[d.person_id] = f"De-selection review ({title})"
    return roles


def _row(label: str, key: str, value: int, total: bool = False) -> str:
    cls = ' class="total"' if total else ""
    return f'<tr{cls}><th>{e(label)}</th><td class="num" data-figure="{e(key)}">{value}</td></tr>'


def _sum(total_key: str, total: int, parts: Sequence[tuple[str, str, int]]) -> str:
    terms = " + ".join(f"{v} {label}" for label, _, v in parts)
    keys = " ".join(k for _, k, _ in parts)
    ok = "adds up" if total == sum(v for _, _, v in parts) else "DOES NOT ADD UP"
    return f'<p class="sum" data-total="{e(total_key)}" data-parts="{e(keys)}">{total} = {e(terms)} ({ok})</p>'


def cohort_figures(s: CohortSelection) -> str:
    """Per cohort: places and candidates, each with its sum written out; empty for one cohort."""
    if not s.cohorts:
        return ""
    figures = s.cohort_summary()
    out = [
        '<h3>By cohort</h3><p class="small">Each person is considered for the cohorts in this order; someone '
        "placed in an earlier cohort is not counted again in a later one, and someone over capacity in "
        "one is considered for the next. Serious-harm routing applies to every cohort.</p>"
    ]
    for c in s.cohorts:
        f = figures[c.name]
        k = c.name
        out.append(f'<h3 class="cohort" data-cohort="{e(k)}">{e(c.title)}</h3>')
        out.append('<table class="figures"><tbody>' + "".join([
            _row("Places", f"{k}.places", f["places"], True),
            _row("Selected", f"{k}.selected", f["selected"]),
            _row("Unfilled", f"{k}.unfilled", f["unfilled"]),
            _row("Candidates ranked for it", f"{k}.candidates", f["candidates"], True),
            _row("Over capacity (placed in no cohort)", f"{k}.over_capacity", f["over_capacity"]),
            _row("Over capacity here, placed in a later cohort", f"{k}.placed_later", f["placed_later"]),
            _row("Current members", f"{k}.current_members", f["current_members"]),
            _row("De-selection reviews", f"{k}.deselection_reviews", f["deselection_reviews"]),
        ]) + "</tbody></table>")
        out.append(_sum(f"{k}.places", f["places"], [("selected", f"{k}.selected", f["selected"]),
                                                      ("unfilled", f"{k}.unfilled", f["unfilled"])]))
        out.append(_sum(f"{k}.candidates", f["candidates"], [
            ("selected", f"{k}.selected", f["selected"]),
            ("over capacity", f"{k}.over_capacity", f["over_capacity"]),
            ("placed in a later cohort", f"{k}.placed_later", f["placed_later"]),
        ]))
        ranking = f"Ranking: {c.tie_break}"
        if c.model is not None:
            ranking += f" (score: {c.model.name} {c.model.version})"
        out.append(f'<p class="small">{e(ranking)}.</p>')
    return "".join(out)


def turnover_section(s: CohortSelection) -> str:
    """Places free at the meeting and freeing up in each of the next months, and who leaves."""
    t = s.turnover
    if t is None:
        return ""
    months = [f"Month {k} (to {m.isoformat()})" for k, m in enumerate(t.months, start=1)]
    head = ("<thead><tr><th>Cohort</th><th class=\"num\">Places</th><th class=\"num\">Occupied</th>"
            "<th class=\"num\">Leaving by the meeting</th><th class=\"num\">Free at the meeting</th>"
            + "".join(f'<th class="num">{e(m)}</th>' for m in months) + "</tr></thead>")
    rows = []
    for c in t.cohorts:
        k = c.cohort
        cells = [f'<td class="num" data-figure="{e(k)}.places_total">{c.places}</td>',
                 f'<td class="num" data-figure="{e(k)}.occupied">{c.occupied}</td>',
                 f'<td class="num" data-figure="{e(k)}.leaving_by_meeting">{c.leaving_by_meeting}</td>',
                 f'<td class="num" data-figure="{e(k)}.free_at_meeting">{c.free_at_meeting}</td>']
        cells += [f'<td class="num" data-figure="{e(k)}.leaving_month_{j}">{n}</td>'
                  for j, n in enumerate(c.leaving_in_month, start=1)]
        rows.append(f"<tr><td>{e(k)}</td>{''.join(cells)}</tr>")
    out = [
        '<h2 id="places">Places that turn over</h2>',
        f"<p>Counted at the meeting date {e(t.as_of.isoformat())} from the places taken (the current cohort "
        "file): a place is free at the meeting if it is vacant or its occupant is expected to have left by "
        "then; the months after count the places expected to free up, assuming nobody new enters. "
        "Occupants expected to leave by the meeting do not hold a place in this selection.</p>",
        '<table id="turnover">' + head + "<tbody>" + "".join(rows) + "</tbody></table>",
    ]
    notes = [f"{c.cohort}: {c.no_end_date} occupant(s) have no expected end date" for c in t.cohorts if c.no_end_date]
    notes += [f"{c.cohort}: {c.estimated_ends} end date(s) estimated from the usual stay" for c in t.cohorts
              if c.estimated_ends]
    if notes:
        out.append('<p class="small">' + e("; ".join(notes)) + ".</p>")
    if t.leavers:
        body = "".join(
            f"<tr><td>{e(x.person_id)}</td><td>{e(x.cohort)}</td><td>{e(x.start_date.isoformat())}</td>"
            f"<td>{e(x.expected_end_date.isoformat())}{' (estimated)' if x.estimated else ''}</td><td>{e(x.when)}</td></tr>"
            for x in t.leavers
        )
        out.append(
            '<h3>Expected to leave</h3><table id="leavers"><thead><tr><th>Person</th><th>Cohort</th>'
            "<th>Started</th><th>Expected end</th><th>When</th></tr></thead><tbody>" + body + "</tbody></table>"
        )
    else:
        out.append('<p class="small">No one is expected to leave by the meeting or in the months shown.</p>')
    return "".join(out)
