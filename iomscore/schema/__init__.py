"""The referral schema: what a referral says, its closed vocabularies and its array form.

Everything downstream (features, scorers, selection, the pack) reads referrals through this
package: the pydantic models (:class:`Referral` and its parts), the vocabularies with their
codes and labels, the offence taxonomy, the cross-field rules written once over arrays, and
the array form itself (:class:`ReferralBatch`, :class:`ReferralTable`).

Examples
--------
>>> from iomscore.schema import Referral, ReferralTable
>>> r = Referral(person_id="P1", assessment_date="2025-06-01", date_of_birth="1990-01-01")
>>> ReferralTable.from_referrals([r]).batch.person_id.tolist()
['P1']
"""

from __future__ import annotations

from .._public import set_module
from ._batch import (
    MISSING_DAY,
    ONGOING_DAY,
    ReferralBatch,
    SeriousHarmColumns,
    date_to_day,
    day_to_date,
)
from ._parse import ReferralError, parse_referral
from ._referral import (
    CustodyPeriod,
    OASysAssessment,
    PathwayNeeds,
    ProtectedCharacteristics,
    Referral,
    Sanction,
    SanctionSummary,
    SeriousHarm,
    Supervision,
)
from ._rules import Violations, check_batch
from ._table import ReferralTable
from ._taxonomy import OffenceTaxonomy, offence_taxonomy
from ._vocabulary import (
    CAUTION_DISPOSALS,
    DISPOSAL_LABELS,
    DISPOSALS,
    MIN_AGE,
    NEED_LABELS,
    NEED_LEVELS,
    NOT_RECORDED,
    PATHWAY_LABELS,
    PATHWAYS,
    PROTECTED_FIELDS,
    ROSH_LEVELS,
)

__all__ = [
    "CAUTION_DISPOSALS",
    "DISPOSALS",
    "DISPOSAL_LABELS",
    "MIN_AGE",
    "MISSING_DAY",
    "NEED_LABELS",
    "NEED_LEVELS",
    "NOT_RECORDED",
    "ONGOING_DAY",
    "PATHWAYS",
    "PATHWAY_LABELS",
    "PROTECTED_FIELDS",
    "ROSH_LEVELS",
    "CustodyPeriod",
    "OASysAssessment",
    "OffenceTaxonomy",
    "PathwayNeeds",
    "ProtectedCharacteristics",
    "Referral",
    "ReferralBatch",
    "ReferralError",
    "ReferralTable",
    "Sanction",
    "SanctionSummary",
    "SeriousHarm",
    "SeriousHarmColumns",
    "Supervision",
    "Violations",
    "check_batch",
    "date_to_day",
    "day_to_date",
    "offence_taxonomy",
    "parse_referral",
]

set_module(globals(), __all__, __name__)
