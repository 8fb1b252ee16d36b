"""Finding scorers by name: built-ins, shipped specs, third-party entry points, spec paths.

Scorers found by name are made once and cached, so a web service that passes
``scorer="iom-priority"`` on every request does not re-read the spec each time. Built-in
scorers are cached by name. Spec files (shipped or given by path) are cached on the file's
identity -- resolved path, device, inode, size and ``mtime_ns`` -- together with the sha256
the spec was loaded with: when any of these changes the file is read again, so an edited
file is reloaded (or refused, if its recorded hash no longer matches its content). Scorers
registered with :func:`register_scorer` and entry points are made by their factory on every
call, as before. The cache is guarded by a lock and safe to use from many threads; the
scorers it hands out are shared, and iomscore's own scorers hold no per-call state.

Names and paths: a name (text with no ``/`` that does not end in ``.json``/``.toml``) resolves
only to a built-in, a shipped spec, a registered scorer or an entry point, never to a file in
the working directory; anything else is a spec path. Shipped names cannot be taken over:
:func:`register_scorer` refuses them, and a spec file claiming one must hash to its pin
(:mod:`iomscore.scoring._pins`). A spec file that records no sha256 loads only with
``allow_unhashed=True`` (a cached one too).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Final

from .._errors import IomscoreError
from ._ogrs3 import OGRS3
from ._points import PointsScorer
from ._protocol import Scorer
from ._spec import SpecError, names_a_file, unhashed_allowed

__all__ = ["ENTRY_POINT_GROUP", "available_scorers", "get_scorer", "register_scorer", "shipped_models_dir"]

logger = logging.getLogger("iomscore")

ENTRY_POINT_GROUP: Final = "iomscore.scorers"
_UNKNOWN_SCORER: Final = "unknown scorer {name!r}: not a built-in ({known}), not an entry point in {group!r}, and not a spec file"

_NO_SPEC_FILE: Final = "spec file does not exist: {path}"
_SHIPPED_NAME: Final = "cannot register a scorer as {name!r}: that name is iomscore's own (built-in or shipped)"
_NAME_HINT: Final = "; to use a spec file, give its path (e.g. ./{name}.json)"



class UnknownScorerError(IomscoreError, KeyError):
    """No scorer has this name (or no spec file this path); the message names those there are.

    A :class:`KeyError` as well, so code that caught one before still does; ``str()`` is the
    message itself (not quoted as a ``KeyError``'s key would be).

    Examples
    --------
    >>> import iomscore
    >>> try:
    ...     iomscore.get_scorer("no-such-scorer")
    ... except iomscore.IomscoreError as exc:
    ...     print(str(exc)[:42], isinstance(exc, KeyError))
    unknown scorer 'no-such-scorer': not a bui True
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_registered: dict[str, Callable[[], Scorer]] = {}
#: What identifies a spec file's content on disk without reading it.
_FileKey = tuple[int, int, int, int]
#: Spec scorers by resolved path: the file key they were read with, the scorer, and whether the
#: file recorded no sha256 (then only a caller allowing unhashed files gets it).
_spec_cache: dict[str, tuple[_FileKey, PointsScorer, bool]] = {}
#: Built-in scorers by name, made once.
_builtin_cache: dict[str, Scorer] = {}
_cache_lock: Final = threading.Lock()
#: Resolved form of absolute spec paths asked for (the cache key; the file's identity is still
#: checked by ``stat`` on every call, so a path that now leads to another file reloads).
_resolved: dict[Path, str] = {}
_RESOLVED_LIMIT: Final = 256


@lru_cache(maxsize=1)
def _built_ins() -> dict[str, Callable[[], Scorer]]:
    """Built-in scorers that are not points specs: OGRS3 and the OASys v4 static and dynamic
    predictors (their module is imported on first use, so ``import iomscore`` does not load it)."""
    from ._ogrs4 import (
        OASYS_DYNAMIC_SCORERS,
        OASYS_STATIC_SCORERS,
        OASysDynamicPredictor,
        OASysStaticPredictor,
    )

    return {
        "ogrs3": OGRS3,
        **{name: (lambda name=name: OASysStaticPredictor(name)) for name in OASYS_STATIC_SCORERS},  # type: ignore[misc]
        **{name: (lambda name=name: OASysDynamicPredictor(name)) for name in OASYS_DYNAMIC_SCORERS},  # type: ignore[misc]
    }


def register_scorer(name: str, factory: Callable[[], Scorer]) -> None:
    """Make ``factory()`` available as ``get_scorer(name)`` in this process.

    Raises ``ValueError`` for a name iomscore itself uses (a built-in or shipped scorer): a
    registered scorer never replaces the reviewed one.
    """
    if name in _built_ins() or name in _shipped_specs():
        raise ValueError(_SHIPPED_NAME.format(name=name))
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
                scorer = _spec_scorer(path)  # read once: cached for get_scorer by name
            except ValueError as exc:  # a broken shipped spec must not hide the others
                logger.error("shipped spec %s is invalid: %s", path, exc)
                continue
            out[scorer.name] = path
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
    names = {*_built_ins(), *_shipped_specs(), *_registered, *_entry_points()}
    return sorted(names)


def get_scorer(name_or_path: str | Path | Scorer, *, allow_unhashed: bool = False) -> Scorer:
    """A scorer by name (built-in, shipped spec, registered, entry point) or spec file path.

    ``allow_unhashed=True`` lets a spec file that records no sha256 load (see
    :func:`~iomscore.load_spec`); a name never reads a file from the working directory.

    Examples
    --------
    >>> import iomscore
    >>> iomscore.get_scorer("ogrs3").identity.name
    'ogrs3'
    """
    if not isinstance(name_or_path, (str, Path)):
        return name_or_path
    allowed = unhashed_allowed(allow_unhashed)
    key = str(name_or_path)
    if names_a_file(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise UnknownScorerError(_NO_SPEC_FILE.format(path=path))
        return _spec_scorer(path, allowed)
    built_ins = _built_ins()
    if key in built_ins:
        with _cache_lock:
            cached = _builtin_cache.get(key)
            if cached is None:
                cached = _builtin_cache[key] = built_ins[key]()
        return cached
    if key in _registered:
        return _registered[key]()
    shipped = _shipped_specs()
    if key in shipped:
        return _spec_scorer(shipped[key])
    eps = _entry_points()
    if key in eps:
        obj = eps[key].load()
        # An entry point names a scorer object, or a class or factory that makes one.
        return obj if hasattr(obj, "score_features") and not isinstance(obj, type) else obj()
    raise UnknownScorerError(
        _UNKNOWN_SCORER.format(name=key, known=", ".join(sorted({*built_ins, *shipped})), group=ENTRY_POINT_GROUP)
        + _NAME_HINT.format(name=key)
    )


def _file_key(path: Path) -> _FileKey:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _spec_scorer(path: Path, allow_unhashed: bool = False) -> PointsScorer:
    """The scorer of the spec file at ``path``, read again only when the file has changed.

    A changed file (another size, modification time or inode: an edit, or a file replaced by
    a rename) is loaded afresh, which checks its recorded sha256 again, so an edited spec is
    refused exactly as on first use. If its content hashes the same as the cached scorer's
    spec, the cached scorer is kept (a touched but unchanged file).
    """
    resolved = _resolved.get(path)
    if resolved is None:
        resolved = str(path.resolve())
        if path.is_absolute() and len(_resolved) < _RESOLVED_LIMIT:
            _resolved[path] = resolved
    key = _file_key(path)
    with _cache_lock:
        entry = _spec_cache.get(resolved)
    if entry is not None and entry[0] == key:
        if entry[2] and not allow_unhashed:
            PointsScorer(path)  # raises the same SpecError as a first load would
        return entry[1]
    # outside the lock: loading may take a while, and may raise
    try:
        scorer, unhashed = PointsScorer(path), False
    except SpecError:
        if not allow_unhashed:
            raise
        scorer, unhashed = PointsScorer(path, allow_unhashed=True), True
    with _cache_lock:
        entry = _spec_cache.get(resolved)
        if entry is not None and entry[1].identity.sha256 == scorer.identity.sha256:
            scorer = entry[1]
        _spec_cache[resolved] = (key, scorer, unhashed)
    return scorer


def clear_scorer_cache() -> None:
    """Forget every cached scorer (the next :func:`get_scorer` by name makes them again).

    Examples
    --------
    >>> import iomscore
    >>> from iomscore.scoring._registry import clear_scorer_cache
    >>> clear_scorer_cache()
    >>> iomscore.get_scorer("ogrs3") is iomscore.get_scorer("ogrs3")
    True
    """
    with _cache_lock:
        _spec_cache.clear()
        _builtin_cache.clear()
        _resolved.clear()
