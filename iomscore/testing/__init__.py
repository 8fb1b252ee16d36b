"""Testing tools for iomscore scorers: hypothesis strategies and :func:`check_scorer`.

Strategies generate valid referrals (and awkward but valid edge cases), pathway needs,
custody periods, serious-harm and protected information, and points specs, so you can write
property tests for your own scorer; :func:`check_scorer` runs the whole iomscore property
suite against any scorer and reports the smallest counterexample of each failure as referral
JSON. ``iomscore check SCORER_OR_SPEC`` does the same on the command line.

Examples
--------
>>> from hypothesis import given, settings
>>> import iomscore
>>> from iomscore.testing import referrals, check_scorer
>>> scorer = iomscore.get_scorer("iom-priority")
>>> @settings(max_examples=10)
... @given(referrals())
... def test_band_is_named(referral):
...     assert iomscore.score(referral, scorer).band in {"low", "medium", "high", "very high"}
>>> test_band_is_named()
>>> check_scorer(scorer, max_examples=5, properties=["protected_invariance"]).ok
True
"""

from .._public import set_module
from ._check import (
    OFFENCE_MONOTONE_FEATURES,
    PROPERTIES,
    CheckReport,
    PropertyResult,
    ScorerCheckError,
    check_scorer,
    declares_offence_monotone,
)
from ._strategies import (
    ASSESSMENT_RANGE,
    EDGE_CASES,
    REFERRAL_FACT_FEATURES,
    add_offence,
    assessment_dates,
    custody_periods,
    edge_case_referrals,
    oasys_assessments,
    offence_groups,
    pathway_needs,
    points_specs,
    protected_characteristics,
    referral_facts,
    referrals,
    sanction_summaries,
    sanctions,
    serious_harm,
    tenth_birthday,
)

__all__ = [
    "ASSESSMENT_RANGE",
    "EDGE_CASES",
    "OFFENCE_MONOTONE_FEATURES",
    "PROPERTIES",
    "REFERRAL_FACT_FEATURES",
    "CheckReport",
    "PropertyResult",
    "ScorerCheckError",
    "add_offence",
    "assessment_dates",
    "check_scorer",
    "custody_periods",
    "declares_offence_monotone",
    "edge_case_referrals",
    "oasys_assessments",
    "offence_groups",
    "pathway_needs",
    "points_specs",
    "protected_characteristics",
    "referral_facts",
    "referrals",
    "sanction_summaries",
    "sanctions",
    "serious_harm",
    "tenth_birthday",
]

set_module(globals(), __all__, __name__)
