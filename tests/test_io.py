"""Readers and writers: round trips, rejects with field paths and rows, counts, determinism."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iomscore
from iomscore import io, synth
from iomscore.io import _columns as C
from iomscore.io._text import fixed

HEADER_R = "person_id,assessment_date,date_of_birth,sex\n"
HEADER_S = "person_id,offence_date,sanction_date,offence_group,disposal,custody_days\n"


def _table_equal(a: iomscore.ReferralTable, b: iomscore.ReferralTable) -> None:
    ba, bb = a.batch, b.batch
    assert ba.person_id.tolist() == bb.person_id.tolist()
    for name in ("assessment_day", "birth_day", "sex", "needs", "summary_previous", "summary_first_day",
                 "summary_conviction_day", "summary_group", "summary_caution_only", "sanction_offsets",
                 "offence_day", "sanction_day", "group", "disposal", "custody_days", "current",
                 "sanction_position", "custody_offsets", "custody_start", "custody_end"):
        np.testing.assert_array_equal(getattr(ba, name), getattr(bb, name), err_msg=name)
    for name in ("rosh_level", "mappa_category", "mappa_level"):
        np.testing.assert_array_equal(getattr(a.serious_harm, name), getattr(b.serious_harm, name), err_msg=name)
    for k in a.protected:
        assert a.protected[k].tolist() == b.protected[k].tolist(), k


@pytest.fixture(scope="module")
def small_table() -> iomscore.ReferralTable:
    return synth.generate(300, seed=11)


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory: pytest.TempPathFactory, small_table: iomscore.ReferralTable) -> tuple[Path, ...]:
    d = tmp_path_factory.mktemp("csv")
    paths = synth.default_paths(d / "r.csv")
    synth.write_csv(small_table, *paths)
    return paths


@pytest.mark.parametrize("engine", ["arrow", "python"])
def test_csv_round_trip(csv_files: tuple[Path, ...], small_table: iomscore.ReferralTable, engine: str) -> None:
    result = io.read_csv(*csv_files, engine=engine)  # type: ignore[arg-type]
    assert result.rejects == []
    assert result.counts.valid == 300 and result.counts.sanction_rows == small_table.batch.sanction_offsets[-1]
    _table_equal(result.table, small_table)
    np.testing.assert_array_equal(result.rows, np.arange(2, 302))


def test_jsonl_round_trip(tmp_path: Path, small_table: iomscore.ReferralTable) -> None:
    synth.write_jsonl(small_table, tmp_path / "r.jsonl")
    result = io.read_jsonl(tmp_path / "r.jsonl")
    assert result.rejects == [] and result.counts.valid == 300
    _table_equal(result.table, small_table)


def test_parquet_round_trip(tmp_path: Path, csv_files: tuple[Path, ...]) -> None:
    pacsv = pytest.importorskip("pyarrow.csv")
    pq = pytest.importorskip("pyarrow.parquet")
    out = []
    for p in csv_files:
        t = pacsv.read_csv(p)  # typed columns (dates, ints) on purpose
        pq.write_table(t, tmp_path / (p.stem + ".parquet"))
        out.append(tmp_path / (p.stem + ".parquet"))
    a = io.read_parquet(*out)
    b = io.read_csv(*csv_files)
    assert a.counts.valid == b.counts.valid
    _table_equal(a.table, b.table)


def _write(d: Path, referrals: str, sanctions: str, custody: str | None = None) -> tuple[Path, Path, Path | None]:
    (d / "r.csv").write_text(referrals)
    (d / "s.csv").write_text(sanctions)
    c = None
    if custody is not None:
        c = d / "c.csv"
        c.write_text(custody)
    return d / "r.csv", d / "s.csv", c


@pytest.mark.parametrize("engine", ["arrow", "python"])
def test_rejects_name_field_and_row(tmp_path: Path, engine: str) -> None:
    referrals = HEADER_R + "OK,2025-01-01,1990-01-01,male\nOFFAFTER,2025-01-01,1990-01-01,male\nSANCBEFORE,2025-01-01,1990-01-01,male\nCUST,2025-01-01,1990-01-01,male\nYOUNG,2025-01-01,2018-01-01,male\nGROUP,2025-01-01,1990-01-01,male\nBADDATE,2025-01-01,1990-02-30,male\nDUP,2025-01-01,1990-01-01,male\nDUP,2025-01-01,1990-01-01,female\nSEX,2025-01-01,1990-01-01,M" + "\n"
    sanctions = HEADER_S + "OK,2024-10-01,2024-11-01,shop_theft,fine,\nOFFAFTER,2024-10-01,2024-11-01,shop_theft,fine,\nOFFAFTER,2025-02-01,2025-02-02,shop_theft,fine,\nSANCBEFORE,2024-10-01,2024-09-01,shop_theft,fine,\nCUST,2024-01-01,2024-02-01,burglary_domestic,custody,90\nGROUP,2024-01-01,2024-02-01,burglary_domestic,fine,\nGROUP,2024-01-01,2024-02-01,not_a_group,fine,\nNOBODY,2024-01-01,2024-02-01,shop_theft,fine," + "\n"
    custody = "person_id,start,end\nCUST,2024-02-01,2024-01-01\n"
    paths = _write(tmp_path, referrals, sanctions, custody)
    result = io.read_csv(*paths, engine=engine)  # type: ignore[arg-type]
    got = {(r.person_id, r.referral_row): (Path(r.source).name, r.row, r.field) for r in result.rejects}
    assert got[("OFFAFTER", 3)] == ("s.csv", 4, "sanctions[1].offence_date")
    assert got[("SANCBEFORE", 4)] == ("s.csv", 5, "sanctions[0].sanction_date")
    assert got[("CUST", 5)] == ("c.csv", 2, "custody[0].end")
    assert got[("YOUNG", 6)] == ("r.csv", 6, "date_of_birth")
    assert got[("GROUP", 7)] == ("s.csv", 8, "sanctions[1].offence_group")
    assert got[("BADDATE", 8)] == ("r.csv", 8, "date_of_birth")
    assert got[("DUP", 9)] == ("r.csv", 9, "person_id") and got[("DUP", 10)] == ("r.csv", 10, "person_id")
    assert got[("SEX", 11)] == ("r.csv", 11, "sex")
    assert got[("NOBODY", None)] == ("s.csv", 9, "person_id")
    assert result.table.batch.person_id.tolist() == ["OK"]
    c = result.counts
    assert (c.referral_rows, c.valid, c.rejected, c.orphan_sanction_rows) == (10, 1, 9, 1)
    messages = {r.person_id: r.reason for r in result.rejects}
    assert "2025-02-01" in messages["OFFAFTER"] and "not_a_group" in messages["GROUP"]
    assert "1990-02-30" in messages["BADDATE"] and "rows (9, 10)" in messages["DUP"]


def test_missing_required_column(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("person_id,date_of_birth\nA,1990-01-01\n")
    with pytest.raises(io.MissingColumnsError, match="assessment_date"):
        io.read_csv(tmp_path / "r.csv")


def test_malformed_row_falls_back_and_is_rejected(tmp_path: Path) -> None:
    referrals = HEADER_R + "A,2025-01-01,1990-01-01,male\nB,2025-01-01\nC,2025-01-01,1990-01-01,female\n"
    sanctions = HEADER_S + "A,2024-10-01,2024-11-01,shop_theft,fine,\nC,2024-10-01,2024-11-01\n"
    paths = _write(tmp_path, referrals, sanctions)
    result = io.read_csv(*paths)
    assert result.table.batch.person_id.tolist() == ["A"]
    assert result.counts.referral_rows == 3 and result.counts.rejected == 2
    rows = {(r.person_id, Path(r.source).name, r.row) for r in result.rejects}
    assert ("B", "r.csv", 3) in rows and ("C", "s.csv", 3) in rows


def test_jsonl_rejects_same_as_typed_api(tmp_path: Path) -> None:
    base = {"person_id": "A", "assessment_date": "2025-01-01", "date_of_birth": "1990-01-01", "sex": "male",
            "sanctions": [{"offence_date": "2024-10-01", "sanction_date": "2024-11-01",
                           "offence_group": "shop_theft", "disposal": "fine"}]}
    bad_rule = json.loads(json.dumps(base))
    bad_rule["person_id"] = "B"
    bad_rule["sanctions"][0]["sanction_date"] = "2024-09-01"
    bad_type = dict(base, person_id="C", date_of_birth="not a date")
    lines = [json.dumps(base), "", json.dumps(bad_rule), "{not json", json.dumps(bad_type)]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    result = io.read_jsonl(tmp_path / "r.jsonl")
    got = {r.row: (r.person_id, r.field) for r in result.rejects}
    assert got == {3: ("B", "sanctions[0].sanction_date"), 4: ("", ""), 5: ("C", "date_of_birth")}
    with pytest.raises(ValueError) as exc:
        iomscore.Referral.model_validate(bad_rule)
    reject = next(r for r in result.rejects if r.row == 3)
    assert reject.reason in str(exc.value)
    assert result.counts.referral_rows == 4 == result.counts.valid + result.counts.rejected


def test_score_paths_agree(tmp_path: Path, small_table: iomscore.ReferralTable, csv_files: tuple[Path, ...]) -> None:
    """CSV path == JSONL path == typed API, byte for byte on the output columns."""
    synth.write_jsonl(small_table, tmp_path / "r.jsonl")
    referrals = [iomscore.Referral.model_validate_json(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    for scorer in ("iom-priority", "ogrs3"):
        a = io.score_files(csv_files[0], tmp_path / "a.csv", sanctions=csv_files[1], custody=csv_files[2], scorer=scorer)
        b = io.score_files(tmp_path / "r.jsonl", tmp_path / "b.csv", scorer=scorer)
        assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
        assert a.counts_line == b.counts_line
        ok = [r for r, good in zip(referrals, a.scores.ok.tolist()) if good]
        typed = iomscore.score(ok, scorer=scorer)
        rows = list(csv.DictReader((tmp_path / "a.csv").read_text(encoding="utf-8").splitlines()))
        assert [r["person_id"] for r in rows] == [t.person_id for t in typed]
        for row, t in zip(rows, typed):
            assert float(row["score"]) == pytest.approx(t.score, abs=1e-6)
            assert row["band"] == t.band
            assert [row[f"reason_{k}"] for k in (1, 2, 3) if row[f"reason_{k}"]] == list(t.reasons[:3])


def test_top_reasons_match_reason_lines(small_table: iomscore.ReferralTable) -> None:
    for scorer in ("iom-priority", "ogrs3"):
        scores = iomscore.score_batch(small_table, scorer)
        rows = np.flatnonzero(scores.ok)
        cols = io.top_reasons(scores, 3, rows)
        expected = scores.reason_lines(rows, top=3)
        for j, lines in enumerate(expected):
            assert [c[j] for c in cols if c[j]] == lines


def test_deterministic_under_shuffle_and_chunking(tmp_path: Path, small_table: iomscore.ReferralTable) -> None:
    rng = np.random.default_rng(0)
    shuffled = small_table.take(rng.permutation(small_table.n))
    synth.write_csv(small_table, *synth.default_paths(tmp_path / "a.csv"))
    synth.write_csv(shuffled, *synth.default_paths(tmp_path / "b.csv"))
    # shuffle the sanction rows too (across people)
    s = (tmp_path / "b-sanctions.csv").read_text().splitlines()
    body = s[1:]
    order = rng.permutation(len(body))
    (tmp_path / "b-sanctions.csv").write_text("\n".join([s[0], *[body[i] for i in order]]) + "\n")
    outputs = []
    for name, chunk in [("a", None), ("b", None), ("a", 37), ("b", 1000)]:
        result = io.read_csv(*synth.default_paths(tmp_path / f"{name}.csv"))
        run = io.score_read(result, "ogrs3", chunk_size=chunk)
        out = tmp_path / f"out-{name}-{chunk}.csv"
        io.write_scores(out, run.scores)
        _header, *lines = out.read_text().splitlines()
        outputs.append(sorted(lines))
    assert outputs[0] == outputs[1] == outputs[2] == outputs[3]


def test_fixed_float_format() -> None:
    assert fixed(np.array([3.0, 0.5, 0.1234565, -2.25, np.nan])).tolist() == ["3", "0.5", "0.123456", "-2.25", ""]


def test_writers_identical_with_and_without_arrow(tmp_path: Path, small_table: iomscore.ReferralTable,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    scores = iomscore.score_batch(small_table, "ogrs3")
    io.write_scores(tmp_path / "a.csv", scores)
    io.write_referrals_csv(small_table, tmp_path / "ra.csv", tmp_path / "sa.csv")
    monkeypatch.setattr(C, "HAVE_ARROW", False)
    io.write_scores(tmp_path / "b.csv", scores)
    io.write_referrals_csv(small_table, tmp_path / "rb.csv", tmp_path / "sb.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "ra.csv").read_bytes() == (tmp_path / "rb.csv").read_bytes()
    assert (tmp_path / "sa.csv").read_bytes() == (tmp_path / "sb.csv").read_bytes()


def test_jsonl_and_parquet_score_output(tmp_path: Path, small_table: iomscore.ReferralTable) -> None:
    scores = iomscore.score_batch(small_table, "ogrs3")
    n = io.write_scores(tmp_path / "o.jsonl", scores)
    lines = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert len(lines) == n == int(scores.ok.sum())
    assert list(lines[0]) == list(iomscore.ScoreResult.model_fields)  # the score contract's keys, in order
    assert lines[0]["format"] == "iomscore.score/1" and lines[0]["assessment_date"]
    pq = pytest.importorskip("pyarrow.parquet")
    io.write_scores(tmp_path / "o.parquet", scores)
    assert pq.read_table(tmp_path / "o.parquet").num_rows == n


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), fraction=st.floats(0.0, 0.5))
def test_counts_add_up_with_random_bad_rows(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                            fraction: float) -> None:
    d = tmp_path_factory.mktemp("h")
    table = synth.generate(60, seed, bad_fraction=fraction)
    paths = synth.default_paths(d / "r.csv")
    synth.write_csv(table, *paths, bad_fraction=fraction, seed=seed)
    result = io.read_csv(*paths)
    c = result.counts
    assert c.referral_rows == 60 == c.valid + c.rejected
    referral_rejects = [r for r in result.rejects if r.referral_row is not None]
    assert len({r.referral_row for r in referral_rejects}) == c.rejected
    assert len(result.rejects) - len(referral_rejects) == c.orphan_sanction_rows + c.orphan_custody_rows
    assert set(result.rows.tolist()).isdisjoint({r.referral_row for r in referral_rejects})
    assert len(result.rows) + c.rejected == 60
    run = io.score_read(result, "ogrs3")
    assert run.read == run.scored + run.rejected
