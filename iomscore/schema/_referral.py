"""The referral schema: one person referred for IOM consideration, at an assessment date.

Three kinds of information are kept apart on purpose:

* what scorers may read (sanction history, custody periods, pathway needs, date of birth, and
  sex for the scorers that declare it);
* the referral facts for eligibility and planning (:class:`Supervision`, ``release_date``,
  ``agreed_to_engage``), read by policies and only by scorers that declare their features
  (no shipped reoffending scorer does);
* :class:`SeriousHarm`, which routes people (for example to MAPPA) and never feeds a
  reoffending score;
* :class:`ProtectedCharacteristics`, which only audits read.

Scorers never receive a :class:`Referral`: they receive feature arrays computed by
:mod:`iomscore.features`, which has no access to the last two.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import weakref
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ._batch import (
    MISSING_DAY,
    OCCASION_ID_BASE,
    ONGOING_DAY,
    ReferralBatch,
    SeriousHarmColumns,
    date_to_day,
)
from ._rules import check_batch
from ._taxonomy import OffenceCodeError, OffenceTaxonomy, offence_taxonomy
from ._vocabulary import (
    DISPOSAL_CODES,
    DRUG_MOTIVATIONS,
    NEED_CODES,
    OASYS_COLUMNS,
    OASYS_DRUGS,
    OASYS_ITEMS,
    OASYS_PREVIOUS_OFFENCES,
    PATHWAYS,
    PROTECTED_FIELDS,
    RELATIONSHIP_STATUSES,
    ROSH_LEVELS,
    SEX_CODES,
    SUPERVISION_STATUSES,
    Disposal,
    DrugMotivation,
    MappaCategory,
    MappaLevel,
    NeedLevel,
    OASysDrug,
    OASysPreviousOffence,
    ProblemScore,
    RelationshipStatus,
    RoshLevel,
    Sex,
    SupervisionStatus,
)

__all__ = [
    "CustodyPeriod",
    "OASysAssessment",
    "PathwayNeeds",
    "ProtectedCharacteristics",
    "Referral",
    "Sanction",
    "SanctionSummary",
    "SeriousHarm",
    "Supervision",
    "referral_columns",
]

_UNKNOWN_GROUP: Final = "unknown offence group {code!r}; see `iomscore.offence_taxonomy().codes`"
#: Largest count or number of days a referral may hold (nine digits, as the CSV reader reads).
MAX_COUNT: Final = 999_999_999
_NO_GROUP: Final = "give offence_group, offence_code (a Home Office code), or both"
_NO_CURRENT_GROUP: Final = "give current_offence_group, current_offence_code (a Home Office code), or both"
_NO_FIRST: Final = "give first_sanction_date, age_at_first_sanction, or both"
#: Largest sanction count the OASys v4 predictors accept (the MoJ service's 1-999).
MAX_SANCTIONS: Final = 999


def _check_ho_code(code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return offence_taxonomy().resolve_offence_code(code).code
    except OffenceCodeError as exc:
        raise ValueError(str(exc)) from None


def ho_code_number(code: str | None) -> int:
    """The array form of a Home Office code: its five digits as an integer, -1 for none."""
    return -1 if code is None else int(code)


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
    offence_group: str = Field(
        default=None,  # type: ignore[assignment]  # filled from offence_code by the validator
        description="Code from the offence taxonomy (OGRS3 group or finer category); taken from "
        "offence_code's actuarial category when not given",
    )
    disposal: Disposal
    custody_days: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="Length of a custodial sentence in days (custody only)"
    )
    occasion_id: str | None = Field(
        default=None, description="Identifier shared by offences dealt with on the same occasion"
    )
    current: bool = Field(
        default=False,
        description="The index offence of this referral; by default the latest occasion is current",
    )
    offence_code: str | None = Field(
        default=None,
        description="Home Office offence code (five digits), resolved by `iomscore.offence_taxonomy()`",
    )

    @field_validator("offence_group")
    @classmethod
    def _known_group(cls, code: str | None) -> str | None:
        if code is not None and code not in offence_taxonomy():
            raise ValueError(_UNKNOWN_GROUP.format(code=code))
        return code

    @field_validator("offence_code")
    @classmethod
    def _known_code(cls, code: str | None) -> str | None:
        return _check_ho_code(code)

    @model_validator(mode="after")
    def _group_from_code(self) -> Sanction:
        if self.offence_group is None:
            if self.offence_code is None:
                raise ValueError(_NO_GROUP)
            group = offence_taxonomy().resolve_offence_code(self.offence_code).group
            object.__setattr__(self, "offence_group", group)
        return self


class SanctionSummary(_Frozen):
    """A summary of the history, for when the full list of sanctions is not available.

    OGRS3 needs only four facts (previous sanctions, the first sanction date or the age then,
    the current conviction date and offence); when a summary is present, scorers read it instead
    of counting the list. The OASys v4 predictors (``ogrs4g``, ``ogrs4v``, ``snsv``) also read
    the violent sanctions, the start of follow-up and the current offence as a Home Office code.

    Examples
    --------
    >>> s = SanctionSummary(previous_sanctions=2, age_at_first_sanction=17,
    ...     current_conviction_date="2024-05-01", current_offence_code="10400",
    ...     violent_sanctions=1, followup_start_date="2024-06-01")
    >>> s.current_offence_group
    'common_assault'
    """

    previous_sanctions: int = Field(ge=0, le=MAX_COUNT, description="Sanctioning occasions before the current one")
    first_sanction_date: dt.date | None = Field(
        default=None, description="Date of the first sanction (or give age_at_first_sanction)"
    )
    current_conviction_date: dt.date
    current_offence_group: str = Field(
        default=None,  # type: ignore[assignment]  # filled from current_offence_code by the validator
        description="Offence-taxonomy code of the current offence; from current_offence_code when not given",
    )
    caution_only: bool = Field(
        default=False, description="True when the current and every previous sanction was a caution"
    )
    violent_sanctions: int | None = Field(
        default=None, ge=0, description="Sanctioning occasions for violence, the current one included (OASys 1.34)"
    )
    age_at_first_sanction: int | None = Field(
        default=None, ge=0, le=120, description="Age in whole years at the first sanction (OASys 1.8)"
    )
    followup_start_date: dt.date | None = Field(
        default=None,
        description="Start of the community sentence or earliest possible release (OASys 1.38); "
        "the current conviction date when not given",
    )
    current_offence_code: str | None = Field(
        default=None, description="Home Office offence code of the current offence (five digits)"
    )

    @field_validator("current_offence_group")
    @classmethod
    def _known_group(cls, code: str | None) -> str | None:
        if code is not None and code not in offence_taxonomy():
            raise ValueError(_UNKNOWN_GROUP.format(code=code))
        return code

    @field_validator("current_offence_code")
    @classmethod
    def _known_code(cls, code: str | None) -> str | None:
        return _check_ho_code(code)

    @model_validator(mode="after")
    def _complete(self) -> SanctionSummary:
        if self.first_sanction_date is None and self.age_at_first_sanction is None:
            raise ValueError(_NO_FIRST)
        if self.current_offence_group is None:
            if self.current_offence_code is None:
                raise ValueError(_NO_CURRENT_GROUP)
            group = offence_taxonomy().resolve_offence_code(self.current_offence_code).group
            object.__setattr__(self, "current_offence_group", group)
        return self


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


class Supervision(_Frozen):
    """Statutory supervision by the Probation Service at the assessment date.

    ``status`` is one of :data:`~iomscore.schema._vocabulary.SUPERVISION_STATUSES` (``none``: no
    statutory supervision, as after a short sentence served in full or a fine; such a person
    takes part in IOM only by agreeing to engage), or ``None`` when not recorded. The dates
    belong to a statutory status: licence from release to the licence end, post-sentence
    supervision to its end, a community order or suspended sentence order from the sentence to
    the end of its supervision period.

    Examples
    --------
    >>> Supervision(status="licence", start_date="2025-03-01", end_date="2025-09-01").end_date
    datetime.date(2025, 9, 1)
    """

    status: SupervisionStatus | None = Field(
        default=None, description="licence, post_sentence_supervision, community_order, "
        "suspended_sentence_order or none (non-statutory); not recorded when absent"
    )
    start_date: dt.date | None = Field(
        default=None, description="Start of the supervision (release on licence, or the sentence date)"
    )
    end_date: dt.date | None = Field(
        default=None, description="End of the supervision (licence, post-sentence supervision or order end)"
    )


class OASysAssessment(_Frozen):
    """Answers of an OASys assessment that the dynamic OASys v4 predictors read.

    These are OASys questions (sections 2 to 12, the drugs ever misused and the R1.2 previous
    offences), not the seven resettlement pathway needs. ``ogp2``, ``ovp2`` and
    ``snsv-dynamic`` read them; a referral without an assessment, or without an answer a
    predictor needs, is scored by the static predictor instead, with a warning saying so.
    Problem scores are 0 (no problems), 1 (some) or 2 (significant); ``None`` is not answered.
    Drugs not listed in ``drugs_misused`` and offences not listed in ``previous_offences`` count
    as no (as the MoJ service reads them); an unanswered 8.8 counts as 0 (full motivation).

    Examples
    --------
    >>> a = OASysAssessment(accommodation=1, unemployed=True, relationship_status="no_relationship",
    ...                     drugs_misused=["cannabis", "heroin", "cannabis"])
    >>> a.drugs_misused
    ('heroin', 'cannabis')
    """

    weapon: bool | None = Field(default=None, description="2.2: the current offence involved carrying or using a weapon")
    accommodation: ProblemScore | None = Field(default=None, description="3.4: suitability of accommodation (0-2)")
    unemployed: bool | None = Field(default=None, description="4.2: unemployed, or will be on release")
    partner_relationship: ProblemScore | None = Field(
        default=None, description="6.4: current relationship with partner (0-2)"
    )
    domestic_abuse: bool | None = Field(default=None, description="6.7: evidence of domestic abuse (perpetrator)")
    relationship_status: RelationshipStatus | None = Field(
        default=None, description="6.8: living_together, not_living_together or no_relationship"
    )
    regular_activities: ProblemScore | None = Field(
        default=None, description="7.2: regular activities encourage offending (0-2)"
    )
    drug_motivation: DrugMotivation | None = Field(
        default=None, description="8.8: motivation to tackle drug misuse (full, partial, none)"
    )
    alcohol_current: ProblemScore | None = Field(default=None, description="9.1: current use of alcohol (0-2)")
    alcohol_binge: ProblemScore | None = Field(default=None, description="9.2: binge drinking (0-2)")
    impulsivity: ProblemScore | None = Field(default=None, description="11.2: impulsivity (0-2)")
    temper: ProblemScore | None = Field(default=None, description="11.4: temper control (0-2)")
    procriminal_attitudes: ProblemScore | None = Field(
        default=None, description="12.1: pro-criminal attitudes (0-2)"
    )
    drugs_misused: tuple[OASysDrug, ...] = Field(default=(), description="Drugs ever misused (section 8)")
    previous_offences: tuple[OASysPreviousOffence, ...] = Field(
        default=(), description="R1.2 previous offences (serious violence, weapons, arson ...)"
    )

    @field_validator("drugs_misused", "previous_offences")
    @classmethod
    def _canonical(cls, values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        order = OASYS_DRUGS if info.field_name == "drugs_misused" else OASYS_PREVIOUS_OFFENCES
        present = set(values)
        return tuple(v for v in order if v in present)


def oasys_codes(a: OASysAssessment | None) -> list[int]:
    """The array form of an assessment: one code per ``OASYS_COLUMNS`` entry (-1 not answered)."""
    if a is None:
        return [-1] * len(OASYS_COLUMNS)
    out: list[int] = []
    for name, (_, _, kind) in OASYS_ITEMS.items():
        value = getattr(a, name)
        if value is None:
            out.append(-1)
        elif kind == "relationship":
            out.append(RELATIONSHIP_STATUSES.index(value))
        elif kind == "motivation":
            out.append(DRUG_MOTIVATIONS.index(value))
        else:
            out.append(int(value))
    drugs, previous = set(a.drugs_misused), set(a.previous_offences)
    out += [int(d in drugs) for d in OASYS_DRUGS]
    out += [int(o in previous) for o in OASYS_PREVIOUS_OFFENCES]
    return out


class SeriousHarm(_Frozen):
    """Risk of serious harm and MAPPA status. Routes people; never raises a reoffending score."""

    rosh_level: RoshLevel | None = None
    mappa_category: MappaCategory | None = None
    mappa_level: MappaLevel | None = None


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
    sex: Sex | None = Field(
        default=None, description="Read only by scorers that declare it (OGRS3); always audited"
    )
    sanctions: tuple[Sanction, ...] = ()
    sanction_summary: SanctionSummary | None = None
    custody: tuple[CustodyPeriod, ...] = ()
    needs: PathwayNeeds = PathwayNeeds()
    supervision: Supervision = Supervision()
    release_date: dt.date | None = Field(
        default=None,
        description="Expected or actual release date from the custody for the current offence (people in custody "
        "or recently released)",
    )
    agreed_to_engage: bool | None = Field(
        default=None,
        description="Whether the person has agreed to engage with IOM (what makes a non-statutory case possible); "
        "not recorded when absent",
    )
    oasys: OASysAssessment | None = Field(
        default=None, description="OASys assessment answers (read by the dynamic OASys v4 predictors)"
    )
    serious_harm: SeriousHarm = SeriousHarm()
    protected: ProtectedCharacteristics = ProtectedCharacteristics()

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> Referral:
        context: Any = info.context
        if isinstance(context, dict) and context.get("skip_rules"):
            return self
        batch = _batch_columns([self])
        v = check_batch(batch, every=True)
        if not v.mask[0]:
            _remember_batch(self, batch)
        if v.mask[0]:  # every rule broken, one "field: message" a line (problems_of splits them)
            raise ValueError("\n".join(f"{f}: {m}" for f, m in (v.every or {}).get(0, [(v.field[0], v.message[0])])))
        return self


#: The batch form of the last few referrals validated one by one, kept from their validation
#: (which converts each referral to check the cross-field rules) so that scoring one of them
#: alone does not convert it again: a service validates a request's referral and scores it
#: straight away. Bounded; an entry serves only the very object it was made from (referrals
#: are frozen), held by a weak reference.
_RECENT_BATCHES: dict[int, tuple[weakref.ref[Referral], ReferralBatch]] = {}
_RECENT_LIMIT: Final = 64
_recent_lock: Final = threading.Lock()


#: When the cache is full, this many of its oldest entries are looked at for one whose
#: referral is gone (dropped first, so referrals validated and discarded, as a service's
#: requests are, do not push out one still held); if all are alive the oldest goes.
_RECENT_SCAN: Final = 8


def _remember_batch(referral: Referral, batch: ReferralBatch) -> None:
    with _recent_lock:
        _RECENT_BATCHES.pop(id(referral), None)
        _RECENT_BATCHES[id(referral)] = (weakref.ref(referral), batch)
        while len(_RECENT_BATCHES) > _RECENT_LIMIT:
            oldest = list(itertools.islice(_RECENT_BATCHES.items(), _RECENT_SCAN))
            gone = [key for key, (ref, _) in oldest if ref() is None]
            del _RECENT_BATCHES[gone[0] if gone else oldest[0][0]]


def referral_batch(referrals: Sequence[Referral]) -> ReferralBatch:
    """The :class:`ReferralBatch` of validated referrals (without the serious-harm and protected
    columns a score does not read); for one referral just validated, the batch its validation made.
    """
    if len(referrals) == 1:
        r = referrals[0]
        entry = _RECENT_BATCHES.get(id(r))
        if entry is not None and entry[0]() is r:
            return entry[1]
    return _batch_columns(list(referrals))


def referral_columns(
    referrals: Sequence[Referral],
) -> tuple[ReferralBatch, SeriousHarmColumns, dict[str, np.ndarray]]:
    """The array form of validated referrals: the batch, serious-harm and protected columns.

    One conversion serves :meth:`iomscore.ReferralTable.from_referrals` and the cross-field
    rules of a single :class:`Referral`, so both read a referral the same way.
    """
    refs = list(referrals)
    batch = _batch_columns(refs)
    harm = SeriousHarmColumns(
        rosh_level=np.array(
            [-1 if r.serious_harm.rosh_level is None else ROSH_LEVELS.index(r.serious_harm.rosh_level) for r in refs],
            dtype=np.int8,
        ),
        mappa_category=np.array([r.serious_harm.mappa_category or -1 for r in refs], dtype=np.int8),
        mappa_level=np.array([r.serious_harm.mappa_level or -1 for r in refs], dtype=np.int8),
    )
    protected = {
        f: np.array([getattr(r.protected, f) for r in refs], dtype=object) for f in PROTECTED_FIELDS
    }
    protected["sex"] = np.array([r.sex for r in refs], dtype=object)
    return batch, harm, protected


#: The per-referral numbers of :func:`_batch_columns`, in the order :func:`_scalars` gives them.
_SCALAR_FIELDS: Final = (
    "assessment_day", "birth_day", "sex", "summary_previous", "summary_first_day", "summary_conviction_day",
    "summary_group", "summary_caution_only", "summary_violent", "summary_age_first", "summary_followup_day",
    "summary_ho_code", "supervision_status", "supervision_start_day", "supervision_end_day", "release_day",
    "agreed_to_engage",
)


def _scalars(r: Referral, tax: OffenceTaxonomy) -> tuple[int, ...]:
    """A referral's numbers in :data:`_SCALAR_FIELDS` order (-1 or MISSING_DAY where not given)."""
    sup = r.supervision
    head = (
        date_to_day(r.assessment_date), date_to_day(r.date_of_birth), SEX_CODES[r.sex],
    )
    tail = (
        -1 if sup.status is None else SUPERVISION_STATUSES.index(sup.status),
        date_to_day(sup.start_date), date_to_day(sup.end_date), date_to_day(r.release_date),
        -1 if r.agreed_to_engage is None else int(r.agreed_to_engage),
    )
    s = r.sanction_summary
    if s is None:
        return (*head, -1, _MISSING, _MISSING, -1, 0, -1, -1, _MISSING, -1, *tail)
    return (
        *head,
        s.previous_sanctions, date_to_day(s.first_sanction_date), date_to_day(s.current_conviction_date),
        tax.index(s.current_offence_group), int(s.caution_only),
        -1 if s.violent_sanctions is None else s.violent_sanctions,
        -1 if s.age_at_first_sanction is None else s.age_at_first_sanction,
        date_to_day(s.followup_start_date), ho_code_number(s.current_offence_code),
        *tail,
    )


_MISSING: Final = int(MISSING_DAY)


def _batch_columns(refs: list[Referral]) -> ReferralBatch:
    n = len(refs)
    tax = offence_taxonomy()
    # Flat generators, not a list per referral: a container per referral would wake the cyclic
    # garbage collector over and over while many referrals are alive (superlinear in the list).
    need_codes = np.fromiter(
        (NEED_CODES[getattr(r.needs, p)] for r in refs for p in PATHWAYS), dtype=np.int8, count=n * len(PATHWAYS)
    ).reshape(n, len(PATHWAYS))
    oasys = np.full((n, len(OASYS_COLUMNS)), -1, dtype=np.int8)
    for i, r in enumerate(refs):
        if r.oasys is not None:
            oasys[i] = oasys_codes(r.oasys)
    s_person: list[int] = []
    s_pos: list[int] = []
    off: list[int] = []
    sanc: list[int] = []
    grp: list[int] = []
    disp: list[int] = []
    cdays: list[int] = []
    occ: list[int] = []
    cur: list[bool] = []
    hocode: list[int] = []
    labels: dict[str, int] = {}
    c_person: list[int] = []
    c_start: list[int] = []
    c_end: list[int] = []
    for i, r in enumerate(refs):
        for j, s in enumerate(r.sanctions):
            s_person.append(i)
            s_pos.append(j)
            off.append(date_to_day(s.offence_date))
            sday = date_to_day(s.sanction_date)
            sanc.append(sday)
            grp.append(tax.index(s.offence_group))
            disp.append(DISPOSAL_CODES[s.disposal])
            cdays.append(-1 if s.custody_days is None else s.custody_days)
            if s.occasion_id is None:
                occ.append(sday)
            else:
                occ.append(int(OCCASION_ID_BASE) + labels.setdefault(s.occasion_id, len(labels)))
            cur.append(s.current)
            hocode.append(ho_code_number(s.offence_code))
        for c in r.custody:
            c_person.append(i)
            c_start.append(date_to_day(c.start))
            c_end.append(int(ONGOING_DAY) if c.end is None else date_to_day(c.end))
    # Occasion codes follow the sorted labels, so ties between same-day occasions are
    # broken the same way whatever the listing or batch order.
    rank = {label: i for i, label in enumerate(sorted(labels))}
    remap = {int(OCCASION_ID_BASE) + v: int(OCCASION_ID_BASE) + rank[k] for k, v in labels.items()}
    occ = [remap.get(o, o) for o in occ]
    labels = rank
    # Every per-referral number from one flat generator (one array, a column per field, in
    # _SCALAR_FIELDS order) rather than a list and an array per field.
    scalars = np.fromiter(
        (v for r in refs for v in _scalars(r, tax)), dtype=np.int64, count=n * len(_SCALAR_FIELDS)
    ).reshape(n, len(_SCALAR_FIELDS))
    col = dict(zip(_SCALAR_FIELDS, scalars.T))
    return ReferralBatch.from_arrays(
        person_id=np.array([r.person_id for r in refs], dtype=object),
        assessment_day=col["assessment_day"].astype(np.int32),
        birth_day=col["birth_day"].astype(np.int32),
        sex=col["sex"].astype(np.int8),
        needs=need_codes,
        sanction_person=np.array(s_person, dtype=np.int64),
        offence_day=np.array(off, dtype=np.int32),
        sanction_day=np.array(sanc, dtype=np.int32),
        group=np.array(grp, dtype=np.int16),
        disposal=np.array(disp, dtype=np.int8),
        custody_days=np.array(cdays, dtype=np.int32),
        occasion=np.array(occ, dtype=np.int64),
        current=np.array(cur, dtype=bool),
        sanction_position=np.array(s_pos, dtype=np.int32),
        custody_person=np.array(c_person, dtype=np.int64),
        custody_start=np.array(c_start, dtype=np.int32),
        custody_end=np.array(c_end, dtype=np.int32),
        summary_previous=col["summary_previous"],
        summary_first_day=col["summary_first_day"],
        summary_conviction_day=col["summary_conviction_day"],
        summary_group=col["summary_group"],
        summary_caution_only=col["summary_caution_only"].astype(bool),
        summary_violent=col["summary_violent"],
        summary_age_first=col["summary_age_first"],
        summary_followup_day=col["summary_followup_day"],
        summary_ho_code=col["summary_ho_code"],
        ho_code=np.array(hocode, dtype=np.int32),
        supervision_status=col["supervision_status"].astype(np.int8),
        supervision_start_day=col["supervision_start_day"].astype(np.int32),
        supervision_end_day=col["supervision_end_day"].astype(np.int32),
        release_day=col["release_day"].astype(np.int32),
        agreed_to_engage=col["agreed_to_engage"].astype(np.int8),
        occasion_labels={int(OCCASION_ID_BASE) + v: k for k, v in labels.items()},
        oasys=oasys,
        oasys_present=np.array([r.oasys is not None for r in refs], dtype=bool),
    )


