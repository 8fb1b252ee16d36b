"""Reader columns of the OASys v4 predictors: Home Office codes, summary fields, OASys answers.

Shared by the CSV and Parquet readers through :mod:`iomscore.io._tables`. They read the same
fields as :class:`~iomscore.SanctionSummary`, :attr:`~iomscore.Sanction.offence_code` and
:class:`~iomscore.OASysAssessment`, with the same limits, so a file and the typed API accept the
same referrals:

* summary columns ``violent_sanctions``, ``age_at_first_sanction`` (0-120),
  ``followup_start_date`` and ``current_offence_code``;
* sanction column ``offence_code`` (beside or instead of ``offence_group``);
* one column per OASys answer, named as its feature (``oasys_accommodation``,
  ``oasys_drug_heroin``, ``oasys_previous_arson`` ...). A row carries an assessment when any of
  them is filled; its drug and R1.2 columns left empty then count as no.

Home Office codes are resolved once per distinct value through
``offence_taxonomy().resolve_offence_code``: malformed and unknown codes reject the row naming
the code; removed and re-categorised codes are read (their category as the taxonomy gives it)
and logged once per code with the number of rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np

from .._arrays import factorize
from ..schema._batch import MISSING_DAY
from ..schema._taxonomy import OffenceCodeError, offence_taxonomy
from ..schema._vocabulary import (
    DRUG_MOTIVATIONS,
    OASYS_COLUMNS,
    OASYS_ITEMS,
    RELATIONSHIP_STATUSES,
)
from . import _columns as C
from ._common import BAD_AGE, BAD_BOOL, BAD_CHOICE, BAD_COUNT, BAD_DATE

__all__ = ["HoCodes", "ho_codes", "oasys_columns", "summary_v4_columns"]

logger = logging.getLogger("iomscore.io")

_CODE_WARNING: Final = "%s: %s (%d row(s))"
_MAX_AGE: Final = 120
_TRUE: Final = ("true", "1", "yes", "y", "t", "on", "True", "TRUE", "Yes", "YES", "Y", "T", "On", "ON")
_FALSE: Final = ("false", "0", "no", "n", "f", "off", "False", "FALSE", "No", "NO", "N", "F", "Off", "OFF")
_CHOICES: Final = {"problem": ("0", "1", "2"), "relationship": RELATIONSHIP_STATUSES,
                   "motivation": DRUG_MOTIVATIONS}

_AddRef = Callable[[np.ndarray, str, Callable[[int], str]], None]


class HoCodes:
    """A column of Home Office codes: ``code`` (int, -1 empty or bad), the taxonomy ``group``
    (-1 where none), ``empty``, ``bad`` and ``message(row)`` for a bad row."""

    def __init__(self, code: np.ndarray, group: np.ndarray, empty: np.ndarray, bad: np.ndarray,
                 messages: list[str | None], inverse: np.ndarray) -> None:
        self.code, self.group, self.empty, self.bad = code, group, empty, bad
        self._messages, self._inverse = messages, inverse

    def message(self, row: int) -> str:
        return str(self._messages[int(self._inverse[row])])


def ho_codes(col: Any, n: int, source: str) -> HoCodes:
    """Resolve a column of Home Office codes (``None``: no column), once per distinct value."""
    if col is None:
        z = np.full(n, -1, dtype=np.int32)
        return HoCodes(z, z.astype(np.int16), np.ones(n, bool), np.zeros(n, bool), [], np.zeros(n, np.int64))
    values = C.text_shared(col)
    inverse, uniques = factorize(values.tolist())
    inverse = np.asarray(inverse, dtype=np.int64)
    tax = offence_taxonomy()
    u_code = np.full(len(uniques), -1, dtype=np.int32)
    u_group = np.full(len(uniques), -1, dtype=np.int16)
    u_bad = np.zeros(len(uniques), dtype=bool)
    messages: list[str | None] = [None] * len(uniques)
    counts = np.bincount(inverse, minlength=len(uniques)) if inverse.size else np.zeros(0, np.int64)
    for k, value in enumerate(uniques):
        if not value:
            continue
        try:
            hit = tax.resolve_offence_code(str(value))
        except OffenceCodeError as exc:
            u_bad[k], messages[k] = True, str(exc)
            continue
        u_code[k], u_group[k] = int(hit.code), tax.index(hit.group)
        if hit.warning is not None:
            logger.warning(_CODE_WARNING, source, hit.warning, int(counts[k]))
    empty = C.empty(col)
    return HoCodes(u_code[inverse], u_group[inverse], empty, u_bad[inverse], messages, inverse)


def summary_v4_columns(referrals: Mapping[str, Any], n: int, add_ref: _AddRef, has: np.ndarray, source: str,
                       without_count: str) -> dict[str, np.ndarray]:
    """The summary fields of the OASys v4 predictors (``-1`` / MISSING_DAY where not given)."""
    out: dict[str, np.ndarray] = {}
    for name, key in (("violent_sanctions", "violent"), ("age_at_first_sanction", "age_first")):
        col = referrals.get(name)
        if col is None:
            out[key] = np.full(n, -1, dtype=np.int64)
            continue
        values, is_empty, bad = C.counts(col)
        add_ref(np.flatnonzero(bad), name, lambda i, col=col: BAD_COUNT.format(value=C.value_at(col, i)))  # type: ignore[misc]
        if name == "age_at_first_sanction":
            add_ref(np.flatnonzero(values > _MAX_AGE), name,
                    lambda i, col=col: BAD_AGE.format(value=C.value_at(col, i)))  # type: ignore[misc]
        add_ref(np.flatnonzero(~has & ~is_empty), name, lambda i: without_count)
        out[key] = np.where(has & (values >= 0), values, -1)
    col = referrals.get("followup_start_date")
    out["followup"] = np.full(n, MISSING_DAY, dtype=np.int32)
    if col is not None:
        days, is_empty, bad = C.dates(col)
        add_ref(np.flatnonzero(bad), "followup_start_date", lambda i: BAD_DATE.format(value=C.value_at(col, i)))
        add_ref(np.flatnonzero(~has & ~is_empty), "followup_start_date", lambda i: without_count)
        out["followup"] = np.where(has, days, MISSING_DAY).astype(np.int32)
    codes = ho_codes(referrals.get("current_offence_code"), n, source)
    add_ref(np.flatnonzero(codes.bad), "current_offence_code", codes.message)
    add_ref(np.flatnonzero(~has & ~codes.empty), "current_offence_code", lambda i: without_count)
    out["ho_code"] = np.where(has, codes.code, -1).astype(np.int32)
    out["ho_group"] = codes.group
    return out


def oasys_columns(referrals: Mapping[str, Any], n: int, add_ref: _AddRef) -> tuple[np.ndarray, np.ndarray]:
    """(answers int8 (n, len(OASYS_COLUMNS)), present bool) from the ``oasys_*`` columns."""
    answers = np.full((n, len(OASYS_COLUMNS)), -1, dtype=np.int8)
    present = np.zeros(n, dtype=bool)
    flags: list[int] = []
    for j, column in enumerate(OASYS_COLUMNS):
        name = f"oasys_{column}"
        col = referrals.get(name)
        kind = OASYS_ITEMS[column][2] if column in OASYS_ITEMS else "flag"
        if kind not in ("problem", "relationship", "motivation"):
            flags.append(j)
        if col is None:
            continue
        is_empty = C.empty(col)
        present |= ~is_empty
        if kind in _CHOICES:
            vocabulary = _CHOICES[kind]
            code = C.encode(col, vocabulary)
            choices = ", ".join(vocabulary)
            add_ref(np.flatnonzero((code < 0) & ~is_empty), name,
                    lambda i, col=col, choices=choices: BAD_CHOICE.format(value=C.value_at(col, i), choices=choices))  # type: ignore[misc]
        else:
            index = C.encode(col, _TRUE + _FALSE)
            add_ref(np.flatnonzero((index < 0) & ~is_empty), name,
                    lambda i, col=col: BAD_BOOL.format(value=C.value_at(col, i)))  # type: ignore[misc]
            code = np.where(index < 0, -1, (index < len(_TRUE)).astype(np.int32))
        answers[:, j] = code
    # Drugs and R1.2 offences not marked count as no on a referral with an assessment.
    for j in flags:
        if not OASYS_COLUMNS[j].startswith(("drug_", "previous_")) or OASYS_COLUMNS[j] == "drug_motivation":
            continue
        answers[:, j] = np.where(present & (answers[:, j] < 0), 0, answers[:, j])
    return answers, present


def v4_referral_text(table: Any) -> dict[str, np.ndarray]:
    """The v4 summary and OASys columns of ``table`` as text, for the referral writers.

    Empty (no columns) when no referral has a v4 summary field or an assessment, so tables
    without them are written exactly as before.
    """
    from ..schema._batch import MISSING_DAY as _MISSING

    b = table.batch
    has = b.summary_previous >= 0
    violent, age = b._col("summary_violent"), b._col("summary_age_first")
    follow, code = b._col("summary_followup_day"), b._col("summary_ho_code")
    answers, present = b._col("oasys"), b._col("oasys_present")
    if not ((violent >= 0) | (age >= 0) | (follow != _MISSING) | (code >= 0) | present).any():
        return {}
    out: dict[str, np.ndarray] = {
        "violent_sanctions": _int_text(np.where(has, violent, -1)),
        "age_at_first_sanction": _int_text(np.where(has, age, -1)),
        "followup_start_date": _date_text(np.where(has, follow, _MISSING)),
        "current_offence_code": _code_text(np.where(has, code, -1)),
    }
    for j, column in enumerate(OASYS_COLUMNS):
        kind = OASYS_ITEMS[column][2] if column in OASYS_ITEMS else "flag"
        labels = _CHOICES.get(kind, ("false", "true"))
        table_ = np.array(["", *labels], dtype=object)
        out[f"oasys_{column}"] = table_[np.clip(answers[:, j].astype(np.int64) + 1, 0, len(labels))]
    return out


def v4_referral_json(cols: Mapping[str, np.ndarray], i: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Row ``i`` of :func:`v4_referral_text`: (summary fields to add, the ``oasys`` object or None)."""
    if "violent_sanctions" not in cols:
        return {}, None
    summary: dict[str, Any] = {}
    for name in ("violent_sanctions", "age_at_first_sanction"):
        if cols[name][i]:
            summary[name] = int(cols[name][i])
    for name in ("followup_start_date", "current_offence_code"):
        if cols[name][i]:
            summary[name] = str(cols[name][i])
    values = {c: str(cols[f"oasys_{c}"][i]) for c in OASYS_COLUMNS}
    if not any(values.values()):
        return summary, None
    oasys: dict[str, Any] = {}
    for c, (_, _, kind) in OASYS_ITEMS.items():
        v = values[c]
        if v:
            oasys[c] = int(v) if kind == "problem" else (v == "true") if kind == "yes_no" else v
    oasys["drugs_misused"] = [c[5:] for c in OASYS_COLUMNS if c.startswith("drug_") and c not in OASYS_ITEMS
                              and values[c] == "true"]
    oasys["previous_offences"] = [c[9:] for c in OASYS_COLUMNS if c.startswith("previous_") and values[c] == "true"]
    return summary, oasys


def v4_sanction_text(table: Any, order: np.ndarray) -> dict[str, np.ndarray]:
    """The sanctions' ``offence_code`` column as text (none when no sanction has a code)."""
    code = table.batch._col("ho_code")[order]
    return {"offence_code": _code_text(code)} if (code >= 0).any() else {}


def _int_text(values: np.ndarray) -> np.ndarray:
    return np.array(["" if v < 0 else str(v) for v in values.tolist()], dtype=object)


def _code_text(values: np.ndarray) -> np.ndarray:
    return np.array(["" if v < 0 else f"{v:05d}" for v in values.tolist()], dtype=object)


def _date_text(days: np.ndarray) -> np.ndarray:
    from ..schema._batch import day_to_date

    uniques, inverse = np.unique(np.asarray(days, dtype=np.int64), return_inverse=True)
    text = np.array([("" if (d := day_to_date(int(u))) is None else d.isoformat()) for u in uniques.tolist()],
                    dtype=object)
    return text[inverse.reshape(-1)] if days.size else np.zeros(0, dtype=object)
