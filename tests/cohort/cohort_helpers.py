"""Referral builders shared by the cohort and panel tests (until ``iomscore.synth`` exists)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import iomscore
from iomscore import Referral

ASSESSMENT = dt.date(2025, 6, 1)
NEIGHBOURHOOD = ("burglary_domestic", "personal_robbery", "theft_from_person", "theft_of_vehicle")
OTHER = ("shop_theft", "common_assault", "public_order", "drug_possession")
ETHNICITY = ("white", "black", "asian", "mixed", None)
NEEDS = ("no_need", "some_need", "significant_need", "not_assessed")


def _known_groups() -> tuple[str, ...]:
    codes = set(iomscore.offence_taxonomy().codes)
    return tuple(g for g in NEIGHBOURHOOD + OTHER if g in codes)


def make_referral(
    person_id: str,
    *,
    offences: int = 1,
    group: str = "burglary_domestic",
    days_ago: int = 60,
    spacing: int = 20,
    rosh: str | None = None,
    mappa_level: int | None = None,
    needs: dict[str, str] | None = None,
    birth: str = "1990-02-01",
    ethnicity: str | None = None,
    sex: str | None = "male",
) -> Referral:
    """A referral with ``offences`` proven offences of ``group``, the latest ``days_ago`` days
    before the assessment date, one every ``spacing`` days going back."""
    sanctions = []
    for k in range(offences):
        off = ASSESSMENT - dt.timedelta(days=days_ago + k * spacing)
        sanctions.append(
            {
                "offence_date": off.isoformat(),
                "sanction_date": (off + dt.timedelta(days=10)).isoformat()
                if off + dt.timedelta(days=10) <= ASSESSMENT
                else ASSESSMENT.isoformat(),
                "offence_group": group,
                "disposal": "community_order",
            }
        )
    data: dict[str, Any] = {
        "person_id": person_id,
        "assessment_date": ASSESSMENT.isoformat(),
        "date_of_birth": birth,
        "sex": sex,
        "sanctions": sanctions,
        "serious_harm": {"rosh_level": rosh, "mappa_level": mappa_level},
        "needs": needs or {},
        "protected": {"ethnicity": ethnicity},
    }
    return Referral.model_validate(data)


def demo_referrals(n: int = 30, seed: int = 0) -> list[Referral]:
    """A varied referral list (until ``iomscore.synth`` is available)."""
    rng = random.Random(seed)
    groups = _known_groups()
    out = []
    for i in range(n):
        neighbourhood = rng.random() < 0.7
        pool = [g for g in groups if (g in NEIGHBOURHOOD) == neighbourhood] or list(groups)
        roll = rng.random()
        out.append(
            make_referral(
                f"IOM-{i:04d}",
                offences=rng.randint(0, 9),
                group=rng.choice(pool),
                days_ago=rng.randint(5, 500),
                spacing=rng.randint(10, 90),
                rosh="high" if roll < 0.08 else ("very_high" if roll < 0.1 else rng.choice(["low", "medium", None])),
                mappa_level=2 if 0.1 <= roll < 0.13 else None,
                needs={p: rng.choice(NEEDS) for p in iomscore.PATHWAYS},
                birth=f"{rng.randint(1970, 2008)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                ethnicity=rng.choice(ETHNICITY),
                sex=rng.choice(["male", "male", "female", None]),
            )
        )
    return out
