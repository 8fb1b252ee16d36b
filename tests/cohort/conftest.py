"""Fixtures for the cohort-selection and panel tests; registers the ``browser`` marker."""

from __future__ import annotations

import pytest
from cohort_helpers import demo_referrals

import iomscore
from iomscore import Referral


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: renders the panel pack in headless Chromium (fails in CI without it)"
    )


@pytest.fixture(scope="session")
def referrals() -> list[Referral]:
    return demo_referrals(30, seed=1)


@pytest.fixture(scope="session")
def scores(referrals: list[Referral]) -> list[iomscore.ScoreResult]:
    return iomscore.score(referrals)
