"""Shared pieces of the readers: column names, field paths, rejects and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from ..schema._table import ReferralTable
from ..schema._vocabulary import OASYS_COLUMNS, PATHWAYS, PROTECTED_FIELDS

__all__ = [
    "CUSTODY_COLUMNS",
    "REFERRAL_COLUMNS",
    "REQUIRED_CUSTODY",
    "REQUIRED_REFERRAL",
    "REQUIRED_SANCTION",
    "SANCTION_COLUMNS",
    "ReadCounts",
    "ReadResult",
    "Reject",
    "referral_field_path",
]

#: referrals.csv columns; only the first three are required.
REQUIRED_REFERRAL: Final = ("person_id", "assessment_date", "date_of_birth")
NEED_COLUMNS: Final = tuple(f"need_{p}" for p in PATHWAYS)
HARM_COLUMNS: Final = ("rosh_level", "mappa_category", "mappa_level")
SUMMARY_COLUMNS: Final = (
    "previous_sanctions",
    "first_sanction_date",
    "current_conviction_date",
    "current_offence_group",
    "caution_only",
)
#: Summary columns the OASys v4 predictors read (optional; written only when a table has them).
V4_SUMMARY_COLUMNS: Final = (
    "violent_sanctions",
    "age_at_first_sanction",
    "followup_start_date",
    "current_offence_code",
)
#: The OASys assessment answers (:class:`~iomscore.OASysAssessment`), one column each, named as
#: the features: ``oasys_accommodation`` ..., ``oasys_drug_<name>``, ``oasys_previous_<name>``.
OASYS_CSV_COLUMNS: Final = tuple(f"oasys_{c}" for c in OASYS_COLUMNS)
#: The referral facts for eligibility and planning (supervision, release, agreement to engage).
FACT_COLUMNS: Final = (
    "supervision_status",
    "supervision_start_date",
    "supervision_end_date",
    "release_date",
    "agreed_to_engage",
)
REFERRAL_COLUMNS: Final = (
    *REQUIRED_REFERRAL,
    "sex",
    *NEED_COLUMNS,
    *HARM_COLUMNS,
    *PROTECTED_FIELDS,
    *SUMMARY_COLUMNS,
    *FACT_COLUMNS,
    *V4_SUMMARY_COLUMNS,
    *OASYS_CSV_COLUMNS,
)
#: sanctions.csv columns; the first five are required.
REQUIRED_SANCTION: Final = ("person_id", "offence_date", "sanction_date", "offence_group", "disposal")
#: ``offence_group`` may be left out (column or value) where ``offence_code`` gives a Home Office code.
SANCTION_COLUMNS: Final = (*REQUIRED_SANCTION, "custody_days", "occasion_id", "current", "offence_code")
#: custody.csv columns: one row per custody period; an empty ``end`` means still in custody.
REQUIRED_CUSTODY: Final = ("person_id", "start")
CUSTODY_COLUMNS: Final = ("person_id", "start", "end")

#: The columns of each table read as ``YYYY-MM-DD`` dates: referrals, sanctions, custody.
DATE_COLUMNS: Final = (
    frozenset({"assessment_date", "date_of_birth", "first_sanction_date", "current_conviction_date",
               "supervision_start_date", "supervision_end_date", "release_date", "followup_start_date"}),
    frozenset({"offence_date", "sanction_date"}),
    frozenset({"start", "end"}),
)

#: Messages (module constants so tests and users can match them).
MISSING_VALUE: Final = "missing value (required)"
BAD_DATE: Final = "invalid date {value!r}: expected YYYY-MM-DD"
BAD_COUNT: Final = "invalid value {value!r}: expected a whole number of 0 or more"
BAD_CHOICE: Final = "invalid value {value!r}: expected one of {choices}"
BAD_BOOL: Final = "invalid value {value!r}: expected true or false"
UNKNOWN_GROUP: Final = "unknown offence group {value!r}; see `iomscore.offence_taxonomy().codes`"
DUPLICATE_PERSON: Final = "person_id {person!r} appears on {count} referral rows ({rows}); all are rejected"
ORPHAN_SANCTION: Final = "no referral row has person_id {person!r}"
ORPHAN_CUSTODY: Final = "no referral row has person_id {person!r}"
SUMMARY_INCOMPLETE: Final = "required when previous_sanctions is given"
#: first_sanction_date is not needed when age_at_first_sanction is given, nor
#: current_offence_group when current_offence_code is (as in :class:`~iomscore.SanctionSummary`).
SUMMARY_ALTERNATIVE: Final = {"first_sanction_date": "age_at_first_sanction",
                              "current_offence_group": "current_offence_code"}
BAD_AGE: Final = "invalid value {value!r}: expected a whole number of years from 0 to 120"
SUMMARY_WITHOUT_COUNT: Final = "given without previous_sanctions (the summary needs all four facts)"
MALFORMED_ROW: Final = "malformed CSV row: {found} fields where the header has {expected}"
MALFORMED_HISTORY: Final = "a row of this person's history is malformed ({source} row {row})"
NOT_SCORED: Final = "not scored by {scorer}: {reason}"


def referral_field_path(column: str) -> str:
    """Field path (as in :class:`~iomscore.Referral`) of a referrals.csv column.

    Examples
    --------
    >>> referral_field_path("need_accommodation")
    'needs.accommodation'
    >>> referral_field_path("rosh_level")
    'serious_harm.rosh_level'
    >>> referral_field_path("oasys_accommodation"), referral_field_path("oasys_drug_spice")
    ('oasys.accommodation', 'oasys.drugs_misused')
    >>> referral_field_path("supervision_end_date")
    'supervision.end_date'
    """
    if column.startswith("need_"):
        return f"needs.{column[5:]}"
    if column in HARM_COLUMNS:
        return f"serious_harm.{column}"
    if column in PROTECTED_FIELDS:
        return f"protected.{column}"
    if column == "current_offence_group" or column in SUMMARY_COLUMNS or column in V4_SUMMARY_COLUMNS:
        return f"sanction_summary.{column}"
    if column.startswith("oasys_drug_") and column != "oasys_drug_motivation":
        return "oasys.drugs_misused"
    if column.startswith("oasys_previous_"):
        return "oasys.previous_offences"
    if column.startswith("oasys_"):
        return f"oasys.{column[6:]}"
    if column.startswith("supervision_"):
        return f"supervision.{column[12:]}"
    return column


@dataclass(frozen=True)
class Reject:
    """One input record that was not scored, and why.

    Attributes
    ----------
    source : str
        File holding the offending row (referrals, sanctions or custody file).
    row : int
        Row of ``source``: for CSV the spreadsheet row (the header is row 1, the first record
        row 2); for JSON Lines the 1-based line number.
    person_id : str
        The person concerned (may be empty when the row had none).
    field : str
        Field path as in :class:`~iomscore.Referral`, e.g. ``sanctions[2].offence_date``.
    reason : str
        Plain-English reason.
    referral_row : int or None
        Row of the referral in the referrals file (``None`` for orphan sanction or custody rows).
    """

    source: str
    row: int
    person_id: str
    field: str
    reason: str
    referral_row: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "referral_row": self.referral_row,
            "source": self.source,
            "row": self.row,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass
class ReadCounts:
    """What a reader saw. ``referral_rows == valid + rejected`` always holds.

    Sanction and custody rows either belong to a referral row (scored or rejected with it)
    or are orphans, each written to the rejects.
    """

    referral_rows: int = 0
    sanction_rows: int = 0
    custody_rows: int = 0
    valid: int = 0
    rejected: int = 0
    orphan_sanction_rows: int = 0
    orphan_custody_rows: int = 0
    malformed_rows: int = 0

    def check(self) -> None:
        if self.referral_rows != self.valid + self.rejected:
            raise AssertionError(f"counts do not add up: {self}")


@dataclass
class ReadResult:
    """Valid referrals as a :class:`~iomscore.ReferralTable`, plus every rejected row.

    ``table`` holds the valid referrals in input order; ``rows[i]`` is the row (line) of
    referral ``i`` of the table in ``source``. ``person_id_arrow``, when the reader had the
    ids as Arrow text, is ``table.person_id`` as an Arrow string array: the writers take it as
    it is rather than turning a million ``str`` objects back into Arrow.
    """

    table: ReferralTable
    rows: np.ndarray
    rejects: list[Reject] = field(default_factory=list)
    counts: ReadCounts = field(default_factory=ReadCounts)
    source: str = ""
    person_id_arrow: Any = None
