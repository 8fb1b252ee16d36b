"""Public names report the package that exports them as their module (``iomscore.Referral``)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["set_module"]


def set_module(namespace: Mapping[str, Any], names: Iterable[str], module: str) -> None:
    """Set ``__module__`` of the classes and functions among ``names`` to ``module``.

    Only objects defined inside iomscore are touched, so a re-exported third-party name keeps
    its own module; private modules can then move without changing what users see in
    ``repr``, tracebacks and documentation.
    """
    for name in names:
        obj = namespace.get(name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__.startswith("iomscore."):
            obj.__module__ = module
