"""Scoring on Dask: the kernel of ``iomscore score`` over partitions aligned by ``person_id``.

For a list that outgrows one machine. :func:`score` takes the two-table form as Dask (or
pandas) DataFrames and returns :class:`DaskScores`, whose ``scores`` and ``rejects`` are Dask
DataFrames holding the rows ``iomscore score`` writes for the same input. Dask itself is an
optional extra (``pip install 'iomscore[dask]'``), imported only when this is used.
"""

from __future__ import annotations

from .._public import set_module
from ._score import DaskScores, score

__all__ = ["DaskScores", "score"]

set_module(globals(), __all__, __name__)
