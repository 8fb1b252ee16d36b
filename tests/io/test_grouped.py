"""The reader for inputs sorted by person_id: the same bytes as spilling and as the whole-list
path, and a fall back to spilling whenever the files are not what it needs."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from two_tables import SCORER, score_whole, tables

from iomscore import synth
from iomscore.io import _grouped as G
from iomscore.io._parquet import read_parquet
from iomscore.io._score import counts_path, score_to_files
from iomscore.io._stream import CannotStream

KINDS = ("r.csv", "r-sanctions.csv", "r-custody.csv")


def _sort_file(src: Path, dst: Path) -> None:
    """The rows of ``src`` in person_id order (stable; the ids as the readers trim them)."""
    with open(src, encoding="utf-8", errors="surrogateescape", newline="") as f:
        rows = list(csv.reader(f))
    col = rows[0].index("person_id")
    body = sorted(rows[1:], key=lambda r: r[col].strip().rstrip("\x00"))
    with open(dst, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0], *body])


@pytest.fixture(scope="module")
def sorted_lists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clean list and one with bad rows, duplicates and orphans, each sorted by person_id."""
    d = tmp_path_factory.mktemp("grouped")
    table = synth.generate(500, seed=7)
    out = {}
    for name, bad in (("clean", 0.0), ("bad", 0.1)):
        raw = d / f"{name}-raw" / "r.csv"
        raw.parent.mkdir()
        synth.write_csv(table, raw, raw.with_name(KINDS[1]), raw.with_name(KINDS[2]), bad_fraction=bad, seed=3)
        (d / name).mkdir()
        for k in KINDS:
            _sort_file(raw.with_name(k), d / name / k)
        out[name] = d / name / "r.csv"
    return out


class _Spy:
    """Records whether the sorted reader ran to the end or gave up."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.finished = 0
        self.refused = 0
        real = G.write_grouped

        def spy(*args: object, **kw: object) -> object:
            try:
                out = real(*args, **kw)  # type: ignore[arg-type]
            except CannotStream:
                self.refused += 1
                raise
            self.finished += 1
            return out

        monkeypatch.setattr(G, "write_grouped", spy)


def _run(r: Path, out: Path, **kw: object) -> tuple[bytes, bytes, dict[str, object]]:
    ref, san, cus = tables(r)
    rej = out.with_name(out.stem + "-rej.csv")
    score_to_files(ref, out, sanctions=san if san.is_file() else None, custody=cus if cus.is_file() else None,
                   scorer=SCORER, rejects=rej, counts=counts_path(out), **kw)  # type: ignore[arg-type]
    counts = json.loads(counts_path(out).read_text())
    for role, file in counts.pop("files").items():  # (the scores are hashed as they are written)
        assert file["sha256"] == hashlib.sha256(Path(file["path"]).read_bytes()).hexdigest(), role
    return out.read_bytes(), rej.read_bytes(), counts


@pytest.mark.parametrize("name", ["clean", "bad"])
def test_sorted_input_is_read_in_chunks_with_the_same_bytes(sorted_lists: dict[str, Path], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    want, want_rej = score_whole(sorted_lists[name], tmp_path / "whole.csv")
    spilled = _run(sorted_lists[name], tmp_path / "spilled.csv", partitions=4, grouped=False)
    assert spilled[:2] == (want, want_rej)
    spy = _Spy(monkeypatch)
    for partitions, workers in ((1, 1), (3, 1), (11, 1), (40, 1), (5, 2)):
        got = _run(sorted_lists[name], tmp_path / f"g{partitions}-{workers}.csv", partitions=partitions,
                   workers=workers)
        assert got == spilled, (partitions, workers)
    assert spy.finished == 5 and spy.refused == 0
    if name == "bad":
        assert b"appears on" in want_rej and spilled[2]["rejected"] > 0  # duplicates among the rejects


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_output_formats(sorted_lists: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              fmt: str) -> None:
    spilled = _run(sorted_lists["bad"], tmp_path / f"s.{fmt}", partitions=3, grouped=False)
    spy = _Spy(monkeypatch)
    assert _run(sorted_lists["bad"], tmp_path / f"g.{fmt}", partitions=7) == spilled
    assert _run(sorted_lists["bad"], tmp_path / f"h.{fmt}", partitions=2, workers=2) == spilled
    assert spy.finished == 2


def _copy(src: Path, d: Path, edit: dict[str, object] | None = None) -> Path:
    """The three tables of ``src`` in ``d``; ``edit`` maps a table's name to a function of its bytes."""
    d.mkdir()
    for k in KINDS:
        data = src.with_name(k).read_bytes()
        fn = (edit or {}).get(k)
        (d / k).write_bytes(fn(data) if callable(fn) else data)
    return d / "r.csv"


def _swap_two_people(data: bytes) -> bytes:
    head, *lines = data.splitlines(keepends=True)
    lines[10], lines[-10] = lines[-10], lines[10]
    return b"".join([head, *lines])


@pytest.mark.parametrize("case, table, edit", [
    ("swapped sanctions", "r-sanctions.csv", _swap_two_people),
    ("swapped referrals", "r.csv", _swap_two_people),
    ("reversed referrals", "r.csv", lambda b: b.splitlines(keepends=True)[0] + b"".join(
        b.splitlines(keepends=True)[:0:-1])),
    ("a blank line", "r-sanctions.csv", lambda b: b.replace(b"\n", b"\n\n", 40).replace(b"\n\n", b"\n", 39)),
    ("CRLF line ends", "r-sanctions.csv", lambda b: b.replace(b"\n", b"\r\n")),
    ("no final line end", "r-custody.csv", lambda b: b.rstrip(b"\n")),
    ("a quoted line break", "r-sanctions.csv", lambda b: b.replace(b",fine,", b',"fi\nne",', 1)),
    ("a bare CR", "r-sanctions.csv", lambda b: b.replace(b",fine,", b",fi\rne,", 1)),
    ("a byte-order mark", "r.csv", lambda b: b"\xef\xbb\xbf" + b),
    ("a Latin-1 byte", "r-sanctions.csv", lambda b: b.replace(b",fine,", b",fin\xe9,", 1)),
    ("a Latin-1 byte in an id", "r.csv", lambda b: b.replace(b"\nP", b"\nP\xe9", 1)),
    ("UTF-8 beyond ASCII", "r-sanctions.csv", lambda b: b.replace(b",fine,", b",fin\xc3\xa9,", 3)),
    ("a lone 0x80 byte", "r-sanctions.csv", lambda b: b.replace(b",fine,", b",fin\x80,", 1)),
    ("a Latin-1 byte in a date", "r-sanctions.csv", lambda b: b.replace(b",2020-", b",2020\xe9", 1)),
    ("UTF-8 in a date", "r-custody.csv", lambda b: b.replace(b",20", b",\xc3\xa920", 1)),
    ("UTF-8 in a protected characteristic", "r.csv", lambda b: b.replace(b",White,", b",Whit\xc3\xa9,", 5)),
    ("an orphan before everyone", "r-sanctions.csv", lambda b: b.split(b"\n", 1)[0] + b"\n" + b.split(
        b"\n", 1)[1].split(b"\n", 1)[0].replace(b"P", b"A", 1) + b"\n" + b.split(b"\n", 1)[1]),
    ("an orphan after everyone", "r-custody.csv", lambda b: b + b"ZZZ9,2020-01-01,2020-02-01\n"),
])
def test_the_same_bytes_whatever_the_files_hold(sorted_lists: dict[str, Path], tmp_path: Path, case: str,
                                                table: str, edit: object) -> None:
    r = _copy(sorted_lists["bad"], tmp_path / "in", {table: edit})
    assert r.with_name(table).read_bytes() != sorted_lists["bad"].with_name(table).read_bytes(), case
    want = score_whole(r, tmp_path / "whole.csv")
    for partitions in (1, 6):
        got = _run(r, tmp_path / f"g{partitions}.csv", partitions=partitions)
        assert got[:2] == want, (case, partitions)


def test_unsorted_input_falls_back_to_spilling(sorted_lists: dict[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    r = _copy(sorted_lists["clean"], tmp_path / "in", {"r-sanctions.csv": _swap_two_people})
    spy = _Spy(monkeypatch)
    with caplog.at_level(logging.INFO, logger="iomscore.io"):
        got = _run(r, tmp_path / "g.csv", partitions=5)
    assert spy.refused == 1 and spy.finished == 0
    assert "not sorted by person_id" in caplog.text
    assert got[0] == score_whole(r, tmp_path / "whole.csv")[0]


def test_one_person_larger_than_a_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many referral rows of one id (all rejected as duplicates) stay in one chunk."""
    table = synth.generate(60, seed=4)
    raw = tmp_path / "raw" / "r.csv"
    raw.parent.mkdir()
    synth.write_csv(table, raw, raw.with_name(KINDS[1]), raw.with_name(KINDS[2]))
    lines = raw.read_bytes().splitlines(keepends=True)
    lines[20:21] = [lines[20]] * 200
    raw.write_bytes(b"".join(lines))
    d = tmp_path / "in"
    d.mkdir()
    for k in KINDS:
        _sort_file(raw.with_name(k), d / k)
    spy = _Spy(monkeypatch)
    want = score_whole(d / "r.csv", tmp_path / "whole.csv")
    for partitions in (3, 30, 200):
        assert _run(d / "r.csv", tmp_path / f"g{partitions}.csv", partitions=partitions)[:2] == want
    assert spy.finished == 3
    assert b"appears on 200 referral rows" in want[1]
    r = _to_parquet(d / "r.csv", tmp_path / "pq")
    spilled = _run(r, tmp_path / "s.csv", partitions=2, grouped=False)
    for partitions in (3, 30, 200):
        assert _run(r, tmp_path / f"p{partitions}.csv", partitions=partitions) == spilled
    assert spy.finished == 6


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 80), seed=st.integers(0, 10_000), partitions=st.integers(1, 25),
       bad=st.sampled_from([0.0, 0.2]))
def test_any_sorted_list_any_chunking(tmp_path_factory: pytest.TempPathFactory, n: int, seed: int, partitions: int,
                                      bad: float) -> None:
    d = tmp_path_factory.mktemp("any")
    raw = d / "raw" / "r.csv"
    raw.parent.mkdir()
    synth.write_csv(synth.generate(n, seed=seed), raw, raw.with_name(KINDS[1]), raw.with_name(KINDS[2]),
                    bad_fraction=bad, seed=seed)
    (d / "in").mkdir()
    for k in KINDS:
        if raw.with_name(k).is_file():
            _sort_file(raw.with_name(k), d / "in" / k)
    want = score_whole(d / "in" / "r.csv", d / "whole.csv")
    assert _run(d / "in" / "r.csv", d / "g.csv", partitions=partitions)[:2] == want


def test_plan_covers_every_byte_once(sorted_lists: dict[str, Path]) -> None:
    paths = list(tables(sorted_lists["bad"]))
    chunks = list(G.plan_csv(paths, 4000))
    assert len(chunks) > 10
    for kind, path in enumerate(paths):
        spans = [c.spans[kind] for c in chunks]
        assert all(s is not None for s in spans)
        size = path.stat().st_size
        header = len(path.read_bytes().split(b"\n", 1)[0]) + 1
        assert spans[0].start == header and spans[-1].stop == size  # type: ignore[union-attr]
        assert all(a.stop == b.start for a, b in itertools.pairwise(spans))  # type: ignore[union-attr]
        assert sum(s.lines for s in spans) == path.read_bytes().count(b"\n") - 1  # type: ignore[union-attr]
        assert [s.first_row for s in spans] == [2 + sum(x.lines for x in spans[:i])  # type: ignore[union-attr]
                                                for i in range(len(spans))]
    keys = [c.high for c in chunks[:-1]]
    assert keys == sorted(set(keys)) and chunks[-1].high is None and chunks[0].low is None


def test_progress_covers_the_whole_run(sorted_lists: dict[str, Path], tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    _run(sorted_lists["clean"], tmp_path / "g.csv", partitions=6, progress=lambda *a: calls.append(a))
    total = sum(p.stat().st_size for p in tables(sorted_lists["clean"]))
    assert {c[0] for c in calls} == {"streaming"} and {c[2] for c in calls} == {total}
    done = [c[1] for c in calls]
    assert done[0] == 0 and done[-1] == total and done == sorted(done) and len(set(done)) >= 6


def _to_parquet(r: Path, d: Path, shuffle: str | None = None) -> Path:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    d.mkdir()
    for src in tables(r):
        table = pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(
            column_types={}, strings_can_be_null=False, auto_dict_encode=False))
        if shuffle == src.name:
            table = table.take(list(range(table.num_rows))[::-1])
        pq.write_table(table, d / src.with_suffix(".parquet").name, row_group_size=97)
    return d / "r.parquet"


@pytest.mark.parametrize("out_fmt", ["csv", "parquet"])
def test_sorted_parquet_is_read_in_chunks_with_the_same_bytes(sorted_lists: dict[str, Path], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, out_fmt: str) -> None:
    r = _to_parquet(sorted_lists["bad"], tmp_path / "pq")
    spilled = _run(r, tmp_path / f"s.{out_fmt}", partitions=3, grouped=False)
    spy = _Spy(monkeypatch)
    for partitions, workers in ((1, 1), (4, 1), (23, 1), (5, 2)):
        assert _run(r, tmp_path / f"g{partitions}-{workers}.{out_fmt}", partitions=partitions,
                    workers=workers) == spilled, (partitions, workers)
    assert spy.finished == 4 and spy.refused == 0
    assert spilled[2]["rejected"] > 0


@pytest.mark.parametrize("table", ["r.csv", "r-sanctions.csv", "r-custody.csv"])
def test_unsorted_parquet_falls_back(sorted_lists: dict[str, Path], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    r = _to_parquet(sorted_lists["clean"], tmp_path / "pq", shuffle=table)
    want = _run(r, tmp_path / "s.csv", partitions=3, grouped=False)
    spy = _Spy(monkeypatch)
    got = _run(r, tmp_path / "g.csv", partitions=4)
    assert spy.refused == 1 and got == want


def test_a_reversed_file_is_refused_before_any_chunk(sorted_lists: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def reverse(b: bytes) -> bytes:
        head, *lines = b.splitlines(keepends=True)
        return b"".join([head, *reversed(lines)])

    r = _copy(sorted_lists["clean"], tmp_path / "in", {"r-sanctions.csv": reverse})
    read: list[object] = []
    real = G.read_chunk
    monkeypatch.setattr(G, "read_chunk", lambda *a: read.append(a) or real(*a))
    with pytest.raises(CannotStream, match="not sorted"):
        list(G.plan_csv(list(tables(r)), 2000))
    got = _run(r, tmp_path / "g.csv", partitions=5)
    assert not read and got[0] == score_whole(r, tmp_path / "whole.csv")[0]


def test_a_chunk_far_larger_than_planned_is_spilled_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanction rows of many people who were not referred, between two who were (sorted, but
    one chunk would hold them all): refused, and the spilling path gives the same bytes."""
    raw = tmp_path / "raw" / "r.csv"
    raw.parent.mkdir()
    synth.write_csv(synth.generate(80, seed=5), raw, raw.with_name(KINDS[1]), raw.with_name(KINDS[2]))
    lines = raw.with_name(KINDS[1]).read_bytes().splitlines(keepends=True)
    orphans = [b"P0000040x%04d,2020-01-01,2020-02-01,shop_theft,fine,,,\n" % i for i in range(3000)]
    raw.with_name(KINDS[1]).write_bytes(b"".join([*lines, *orphans]))
    d = tmp_path / "in"
    d.mkdir()
    for k in KINDS:
        _sort_file(raw.with_name(k), d / k)
    monkeypatch.setattr(G, "_LARGEST_SPAN", 20_000)
    with pytest.raises(CannotStream, match="far more than planned"):
        list(G.plan_csv(list(tables(d / "r.csv")), 2000))
    spy = _Spy(monkeypatch)
    got = _run(d / "r.csv", tmp_path / "g.csv", partitions=8)
    assert spy.refused == 1 and got[:2] == score_whole(d / "r.csv", tmp_path / "whole.csv")
    assert got[2]["orphan_rows"] == 3000


def test_a_file_that_shrank_after_planning_is_refused_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"P1,2020-01-01,x\nP2,2020-01-02,y\n")
    span = G.Span(0, path.stat().st_size, 2, 2)
    path.write_bytes(b"")  # (truncated between the plan and the read)
    with pytest.raises(CannotStream):
        G._parse(path, ["person_id", "offence_date", "disposal"], span, frozenset({"offence_date"}))


_DATE_CELL = st.one_of(st.just(""), st.dates().map(str), st.sampled_from([
    "2024-02-29", "2023-02-29", "2024-04-31", "0000-01-01", "0001-01-01", "9999-12-31", "2024-1-05", "20240105",
    " 2024-01-05", "2024-01-05\t", "\u00a02024-01-05", "2024-01-05 00:00", "+2024-01-05", "NA", "  "]),
    st.text(alphabet="0123456789- \t/T:", max_size=12))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(_DATE_CELL, min_size=1, max_size=25))
def test_dates_parsed_as_dates_read_as_their_text(tmp_path: Path, cells: list[str]) -> None:
    from iomscore.io import _columns as C

    path = tmp_path / "s.csv"
    path.write_bytes("".join(f"P{i:04d},{c},x\n" for i, c in enumerate(cells)).encode())
    span = G.Span(0, path.stat().st_size, 2, len(cells))
    header = ["person_id", "offence_date", "disposal"]
    G._UNTYPED.clear()
    typed = G._parse(path, header, span, frozenset({"offence_date"}))
    text = G._parse(path, header, span)
    G._UNTYPED.clear()
    for got, want in zip(C.dates(typed["offence_date"]), C.dates(text["offence_date"])):
        assert got.tolist() == want.tolist()
    assert C.text(typed["offence_date"]).tolist() == C.text(text["offence_date"]).tolist()
    assert C.text(typed["disposal"]).tolist() == ["x"] * len(cells)


def test_parquet_coded_columns_with_nulls_and_padding_read_as_their_text(sorted_lists: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    """The chunked reader keeps offence_group and disposal dictionary-encoded: nulls, padded
    and unknown values give the rows and rejects that their text gives the spilling reader."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    r = _to_parquet(sorted_lists["clean"], tmp_path / "pq")
    san = r.with_name("r-sanctions.parquet")
    table = pq.read_table(san)
    n = table.num_rows
    for name, every, odd in (("offence_group", 7, " shop_theft\t"), ("disposal", 5, " fine ")):
        values = table.column(name).to_pylist()
        values = [None if i % every == 0 else odd if i % every == 1 else "nonsense" if i % 97 == 3 else v
                  for i, v in enumerate(values)]
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(values, pa.string()))
    pq.write_table(table, san, row_group_size=97)
    assert pq.read_table(san, read_dictionary=["disposal"]).column("disposal").null_count == len(range(0, n, 5))
    # the referrals' choice columns, and a protected one, are read dictionary-encoded too
    ref = pq.read_table(r)
    for name, every, odd in (("sex", 11, " female"), ("need_health", 7, "high "), ("rosh_level", 9, "\tlow"),
                             ("supervision_status", 5, " none "), ("current_offence_group", 13, " shop_theft"),
                             ("ethnicity", 3, " White ")):
        values = ref.column(name).to_pylist()
        values = [None if i % every == 0 else odd if i % every == 1 else "nonsense" if i % 31 == 4 else v
                  for i, v in enumerate(values)]
        ref = ref.set_column(ref.schema.get_field_index(name), name, pa.array(values, pa.string()))
    pq.write_table(ref, r, row_group_size=97)
    spilled = _run(r, tmp_path / "s.csv", partitions=3, grouped=False)
    assert spilled[2]["rejected"] > 0
    for partitions in (1, 6):
        assert _run(r, tmp_path / f"g{partitions}.csv", partitions=partitions) == spilled, partitions
    # the audits' columns, which no output shows: the same values as the whole-file reader's
    paths = [r, san, r.with_name("r-custody.parquet")]
    (chunk,) = G.plan_parquet(paths, ref.num_rows + 1)
    built = G.build_chunk(G.read_chunk([str(p) for p in paths], [None] * 3, chunk), [str(p) for p in paths])
    whole = read_parquet(*paths)
    assert built.table.protected.keys() == whole.table.protected.keys()
    for f, values in whole.table.protected.items():
        assert built.table.protected[f].tolist() == values.tolist(), f
    assert None in whole.table.protected["ethnicity"].tolist()


def test_parquet_reads_take_their_turns_in_chunk_order() -> None:
    import threading

    turns = G._Turns()
    order: list[int] = []
    started = threading.Barrier(4)

    def read(index: int) -> None:
        started.wait()
        with turns.turn(index):
            order.append(index)

    threads = [threading.Thread(target=read, args=(i,), daemon=True) for i in (3, 1, 2, 0)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in threads) and order == [0, 1, 2, 3]
    finally:
        turns.close()


def test_a_failed_read_passes_the_turn_and_closing_releases_the_waiting() -> None:
    import threading

    turns = G._Turns()
    with pytest.raises(OSError), turns.turn(0):
        raise OSError("unreadable")
    with turns.turn(1):  # (does not wait for ever behind the failed chunk)
        pass
    raised: list[BaseException] = []

    def wait_for_chunk_5() -> None:
        try:
            with turns.turn(5):
                pass
        except CannotStream as exc:
            raised.append(exc)

    waiting = threading.Thread(target=wait_for_chunk_5, daemon=True)
    waiting.start()
    turns.close()
    waiting.join(timeout=10)
    assert not waiting.is_alive() and len(raised) == 1


@pytest.mark.parametrize("rows", [7, 40, 1000])
def test_the_planners_person_ids_are_the_columns_the_reader_would_read(sorted_lists: dict[str, Path],
                                                                       tmp_path: Path, rows: int) -> None:
    """A reader in the planner's process takes the person_id columns the planner decoded:
    padded ids, a trailing NUL and a null read as the reader's own decoding reads them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    r = _to_parquet(sorted_lists["bad"], tmp_path / "pq")
    for name, pad in (("r-sanctions.parquet", " "), ("r-custody.parquet", "\x00")):
        table = pq.read_table(r.with_name(name))
        ids = table.column("person_id").to_pylist()
        ids = [None if i == 0 else v + pad if i % 3 == 1 else f"\t{v}" if i % 5 == 2 else v for i, v in enumerate(ids)]
        table = table.set_column(0, "person_id", pa.array(ids, pa.string()))
        pq.write_table(table, r.with_name(name), row_group_size=31)
    paths = [r, r.with_name("r-sanctions.parquet"), r.with_name("r-custody.parquet")]
    files = [str(p) for p in paths]
    given = list(G.plan_parquet(paths, rows, with_ids=True))
    plain = list(G.plan_parquet(paths, rows))
    assert [c.spans for c in given] == [c.spans for c in plain] and len(given) > (rows < 40)
    assert all(c.ids is not None and c.ids[1] is not None for c in given) and all(c.ids is None for c in plain)
    for a, b in zip(given, plain):
        read_a, read_b = G.read_chunk(files, [None] * 3, a), G.read_chunk(files, [None] * 3, b)
        for ta, tb in zip(read_a.tables, read_b.tables):
            assert ta is not None and tb is not None
            assert list(ta[0]) == list(tb[0]) and ta[1].tolist() == tb[1].tolist()
            for name in ta[0]:
                assert ta[0][name].to_pylist() == tb[0][name].to_pylist(), name
    spilled = _run(r, tmp_path / "s.csv", partitions=3, grouped=False)
    assert _run(r, tmp_path / "g.csv", partitions=4) == spilled


@pytest.mark.parametrize("empty", ["r-sanctions.parquet", "r-custody.parquet"])
def test_sorted_parquet_with_an_empty_table_streams(sorted_lists: dict[str, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, empty: str) -> None:
    import pyarrow.parquet as pq

    r = _to_parquet(sorted_lists["clean"], tmp_path / "pq")
    table = pq.read_table(r.with_name(empty))
    pq.write_table(table.slice(0, 0), r.with_name(empty))
    spilled = _run(r, tmp_path / "s.csv", partitions=3, grouped=False)
    spy = _Spy(monkeypatch)
    assert _run(r, tmp_path / "g.csv", partitions=4) == spilled
    assert spy.finished == 1 and spy.refused == 0


def test_a_failing_parquet_read_stops_the_threaded_run(sorted_lists: dict[str, Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that fails while other chunks wait for their turn stops the run (no thread left
    waiting) and the spilling driver scores the list instead, with the same bytes."""
    import threading

    r = _to_parquet(sorted_lists["bad"], tmp_path / "pq")
    spilled = _run(r, tmp_path / "s.csv", partitions=3, grouped=False)
    real, calls = G._read_records, []

    def failing(*args: object) -> object:
        calls.append(1)
        if len(calls) == 5:
            raise OSError("the disk went away")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(G, "_read_records", failing)
    spy = _Spy(monkeypatch)
    before = threading.active_count()
    assert _run(r, tmp_path / "g.csv", partitions=6) == spilled
    assert spy.refused == 1 and len(calls) >= 5
    assert threading.active_count() <= before


def test_a_person_id_that_is_not_text_is_decoded_by_the_reader(tmp_path: Path) -> None:
    """Whole-number person_ids: the planner keeps none of them for the reader (it casts them
    for its own order check only), and the reader's own decoding reads them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = list(range(100, 400))
    ref = pa.table({"person_id": pa.array(ids, pa.int64()), "assessment_date": ["2024-01-01"] * len(ids),
                    "date_of_birth": ["1990-01-01"] * len(ids)})
    san = pa.table({"person_id": pa.array([i for i in ids for _ in range(3)], pa.int64()),
                    "offence_date": ["2020-01-01"] * (3 * len(ids)), "sanction_date": ["2020-02-01"] * (3 * len(ids)),
                    "offence_group": ["theft"] * (3 * len(ids)), "disposal": ["fine"] * (3 * len(ids))})
    paths = [tmp_path / "r.parquet", tmp_path / "r-sanctions.parquet", None]
    pq.write_table(ref, paths[0], row_group_size=41)
    pq.write_table(san, paths[1], row_group_size=53)
    files = [str(p) if p is not None else "" for p in paths]
    given = list(G.plan_parquet(paths, 70, with_ids=True))
    plain = list(G.plan_parquet(paths, 70))
    assert len(given) > 3 and all(c.ids == (None, None, None) for c in given)
    for a, b in zip(given, plain):
        ta, tb = G.read_chunk(files, [None] * 3, a).tables, G.read_chunk(files, [None] * 3, b).tables
        assert ta[2] is None and tb[2] is None
        for x, y in zip(ta[:2], tb[:2]):
            assert x is not None and y is not None
            assert {k: v.to_pylist() for k, v in x[0].items()} == {k: v.to_pylist() for k, v in y[0].items()}
            assert x[0]["person_id"].to_pylist()[0] == str(int(x[0]["person_id"].to_pylist()[0]))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(["P", "1", " ", "\t", "\x00", "\u00a0", "\u2003", "\x1c", "\x7f", "é", "~", "!"]),
               max_size=6) | st.text(max_size=6))
def test_one_id_is_normalised_as_the_kernels_normalise_a_column(raw: str) -> None:
    """The planner's single-id shortcut gives what trimming a column and dropping its trailing
    NULs gives (the kernels the readers and the duplicate check use)."""
    import pyarrow as pa

    assert G._normal(raw) == G._normal_ids(pa.array([raw], pa.string()))[0].as_py()
