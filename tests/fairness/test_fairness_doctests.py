"""Run the Examples sections of the fairness modules and of the modules built on their engine.

Public names may report the package that exports them as their ``__module__`` (e.g.
``iomscore.cohort.override_rates``), which hides them from :func:`doctest.testmod` of the
private module that defines them; the names a module lists in ``__all__`` are therefore
searched explicitly.
"""

from __future__ import annotations

import doctest
import inspect
from types import ModuleType

import pytest

from iomscore.cli import decide
from iomscore.cohort import _decisions
from iomscore.fairness import _audit, _common, _proxy, _rates


def run_examples(module: ModuleType) -> tuple[int, int]:
    """(failures, examples tried) over the module's docstring and everything it defines."""
    finder = doctest.DocTestFinder()
    tests = {t.name: t for t in finder.find(module)}
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            found = finder.find(obj, f"{module.__name__}.{name}", module=False, globs=vars(module))
            for t in found:
                tests.setdefault(t.name, t)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for t in sorted(tests.values(), key=lambda t: t.name):
        runner.run(t)
    return runner.failures, runner.tries


@pytest.mark.parametrize(
    "module", [_audit, _common, _proxy, _rates, _decisions, decide], ids=lambda m: m.__name__
)
def test_docstring_examples(module: ModuleType) -> None:
    failures, tried = run_examples(module)
    assert tried > 0
    assert failures == 0
