"""Arrow values made from their buffers (:mod:`iomscore.io._arrow`) are the ones pyarrow makes,
and the batch path, which uses them, never imports pandas (pyarrow imports it on its first
``pa.array``, ``pa.scalar`` or ``to_numpy``: 0.15-0.25 s of a run, holding the lock)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from iomscore import synth

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("pandas")  # (without it there is nothing to stay away from)

from iomscore.io import _arrow as A

_DTYPES = st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint32", "uint64", "float32", "float64",
                           "bool"])
_TEXT = st.text(st.characters(codec="utf-8"), max_size=6)


@given(hnp.arrays(_DTYPES, st.integers(0, 40)), st.integers(0, 5))
def test_an_array_of_numbers_or_booleans_is_pyarrows(values: np.ndarray, start: int) -> None:
    values = values[start:]  # (a view with an offset)
    got, want = A.array(values), pa.array(values)
    assert got.type == want.type and got.null_count == want.null_count == 0
    assert got.to_pylist() == want.to_pylist() or np.isnan(values).any()  # (nan != nan)
    assert A.to_numpy(got).dtype == want.to_numpy(zero_copy_only=False).dtype
    np.testing.assert_array_equal(A.to_numpy(got), want.to_numpy(zero_copy_only=False))
    sliced = want.slice(min(1, len(want)))
    np.testing.assert_array_equal(A.to_numpy(sliced), sliced.to_numpy(zero_copy_only=False))


@given(st.lists(st.one_of(_TEXT, st.none()), max_size=8), st.sampled_from([None, "string", "large_string"]))
def test_text_is_pyarrows(values: list[str | None], kind: str | None) -> None:
    typ = None if kind is None else getattr(pa, kind)()
    want = pa.array(values, type=typ)
    got = A.array(values, type=typ)
    assert got.type == want.type and got.equals(want)
    assert A.to_numpy(got).tolist() == want.to_numpy(zero_copy_only=False).tolist()
    if values and values[0] is not None:
        assert A.scalar(values[0], typ).equals(pa.scalar(values[0], type=typ))
        filled = A.fill_null(want, values[0])
        assert filled.equals(pa.compute.fill_null(want, values[0]))


_TYPES = st.sampled_from([None, "int8", "int32", "int64", "uint8", "uint64", "float32", "float64", "bool_", "string",
                          "large_string", "date32"])


def _outcome(make: object, value: object, typ: object) -> object:
    try:
        return make(value, typ)  # type: ignore[operator]
    except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
        return type(exc)


@given(st.one_of(st.booleans(), st.integers(-(1 << 70), 1 << 70), st.floats(allow_nan=False), _TEXT), _TYPES)
def test_a_scalar_is_pyarrows(value: object, kind: str | None) -> None:
    typ = None if kind is None else getattr(pa, kind)()
    got = _outcome(A.scalar, value, typ)
    want = _outcome(lambda v, t: pa.scalar(v, type=t), value, typ)
    if isinstance(want, type):  # (pyarrow refuses it: so must the helper, in the same words)
        assert got is want
    else:
        assert not isinstance(got, type) and got.type == want.type and got.equals(want)


@given(hnp.arrays(_DTYPES, st.integers(0, 8)), _TYPES)
@example(np.array([-719163], dtype=np.int32), "date32")  # (a day before the year 1: no Python date)
def test_an_array_of_a_type_is_pyarrows(values: np.ndarray, kind: str | None) -> None:
    typ = None if kind is None else getattr(pa, kind)()
    got, want = _outcome(A.array, values, typ), _outcome(lambda v, t: pa.array(v, type=t), values, typ)
    if isinstance(want, type):
        assert isinstance(got, type) and issubclass(got, pa.ArrowException) == issubclass(want, pa.ArrowException)
    else:
        assert not isinstance(got, type) and got.type == want.type
        if pa.types.is_floating(want.type):  # (nan == nan here)
            np.testing.assert_array_equal(np.array(got.to_pylist(), float), np.array(want.to_pylist(), float))
        else:  # (not as Python values: a date32 of any int32 is no Python date)
            assert got.equals(want)


def test_a_masked_array_keeps_its_mask_and_views_are_read_only() -> None:
    masked = np.ma.masked_array([1, 2], mask=[False, True])
    assert A.array(masked).to_pylist() == [1, None]
    view = A.to_numpy(pa.array([1, 2, 3]).slice(1))
    assert view.tolist() == [2, 3] and not view.flags.writeable


def test_text_that_arrow_refuses_is_refused() -> None:
    for make in (A.texts, pa.array, A.array):
        with pytest.raises(UnicodeEncodeError):
            make(["\ud800"])
    assert A.array([]).type == pa.array([]).type  # (an empty list has no type to infer: null)
    for refused in (np.zeros(2, ">i4"), np.zeros((2, 2))):
        with pytest.raises((pa.ArrowNotImplementedError, pa.ArrowInvalid)):
            pa.array(refused)
        with pytest.raises((pa.ArrowNotImplementedError, pa.ArrowInvalid)):
            A.array(refused)


def _sorted_copy(src: Path, dst: Path) -> None:
    with open(src, encoding="utf-8", errors="surrogateescape", newline="") as f:
        rows = list(csv.reader(f))
    col = rows[0].index("person_id")
    body = sorted(rows[1:], key=lambda r: r[col].strip())
    with open(dst, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0], *body])


_RUN = """
import json, sys
from iomscore.io._score import score_to_files
d, fmt_in, fmt_out, grouped = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
run = score_to_files(f"{d}/r.{fmt_in}", f"{d}/out.{fmt_out}", sanctions=f"{d}/r-sanctions.{fmt_in}",
                     custody=f"{d}/r-custody.{fmt_in}", scorer="iom-priority", partitions=3, grouped=grouped,
                     rejects=f"{d}/rejects.csv", counts=f"{d}/counts.json")
print(json.dumps([run.scored, len(run.rejects), sorted(m for m in sys.modules if m.split(".")[0] == "pandas")]))
"""


@pytest.mark.parametrize("grouped", [True, False], ids=["sorted", "spilled"])
@pytest.mark.parametrize("fmt_in,fmt_out", [("csv", "csv"), ("csv", "parquet"), ("parquet", "parquet"),
                                            ("parquet", "csv")])
def test_the_batch_path_imports_no_pandas(tmp_path: Path, fmt_in: str, fmt_out: str, grouped: bool) -> None:
    raw = tmp_path / "raw" / "r.csv"
    raw.parent.mkdir()
    synth.write_csv(synth.generate(600, seed=4), raw, raw.with_name("r-sanctions.csv"),
                    raw.with_name("r-custody.csv"), bad_fraction=0.1, seed=2)
    for name in ("r", "r-sanctions", "r-custody"):
        _sorted_copy(raw.with_name(f"{name}.csv"), tmp_path / f"{name}.csv")
        if fmt_in == "parquet":
            import pyarrow.csv as pacsv

            opts = pacsv.ConvertOptions(column_types={"person_id": pa.string()})
            pq.write_table(pacsv.read_csv(tmp_path / f"{name}.csv", convert_options=opts),
                           tmp_path / f"{name}.parquet")
    done = subprocess.run([sys.executable, "-c", _RUN, str(tmp_path), fmt_in, fmt_out, "1" if grouped else "0"],
                          capture_output=True, text=True, check=True)
    scored, rejected, pandas = json.loads(done.stdout.splitlines()[-1])
    assert scored > 0 and rejected > 0  # (bad rows and good ones went through)
    assert pandas == []
