"""iomscore: explainable cohort-selection scoring for Integrated Offender Management.

Score a referral with the published OGRS3 formula or a points spec, see why, and batch-score
referral lists without losing a row.

Examples
--------
>>> import iomscore
>>> r = iomscore.Referral(person_id="P1", assessment_date="2025-06-01",
...     date_of_birth="1995-02-01", sex="male", sanctions=[
...     {"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
...      "offence_group": "burglary_domestic", "disposal": "community_order"}])
>>> result = iomscore.score(r, scorer="iom-priority")
>>> result.band in {"low", "medium", "high", "very high"}
True
"""

from __future__ import annotations

import logging
from typing import Any

from ._errors import IomscoreError
from ._public import set_module
from .features._engine import FEATURES, FeatureFrame
from .schema._batch import ReferralBatch
from .schema._parse import ReferralError, parse_referral
from .schema._referral import (
    CustodyPeriod,
    OASysAssessment,
    PathwayNeeds,
    ProtectedCharacteristics,
    Referral,
    Sanction,
    SanctionSummary,
    SeriousHarm,
    Supervision,
)
from .schema._table import ReferralTable
from .schema._table import register_frame_reader as _register_frame_reader
from .schema._taxonomy import OffenceTaxonomy, offence_taxonomy
from .schema._vocabulary import PATHWAYS
from .scoring._api import DEFAULT_SCORER, ScoringError, score, score_batch
from .scoring._json import score_json
from .scoring._ogrs3 import OGRS3
from .scoring._points import PointsScorer
from .scoring._protocol import Scorer
from .scoring._registry import available_scorers, get_scorer, register_scorer
from .scoring._result import BreakdownPart, ModelIdentity, ScoreBatch, ScoreResult, explain
from .scoring._spec import PointsSpec, SpecError, load_spec

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SCORER",
    "FEATURES",
    "OGRS3",
    "PATHWAYS",
    "BreakdownPart",
    "CustodyPeriod",
    "FeatureFrame",
    "IomscoreError",
    "ModelIdentity",
    "OASysAssessment",
    "OffenceTaxonomy",
    "PathwayNeeds",
    "PointsScorer",
    "PointsSpec",
    "ProtectedCharacteristics",
    "Referral",
    "ReferralBatch",
    "ReferralError",
    "ReferralTable",
    "Sanction",
    "SanctionSummary",
    "ScoreBatch",
    "ScoreResult",
    "Scorer",
    "ScoringError",
    "SeriousHarm",
    "SpecError",
    "Supervision",
    "__version__",
    "available_scorers",
    "explain",
    "get_scorer",
    "load_spec",
    "offence_taxonomy",
    "parse_referral",
    "register_scorer",
    "score",
    "score_batch",
    "score_json",
]

logging.getLogger("iomscore").addHandler(logging.NullHandler())


def _read_frames(*args: Any, **kwargs: Any) -> ReferralTable:
    # ReferralTable.from_frames validates through the io floor's reader, imported on first use
    # so that `import iomscore` does not load the readers (or pyarrow).
    from .io._frames import table_from_frames

    return table_from_frames(*args, **kwargs)


_register_frame_reader(_read_frames)

set_module(globals(), __all__, __name__)
