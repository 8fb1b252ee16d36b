"""Registers the ``browser`` marker for the report browser test (as tests/cohort does for the pack)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: renders HTML in headless Chromium (fails in CI without it)"
    )
