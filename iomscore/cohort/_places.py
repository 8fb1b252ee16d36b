"""Places that turn over: who holds a place now, and how many places free up when.

A cohort's capacity is a number of places, and the people in them leave: a licence ends, an
IOM house stay of about four months comes to an end. An :class:`Occupancy` lists the places
taken today, one :class:`Placement` each (person, cohort, start date, expected end date), read
from the occupancy form of the current-cohort file (:func:`read_occupancy`: a CSV with the
columns ``person_id, cohort, start_date, expected_end_date``).

:func:`forecast_places` counts, for each cohort, how many places are free at the meeting date
(vacant places and the places of people expected to have left by then) and how many free up
in each of the next three calendar months after it, and lists who is expected to leave. An
occupant with no expected end date is expected to leave ``stay_months`` after their start
when the cohort's capacity gives a usual stay (marked *estimated*), and is otherwise counted
as having no end date. The counts assume nobody new enters: they say when places come free,
not who will fill them.

Month windows follow the calendar from the meeting date: month 1 is the day after the
meeting to the same day a month later (clamped to the month's end), and so on; a person whose
expected end date is on or before the meeting date has left by the meeting.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from pydantic import BaseModel, ConfigDict

from .._errors import IomscoreError
from ..scoring._leaves import add_months

__all__ = [
    "OCCUPANCY_COLUMNS",
    "CohortPlaces",
    "Leaver",
    "Occupancy",
    "OccupancyError",
    "Placement",
    "PlacesForecast",
    "forecast_places",
    "is_occupancy_text",
    "read_occupancy",
]

#: Columns of the occupancy form of the current-cohort file, in order.
OCCUPANCY_COLUMNS: Final = ("person_id", "cohort", "start_date", "expected_end_date")
#: How many calendar months after the meeting the forecast counts.
FORECAST_MONTHS: Final = 3
_EPOCH: Final = dt.date(1970, 1, 1)

_MISSING_COLUMNS: Final = "current cohort file {source}: the occupancy form needs the columns {columns}; missing {missing}"
_BAD_DATE: Final = "current cohort file {source}, line {line}, {field}: {value!r} is not a date (YYYY-MM-DD)"
_NO_VALUE: Final = "current cohort file {source}, line {line}, {field}: empty; every place has a {field}"
_END_BEFORE_START: Final = (
    "current cohort file {source}, line {line}, expected_end_date: {end} is before start_date {start}"
)
_TWO_PLACES: Final = "current cohort file {source}, line {line}, person_id: {person!r} already holds a place (line {first})"
_BAD_MONTHS: Final = "months must be a whole number from 1 to 12, not {value!r}"


class OccupancyError(IomscoreError, ValueError):
    """An occupancy file is malformed: the message names the file, line and field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Placement(_Frozen):
    """One place taken: who, in which cohort, since when and until when (expected)."""

    person_id: str
    cohort: str
    start_date: dt.date
    expected_end_date: dt.date | None = None
    line: int | None = None


class Occupancy(_Frozen):
    """The places taken today, one :class:`Placement` per person.

    Examples
    --------
    >>> occ = Occupancy.from_csv_text("person_id,cohort,start_date,expected_end_date\\n"
    ...                               "P1,house,2025-01-06,2025-05-06\\n")
    >>> occ.people(), occ.placements[0].expected_end_date.isoformat()
    (('P1',), '2025-05-06')
    """

    placements: tuple[Placement, ...]
    source: str = "<text>"

    def people(self) -> tuple[str, ...]:
        """Every occupant's person_id, in file order."""
        return tuple(p.person_id for p in self.placements)

    def by_cohort(self) -> dict[str, tuple[Placement, ...]]:
        """Placements grouped by cohort name, in file order."""
        out: dict[str, list[Placement]] = {}
        for p in self.placements:
            out.setdefault(p.cohort, []).append(p)
        return {k: tuple(v) for k, v in out.items()}

    @classmethod
    def from_csv_text(cls, text: str, source: str = "<text>") -> Occupancy:
        """Parse the occupancy form (header ``person_id,cohort,start_date,expected_end_date``)."""
        rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip() for h in next(rows, [])]
        missing = [c for c in OCCUPANCY_COLUMNS if c not in header]
        if missing:
            raise OccupancyError(_MISSING_COLUMNS.format(source=source, columns=", ".join(OCCUPANCY_COLUMNS),
                                                         missing=", ".join(missing)))
        at = {c: header.index(c) for c in OCCUPANCY_COLUMNS}
        out: list[Placement] = []
        first: dict[str, int] = {}
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            cells = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
            for field in ("person_id", "start_date"):
                if not cells[field]:
                    raise OccupancyError(_NO_VALUE.format(source=source, line=line, field=field))
            start = _date(cells["start_date"], source, line, "start_date")
            end = _date(cells["expected_end_date"], source, line, "expected_end_date") if cells["expected_end_date"] else None
            if end is not None and end < start:
                raise OccupancyError(_END_BEFORE_START.format(source=source, line=line, end=end, start=start))
            person = cells["person_id"]
            if person in first:
                raise OccupancyError(_TWO_PLACES.format(source=source, line=line, person=person, first=first[person]))
            first[person] = line
            out.append(Placement(person_id=person, cohort=cells["cohort"], start_date=start,
                                 expected_end_date=end, line=line))
        return cls(placements=tuple(out), source=source)


def _date(value: str, source: str, line: int, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise OccupancyError(_BAD_DATE.format(source=source, line=line, field=field, value=value)) from None


def is_occupancy_text(text: str) -> bool:
    """Whether a current-cohort file is in the occupancy form (its first line names the columns).

    Examples
    --------
    >>> is_occupancy_text("person_id,cohort,start_date,expected_end_date\\nP1,fixed,2025-01-01,\\n")
    True
    >>> is_occupancy_text("P1\\nP2\\n")
    False
    """
    head = text.lstrip("\ufeff").split("\n", 1)[0]
    names = {h.strip() for h in head.split(",")}
    return {"person_id", "start_date"} <= names


def read_occupancy(path: str | Path) -> Occupancy:
    """Read the occupancy form of a current-cohort file.

    Raises
    ------
    OccupancyError
        Naming the file, line and field of a missing column, a bad date, an end before its
        start, or a person holding two places.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "current.csv"
    >>> _ = p.write_text("person_id,cohort,start_date,expected_end_date\\nP1,house,2025-01-06,\\n")
    >>> read_occupancy(p).placements[0].expected_end_date is None
    True
    """
    p = Path(path)
    return Occupancy.from_csv_text(p.read_text(encoding="utf-8-sig"), source=str(p))


class CohortPlaces(_Frozen):
    """The places of one cohort at the meeting date and over the next months.

    ``free_at_meeting == max(places - (occupied - leaving_by_meeting), 0)``;
    ``leaving_by_meeting + sum(leaving_in_month) + leaving_later + no_end_date == occupied``.
    """

    cohort: str
    places: int
    occupied: int
    leaving_by_meeting: int
    free_at_meeting: int
    leaving_in_month: tuple[int, ...]
    leaving_later: int
    no_end_date: int
    estimated_ends: int


class Leaver(_Frozen):
    """Someone expected to leave by the meeting or within the forecast months."""

    person_id: str
    cohort: str
    start_date: dt.date
    expected_end_date: dt.date
    estimated: bool
    when: str  # "by the meeting" or "month 1", "month 2", ...


class PlacesForecast(_Frozen):
    """How many places free up by the meeting date and in each of the next months, and who leaves.

    Examples
    --------
    >>> occ = Occupancy.from_csv_text("person_id,cohort,start_date,expected_end_date\\n"
    ...     "P1,house,2025-01-06,2025-03-01\\nP2,house,2025-02-03,2025-04-15\\n")
    >>> f = forecast_places(occ, {"house": 3}, "2025-03-10")
    >>> c = f.cohorts[0]
    >>> c.free_at_meeting, c.leaving_in_month, [x.person_id for x in f.leavers]
    (2, (0, 1, 0), ['P1', 'P2'])
    """

    as_of: dt.date
    months: tuple[dt.date, ...]  # end (inclusive) of each forecast month
    cohorts: tuple[CohortPlaces, ...]
    leavers: tuple[Leaver, ...]

    def get(self, cohort: str) -> CohortPlaces:
        """The places of ``cohort`` (``KeyError`` if the forecast has none)."""
        for c in self.cohorts:
            if c.cohort == cohort:
                return c
        raise KeyError(cohort)

    def leaving_by_meeting(self) -> frozenset[str]:
        """person_ids expected to have left by the meeting date."""
        return frozenset(x.person_id for x in self.leavers if x.when == "by the meeting")

    def lines(self) -> list[str]:
        """One plain-English line per cohort."""
        out = []
        for c in self.cohorts:
            months = ", ".join(f"{n} in month {k} (to {m.isoformat()})"
                               for k, (n, m) in enumerate(zip(c.leaving_in_month, self.months), start=1))
            out.append(
                f"{c.cohort}: {c.places} places, {c.occupied} occupied; {c.free_at_meeting} free at "
                f"{self.as_of.isoformat()} ({c.leaving_by_meeting} leaving by then); then freeing up: {months}"
            )
        return out

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per cohort (requires pandas)."""
        import pandas as pd

        rows = []
        for c in self.cohorts:
            row: dict[str, Any] = {"cohort": c.cohort, "places": c.places, "occupied": c.occupied,
                                   "leaving_by_meeting": c.leaving_by_meeting, "free_at_meeting": c.free_at_meeting}
            for k, n in enumerate(c.leaving_in_month, start=1):
                row[f"leaving_month_{k}"] = n
            row.update(leaving_later=c.leaving_later, no_end_date=c.no_end_date, estimated_ends=c.estimated_ends)
            rows.append(row)
        columns = ["cohort", "places", "occupied", "leaving_by_meeting", "free_at_meeting",
                   *(f"leaving_month_{k}" for k in range(1, len(self.months) + 1)),
                   "leaving_later", "no_end_date", "estimated_ends"]
        return pd.DataFrame(rows, columns=columns)


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def forecast_places(
    occupancy: Occupancy | Sequence[Placement],
    places: Mapping[str, int],
    as_of: dt.date | str,
    *,
    months: int = FORECAST_MONTHS,
    stay_months: Mapping[str, int | None] | None = None,
) -> PlacesForecast:
    """Count the places free at ``as_of`` and freeing up in each of the next ``months``.

    Parameters
    ----------
    occupancy : Occupancy or sequence of Placement
        The places taken (occupants of cohorts not in ``places`` are ignored).
    places : mapping of cohort name to int
        Each cohort's number of places, in the order the forecast lists them.
    as_of : date or ISO date str
        The meeting date.
    months : int
        Calendar months after ``as_of`` to count (default 3).
    stay_months : mapping of cohort name to int, optional
        A cohort's usual stay: an occupant with no expected end date is expected to leave this
        many months after their start (counted as estimated).

    Returns
    -------
    PlacesForecast
        Per cohort in ``places`` order, and the leavers by expected end date, cohort and
        person_id.

    Examples
    --------
    >>> occ = Occupancy.from_csv_text("person_id,cohort,start_date,expected_end_date\\n"
    ...     "P1,house,2025-01-31,\\n")
    >>> f = forecast_places(occ, {"house": 1}, "2025-05-01", stay_months={"house": 4})
    >>> f.cohorts[0].leaving_in_month, f.leavers[0].expected_end_date.isoformat(), f.leavers[0].estimated
    ((1, 0, 0), '2025-05-31', True)
    """
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 12:
        raise ValueError(_BAD_MONTHS.format(value=months))
    day0 = (_as_date(as_of) - _EPOCH).days
    bounds = add_months(np.full(months, day0, dtype=np.int64), np.arange(1, months + 1))
    stay = dict(stay_months or {})
    items = [p for p in (occupancy.placements if isinstance(occupancy, Occupancy) else occupancy) if p.cohort in places]
    start = np.array([(p.start_date - _EPOCH).days for p in items], dtype=np.int64)
    given = np.array([p.expected_end_date is not None for p in items], dtype=bool)
    end = np.array([(p.expected_end_date - _EPOCH).days if p.expected_end_date is not None else 0 for p in items],
                   dtype=np.int64)
    usual = np.array([stay.get(p.cohort) or 0 for p in items], dtype=np.int64)
    estimated = ~given & (usual > 0)
    if estimated.any():
        end = np.where(estimated, add_months(start, usual), end)
    known = given | estimated
    # 0: by the meeting, 1..months: that month, months + 1: later, -1: no end date
    window = np.where(known, np.searchsorted(np.concatenate([[day0], bounds]), end, side="left"), -1)
    cohort = np.array([p.cohort for p in items], dtype=object)
    counts = Counter(zip(cohort.tolist(), window.tolist()))
    n_est = Counter(cohort[estimated].tolist())
    per = []
    for name, n_places in places.items():
        occupied = sum(v for (c, _), v in counts.items() if c == name)
        leaving = counts[(name, 0)]
        per.append(CohortPlaces(
            cohort=name, places=int(n_places), occupied=occupied, leaving_by_meeting=leaving,
            free_at_meeting=max(int(n_places) - (occupied - leaving), 0),
            leaving_in_month=tuple(counts[(name, k)] for k in range(1, months + 1)),
            leaving_later=counts[(name, months + 1)], no_end_date=counts[(name, -1)], estimated_ends=n_est[name],
        ))
    soon = np.flatnonzero((window >= 0) & (window <= months))
    order = sorted(soon.tolist(), key=lambda i: (int(end[i]), str(cohort[i]), items[i].person_id))
    leavers = tuple(
        Leaver(person_id=items[i].person_id, cohort=items[i].cohort, start_date=items[i].start_date,
               expected_end_date=_EPOCH + dt.timedelta(days=int(end[i])), estimated=bool(estimated[i]),
               when="by the meeting" if window[i] == 0 else f"month {int(window[i])}")
        for i in order
    )
    month_ends = tuple(_EPOCH + dt.timedelta(days=int(b)) for b in bounds.tolist())
    return PlacesForecast(as_of=_as_date(as_of), months=month_ends, cohorts=tuple(per), leavers=leavers)
