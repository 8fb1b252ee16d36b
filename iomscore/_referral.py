"""The referral schema: one person referred for IOM consideration, at an assessment date.

Three kinds of information are kept apart on purpose:

* what scorers may read (sanction history, custody periods, pathway needs, date of birth, and
  sex for the scorers that declare it);
* :class:`SeriousHarm`, which routes people (for example to MAPPA) and never feeds a
  reoffending score;
* :class:`ProtectedCharacteristics`, which only audits read.

Scorers never receive a :class:`Referral`: they receive feature arrays computed by
:mod:`iomscore.features`, which has no access to the last two.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ._taxonomy import offence_taxonomy

__all__ = [
    "CAUTION_DISPOSALS",
    "DISPOSALS",
    "NEED_LEVELS",
    "PATHWAYS",
    "CustodyPeriod",
    "PathwayNeeds",
    "ProtectedCharacteristics",
    "Referral",
    "Sanction",
    "SanctionSummary",
    "SeriousHarm",
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
DISPOSALS: Final[tuple[str, ...]] = Disposal.__args__  # type: ignore[attr-defined]
#: Out-of-court disposals; OGRS3 counts them as sanctions with their own sanction-term levels.
CAUTION_DISPOSALS: Final = frozenset({"caution", "conditional_caution", "youth_caution"})

NeedLevel = Literal["not_assessed", "no_need", "some_need", "significant_need"]
NEED_LEVELS: Final[tuple[str, ...]] = NeedLevel.__args__  # type: ignore[attr-defined]

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

_UNKNOWN_GROUP: Final = "unknown offence group {code!r}; see `iomscore.offence_taxonomy().codes`"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Sanction(_Frozen):
    """One proven offence and how it was disposed of.

    Several offences dealt with on one occasion (one court appearance or one caution) share an
    ``occasion_id``; where it is absent, offences with the same ``sanction_date`` count as one
    occasion.

    Examples
    --------
    >>> Sanction(offence_date="2024-01-03", sanction_date="2024-02-01",
    ...          offence_group="shop_theft", disposal="fine").offence_group
    'shop_theft'
    """

    offence_date: dt.date
    sanction_date: dt.date = Field(description="Date of the caution or conviction")
    offence_group: str = Field(description="Code from the offence taxonomy (OGRS3 group or finer category)")
    disposal: Disposal
    custody_days: int | None = Field(
        default=None, ge=0, description="Length of a custodial sentence in days (custody only)"
    )
    occasion_id: str | None = Field(
        default=None, description="Identifier shared by offences dealt with on the same occasion"
    )
    current: bool = Field(
        default=False,
        description="The index offence of this referral; by default the latest occasion is current",
    )

    @field_validator("offence_group")
    @classmethod
    def _known_group(cls, code: str) -> str:
        if code not in offence_taxonomy():
            raise ValueError(_UNKNOWN_GROUP.format(code=code))
        return code


class SanctionSummary(_Frozen):
    """A summary of the history, for when the full list of sanctions is not available.

    OGRS3 needs only these four facts; when a summary is present, OGRS3 reads it instead of
    counting the list.
    """

    previous_sanctions: int = Field(ge=0, description="Sanctioning occasions before the current one")
    first_sanction_date: dt.date
    current_conviction_date: dt.date
    current_offence_group: str
    caution_only: bool = Field(
        default=False, description="True when the current and every previous sanction was a caution"
    )

    @field_validator("current_offence_group")
    @classmethod
    def _known_group(cls, code: str) -> str:
        if code not in offence_taxonomy():
            raise ValueError(_UNKNOWN_GROUP.format(code=code))
        return code


class CustodyPeriod(_Frozen):
    """A period in custody (remand or sentence); ``end`` is ``None`` while still in custody."""

    start: dt.date
    end: dt.date | None = None


class PathwayNeeds(_Frozen):
    """Assessed need on each of the seven resettlement pathways."""

    accommodation: NeedLevel = "not_assessed"
    education_training_employment: NeedLevel = "not_assessed"
    health: NeedLevel = "not_assessed"
    drugs_alcohol: NeedLevel = "not_assessed"
    finance_benefit_debt: NeedLevel = "not_assessed"
    children_families: NeedLevel = "not_assessed"
    attitudes_thinking_behaviour: NeedLevel = "not_assessed"


class SeriousHarm(_Frozen):
    """Risk of serious harm and MAPPA status. Routes people; never raises a reoffending score."""

    rosh_level: Literal["low", "medium", "high", "very_high"] | None = None
    mappa_category: Literal[1, 2, 3] | None = None
    mappa_level: Literal[1, 2, 3] | None = None


class ProtectedCharacteristics(_Frozen):
    """Protected characteristics (Equality Act 2010), recorded for audits only.

    No scorer can read these: the feature engine never sees them.
    """

    ethnicity: str | None = None
    religion: str | None = None
    disability: str | None = None
    sexual_orientation: str | None = None
    gender_reassignment: str | None = None
    marriage_civil_partnership: str | None = None
    pregnancy_maternity: str | None = None


class Referral(_Frozen):
    """One person referred, as known at the assessment date.

    Examples
    --------
    >>> r = Referral(person_id="P001", assessment_date="2025-06-01", date_of_birth="1994-03-02",
    ...              sex="male", sanctions=[{"offence_date": "2025-03-01",
    ...              "sanction_date": "2025-04-01", "offence_group": "burglary_domestic",
    ...              "disposal": "community_order"}])
    >>> len(r.sanctions)
    1
    """

    person_id: str = Field(min_length=1, description="Pseudonymous identifier; never a name")
    assessment_date: dt.date
    date_of_birth: dt.date
    sex: Literal["male", "female"] | None = Field(
        default=None, description="Read only by scorers that declare it (OGRS3); always audited"
    )
    sanctions: tuple[Sanction, ...] = ()
    sanction_summary: SanctionSummary | None = None
    custody: tuple[CustodyPeriod, ...] = ()
    needs: PathwayNeeds = PathwayNeeds()
    serious_harm: SeriousHarm = SeriousHarm()
    protected: ProtectedCharacteristics = ProtectedCharacteristics()

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> Referral:
        context: Any = info.context
        if isinstance(context, dict) and context.get("skip_rules"):
            return self
        from ._rules import first_violation

        problem = first_violation(self)
        if problem is not None:
            field, message = problem
            raise ValueError(f"{field}: {message}")
        return self
