"""Cohort selection, panel decisions and run-to-run changes.

A score is not a decision. :func:`select_cohort` turns scored referrals and a declarative,
versioned :class:`SelectionPolicy` into one recommendation per person, with reasons:
eligibility (core and local flex rules), serious-harm routing to MAPPA / review (never
selected on a reoffending score alone), a fixed number of places with a deterministic
tie-break, and de-selection reviews for people already in the cohort. A policy may define
several named cohorts (:class:`Cohort`: the national IOM Fixed, Flex and Free cohorts), each
person considered for them in order; an :class:`Occupancy` gives the places taken with their
expected end dates, and :func:`forecast_places` says how many free up by the meeting and in
each of the next three months.

The panel then decides. :class:`DecisionLog` records each decision (include, exclude,
defer), who made it, when and why, in an append-only file; :func:`override_rates` reports how
often the panel departed from the recommendation, overall and by group; :func:`diff_runs`
says who entered, who left and whose score moved between two runs, and why.
:func:`iomscore.panel.render_panel` writes the pack for the meeting. See
``docs/cohort-and-panel.md``.

Examples
--------
>>> import iomscore
>>> from iomscore.cohort import select_cohort
>>> refs = [iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
...     date_of_birth="1990-02-01", serious_harm={"rosh_level": "high"},
...     sanctions=[{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
...     "offence_group": "burglary_domestic", "disposal": "community_order"}])]
>>> select_cohort(refs, iomscore.score(refs)).get("P1").decision
'refer to MAPPA / review'
"""

from .._public import set_module
from ._cohorts import select_cohort
from ._decisions import (
    NOT_RECORDED,
    DecisionLog,
    DecisionLogError,
    GroupOverrides,
    GroupSelection,
    LogEntry,
    OverrideReport,
    SelectionRates,
    override_rates,
    selection_rates,
)
from ._demand import PathwayCount, PathwayDemand, pathway_demand
from ._diff import PartChange, PersonChange, RunDiff, diff_runs
from ._leaves import LeavesAfter, leaves_after
from ._places import (
    CohortPlaces,
    Leaver,
    Occupancy,
    OccupancyError,
    Placement,
    PlacesForecast,
    forecast_places,
    read_occupancy,
)
from ._policy import DEFAULT_POLICY, Cohort, PolicyError, SelectionPolicy, load_policy
from ._select import (
    DECISIONS,
    RECOMMENDED_ACTION,
    CohortInfo,
    CohortSelection,
    Decision,
    SelectionError,
)

__all__ = [
    "DECISIONS",
    "DEFAULT_POLICY",
    "NOT_RECORDED",
    "RECOMMENDED_ACTION",
    "Cohort",
    "CohortInfo",
    "CohortPlaces",
    "CohortSelection",
    "Decision",
    "DecisionLog",
    "DecisionLogError",
    "GroupOverrides",
    "GroupSelection",
    "Leaver",
    "LeavesAfter",
    "LogEntry",
    "Occupancy",
    "OccupancyError",
    "OverrideReport",
    "PartChange",
    "PathwayCount",
    "PathwayDemand",
    "PersonChange",
    "Placement",
    "PlacesForecast",
    "PolicyError",
    "RunDiff",
    "SelectionError",
    "SelectionPolicy",
    "SelectionRates",
    "diff_runs",
    "forecast_places",
    "leaves_after",
    "load_policy",
    "override_rates",
    "pathway_demand",
    "read_occupancy",
    "select_cohort",
    "selection_rates",
]

set_module(globals(), __all__, __name__)
