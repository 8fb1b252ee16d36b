"""Public view of the feature engine: every derived feature with its unit and definition.

See :mod:`iomscore._features` for the definitions of time at risk, occasions and the current
offence.
"""

from .._public import set_module
from ._engine import (
    FEATURES,
    OFFENCE_FREE_CAP_MONTHS,
    SENSITIVE_FEATURES,
    WINDOW_DAYS,
    FeatureDef,
    FeatureFrame,
    at_risk_days_since,
    compute_features,
    feature_table,
)

__all__ = [
    "FEATURES",
    "OFFENCE_FREE_CAP_MONTHS",
    "SENSITIVE_FEATURES",
    "WINDOW_DAYS",
    "FeatureDef",
    "FeatureFrame",
    "at_risk_days_since",
    "compute_features",
    "feature_table",
]

set_module(globals(), __all__, __name__)
