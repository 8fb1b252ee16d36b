"""Learned scorers that stay transparent.

- :class:`PointsClassifier`: a sparse integer points table learned from outcomes
  (FasterRisk/RiskSLIM family), exported as an ``iomscore.points/1`` spec. The default is the
  readable table: at most 8 factors and 16 steps.
- :class:`Scorecard`: monotone binning + logistic regression, points scaled by points to
  double the odds, exported as the same kind of spec.
- :class:`EstimatorScorer`: any scikit-learn classifier as an :class:`iomscore.Scorer`, with
  calibrated probabilities, additive per-person explanations and hash-checked persistence.
- :func:`learn`: a points table learned from a team's own referrals and outcomes, over
  iomscore's own features, as a spec that scores referrals like ``iom-priority``.
- :func:`ordinal_key`: how a categorical level reads as ordered values (``"18-22"``,
  ``"10 or more"``), which the points models use to recognise ordinal text.
"""

from .._public import set_module
from ._estimator import EstimatorScorer, Explanation
from ._levels import ordinal_key
from ._points import PointsClassifier
from ._referrals import (
    DEFAULT_FEATURES,
    FEATURE_LABELS,
    LearnedModel,
    LearnError,
    feature_frame,
    learn,
    outcome_target,
    read_outcomes,
)
from ._scorecard import Scorecard

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURE_LABELS",
    "EstimatorScorer",
    "Explanation",
    "LearnError",
    "LearnedModel",
    "PointsClassifier",
    "Scorecard",
    "feature_frame",
    "learn",
    "ordinal_key",
    "outcome_target",
    "read_outcomes",
]

set_module(globals(), __all__, __name__)
