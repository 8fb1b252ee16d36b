"""``iomscore.dask.score``: the batch kernel on Dask DataFrames of the two-table form."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..io._stream import person_partition, score_partition
from ..scoring._api import DEFAULT_SCORER
from ..scoring._protocol import Scorer
from ._cluster import NO_DASK

__all__ = ["DaskScores", "score"]

_ROW: Final = "__iomscore_row"
_PART: Final = "__iomscore_partition"
_NO_PERSON: Final = "{table}: no person_id column"
#: Referral rows a Dask partition holds by default (pandas input).
PARTITION_ROWS: Final = 100_000


@dataclass(frozen=True)
class DaskScores:
    """The result of :func:`score`: lazy Dask DataFrames.

    ``scores`` has the columns of a scores CSV (text, as written), indexed by the referral
    row (``first_row`` for the first referral); ``rejects`` the columns of a rejects CSV.
    ``scores.compute().sort_index()`` is the scores file's rows in its order.
    """

    scores: Any
    rejects: Any


def _text(frame: Any, source: str) -> tuple[dict[str, Any], np.ndarray]:
    """Columns (as every reader gives them) and row numbers of a pandas partition."""
    import pyarrow as pa

    from ..io._parquet import arrow_columns

    frame = frame.sort_values(_ROW, kind="stable")
    rows = frame[_ROW].to_numpy(dtype=np.int64)
    data = frame.drop(columns=[c for c in (_ROW, _PART) if c in frame.columns])
    table = pa.Table.from_pandas(data, preserve_index=False)
    return arrow_columns(table, source), rows


def _kernel(ref: Any, san: Any, cus: Any, *, sources: tuple[str, str, str], scorer: Any, top: int) -> tuple[Any, Any]:
    """Score one aligned partition; (scores frame, rejects frame) as the files would hold them."""
    import pandas as pd

    from ..io._write import write_rejects

    r_cols, r_rows = _text(ref, sources[0])
    s_cols, s_rows = _text(san, sources[1]) if san is not None else (None, None)
    c_cols, c_rows = _text(cus, sources[2]) if cus is not None else (None, None)
    with tempfile.TemporaryDirectory(prefix="iomscore-dask-") as work:
        out = score_partition(r_cols, r_rows, s_cols, s_rows, c_cols, c_rows, sources=sources, scorer=scorer,
                              format="csv", top=top, work_dir=work)
        path = Path(work) / "rejects.csv"
        write_rejects(path, out.rejects, format="csv")
        rejects = pd.read_csv(path, dtype=str, keep_default_na=False)
    scores = pd.read_csv(io.BytesIO(out.header + out.body), dtype=str, keep_default_na=False)
    scores.index = pd.Index(out.rows, name="referral_row")
    return scores, rejects


def _scores_meta(scorer: Any, top: int) -> Any:
    """The (empty) scores frame: its columns, from the kernel on one made-up referral."""
    import pyarrow as pa

    ref = {"person_id": pa.array(["meta"]), "assessment_date": pa.array(["2025-01-01"]),
           "date_of_birth": pa.array(["1990-01-01"])}
    with tempfile.TemporaryDirectory(prefix="iomscore-dask-") as work:
        out = score_partition(ref, np.array([1]), sources=("", "", ""), scorer=scorer, format="csv", top=top,
                              work_dir=work)
    import pandas as pd

    columns = out.header.decode("utf-8").rstrip("\n").split(",")
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns},
                        index=pd.Index([], dtype=np.int64, name="referral_row"))


def _rejects_meta() -> Any:
    import pandas as pd

    from ..io._write import REJECT_COLUMNS

    return pd.DataFrame({c: pd.Series([], dtype=object) for c in REJECT_COLUMNS})


def _prepare(frame: Any, partitions: int, first_row: int, table: str) -> Any:
    """A Dask frame with its row numbers and the partition of each row's person, shuffled so
    that partition ``i`` of every table holds the same people."""
    import dask.dataframe as dd

    if not isinstance(frame, dd.DataFrame):
        frame = dd.from_pandas(frame, npartitions=max(1, -(-len(frame) // PARTITION_ROWS)), sort=False)
    if "person_id" not in frame.columns:
        raise ValueError(_NO_PERSON.format(table=table))
    frame = frame.assign(**{_ROW: 1})
    frame[_ROW] = frame[_ROW].cumsum() + (first_row - 1)

    def part_of(df: Any) -> Any:
        import pandas as pd
        import pyarrow as pa

        ids = pa.array(df["person_id"].astype(str).str.strip().where(df["person_id"].notna(), ""), type=pa.string())
        return pd.Series(person_partition(ids, partitions).astype(np.int64), index=df.index)

    frame[_PART] = frame.map_partitions(part_of, meta=(_PART, "int64"))
    return frame.shuffle(_PART, npartitions=partitions)


def score(
    referrals: Any,
    sanctions: Any,
    custody: Any = None,
    *,
    scorer: str | Path | Scorer = DEFAULT_SCORER,
    partitions: int | None = None,
    top: int = 3,
    sources: tuple[str, str, str] = ("referrals", "sanctions", "custody"),
    first_row: int = 1,
) -> DaskScores:
    """Score the two-table form on Dask: the rows ``iomscore score`` writes, as Dask DataFrames.

    Parameters
    ----------
    referrals, sanctions, custody : dask.dataframe.DataFrame or pandas.DataFrame
        The tables, with the columns of the CSV form (text, dates or numbers). Any
        partitioning: the rows are shuffled so that each partition holds whole people
        (every row with their ``person_id``), by the hash :func:`iomscore.io._stream.person_partition`.
    scorer : str, path or Scorer
        As for ``iomscore score``; a name or spec path is resolved on each worker.
    partitions : int, optional
        Partitions of people (default: the referral frame's partition count).
    sources, first_row :
        The file names the rejects give, and the row number of the first referral (2 for a
        CSV file with a header, 1 for Parquet and frames), so that the rejects match those
        of ``iomscore score`` on the same files.

    Returns
    -------
    DaskScores
        ``scores`` (indexed by referral row) and ``rejects``, both lazy.

    Examples
    --------
    >>> import pandas as pd, dask
    >>> import iomscore.dask
    >>> ref = pd.DataFrame({"person_id": ["A", "B"], "assessment_date": ["2025-01-01", "2025-01-01"],
    ...                     "date_of_birth": ["1990-01-01", "1990-13-01"]})
    >>> san = pd.DataFrame({"person_id": ["A"], "offence_date": ["2024-10-01"], "sanction_date": ["2024-11-01"],
    ...                     "offence_group": ["shop_theft"], "disposal": ["fine"]})
    >>> result = iomscore.dask.score(ref, san, scorer="iom-priority", partitions=2)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     scores, rejects = result.scores.compute(), result.rejects.compute()
    >>> scores["person_id"].tolist(), rejects["field"].tolist()
    (['A'], ['date_of_birth'])
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(NO_DASK) from exc
    if partitions is None:
        partitions = referrals.npartitions if isinstance(referrals, dd.DataFrame) else \
            max(1, -(-len(referrals) // PARTITION_ROWS))
    spec = scorer
    tables = [_prepare(t, partitions, first_row, name) if t is not None else None
              for t, name in zip((referrals, sanctions, custody), ("referrals", "sanctions", "custody"))]
    delayed = [t.to_delayed() if t is not None else [None] * partitions for t in tables]
    kernel = dask.delayed(_kernel, nout=2, pure=True)
    parts = [kernel(r, s, c, sources=sources, scorer=spec, top=top) for r, s, c in zip(*delayed)]
    scores = dd.from_delayed([p[0] for p in parts], meta=_scores_meta(spec, top), verify_meta=False)
    rejects = dd.from_delayed([p[1] for p in parts], meta=_rejects_meta(), verify_meta=False)
    return DaskScores(scores=scores, rejects=rejects)
