"""The offence taxonomy, shipped as data in ``iomscore/_data/offence_groups.json``.

Every offence on record carries an offence-group code. Codes ``0..19`` of the taxonomy are
OGRS3's twenty offence groups in OGRS3's own index order; finer categories (``shop_theft``,
``personal_robbery``, ...) follow and each maps onto one OGRS3 group with its own flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

import numpy as np

__all__ = ["FLAGS", "OffenceGroup", "OffenceTaxonomy", "offence_taxonomy"]

FLAGS: Final = ("neighbourhood", "acquisitive", "violent", "sexual", "drugs")


@dataclass(frozen=True)
class OffenceGroup:
    """One offence group or finer category.

    Attributes
    ----------
    code : str
        Stable identifier used in referral data (``"burglary_domestic"``).
    label : str
        Plain-English name.
    ogrs3_index : int
        Index of the OGRS3 offence group this code counts as (0..19).
    flags : frozenset of str
        Any of ``neighbourhood``, ``acquisitive``, ``violent``, ``sexual``, ``drugs``.
    """

    code: str
    label: str
    ogrs3_index: int
    flags: frozenset[str]


class OffenceTaxonomy:
    """Lookup tables over the offence groups, for both single values and arrays.

    Examples
    --------
    >>> tax = offence_taxonomy()
    >>> tax.get("shop_theft").ogrs3_index
    8
    >>> "neighbourhood" in tax.get("burglary_domestic").flags
    True
    """

    def __init__(self, document: dict) -> None:
        self.version: str = document["version"]
        groups: list[OffenceGroup] = []
        ogrs3_parameters: list[float] = []
        for entry in document["ogrs3_groups"]:
            if entry["ogrs3_index"] != len(groups):
                raise ValueError("OGRS3 groups must be listed in index order")
            groups.append(
                OffenceGroup(entry["code"], entry["label"], entry["ogrs3_index"], frozenset(entry["flags"]))
            )
            ogrs3_parameters.append(float(entry["ogrs3_parameter"]))
        codes = {g.code: i for i, g in enumerate(groups)}
        for entry in document["categories"]:
            groups.append(
                OffenceGroup(
                    entry["code"], entry["label"], codes[entry["ogrs3_group"]], frozenset(entry["flags"])
                )
            )
        self.groups: tuple[OffenceGroup, ...] = tuple(groups)
        self.codes: tuple[str, ...] = tuple(g.code for g in groups)
        self._index = {g.code: i for i, g in enumerate(groups)}
        if len(self._index) != len(groups):
            raise ValueError("duplicate offence-group code in taxonomy")
        self.n_ogrs3_groups = len(ogrs3_parameters)
        #: OGRS3 offence-group parameter for each OGRS3 index (0..19).
        self.ogrs3_parameters = np.asarray(ogrs3_parameters, dtype=np.float64)
        #: OGRS3 index for every taxonomy code index.
        self.ogrs3_index = np.asarray([g.ogrs3_index for g in groups], dtype=np.int16)
        #: Boolean flag table: ``flag_table[flag][code_index]``.
        self.flag_table = {
            f: np.asarray([f in g.flags for g in groups], dtype=bool) for f in FLAGS
        }

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def __len__(self) -> int:
        return len(self.groups)

    def index(self, code: str) -> int:
        """Integer index of ``code``; raises ``KeyError`` for an unknown code."""
        return self._index[code]

    def get(self, code: str) -> OffenceGroup:
        """The :class:`OffenceGroup` for ``code``."""
        return self.groups[self._index[code]]

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """Map an array of codes to indices; unknown codes become ``-1``."""
        from .._arrays import factorize

        inverse, uniques = factorize(np.asarray(codes, dtype=object).reshape(-1).tolist())
        mapped = np.asarray([self._index.get(str(u), -1) for u in uniques], dtype=np.int16)
        return mapped[inverse] if inverse.size else np.zeros(0, dtype=np.int16)


@lru_cache(maxsize=1)
def offence_taxonomy() -> OffenceTaxonomy:
    """The shipped offence taxonomy (loaded once)."""
    text = resources.files("iomscore").joinpath("_data/offence_groups.json").read_text("utf-8")
    return OffenceTaxonomy(json.loads(text))
