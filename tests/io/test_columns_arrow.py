"""The Arrow paths of the column parsers (read from the arrays' buffers where they can) against
the plain numpy path and obvious Python: nulls, slices, chunks, both string widths."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iomscore.io import _columns as C
from iomscore.io._tables import _group_codes, _person_index

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")

_TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "ab", "yes", "no", "0", "12", "123456789", "1234567890",
                                               "-1", "1a", "\u0663", "P0000001", "P0000002", "é", "a\x00"]),
                  st.text(max_size=10))


@st.composite
def columns(draw: st.DrawFn) -> tuple[Any, list[str | None]]:
    values = draw(st.lists(_TEXT, max_size=40))
    kind = draw(st.sampled_from([pa.string(), pa.large_string()]))
    arr = pa.array(values, type=kind)
    shape = draw(st.sampled_from(["array", "slice", "chunked", "coded", "coded chunks"]))
    if shape == "slice" and len(values) > 2:
        arr, values = arr.slice(1, len(values) - 2), values[1:-1]
    elif shape == "chunked":
        cut = draw(st.integers(0, len(values)))
        arr = pa.chunked_array([arr[:cut], arr[cut:]], type=kind)
    elif shape == "coded":  # (as Parquet's dictionary-encoded columns are read)
        arr = arr.dictionary_encode()
    elif shape == "coded chunks":  # (each chunk with its own dictionary, a slice of one)
        cut = draw(st.integers(0, len(values)))
        coded = arr.dictionary_encode()
        arr = pa.chunked_array([arr[:cut].dictionary_encode(), coded.slice(cut)], type=coded.type)
    return arr, values


def _plain(values: list[str | None]) -> np.ndarray:
    return np.array(["" if v is None else v for v in values], dtype=object)


@settings(max_examples=300, deadline=None)
@given(columns())
def test_empty_encode_counts_match_the_numpy_path(case: tuple[Any, list[str | None]]) -> None:
    arr, values = case
    plain = _plain(values)
    assert C.empty(arr).tolist() == [not v for v in plain.tolist()]
    vocab = ("yes", "no", "a")
    assert C.encode(arr, vocab).tolist() == C.encode(plain, vocab).tolist()
    codes, bad = C.encode_given(arr, vocab)  # (a dictionary's values checked once each)
    assert codes.tolist() == C.encode(plain, vocab).tolist()
    assert bad.tolist() == [bool(v) and v not in vocab for v in plain.tolist()]
    assert [C.value_at(arr, i) for i in range(len(plain))] == plain.tolist()
    assert C.text_shared(arr).tolist() == plain.tolist()
    assert [v.as_py() or "" for v in C.as_text(C.strip(arr))] == [v.strip() for v in plain.tolist()]
    for got, want in zip(C.counts(arr), C.counts(plain)):
        assert got.tolist() == want.tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["P0000001", "P0000002", "P0000003", "Q0000001"]), max_size=200),
       st.sampled_from([1, 8, 11]))
def test_run_starts_are_where_the_value_changes(ids: list[str], width: int) -> None:
    values = [v[:width] if width <= 8 else "abc" + v for v in ids]
    starts = C.run_starts(pa.array(values))
    if not values:
        assert starts is None
        return
    assert starts is not None
    assert starts.tolist() == [i for i in range(len(values)) if i == 0 or values[i] != values[i - 1]]


def test_run_starts_decline_what_they_cannot_compare_as_words() -> None:
    assert C.run_starts(pa.array(["a", "bb"])) is None  # widths differ
    assert C.run_starts(pa.array(["a", None])) is None
    assert C.run_starts(pa.array(["x" * 17] * 2)) is None


def _ids(width: int | None) -> st.SearchStrategy[list[str]]:
    """Values of any width, or fixed-width ones of two letters (which tie often in their first
    64-bit word, as ids with one prefix do)."""
    if width is None:
        return st.lists(st.text(alphabet="AZaz09\u00e9\u0663 \x00", max_size=17), min_size=1, max_size=60)
    ends = st.tuples(st.sampled_from("AB"), st.sampled_from("AB")).map(
        lambda ab: (ab[0] + "A" * (width - 2) + ab[1]) if width > 1 else ab[0])
    one = st.one_of(ends, st.text(alphabet="AB", min_size=width, max_size=width))
    return st.lists(one, min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([None, 1, 3, 8, 9, 16]).flatmap(lambda w: _ids(w)), st.integers(0, 60), st.booleans())
def test_bounds_are_arrow_min_max(values: list[str], cut: int, large: bool) -> None:
    kind = pa.large_string() if large else pa.string()
    col = pa.chunked_array([pa.array(values[:cut], kind), pa.array(values[cut:], kind)], type=kind)
    assert C.bounds(col) == (min(values), max(values))
    got = pc.min_max(pa.array(values, kind))
    assert C.bounds(pa.array(values, kind)) == (got["min"].as_py(), got["max"].as_py())


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([None, 1, 8, 9, 16]).flatmap(lambda w: _ids(w)), st.booleans(), st.booleans())
def test_ascending_is_the_kernel_comparison(values: list[str], sort: bool, large: bool) -> None:
    values = sorted(values) if sort else values
    arr = pa.array(values, pa.large_string() if large else pa.string())
    assert C.ascending(arr) == all(a <= b for a, b in pairwise(values))


def _shaped(values: list[str], large: bool, shape: str) -> Any:
    """``values`` as a string array, a slice of a longer one, two chunks, or one chunk that is
    a slice (as a reader hands on part of a batch)."""
    kind = pa.large_string() if large else pa.string()
    if shape in ("slice", "sliced chunk"):
        pad = [values[0] * 2] if values else ["Q"]
        sliced = pa.array(pad + values + pad, kind).slice(1, len(values))
        return sliced if shape == "slice" else pa.chunked_array([sliced], type=kind)
    if shape == "chunked":
        cut = len(values) // 2
        return pa.chunked_array([pa.array(values[:cut], kind), pa.array(values[cut:], kind)], type=kind)
    return pa.array(values, kind)


_SHAPES = st.sampled_from(["array", "slice", "chunked", "sliced chunk"])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([None, 1, 8, 9, 16]).flatmap(lambda w: _ids(w)), st.booleans(), st.booleans(), _SHAPES)
def test_ascending_runs_are_the_runs_of_an_ascending_column(values: list[str], sort: bool, large: bool,
                                                            shape: str) -> None:
    values = sorted(values) if sort else values
    arr = _shaped(values, large, shape)
    runs = C.ascending_runs(arr)
    if runs is None:  # (not ascending, or not cheaply told: then the general path groups them)
        assert not all(a <= b for a, b in pairwise(values)) or C.run_starts(arr) is None
        return
    assert all(a <= b for a, b in pairwise(values))
    assert runs.tolist() == [i for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([None, 1, 8, 9]).flatmap(lambda w: _ids(w)), st.booleans(), st.booleans(), _SHAPES)
def test_referral_ids_are_grouped_as_numpy_groups_them(values: list[str], sort: bool, large: bool, shape: str) -> None:
    values = sorted(values) if sort else values
    text = np.asarray(values, dtype=object)
    codes, count = _group_codes(text, _shaped(values, large, shape))
    _, inverse, want_count = np.unique(text.astype(str), return_inverse=True, return_counts=True)
    relabel = {}
    assert [relabel.setdefault(int(c), int(i)) for c, i in zip(codes, inverse.reshape(-1))] == inverse.reshape(-1).tolist()
    assert len(set(codes.tolist())) == len(set(inverse.reshape(-1).tolist()))  # (and one code an id)
    assert count[codes].tolist() == want_count[inverse.reshape(-1)].tolist()


def test_bounds_of_nothing_are_none() -> None:
    assert C.bounds(pa.array([], pa.string())) is None
    assert C.bounds(pa.chunked_array([], pa.string())) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["P01", "P02", "P03", "", "P01", "P010"]), min_size=1, max_size=6),
       st.lists(st.sampled_from(["P01", "P02", "P03", "P04", "", "P00", "P010", "P0"]), max_size=300),
       st.booleans(), st.booleans())
def test_person_index_is_the_first_referral_of_each_id(referral_ids: list[str], sanction_ids: list[str],
                                                       grouped: bool, sorted_referrals: bool) -> None:
    # (sorted referral ids of one width are found by binary search, any others by hashing)
    if grouped:
        sanction_ids = sorted(sanction_ids)
    if sorted_referrals:
        referral_ids = sorted(referral_ids)
    index = _person_index(pa.array(referral_ids), np.array(referral_ids, dtype=object))
    first = {}
    for i, v in enumerate(referral_ids):
        first.setdefault(v, i)
    want = [-1 if not v else first.get(v, -1) for v in sanction_ids]
    assert index(pa.array(sanction_ids, type=pa.string())).tolist() == want
    assert index(np.array(sanction_ids, dtype=object)).tolist() == want


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=20, unique=True).map(sorted),
       st.tuples(st.sampled_from([1, 2, 12]), st.integers(0, 120)).flatmap(  # (runs of at most 1, 2 or 12 rows)
           lambda most_n: st.lists(st.tuples(st.integers(0, 35), st.integers(1, most_n[0])),
                                   min_size=most_n[1], max_size=most_n[1])),
       st.sampled_from([3, 8]), st.sampled_from(["array", "large", "slice", "chunked", "with null"]))
def test_person_index_by_words_is_the_first_referral_of_each_id(referrals: list[int], runs: list[tuple[int, int]],
                                                                width: int, shape: str) -> None:
    # Sorted referral ids of one width are found by a binary search of 64-bit words: rows of
    # one id in runs (over 64 rows, one search a run) or not, and every shape of column.
    def ident(k: int) -> str:
        return f"P{k:0{width - 1}d}"

    referral_ids = [ident(k) for k in referrals]
    index = _person_index(pa.array(referral_ids), np.array(referral_ids, dtype=object))
    ids = [ident(k) for k, count in runs for _ in range(count)]
    want = [referrals.index(k) if k in referrals else -1 for k, count in runs for _ in range(count)]
    col: Any = pa.array(ids, pa.large_string() if shape == "large" else pa.string())
    if shape == "slice":
        col = pa.array(["Q" * width, *ids, "Q" * width]).slice(1, len(ids))
    elif shape == "chunked":
        col = pa.chunked_array([col[: len(ids) // 2], col[len(ids) // 2:]], type=col.type)
    elif shape == "with null":  # (not one width: hashed)
        col, want = pa.array([*ids, None], pa.string()), [*want, -1]
    assert index(col).tolist() == want


_DATE_TEXT = st.one_of(st.none(), st.just(""), st.sampled_from(["2024-02-29", "2023-02-29", "2024-02-30", "1899-12-31",
                                                                "2100-12-31", "2024-1-01", "20240101", "2024-13-01",
                                                                "0001-01-01", "9999-12-31", "0000-12-31", "0000-01-01", "x"]),
                       st.dates().map(str))


@settings(max_examples=300, deadline=None)
@given(st.lists(_DATE_TEXT, max_size=30), st.sampled_from(["array", "slice", "chunked"]))
def test_dates_match_the_numpy_path(values: list[str | None], shape: str) -> None:
    arr = pa.array(values, type=pa.string())
    if shape == "slice" and len(values) > 2:
        arr, values = arr.slice(1, len(values) - 2), values[1:-1]
    elif shape == "chunked":
        arr = pa.chunked_array([arr[: len(values) // 2], arr[len(values) // 2:]], type=pa.string())
    for got, want in zip(C.dates(arr), C.dates(_plain(values))):
        assert got.tolist() == want.tolist()


@settings(max_examples=300, deadline=None)
@given(columns())
def test_has_nul_and_formula_starts_match_python(case: tuple[Any, list[str | None]]) -> None:
    from iomscore.io._text import neutralise, neutralise_arrow

    arr, values = case
    plain = [("" if v is None else v) for v in values]
    assert C.has_nul(arr) == any("\x00" in v for v in plain)
    flat = C.flat(C.as_text(arr))  # (output cells are text, never dictionary-encoded)
    assert [None if v is None else v for v in neutralise_arrow(flat).to_pylist()] == [
        None if v is None else neutralise(v) for v in values]


_VOCABULARY = st.lists(st.sampled_from(["1", "2", "3", "0", "-1", "01", "-0", "+1", " 1", "12", "-128", "255",
                                        "true", "false", "True", "yes", "", "x"]), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint32(), pa.uint64(),
                        pa.bool_()]).flatmap(
           lambda t: st.tuples(st.just(t), st.lists(st.none() | (st.booleans() if t == pa.bool_() else (
               st.sampled_from([0, 1, 2, 3, 12, 255, -1, -128]) | st.integers(-300, 300)).filter(
               lambda x: (-128 if pa.types.is_signed_integer(t) else 0) <= x
               <= min(300, 2 ** (t.bit_width - pa.types.is_signed_integer(t)) - 1))), max_size=30))),
       _VOCABULARY, st.sampled_from(["array", "slice", "chunked"]))
def test_typed_choices_encode_as_their_text(typed: tuple[Any, list[Any]], vocabulary: list[str], shape: str) -> None:
    """A whole-number or boolean column's codes are those of its text (as casting gives it)."""
    kind, values = typed
    arr = pa.array(values, kind)
    if shape == "slice":
        arr = pa.array([None, *values, None], kind).slice(1, len(values))
    elif shape == "chunked":
        arr = pa.chunked_array([arr[: len(values) // 2], arr[len(values) // 2:]], type=kind)
    text = pc.cast(arr, pa.string())
    assert C.encode(arr, vocabulary).tolist() == C.encode(text, vocabulary).tolist()
    codes, bad = C.encode_given(arr, vocabulary)
    want_codes, want_bad = C.encode_given(text, vocabulary)
    assert (codes.tolist(), bad.tolist()) == (want_codes.tolist(), want_bad.tolist())
