"""Writers: referral tables (two-table CSV, JSON Lines), scores, and rejects."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from pydantic_core import to_json

from .._arrays import unique_inverse, unique_representatives
from ..schema._batch import OCCASION_ID_BASE
from ..schema._table import ReferralTable
from ..schema._taxonomy import offence_taxonomy
from ..schema._vocabulary import (
    DISPOSALS,
    NEED_LEVELS,
    PATHWAYS,
    PROTECTED_FIELDS,
    ROSH_LEVELS,
    SUPERVISION_STATUSES,
)
from ..scoring._result import (
    SCORE_FORMAT,
    ScoreBatch,
    format_part_value,
    iomscore_version,
    text_codes,
)
from . import _arrow as A
from . import _columns as C
from ._atomic import atomic_open
from ._common import (
    NEED_COLUMNS,
    REFERRAL_COLUMNS,
    SUMMARY_COLUMNS,
    Reject,
)
from ._text import (
    date_text,
    fixed,
    fixed_arrow,
    int_text,
    neutralise,
    neutralise_arrow,
    quote_arrow,
    quote_text,
    write_csv_rows,
    write_lines,
)
from ._v4columns import v4_referral_json, v4_referral_text, v4_sanction_text

__all__ = [
    "REJECT_COLUMNS",
    "score_columns",
    "score_records",
    "top_reasons",
    "write_referrals_csv",
    "write_referrals_jsonl",
    "write_rejects",
    "write_scores",
]

OutputFormat = Literal["csv", "jsonl", "parquet"]
#: Columns of a rejects file.
REJECT_COLUMNS: Final = ("person_id", "referral_row", "source", "row", "field", "reason")
_BAD_FORMAT: Final = "unknown output format {format!r}: use csv, jsonl or parquet"
_SUFFIX_FORMATS: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
                          ".parquet": "parquet", ".pq": "parquet"}


def format_from_suffix(path: str | os.PathLike[str], default: str = "csv") -> str:
    """``csv``, ``jsonl`` or ``parquet`` from a file name (``default`` when unknown)."""
    return _SUFFIX_FORMATS.get(Path(path).suffix.lower(), default)


def _choice_text(codes: np.ndarray, labels: Sequence[str], offset: int = 0) -> np.ndarray:
    """Codes as labels (``labels[code - offset]``); ``""`` where the code is below ``offset``."""
    table = np.array(["", *labels], dtype=object)
    idx = np.asarray(codes, dtype=np.int64) - offset + 1
    return table[np.clip(idx, 0, len(labels))]


def _referral_text(table: ReferralTable) -> dict[str, np.ndarray]:
    b = table.batch
    tax = offence_taxonomy()
    cols: dict[str, np.ndarray] = {
        "person_id": b.person_id.astype(object),
        "assessment_date": date_text(b.assessment_day),
        "date_of_birth": date_text(b.birth_day),
        "sex": _choice_text(b.sex, ("male", "female")),
    }
    # not_assessed is written as an empty cell (the default when reading)
    for j, name in enumerate(NEED_COLUMNS):
        cols[name] = _choice_text(b.needs[:, j], NEED_LEVELS[1:])
    h = table.serious_harm
    cols["rosh_level"] = _choice_text(h.rosh_level, ROSH_LEVELS)
    cols["mappa_category"] = _choice_text(h.mappa_category, ("1", "2", "3"), offset=1)
    cols["mappa_level"] = _choice_text(h.mappa_level, ("1", "2", "3"), offset=1)
    for f in PROTECTED_FIELDS:
        v = np.asarray(table.protected.get(f, np.full(b.n, None, dtype=object)), dtype=object).copy()
        v[v == None] = ""  # elementwise comparison with None
        cols[f] = v
    has = b.summary_previous >= 0
    cols["previous_sanctions"] = int_text(b.summary_previous, ~has)
    cols["first_sanction_date"] = date_text(np.where(has, b.summary_first_day, b.summary_first_day))
    cols["current_conviction_date"] = date_text(b.summary_conviction_day)
    cols["current_offence_group"] = _choice_text(np.where(has, b.summary_group, -1), tax.codes)
    cols["caution_only"] = np.where(has & b.summary_caution_only, "true", np.where(has, "false", "")).astype(object)
    cols["supervision_status"] = _choice_text(b._col("supervision_status"), SUPERVISION_STATUSES)
    cols["supervision_start_date"] = date_text(b._col("supervision_start_day"))
    cols["supervision_end_date"] = date_text(b._col("supervision_end_day"))
    cols["release_date"] = date_text(b._col("release_day"))
    cols["agreed_to_engage"] = _choice_text(b._col("agreed_to_engage"), ("false", "true"))
    cols.update(v4_referral_text(table))  # the OASys v4 summary fields and answers, when any
    assert tuple(cols) == REFERRAL_COLUMNS[: len(cols)] and set(SUMMARY_COLUMNS) <= set(cols)
    return cols


def _sanction_order(table: ReferralTable) -> np.ndarray:
    b = table.batch
    return np.lexsort((b.sanction_position, b.sanction_person))


def _sanction_text(table: ReferralTable) -> dict[str, np.ndarray]:
    b = table.batch
    tax = offence_taxonomy()
    person = b.sanction_person
    order = _sanction_order(table)
    occ = b.occasion[order]
    explicit = occ >= int(OCCASION_ID_BASE)
    occasion_id = np.full(order.size, "", dtype=object)
    if explicit.any():
        occasion_id[explicit] = [b.occasion_labels[int(k)] for k in occ[explicit].tolist()]
    cdays = b.custody_days[order]
    return {
        "person_id": b.person_id[person[order]].astype(object),
        "offence_date": date_text(b.offence_day[order]),
        "sanction_date": date_text(b.sanction_day[order]),
        "offence_group": _choice_text(b.group[order], tax.codes),
        "disposal": _choice_text(b.disposal[order], DISPOSALS),
        "custody_days": int_text(cdays, cdays < 0),
        "occasion_id": occasion_id,
        "current": np.where(b.current[order], "true", "").astype(object),
        **v4_sanction_text(table, order),
    }


def _custody_text(table: ReferralTable) -> dict[str, np.ndarray]:
    b = table.batch
    person = b.custody_person
    order = np.lexsort((b.custody_position, person))
    return {
        "person_id": b.person_id[person[order]].astype(object),
        "start": date_text(b.custody_start[order]),
        "end": date_text(b.custody_end[order]),
    }


_FREE_TEXT: Final = frozenset({"person_id", "occasion_id", *PROTECTED_FIELDS})


def _write_table(path: str | os.PathLike[str], cols: dict[str, np.ndarray]) -> None:
    with atomic_open(path, "wb") as f:
        # (an input table for iomscore to read back: written as it is, not neutralised)
        write_csv_rows(f, list(cols), list(cols.values()), [name in _FREE_TEXT for name in cols], neutral=False)


def write_referrals_csv(
    table: ReferralTable,
    referrals: str | os.PathLike[str],
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
) -> None:
    """Write ``table`` in the two-table CSV form (plus custody periods when a path is given).

    Sanctions are written grouped by person, in each person's original input order, so
    reading the files back gives the same table.

    Examples
    --------
    >>> import tempfile, pathlib, iomscore
    >>> from iomscore.io import read_csv
    >>> from iomscore import synth
    >>> table = synth.generate(20, seed=1)
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_referrals_csv(table, d / "r.csv", d / "s.csv", d / "c.csv")
    >>> read_csv(d / "r.csv", d / "s.csv", d / "c.csv").counts.valid
    20
    """
    _write_table(referrals, _referral_text(table))
    if sanctions is not None:
        _write_table(sanctions, _sanction_text(table))
    if custody is not None:
        _write_table(custody, _custody_text(table))


def write_referrals_jsonl(table: ReferralTable, path: str | os.PathLike[str]) -> None:
    """Write ``table`` as JSON Lines, one :class:`~iomscore.Referral` per line."""
    ref = _referral_text(table)
    san = _sanction_text(table)
    cus = _custody_text(table)
    b = table.batch
    s_off = np.r_[0, np.cumsum(np.diff(b.sanction_offsets))]
    c_off = np.r_[0, np.cumsum(np.diff(b.custody_offsets))]
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as f:
        for i in range(b.n):
            doc: dict[str, Any] = {
                "person_id": ref["person_id"][i],
                "assessment_date": ref["assessment_date"][i],
                "date_of_birth": ref["date_of_birth"][i],
            }
            if ref["sex"][i]:
                doc["sex"] = ref["sex"][i]
            sanctions = []
            for r in range(int(s_off[i]), int(s_off[i + 1])):
                s: dict[str, Any] = {k: san[k][r] for k in ("offence_date", "sanction_date", "offence_group", "disposal")}
                if san["custody_days"][r]:
                    s["custody_days"] = int(san["custody_days"][r])
                if san["occasion_id"][r]:
                    s["occasion_id"] = san["occasion_id"][r]
                if san["current"][r]:
                    s["current"] = True
                if san.get("offence_code") is not None and san["offence_code"][r]:
                    s["offence_code"] = san["offence_code"][r]
                sanctions.append(s)
            if sanctions:
                doc["sanctions"] = sanctions
            if ref["previous_sanctions"][i]:
                doc["sanction_summary"] = {
                    "previous_sanctions": int(ref["previous_sanctions"][i]),
                    "first_sanction_date": ref["first_sanction_date"][i],
                    "current_conviction_date": ref["current_conviction_date"][i],
                    "current_offence_group": ref["current_offence_group"][i],
                    "caution_only": ref["caution_only"][i] == "true",
                }
            v4_summary, oasys = v4_referral_json(ref, i)
            if "sanction_summary" in doc:
                doc["sanction_summary"].update(v4_summary)
                for key in ("first_sanction_date", "current_offence_group"):  # may stand in for each other
                    if not doc["sanction_summary"][key]:
                        del doc["sanction_summary"][key]
            if oasys is not None:
                doc["oasys"] = oasys
            custody = [{"start": cus["start"][r], "end": cus["end"][r] or None}
                       for r in range(int(c_off[i]), int(c_off[i + 1]))]
            if custody:
                doc["custody"] = custody
            needs = {p: ref[f"need_{p}"][i] for p in PATHWAYS if ref[f"need_{p}"][i]}
            if needs:
                doc["needs"] = needs
            supervision = {k: ref[f"supervision_{k}"][i] for k in ("status", "start_date", "end_date")
                           if ref[f"supervision_{k}"][i]}
            if supervision:
                doc["supervision"] = supervision
            if ref["release_date"][i]:
                doc["release_date"] = ref["release_date"][i]
            if ref["agreed_to_engage"][i]:
                doc["agreed_to_engage"] = ref["agreed_to_engage"][i] == "true"
            harm = {k: ref[k][i] for k in ("rosh_level", "mappa_category", "mappa_level") if ref[k][i]}
            for k in ("mappa_category", "mappa_level"):
                if k in harm:
                    harm[k] = int(harm[k])
            if harm:
                doc["serious_harm"] = harm
            protected = {k: ref[k][i] for k in PROTECTED_FIELDS if ref[k][i]}
            if protected:
                doc["protected"] = protected
            f.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")


# --- scores ----------------------------------------------------------------------------


def _value_text(values: np.ndarray, unit: str) -> np.ndarray:
    """``format_part_value`` of each value, formatting each distinct value once."""
    if values.size == 0:
        return np.zeros(0, dtype=object)
    uniques, inverse = np.unique(values, return_inverse=True)
    texts = np.array([format_part_value(float(v), unit) for v in uniques.tolist()], dtype=object)
    return texts[inverse.reshape(-1)]


def _unique_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, representative) of equal keys (NaNs may be split; each gets its own code)."""
    if C.HAVE_ARROW:
        return _hash_codes(keys)
    first, inverse = unique_inverse(keys)
    return inverse, first


def _value_codes(values: np.ndarray, unit: str) -> tuple[np.ndarray, list[str]]:
    """(code, texts): ``texts[code[i]] == format_part_value(values[i], unit)``, formatting few values.

    Points: one format per distinct value. Percentage points (one decimal, so continuous
    values): one per distinct (rounded tenth, sign), which gives the same text as formatting
    each value, because Python's ``.1f`` rounds the exact binary value correctly and a value
    that is not within 1e-6 of a tie rounds to ``rint(10 * value)``; values near a tie, huge
    or not finite are formatted one by one.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return np.zeros(0, dtype=np.int64), []
    if unit != "percentage points":
        inverse, first = _unique_codes(v)
        return inverse, [format_part_value(float(u), unit) for u in v[first].tolist()]
    with np.errstate(invalid="ignore", over="ignore"):
        y = v * 10.0
        frac = y - np.floor(y)
        safe = np.isfinite(y) & (np.abs(v) < 1e9) & (np.abs(frac - 0.5) > 1e-6)
    tenths = np.rint(np.where(safe, y, 0.0)).astype(np.int64)
    key = tenths * 2 + np.signbit(v)
    code = np.empty(v.size, dtype=np.int64)
    safe_idx = np.flatnonzero(safe)
    texts: list[str] = []
    if safe_idx.size:
        inverse, first = _unique_codes(key[safe_idx])
        texts = [format_part_value(float(x), unit) for x in v[safe_idx[first]].tolist()]
        code[safe_idx] = inverse
    other = np.flatnonzero(~safe)
    if other.size:
        code[other] = len(texts) + np.arange(other.size)
        texts += [format_part_value(float(x), unit) for x in v[other].tolist()]
    return code, texts


def _hash_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, representative) of an integer or float array by Arrow's hash table:
    ``keys[representative[inverse[i]]]`` equals ``keys[i]`` (codes in no particular order)."""
    encoded = C.pc.dictionary_encode(A.array(keys))
    inverse = C._np(encoded.indices).astype(np.int64)
    representative = np.empty(len(encoded.dictionary), dtype=np.int64)
    representative[inverse] = np.arange(inverse.size, dtype=np.int64)
    return inverse, representative


class _ReasonSlots:
    """The ``top`` reason lines of the given rows as codes into one small table of distinct text.

    ``codes[t][i]`` is the index in ``texts`` of row ``i``'s t-th line (``texts[0]`` is
    ``""``, for rows with fewer lines). Each distinct (reason, value text) pair is joined
    once, so a million rows cost a few thousand string operations.
    """

    def __init__(self, scores: ScoreBatch, top: int, idx: np.ndarray) -> None:
        pa = C.pa
        n, k = idx.size, (scores.part_values.shape[1] if scores.part_values.ndim == 2 else 0)
        # distinct reason texts and value texts, and the (reason, value) of each line text
        self._reasons: list[str] = []
        self._values: list[str] = []
        self._pairs = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self._texts: list[str] | None = None
        self.codes = [np.zeros(n, dtype=np.int64) for _ in range(top)]
        if n == 0 or k == 0 or top <= 0:
            return
        # Every shown (row, slot), row by row in rank order, and its part.
        shown = scores.shown_parts(top, idx)
        rows, slot = np.nonzero(shown >= 0)
        if rows.size == 0:
            return
        part = shown[rows, slot]
        # Reason of each shown (row, part): reason columns share a few str objects among many
        # rows (render_unique), so rows are coded by the object they hold (its address, read
        # from the array's buffer) and only one row per distinct object is read as text.
        reasons = [np.ascontiguousarray(np.asarray(r, dtype=object).reshape(-1)) for r in scores.part_reasons]
        identity = np.stack([np.frombuffer(r, dtype=np.intp) for r in reasons])
        rcode, first = _hash_codes(identity[part, idx[rows]])
        objs = [reasons[p_][i] for p_, i in zip(part[first].tolist(), idx[rows[first]].tolist())]
        encoded = C.pc.dictionary_encode(A.array(objs, type=pa.string()))  # (equal text in distinct objects)
        if encoded.indices.null_count:
            raise pa.ArrowTypeError("a reason is None")  # (the object path raises as before)
        rcode = C._np(encoded.indices).astype(np.int64)[rcode]
        reason_texts = encoded.dictionary.to_pylist()
        vcode, vtexts = _value_codes(scores.part_values[idx[rows], part], scores.unit)
        pair = rcode * max(len(vtexts), 1) + vcode
        if int(pair.max()) < 4 * pair.size + (1 << 16):  # small codes: a lookup table, no hashing
            first, inverse = unique_representatives(pair)
        else:
            inverse, first = _hash_codes(pair)
        self._reasons, self._values, self._pairs = reason_texts, vtexts, (rcode[first], vcode[first])
        codes = np.zeros((top, n), dtype=np.int64)
        codes[slot, rows] = inverse + 1
        self.codes = list(codes)

    @property
    def texts(self) -> list[str]:
        """The line texts (``"reason: value"``); ``texts[0]`` is ``""``."""
        if self._texts is None:
            r, v = self._pairs
            self._texts = [""] + [f"{self._reasons[i]}: {self._values[j]}" for i, j in zip(r.tolist(), v.tolist())]
        return self._texts

    def csv_labels(self) -> Any:
        """``quote_text(neutralise(text))`` of each text, as an Arrow ``large_string`` array.

        Built per distinct reason, not per line: a value text holds no comma, quote or line
        break (checked), so a line needs quotes exactly when its neutralised reason does, and
        starts with a formula character exactly when its reason does (": " follows it).
        """
        pa, pc = C.pa, C.pc
        joined_values = "".join(self._values)
        if any(ch in joined_values for ch in ',"\r\n'):
            return quote_arrow(neutralise_arrow(A.array(self.texts, type=pa.large_string())))
        opening, closing = [], []
        for reason in self._reasons:
            cell = neutralise(reason)
            quoted = quote_text(cell)
            wrapped = quoted != cell  # '"' + cell (quotes doubled) + '"': the value goes before the last quote
            opening.append(quoted[:-1] if wrapped else cell)
            closing.append('"' if wrapped else "")
        r, v = (A.array(x) for x in self._pairs)
        empty = A.scalar("", pa.large_string())
        lines = pc.binary_join_element_wise(
            A.array(opening, type=pa.large_string()).take(r), A.scalar(": ", pa.large_string()),
            A.array(self._values, type=pa.large_string()).take(v), A.array(closing, type=pa.large_string()).take(r),
            empty)
        return pa.concat_arrays([A.array([""], type=pa.large_string()), lines])


def _reason_slots(scores: ScoreBatch, top: int, idx: np.ndarray) -> _ReasonSlots | None:
    """:class:`_ReasonSlots`, or None when Arrow is missing or a reason is not a ``str``."""
    if not C.HAVE_ARROW:
        return None
    try:
        return _ReasonSlots(scores, top, idx)
    except (C.pa.ArrowInvalid, C.pa.ArrowTypeError):
        return None


def top_reasons(scores: ScoreBatch, top: int = 3, rows: np.ndarray | None = None) -> list[np.ndarray]:
    """The ``top`` reason lines of each row as ``top`` object arrays (``""`` where fewer).

    Vectorised equivalent of ``scores.reason_lines(rows, top)``: the same text, ranked by
    contribution with zero-valued parts left out.
    """
    idx = np.arange(len(scores)) if rows is None else np.asarray(rows)
    slots = _reason_slots(scores, top, idx)
    if slots is not None:
        texts = np.array(slots.texts, dtype=object)
        return [texts[code] for code in slots.codes]
    return _top_reasons_objects(scores, top, idx)


def _top_reasons_objects(scores: ScoreBatch, top: int, idx: np.ndarray) -> list[np.ndarray]:
    """:func:`top_reasons` on object arrays (without Arrow, or for reasons that are not ``str``)."""
    values = scores.part_values[idx]
    n, k = values.shape if values.ndim == 2 else (idx.size, 0)
    out = [np.full(n, "", dtype=object) for _ in range(top)]
    if n == 0 or k == 0:
        return out
    shown = scores.shown_parts(top, idx)
    reasons = np.stack([np.asarray(r, dtype=object)[idx] for r in scores.part_reasons])  # (k, n)
    for t in range(shown.shape[1]):
        rows_t = np.flatnonzero(shown[:, t] >= 0)
        part = shown[rows_t, t]
        text = reasons[part, rows_t] + ": " + _value_text(values[rows_t, part], scores.unit)
        out[t][rows_t] = text
    return out


def score_columns(scores: ScoreBatch, rows: np.ndarray | None = None, top: int = 3) -> dict[str, np.ndarray]:
    """Output columns (text) for ``rows`` of ``scores`` (default: the scored rows)."""
    idx = np.flatnonzero(scores.ok) if rows is None else np.asarray(rows)
    n = idx.size
    pid = scores.person_id if scores.person_id is not None else np.full(len(scores), "", dtype=object)
    cols: dict[str, np.ndarray] = {
        "person_id": np.asarray(pid, dtype=object)[idx],
        "score": fixed(scores.score[idx]),
        "band": np.asarray(scores.band, dtype=object)[idx].astype(str).astype(object),
    }
    for key, p in scores.probabilities.items():
        cols[f"prob_{key}"] = fixed(np.asarray(p)[idx])
    for t, col in enumerate(top_reasons(scores, top, idx), start=1):
        cols[f"reason_{t}"] = col
    m = scores.model
    cols["model_name"] = np.full(n, m.name, dtype=object)
    cols["model_version"] = np.full(n, m.version, dtype=object)
    cols["model_sha256"] = np.full(n, m.sha256, dtype=object)
    if scores.warnings is None:
        cols["warnings"] = np.full(n, "", dtype=object)
    else:
        w = np.asarray(scores.warnings, dtype=object)[idx]
        cols["warnings"] = np.array(["; ".join(x) for x in w.tolist()], dtype=object)
    return cols


_SCORE_FREE_TEXT: Final = ("person_id", "reason_", "warnings", "band", "model_")


def write_scores(
    path: str | os.PathLike[str],
    scores: ScoreBatch,
    *,
    format: OutputFormat | None = None,
    rows: np.ndarray | None = None,
    top: int = 3,
) -> int:
    """Write the scored rows (input order) as CSV, JSON Lines or Parquet; returns rows written.

    JSON Lines: one record a line in the score output contract (``"format":
    "iomscore.score/1"``, the shape of :class:`iomscore.ScoreResult` JSON, with at most
    ``top`` reasons; :func:`score_records`). CSV and Parquet columns: ``person_id``, ``score``, ``band``, ``prob_<horizon>`` per probability,
    ``reason_1`` .. ``reason_<top>``, ``model_name``, ``model_version``, ``model_sha256``,
    ``warnings`` (``"; "``-joined). Floats use :func:`iomscore.io._text.fixed` (at most six
    decimals, trailing zeros dropped), so the same input gives byte-identical output.
    """
    fmt = format or format_from_suffix(path)
    if fmt == "csv" and C.HAVE_ARROW:
        written = _write_scores_csv_arrow(path, scores, rows, top)
        if written is not None:
            return written
    if fmt == "jsonl":
        return _write_scores_jsonl(path, scores, rows, top)
    if fmt == "parquet":
        _write_scores_parquet(path, scores, rows, top)
        return int(np.flatnonzero(scores.ok).size if rows is None else np.asarray(rows).size)
    cols = score_columns(scores, rows, top)
    if fmt == "csv":
        with atomic_open(path, "wb") as f:
            write_csv_rows(f, list(cols), list(cols.values()),
                           [name.startswith(_SCORE_FREE_TEXT) for name in cols])
    else:
        raise ValueError(_BAD_FORMAT.format(format=fmt))
    return int(cols["person_id"].shape[0])


def _shared_text_arrow(values: np.ndarray, render: Any) -> Any:
    """An object column of few distinct values (band, warnings) as quoted CSV text:
    :func:`_shared_arrow` with each text neutralised and quoted."""
    return _shared_arrow(values, lambda v: quote_text(neutralise(render(v))), C.pa.large_string())


def _band_text(v: object) -> str:
    if v is None:
        raise C.pa.ArrowTypeError("None in a text column")  # (the object path handles it as before)
    return str(np.array([v], dtype=object).astype(str)[0])


def _warnings_text(v: object) -> str:
    if isinstance(v, tuple | list) and all(w.__class__ is str for w in v):
        return "; ".join(v)  # (what Arrow's join below gives, without converting the value)
    joined = C.pc.binary_join(A.array([v], type=C.pa.list_(C.pa.string())), A.scalar("; "))
    if joined.null_count:
        raise C.pa.ArrowTypeError("None among the warnings")
    return str(joined[0].as_py())


def _fixed_shared(values: np.ndarray) -> Any:
    """:func:`fixed_arrow` of a float column, formatting each distinct value once when there
    are few (points scores); values are grouped bit for bit."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    if v.size < 64:
        return fixed_arrow(v)
    inverse, representative = _hash_codes(v.view(np.int64))
    if representative.size * 4 > v.size:
        return fixed_arrow(v)
    return fixed_arrow(v[representative]).take(A.array(inverse))


def _write_scores_csv_arrow(path: str | os.PathLike[str], scores: ScoreBatch, rows: np.ndarray | None,
                            top: int) -> int | None:
    """:func:`write_scores` to CSV with every column built in Arrow; the same bytes as
    :func:`score_columns` + :func:`write_csv_rows`. None when a column holds a value Arrow
    cannot take as text (the caller then uses the object path)."""
    built = csv_arrow_columns(scores, rows, top)
    if built is None:
        return None
    header, columns, n = built
    with atomic_open(path, "wb") as f:
        write_lines(f, header, columns)
    return n


def csv_arrow_columns(scores: ScoreBatch, rows: np.ndarray | None, top: int,
                      person_id: Any = None) -> tuple[list[str], list[Any], int] | None:
    """(header, ready Arrow text columns for :func:`~iomscore.io._text.write_lines`, rows) of
    the scores CSV; None when a column holds a value Arrow cannot take as text.

    ``person_id``, when given, is ``scores.person_id`` as an Arrow string array (one the
    reader already had), taken instead of converting the object column."""
    pa, pc = C.pa, C.pc
    idx = np.flatnonzero(scores.ok) if rows is None else np.asarray(rows)
    n = int(idx.size)
    slots = _reason_slots(scores, top, idx)
    if slots is None:
        return None
    try:
        header = ["person_id", "score", "band", *(f"prob_{key}" for key in scores.probabilities),
                  *(f"reason_{t}" for t in range(1, top + 1)), "model_name", "model_version", "model_sha256",
                  "warnings"]
        if n == 0:
            return header, [], 0
        if scores.person_id is None:
            pid: Any = A.scalar("", pa.large_string())
        else:
            pid = quote_arrow(neutralise_arrow(_person_ids(scores, idx, person_id, pa.large_string())))
        columns: list[Any] = [pid, _fixed_shared(np.asarray(scores.score)[idx]),
                              _shared_text_arrow(np.asarray(scores.band, dtype=object)[idx], _band_text)]
        columns += [_fixed_shared(np.asarray(p)[idx]) for p in scores.probabilities.values()]
        labels = slots.csv_labels()
        columns += [pc.take(labels, A.array(code)) for code in slots.codes]
        m = scores.model
        columns.append(A.scalar(",".join(quote_text(neutralise(x)) for x in (m.name, m.version, m.sha256)),
                                 pa.large_string()))
        if scores.warnings is None:
            columns.append(A.scalar("", pa.large_string()))
        else:
            columns.append(_shared_text_arrow(np.asarray(scores.warnings, dtype=object)[idx], _warnings_text))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    return header, columns, n


def _json_floats(values: np.ndarray) -> list[str]:
    """Each float as pydantic writes it in JSON (one serialiser call for the whole column)."""
    if values.size == 0:
        return []
    return to_json(np.asarray(values, dtype=np.float64).tolist()).decode()[1:-1].split(",")


def _json_strings(values: np.ndarray) -> list[str]:
    """Each value as a JSON string, as pydantic writes it (one serialiser call for the column).

    Inside a JSON string every ``"`` is escaped, so ``","`` occurs only between items."""
    if values.size == 0:
        return []
    return ['"' + t + '"' for t in to_json([str(v) for v in values.tolist()]).decode()[2:-2].split('","')]


def _json_by_key(keys: np.ndarray, render: Any) -> list[str]:
    """``render(row)`` of one row per distinct key, spread over the rows."""
    if keys.size == 0:
        return []
    first, inverse = unique_inverse(keys)
    texts = [render(int(r)) for r in first.tolist()]
    return [texts[k] for k in inverse.tolist()]


def score_records(scores: ScoreBatch, rows: np.ndarray | None = None, top: int | None = None) -> list[str]:
    """JSON text of ``rows`` (default: the scored rows): the score output contract.

    Each record is ``scores.result(i).model_dump_json()`` byte for byte (format
    ``"iomscore.score/1"``, iomscore version, person id, assessment date, score, band,
    probabilities, unit, breakdown, reasons, model, warnings), except that ``reasons`` holds
    at most ``top`` lines when ``top`` is given. Breakdowns, reason lists, warnings and dates
    are written once per distinct value and shared, so the cost per row is one string join.

    Examples
    --------
    >>> import iomscore
    >>> from iomscore import synth
    >>> batch = iomscore.score_batch(synth.generate(5, seed=1))
    >>> score_records(batch)[3] == batch.result(3).model_dump_json()
    True
    """
    idx = np.flatnonzero(scores.ok) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
    n = int(idx.size)
    if n == 0:
        return []
    dumps = json.dumps
    head = (f'{{"format":{dumps(SCORE_FORMAT)},"iomscore_version":'
            f'{"null" if iomscore_version() is None else dumps(iomscore_version())},"person_id":')
    pid = ['""'] * n if scores.person_id is None else _json_strings(np.asarray(scores.person_id, dtype=object)[idx])
    if scores.assessment_day is None:
        dates = ["null"] * n
    else:
        days = np.asarray(scores.assessment_day, dtype=np.int64)[idx]
        valid = (days >= -719162) & (days <= 2932896)
        day_text = np.where(valid, days, np.int64(-1 << 40))
        dates = _json_by_key(day_text, lambda r: f'"{dt.date(1970, 1, 1) + dt.timedelta(days=int(days[r]))}"'
                             if valid[r] else "null")
    score_text = _json_floats(np.asarray(scores.score)[idx])
    bands = _json_by_key(text_codes(np.asarray(scores.band, dtype=object)[idx]),
                         lambda r: dumps(str(np.asarray(scores.band, dtype=object)[idx[r]]), ensure_ascii=False))
    probs = [(dumps(k), _json_floats(np.asarray(v)[idx])) for k, v in scores.probabilities.items()]
    if probs:
        prob_text = ["{" + ",".join(f"{k}:{vals[i]}" for k, vals in probs) + "}" for i in range(n)]
    else:
        prob_text = ["{}"] * n
    representative, pattern = scores.patterns()
    per_part = []
    for k, code in enumerate(scores._part_codes()):
        first, _ = unique_representatives(code)
        name, label = dumps(scores.part_names[k], ensure_ascii=False), dumps(scores.part_labels[k], ensure_ascii=False)
        values = _json_floats(scores.part_values[first, k])
        texts = np.array([
            f'{{"name":{name},"label":{label},"value":{v},'
            f'"reason":{dumps(str(scores.part_reasons[k][r]), ensure_ascii=False)}}}'
            for r, v in zip(first.tolist(), values)
        ], dtype=object)
        per_part.append(texts[code[representative]].tolist())
    pattern_text = np.array(["[" + ",".join(parts) + "]" for parts in zip(*per_part)] if per_part
                            else ["[]"] * representative.size, dtype=object)
    breakdown_text = pattern_text[pattern[idx]].tolist()
    if top is not None and top <= 0:
        reason_text = ["[]"] * n
    else:
        tuples = scores.reason_tuples(top)[idx]
        reason_text = _json_by_key(text_codes(tuples), lambda r: dumps(list(tuples[r]), ensure_ascii=False,
                                                                       separators=(",", ":")))
    if scores.warnings is None:
        warn_text = ["[]"] * n
    else:
        warns = np.asarray(scores.warnings, dtype=object)[idx]
        warn_text = _json_by_key(text_codes(warns), lambda r: dumps(list(warns[r]), ensure_ascii=False,
                                                                    separators=(",", ":")))
    unit = dumps(scores.unit)
    model = scores.model.model_dump_json()
    return [
        f'{head}{pid[i]},"assessment_date":{dates[i]},"score":{score_text[i]},'
        f'"band":{bands[i]},"probabilities":{prob_text[i]},"unit":{unit},"breakdown":{breakdown_text[i]},'
        f'"reasons":{reason_text[i]},"model":{model},"warnings":{warn_text[i]}}}'
        for i in range(n)
    ]


def _write_scores_jsonl(path: str | os.PathLike[str], scores: ScoreBatch, rows: np.ndarray | None, top: int) -> int:
    """One :func:`score_records` record a line; returns the records written."""
    records = score_records(scores, rows, top)
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as f:
        for start in range(0, len(records), 10_000):
            f.write("".join(line + "\n" for line in records[start:start + 10_000]))
    return len(records)


def _person_ids(scores: ScoreBatch, idx: np.ndarray, person_id: Any, type: Any) -> Any:
    """Rows ``idx`` of the person ids as Arrow text of ``type``: from ``person_id`` (the same
    ids as Arrow text) when given, else from ``scores.person_id``."""
    if person_id is None:
        return A.array(np.asarray(scores.person_id, dtype=object)[idx], type=type)
    if len(person_id) != len(scores):
        raise ValueError(f"{len(person_id)} person ids for {len(scores)} scores")
    taken = person_id if idx.size == len(person_id) and bool((np.diff(idx) == 1).all()) else \
        person_id.take(A.array(idx))
    return taken if taken.type == type else C.pc.cast(taken, type)


def scores_table(scores: ScoreBatch, rows: np.ndarray | None = None, top: int = 3, person_id: Any = None) -> Any:
    """The Arrow table a Parquet scores file holds: the columns of :func:`score_columns`, as
    text, except ``score`` and ``prob_<horizon>`` as float64 (their full values).

    ``person_id``, when given, is ``scores.person_id`` as an Arrow string array (one the
    reader already had), taken instead of converting the object column.

    Built in Arrow (reason lines from one table of distinct texts, band and warnings once per
    distinct value); a value Arrow cannot take as text falls back to :func:`score_columns`,
    which gives the same table.
    """
    if not C.HAVE_ARROW:
        raise ImportError("writing Parquet needs pyarrow: pip install 'iomscore[arrow]'")
    pa = C.pa
    idx = np.flatnonzero(scores.ok) if rows is None else np.asarray(rows)
    floats = {"score": np.asarray(scores.score, dtype=np.float64)[idx]}
    floats.update({f"prob_{k}": np.asarray(p, dtype=np.float64)[idx] for k, p in scores.probabilities.items()})
    arrays: dict[str, Any] = {}
    slots = _reason_slots(scores, top, idx) if idx.size else None
    try:
        if slots is None:
            raise pa.ArrowTypeError("no reason slots")
        if scores.person_id is None:
            arrays["person_id"] = A.array(np.full(idx.size, "", dtype=object), type=pa.string())
        else:
            arrays["person_id"] = _person_ids(scores, idx, person_id, pa.string())
        arrays["score"] = A.array(floats["score"])
        arrays["band"] = _shared_arrow(np.asarray(scores.band, dtype=object)[idx], _band_text)
        arrays.update({name: A.array(v) for name, v in floats.items() if name != "score"})
        texts = A.array(slots.texts, type=pa.string())
        arrays.update({f"reason_{t}": texts.take(A.array(code)) for t, code in enumerate(slots.codes, start=1)})
        m, n = scores.model, int(idx.size)
        for name, value in (("model_name", m.name), ("model_version", m.version), ("model_sha256", m.sha256)):
            arrays[name] = A.array([value], type=pa.string()).take(A.array(np.zeros(n, dtype=np.int64)))
        arrays["warnings"] = (A.array([""] * n, type=pa.string()) if scores.warnings is None else
                              _shared_arrow(np.asarray(scores.warnings, dtype=object)[idx], _warnings_text))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        cols = score_columns(scores, rows, top)
        arrays = {name: A.array(floats[name]) if name in floats else A.array(col, type=pa.string())
                  for name, col in cols.items()}
    return pa.table(arrays)


def _shared_arrow(values: np.ndarray, render: Any, type: Any = None) -> Any:
    """An object column of few distinct values as Arrow text (``type``, default ``string``):
    ``render`` (value -> text, or an Arrow error) applied to one row per distinct value, rows
    grouped by the object they hold (:func:`text_codes`), then spread by ``take``."""
    pa = C.pa
    first, inverse = unique_representatives(text_codes(values))
    labels = A.array([render(v) for v in values[first].tolist()], type=type or pa.string())
    return labels.take(A.array(inverse))


def _write_scores_parquet(path: str | os.PathLike[str], scores: ScoreBatch, rows: np.ndarray | None,
                          top: int) -> None:
    import pyarrow.parquet as pq

    table = scores_table(scores, rows, top)
    with atomic_open(path, "wb") as f:
        pq.write_table(table, f)


# --- rejects ---------------------------------------------------------------------------


def write_rejects(path: str | os.PathLike[str], rejects: Iterable[Reject], *, format: str | None = None) -> int:
    """Write rejects as CSV (:data:`REJECT_COLUMNS`) or JSON Lines; returns how many."""
    fmt = format or format_from_suffix(path)
    items = list(rejects)
    if fmt == "jsonl":
        with atomic_open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(json.dumps(r.as_dict(), ensure_ascii=False) + "\n" for r in items)
        return len(items)
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(REJECT_COLUMNS)
        for r in items:
            d = r.as_dict()
            w.writerow(["" if d[c] is None else d[c] if isinstance(d[c], int) else neutralise(str(d[c]))
                        for c in REJECT_COLUMNS])
    return len(items)
