"""From parsed text columns of the two (or three) tables to a validated ReferralTable.

Shared by the CSV and Parquet readers. Every referral row ends up either in the table or in
the rejects with the first problem found, in a fixed order: the referral row's own fields,
then its sanctions (lowest position first), then its custody periods, then the cross-field
rules of :func:`iomscore._rules.check_batch`.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np

from .._arrays import factorize
from .._errors import IomscoreError
from ..schema._batch import (
    MISSING_DAY,
    OCCASION_ID_BASE,
    ONGOING_DAY,
    ReferralBatch,
    SeriousHarmColumns,
    _positions_within,
)
from ..schema._rules import check_batch
from ..schema._table import LazyColumns, ReferralTable
from ..schema._taxonomy import offence_taxonomy
from ..schema._vocabulary import (
    DISPOSALS,
    NEED_LEVELS,
    PATHWAYS,
    PROTECTED_FIELDS,
    ROSH_LEVELS,
    SUPERVISION_STATUSES,
)
from . import _arrow as A
from . import _columns as C
from ._common import (
    BAD_BOOL,
    BAD_CHOICE,
    BAD_COUNT,
    BAD_DATE,
    DUPLICATE_PERSON,
    MALFORMED_HISTORY,
    MISSING_VALUE,
    NEED_COLUMNS,
    ORPHAN_CUSTODY,
    ORPHAN_SANCTION,
    SUMMARY_ALTERNATIVE,
    SUMMARY_INCOMPLETE,
    SUMMARY_WITHOUT_COUNT,
    UNKNOWN_GROUP,
    ReadCounts,
    ReadResult,
    Reject,
    referral_field_path,
)
from ._v4columns import ho_codes, oasys_columns, summary_v4_columns

__all__ = ["MissingColumnsError", "build_table"]

logger = logging.getLogger("iomscore.io")

_MISSING_COLUMNS: Final = "{source}: required column(s) missing: {columns}"
_COLUMN_HINT: Final = " (the header has {found!r}: did you mean {wanted!r}?)"
_TRUE: Final = ("true", "1", "yes", "y", "t", "on", "True", "TRUE", "Yes", "YES", "Y", "T", "On", "ON")
_FALSE: Final = ("false", "0", "no", "n", "f", "off", "False", "FALSE", "No", "NO", "N", "F", "Off", "OFF")
_SANCTION_PATH: Final = re.compile(r"sanctions\[(\d+)\]\.")
_CUSTODY_PATH: Final = re.compile(r"custody\[(\d+)\]\.")


class MissingColumnsError(IomscoreError, ValueError):
    """A table lacks a required column: the whole file is unusable."""


class _Errors:
    """First problem per row: mask, field path, message, source file and row."""

    def __init__(self, n: int) -> None:
        self.mask = np.zeros(n, dtype=bool)
        self.field = np.full(n, None, dtype=object)
        self.message = np.full(n, None, dtype=object)
        self.source = np.full(n, None, dtype=object)
        self.row = np.zeros(n, dtype=np.int64)

    def add(self, idx: np.ndarray, field: str | Callable[[int], str], message: Callable[[int], str],
            source: str, row: Callable[[int], int]) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        idx = idx[~self.mask[idx]]
        for i in idx.tolist():
            self.mask[i] = True
            self.field[i] = field if isinstance(field, str) else field(i)
            self.message[i] = message(i)
            self.source[i] = source
            self.row[i] = row(i)


def _require(cols: Mapping[str, Any], required: tuple[str, ...], source: str) -> None:
    missing = [c for c in required if c not in cols]
    if missing:
        hints = ""
        for c in missing:
            near = [h for h in cols if h.strip().lower() == c] or difflib.get_close_matches(c, list(cols), 1, 0.8)
            if near:
                hints += _COLUMN_HINT.format(found=near[0], wanted=c)
        raise MissingColumnsError(_MISSING_COLUMNS.format(source=source, columns=", ".join(missing)) + hints)


def _bool(col: Any) -> tuple[np.ndarray, np.ndarray]:
    """(value, bad) of a true/false column; empty is False."""
    code, bad = C.encode_given(col, _TRUE + _FALSE)
    return (code >= 0) & (code < len(_TRUE)), bad


def build_table(
    referrals: Mapping[str, Any],
    n: int,
    referral_source: str,
    referral_rows: np.ndarray,
    sanctions: Mapping[str, Any] | None = None,
    m: int = 0,
    sanction_source: str = "",
    sanction_rows: np.ndarray | None = None,
    custody: Mapping[str, Any] | None = None,
    k: int = 0,
    custody_source: str = "",
    custody_rows: np.ndarray | None = None,
    extra_rejects: list[Reject] | None = None,
    extra_referral_rows: int = 0,
    extra_sanction_rows: int = 0,
    extra_custody_rows: int = 0,
    poisoned: list[tuple[str, str, int]] | None = None,
) -> ReadResult:
    """Validate parsed columns and build the table of valid referrals.

    ``referral_rows`` etc. give the row number of each record in its file; ``extra_rejects``
    are rows the parser itself refused (``extra_referral_rows`` of them referral rows, and so
    on); ``poisoned`` lists ``(person_id, source, row)`` of refused sanction or custody rows
    naming a person, whose referral is then rejected too (its history would be incomplete).
    """
    _check_columns(referrals, referral_source, sanctions, sanction_source, custody, custody_source)
    err = _Errors(n)
    rrow = np.asarray(referral_rows, dtype=np.int64)
    add_ref = _referral_errors(err, referral_source, rrow)
    cols = _referral_columns(referrals, n, err, add_ref, referral_source, rrow)
    summary = _summary_columns(referrals, n, add_ref, referral_source)

    rejects: list[Reject] = list(extra_rejects or [])
    counts = ReadCounts(referral_rows=n + extra_referral_rows, sanction_rows=m + extra_sanction_rows,
                        custody_rows=k + extra_custody_rows, malformed_rows=len(extra_rejects or []))
    # Lookup of referral index by person_id (first row; duplicates are rejected anyway).
    person_id = cols["person_id"]
    index_of = _person_index(referrals["person_id"], person_id)
    _poison(err, person_id, poisoned or [])
    s = _Sanctions.empty()
    if sanctions is not None:
        s = _read_sanctions(sanctions, m, index_of, sanction_source, sanction_rows, err, person_id,
                            rrow, rejects, counts)
    custody_cols = (np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64))
    if custody is not None:
        custody_cols = _read_custody(custody, k, index_of, custody_source, custody_rows,
                                     err, person_id, rrow, rejects, counts)

    keep = ~err.mask
    table = _assemble(keep, cols, summary, s, custody_cols[:3])
    kept = np.flatnonzero(keep)
    table, kept = _cross_field_rules(table, kept, err, rrow, s, custody_cols,
                                     referral_source, sanction_source, custody_source)
    for i in np.flatnonzero(err.mask).tolist():
        rejects.append(Reject(str(err.source[i]), int(err.row[i]), str(person_id[i]), str(err.field[i]),
                              str(err.message[i]), int(rrow[i])))
    counts.valid = int(kept.size)
    counts.rejected = counts.referral_rows - counts.valid
    counts.check()
    rejects.sort(key=_reject_order)
    return ReadResult(table=table, rows=rrow[kept], rejects=rejects, counts=counts, source=referral_source,
                      person_id_arrow=_kept_ids(referrals["person_id"], kept))


def _kept_ids(col: Any, kept: np.ndarray) -> Any:
    """The kept rows' person ids as Arrow text (the values of :func:`~._columns.text`), or
    None for a numpy column."""
    if not C.is_arrow(col):
        return None
    ids = C.flat(C.as_text(col))
    if ids.null_count:
        ids = A.fill_null(ids, "")
    return ids if kept.size == len(ids) else ids.take(A.array(kept))


_AddRef = Callable[[np.ndarray, str, Callable[[int], str]], None]


def _check_columns(referrals: Mapping[str, Any], referral_source: str, sanctions: Mapping[str, Any] | None,
                   sanction_source: str, custody: Mapping[str, Any] | None, custody_source: str) -> None:
    """Required columns present (else :class:`MissingColumnsError`); unknown ones logged."""
    _require(referrals, ("person_id", "assessment_date", "date_of_birth"), referral_source)
    if sanctions is not None:
        group_or_code = () if "offence_code" in sanctions else ("offence_group",)
        _require(sanctions, ("person_id", "offence_date", "sanction_date", *group_or_code, "disposal"),
                 sanction_source)
    if custody is not None:
        _require(custody, ("person_id", "start"), custody_source)
    for source, cols, known in [
        (referral_source, referrals, set(_referral_known())),
        (sanction_source, sanctions or {}, {"person_id", "offence_date", "sanction_date", "offence_group",
                                            "disposal", "custody_days", "occasion_id", "current",
                                            "offence_code"}),
        (custody_source, custody or {}, {"person_id", "start", "end"}),
    ]:
        extra = sorted(set(cols) - known)
        if extra:
            logger.warning("%s: ignoring unknown column(s) %s", source, ", ".join(extra))


def _referral_errors(err: _Errors, referral_source: str, rrow: np.ndarray) -> _AddRef:
    """``add_ref(rows, column, message)``: reject referral rows naming the column's field path."""
    def at_ref(i: int) -> int:
        return int(rrow[i])

    def add_ref(idx: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        err.add(idx, referral_field_path(column), message, referral_source, at_ref)

    return add_ref


def _referral_columns(referrals: Mapping[str, Any], n: int, err: _Errors, add_ref: _AddRef,
                      referral_source: str, rrow: np.ndarray) -> dict[str, Any]:
    """The referral rows' own columns as codes, with a reject for every bad value."""
    pid_col = referrals["person_id"]
    person_id = C.text(pid_col)
    add_ref(np.flatnonzero(C.empty(pid_col)), "person_id", lambda i: MISSING_VALUE)
    _duplicates(person_id, err, referral_source, rrow, pid_col)

    assess, a_empty, a_bad = C.dates(referrals["assessment_date"])
    birth, b_empty, b_bad = C.dates(referrals["date_of_birth"])
    for name, is_empty, bad in [("assessment_date", a_empty, a_bad), ("date_of_birth", b_empty, b_bad)]:
        col = referrals[name]
        add_ref(np.flatnonzero(is_empty), name, lambda i: MISSING_VALUE)
        add_ref(np.flatnonzero(bad), name, lambda i, col=col: BAD_DATE.format(value=C.value_at(col, i)))  # type: ignore[misc]

    def choice(column: str, vocabulary: tuple[str, ...]) -> np.ndarray:
        col = referrals.get(column)
        if col is None:
            return np.full(n, -1, dtype=np.int32)
        code, given_bad = C.encode_given(col, vocabulary)
        bad = np.flatnonzero(given_bad)
        choices = ", ".join(vocabulary)
        add_ref(bad, column, lambda i: BAD_CHOICE.format(value=C.value_at(col, i), choices=choices))
        return code

    sex = choice("sex", ("male", "female"))
    needs = np.empty((n, len(PATHWAYS)), dtype=np.int8)
    for j, column in enumerate(NEED_COLUMNS):
        code = choice(column, NEED_LEVELS)
        needs[:, j] = np.where(code < 0, 0, code) - 1
    rosh = choice("rosh_level", ROSH_LEVELS)
    mappa_cat = choice("mappa_category", ("1", "2", "3"))
    mappa_lvl = choice("mappa_level", ("1", "2", "3"))
    # (made only if an audit reads them: scorers never do, and a scoring run drops them)
    protected: dict[str, Callable[[], np.ndarray]] = {f: functools.partial(_protected, referrals.get(f), n)
                                                      for f in PROTECTED_FIELDS}
    protected["sex"] = lambda: np.array(["male", "female", None], dtype=object)[np.where(sex < 0, 2, sex)]
    return {"person_id": person_id, "assess": assess, "birth": birth, "sex": sex, "needs": needs,
            "rosh": rosh, "mappa_cat": mappa_cat, "mappa_lvl": mappa_lvl, "protected": protected,
            "facts": _fact_columns(referrals, n, add_ref, choice)}


def _protected(col: Any, n: int) -> np.ndarray:
    """A protected characteristic's column: its text, ``None`` where not recorded."""
    if col is None:
        return np.full(n, None, dtype=object)
    values = C.text_shared(col).copy()
    values[C.empty(col)] = None
    return values


def _fact_columns(referrals: Mapping[str, Any], n: int, add_ref: _AddRef,
                  choice: Callable[[str, tuple[str, ...]], np.ndarray]) -> dict[str, np.ndarray]:
    """The referral facts (supervision, release date, agreement to engage) as batch columns."""
    out: dict[str, np.ndarray] = {"supervision_status": choice("supervision_status", SUPERVISION_STATUSES)}
    for column, name in [("supervision_start_date", "supervision_start_day"),
                         ("supervision_end_date", "supervision_end_day"), ("release_date", "release_day")]:
        col = referrals.get(column)
        if col is None:
            out[name] = np.full(n, MISSING_DAY, dtype=np.int32)
            continue
        days, _, bad = C.dates(col)
        add_ref(np.flatnonzero(bad), column, lambda i, col=col: BAD_DATE.format(value=C.value_at(col, i)))  # type: ignore[misc]
        out[name] = days
    agreed = np.full(n, -1, dtype=np.int8)
    col = referrals.get("agreed_to_engage")
    if col is not None:
        code, bad = C.encode_given(col, _TRUE + _FALSE)
        add_ref(np.flatnonzero(bad), "agreed_to_engage", lambda i: BAD_BOOL.format(value=C.value_at(col, i)))
        agreed = np.where(code < 0, -1, (code < len(_TRUE)).astype(np.int8)).astype(np.int8)
    out["agreed_to_engage"] = agreed
    return out


def _summary_columns(referrals: Mapping[str, Any], n: int, add_ref: _AddRef,
                     referral_source: str = "") -> dict[str, np.ndarray]:
    """The sanction summary: all four facts or none, with a reject for every bad value.

    ``first_sanction_date`` may be left empty when ``age_at_first_sanction`` is given, and
    ``current_offence_group`` when ``current_offence_code`` is (its group is then the code's),
    as :class:`~iomscore.SanctionSummary` accepts. The OASys answers are read here too.
    """
    tax = offence_taxonomy()
    s_prev = np.full(n, -1, dtype=np.int64)
    s_first = np.full(n, MISSING_DAY, dtype=np.int32)
    s_conv = np.full(n, MISSING_DAY, dtype=np.int32)
    s_group = np.full(n, -1, dtype=np.int32)
    s_caution = np.zeros(n, dtype=bool)
    if "previous_sanctions" in referrals:
        col = referrals["previous_sanctions"]
        s_prev, p_empty, p_bad = C.counts(col)
        add_ref(np.flatnonzero(p_bad), "previous_sanctions", lambda i: BAD_COUNT.format(value=C.value_at(col, i)))
        has = ~p_empty
    else:
        has = np.zeros(n, dtype=bool)
    for name in ("first_sanction_date", "current_conviction_date", "current_offence_group"):
        col = referrals.get(name)
        col_empty = np.ones(n, dtype=bool) if col is None else C.empty(col)
        other = referrals.get(SUMMARY_ALTERNATIVE.get(name, ""))
        given_other = np.zeros(n, dtype=bool) if other is None else ~C.empty(other)
        add_ref(np.flatnonzero(has & col_empty & ~given_other), name, lambda i: SUMMARY_INCOMPLETE)
        add_ref(np.flatnonzero(~has & ~col_empty), name, lambda i: SUMMARY_WITHOUT_COUNT)
        if col is None:
            continue
        if name == "current_offence_group":
            s_group = C.encode(col, tax.codes)
            add_ref(np.flatnonzero((s_group < 0) & ~col_empty), name,
                    lambda i, col=col: UNKNOWN_GROUP.format(value=C.value_at(col, i)))  # type: ignore[misc]
        else:
            days, _, bad = C.dates(col)
            add_ref(np.flatnonzero(bad), name, lambda i, col=col: BAD_DATE.format(value=C.value_at(col, i)))  # type: ignore[misc]
            if name == "first_sanction_date":
                s_first = days
            else:
                s_conv = days
    if "caution_only" in referrals:
        col = referrals["caution_only"]
        s_caution, bad = _bool(col)
        add_ref(np.flatnonzero(bad), "caution_only", lambda i: BAD_BOOL.format(value=C.value_at(col, i)))
        add_ref(np.flatnonzero(~has & ~C.empty(col)), "caution_only", lambda i: SUMMARY_WITHOUT_COUNT)
    s_prev = np.where(has, s_prev, -1)
    v4 = summary_v4_columns(referrals, n, add_ref, has, referral_source, SUMMARY_WITHOUT_COUNT)
    s_group = np.where((s_group < 0) & (v4["ho_group"] >= 0), v4["ho_group"], s_group)  # group from the code
    oasys, oasys_present = oasys_columns(referrals, n, add_ref)
    return {"previous": s_prev, "first": s_first, "conviction": s_conv, "group": s_group, "caution": s_caution,
            **v4, "oasys": oasys, "oasys_present": oasys_present}


def _poison(err: _Errors, person_id: np.ndarray, poisoned: list[tuple[str, str, int]]) -> None:
    """Reject the referral of each person whose sanction or custody row the parser refused."""
    if not poisoned:
        return
    lookup = {str(v): i for i, v in reversed(list(enumerate(person_id.tolist())))}
    for pid, source, row in poisoned:
        i = lookup.get(pid)
        if i is not None:
            err.add(np.array([i]), "", lambda _i, s=source, r=row: MALFORMED_HISTORY.format(source=s, row=r),  # type: ignore[misc]
                    source, lambda _i, r=row: r)  # type: ignore[misc]


def _assemble(keep: np.ndarray, cols: Mapping[str, Any], summary: Mapping[str, np.ndarray], s: _Sanctions,
              custody: tuple[np.ndarray, np.ndarray, np.ndarray]) -> ReferralTable:
    """The table of the referrals that passed so far, their sanctions and custody re-indexed."""
    c_person, c_start, c_end = custody
    # every referral kept (the usual case): the columns as they are, not copied by a take
    kept: np.ndarray | slice = slice(None) if keep.all() else np.flatnonzero(keep)
    new_index = np.cumsum(keep) - 1
    s_sel = _selection(keep, s.person)
    c_sel = _selection(keep, c_person)
    batch = ReferralBatch.from_arrays(
        person_id=cols["person_id"][kept],
        assessment_day=cols["assess"][kept],
        birth_day=cols["birth"][kept],
        sex=cols["sex"][kept],
        needs=cols["needs"][kept],
        sanction_person=s.person[s_sel] if keep.all() else new_index[s.person[s_sel]],
        offence_day=s.offence[s_sel],
        sanction_day=s.sanction[s_sel],
        group=s.group[s_sel],
        disposal=s.disposal[s_sel],
        custody_days=s.custody_days[s_sel],
        occasion=s.occasion[s_sel],
        current=s.current[s_sel],
        sanction_position=s.position[s_sel],
        custody_person=c_person[c_sel] if keep.all() else new_index[c_person[c_sel]],
        custody_start=c_start[c_sel],
        custody_end=c_end[c_sel],
        summary_previous=summary["previous"][kept],
        summary_first_day=summary["first"][kept],
        summary_conviction_day=summary["conviction"][kept],
        summary_group=summary["group"][kept],
        summary_caution_only=summary["caution"][kept],
        summary_violent=summary["violent"][kept],
        summary_age_first=summary["age_first"][kept],
        summary_followup_day=summary["followup"][kept],
        summary_ho_code=summary["ho_code"][kept],
        ho_code=s.ho_code[s_sel],
        oasys=summary["oasys"][kept],
        oasys_present=summary["oasys_present"][kept],
        occasion_labels=s.labels,
        **{name: values[kept] for name, values in cols["facts"].items()},
    )
    mappa_cat, mappa_lvl = cols["mappa_cat"][kept], cols["mappa_lvl"][kept]
    harm = SeriousHarmColumns(
        rosh_level=cols["rosh"][kept].astype(np.int8),
        mappa_category=np.where(mappa_cat < 0, -1, mappa_cat + 1).astype(np.int8),
        mappa_level=np.where(mappa_lvl < 0, -1, mappa_lvl + 1).astype(np.int8),
    )
    protected = LazyColumns(cols["protected"])
    return ReferralTable(batch, harm, protected if isinstance(kept, slice) else protected.take(kept))


def _cross_field_rules(table: ReferralTable, kept: np.ndarray, err: _Errors, rrow: np.ndarray, s: _Sanctions,
                       custody: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], referral_source: str,
                       sanction_source: str, custody_source: str) -> tuple[ReferralTable, np.ndarray]:
    """The rules over the whole table at once; a broken rule names the row that breaks it."""
    violations = check_batch(table.batch)
    if not violations.mask.any():
        return table, kept
    s_lookup = _RowLookup(s.person, s.rows)
    c_lookup = _RowLookup(custody[0], custody[3])
    for j in np.flatnonzero(violations.mask).tolist():
        i = int(kept[j])
        field = str(violations.field[j])
        source, row = referral_source, int(rrow[i])
        match = _SANCTION_PATH.match(field)
        if match and sanction_source:
            source, row = sanction_source, s_lookup.row(i, int(match.group(1)))
        match = _CUSTODY_PATH.match(field)
        if match and custody_source:
            source, row = custody_source, c_lookup.row(i, int(match.group(1)))
        err.add(np.array([i]), field, lambda _i, j=j: str(violations.message[j]), source, lambda _i, row=row: row)  # type: ignore[misc]
    good = ~violations.mask
    return table.take(good), kept[good]


def _selection(keep: np.ndarray, person: np.ndarray) -> np.ndarray | slice:
    """Rows whose referral is kept (a whole slice, without copying, when that is all of them)."""
    if not person.size:
        return np.zeros(0, np.int64)
    sel = keep[person]
    return slice(None) if sel.all() else np.flatnonzero(sel)


def _reject_order(r: Reject) -> tuple[int, int, str, int]:
    ref = r.referral_row if r.referral_row is not None else 1 << 62
    return (ref, 0 if r.referral_row is not None else 1, r.source, r.row)


def _referral_known() -> list[str]:
    from ._common import REFERRAL_COLUMNS

    return list(REFERRAL_COLUMNS)


def _group_codes(person_id: np.ndarray, col: Any) -> tuple[np.ndarray, np.ndarray]:
    """(code, count): equal codes for equal ids as ``np.unique(person_id.astype(str))`` groups
    them (which ignores trailing NUL characters), and the size of each code's group."""
    if C.is_arrow(col) and not C.has_nul(col):
        runs = C.ascending_runs(col)
        if runs is not None:  # (a chunk of a list sorted by person_id: equal ids are adjacent)
            starts = np.zeros(len(col), dtype=np.int64)
            starts[runs[1:]] = 1
            return np.cumsum(starts), np.diff(np.r_[runs, len(col)])
        encoded = C.pc.dictionary_encode(C.flat(A.fill_null(col, "") if col.null_count else col))
        codes = C._np(encoded.indices).astype(np.int64)
        return codes, np.bincount(codes, minlength=len(encoded.dictionary))
    values = person_id.tolist()
    if any("\x00" in v for v in values):
        _uniques, inverse, count = np.unique(person_id.astype(str), return_inverse=True, return_counts=True)
        return inverse.reshape(-1), count
    codes, uniques = factorize(values)
    return codes, np.bincount(codes, minlength=len(uniques))


def _duplicates(person_id: np.ndarray, err: _Errors, source: str, rrow: np.ndarray, col: Any = None) -> None:
    if person_id.size == 0:
        return
    inverse, count = _group_codes(person_id, col)
    dup = count[inverse] > 1
    if not dup.any():  # (the usual case: no id compared as text)
        return
    dup &= person_id != ""
    if not dup.any():
        return
    rows_of: dict[int, list[int]] = {}
    for i in np.flatnonzero(dup).tolist():
        rows_of.setdefault(int(inverse[i]), []).append(int(rrow[i]))

    def message(i: int) -> str:
        rows = rows_of[int(inverse[i])]
        return DUPLICATE_PERSON.format(person=str(person_id[i]), count=len(rows), rows=", ".join(map(str, rows)))

    err.add(np.flatnonzero(dup), "person_id", message, source, lambda i: int(rrow[i]))


class _PersonIndex:
    """Referral index of each person_id value (-1 when no referral row has it)."""

    def __init__(self, arrow_values: Any, values: np.ndarray) -> None:
        self.arrow_values = arrow_values
        self.lookup: dict[str, int] | None = None
        self.values = values
        self._keys: tuple[int, np.ndarray] | None = None
        self._keys_read = False

    def _sorted_keys(self) -> tuple[int, np.ndarray] | None:
        """The referral ids as words (:func:`~iomscore.io._columns.id_words`) when they are in
        ascending order (a chunk of a sorted list), else None."""
        if not self._keys_read:
            keys = C.id_words(self.arrow_values)
            self._keys = keys if keys is not None and not bool((keys[1][1:] < keys[1][:-1]).any()) else None
            self._keys_read = True
        return self._keys

    @staticmethod
    def _search(keys: np.ndarray, words: np.ndarray) -> np.ndarray:
        """Index of each word in the ascending ``keys`` (its first, as ``index_in`` finds), -1 if absent."""
        j = np.searchsorted(keys, words, side="left")
        jj = np.minimum(j, keys.size - 1)
        return np.where((j < keys.size) & (keys[jj] == words), jj, -1).astype(np.int64)

    def __call__(self, col: Any) -> np.ndarray:
        if C.is_arrow(col) and self.arrow_values is not None:
            if len(self.arrow_values) == 0:
                return np.full(len(col), -1, np.int64)
            starts = C.run_starts(col) if len(col) > 64 else None
            if starts is not None and 2 * starts.size < len(col):
                # Rows grouped by person (the usual export): look up one row of each run.
                head = self(C.flat(col.take(A.array(starts))))
                return np.repeat(head, np.diff(np.r_[starts, len(col)]))
            keys = self._sorted_keys()
            words = None if keys is None else C.id_words(col, keys[0])
            if keys is not None and words is not None:
                # Referral ids sorted and ids of one width: a binary search of words, no hashing.
                return self._search(keys[1], words[1])
            # Else one hash table of the referral ids, probed by every row (first match wins).
            idx = C.pc.index_in(col, value_set=self.arrow_values)
            result = C._np(A.fill_null(idx, -1)).astype(np.int64)
            # empty person_id never matches a referral (those rows are rejected)
            result[C.empty(col)] = -1
            return result
        if self.lookup is None:
            self.lookup = {}
            for i, v in enumerate(self.values.tolist()):
                if v:
                    self.lookup.setdefault(v, i)
        text = C.text(col)
        get = self.lookup.get
        return np.fromiter((get(v, -1) for v in text), dtype=np.int64, count=text.shape[0])


def _person_index(col: Any, person_id: np.ndarray) -> _PersonIndex:
    arrow_values = None
    if C.is_arrow(col):
        arrow_values = col.combine_chunks() if hasattr(col, "combine_chunks") else col
        arrow_values = A.fill_null(arrow_values, "")
    return _PersonIndex(arrow_values, person_id)


class _RowLookup:
    """File row of the j-th row (in file order) of referral i."""

    def __init__(self, person: np.ndarray, rows: np.ndarray) -> None:
        self.order = np.argsort(person, kind="stable")
        self.sorted_person = person[self.order]
        self.rows = rows

    def row(self, i: int, j: int) -> int:
        start = int(np.searchsorted(self.sorted_person, i, side="left"))
        return int(self.rows[self.order[start + j]])


class _Sanctions:
    def __init__(self, **arrays: Any) -> None:
        self.__dict__.update(arrays)

    person: np.ndarray
    offence: np.ndarray
    sanction: np.ndarray
    group: np.ndarray
    disposal: np.ndarray
    custody_days: np.ndarray
    occasion: np.ndarray
    current: np.ndarray
    position: np.ndarray
    rows: np.ndarray
    labels: dict[int, str]
    ho_code: np.ndarray

    @classmethod
    def empty(cls) -> _Sanctions:
        z = np.zeros(0, dtype=np.int64)
        return cls(person=z, offence=z.astype(np.int32), sanction=z.astype(np.int32), group=z.astype(np.int16),
                   disposal=z.astype(np.int8), custody_days=z.astype(np.int32), occasion=z,
                   current=z.astype(bool), position=z.astype(np.int32), rows=z, labels={}, ho_code=z.astype(np.int32))


def _positions(person: np.ndarray, attached: np.ndarray) -> np.ndarray:
    """Position of each attached row among its referral's rows (file order); -1 if unattached."""
    m = person.shape[0]
    if attached.all():  # (the usual export: every row names a referral, no copy to take)
        return _positions_within(person)
    position = np.full(m, -1, dtype=np.int32)
    if attached.any():
        position[attached] = _positions_within(person[attached])
    return position


def _attach_errors(
    person: np.ndarray, position: np.ndarray, bad: np.ndarray, field_of: Callable[[int], str],
    message_of: Callable[[int], str], err: _Errors, source: str, rows: np.ndarray,
) -> None:
    """Reject each referral at its first bad row (lowest position)."""
    idx = np.flatnonzero(bad)
    if idx.size == 0:
        return
    # rows are in file order, so the first bad row of a person is its lowest position
    _, first = np.unique(person[idx], return_index=True)
    idx = idx[first]
    for r in idx.tolist():
        p = int(person[r])
        if err.mask[p]:
            continue
        err.add(np.array([p]), f"{field_of(r)}", lambda _p, r=r: message_of(r), source,  # type: ignore[misc]
                lambda _p, r=r: int(rows[r]))  # type: ignore[misc]


def _orphans(person: np.ndarray, pid_col: Any, source: str, rows: np.ndarray, rejects: list[Reject],
             template: str) -> int:
    orphan = np.flatnonzero(person < 0)
    for r in orphan.tolist():
        pid = C.value_at(pid_col, r)
        reason = MISSING_VALUE if not pid else template.format(person=pid)
        rejects.append(Reject(source, int(rows[r]), pid, "person_id", reason, None))
    return int(orphan.size)


#: Sanction rows from which :func:`_run_all` converts columns on two threads.
_THREADED_ROWS: Final = 2_000_000


def _run_all(m: int, tasks: dict[str, Callable[[], Any]], arrow: bool) -> dict[str, Any]:
    """Run independent column conversions; on two threads for large Arrow columns (Arrow's
    kernels release the GIL), so the second core is not idle after the CSV parse. (A chunk
    of a streamed run, far smaller, is built while another is scored: both cores are busy,
    and threads here only cost.)"""
    if not arrow or m < _THREADED_ROWS:
        return {name: task() for name, task in tasks.items()}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        return {name: f.result() for name, f in futures.items()}


def _read_sanctions(
    cols: Mapping[str, Any], m: int, index_of: _PersonIndex, source: str, rows: np.ndarray | None,
    err: _Errors, person_id: np.ndarray, rrow: np.ndarray, rejects: list[Reject], counts: ReadCounts,
) -> _Sanctions:
    rows = np.arange(2, m + 2, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    tax = offence_taxonomy()
    gcol, dcol = cols.get("offence_group"), cols["disposal"]
    ccol, cur_col = cols.get("custody_days"), cols.get("current")
    got = _run_all(m, {
        "person": lambda: index_of(cols["person_id"]),
        "offence": lambda: C.dates(cols["offence_date"]),
        "sanction": lambda: C.dates(cols["sanction_date"]),
        "group": lambda: ((np.full(m, -1, np.int32), np.ones(m, bool)) if gcol is None
                          else (C.encode(gcol, tax.codes), C.empty(gcol))),
        "code": lambda: ho_codes(cols.get("offence_code"), m, source),
        "disposal": lambda: (C.encode(dcol, DISPOSALS), C.empty(dcol)),
        "custody_days": lambda: None if ccol is None else C.counts(ccol),
        "current": lambda: None if cur_col is None else _bool(cur_col),
    }, arrow=C.is_arrow(cols["person_id"]))
    person = got["person"]
    counts.orphan_sanction_rows = _orphans(person, cols["person_id"], source, rows, rejects, ORPHAN_SANCTION)
    attached = person >= 0
    position = _positions(person, attached)

    problems: list[tuple[np.ndarray, str, Callable[[int], str]]] = []
    offence, o_empty, o_bad = got["offence"]
    sanction, sd_empty, sd_bad = got["sanction"]
    for name, col, is_empty, bad in [("offence_date", cols["offence_date"], o_empty, o_bad),
                                     ("sanction_date", cols["sanction_date"], sd_empty, sd_bad)]:
        problems.append((is_empty, name, lambda r: MISSING_VALUE))
        problems.append((bad, name, lambda r, col=col: BAD_DATE.format(value=C.value_at(col, r))))  # type: ignore[misc]
    group, g_empty = got["group"]
    ho = got["code"]
    problems.append((g_empty & ho.empty, "offence_group", lambda r: MISSING_VALUE))
    problems.append(((group < 0) & ~g_empty, "offence_group",
                     lambda r: UNKNOWN_GROUP.format(value=C.value_at(gcol, r))))
    problems.append((ho.bad, "offence_code", ho.message))
    group = np.where(g_empty & (ho.group >= 0), ho.group, group)  # the group of the Home Office code
    disposal, d_empty = got["disposal"]
    problems.append((d_empty, "disposal", lambda r: MISSING_VALUE))
    problems.append(((disposal < 0) & ~d_empty, "disposal",
                     lambda r: BAD_CHOICE.format(value=C.value_at(dcol, r), choices=", ".join(DISPOSALS))))
    if ccol is not None:
        cdays, _, c_bad = got["custody_days"]
        problems.append((c_bad, "custody_days", lambda r: BAD_COUNT.format(value=C.value_at(ccol, r))))
    else:
        cdays = np.full(m, -1, dtype=np.int64)
    occasion = sanction.astype(np.int64)
    labels: dict[int, str] = {}
    if "occasion_id" in cols:
        ocol = cols["occasion_id"]
        o_has = ~C.empty(ocol)
        if o_has.any():
            values = C.text(ocol)[o_has]
            # Number labels in sorted order so keys do not depend on row order.
            uniques, inverse = np.unique(values.astype(str), return_inverse=True)
            occasion[o_has] = int(OCCASION_ID_BASE) + inverse.reshape(-1)
            labels = {int(OCCASION_ID_BASE) + i: str(u) for i, u in enumerate(uniques.tolist())}
    if cur_col is not None:
        current, cur_bad = got["current"]
        problems.append((cur_bad, "current", lambda r: BAD_BOOL.format(value=C.value_at(cur_col, r))))
    else:
        current = np.zeros(m, dtype=bool)

    # First problem of each row in column order; then the first bad row of each referral.
    any_bad = np.zeros(m, dtype=bool)
    which = np.full(m, -1, dtype=np.int32)
    found = False
    for q, (bad, _, _) in enumerate(problems):
        if not bad.any():  # (the usual case: skip the three passes)
            continue
        new = bad & ~any_bad & attached
        which[new] = q
        any_bad |= new
        found = True
    _attach_errors(
        person, position, any_bad,
        lambda r: f"sanctions[{position[r]}].{problems[which[r]][1]}",
        lambda r: problems[which[r]][2](r), err, source, rows,
    )
    sel: np.ndarray | slice = slice(None)  # (every row kept, the usual case: no copies)
    if found or not attached.all():
        sel = np.flatnonzero(attached & ~any_bad)
        if sel.size == m:
            sel = slice(None)
    return _Sanctions(
        person=person[sel], offence=offence[sel], sanction=sanction[sel], group=group[sel].astype(np.int16),
        disposal=disposal[sel].astype(np.int8), custody_days=cdays[sel].astype(np.int32), occasion=occasion[sel],
        current=current[sel], position=position[sel], rows=rows[sel], labels=labels, ho_code=ho.code[sel],
    )


def _read_custody(
    cols: Mapping[str, Any], k: int, index_of: _PersonIndex, source: str, rows: np.ndarray | None,
    err: _Errors, person_id: np.ndarray, rrow: np.ndarray, rejects: list[Reject], counts: ReadCounts,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(2, k + 2, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    person = index_of(cols["person_id"])
    counts.orphan_custody_rows = _orphans(person, cols["person_id"], source, rows, rejects, ORPHAN_CUSTODY)
    attached = person >= 0
    position = _positions(person, attached)
    scol = cols["start"]
    start, s_empty, s_bad = C.dates(scol)
    problems: list[tuple[np.ndarray, str, Callable[[int], str]]] = [
        (s_empty, "start", lambda r: MISSING_VALUE),
        (s_bad, "start", lambda r: BAD_DATE.format(value=C.value_at(scol, r))),
    ]
    if "end" in cols:
        ecol = cols["end"]
        end, e_empty, e_bad = C.dates(ecol)
        end = np.where(e_empty, ONGOING_DAY, end).astype(np.int32)
        problems.append((e_bad, "end", lambda r: BAD_DATE.format(value=C.value_at(ecol, r))))
    else:
        end = np.full(k, ONGOING_DAY, dtype=np.int32)
    any_bad = np.zeros(k, dtype=bool)
    which = np.full(k, -1, dtype=np.int32)
    for q, (bad, _, _) in enumerate(problems):
        if not bad.any():  # (the usual case: skip the three passes)
            continue
        new = bad & ~any_bad & attached
        which[new] = q
        any_bad |= new
    _attach_errors(person, position, any_bad, lambda r: f"custody[{position[r]}].{problems[which[r]][1]}",
                   lambda r: problems[which[r]][2](r), err, source, rows)
    sel = np.flatnonzero(attached & ~any_bad)
    return person[sel], start[sel], end[sel], rows[sel]
