"""The pack's pathway demand section: what the people selected need, pathway by pathway.

One small inline SVG chart (a bar per pathway: significant need, some need, not assessed, of
the people selected) and, for a several-cohort selection, a table of the same counts per
cohort, from :func:`iomscore.cohort.pathway_demand`.
"""

from __future__ import annotations

from html import escape as e
from typing import Final

from ..cohort._demand import PathwayCount, PathwayDemand, pathway_demand
from ..cohort._select import CohortSelection

__all__ = ["SIGNIFICANT_COLOUR", "demand_chart", "demand_section"]

#: Fills of the three parts of a bar (also how the browser test finds them).
SIGNIFICANT_COLOUR: Final = "#1f5fa8"
SOME_COLOUR: Final = "#8fb3dc"
NOT_ASSESSED_COLOUR: Final = "#c8c8c8"
_WIDTH: Final = 640
_ROW: Final = 22
_LABEL: Final = 250
_COUNT: Final = 110
_PARTS: Final = (("significant_need", "significant need", SIGNIFICANT_COLOUR),
                 ("some_need", "some need", SOME_COLOUR),
                 ("not_assessed", "not assessed", NOT_ASSESSED_COLOUR))


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def demand_chart(rows: tuple[PathwayCount, ...], *, title: str = "Pathway demand") -> str:
    """A bar per pathway, as an inline ``<svg>``: significant need, then some need, then not assessed.

    Bars are on one scale, the number of people, so a full bar is everyone counted; the counts
    are written beside each bar. Every string is escaped.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="A", assessment_date="2025-06-01", date_of_birth="1990-01-01",
    ...     needs={"drugs_alcohol": "significant_need"})
    >>> svg = demand_chart(pathway_demand([r]).overall())
    >>> svg.startswith("<svg") and svg.count('class="bar"') == 7
    True
    """
    people = max((r.people for r in rows), default=0)
    height = _ROW * (len(rows) + 1) + 8
    area = _WIDTH - _LABEL - _COUNT
    out = [f'<svg class="chart demand" viewBox="0 0 {_WIDTH} {height}" width="100%" role="img" '
           f'aria-label="{e(title)}"><title>{e(title)}</title>']
    x = float(_LABEL)
    for _, name, colour in _PARTS:  # the key
        out.append(f'<rect x="{_num(x)}" y="6" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{_num(x + 14)}" y="15" font-size="11" fill="#222">{e(name)}</text>')
        x += 14 + 7 * len(name) + 16
    for i, r in enumerate(rows):
        y = _ROW * (i + 1) + 4
        out.append(f'<g><title>{e(r.label)}: {r.significant_need} significant, {r.some_need} some, '
                   f'{r.not_assessed} not assessed, of {r.people}</title>'
                   f'<text x="{_LABEL - 8}" y="{y + _ROW - 9}" font-size="12" text-anchor="end" '
                   f'fill="#222">{e(r.label)}</text>')
        x = float(_LABEL)
        for attr, _, colour in _PARTS:
            count = int(getattr(r, attr))
            if count and people:
                w = area * count / people
                out.append(f'<rect class="bar" x="{_num(x)}" y="{y + 3}" width="{_num(w)}" '
                           f'height="{_ROW - 8}" fill="{colour}"/>')
                x += w
        out.append(f'<text x="{_WIDTH - _COUNT + 6}" y="{y + _ROW - 9}" font-size="12" fill="#222">'
                   f"{r.significant_need} + {r.some_need} ({r.not_assessed} n/a)</text></g>")
    out.append("</svg>")
    return "".join(out)


def _cohort_table(demand: PathwayDemand) -> str:
    head = "".join(f"<th>{e(c)} ({demand.for_cohort(c)[0].people})</th>" for c in demand.cohorts)
    body = []
    for k, r in enumerate(demand.overall()):
        cells = "".join(
            f"<td>{c[k].significant_need} / {c[k].some_need} / {c[k].not_assessed}</td>"
            for c in (demand.for_cohort(name) for name in demand.cohorts)
        )
        body.append(f"<tr><td>{e(r.label)}</td>{cells}</tr>")
    return (f'<table class="demand"><thead><tr><th>Pathway (significant / some / not assessed)</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def demand_section(selection: CohortSelection) -> str:
    """The pack's "Pathway demand" section for the people selected.

    Examples
    --------
    >>> import iomscore
    >>> from iomscore.cohort import select_cohort
    >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-02-01")
    >>> html = demand_section(select_cohort([r], iomscore.score([r])))
    >>> "Pathway demand" in html and "nobody is selected" in html
    True
    """
    demand = pathway_demand(selection)
    out = ['<h2 id="pathway-demand">Pathway demand of the people selected</h2>']
    if demand.people == 0:
        out.append("<p>No chart: nobody is selected.</p>")
        return "\n".join(out)
    out.append(
        f"<p>The demand the {demand.people} people selected put on each pathway's services: significant need, "
        "some need, and the people not assessed on the pathway (their need is unknown, not absent). "
        "By group: <code>iomscore needs SELECTION --by sex,ethnicity --referrals LIST</code>.</p>"
    )
    out.append(demand_chart(demand.overall(), title=f"Pathway demand of the {demand.people} people selected"))
    if demand.cohorts:
        out.append(_cohort_table(demand))
    return "\n".join(out)
