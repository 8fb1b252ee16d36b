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

__all__ = [
    "FLAGS",
    "HomeOfficeCodeArrays",
    "HomeOfficeOffence",
    "OffenceCodeError",
    "OffenceGroup",
    "OffenceTaxonomy",
    "ho_code_arrays",
    "offence_taxonomy",
]

FLAGS: Final = ("neighbourhood", "acquisitive", "violent", "sexual", "drugs")

UNKNOWN_HO_CODE: Final = (
    "unknown Home Office offence code {code!r}: not in the shipped MoJ offence mapping "
    "(iomscore/_data/ho_offence_codes.csv)"
)
REMOVED_HO_CODE: Final = (
    "Home Office offence code {code!r} is no longer in the MoJ offence mapping (removed at f0c8151); "
    "its earlier category {category} is used"
)
RECATEGORISED_HO_CODE: Final = (
    "Home Office offence code {code!r} changed category at f0c8151 (was {old}); the current category "
    "{category} is used"
)
NO_CATEGORY_HO_CODE: Final = (
    "Home Office offence code {code!r} has no actuarial category (UNKNOWN in the MoJ mapping); "
    "the OASys v4 predictors cannot score it"
)
BAD_HO_CODE: Final = "invalid Home Office offence code {code!r}: expected 5 digits, e.g. '10400'"
_HO_CODE_CHARS: Final = frozenset("0123456789")


class OffenceCodeError(ValueError):
    """A Home Office offence code that is malformed or not in the shipped mapping."""


@dataclass(frozen=True)
class HomeOfficeOffence:
    """What a Home Office offence code resolves to.

    Attributes
    ----------
    code : str
        The five-digit code (``"10400"``).
    actuarial_category : str
        The OASys v4 actuarial category used (see ``ACTUARIAL_CATEGORIES``).
    group : str
        The iomscore offence group the code counts as (for OGRS3 and points scorers).
    status : str
        ``current``, ``recategorised_at_f0c8151`` or ``removed_at_f0c8151``.
    violent_sanction : bool
        The mapping's ``is_violent_sanction`` flag (a sanction that counts as violent).
    warning : str or None
        Plain-English warning for removed, re-categorised and UNKNOWN codes, naming the code.
    """

    code: str
    actuarial_category: str
    group: str
    status: str
    violent_sanction: bool
    warning: str | None


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

    def resolve_offence_code(self, code: str) -> HomeOfficeOffence:
        """Resolve a Home Office offence code through the shipped MoJ mapping.

        Raises :class:`OffenceCodeError` naming the code when it is malformed or unknown;
        removed, re-categorised and UNKNOWN-category codes resolve with a ``warning``.

        Examples
        --------
        >>> tax = offence_taxonomy()
        >>> hit = tax.resolve_offence_code("10400")
        >>> hit.actuarial_category, hit.group, hit.warning is None
        ('VIOLENCE_AGAINST_THE_PERSON_SUB_ABH', 'common_assault', True)
        >>> tax.resolve_offence_code("99999")
        Traceback (most recent call last):
        ...
        iomscore.schema._taxonomy.OffenceCodeError: unknown Home Office offence code '99999': ...
        """
        return _resolve_ho_code(code)

    def actuarial_category_of_group(self) -> np.ndarray:
        """Per taxonomy code index, the actuarial category code it determines (-1 when none)."""
        from ._vocabulary import ACTUARIAL_CATEGORIES, GROUP_ACTUARIAL_CATEGORY

        return np.asarray(
            [ACTUARIAL_CATEGORIES.index(GROUP_ACTUARIAL_CATEGORY[c]) if c in GROUP_ACTUARIAL_CATEGORY else -1
             for c in self.codes],
            dtype=np.int16,
        )

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


@lru_cache(maxsize=1)
def _ho_table() -> dict[str, tuple[str, str, str, bool]]:
    """The shipped Home Office code table: code -> (category, status, old category, violent)."""
    import csv
    import io

    text = resources.files("iomscore").joinpath("_data/ho_offence_codes.csv").read_text("utf-8")
    out: dict[str, tuple[str, str, str, bool]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["offence_code"]] = (
            row["actuarial_category"], row["mapping_status"], row["category_at_414ce2a"],
            row["is_violent_sanction"] == "1",
        )
    return out


@dataclass(frozen=True)
class HomeOfficeCodeArrays:
    """The shipped Home Office mapping as lookup arrays indexed by the code's five digits.

    ``category`` is the actuarial category code used (removed codes: their 414ce2a category),
    -1 for a code not in the mapping; ``status`` the index in ``HO_MAPPING_STATUSES`` (-1 none);
    ``group`` the iomscore taxonomy index; ``violent`` the violent-sanction flag.
    """

    category: np.ndarray
    status: np.ndarray
    group: np.ndarray
    violent: np.ndarray


@lru_cache(maxsize=1)
def ho_code_arrays() -> HomeOfficeCodeArrays:
    """Lookup arrays of the Home Office mapping (built once, on first use).

    Examples
    --------
    >>> from iomscore.schema._vocabulary import ACTUARIAL_CATEGORIES
    >>> a = ho_code_arrays()
    >>> ACTUARIAL_CATEGORIES[a.category[10400]], int(a.category[99999])
    ('VIOLENCE_AGAINST_THE_PERSON_SUB_ABH', -1)
    """
    from ._vocabulary import ACTUARIAL_CATEGORIES, HO_MAPPING_STATUSES

    size = 100_000
    category = np.full(size, -1, dtype=np.int16)
    status = np.full(size, -1, dtype=np.int8)
    group = np.full(size, -1, dtype=np.int16)
    violent = np.zeros(size, dtype=bool)
    tax = offence_taxonomy()
    for code in _ho_table():
        hit = _resolve_ho_code(code)
        i = int(code)
        category[i] = ACTUARIAL_CATEGORIES.index(hit.actuarial_category)
        status[i] = HO_MAPPING_STATUSES.index(hit.status)
        group[i] = tax.index(hit.group)
        violent[i] = hit.violent_sanction
    return HomeOfficeCodeArrays(category, status, group, violent)


@lru_cache(maxsize=8192)
def _resolve_ho_code(code: str) -> HomeOfficeOffence:
    from ._vocabulary import ACTUARIAL_CATEGORY_GROUP

    key = str(code).strip()
    if len(key) != 5 or not set(key) <= _HO_CODE_CHARS:
        raise OffenceCodeError(BAD_HO_CODE.format(code=code))
    entry = _ho_table().get(key)
    if entry is None:
        raise OffenceCodeError(UNKNOWN_HO_CODE.format(code=key))
    category, status, old, violent = entry
    warning: str | None = None
    if status == "removed_at_f0c8151":
        category = old
        warning = REMOVED_HO_CODE.format(code=key, category=category)
    elif status == "recategorised_at_f0c8151":
        warning = RECATEGORISED_HO_CODE.format(code=key, old=old, category=category)
    if category == "UNKNOWN":
        warning = NO_CATEGORY_HO_CODE.format(code=key)
    return HomeOfficeOffence(key, category, ACTUARIAL_CATEGORY_GROUP[category], status, violent, warning)
