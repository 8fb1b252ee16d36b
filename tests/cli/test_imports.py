"""The command line starts light: ``iomscore score`` loads no other command's domain code.

``iomscore.cli._main`` imports a subcommand's module only when it registers it, and a run
registers only the module of its command, so the import of the dispatcher and ``iomscore score
--help`` leave the selection, the pack, the audits, the run log's checks, learning and the
property kit (with hypothesis) unloaded. The parser a run builds must parse and explain its
command exactly as the whole parser does.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from iomscore.cli._main import _COMMANDS, _MODULE_OF, _modules_for, _parser, build_parser

#: Packages only other commands need (a fresh ``import iomscore`` loads none of them).
HEAVY = (
    "hypothesis",
    "iomscore.cohort",
    "iomscore.fairness",
    "iomscore.learn",
    "iomscore.monitoring",
    "iomscore.panel",
    "iomscore.testing",
)


def _loaded(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``code`` (which prints nothing)."""
    script = f"import json, sys\n{code}\nsys.stdout.write(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    found: list[str] = json.loads(done.stdout)
    return found


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_dispatcher_loads_no_command_domain_code() -> None:
    modules = _loaded("import iomscore.cli._main")
    assert _heavy(modules) == []
    assert "iomscore.cli.score" not in modules  # not even the subcommand modules themselves


def test_score_help_loads_only_what_scoring_needs() -> None:
    code = (
        "import contextlib, io\n"
        "from iomscore.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['score', '--help'])"
    )
    modules = _loaded(code)
    assert _heavy(modules) == []
    assert "iomscore.cli.score" in modules  # the help was built from the real parser


def test_the_probe_sees_heavy_modules_when_they_are_loaded() -> None:
    assert _heavy(_loaded("import iomscore.cohort")) != []


def test_every_command_is_registered_by_the_module_main_imports_for_it() -> None:
    # (in the order --help lists them)
    assert list(_commands(build_parser())) == [c for commands in _COMMANDS.values() for c in commands]


@pytest.mark.parametrize("command", sorted(_MODULE_OF))
def test_a_run_parses_and_explains_its_command_as_the_whole_parser_does(command: str) -> None:
    modules = _modules_for(["-v", command, "--help"])
    assert modules == (_MODULE_OF[command],)
    alone = _commands(_parser(modules))[command]
    whole = _commands(build_parser())[command]
    assert alone.format_help() == whole.format_help()
    assert alone.format_usage() == whole.format_usage()


@pytest.mark.parametrize("argv", [[], ["-h"], ["--help"], ["-v"], ["bogus"], ["--verb", "score"], ["-", "score"],
                                  ["--", "score"], ["-vh", "score"]])
def test_anything_but_a_plain_command_gets_the_whole_parser(argv: list[str]) -> None:
    assert _modules_for(argv) == tuple(_COMMANDS)


def test_version_needs_no_command() -> None:
    assert _modules_for(["-v", "--version", "score"]) == ()
    assert _modules_for(["score", "--version"]) == ("score",)  # the score parser rejects it, as before
