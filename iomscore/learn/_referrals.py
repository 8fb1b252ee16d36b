"""Learning a points table from an IOM team's own referrals and outcomes.

:func:`feature_frame` turns referrals into a table of iomscore features (declared ones only:
protected characteristics and serious-harm fields are not features, and ``sex`` is read only
when asked); :func:`read_outcomes` reads an outcomes table (``person_id``, outcome columns,
follow-up dates); :func:`learn` fits a :class:`~iomscore.learn.PointsClassifier` (or any points
learner) on the people **at risk** for the outcome and exports a points spec whose features are
iomscore features, so it scores referrals through ``iomscore score``, ``select`` and ``panel``
and passes ``iomscore check``.

A target is an outcome column of 1/0 (empty: not known, so not at risk), or one of the
time-dependent outcomes of :func:`iomscore.evaluation.survival_outcomes` (``y_1y``, ``y_2y``,
``y_year2_given_none_year1``) derived from the ``assessment_date``, ``reoffence_date`` and
``follow_up_end`` columns, fitted only on the people at risk for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from .._errors import IomscoreError
from ..features._engine import FEATURES, SENSITIVE_FEATURES, FeatureFrame
from ..schema._batch import ReferralBatch
from ..schema._table import ReferralTable
from ..schema._vocabulary import PATHWAYS
from ..scoring._spec import PointsSpec
from ._points import PointsClassifier

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURE_LABELS",
    "LearnError",
    "LearnedModel",
    "feature_frame",
    "learn",
    "outcome_target",
    "read_outcomes",
]

logger = logging.getLogger(__name__)

#: Features a table is learned from by default, with the monotone direction each is held to.
#: Offending features move the way more offending moves them (so the learned table is
#: monotone in offending, as ``iomscore check`` tests); needs raise priority.
DEFAULT_FEATURES: Final[Mapping[str, str | None]] = {
    "age_at_assessment": "decreasing",
    "offences_6m_at_risk": "increasing",
    "offences_12m_at_risk": "increasing",
    "offences_36m_at_risk": "increasing",
    "proven_offences": "increasing",
    "offence_free_months_at_risk": "decreasing",
    "neighbourhood_offences_24m_at_risk": "increasing",
    "acquisitive_offences_24m_at_risk": "increasing",
    "violent_offences": "increasing",
    "drug_offences": "increasing",
    **{f"need_{p}": "increasing" for p in PATHWAYS},
}

#: Plain-English labels of the features a learned table most often uses.
FEATURE_LABELS: Final[Mapping[str, str]] = {
    "age_at_assessment": "Age at assessment",
    "offences_6m_at_risk": "Proven offences in the last 6 months at risk",
    "offences_12m_at_risk": "Proven offences in the last 12 months at risk",
    "offences_24m_at_risk": "Proven offences in the last 24 months at risk",
    "offences_36m_at_risk": "Proven offences in the last 36 months at risk",
    "proven_offences": "Proven offences on record",
    "offence_free_months_at_risk": "Months at risk since the latest offence",
    "neighbourhood_offences_24m_at_risk": "Neighbourhood-crime offences in the last 24 months at risk",
    "acquisitive_offences_24m_at_risk": "Acquisitive offences in the last 24 months at risk",
    "violent_offences": "Violent offences on record",
    "drug_offences": "Drug offences on record",
    "sex": "Sex (0 male, 1 female)",
    **{f"need_{p}": f"Need: {p.replace('_', ' ')} (0 none, 1 some, 2 significant)" for p in PATHWAYS},
}

#: Outcomes derived from dates (see :func:`iomscore.evaluation.survival_outcomes`).
DATE_TARGETS: Final = ("y_1y", "y_2y", "y_year2_given_none_year1")
_WINDOWS: Final = {"y_1y": (0, 365), "y_2y": (0, 730), "y_year2_given_none_year1": (365, 730)}
_DATE_COLUMNS: Final = ("assessment_date", "reoffence_date", "follow_up_end")

ERR_UNKNOWN_FEATURES: Final = "not iomscore features: {names} (see iomscore.features.FEATURES or `iomscore info features`)"
ERR_SEX: Final = "'sex' is read only when asked: pass include_sex=True (--include-sex)"
ERR_SENSITIVE: Final = "{names} may be read only when asked (include_sex=True for sex)"
ERR_NO_PERSON_ID: Final = "outcomes table {path} has no person_id column"
ERR_NO_TARGET: Final = (
    "outcomes table has no column {target!r}; columns: {columns}; or use {dates} with the date columns {needed}"
)
ERR_BAD_TARGET: Final = "outcome column {target!r} must hold 1/0 (or empty when not known); found {values}"
ERR_DUPLICATE_ID: Final = "outcomes table lists person_id {person!r} more than once"
ERR_TOO_FEW: Final = "only {n} people are at risk for {target!r} with a known outcome (and both outcomes are needed)"
ERR_NOT_FOUND: Final = "outcomes file does not exist: {path}"
ERR_WINDOW: Final = "window must satisfy 0 <= start < end; got ({start}, {end})"


class LearnError(IomscoreError, ValueError):
    """Learning from referrals cannot go ahead; the message says why."""


def window_outcome(
    days_to_event: Any, days_followed: Any, start: float, end: float
) -> tuple[np.ndarray, np.ndarray]:
    """Outcome "event in (start, end] days" and who is at risk for it.

    A person is at risk when they had no event by day ``start`` and were either followed up to
    day ``end`` or had the event within the window. ``days_to_event`` is NaN without an event;
    ``days_followed`` is NaN when follow-up is complete to ``end``.

    Returns
    -------
    y : ndarray of int (0/1), meaningful only where ``at_risk``
    at_risk : ndarray of bool

    Examples
    --------
    >>> y, r = window_outcome([100.0, 500.0, float("nan")], [float("nan")] * 3, 365, 730)
    >>> y.tolist(), r.tolist()
    ([0, 1, 0], [False, True, True])
    """
    if not 0 <= start < end:
        raise ValueError(ERR_WINDOW.format(start=start, end=end))
    t = np.asarray(days_to_event, dtype=np.float64)
    f = np.asarray(days_followed, dtype=np.float64)
    f = np.where(np.isnan(f), np.inf, f)
    has = ~np.isnan(t)
    before = has & (t <= start)
    inside = has & (t > start) & (t <= end)
    observed = f >= end
    at_risk = ~before & (inside | observed)
    return inside.astype(np.int64), at_risk


def _batch_of(referrals: ReferralTable | ReferralBatch | FeatureFrame) -> ReferralBatch:
    if isinstance(referrals, FeatureFrame):
        return referrals.batch
    if isinstance(referrals, ReferralTable):
        return referrals.batch
    return referrals


def _check_features(features: Sequence[str], include_sex: bool) -> list[str]:
    names = list(dict.fromkeys(features))
    unknown = [f for f in names if f not in FEATURES]
    if unknown:
        raise LearnError(ERR_UNKNOWN_FEATURES.format(names=unknown))
    sensitive = [f for f in names if f in SENSITIVE_FEATURES]
    if sensitive and not include_sex:
        raise LearnError(ERR_SEX if sensitive == ["sex"] else ERR_SENSITIVE.format(names=sensitive))
    return names


def feature_frame(
    referrals: ReferralTable | ReferralBatch | FeatureFrame,
    features: Sequence[str] | None = None,
    *,
    include_sex: bool = False,
) -> Any:
    """A pandas DataFrame of iomscore features, one row per referral, indexed by person_id.

    Parameters
    ----------
    referrals : ReferralTable, ReferralBatch or FeatureFrame
    features : sequence of str, optional
        Feature names (default :data:`DEFAULT_FEATURES`, plus ``sex`` with ``include_sex``).
    include_sex : bool, default=False
        Allow (and by default add) the ``sex`` feature.

    Examples
    --------
    >>> from iomscore import synth
    >>> X = feature_frame(synth.generate(10, seed=1), ["age_at_assessment", "offences_12m_at_risk"])
    >>> list(X.columns), len(X)
    (['age_at_assessment', 'offences_12m_at_risk'], 10)
    """
    import pandas as pd

    if features is None:
        features = list(DEFAULT_FEATURES) + (["sex"] if include_sex else [])
    names = _check_features(features, include_sex)
    batch = _batch_of(referrals)
    frame = referrals if isinstance(referrals, FeatureFrame) else FeatureFrame(batch)
    data = {f: np.asarray(frame._get(f), dtype=np.float64) for f in names}
    return pd.DataFrame(data, columns=names, index=pd.Index(np.asarray(batch.person_id, dtype=object), name="person_id"))


def read_outcomes(path_or_frame: str | Path | Any) -> Any:
    """The outcomes table as a DataFrame (``person_id`` as text), from CSV or a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> read_outcomes(pd.DataFrame({"person_id": [1, 2], "y": [0, 1]})).person_id.tolist()
    ['1', '2']
    """
    import pandas as pd

    if isinstance(path_or_frame, (str, Path)):
        path = Path(path_or_frame)
        if not path.is_file():
            raise LearnError(ERR_NOT_FOUND.format(path=path))
        df = pd.read_csv(path, dtype={"person_id": str}, keep_default_na=True)
    else:
        path = Path("<DataFrame>")
        df = path_or_frame.copy()
    if "person_id" not in df.columns:
        raise LearnError(ERR_NO_PERSON_ID.format(path=path))
    df["person_id"] = df["person_id"].astype(str)
    dup = df["person_id"].duplicated()
    if dup.any():
        raise LearnError(ERR_DUPLICATE_ID.format(person=df["person_id"][dup].iloc[0]))
    return df


def outcome_target(outcomes: Any, person_id: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    """``(y, at_risk)`` for each person in ``person_id`` order.

    People with no outcome row, an empty outcome, or not at risk for a date-derived target are
    not at risk (``at_risk`` False; their ``y`` is 0 and meaningless).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> o = pd.DataFrame({"person_id": ["a", "b"], "y": [1, None]})
    >>> y, r = outcome_target(o, np.array(["b", "a", "c"], dtype=object), "y")
    >>> y.tolist(), r.tolist()
    ([0, 1, 0], [False, True, False])
    """
    import pandas as pd

    df = read_outcomes(outcomes) if not hasattr(outcomes, "columns") else outcomes
    order = pd.Index(df["person_id"].astype(str)).get_indexer(np.asarray(person_id, dtype=str))
    found = order >= 0
    if target in df.columns:
        values = pd.to_numeric(df[target], errors="coerce").to_numpy(dtype=np.float64)
        raw = df[target].dropna()
        bad = sorted({str(v) for v in raw[~np.isin(pd.to_numeric(raw, errors="coerce"), [0, 1])]})
        if bad:
            raise LearnError(ERR_BAD_TARGET.format(target=target, values=bad[:5]))
        known = ~np.isnan(values)
        y_all, risk_all = np.where(known, values, 0).astype(np.int64), known
    elif target in DATE_TARGETS and all(c in df.columns for c in _DATE_COLUMNS[:2]):

        def days(c: str) -> np.ndarray:
            later = pd.to_datetime(df[c], errors="coerce").to_numpy(dtype="datetime64[D]")
            origin = pd.to_datetime(df["assessment_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
            d = (later - origin).astype("timedelta64[D]")
            return np.where(np.isnat(d), np.nan, d.astype(np.float64))

        t = days("reoffence_date")
        f = days("follow_up_end") if "follow_up_end" in df.columns else np.full(len(t), np.nan)
        start, end = _WINDOWS[target]
        y_all, risk_all = window_outcome(t, f, start, end)
    else:
        raise LearnError(ERR_NO_TARGET.format(target=target, columns=list(df.columns),
                                              dates=", ".join(DATE_TARGETS), needed=", ".join(_DATE_COLUMNS)))
    safe = np.where(found, order, 0)
    y = np.where(found, y_all[safe], 0).astype(np.int64)
    at_risk = found & risk_all[safe]
    return y, at_risk


@dataclass
class LearnedModel:
    """What :func:`learn` returns: the fitted learner, its spec and the data it was fitted on.

    Attributes
    ----------
    classifier : PointsClassifier (or the learner given)
    spec : PointsSpec
        Hashed; its features are iomscore features.
    X : DataFrame
        Features of every referral (person_id index).
    y : ndarray of int
    at_risk : ndarray of bool
        Rows fitted on (people at risk for the target, with a known outcome).
    target : str
    """

    classifier: Any
    spec: PointsSpec
    X: Any
    y: np.ndarray
    at_risk: np.ndarray
    target: str


def learn(
    referrals: ReferralTable | ReferralBatch | FeatureFrame,
    outcomes: Any,
    target: str,
    *,
    features: Sequence[str] | None = None,
    include_sex: bool = False,
    classifier: Any = None,
    name: str = "learned-points",
    version: str = "1.0.0",
    title: str | None = None,
    outcome: str | None = None,
    feature_labels: Mapping[str, str] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> LearnedModel:
    """Learn a points table from referrals and their outcomes, over iomscore's own features.

    Parameters
    ----------
    referrals : ReferralTable, ReferralBatch or FeatureFrame
    outcomes : path, DataFrame
        The outcomes table (``person_id`` and outcome columns; see :func:`outcome_target`).
    target : str
        Outcome column, or a date-derived outcome (``y_1y``, ``y_2y``,
        ``y_year2_given_none_year1``).
    features : sequence of str, optional
        Features the table may use (default :data:`DEFAULT_FEATURES`).
    include_sex : bool, default=False
        Allow ``sex`` (and add it to the default features).
    classifier : estimator with ``to_spec``, optional
        Default ``PointsClassifier(monotone=..., missing="least_risk")``: the readable defaults,
        the monotone directions of :data:`DEFAULT_FEATURES` for the features used, and a value
        not recorded scored like the feature's lowest-risk values.
    name, version, title, outcome : str
        Identity of the spec and what its probability is of.
    feature_labels : mapping, optional
        Labels of the factors (default :data:`FEATURE_LABELS`).
    provenance : mapping, optional
        Extra provenance recorded in the spec.

    Returns
    -------
    LearnedModel

    Examples
    --------
    >>> from iomscore import synth
    >>> table = synth.generate(1500, seed=2)
    >>> out = synth.generate_outcomes(table, seed=2)
    >>> import pandas as pd
    >>> m = learn(table, pd.DataFrame(out), "reoffended_2y")
    >>> set(m.spec.features) <= set(DEFAULT_FEATURES), len(m.spec.factors) <= 8
    (True, True)
    """
    X = feature_frame(referrals, features, include_sex=include_sex)
    batch = _batch_of(referrals)
    y, at_risk = outcome_target(outcomes, np.asarray(batch.person_id, dtype=object), target)
    yk = y[at_risk]
    if at_risk.sum() < 20 or len(np.unique(yk)) < 2:
        raise LearnError(ERR_TOO_FEW.format(n=int(at_risk.sum()), target=target))
    if classifier is None:
        monotone = {f: d for f, d in DEFAULT_FEATURES.items() if f in X.columns and d is not None}
        classifier = PointsClassifier(monotone=monotone, missing="least_risk")
    logger.info("learning %r from %d of %d referrals at risk (%d with the outcome)",
                target, int(at_risk.sum()), len(y), int(yk.sum()))
    classifier.fit(X[at_risk], yk)
    labels = {**FEATURE_LABELS, **(feature_labels or {})}
    prov: dict[str, Any] = {
        "data": {"referrals": int(len(y)), "at_risk": int(at_risk.sum()), "with_outcome": int(yk.sum()),
                 "target": target},
        "features_allowed": list(X.columns),
    }
    prov.update(provenance or {})
    spec = classifier.to_spec(
        name=name,
        version=version,
        title=title or f"Points table learned for {target}",
        outcome=outcome or f"{target} (learned from local outcomes)",
        probability_key=target,
        provenance=prov,
        feature_labels=labels,
    ).with_sha256()
    return LearnedModel(classifier=classifier, spec=spec, X=X, y=y, at_risk=at_risk, target=target)
