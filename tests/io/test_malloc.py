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
