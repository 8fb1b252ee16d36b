"""Watching a scorer in use: the run log and population drift.

- :class:`RunLog` is the append-only, hash-chained record of every command-line run that
  scores, selects or renders (what went in, what came out, which scorer and policy, the
  counts), with a retention rule that keeps the chain verifiable.
- :func:`model_card` describes any scorer: purpose, inputs read and not read, how a score is
  made, validation, limitations, identity and the ATRS fields, with the owner's blanks marked.
- :func:`drift` compares two populations (two referral lists or two score files) feature by
  feature and band by band with the population stability index.

See ``docs/governance.md`` for how these answer the DPIA, equality and transparency questions.
"""

from .._public import set_module
from ._card import BLANK, ModelCard, model_card
from ._drift import (
    MODERATE,
    SIGNIFICANT,
    DriftReport,
    DriftRow,
    drift,
    drift_referrals,
    psi,
    psi_level,
)
from ._runlog import RUN_LOG_FORMAT, RunLog, RunLogError, RunRecord, file_sha256

__all__ = [
    "BLANK",
    "MODERATE",
    "RUN_LOG_FORMAT",
    "SIGNIFICANT",
    "DriftReport",
    "DriftRow",
    "ModelCard",
    "RunLog",
    "RunLogError",
    "RunRecord",
    "drift",
    "drift_referrals",
    "file_sha256",
    "model_card",
    "psi",
    "psi_level",
]

set_module(globals(), __all__, __name__)
