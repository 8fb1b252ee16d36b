"""ScoreBatch: results() and result(i) say the same thing, the ranking is computed once, and the
pattern helpers (breakdowns, reason_tuples, combine_codes, float_codes) are exact."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import iomscore
from iomscore import ScoreBatch, synth
from iomscore.scoring._result import (
    BreakdownPart,
    ModelIdentity,
    ScoreResult,
    combine_codes,
    float_codes,
    trusted_model,
)

SCORERS = ("iom-priority", "ogrs3")


@pytest.fixture(scope="module", params=SCORERS)
def batch(request: pytest.FixtureRequest) -> ScoreBatch:
    return iomscore.score_batch(synth.generate(600, seed=4), request.param)


def _ok_rows(b: ScoreBatch) -> list[int]:
    return [int(i) for i in np.flatnonzero(b.ok)]


def test_results_equal_result_i_field_for_field(batch: ScoreBatch) -> None:
    rows = _ok_rows(batch)
    scored = batch if batch.ok.all() else _take(batch, np.asarray(rows))
    many = scored.results()
    assert len(many) == len(scored)
    for i, r in enumerate(many):
        one = scored.result(i)
        assert r == one
        assert r.model_dump_json() == one.model_dump_json()
        assert r.model_fields_set == one.model_fields_set


def test_results_raise_on_an_unscored_row_like_result() -> None:
    b = iomscore.score_batch(synth.generate(300, seed=1), "ogrs3")
    bad = np.flatnonzero(~b.ok)
    assert bad.size, "the synthetic list should have people OGRS3 cannot score"
    with pytest.raises(ValueError, match=f"row {int(bad[0])} was not scored"):
        b.results()


@pytest.mark.parametrize("top", [None, -1, 0, 1, 2, 3, 50])
def test_reason_tuples_match_reason_lines(batch: ScoreBatch, top: int | None) -> None:
    expected = batch.reason_lines(top=top)
    got = batch.reason_tuples(top)
    assert [list(t) for t in got] == expected


def test_breakdowns_match_result(batch: ScoreBatch) -> None:
    breakdowns = batch.breakdowns()
    for i in _ok_rows(batch)[:200]:
        assert breakdowns[i] == batch.result(i).breakdown


def test_ranking_is_computed_once_for_all_results(monkeypatch: pytest.MonkeyPatch) -> None:
    b = iomscore.score_batch(synth.generate(200, seed=2))
    computed: list[int] = []  # rows ranked by each computation that did not use the cache
    original = ScoreBatch._rank_rows

    def counting(self: ScoreBatch, rows: np.ndarray | None) -> np.ndarray:
        if "_ranked" not in self.__dict__:
            computed.append(len(self) if rows is None else len(rows))
        return original(self, rows)

    monkeypatch.setattr(ScoreBatch, "_rank_rows", counting)
    b.results()
    b.reason_lines(top=3)
    b.reason_tuples(3)
    [b.result(i) for i in range(len(b))]
    assert computed == [len(b)]  # one ranking of the batch, never one per person


def test_result_i_ranks_only_its_row() -> None:
    b = iomscore.score_batch(synth.generate(50, seed=3))
    b.result(7)
    assert "_ranked" not in b.__dict__  # no whole-batch ranking for one person
    ranked = b.ranked_parts()
    assert not ranked.flags.writeable
    assert ranked is b.ranked_parts()
    again = replace(b, person_id=b.person_id)
    assert "_ranked" not in again.__dict__  # a copy ranks afresh


def test_result_i_matches_cached_ranking() -> None:
    b = iomscore.score_batch(synth.generate(120, seed=8), "ogrs3")
    rows = _ok_rows(b)
    before = [b.result(i) for i in rows]
    b.ranked_parts()
    assert [b.result(i) for i in rows] == before


def test_empty_batch() -> None:
    b = iomscore.score_batch(synth.generate(3, seed=0).take(np.zeros(0, dtype=np.int64)))
    assert b.results() == []
    assert b.breakdowns().shape == (0,) and b.reason_tuples().shape == (0,)


def test_float_codes_are_exact() -> None:
    v = np.array([0.0, -0.0, 1.5, np.nan, 1.5, 0.0, np.inf, -np.inf, 3.0])
    c = float_codes(v)
    assert c[0] == c[5] and c[2] == c[4]
    assert c[0] != c[1]  # -0.0 prints differently in JSON
    assert len(set(c.tolist())) == 7
    ints = float_codes(np.array([3.0, -2.0, 3.0]))
    assert ints.tolist() == [5, 0, 5]


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 2**40), st.integers(0, 2**40), st.integers(0, 1)),
        min_size=1,
        max_size=40,
    )
)
def test_combine_codes_groups_equal_rows_only(rows: list[tuple[int, int, int, int]]) -> None:
    columns = [np.array(col, dtype=np.int64) for col in zip(*rows)]
    representative, inverse = combine_codes(columns)
    distinct = sorted(set(rows))
    assert len(representative) == len(distinct)
    for i, row in enumerate(rows):
        assert rows[int(representative[inverse[i]])] == row
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (inverse[i] == inverse[j]) == (rows[i] == rows[j])


def test_trusted_model_is_a_validated_model() -> None:
    model = ModelIdentity(name="m", version="1", sha256="a" * 64, kind="points")
    part = trusted_model(BreakdownPart, {"name": "a", "label": "A", "value": 2.0, "reason": "r"})
    fields = {
        "person_id": "P",
        "score": 2.0,
        "band": "low",
        "probabilities": {},
        "unit": "points",
        "breakdown": (part,),
        "reasons": ("r: +2",),
        "model": model,
        "warnings": (),
    }
    fast = trusted_model(ScoreResult, dict(fields))
    slow = ScoreResult(**fields)
    assert fast == slow and hash(part) == hash(BreakdownPart(name="a", label="A", value=2.0, reason="r"))
    assert fast.model_dump_json() == slow.model_dump_json()
    assert ScoreResult.model_validate(fast.model_dump()) == fast
    with pytest.raises(Exception, match="frozen"):
        fast.score = 3.0  # type: ignore[misc]


def _take(b: ScoreBatch, rows: np.ndarray) -> ScoreBatch:
    return replace(
        b,
        score=b.score[rows],
        band=np.asarray(b.band)[rows],
        probabilities={k: v[rows] for k, v in b.probabilities.items()},
        part_values=b.part_values[rows],
        part_reasons=tuple(r[rows] for r in b.part_reasons),
        warnings=None if b.warnings is None else b.warnings[rows],
        error=None,
        person_id=None if b.person_id is None else b.person_id[rows],
    )
