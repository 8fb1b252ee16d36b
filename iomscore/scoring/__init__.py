"""Scorers and what they return.

The :class:`Scorer` protocol, the built-in scorers (:class:`OGRS3`, :class:`PointsScorer` over
a hashed :class:`PointsSpec`), the registry that finds them by name, the result types
(:class:`ScoreResult` for one person, :class:`ScoreBatch` for many) with their explanations,
and the two entry points :func:`score` and :func:`score_batch`.

Examples
--------
>>> from iomscore.scoring import available_scorers
>>> {"ogrs3", "iom-priority"} <= set(available_scorers())
True
"""

from __future__ import annotations

from .._public import set_module
from ._api import DEFAULT_SCORER, ScoringError, score, score_batch
from ._ogrs3 import OGRS3
from ._points import PointsScorer
from ._protocol import Scorer
from ._registry import available_scorers, get_scorer, register_scorer
from ._result import BreakdownPart, ModelIdentity, ScoreBatch, ScoreResult, explain
from ._spec import PointsSpec, SpecError, load_spec

__all__ = [
    "DEFAULT_SCORER",
    "OGRS3",
    "BreakdownPart",
    "ModelIdentity",
    "PointsScorer",
    "PointsSpec",
    "ScoreBatch",
    "ScoreResult",
    "Scorer",
    "ScoringError",
    "SpecError",
    "available_scorers",
    "explain",
    "get_scorer",
    "load_spec",
    "register_scorer",
    "score",
    "score_batch",
]

set_module(globals(), __all__, __name__)
