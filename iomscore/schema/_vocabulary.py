"""Every closed vocabulary of the referral, with its integer codes and its labels.

The pydantic literals of :mod:`iomscore.schema`, the integer codes of the array form, the
labels of the panel pack and the validation limits all come from here, so a code is written
once.

Examples
--------
>>> from iomscore.schema._vocabulary import PATHWAYS, PATHWAY_LABELS, NEED_CODES
>>> PATHWAYS[0], PATHWAY_LABELS[PATHWAYS[0]], NEED_CODES["significant_need"]
('accommodation', 'Accommodation', 2)
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "CAUTION_DISPOSALS",
    "DECISIONS",
    "DISPOSALS",
    "DISPOSAL_CODES",
    "DISPOSAL_LABELS",
    "FIRST_DAY",
    "LAST_DAY",
    "MAPPA_CATEGORIES",
    "MAPPA_LEVELS",
    "MIN_AGE",
    "NEED_CODES",
    "NEED_LABELS",
    "NEED_LEVELS",
    "NOT_RECORDED",
    "PATHWAYS",
    "PATHWAY_LABELS",
    "PROTECTED_FIELDS",
    "ROSH_LEVELS",
    "SEXES",
    "SEX_CODES",
    "Decision",
    "Disposal",
    "MappaCategory",
    "MappaLevel",
    "NeedLevel",
    "RoshLevel",
    "Sex",
]

Disposal = Literal[
    "caution",
    "conditional_caution",
    "youth_caution",
    "discharge",
    "fine",
    "community_order",
    "suspended_sentence",
    "custody",
    "other_conviction",
]
#: Disposals in code order (the code of a disposal is its position).
DISPOSALS: Final[tuple[str, ...]] = Disposal.__args__  # type: ignore[attr-defined]
DISPOSAL_CODES: Final = {d: i for i, d in enumerate(DISPOSALS)}
DISPOSAL_LABELS: Final = {
    "caution": "caution",
    "conditional_caution": "conditional caution",
    "youth_caution": "youth caution",
    "discharge": "discharge",
    "fine": "fine",
    "community_order": "community order",
    "suspended_sentence": "suspended sentence",
    "custody": "custody",
    "other_conviction": "other conviction",
}
#: Out-of-court disposals; OGRS3 counts them as sanctions with their own sanction-term levels.
CAUTION_DISPOSALS: Final = frozenset({"caution", "conditional_caution", "youth_caution"})

NeedLevel = Literal["not_assessed", "no_need", "some_need", "significant_need"]
NEED_LEVELS: Final[tuple[str, ...]] = NeedLevel.__args__  # type: ignore[attr-defined]
#: Need codes of the array form: -1 not assessed, then 0, 1, 2 in order of need.
NEED_CODES: Final = {level: i - 1 for i, level in enumerate(NEED_LEVELS)}
NEED_LABELS: Final = {
    "not_assessed": "Not assessed",
    "no_need": "No need",
    "some_need": "Some need",
    "significant_need": "Significant need",
}

#: The seven resettlement pathways, in the order used everywhere in iomscore.
PATHWAYS: Final = (
    "accommodation",
    "education_training_employment",
    "health",
    "drugs_alcohol",
    "finance_benefit_debt",
    "children_families",
    "attitudes_thinking_behaviour",
)
PATHWAY_LABELS: Final = {
    "accommodation": "Accommodation",
    "education_training_employment": "Education, training and employment",
    "health": "Health",
    "drugs_alcohol": "Drugs and alcohol",
    "finance_benefit_debt": "Finance, benefit and debt",
    "children_families": "Children and families",
    "attitudes_thinking_behaviour": "Attitudes, thinking and behaviour",
}

Sex = Literal["male", "female"]
SEXES: Final[tuple[str, ...]] = Sex.__args__  # type: ignore[attr-defined]
#: Sex codes of the array form: -1 not recorded.
SEX_CODES: Final = {"male": 0, "female": 1, None: -1}

RoshLevel = Literal["low", "medium", "high", "very_high"]
#: Risk of serious harm levels in code order (code = position; -1 not recorded).
ROSH_LEVELS: Final[tuple[str, ...]] = RoshLevel.__args__  # type: ignore[attr-defined]
MappaCategory = Literal[1, 2, 3]
MappaLevel = Literal[1, 2, 3]
MAPPA_CATEGORIES: Final[tuple[int, ...]] = MappaCategory.__args__  # type: ignore[attr-defined]
MAPPA_LEVELS: Final[tuple[int, ...]] = MappaLevel.__args__  # type: ignore[attr-defined]

#: Protected characteristics of the Equality Act 2010 that a referral may record (sex is a
#: field of its own); audits read them, scorers never do.
PROTECTED_FIELDS: Final = (
    "ethnicity",
    "religion",
    "disability",
    "sexual_orientation",
    "gender_reassignment",
    "marriage_civil_partnership",
    "pregnancy_maternity",
)
#: The group label of a missing value, in audits, rates and reasons alike.
NOT_RECORDED: Final = "not recorded"

Decision = Literal["include", "exclude", "defer"]
#: What a panel can decide about a person.
DECISIONS: Final[tuple[str, ...]] = Decision.__args__  # type: ignore[attr-defined]

#: The age of criminal responsibility in England and Wales.
MIN_AGE: Final = 10
#: The supported date range as days since 1970-01-01: 1900-01-01 to 2100-12-31.
FIRST_DAY: Final = -25567
LAST_DAY: Final = 47846
