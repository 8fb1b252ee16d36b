"""Shared test configuration: hypothesis profiles and the reference-data location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: ../shared/data beside the project root; tests read reference data from here, never a copy.
SHARED_DATA = Path(os.environ.get("IOMSCORE_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def _require_data(relative: str) -> Path:
    """Path of a reference file; in CI a missing file fails the test, elsewhere it skips."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"reference data missing in CI: {path}")
        pytest.skip(f"reference data not available: {path}")
    return path


@pytest.fixture(scope="session")
def require_data() -> object:
    """Fixture form of :func:`_require_data`: ``require_data("ogrs3/reference-cases.json")``."""
    return _require_data
