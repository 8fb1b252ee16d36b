"""Fairness assessment of scores used to select people for IOM cohorts.

Three functions:

- :func:`audit` assesses any scorer's output against outcomes and protected characteristics
  (group and intersectional metrics, differences and ratios with bootstrap intervals, and the
  four-fifths rule at a threshold and at a capacity).
- :func:`proxy_check` measures how well each input feature alone predicts membership of each
  protected group, to find proxies.
- :func:`group_rates` counts people, and the people counted (selected, overridden), overall
  and by group: the one engine behind :func:`iomscore.cohort.selection_rates` and
  :func:`iomscore.cohort.override_rates`, so every report names and counts the same groups.

See ``docs/fairness.md`` for how to read the results and their limits.
"""

from iomscore.fairness._audit import METRICS, AuditResult, Comparison, GroupMetrics, audit
from iomscore.fairness._proxy import (
    DEFAULT_AUC_THRESHOLD,
    DEFAULT_NMI_THRESHOLD,
    ProxyResult,
    ProxyRow,
    proxy_check,
)
from iomscore.fairness._rates import (
    NOT_RECORDED,
    GroupRate,
    GroupRates,
    format_rate,
    group_rates,
)

from .._public import set_module

__all__ = [
    "DEFAULT_AUC_THRESHOLD",
    "DEFAULT_NMI_THRESHOLD",
    "METRICS",
    "NOT_RECORDED",
    "AuditResult",
    "Comparison",
    "GroupMetrics",
    "GroupRate",
    "GroupRates",
    "ProxyResult",
    "ProxyRow",
    "audit",
    "format_rate",
    "group_rates",
    "proxy_check",
]

set_module(globals(), __all__, __name__)
