"""Reading the two-table form from pandas DataFrames or Arrow tables already in memory.

The same columns, validation and rejects as the CSV and Parquet readers: the frames are
turned into Arrow text columns (typed columns, dates, numbers and booleans, as well as text)
and go through :func:`iomscore.io._tables.build_table`. ``row`` in a reject is the 1-based
record number in its frame; ``source`` is ``"referrals"``, ``"sanctions"`` or ``"custody"``.

:meth:`iomscore.ReferralTable.from_frames` calls :func:`read_frames` through a hook this
module registers (the schema floor does not import io), so the classmethod and this
function give the same table.
"""

from __future__ import annotations

import logging
from typing import Any, Final, Literal

import numpy as np

from .._errors import IomscoreError
from ..schema._table import ReferralTable
from ._common import ReadResult
from ._parquet import arrow_columns
from ._tables import build_table

__all__ = ["FrameRejectsError", "read_frames"]

logger = logging.getLogger("iomscore")

_NO_ARROW: Final = "reading DataFrames needs pyarrow: pip install 'iomscore[arrow]'"
_NOT_A_FRAME: Final = "{source}: expected a pandas DataFrame or an Arrow table, not {type}"
_REJECTED: Final = (
    "{rejected} of {read} referrals rejected ({first}); pass on_reject='drop' to keep the valid "
    "ones, or use iomscore.io.read_frames for the rejects and counts"
)
_DROPPED: Final = "from_frames: %d of %d referrals rejected and left out (first: %s)"
_BAD_ON_REJECT: Final = "on_reject must be 'raise' or 'drop', not {value!r}"


class FrameRejectsError(IomscoreError, ValueError):
    """Some referrals in the frames were rejected; ``result`` holds the table, rejects and counts."""

    def __init__(self, message: str, result: ReadResult) -> None:
        super().__init__(message)
        self.result = result


def _arrow_table(frame: Any, source: str) -> Any:
    try:
        import pyarrow as pa
    except ImportError as exc:  # pragma: no cover - pyarrow comes with the arrow extra
        raise ImportError(_NO_ARROW) from exc
    if isinstance(frame, (pa.Table, pa.RecordBatch)):
        return frame
    if type(frame).__module__.startswith("pandas") and hasattr(frame, "columns"):
        return pa.Table.from_pandas(frame, preserve_index=False)
    raise TypeError(_NOT_A_FRAME.format(source=source, type=type(frame).__name__))


def _columns(frame: Any, source: str) -> tuple[dict[str, Any], int]:
    table = _arrow_table(frame, source)
    return arrow_columns(table, source), int(table.num_rows)


def read_frames(referrals: Any, sanctions: Any = None, custody: Any = None) -> ReadResult:
    """Validate the two-table form given as DataFrames or Arrow tables, as :func:`read_csv` does.

    Parameters
    ----------
    referrals, sanctions, custody : pandas.DataFrame or pyarrow.Table
        The columns of the CSV form (``iomscore.io.REFERRAL_COLUMNS`` and so on), as text
        or typed (dates, integers, booleans); ``custody`` and ``sanctions`` may be ``None``.

    Returns
    -------
    ReadResult
        The valid referrals (``table``), every rejected row with its reason (``rejects``),
        and counts that add up.

    Examples
    --------
    >>> import pandas as pd
    >>> from iomscore.io import read_frames
    >>> people = pd.DataFrame({"person_id": ["A", "B"], "assessment_date": ["2025-06-01", "2025-06-01"],
    ...     "date_of_birth": ["1990-01-01", "2030-01-01"]})
    >>> sanctions = pd.DataFrame({"person_id": ["A"], "offence_date": ["2025-01-01"],
    ...     "sanction_date": ["2025-02-01"], "offence_group": ["shop_theft"], "disposal": ["fine"]})
    >>> result = read_frames(people, sanctions)
    >>> result.table.n, [(r.person_id, r.field) for r in result.rejects]
    (1, [('B', 'date_of_birth')])
    """
    ref, n = _columns(referrals, "referrals")
    san, m = _columns(sanctions, "sanctions") if sanctions is not None else (None, 0)
    cus, k = _columns(custody, "custody") if custody is not None else (None, 0)
    return build_table(
        ref, n, "referrals", np.arange(1, n + 1, dtype=np.int64),
        san, m, "sanctions" if sanctions is not None else "", np.arange(1, m + 1, dtype=np.int64),
        cus, k, "custody" if custody is not None else "", np.arange(1, k + 1, dtype=np.int64),
    )


def table_from_frames(referrals: Any, sanctions: Any = None, custody: Any = None, *,
                      on_reject: Literal["raise", "drop"] = "raise") -> ReferralTable:
    """:meth:`iomscore.ReferralTable.from_frames` (see there)."""
    if on_reject not in ("raise", "drop"):
        raise ValueError(_BAD_ON_REJECT.format(value=on_reject))
    result = read_frames(referrals, sanctions, custody)
    if result.rejects:
        r = result.rejects[0]
        first = f"{r.source} row {r.row}, person {r.person_id!r}: {r.field}: {r.reason}"
        if on_reject == "raise":
            raise FrameRejectsError(_REJECTED.format(rejected=result.counts.rejected,
                                                     read=result.counts.referral_rows, first=first), result)
        logger.warning(_DROPPED, result.counts.rejected, result.counts.referral_rows, first)
    return result.table
