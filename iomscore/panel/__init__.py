"""The panel pack: a self-contained HTML file for an IOM panel meeting.

:func:`render_panel` and :func:`write_panel` turn a :class:`~iomscore.cohort.CohortSelection`
into one HTML page (inline CSS and SVG, no JavaScript, no external resources, A4 print
styles): a summary, the ranked list, a fairness summary of selection rates by group, and one
card per person with the score breakdown chart, the reasons, the seven pathway needs,
data-quality warnings and what changed since the last panel.

Examples
--------
>>> import iomscore
>>> from iomscore.cohort import select_cohort
>>> from iomscore.panel import render_panel
>>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
...     date_of_birth="1990-02-01")
>>> "<svg" in render_panel(select_cohort([r], iomscore.score([r])), cards="all")
True
"""

from ._html import render_panel, write_panel
from ._svg import breakdown_chart

__all__ = ["breakdown_chart", "render_panel", "write_panel"]
