"""The pin table: the sha256 of every model, policy and data file iomscore ships.

This is the one place the package records what its shipped files must hash to. Shipping a
new points spec or selection policy under ``models/`` (or a data file under
``iomscore/_data/``) means adding one line here; changing one means changing its line, and
saying so under "Scoring changes" in the changelog. ``tests/scoring/test_pins.py`` fails when
a shipped file has no pin or a pin it does not match, and prints the line to add.

How the pins are used when loading (:func:`iomscore.scoring._spec.read_hashed`):

- a spec or policy whose ``name`` is pinned loads only if its content hashes to the pin, so a
  shipped file edited and re-hashed, stripped of its ``sha256``, or a second file claiming a
  shipped name, is refused;
- ``SPECS`` and ``POLICIES`` are keyed by the document's ``name`` (its canonical-JSON sha256,
  the ``sha256`` field itself left out, as :meth:`~iomscore.PointsSpec.compute_sha256`
  gives); ``DATA`` by the file's path under ``iomscore/_data`` (the sha256 of its bytes:
  ``sha256sum``).

Examples
--------
>>> pinned("spec", "iom-priority") == SPECS["iom-priority"]
True
>>> pinned("policy", "not-shipped") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["DATA", "POLICIES", "SCORERS", "SPECS", "pinned"]

#: Points specs shipped in ``models/`` (and ``models/examples/``), by spec name.
SPECS: Final[Mapping[str, str]] = {
    "iom-priority": "73781b6e0515eec9dd5577dcfdd804db8fabdcd7e867f788de95512bc44a2d2c",
    "compas-points-2y": "8e2144006cd80b0ec783d5cbedf293e78d316e543d305d32bf24424f2fd77e9d",
}

#: Selection policies shipped in ``models/policies/``, by policy name.
POLICIES: Final[Mapping[str, str]] = {
    "neighbourhood-crime-cohort": "99dc5c1514ffdda1eda82727949a3ca3e4bdbc15a9e300555a8c44534303df1f",
    "iom-fixed-flex-free": "26f5cb5c591a9e45ee5898f1f41dd6dbbd303c39c82e664ccec5e68d87b2b417",
    "iom-house-places": "a1dc17d31b14546e8fb54e03f24203bd7bf9af7bf2c7c59d95c8ce72e7f9b534",
}

#: Data files shipped in ``iomscore/_data/`` (coefficients, offence tables), by file name.
DATA: Final[Mapping[str, str]] = {
    "ho_offence_codes.csv": "226c0904a6def7bb8f8db38b1d7fe64ab5e9ee10cabeea2ea19fb693ed13eb3a",
    "offence_groups.json": "2ea380fde0bea20fd6011997cf34a177732156b792fc0fe10cd319dcbedf163d",
    "ogrs4_coefficients.json": "603be6651234956c279a48f9f019ceffe55d9d413262949a0d0016916cc99558",
}

#: Built-in scorers that are code, not spec files, by name: the sha256 of their model identity
#: (``get_scorer(name).identity.sha256``, hashed over their coefficients and source).
SCORERS: Final[Mapping[str, str]] = {
    "ogrs4g": "0f78056d9031104b692e02ebb31aa8e372432906f37597a34bd817d6f67964d3",
    "ogrs4v": "8e6aa369675b27ecd17ae4cb2af0870d3a0183f99644ee7be275e211f96c4ddb",
    "snsv": "b3b832c942da8badaf903ae547952125677169834630ec48a5943e8768862f72",
    "ogp2": "06ee73830240737330357e47135777e34b6f25c7ab9f314af59f92e0f24ce207",
    "ovp2": "2bf6ac6c15d4dfa2a912cd78aa1495499eab91ead1830d0c0167b954d6197a81",
    "snsv-dynamic": "ac79814776038db89e4e5747ca9fcf20659eedeeebb9e8381c58da4215030cbb",
}

_TABLES: Final[Mapping[str, Mapping[str, str]]] = {"spec": SPECS, "policy": POLICIES, "data": DATA,
                                                   "scorer": SCORERS}


def pinned(kind: str, name: str) -> str | None:
    """The pinned sha256 of the shipped ``kind`` (``"spec"``, ``"policy"``, ``"data"``, ``"scorer"``) ``name``."""
    return _TABLES[kind].get(name)
