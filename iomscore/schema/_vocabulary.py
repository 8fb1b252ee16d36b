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
    "ACTUARIAL_CATEGORIES",
    "ACTUARIAL_CATEGORY_GROUP",
    "ACTUARIAL_CATEGORY_LABELS",
    "CAUTION_DISPOSALS",
    "DECISIONS",
    "DISPOSALS",
    "DISPOSAL_CODES",
    "DISPOSAL_LABELS",
    "DRUG_MOTIVATIONS",
    "FIRST_DAY",
    "GROUP_ACTUARIAL_CATEGORY",
    "HO_MAPPING_STATUSES",
    "LAST_DAY",
    "MAPPA_CATEGORIES",
    "MAPPA_LEVELS",
    "MIN_AGE",
    "NEED_CODES",
    "NEED_LABELS",
    "NEED_LEVELS",
    "NOT_RECORDED",
    "OASYS_COLUMNS",
    "OASYS_DRUGS",
    "OASYS_ITEMS",
    "OASYS_OTHER_DRUG_GROUP",
    "OASYS_PREVIOUS_OFFENCES",
    "OASYS_PREVIOUS_OFFENCE_LABELS",
    "PATHWAYS",
    "PATHWAY_LABELS",
    "PROTECTED_FIELDS",
    "RELATIONSHIP_STATUSES",
    "ROSH_LEVELS",
    "SEXES",
    "SEX_CODES",
    "STATUTORY_SUPERVISION",
    "SUPERVISION_LABELS",
    "SUPERVISION_STATUSES",
    "Decision",
    "Disposal",
    "DrugMotivation",
    "MappaCategory",
    "MappaLevel",
    "NeedLevel",
    "OASysDrug",
    "OASysPreviousOffence",
    "ProblemScore",
    "RelationshipStatus",
    "RoshLevel",
    "Sex",
    "SupervisionStatus",
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

SupervisionStatus = Literal[
    "licence",
    "post_sentence_supervision",
    "community_order",
    "suspended_sentence_order",
    "none",
]
#: Supervision statuses in code order (code = position; -1 not recorded). ``none`` is a person
#: with no statutory supervision, who can take part in IOM only by agreeing to engage.
SUPERVISION_STATUSES: Final[tuple[str, ...]] = SupervisionStatus.__args__  # type: ignore[attr-defined]
SUPERVISION_LABELS: Final = {
    "licence": "Licence",
    "post_sentence_supervision": "Post-sentence supervision",
    "community_order": "Community order",
    "suspended_sentence_order": "Suspended sentence order",
    "none": "None (non-statutory)",
}
#: The statuses that are statutory supervision by the Probation Service.
STATUTORY_SUPERVISION: Final = frozenset(SUPERVISION_STATUSES[:4])

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

#: The actuarial offence categories of the OASys v4 predictors (OGRS4/G, OGRS4/V, SNSV, OGP2,
#: OVP2), as the MoJ offence mapping names them (spelling included); the code of a category is
#: its position. ``UNKNOWN`` (codes 00000, 00001) has no coefficient: those referrals are not
#: scored by these predictors.
ACTUARIAL_CATEGORIES: Final = (
    "ABSCONDING_OR_BAIL",
    "ACQUISITIVE_VIOLENCE",
    "BURGLARY_DOMESTIC",
    "BURGLARY_OTHER",
    "CRIMINAL_DAMAGE",
    "DRINK_DRIVING",
    "DRUG_IMPORT_EXPORT_OR_PRODUCTION",
    "DRUG_POSSESSION_OR_SUPPLY",
    "DRUNKENNESS",
    "FIREARMS_MOST_SERIOUS",
    "FIREARMS_OTHER",
    "FRAUD_AND_FORGERY",
    "HANDLING_STOLEN_GOODS",
    "MOTORING_OFFENCES",
    "OTHER_OFFENCES",
    "PUBLIC_ORDER_AND_HARRASSMENT",
    "SEXUAL_AGAINST_CHILD",
    "SEXUAL_NOT_AGAINST_CHILD",
    "THEFT_NON_MOTOR",
    "UNKNOWN",
    "VEHICLE_RELATED_THEFT",
    "VIOLENCE_AGAINST_THE_PERSON_ABH_PLUS",
    "VIOLENCE_AGAINST_THE_PERSON_SUB_ABH",
    "WEAPONS_NON_FIREARM",
    "WELFARE_FRAUD",
)
ACTUARIAL_CATEGORY_LABELS: Final = {
    "ABSCONDING_OR_BAIL": "absconding or bail offences",
    "ACQUISITIVE_VIOLENCE": "acquisitive violence (robbery)",
    "BURGLARY_DOMESTIC": "domestic burglary",
    "BURGLARY_OTHER": "non-domestic burglary",
    "CRIMINAL_DAMAGE": "criminal damage",
    "DRINK_DRIVING": "drink driving",
    "DRUG_IMPORT_EXPORT_OR_PRODUCTION": "drug import, export or production",
    "DRUG_POSSESSION_OR_SUPPLY": "drug possession or supply",
    "DRUNKENNESS": "drunkenness",
    "FIREARMS_MOST_SERIOUS": "firearms (most serious)",
    "FIREARMS_OTHER": "firearms (other)",
    "FRAUD_AND_FORGERY": "fraud and forgery",
    "HANDLING_STOLEN_GOODS": "handling stolen goods",
    "MOTORING_OFFENCES": "motoring offences (not drink driving)",
    "OTHER_OFFENCES": "other offences",
    "PUBLIC_ORDER_AND_HARRASSMENT": "public order and harassment",
    "SEXUAL_AGAINST_CHILD": "sexual offence against a child",
    "SEXUAL_NOT_AGAINST_CHILD": "sexual offence (not against a child)",
    "THEFT_NON_MOTOR": "theft (not motor vehicles)",
    "UNKNOWN": "unknown (no actuarial category)",
    "VEHICLE_RELATED_THEFT": "vehicle-related theft",
    "VIOLENCE_AGAINST_THE_PERSON_ABH_PLUS": "violence against the person (ABH or more serious)",
    "VIOLENCE_AGAINST_THE_PERSON_SUB_ABH": "violence against the person (less than ABH)",
    "WEAPONS_NON_FIREARM": "weapons (not firearms)",
    "WELFARE_FRAUD": "welfare fraud",
}
#: The iomscore offence group (see ``iomscore.offence_taxonomy()``) a Home Office code counts as,
#: by its actuarial category, so sanctions given only a Home Office code work for every scorer.
#: Readings: vehicle-related theft counts as taking and driving away; the most serious firearms
#: offences as violence, other firearms offences as weapon possession; drunkenness and UNKNOWN
#: as other; welfare fraud as fraud and forgery; ABH or worse as assault (ABH).
ACTUARIAL_CATEGORY_GROUP: Final = {
    "ABSCONDING_OR_BAIL": "absconding_bail",
    "ACQUISITIVE_VIOLENCE": "robbery",
    "BURGLARY_DOMESTIC": "burglary_domestic",
    "BURGLARY_OTHER": "burglary_other",
    "CRIMINAL_DAMAGE": "criminal_damage",
    "DRINK_DRIVING": "drink_driving",
    "DRUG_IMPORT_EXPORT_OR_PRODUCTION": "drug_import_export_production",
    "DRUG_POSSESSION_OR_SUPPLY": "drug_possession_supply",
    "DRUNKENNESS": "other",
    "FIREARMS_MOST_SERIOUS": "violence",
    "FIREARMS_OTHER": "weapon_possession",
    "FRAUD_AND_FORGERY": "fraud_forgery",
    "HANDLING_STOLEN_GOODS": "handling",
    "MOTORING_OFFENCES": "other_motoring",
    "OTHER_OFFENCES": "other",
    "PUBLIC_ORDER_AND_HARRASSMENT": "public_order",
    "SEXUAL_AGAINST_CHILD": "sexual_child",
    "SEXUAL_NOT_AGAINST_CHILD": "sexual_not_child",
    "THEFT_NON_MOTOR": "theft_non_motor",
    "UNKNOWN": "other",
    "VEHICLE_RELATED_THEFT": "taking_driving_away",
    "VIOLENCE_AGAINST_THE_PERSON_ABH_PLUS": "assault_abh",
    "VIOLENCE_AGAINST_THE_PERSON_SUB_ABH": "common_assault",
    "WEAPONS_NON_FIREARM": "weapon_possession",
    "WELFARE_FRAUD": "fraud_forgery",
}
#: The actuarial category an iomscore offence group counts as when a referral gives no Home
#: Office code. Only groups that determine one category are listed: ``violence`` (ABH or not?)
#: and ``soliciting`` are not, so the OASys v4 predictors need a Home Office code for them.
GROUP_ACTUARIAL_CATEGORY: Final = {
    "robbery": "ACQUISITIVE_VIOLENCE",
    "personal_robbery": "ACQUISITIVE_VIOLENCE",
    "business_robbery": "ACQUISITIVE_VIOLENCE",
    "public_order": "PUBLIC_ORDER_AND_HARRASSMENT",
    "sexual_not_child": "SEXUAL_NOT_AGAINST_CHILD",
    "sexual_child": "SEXUAL_AGAINST_CHILD",
    "burglary_domestic": "BURGLARY_DOMESTIC",
    "burglary_other": "BURGLARY_OTHER",
    "theft_non_motor": "THEFT_NON_MOTOR",
    "theft_from_person": "THEFT_NON_MOTOR",
    "shop_theft": "THEFT_NON_MOTOR",
    "bicycle_theft": "THEFT_NON_MOTOR",
    "other_theft": "THEFT_NON_MOTOR",
    "handling": "HANDLING_STOLEN_GOODS",
    "fraud_forgery": "FRAUD_AND_FORGERY",
    "absconding_bail": "ABSCONDING_OR_BAIL",
    "fail_to_surrender": "ABSCONDING_OR_BAIL",
    "taking_driving_away": "VEHICLE_RELATED_THEFT",
    "theft_from_vehicle": "VEHICLE_RELATED_THEFT",
    "theft_of_vehicle": "VEHICLE_RELATED_THEFT",
    "aggravated_vehicle_taking": "VEHICLE_RELATED_THEFT",
    "vehicle_interference": "VEHICLE_RELATED_THEFT",
    "other_motoring": "MOTORING_OFFENCES",
    "drink_driving": "DRINK_DRIVING",
    "criminal_damage": "CRIMINAL_DAMAGE",
    "drug_import_export_production": "DRUG_IMPORT_EXPORT_OR_PRODUCTION",
    "drug_possession_supply": "DRUG_POSSESSION_OR_SUPPLY",
    "drug_possession": "DRUG_POSSESSION_OR_SUPPLY",
    "drug_supply": "DRUG_POSSESSION_OR_SUPPLY",
    "common_assault": "VIOLENCE_AGAINST_THE_PERSON_SUB_ABH",
    "assault_abh": "VIOLENCE_AGAINST_THE_PERSON_ABH_PLUS",
    "wounding_gbh": "VIOLENCE_AGAINST_THE_PERSON_ABH_PLUS",
    "homicide": "VIOLENCE_AGAINST_THE_PERSON_ABH_PLUS",
    "weapon_possession": "WEAPONS_NON_FIREARM",
    "breach_of_order": "OTHER_OFFENCES",
    "other": "OTHER_OFFENCES",
}
#: How a Home Office code stands in the shipped mapping: in the current MoJ mapping; in it with
#: a category changed at f0c8151 (the current category is used, with a warning); or removed at
#: f0c8151 (the earlier 414ce2a category is used, with a warning).
HO_MAPPING_STATUSES: Final = ("current", "recategorised_at_f0c8151", "removed_at_f0c8151")

# --- OASys assessment answers (the dynamic OASys v4 predictors OGP2, OVP2, SNSV dynamic) ---
#: An OASys problem score: 0 no problems, 1 some problems, 2 significant problems.
ProblemScore = Literal[0, 1, 2]
RelationshipStatus = Literal["living_together", "not_living_together", "no_relationship"]
#: OASys 6.8 answers in code order (code = position; the MoJ answers 1, 2 and 3).
RELATIONSHIP_STATUSES: Final[tuple[str, ...]] = RelationshipStatus.__args__  # type: ignore[attr-defined]
DrugMotivation = Literal["full", "partial", "none"]
#: OASys 8.8 answers in code order; the code is the value the predictors multiply (0, 1, 2).
DRUG_MOTIVATIONS: Final[tuple[str, ...]] = DrugMotivation.__args__  # type: ignore[attr-defined]
OASysDrug = Literal[
    "heroin",
    "methadone",
    "other_opiates",
    "crack_cocaine",
    "powder_cocaine",
    "misused_prescribed",
    "benzodiazepines",
    "cannabis",
    "steroids",
    "other_drugs",
    "ketamine",
    "spice",
    "hallucinogens",
    "solvents",
    "amphetamines",
    "ecstasy",
]
#: Drugs ever misused (OASys section 8), in code order. Methadone means not prescribed;
#: amphetamines and ecstasy are recorded but enter none of the predictors.
OASYS_DRUGS: Final[tuple[str, ...]] = OASysDrug.__args__  # type: ignore[attr-defined]
#: The drugs counted once, together, as the predictors' "other drugs" item.
OASYS_OTHER_DRUG_GROUP: Final = frozenset({"other_drugs", "ketamine", "spice", "hallucinogens", "solvents"})
OASysPreviousOffence = Literal[
    "homicide",
    "wounding_gbh",
    "kidnapping",
    "firearms",
    "robbery",
    "aggravated_burglary",
    "weapon",
    "criminal_damage_life",
    "arson",
]
#: OASys R1.2 previous offences (read by SNSV dynamic), in code order.
OASYS_PREVIOUS_OFFENCES: Final[tuple[str, ...]] = OASysPreviousOffence.__args__  # type: ignore[attr-defined]
OASYS_PREVIOUS_OFFENCE_LABELS: Final = {
    "homicide": "murder, attempted murder, threat or conspiracy to murder, or manslaughter",
    "wounding_gbh": "wounding or GBH",
    "kidnapping": "kidnapping or false imprisonment",
    "firearms": "possession of a firearm with intent",
    "robbery": "robbery",
    "aggravated_burglary": "aggravated burglary",
    "weapon": "an offence involving possession or use of a weapon",
    "criminal_damage_life": "criminal damage with intent to endanger life",
    "arson": "arson",
}
#: The single-answer OASys items: field of :class:`~iomscore.OASysAssessment` -> (OASys
#: question, label, kind). Kinds: ``"yes_no"`` (0/1), ``"problem"`` (0/1/2), ``"relationship"``
#: (RELATIONSHIP_STATUSES code), ``"motivation"`` (DRUG_MOTIVATIONS code).
OASYS_ITEMS: Final = {
    "weapon": ("2.2", "current offence involved carrying or using a weapon", "yes_no"),
    "accommodation": ("3.4", "suitability of accommodation", "problem"),
    "unemployed": ("4.2", "unemployed, or will be on release", "yes_no"),
    "partner_relationship": ("6.4", "current relationship with partner", "problem"),
    "domestic_abuse": ("6.7", "evidence of domestic abuse (perpetrator)", "yes_no"),
    "relationship_status": ("6.8", "relationship status", "relationship"),
    "regular_activities": ("7.2", "regular activities encourage offending", "problem"),
    "drug_motivation": ("8.8", "motivation to tackle drug misuse", "motivation"),
    "alcohol_current": ("9.1", "current use of alcohol is a problem", "problem"),
    "alcohol_binge": ("9.2", "binge drinking or excessive use of alcohol", "problem"),
    "impulsivity": ("11.2", "impulsivity", "problem"),
    "temper": ("11.4", "temper control", "problem"),
    "procriminal_attitudes": ("12.1", "pro-criminal attitudes", "problem"),
}
#: Columns of the array form of an assessment (``ReferralBatch.oasys``): the single items,
#: then one 0/1 column per drug (``drug_<name>``) and per R1.2 offence (``previous_<name>``).
OASYS_COLUMNS: Final = (
    *OASYS_ITEMS,
    *(f"drug_{d}" for d in OASYS_DRUGS),
    *(f"previous_{o}" for o in OASYS_PREVIOUS_OFFENCES),
)
