"""The batch kernel on Dask: the same rows and bytes as the single-machine ``iomscore score``."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask
import pandas as pd

import iomscore.dask
from iomscore import cli, synth

SCORER = "iom-priority"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Path, Path]:
    """A list with bad rows and orphans, and what ``iomscore score`` writes for it."""
    d = tmp_path_factory.mktemp("dask")
    ref, san, cus = d / "r.csv", d / "r-sanctions.csv", d / "r-custody.csv"
    synth.write_csv(synth.generate(400, seed=21), ref, san, cus, bad_fraction=0.08, seed=4)
    out = d / "scores.csv"
    assert cli.main(["score", str(ref), "--scorer", SCORER, "-o", str(out)]) == 0
    return ref, san, cus, out, d / "scores-rejects.csv"


@pytest.fixture(scope="module")
def cluster() -> object:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=40) as c:
        yield c


def _frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _result(files: tuple[Path, ...], partitions: int, npartitions: int) -> iomscore.dask.DaskScores:
    ref, san, cus = (dask.dataframe.from_pandas(_frame(p), npartitions=npartitions) for p in files[:3])
    return iomscore.dask.score(ref, san, cus, scorer=SCORER, partitions=partitions,
                               sources=(str(files[0]), str(files[1]), str(files[2])), first_row=2)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.astype(str).to_numpy().tolist() == b.astype(str).to_numpy().tolist()


def _check(result: iomscore.dask.DaskScores, files: tuple[Path, ...]) -> None:
    scores = result.scores.compute().sort_index()
    want = _frame(files[3])
    assert len(want) > 300
    _same(scores.reset_index(drop=True), want)
    rejects = result.rejects.compute()
    order = pd.to_numeric(rejects["referral_row"].replace("", str(1 << 62)))
    rejects = (rejects.assign(_o=order, _r=pd.to_numeric(rejects["row"]))
               .sort_values(["_o", "source", "_r"]).drop(columns=["_o", "_r"]).reset_index(drop=True))
    assert len(rejects) > 30
    _same(rejects, _frame(files[4]))


def test_synchronous_scheduler_gives_the_rows_iomscore_score_writes(files: tuple[Path, ...]) -> None:
    with dask.config.set(scheduler="synchronous"):
        _check(_result(files, partitions=3, npartitions=2), files)


def test_local_cluster_gives_the_same_rows(files: tuple[Path, ...], cluster: object) -> None:
    with distributed.Client(cluster):
        _check(_result(files, partitions=4, npartitions=3), files)


@pytest.fixture
def small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Partition even this small list (into about six partitions), as a large one would be."""
    monkeypatch.setattr("iomscore.io._stream.IN_MEMORY_BYTES", 0)
    monkeypatch.setattr("iomscore.io._stream.PARTITION_BYTES", 40_000)


def test_cli_engine_dask_writes_the_same_bytes(files: tuple[Path, ...], tmp_path: Path,
                                               small_partitions: None) -> None:
    ref, san, cus, out, rejects = files
    mine = tmp_path / "dask.csv"
    assert cli.main(["score", str(ref), "--sanctions", str(san), "--custody", str(cus), "--scorer", SCORER,
                     "-o", str(mine), "--engine", "dask", "--workers", "2"]) == 0
    assert mine.read_bytes() == out.read_bytes()
    assert (tmp_path / "dask-rejects.csv").read_bytes() == rejects.read_bytes()


def test_cli_workers_write_the_same_bytes(files: tuple[Path, ...], tmp_path: Path, small_partitions: None) -> None:
    ref, _, _, out, rejects = files
    mine = tmp_path / "w2.csv"
    assert cli.main(["score", str(ref), "--scorer", SCORER, "-o", str(mine), "--workers", "2"]) == 0
    assert mine.read_bytes() == out.read_bytes()
    assert (tmp_path / "w2-rejects.csv").read_bytes() == rejects.read_bytes()
