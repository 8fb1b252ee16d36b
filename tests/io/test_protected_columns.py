"""The protected characteristics a reader keeps are each kept person's own, made only when read.

Rejected rows (bad values, cross-field rules, duplicates, orphans) shift every later row, so
the values are checked person by person against the file, whichever reader and whatever rows
are taken afterwards; and a scoring run never makes them.
"""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import numpy as np
import pytest

from iomscore import synth
from iomscore.io import read_referrals, score_read
from iomscore.schema._table import LazyColumns
from iomscore.schema._vocabulary import PROTECTED_FIELDS

pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def bad_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("protected")
    r = d / "r.csv"
    synth.write_csv(synth.generate(400, seed=11), r, d / "r-sanctions.csv", d / "r-custody.csv", bad_fraction=0.15,
                    seed=5)
    # and three people born after their assessment: rejected by a cross-field rule, after the
    # table of the rows that passed the field checks is built (a second take of every column)
    with open(r, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    birth, assessed = rows[0].index("date_of_birth"), rows[0].index("assessment_date")
    for row in rows[10:40:10]:
        row[birth] = "2099-01-01"
        row[assessed] = "2025-01-01"
    with open(r, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return r


def _by_person(r: Path) -> dict[str, dict[str, str | None]]:
    with open(r, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return {row["person_id"].strip(): {k: (row[k].strip() or None) for k in PROTECTED_FIELDS} for row in rows}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_each_kept_person_has_their_own_protected_values(bad_list: Path, fmt: str, tmp_path: Path) -> None:
    r = bad_list
    if fmt == "parquet":
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        for name in ("r", "r-sanctions", "r-custody"):
            opts = pacsv.ConvertOptions(column_types={"person_id": pa.string()}, strings_can_be_null=False)
            pq.write_table(pacsv.read_csv(r.with_name(f"{name}.csv"), convert_options=opts),
                           tmp_path / f"{name}.parquet")
        r = tmp_path / "r.parquet"
    result = read_referrals(r, r.with_name(f"r-sanctions{r.suffix}"), r.with_name(f"r-custody{r.suffix}"))
    assert result.rejects and result.table.n  # (rows were dropped before kept ones)
    want = _by_person(bad_list)
    table = result.table
    ids = table.batch.person_id.tolist()
    assert any(r.field == "date_of_birth" and "after the assessment" in r.reason for r in result.rejects)
    assert result.person_id_arrow.to_pylist() == ids  # (the ids the writers take)
    for f in PROTECTED_FIELDS:
        assert table.protected[f].tolist() == [want[p][f] for p in ids], f
    rows = np.array([5, 0, 3, 3])
    taken = table.take(rows)
    rows[:] = 1  # (the take has its own copy)
    again = taken.take(np.array([3, 0]))
    for f in PROTECTED_FIELDS:
        assert taken.protected[f].tolist() == [want[ids[i]][f] for i in (5, 0, 3, 3)], f
        assert again.protected[f].tolist() == [want[ids[i]][f] for i in (3, 5)], f
    plain = pickle.loads(pickle.dumps(taken))  # (a table a worker process is sent)
    assert {f: v.tolist() for f, v in plain.protected.items()} == {f: v.tolist() for f, v in taken.protected.items()}


def test_scoring_makes_no_protected_column(bad_list: Path) -> None:
    result = read_referrals(bad_list, bad_list.with_name("r-sanctions.csv"), bad_list.with_name("r-custody.csv"))
    protected = result.table.protected
    assert isinstance(protected, LazyColumns)
    made: list[str] = []
    real = LazyColumns.__getitem__

    def spy(self: LazyColumns, name: str) -> np.ndarray:
        made.append(name)
        return real(self, name)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(LazyColumns, "__getitem__", spy)
        run = score_read(result, "iom-priority")
    assert run.scored and made == []
    assert sorted(protected) == sorted([*PROTECTED_FIELDS, "sex"]) and "ethnicity" in protected and made == []


def test_a_column_is_made_once() -> None:
    calls: list[int] = []

    def make() -> np.ndarray:
        calls.append(1)
        return np.array(["a", None], dtype=object)

    cols = LazyColumns({"x": make})
    assert cols["x"] is cols["x"] and len(calls) == 1 and len(cols) == 1
    with pytest.raises(KeyError):
        cols["y"]
