"""One kernel, many drivers: the partitioned batch job writes the same bytes whatever the
partitioning, the number of worker processes, the order of the sanction rows and the engine."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from two_tables import SCORER, score_whole, tables

from iomscore import synth
from iomscore.io._score import counts_path, score_to_files
from iomscore.io._stream import person_partition, score_partition


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clean list and one with bad rows and orphans, each as CSV (three tables)."""
    d = tmp_path_factory.mktemp("stream")
    table = synth.generate(600, seed=11)
    out = {}
    for name, bad in (("clean", 0.0), ("bad", 0.08)):
        r = d / name / "r.csv"
        r.parent.mkdir()
        synth.write_csv(table, r, r.with_name("r-sanctions.csv"), r.with_name("r-custody.csv"), bad_fraction=bad,
                        seed=3)
        out[name] = r
    return out


def _run(r: Path, out: Path, **kw: object) -> bytes:
    ref, san, cus = tables(r)
    score_to_files(ref, out, sanctions=san, custody=cus, scorer=SCORER, rejects=out.with_name(out.stem + "-rej.csv"),
                   counts=counts_path(out), **kw)  # type: ignore[arg-type]
    return out.read_bytes()


@pytest.mark.parametrize("name", ["clean", "bad"])
def test_same_bytes_whatever_the_partitions_and_workers(lists: dict[str, Path], tmp_path: Path, name: str) -> None:
    want, want_rej = score_whole(lists[name], tmp_path / "whole.csv")
    assert want.count(b"\n") > 400
    for partitions in (1, 3, 8):
        for workers in (1, 2) if partitions == 3 else (1,):
            out = tmp_path / f"p{partitions}w{workers}.csv"
            assert _run(lists[name], out, partitions=partitions, workers=workers) == want, (partitions, workers)
            assert out.with_name(out.stem + "-rej.csv").read_bytes() == want_rej
            counts = json.loads(counts_path(out).read_text())
            assert counts["read"] == counts["scored"] + counts["rejected"] == 600
    if name == "bad":
        assert counts["rejected"] > 0 and counts["orphan_rows"] > 0


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_output_formats(lists: dict[str, Path], tmp_path: Path, fmt: str) -> None:
    one = _run(lists["bad"], tmp_path / f"a.{fmt}", partitions=1)
    many = _run(lists["bad"], tmp_path / f"b.{fmt}", partitions=5, workers=2)
    assert one == many
    if fmt == "parquet":
        score_whole(lists["bad"], tmp_path / "w.parquet", fmt)
        assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "w.parquet"))
    else:
        assert one == score_whole(lists["bad"], tmp_path / "w.jsonl", fmt)[0]


def test_sanction_order_does_not_matter(lists: dict[str, Path], tmp_path: Path) -> None:
    ref, san, cus = tables(lists["clean"])
    d = tmp_path / "shuffled"
    d.mkdir()
    for src in (ref, san, cus):
        lines = src.read_text().splitlines(keepends=True)
        body = lines[1:]
        if src != ref:
            random.Random(5).shuffle(body)
        (d / src.name).write_text("".join([lines[0], *body]))
    want = _run(lists["clean"], tmp_path / "a.csv", partitions=1)
    assert _run(d / "r.csv", tmp_path / "b.csv", partitions=4) == want
    assert _run(d / "r.csv", tmp_path / "c.csv") == want


def test_parquet_output_is_merged_from_parked_batches(lists: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Spilled partitions park their Parquet rows in small batches (a merge block takes a few
    rows of every partition); a block then spans many batches of each partition."""
    from iomscore.io import _stream

    assert _stream.parked_rows(1) == _stream.PARKED_ROWS and _stream.parked_rows(184) < 1024

    want = _run(lists["bad"], tmp_path / "a.parquet", partitions=1, grouped=False)
    monkeypatch.setattr(_stream, "parked_rows", lambda partitions: 7)
    assert _run(lists["bad"], tmp_path / "b.parquet", partitions=4, grouped=False) == want
    assert pq.read_table(tmp_path / "b.parquet").num_rows > 4 * 7 * 5


def test_output_follows_the_referrals_file(lists: dict[str, Path], tmp_path: Path) -> None:
    ref, san, cus = tables(lists["clean"])
    d = tmp_path / "reversed"
    d.mkdir()
    lines = ref.read_text().splitlines(keepends=True)
    (d / "r.csv").write_text("".join([lines[0], *reversed(lines[1:])]))
    for src in (san, cus):
        (d / src.name).write_bytes(src.read_bytes())
    a = _run(lists["clean"], tmp_path / "a.csv", partitions=3).splitlines()
    b = _run(d / "r.csv", tmp_path / "b.csv", partitions=3).splitlines()
    assert a[0] == b[0] and a[1:] == b[:0:-1]


def test_parquet_input_streams_to_the_same_scores(lists: dict[str, Path], tmp_path: Path) -> None:
    d = tmp_path / "pq"
    d.mkdir()
    for src in tables(lists["bad"]):
        pq.write_table(pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(
            column_types={}, strings_can_be_null=False, auto_dict_encode=False)), d / src.with_suffix(".parquet").name,
            row_group_size=97)
    one = _run(d / "r.parquet", tmp_path / "a.csv")
    assert _run(d / "r.parquet", tmp_path / "b.csv", partitions=6, workers=2) == one
    # (same scores as from the CSV: Parquet rows are record numbers, so only the rejects differ)
    assert one == _run(lists["bad"], tmp_path / "c.csv", partitions=2)


def test_malformed_csv_is_read_whole_with_the_same_result(lists: dict[str, Path], tmp_path: Path) -> None:
    ref, san, cus = tables(lists["clean"])
    d = tmp_path / "broken"
    d.mkdir()
    lines = san.read_text().splitlines(keepends=True)
    lines.insert(7, 'P9,"unclosed,2024-01-01\n')
    (d / san.name).write_text("".join(lines))
    (d / ref.name).write_bytes(ref.read_bytes())
    (d / cus.name).write_bytes(cus.read_bytes())
    want, want_rej = score_whole(d / "r.csv", tmp_path / "whole.csv")
    assert _run(d / "r.csv", tmp_path / "a.csv", partitions=3) == want
    assert (tmp_path / "a-rej.csv").read_bytes() == want_rej
    assert b"malformed" in want_rej


def test_person_partition_is_a_function_of_the_id() -> None:
    ids = [f"P{i:05d}" for i in range(2000)]
    a = person_partition(pa.array(ids), 7)
    b = person_partition(pa.array(ids[::-1]), 7)[::-1]
    assert (a == b).all()
    assert np.bincount(a, minlength=7).min() > 200  # spread over every partition
    assert person_partition(pa.array(["P1\x00"]), 7)[0] == person_partition(pa.array(["P1"]), 7)[0]
    sliced = pa.array(["x", "P00003", "P00004"]).slice(1)
    assert person_partition(sliced, 7).tolist() == a[3:5].tolist()


def test_kernel_scores_one_partition() -> None:
    ref = {"person_id": pa.array(["A", "B", "A"]), "assessment_date": pa.array(["2025-01-01"] * 3),
           "date_of_birth": pa.array(["1990-01-01"] * 3)}
    out = score_partition(ref, np.array([2, 3, 4]), scorer=SCORER, sources=("r.csv", "", ""))
    assert out.rows.tolist() == [3] and out.counts.rejected == 2
    assert out.body.count(b"\n") == 1 and out.header.startswith(b"person_id,")


def test_bad_workers(lists: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="workers"):
        _run(lists["clean"], tmp_path / "a.csv", workers=0)
