"""The scorer protocol.

A scorer declares the features it reads and turns a mapping of feature arrays into a
:class:`~iomscore.ScoreBatch`. It never sees a :class:`~iomscore.Referral`: the feature engine
hands it only what it declared, so it cannot read protected characteristics or serious-harm
information, and it reads ``sex`` only if ``"sex"`` is among its declared features.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np

from ._result import ModelIdentity, ScoreBatch

__all__ = ["Scorer"]


@runtime_checkable
class Scorer(Protocol):
    """What iomscore needs of a scorer, built-in or third-party.

    Attributes
    ----------
    name, version : str
        How users ask for it and which revision it is.
    features : tuple of str
        Feature names read (see :data:`iomscore.features.FEATURES`). Reading ``"sex"`` must be
        declared here; protected characteristics and serious-harm fields are not features.
    monotone : mapping of str to {"increasing", "decreasing"}
        Features in which the score is declared monotone; ``iomscore.testing.check_scorer``
        tests each declaration.
    identity : ModelIdentity
        Name, version and sha256 of the spec.
    """

    name: str
    version: str

    @property
    def features(self) -> tuple[str, ...]: ...

    @property
    def monotone(self) -> Mapping[str, str]: ...

    @property
    def identity(self) -> ModelIdentity: ...

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        """Score every row of ``features`` (arrays of equal length)."""
        ...
