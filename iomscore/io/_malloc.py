"""How ``malloc`` serves a batch run: freed chunk arrays kept for the next chunk, and Arrow's
buffers from jemalloc.

A batch run allocates and frees the same few hundred megabytes of numpy arrays for every
chunk of people. With glibc's defaults an array of more than 128 kB (the threshold rises only
as far as the largest array freed so far) is mapped fresh from the system and unmapped when
freed, and free memory at the top of the heap is handed back as soon as it passes the trim
threshold, so every chunk faults its pages in again: about a second of system time of a
1M-referral Parquet run (600,000 page faults; 200,000 with the options here). Memory stays
bounded: at most :data:`TRIM_THRESHOLD` bytes of free heap are kept, and an array larger than
:data:`MMAP_THRESHOLD` is still mapped on its own.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from typing import Final

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory", "use_jemalloc"]

logger = logging.getLogger("iomscore.io")

#: Arrays up to this size come from the heap (glibc's largest allowed value on 64-bit).
MMAP_THRESHOLD: Final = 32 << 20
#: Free memory kept at the top of the heap before it is given back.
TRIM_THRESHOLD: Final = 256 << 20
_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3
_OPTIONS: Final = (("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                   ("MALLOC_TRIM_THRESHOLD_", _M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def keep_freed_memory() -> bool:
    """Set glibc's ``malloc`` options for a batch run, in this process and (through the
    environment) in the worker processes it starts; True when they were set.

    An option the environment already sets (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_TRIM_THRESHOLD_``) is left as it says. Elsewhere than glibc on Linux nothing is
    changed. Process-wide, so the command line calls it, never the library.

    Examples
    --------
    The thresholds it sets, in MB (an option the environment sets is left alone):

    >>> MMAP_THRESHOLD >> 20, TRIM_THRESHOLD >> 20
    (32, 256)
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # (not glibc: musl has no mallopt)
        return False
    done = True
    for env, option, value in _OPTIONS:
        if env in os.environ:
            continue
        if mallopt(option, value) != 1:
            logger.debug("mallopt(%d, %d) refused", option, value)
            done = False
            continue
        os.environ[env] = str(value)
    return done


#: The environment variable that names Arrow's memory pool (read when pyarrow first allocates).
ARROW_POOL_ENV: Final = "ARROW_DEFAULT_MEMORY_POOL"


def use_jemalloc() -> bool:
    """Make jemalloc Arrow's memory pool in this process and (through the environment) in the
    worker processes it starts, when this pyarrow has it; True when it was set.

    pyarrow's default, mimalloc, takes fresh memory for each chunk in transparent huge pages
    that the kernel zeroes whole: a 1M-referral Parquet run spent about 1.15 s of system time,
    against 0.58 s with jemalloc (paired runs; peak memory within the noise). A pool the
    environment already names is left as it says. Process-wide, so the command line calls it
    (for a partitioned or streamed run), never the library.

    Examples
    --------
    >>> ARROW_POOL_ENV
    'ARROW_DEFAULT_MEMORY_POOL'
    """
    if ARROW_POOL_ENV in os.environ:
        return False
    try:
        import pyarrow as pa

        pool = pa.jemalloc_memory_pool()
    except (ImportError, NotImplementedError) as exc:  # (a build without jemalloc: its default stays)
        logger.debug("no jemalloc pool: %s", exc)
        return False
    pa.set_memory_pool(pool)
    os.environ[ARROW_POOL_ENV] = "jemalloc"
    return True
