"""The batches of recently validated referrals, kept so that scoring one alone does not convert
it again: bounded, and a referral still held is not pushed out by referrals validated and
discarded (as a service's requests are)."""

from __future__ import annotations

import weakref

import iomscore
from iomscore.schema import _referral
from iomscore.schema._referral import referral_batch

_DATA = {
    "person_id": "P1", "assessment_date": "2025-06-01", "date_of_birth": "1995-02-01", "sex": "male",
    "sanctions": [{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                   "offence_group": "burglary_domestic", "disposal": "community_order"}],
}


def _cached(r: iomscore.Referral) -> bool:
    """True when ``r`` is scored from its validation batch (a conversion makes a new batch)."""
    return referral_batch([r]) is referral_batch([r])


class _Gone:
    pass


def test_entries_of_referrals_gone_are_dropped_before_a_held_one() -> None:
    """A full cache of referrals validated and discarded (their entries' weak references dead)
    makes room by dropping those, not the oldest entry when its referral is still held."""
    _referral._RECENT_BATCHES.clear()
    held = iomscore.Referral.model_validate(_DATA)
    gone = _Gone()
    dead = weakref.ref(gone)
    del gone
    assert dead() is None
    for k in range(_referral._RECENT_LIMIT):  # keys no live object has (ids are positive)
        _referral._RECENT_BATCHES[-1 - k] = (dead, referral_batch([held]))  # type: ignore[assignment]
    kept = [iomscore.Referral.model_validate({**_DATA, "person_id": f"K{i}"}) for i in range(_referral._RECENT_LIMIT // 2)]
    assert _cached(held)
    assert all(_cached(r) for r in kept)
    assert len(_referral._RECENT_BATCHES) == _referral._RECENT_LIMIT
    _referral._RECENT_BATCHES.clear()


def test_the_cache_is_bounded_and_drops_the_oldest_held() -> None:
    held = [iomscore.Referral.model_validate({**_DATA, "person_id": f"H{i}"}) for i in range(2 * _referral._RECENT_LIMIT)]
    assert len(_referral._RECENT_BATCHES) <= _referral._RECENT_LIMIT
    assert not _cached(held[0])
    assert _cached(held[-1])
    assert iomscore.score(held[0], "iom-priority") == iomscore.score(held[-1].model_copy(update={"person_id": "H0"}), "iom-priority")
