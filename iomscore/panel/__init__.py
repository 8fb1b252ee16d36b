"""The panel pack: a self-contained HTML file for an IOM panel meeting.

:func:`render_panel` and :func:`write_panel` turn a :class:`~iomscore.cohort.CohortSelection`
into one HTML page (inline CSS and SVG, no JavaScript, no external resources, A4 print
styles): what was read and rejected with the figures adding up on the page, the capacity
line and the tie-break that drew it, a fairness summary of selection rates by group, and a
card for each person the meeting decides about (everyone selected, the reserves, de-selection
reviews and referrals to MAPPA / review). Each card fits its printed pages exactly: the
reasons, the score breakdown chart, the seven pathway needs, data-quality warnings, what
changed since the last panel and the offence history on record, with the decision box.
:func:`write_panel` also writes the full ranked list as CSV beside the pack.

Examples
--------
>>> import datetime as dt, iomscore
>>> from iomscore.cohort import select_cohort
>>> from iomscore.panel import render_panel
>>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
...     date_of_birth="1990-02-01")
>>> page = render_panel(select_cohort([r], iomscore.score([r])), cards="all",
...                     generated_at=dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC))
>>> "<svg" in page
True
"""

from .._public import set_module
from ._csv import ranked_csv_path
from ._html import CARD_MODES, render_panel, write_panel
from ._svg import breakdown_chart

__all__ = ["CARD_MODES", "breakdown_chart", "ranked_csv_path", "render_panel", "write_panel"]

set_module(globals(), __all__, __name__)
