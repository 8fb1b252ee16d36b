"""Scorers by name are made once: spec files are read again only when they change."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import iomscore
from iomscore.scoring import _spec
from iomscore.scoring._registry import clear_scorer_cache
from iomscore.scoring._spec import PointsSpec, SpecError


def tiny_spec(points: int = 1) -> PointsSpec:
    return PointsSpec.model_validate({
        "name": "tiny-cache", "version": "1", "title": "Tiny",
        "factors": [{"name": "r", "feature": "offences_12m_at_risk", "label": "Recent", "bins": [
            {"upper": 1, "points": 0, "reason": "none"}, {"lower": 1, "points": points, "reason": "some"}]}],
        "bands": [{"name": "all"}],
    })


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Every spec file read (through the one function that reads hashed documents)."""
    clear_scorer_cache()
    seen: list[Path] = []
    original = _spec.read_hashed

    def counting(path: Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(_spec, "read_hashed", counting)
    yield seen
    clear_scorer_cache()


def referral() -> iomscore.Referral:
    return iomscore.Referral(
        person_id="P", assessment_date="2025-06-01", date_of_birth="1995-02-01", sex="male",
        sanctions=[{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                    "offence_group": "burglary_domestic", "disposal": "community_order"}],
    )


def test_a_shipped_spec_by_name_is_read_once(reads: list[Path]) -> None:
    results = [iomscore.score(referral(), scorer="iom-priority") for _ in range(10)]
    assert len({r.model_dump_json() for r in results}) == 1
    spec_reads = [p for p in reads if p.name == "iom-priority.json"]
    assert len(spec_reads) == 1, reads
    assert iomscore.get_scorer("iom-priority") is iomscore.get_scorer("iom-priority")


def test_builtins_are_made_once() -> None:
    clear_scorer_cache()
    assert iomscore.get_scorer("ogrs3") is iomscore.get_scorer("ogrs3")
    assert iomscore.get_scorer("snsv") is iomscore.get_scorer("snsv")


def test_a_spec_path_is_read_once_and_again_when_edited(tmp_path: Path, reads: list[Path]) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(tiny_spec(points=1).to_json())
    first = [iomscore.get_scorer(str(path)) for _ in range(5)]
    assert len(reads) == 1 and all(s is first[0] for s in first)
    assert iomscore.score(referral(), scorer=str(path)).score == 1.0
    # A reviewed edit, rehashed: the new content is scored.
    path.write_text(tiny_spec(points=4).to_json())
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert iomscore.score(referral(), scorer=str(path)).score == 4.0
    assert len(reads) == 2


def test_an_edited_file_whose_hash_no_longer_matches_is_refused(tmp_path: Path, reads: list[Path]) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(tiny_spec().to_json())
    assert iomscore.get_scorer(path).identity.name == "tiny-cache"
    data = json.loads(path.read_text())
    data["factors"][0]["bins"][1]["points"] = 3  # edited after hashing, same length
    path.write_text(json.dumps(data, indent=2))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(SpecError, match="does not match"):
        iomscore.get_scorer(path)
    with pytest.raises(SpecError, match="does not match"):  # still refused: nothing cached
        iomscore.get_scorer(path)


def test_a_touched_but_unchanged_file_keeps_its_scorer(tmp_path: Path, reads: list[Path]) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(tiny_spec().to_json())
    before = iomscore.get_scorer(path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert iomscore.get_scorer(path) is before
    assert len(reads) == 2


def test_the_cache_is_safe_across_threads(tmp_path: Path, reads: list[Path]) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(tiny_spec().to_json())
    got: list[object] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(50):
            got.append(iomscore.get_scorer(path))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 400
    assert len({id(s) for s in got}) == 1  # racing first loads settle on one shared scorer
    assert len(reads) <= 8
