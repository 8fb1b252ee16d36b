"""glibc's malloc options for a batch run: set in this process and handed to its workers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from iomscore.io import _malloc

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc options")


def test_options_are_set_and_passed_to_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert _malloc.keep_freed_memory() is True
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(_malloc.MMAP_THRESHOLD)
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == str(_malloc.TRIM_THRESHOLD)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.environ['MALLOC_TRIM_THRESHOLD_'])"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == str(_malloc.TRIM_THRESHOLD)


def test_an_option_the_environment_sets_is_left_as_it_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    _malloc.keep_freed_memory()
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "131072"
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(_malloc.MMAP_THRESHOLD)


def test_nothing_changes_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_malloc.sys, "platform", "darwin")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert _malloc.keep_freed_memory() is False
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


_POOL = """
import os, sys
from iomscore.io import _malloc
import pyarrow as pa, subprocess
done = _malloc.use_jemalloc()
child = subprocess.run([sys.executable, "-c", "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"],
                       capture_output=True, text=True, check=True).stdout.strip()
print(done, pa.default_memory_pool().backend_name, os.environ.get("ARROW_DEFAULT_MEMORY_POOL"), child)
"""


def _pool_run(env: dict[str, str]) -> list[str]:
    pa = pytest.importorskip("pyarrow")
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow is built without jemalloc")
    done = subprocess.run([sys.executable, "-c", _POOL], capture_output=True, text=True, check=True, env=env)
    return done.stdout.split()


def test_arrow_takes_jemalloc_here_and_in_worker_processes() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    assert _pool_run(env) == ["True", "jemalloc", "jemalloc", "jemalloc"]


def test_a_pool_the_environment_names_is_left_as_it_says() -> None:
    assert _pool_run({**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}) == ["False", "system", "system", "system"]
