"""The referral list in array form with the columns scorers must not see beside it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ._batch import ReferralBatch, SeriousHarmColumns
from ._referral import Referral, referral_columns

__all__ = ["ReferralTable"]


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
            {k: v[rows] for k, v in self.protected.items()},
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
