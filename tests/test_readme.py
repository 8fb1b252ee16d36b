"""The README's commands run as written: the command-line block in order, in an empty
directory, and the Python example as a script that also passes ``mypy --strict`` with the
pydantic plugin the README tells users to configure."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent


def _block(heading: str, lang: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    match = re.search(rf"```{lang}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {lang} block under {heading!r}"
    return match.group(1)


def _commands(heading: str = "## The command line") -> list[str]:
    lines = _block(heading, "sh").splitlines()
    return [line.split("  #")[0].strip() for line in lines if line.strip() and not line.startswith("#")]


def test_the_readme_shows_the_whole_path() -> None:
    verbs = [shlex.split(c)[1] for c in _commands()]
    for verb in ("synth", "score", "explain", "select", "panel", "decide", "decisions"):
        assert verb in verbs


def _run_block(heading: str, cwd: Path) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    for command in _commands(heading):
        done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, command


def test_the_command_line_block_runs_in_order(tmp_path: Path) -> None:
    _run_block("## The command line", tmp_path)
    assert (tmp_path / "panel.html").is_file() and (tmp_path / "panel-next.html").is_file()
    _run_block("## Learning from your own referrals", tmp_path)
    assert (tmp_path / "learned.report.md").is_file() and (tmp_path / "iom-priority-card.md").is_file()
    _run_block("## The IOM operating model", tmp_path)
    assert (tmp_path / "panel-drift.html").is_file() and (tmp_path / "ogp2.csv").is_file()
    assert (tmp_path / "scores-w2.csv").read_bytes() == (tmp_path / "scores.csv").read_bytes()
    assert "hash chain verified" in subprocess.run(
        [str(BIN / "iomscore"), "decisions", "decisions.jsonl"], cwd=tmp_path, capture_output=True, text=True,
        check=True).stdout


def test_the_python_example_runs_and_passes_mypy_strict(tmp_path: Path) -> None:
    code = _block("## Python in ten lines", "python")
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "16.0 high"  # the figure the README's comment shows
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nplugins = pydantic.mypy\n", encoding="utf-8")
    mypy = BIN / "mypy"
    if not mypy.exists():
        pytest.fail("mypy is a dev dependency: install iomscore[dev]")
    checked = subprocess.run([str(mypy), "--strict", "--config-file", str(config), "--cache-dir",
                              str(tmp_path / ".mypy_cache"), str(script)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
