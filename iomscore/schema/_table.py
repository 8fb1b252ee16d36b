"""The referral list in array form with the columns scorers must not see beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np

from ._batch import ReferralBatch, SeriousHarmColumns
from ._referral import Referral, referral_columns

__all__ = ["LazyColumns", "ReferralTable", "register_frame_reader"]

#: The reader behind :meth:`ReferralTable.from_frames` (:func:`iomscore.io._frames.table_from_frames`),
#: installed by the package's ``__init__`` (which runs before any submodule): the reader lives on
#: the io floor, which this floor must not import.
_frame_reader: Callable[..., ReferralTable] | None = None


#: Raised only if the package's ``__init__`` did not install the reader (it always does).
NO_FRAME_READER: Final = "ReferralTable.from_frames has no reader installed; import iomscore first"


def register_frame_reader(reader: Callable[..., ReferralTable]) -> None:
    """Install the function behind :meth:`ReferralTable.from_frames` (iomscore.io does)."""
    global _frame_reader
    _frame_reader = reader


class LazyColumns(Mapping[str, np.ndarray]):
    """Columns made when first read, each once: the protected characteristics of a list read
    for scoring, which only audits look at (a million-row object array each, otherwise made
    and dropped by every scoring run).

    ``makers[name]()`` makes column ``name``; :meth:`take` gives the rows ``rows`` of every
    column, still unmade (a take of a take reads the first columns once). A pickled copy holds
    the columns made.

    Examples
    --------
    >>> cols = LazyColumns({"a": lambda: np.array(["x", None, "y"], dtype=object)})
    >>> cols.take(np.array([2, 0]))["a"].tolist(), list(cols), "a" in cols
    (['y', 'x'], ['a'], True)
    """

    def __init__(self, makers: Mapping[str, Callable[[], np.ndarray]]) -> None:
        self._makers = dict(makers)
        self._whole: dict[str, np.ndarray] = {}  # (the makers' columns, shared with every take)
        self._rows: np.ndarray | None = None
        self._made: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._made:
            if name not in self._whole:
                self._whole[name] = self._makers[name]()
            whole = self._whole[name]
            self._made[name] = whole if self._rows is None else whole[self._rows]
        return self._made[name]

    def __contains__(self, name: object) -> bool:
        return name in self._makers

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __reduce__(self) -> tuple[Any, tuple[dict[str, np.ndarray]]]:
        return dict, ({name: self[name] for name in self._makers},)

    def take(self, rows: np.ndarray) -> LazyColumns:
        taken = LazyColumns.__new__(LazyColumns)
        taken._makers, taken._whole, taken._made = self._makers, self._whole, {}
        rows = np.asarray(rows)
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)  # (a copy: the caller may change its array)
        taken._rows = rows if self._rows is None else self._rows[rows]
        return taken


def _take_columns(columns: Mapping[str, np.ndarray], rows: np.ndarray) -> Mapping[str, np.ndarray]:
    if isinstance(columns, LazyColumns):
        return columns.take(rows)
    return {k: v[rows] for k, v in columns.items()}


@dataclass(frozen=True, eq=False)
class ReferralTable:
    """A batch together with the columns scorers must not see.

    ``batch`` goes to the feature engine; ``serious_harm`` to routing; ``protected`` (one
    object array per characteristic, ``None`` where not recorded) and ``sex`` to audits.
    """

    batch: ReferralBatch
    serious_harm: SeriousHarmColumns
    protected: Mapping[str, np.ndarray]

    @property
    def n(self) -> int:
        return self.batch.n

    def take(self, rows: np.ndarray) -> ReferralTable:
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        return ReferralTable(
            self.batch.take(rows),
            self.serious_harm.take(rows),
            _take_columns(self.protected, rows),
        )

    @classmethod
    def from_referrals(cls, referrals: Iterable[Referral]) -> ReferralTable:
        """Columnar form of validated :class:`Referral` objects (the object path).

        Examples
        --------
        >>> import iomscore
        >>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
        ...     date_of_birth="1990-01-01")
        >>> iomscore.ReferralTable.from_referrals([r]).n
        1
        """
        return cls(*referral_columns(list(referrals)))

    @classmethod
    def from_frames(cls, referrals: Any, sanctions: Any = None, custody: Any = None, *,
                    on_reject: Literal["raise", "drop"] = "raise") -> ReferralTable:
        """The two-table form from pandas DataFrames or Arrow tables, validated as the CSV reader does.

        Columns as in the CSV form (``iomscore.io.REFERRAL_COLUMNS``, ``SANCTION_COLUMNS``,
        ``CUSTODY_COLUMNS``), as text or typed (dates, numbers, booleans). A row the CSV
        reader would reject is rejected for the same reason; with ``on_reject="raise"`` (the
        default) any reject raises ``iomscore.io.FrameRejectsError`` naming the first, with
        the table, rejects and counts in its ``result``; with ``"drop"`` the valid referrals
        are returned and the rejects logged. :func:`iomscore.io.read_frames` gives the
        rejects and counts directly. Needs pyarrow (and pandas for DataFrames).

        Examples
        --------
        >>> import pandas as pd, iomscore
        >>> people = pd.DataFrame({"person_id": ["A"], "assessment_date": ["2025-06-01"],
        ...     "date_of_birth": ["1990-01-01"]})
        >>> sanctions = pd.DataFrame({"person_id": ["A"], "offence_date": [pd.Timestamp("2025-01-01")],
        ...     "sanction_date": [pd.Timestamp("2025-02-01")], "offence_group": ["shop_theft"],
        ...     "disposal": ["fine"]})
        >>> table = iomscore.ReferralTable.from_frames(people, sanctions)
        >>> table.n, iomscore.score_batch(table).result(0).person_id
        (1, 'A')
        """
        if _frame_reader is None:
            raise RuntimeError(NO_FRAME_READER)
        return _frame_reader(referrals, sanctions, custody, on_reject=on_reject)
