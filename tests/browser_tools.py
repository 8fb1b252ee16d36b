"""Driving Debian's headless Chromium (and poppler) from the browser tests, in one place.

Under ``CI=true`` a missing tool fails the test (``.ci/run`` installs them); elsewhere the test
is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

#: The flags this machine's closed network needs (no background connections) and a quiet page.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio",
]
PRINT_FLAGS = ["--no-pdf-header-footer"]
#: A4 width at 96 CSS pixels per inch.
A4_WIDTH_PX = 794


def require(tool: str) -> str:
    """The path of ``tool``; fails under CI, skips elsewhere, when it is not installed."""
    path = shutil.which(tool)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is required in CI for the browser tests (.ci/run installs it)")
    pytest.skip(f"{tool} is not installed")
    raise AssertionError  # unreachable


def chromium() -> str:
    """The Chromium executable."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return require(name)
    return require("chromium")


def run_chromium(tmp: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile under ``tmp``; assert it succeeded."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc
