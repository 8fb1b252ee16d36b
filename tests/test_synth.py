"""Synthetic referral lists: seeded, valid, and plausible (with tolerances that can fail)."""

from __future__ import annotations

import numpy as np
import pytest

import iomscore
from iomscore import synth
from iomscore.schema._dates import whole_years
from iomscore.schema._rules import check_batch


@pytest.fixture(scope="module")
def table() -> iomscore.ReferralTable:
    return synth.generate(20_000, seed=123)


def test_same_seed_same_table_other_seed_differs() -> None:
    a, b, c = synth.generate(500, 9), synth.generate(500, 9), synth.generate(500, 10)
    for name in ("birth_day", "offence_day", "sanction_day", "group", "disposal", "custody_start", "needs"):
        np.testing.assert_array_equal(getattr(a.batch, name), getattr(b.batch, name))
    assert a.protected["ethnicity"].tolist() == b.protected["ethnicity"].tolist()
    assert not np.array_equal(a.batch.birth_day, c.batch.birth_day)


def test_valid_unless_asked(table: iomscore.ReferralTable) -> None:
    assert not check_batch(table.batch).mask.any()
    bad = synth.generate(2000, 1, bad_fraction=0.1)
    share = check_batch(bad.batch).mask.mean()
    assert 0.06 < share < 0.14


def test_plausible_shapes(table: iomscore.ReferralTable) -> None:
    b = table.batch
    age = whole_years(b.birth_day, b.assessment_day)
    assert age.min() >= 18 and age.max() <= 60
    assert 24 <= np.median(age) <= 32  # skewed young
    per = np.diff(b.sanction_offsets)
    listed = per[b.summary_previous < 0]
    assert 8 <= listed.mean() <= 13
    assert 0.15 <= (listed >= 20).mean() <= 0.30  # a prolific minority...
    assert (listed >= 30).mean() >= 0.05  # ...with many at 30-40
    # the top 10% of people hold a large share of the offences
    top = np.sort(listed)[::-1][: listed.size // 10]
    assert 0.30 <= top.sum() / listed.sum() <= 0.55
    tax = iomscore.offence_taxonomy()
    codes = np.array(tax.codes)[b.group]
    acquisitive = tax.flag_table["acquisitive"][b.group].mean()
    assert 0.4 <= acquisitive <= 0.75
    assert (codes == "shop_theft").mean() >= 0.15


def test_needs_harm_and_protected(table: iomscore.ReferralTable) -> None:
    b = table.batch
    drugs = b.needs[:, iomscore.PATHWAYS.index("drugs_alcohol")]
    assessed = drugs >= 0
    assert 0.05 <= (~assessed).mean() <= 0.11
    assert 0.30 <= (drugs[assessed] == 2).mean() <= 0.50
    harm = table.serious_harm
    serious = (harm.rosh_level >= 2) | (harm.mappa_category > 0)
    assert 0.03 <= serious.mean() <= 0.07
    eth = table.protected["ethnicity"]
    assert 0.65 <= (eth == "White").mean() <= 0.85
    assert 0.01 <= np.equal(eth, None).mean() <= 0.06
    assert 0.80 <= (b.sex == 0).mean() <= 0.90


def test_custody_spells_and_scores_spread(table: iomscore.ReferralTable) -> None:
    b = table.batch
    custody_people = np.diff(b.custody_offsets) > 0
    assert 0.3 <= custody_people.mean() <= 0.9
    scores = iomscore.score_batch(table.take(np.arange(3000)), "ogrs3")
    bands = set(np.asarray(scores.band)[scores.ok].tolist())
    assert {"low", "medium", "high", "very high"} <= bands
