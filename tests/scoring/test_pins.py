"""The pin table (iomscore/scoring/_pins.py) names every shipped model, policy and data file.

When this fails after you shipped or changed a file under models/ or iomscore/_data/, add or
change its line in iomscore/scoring/_pins.py (the message prints it), and say so under
"Scoring changes" in the changelog.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from iomscore.cohort._policy import SelectionPolicy
from iomscore.scoring import _pins
from iomscore.scoring._spec import PointsSpec

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").rglob("*.json"))
DATA = sorted(p for p in (ROOT / "iomscore" / "_data").iterdir() if p.is_file() and not p.name.startswith("."))


def _document(path: Path) -> tuple[str, str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if str(data.get("format", "")).startswith("iomscore.cohort-policy"):
        doc = SelectionPolicy.model_validate(data)
        return "policy", doc.name, doc.compute_sha256()
    spec = PointsSpec.model_validate(data)
    return "spec", spec.name, spec.compute_sha256()


def test_there_are_shipped_files_to_check() -> None:
    assert len(MODELS) >= 3 and len(DATA) >= 3


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_model_and_policy_is_pinned(path: Path) -> None:
    kind, name, sha = _document(path)
    table = {"spec": "SPECS", "policy": "POLICIES"}[kind]
    line = f'    "{name}": "{sha}",'
    pin = _pins.pinned(kind, name)
    assert pin is not None, f"{path.relative_to(ROOT)} has no pin: add to {table} in iomscore/scoring/_pins.py:\n{line}"
    assert pin == sha, (
        f"{path.relative_to(ROOT)} hashes to {sha}, its pin says {pin}: if the change is deliberate, "
        f"change its line in {table} (iomscore/scoring/_pins.py) and note it under Scoring changes:\n{line}"
    )


@pytest.mark.parametrize("path", DATA, ids=lambda p: p.name)
def test_every_shipped_data_file_is_pinned(path: Path) -> None:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    line = f'    "{path.name}": "{sha}",'
    pin = _pins.pinned("data", path.name)
    assert pin is not None, f"iomscore/_data/{path.name} has no pin: add to DATA in iomscore/scoring/_pins.py:\n{line}"
    assert pin == sha, f"iomscore/_data/{path.name} hashes to {sha}, its pin says {pin}; change its line:\n{line}"


def test_every_pin_names_a_shipped_file() -> None:
    """A pin for a file no longer shipped is stale (and would reserve a name for nothing)."""
    shipped = {(k, n) for k, n, _ in map(_document, MODELS)} | {("data", p.name) for p in DATA}
    pins = {(k, n) for k, table in (("spec", _pins.SPECS), ("policy", _pins.POLICIES), ("data", _pins.DATA))
            for n in table}
    assert pins <= shipped, f"pins with no shipped file: {sorted(pins - shipped)}"
