"""Optional pandas: imported only when a ``.to_frame()`` export is asked for.

pandas is the optional ``pandas`` extra (``pip install 'iomscore[pandas]'``); scoring never
needs it, so it is imported inside the export methods, never at module level.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["NO_PANDAS", "require_pandas"]

#: Raised (as ImportError) by ``.to_frame()`` when pandas is not installed.
NO_PANDAS: Final = "{what} needs pandas, which is not installed: pip install 'iomscore[pandas]'"


def require_pandas(what: str) -> Any:
    """The ``pandas`` module, or an ``ImportError`` saying which export needs it and how to get it.

    Examples
    --------
    >>> require_pandas("FeatureFrame.to_frame()").__name__
    'pandas'
    """
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(NO_PANDAS.format(what=what)) from exc
    return pandas
