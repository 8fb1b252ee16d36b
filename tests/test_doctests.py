"""Every Examples section in the package runs, wherever its name is exported from.

Public names report the package that exports them as their ``__module__`` (``iomscore.Referral``),
which hides them, and their methods, from :func:`doctest.testmod` of the private module that
defines them. So each module's docstrings are collected here by where they are *defined*.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import iomscore

MODULES = sorted(m.name for m in pkgutil.walk_packages(iomscore.__path__, "iomscore.") if m.name not in ("iomscore.demo", "iomscore.__main__"))
MODULES = ["iomscore", *MODULES]


def _defined_here(module: ModuleType, obj: object) -> bool:
    try:
        return inspect.getsourcefile(obj) == module.__file__  # type: ignore[arg-type]
    except TypeError:
        return False


def collect(module: ModuleType) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    # the module's own docstring, then everything defined in its file (not what it re-exports)
    tests = {t.name: t for t in finder.find(module) if t.name == module.__name__}
    for name, obj in vars(module).items():
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and _defined_here(module, obj):
            for t in finder.find(obj, f"{module.__name__}.{name}", module=False, globs=dict(vars(module))):
                tests.setdefault(t.name, t)
    return [t for t in tests.values() if t.examples]


def test_the_package_has_examples() -> None:
    examples = sum(len(t.examples) for m in MODULES for t in collect(importlib.import_module(m)))
    assert examples > 300  # a floor: a collector that silently finds nothing fails here


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in sorted(collect(module), key=lambda t: t.name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name} (see stdout)"
