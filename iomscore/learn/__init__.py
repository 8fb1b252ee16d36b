"""Learned scorers that stay transparent.

- :class:`PointsClassifier`: a sparse integer points table learned from outcomes
  (FasterRisk/RiskSLIM family), exported as an ``iomscore.points/1`` spec.
- :class:`Scorecard`: monotone binning + logistic regression, points scaled by points to
  double the odds, exported as the same kind of spec.
- :class:`EstimatorScorer`: any scikit-learn classifier as a scorer, with calibrated
  probabilities, additive per-person explanations and hash-checked persistence.
"""

from .._public import set_module
from ._estimator import EstimatorScorer, Explanation
from ._points import PointsClassifier
from ._scorecard import Scorecard

__all__ = ["EstimatorScorer", "Explanation", "PointsClassifier", "Scorecard"]

set_module(globals(), __all__, __name__)
