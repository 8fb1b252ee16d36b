"""Finding scorers by name: built-ins, shipped specs, third-party entry points, spec paths."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Final

from ._ogrs3 import OGRS3
from ._ogrs4 import OASYS_STATIC_SCORERS, OASysStaticPredictor
from ._points import PointsScorer
from ._protocol import Scorer
from ._spec import load_spec

__all__ = ["ENTRY_POINT_GROUP", "available_scorers", "get_scorer", "register_scorer", "shipped_models_dir"]

logger = logging.getLogger("iomscore")

ENTRY_POINT_GROUP: Final = "iomscore.scorers"
_UNKNOWN_SCORER: Final = "unknown scorer {name!r}: not a built-in ({known}), not an entry point in {group!r}, and not a spec file"

_NO_SPEC_FILE: Final = "spec file does not exist: {path}"

_registered: dict[str, Callable[[], Scorer]] = {}
#: Built-in scorers that are not points specs: OGRS3 and the OASys v4 static predictors.
_BUILT_INS: Final[dict[str, Callable[[], Scorer]]] = {
    "ogrs3": OGRS3,
    **{name: (lambda name=name: OASysStaticPredictor(name)) for name in OASYS_STATIC_SCORERS},  # type: ignore[misc]
}


def register_scorer(name: str, factory: Callable[[], Scorer]) -> None:
    """Make ``factory()`` available as ``get_scorer(name)`` in this process."""
    _registered[name] = factory


def shipped_models_dir() -> Path:
    """Directory of the model specs shipped with iomscore (``models/`` in the repository)."""
    packaged = resources.files("iomscore").joinpath("_shipped_models")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "models"


@lru_cache(maxsize=1)
def _shipped_specs() -> dict[str, Path]:
    out: dict[str, Path] = {}
    directory = shipped_models_dir()
    if directory.is_dir():
        for path in sorted(directory.glob("*.json")):
            try:
                spec = load_spec(path)
            except ValueError as exc:  # a broken shipped spec must not hide the others
                logger.error("shipped spec %s is invalid: %s", path, exc)
                continue
            out[spec.name] = path
    return out


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_scorers() -> list[str]:
    """Names accepted by :func:`get_scorer`, sorted.

    Examples
    --------
    >>> import iomscore
    >>> {"ogrs3", "ogrs4g", "ogrs4v", "snsv", "iom-priority"} <= set(iomscore.available_scorers())
    True
    """
    names = {*_BUILT_INS, *_shipped_specs(), *_registered, *_entry_points()}
    return sorted(names)


def get_scorer(name_or_path: str | Path | Scorer) -> Scorer:
    """A scorer by name (built-in, shipped spec, registered, entry point) or spec file path.

    Examples
    --------
    >>> import iomscore
    >>> iomscore.get_scorer("ogrs3").identity.name
    'ogrs3'
    """
    if not isinstance(name_or_path, (str, Path)):
        return name_or_path
    key = str(name_or_path)
    if key in _BUILT_INS:
        return _BUILT_INS[key]()
    if key in _registered:
        return _registered[key]()
    shipped = _shipped_specs()
    if key in shipped:
        return PointsScorer(shipped[key])
    eps = _entry_points()
    if key in eps:
        obj = eps[key].load()
        # An entry point names a scorer object, or a class or factory that makes one.
        return obj if hasattr(obj, "score_features") and not isinstance(obj, type) else obj()
    path = Path(key)
    if path.suffix.lower() in {".json", ".toml"}:
        if not path.is_file():
            raise KeyError(_NO_SPEC_FILE.format(path=path))
        return PointsScorer(path)
    raise KeyError(
        _UNKNOWN_SCORER.format(name=key, known=", ".join(sorted({*_BUILT_INS, *shipped})), group=ENTRY_POINT_GROUP)
    )
