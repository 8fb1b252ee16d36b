"""Rates by group: of the people in each group, how many were counted, and what share.

One engine behind every "k of n, by group" figure iomscore reports: the selection rates of a
recommendation (:func:`iomscore.cohort.selection_rates`), the override rates of a panel
(:func:`iomscore.cohort.override_rates`) and the group sizes of :func:`iomscore.fairness.audit`.
They all read group labels through :func:`normalise_labels` and order groups with
:func:`sorted_groups`, so a panel pack and an audit of the same people count the same groups.

Missing labels (``None``, ``NaN``, ``pandas.NA``, ``NaT``, the empty string and strings made
only of spaces) all form the group :data:`~iomscore.schema.NOT_RECORDED` (``"not recorded"``).
Nobody is dropped: for every characteristic, the group counts add up to the people given.

Examples
--------
>>> rates = group_rates([True, False, False, True], {"sex": ["F", "F", None, "M"]})
>>> [(g.group, g.n, g.count) for g in rates.rows]
[('F', 2, 1), ('M', 1, 1), ('not recorded', 1, 0)]
>>> rates.formatted()
'2 of 4 (50.0%)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from iomscore.fairness._common import as_1d, check_length, check_min_group_size
from iomscore.schema._vocabulary import NOT_RECORDED

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DEFAULT_MIN_GROUP_SIZE",
    "NOT_RECORDED",
    "GroupRate",
    "GroupRates",
    "format_rate",
    "group_rates",
    "normalise_labels",
    "sorted_groups",
]

#: Groups with fewer people than this are flagged ``small``: one person moves their rate a lot.
DEFAULT_MIN_GROUP_SIZE: Final = 10

_NOT_BOOLEAN: Final = (
    "{name} must say, for each person, whether they are counted (True/False or 1/0); "
    "found other values such as {values}."
)
_UNKNOWN_CHARACTERISTIC: Final = "no characteristic {name!r} in groups; have {known}"
_NOT_A_GROUPS_MAPPING: Final = (
    "groups must be a mapping of characteristic name to one label per person, e.g. "
    "{{'ethnicity': [...], 'sex': [...]}}; got {type_name}."
)
_BAD_NAME: Final = "Characteristic names must be non-empty strings; got {name!r}."
_NO_SUCH_COUNT: Final = "no count named {name!r}; have {known}"
_NO_RATE: Final = "no rate"


# --------------------------------------------------------------------------------------------
# Labels.
# --------------------------------------------------------------------------------------------
def _label(value: Any) -> str:
    if value is None:
        return NOT_RECORDED
    if isinstance(value, str):
        stripped = value.strip()
        return stripped if stripped else NOT_RECORDED
    if isinstance(value, bytes):
        return _label(value.decode("utf-8", errors="replace"))
    try:
        if value != value:  # noqa: PLR0124 - NaN and NaT are not equal to themselves
            return NOT_RECORDED
    except (TypeError, ValueError):  # pandas.NA refuses to be a bool
        return NOT_RECORDED
    return str(value).strip() or NOT_RECORDED


def normalise_labels(values: Any, name: str) -> npt.NDArray[np.str_]:
    """Return group labels as a numpy string array, with missing values as ``"not recorded"``.

    Parameters
    ----------
    values : array-like
        One label per person.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    numpy.ndarray
        Unicode strings, stripped of surrounding spaces; missing labels (``None``, ``NaN``,
        ``pandas.NA``, ``NaT``, ``""`` and spaces) replaced by ``"not recorded"``.

    Examples
    --------
    >>> normalise_labels(["a", None, " ", float("nan"), "b "], "race").tolist()
    ['a', 'not recorded', 'not recorded', 'not recorded', 'b']
    """
    arr = as_1d(values, name)
    if arr.size == 0:
        return np.array([], dtype=str)
    if arr.dtype.kind in "US":
        stripped = np.char.strip(arr.astype(str))
        return np.where(stripped == "", NOT_RECORDED, stripped)
    if arr.dtype.kind == "f":
        return np.where(np.isnan(arr), NOT_RECORDED, arr.astype(str))
    if arr.dtype.kind in "biu":
        return arr.astype(str)
    # Object (or other) arrays: label each distinct value once, then broadcast by position.
    # Keyed by type as well, so that 1, 1.0 and True (equal as keys) keep their own labels.
    cache: dict[tuple[type, Any], str] = {}
    out: list[str] = []
    for v in arr.tolist():
        try:
            text = cache.get((type(v), v))
        except TypeError:  # unhashable: label it without the cache
            out.append(_label(v))
            continue
        if text is None:
            text = cache[(type(v), v)] = _label(v)
        out.append(text)
    return np.array(out, dtype=str)


def sorted_groups(labels: npt.NDArray[np.str_]) -> list[str]:
    """Distinct labels in alphabetical (character-code) order, with ``"not recorded"`` last.

    Examples
    --------
    >>> sorted_groups(normalise_labels(["b", None, "a", "b"], "g"))
    ['a', 'b', 'not recorded']
    """
    distinct = [str(v) for v in np.unique(labels)]
    if NOT_RECORDED in distinct:
        distinct.remove(NOT_RECORDED)
        distinct.append(NOT_RECORDED)
    return distinct


def _count_of(extra: tuple[tuple[str, int], ...], name: str) -> int:
    for key, value in extra:
        if key == name:
            return value
    raise KeyError(_NO_SUCH_COUNT.format(name=name, known=[k for k, _ in extra]))


def format_rate(count: int, n: int) -> str:
    """``count`` of ``n`` with the share to one decimal place, e.g. ``"3 of 41 (7.3%)"``.

    Examples
    --------
    >>> format_rate(3, 41), format_rate(0, 0)
    ('3 of 41 (7.3%)', '0 of 0 (no rate)')
    """
    if n == 0:
        return f"{count} of {n} ({_NO_RATE})"
    return f"{count} of {n} ({100.0 * count / n:.1f}%)"


# --------------------------------------------------------------------------------------------
# Result types.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupRate:
    """The people of one group of one characteristic, and how many of them were counted.

    Attributes
    ----------
    characteristic, group : str
        E.g. ``"ethnicity"`` and ``"not recorded"``.
    n : int
        People in the group (the denominator).
    count : int
        People in the group who were counted (the numerator).
    rate : float or None
        ``count / n``; ``None`` only when ``n`` is 0.
    small : bool
        ``n`` is below the result's ``min_group_size``: do not compare this rate.
    extra : tuple of (str, int)
        Further counts within the group, by name (e.g. ``("eligible", 4)``).
    """

    characteristic: str
    group: str
    n: int
    count: int
    rate: float | None
    small: bool
    extra: tuple[tuple[str, int], ...] = ()

    def count_of(self, name: str) -> int:
        """One of the :attr:`extra` counts, by name."""
        return _count_of(self.extra, name)

    def formatted(self) -> str:
        """The rate as counts and a percentage with one decimal, e.g. ``"3 of 41 (7.3%)"``."""
        return format_rate(self.count, self.n)


@dataclass(frozen=True)
class GroupRates:
    """Rates overall and for every group of every characteristic, from :func:`group_rates`.

    For each characteristic the groups' ``n`` add up to :attr:`n`, their ``count`` to
    :attr:`count`, and each extra count to the overall extra count.

    Attributes
    ----------
    n, count : int
        People given, and people counted.
    rate : float or None
        ``count / n``; ``None`` when nobody was given.
    rows : tuple of GroupRate
        Characteristics in the order asked for; groups alphabetical, ``"not recorded"`` last.
    min_group_size : int
        Groups with fewer people are flagged ``small``.
    extra : tuple of (str, int)
        The extra counts over everyone.
    """

    n: int
    count: int
    rate: float | None
    rows: tuple[GroupRate, ...]
    min_group_size: int
    extra: tuple[tuple[str, int], ...] = ()

    @property
    def characteristics(self) -> tuple[str, ...]:
        """The characteristics reported, in order."""
        return tuple(dict.fromkeys(r.characteristic for r in self.rows))

    def groups(self, characteristic: str) -> tuple[GroupRate, ...]:
        """The rows of one characteristic."""
        return tuple(r for r in self.rows if r.characteristic == characteristic)

    def count_of(self, name: str) -> int:
        """One of the overall :attr:`extra` counts, by name."""
        return _count_of(self.extra, name)

    def formatted(self) -> str:
        """The overall rate as counts and a percentage, e.g. ``"3 of 41 (7.3%)"``."""
        return format_rate(self.count, self.n)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        data = asdict(self)
        data["extra"] = dict(self.extra)
        data["rows"] = [{**asdict(r), "extra": dict(r.extra)} for r in self.rows]
        return data

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame with one row per group (requires pandas).

        Columns: ``characteristic, group, n, count, rate, small``, one column per extra
        count, and ``formatted``.

        Examples
        --------
        >>> rates = group_rates([1, 0, 1], {"sex": ["F", "M", "F"]}, min_group_size=1)
        >>> rates.to_frame()[["group", "n", "count", "formatted"]].to_dict("list")
        {'group': ['F', 'M'], 'n': [2, 1], 'count': [2, 0], 'formatted': ['2 of 2 (100.0%)', '0 of 1 (0.0%)']}
        """
        import pandas as pd

        names = [k for k, _ in self.extra]
        columns = ["characteristic", "group", "n", "count", "rate", "small", *names, "formatted"]
        rows = [
            {
                "characteristic": r.characteristic,
                "group": r.group,
                "n": r.n,
                "count": r.count,
                "rate": r.rate,
                "small": r.small,
                **dict(r.extra),
                "formatted": r.formatted(),
            }
            for r in self.rows
        ]
        return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------
# The engine.
# --------------------------------------------------------------------------------------------
def _as_flags(values: Any, name: str, n: int) -> npt.NDArray[np.bool_]:
    arr = as_1d(values, name)
    check_length(arr, name, n, "counted")
    if arr.dtype == bool or arr.size == 0:
        return arr.astype(bool)
    try:
        as_float = arr.astype(np.float64)
    except (TypeError, ValueError):
        as_float = None
    if as_float is None or not np.isin(as_float, (0.0, 1.0)).all():
        shown = ", ".join(repr(v) for v in list(dict.fromkeys(arr.tolist()))[:5])
        raise ValueError(_NOT_BOOLEAN.format(name=name, values=shown))
    return as_float == 1.0


def _characteristics(
    groups: Any, characteristics: Sequence[str] | None
) -> dict[str, Any]:
    if hasattr(groups, "columns") and not isinstance(groups, Mapping):
        groups = {str(c): groups[c] for c in groups.columns}
    if not isinstance(groups, Mapping):
        raise TypeError(_NOT_A_GROUPS_MAPPING.format(type_name=type(groups).__name__))
    names = list(groups) if characteristics is None else list(characteristics)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(_BAD_NAME.format(name=name))
        if name not in groups:
            raise KeyError(_UNKNOWN_CHARACTERISTIC.format(name=name, known=sorted(groups)))
    return {name: groups[name] for name in names}


def group_rates(
    counted: Any,
    groups: Mapping[str, Any] | None = None,
    *,
    characteristics: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> GroupRates:
    """Count people, and the people counted, overall and within every group.

    Parameters
    ----------
    counted : array-like of bool, shape (n,)
        For each person given, whether they are counted in the numerator (selected,
        overridden, ...).
    groups : mapping of str to array-like of shape (n,), optional
        One label per person for each characteristic, e.g. ``{"ethnicity": [...]}``; a pandas
        DataFrame is accepted. Missing labels form the group ``"not recorded"``; nobody is
        dropped. Without ``groups`` only the overall rate is given.
    characteristics : sequence of str, optional
        Which characteristics of ``groups`` to report, in this order (default: all).
    extra : mapping of str to array-like of bool, shape (n,), optional
        Further counts to make within each group (e.g. ``{"eligible": [...]}``).
    min_group_size : int
        Groups with fewer people are flagged ``small``.

    Returns
    -------
    GroupRates

    Raises
    ------
    ValueError, TypeError, KeyError
        With a message naming the argument: lengths differ, ``counted`` is not true/false,
        an unknown characteristic is asked for.

    Examples
    --------
    >>> rates = group_rates([1, 0, 0, 1, 0], {"ethnicity": ["a", "b", "", "a", "b"]},
    ...     extra={"eligible": [1, 1, 0, 1, 1]}, min_group_size=2)
    >>> [(g.group, g.formatted(), g.count_of("eligible"), g.small) for g in rates.rows]
    [('a', '2 of 2 (100.0%)', 2, False), ('b', '0 of 2 (0.0%)', 2, False), ('not recorded', '0 of 1 (0.0%)', 0, True)]
    """
    min_group_size = check_min_group_size(min_group_size)
    n = int(as_1d(counted, "counted").shape[0])
    flags = _as_flags(counted, "counted", n)
    extras = {name: _as_flags(v, f"extra[{name!r}]", n) for name, v in (extra or {}).items()}
    chosen = {} if groups is None else _characteristics(groups, characteristics)

    rows: list[GroupRate] = []
    for name, values in chosen.items():
        labels = normalise_labels(values, f"groups[{name!r}]")
        check_length(labels, f"groups[{name!r}]", n, "counted")
        distinct, inverse = np.unique(labels, return_inverse=True)
        inverse = inverse.reshape(-1)
        k = distinct.size
        sizes = np.bincount(inverse, minlength=k)
        hits = np.bincount(inverse[flags], minlength=k)
        extra_hits = {e: np.bincount(inverse[f], minlength=k) for e, f in extras.items()}
        position = {str(g): i for i, g in enumerate(distinct.tolist())}
        for g in sorted_groups(labels):
            i = position[g]
            size, hit = int(sizes[i]), int(hits[i])
            rows.append(
                GroupRate(
                    characteristic=name,
                    group=g,
                    n=size,
                    count=hit,
                    rate=hit / size,
                    small=size < min_group_size,
                    extra=tuple((e, int(c[i])) for e, c in extra_hits.items()),
                )
            )
    total = int(flags.sum())
    return GroupRates(
        n=n,
        count=total,
        rate=total / n if n else None,
        rows=tuple(rows),
        min_group_size=min_group_size,
        extra=tuple((e, int(f.sum())) for e, f in extras.items()),
    )
