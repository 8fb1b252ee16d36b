"""Fairness assessment of scores used to select people for IOM cohorts.

Two functions:

- :func:`audit` assesses any scorer's output against outcomes and protected characteristics
  (group and intersectional metrics, differences and ratios with bootstrap intervals, and the
  four-fifths rule at a threshold and at a capacity).
- :func:`proxy_check` measures how well each input feature alone predicts membership of each
  protected group, to find proxies.

See ``docs/fairness.md`` for how to read the results and their limits.
"""

from iomscore.fairness._audit import METRICS, AuditResult, Comparison, GroupMetrics, audit
from iomscore.fairness._common import NOT_RECORDED
from iomscore.fairness._proxy import (
    DEFAULT_AUC_THRESHOLD,
    DEFAULT_NMI_THRESHOLD,
    ProxyResult,
    ProxyRow,
    proxy_check,
)

__all__ = [
    "DEFAULT_AUC_THRESHOLD",
    "DEFAULT_NMI_THRESHOLD",
    "METRICS",
    "NOT_RECORDED",
    "AuditResult",
    "Comparison",
    "GroupMetrics",
    "ProxyResult",
    "ProxyRow",
    "audit",
    "proxy_check",
]
