"""The Dask cluster ``iomscore score --engine dask`` runs its partitions on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Final

__all__ = ["NO_DASK", "dask_executor"]

#: The error when Dask is not installed.
NO_DASK: Final = "the Dask engine needs dask and distributed: pip install 'iomscore[dask]'"


@contextlib.contextmanager
def dask_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor]:
    """A :class:`concurrent.futures.Executor` on a Dask cluster: a local cluster of ``workers``
    processes (one thread each), or the running scheduler at ``scheduler``.

    The partitions are spilled to a directory beside the output, so a remote cluster's
    workers must see that directory (a shared file system) at the same path.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(NO_DASK) from exc
    if scheduler:
        with Client(scheduler) as client:
            yield client.get_executor()
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        yield client.get_executor()
