"""Reading back what ``iomscore score`` wrote, and the outcome and referral files audits join to it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ._common import CliError

if TYPE_CHECKING:
    import pandas as pd

    from ..schema import ReferralTable

__all__ = ["characteristics", "protected_columns", "read_outcomes", "read_score_file", "referral_table"]

NO_FILE: Final = "{what} not found: {path}"
NOT_SCORES: Final = "{path} is not a score file written by 'iomscore score': it has no {column!r} column"
NOT_OUTCOMES: Final = "{path}: the outcomes file needs a person_id column and the outcome column {column!r} (it has {found})"
BAD_OUTCOME: Final = "{path}: outcome column {column!r} holds {value!r}; outcomes are 1 (reoffended), 0 (did not) or blank (not known)"
UNKNOWN_CHARACTERISTIC: Final = "--by {name!r} is not a protected characteristic of the referral list (it has: {found})"


def _frame(path: Path) -> pd.DataFrame:
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return pd.read_json(path, lines=suffix != ".json", dtype=False)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_score_file(path: str | Path) -> pd.DataFrame:
    """``person_id``, ``score`` (float) and ``band`` of a score file (.csv, .jsonl or .parquet)."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CliError(NO_FILE.format(what="score file", path=p))
    frame = _frame(p)
    for column in ("person_id", "score"):
        if column not in frame.columns:
            raise CliError(NOT_SCORES.format(path=p, column=column))
    out = frame.copy()
    out["person_id"] = out["person_id"].astype(str)
    out["score"] = pd.to_numeric(out["score"].replace("", np.nan), errors="coerce").astype(float)
    if "band" not in out.columns:
        out["band"] = ""
    out["band"] = out["band"].fillna("").astype(str)
    return out


def read_outcomes(path: str | Path, column: str) -> dict[str, bool | None]:
    """``{person_id: reoffended}`` from an outcomes CSV; blank means not known (``None``)."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CliError(NO_FILE.format(what="outcomes file", path=p))
    frame = pd.read_csv(p, dtype=str, keep_default_na=False)
    if "person_id" not in frame.columns or column not in frame.columns:
        raise CliError(NOT_OUTCOMES.format(path=p, column=column, found=", ".join(map(str, frame.columns))))
    values: dict[str, bool | None] = {}
    for person, value in zip(frame["person_id"], frame[column], strict=True):
        text = str(value).strip().lower()
        if text in ("1", "true", "yes"):
            values[str(person)] = True
        elif text in ("0", "false", "no"):
            values[str(person)] = False
        elif text in ("", "nan", "na", "none"):
            values[str(person)] = None
        else:
            raise CliError(BAD_OUTCOME.format(path=p, column=column, value=value))
    return values


def referral_table(path: str, args: argparse.Namespace | None = None) -> ReferralTable:
    """The valid referrals of a referral list, read by the one reader (rejected rows dropped)."""
    from ._common import read_input

    ns = argparse.Namespace(input=path, sanctions=getattr(args, "sanctions", None),
                            custody=getattr(args, "custody", None), input_format=None)
    return read_input(ns).table


def characteristics(value: str | None) -> list[str]:
    """``"ethnicity, sex"`` -> ``["ethnicity", "sex"]``.

    Examples
    --------
    >>> characteristics("ethnicity, sex,")
    ['ethnicity', 'sex']
    """
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def protected_columns(table: ReferralTable | None, person_ids: Any, names: list[str]) -> dict[str, np.ndarray]:
    """Each named characteristic's label for each of ``person_ids`` (``None`` where unknown)."""
    wanted = np.asarray(person_ids, dtype=object).astype(str)
    if table is None:
        return {name: np.full(wanted.size, None, dtype=object) for name in names}
    found = sorted(table.protected)
    for name in names:
        if name not in table.protected:
            raise CliError(UNKNOWN_CHARACTERISTIC.format(name=name, found=", ".join(found)))
    ids = np.asarray(table.batch.person_id).astype(str)
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    pos = np.clip(np.searchsorted(ordered, wanted), 0, max(ordered.size - 1, 0))
    hit = ordered[pos] == wanted if ordered.size else np.zeros(wanted.size, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for name in names:
        column = np.asarray(table.protected[name], dtype=object)
        labels = np.full(wanted.size, None, dtype=object)
        if ordered.size:
            labels[hit] = column[order[pos[hit]]]
        out[name] = labels
    return out
