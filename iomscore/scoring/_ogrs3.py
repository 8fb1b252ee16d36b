"""OGRS3, the Offender Group Reconviction Scale version 3.

Howard, P., Francis, B., Soothill, K. and Humphreys, L. (2009) *OGRS 3: the revised Offender
Group Reconviction Scale*. Ministry of Justice Research Summary 7/09. The parameters below are
the published ones, as implemented by the public calculator ``NOMS-DIGITAL-STUDIO/rsr-calculator``
(MIT licence), whose 980 executable reference cases this module reproduces to 1e-9 (see
``tests/test_ogrs3.py``).

Readings taken where public sources differ (documented in ``docs/scorers.md``):

* offence group 14 is *other motoring* (0.262228428) and 15 *drink driving* (-0.121439408),
  by index, although one source file labels them the other way round;
* female ages 10-15 have the negative parameters listed, not the positive signs of one
  implementation;
* sexual (not against a child) is 0.003276327, not 0.0328.

The breakdown is on the scale people read, the 2-year probability in percentage points: a
starting point (every term at the formula's reference level: male aged 10-11, violence, Copas
rate term zero, caution-free first sanction) plus the exact Shapley contribution of each of the
four terms (age and sex, sanction history, Copas rate, offence group). Shapley values are the
average change each term makes over every order of adding the terms, so they sum to the
probability exactly, whatever the interactions the logistic curve brings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Final

import numpy as np

from ..schema._taxonomy import offence_taxonomy
from ._result import ModelIdentity, ScoreBatch, empty_warnings, render_rows
from ._spec import spec_sha256

__all__ = ["OGRS3", "OGRS3_PARAMETERS", "ogrs3_probabilities"]

INTERCEPT_1Y: Final = 1.402562384
INTERCEPT_2Y: Final = 2.121705678
COPAS_COEFFICIENT: Final = 1.251124464
AGE_BAND_LOWER: Final = (10, 12, 14, 16, 18, 21, 25, 30, 35, 40, 50)
AGE_BAND_LABELS: Final = ("10-11", "12-13", "14-15", "16-17", "18-20", "21-24", "25-29", "30-34",
                          "35-39", "40-49", "50+")
AGE_MALE: Final = (0.0, 0.083922902, 0.075775765, -0.061594199, -0.625103618, -1.051515067,
                   -1.166679288, -1.325976554, -1.368045933, -1.499690953, -2.025261458)
AGE_FEMALE: Final = (-0.785038489, -0.613852078, -0.669521331, -0.959179629, -0.897480934,
                     -1.028488454, -1.052777806, -1.129127959, -1.42187494, -1.524652221,
                     -2.44983716)
SANCTION_FIRST: Final = 0.126142106
SANCTION_REPEAT: Final = 0.463062792
CAUTION_FIRST: Final = 0.0
CAUTION_SECOND: Final = 0.083100501
CAUTION_MULTIPLE: Final = 0.34859587
#: Cap on previous sanctions in the sanction term (the Copas rate uses the uncapped count).
PREVIOUS_SANCTIONS_CAP: Final = 50
#: The reference person the breakdown starts from: a man aged 30-34 with previous sanctions,
#: a Copas rate of ln(1/3) and a current offence of violence (group parameter 0). These are
#: the median age band and the median sanction and Copas terms of the public calculator's 980
#: reference cases, so contributions read as "compared with a typical person assessed".
REFERENCE_TERMS: Final = (-1.325976554, 0.463062792, 1.251124464 * math.log(1 / 3), 0.0)
REFERENCE_TEXT: Final = (
    "Starting point: a typical person assessed (a man aged 30-34 with previous sanctions at a "
    "typical rate, current offence violence)"
)
HMPPS_BANDS: Final = ((0.0, "low"), (50.0, "medium"), (75.0, "high"), (90.0, "very high"))

OGRS3_PARAMETERS: Final = {
    "intercept_1y": INTERCEPT_1Y,
    "intercept_2y": INTERCEPT_2Y,
    "copas_coefficient": COPAS_COEFFICIENT,
    "age_band_lower": AGE_BAND_LOWER,
    "age_male": AGE_MALE,
    "age_female": AGE_FEMALE,
    "sanction_first": SANCTION_FIRST,
    "sanction_repeat": SANCTION_REPEAT,
    "caution_first": CAUTION_FIRST,
    "caution_second": CAUTION_SECOND,
    "caution_multiple": CAUTION_MULTIPLE,
    "previous_sanctions_cap": PREVIOUS_SANCTIONS_CAP,
    "offence_group": tuple(float(x) for x in offence_taxonomy().ogrs3_parameters),
    "hmpps_bands": HMPPS_BANDS,
}

_FEATURES: Final = (
    "sex",
    "age_at_assessment",
    "previous_sanctions",
    "total_sanctions",
    "copas_rate",
    "age_at_current_conviction",
    "age_at_first_sanction",
    "current_ogrs3_group",
    "caution_only_history",
)
_NO_SEX: Final = "sex not recorded; OGRS3 needs it"
_NO_SANCTION: Final = "no current sanction on record (neither a sanction list nor a summary)"
_TOO_YOUNG: Final = "OGRS3 is defined from age 10"
_BAD_CAREER: Final = "the first sanction is after the current conviction"


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_AGE_BAND_LOWER: Final = np.asarray(AGE_BAND_LOWER)
_AGE_MALE: Final = np.asarray(AGE_MALE)
_AGE_FEMALE: Final = np.asarray(AGE_FEMALE)
_REFERENCE: Final = np.asarray(REFERENCE_TERMS)
#: Linear predictor of the reference person, and the breakdown's starting point (percent).
_START: Final = INTERCEPT_2Y + float(_REFERENCE.sum())
_START_PERCENT: Final = 100.0 * _logistic(np.asarray(_START))
_BAND_CUTS: Final = np.asarray([b[0] for b in HMPPS_BANDS[1:]])
_BAND_NAMES: Final = np.asarray([b[1] for b in HMPPS_BANDS], dtype=object)
_PART_NAMES: Final = ("starting_point", "age_sex", "sanction_history", "copas_rate", "offence_group")
_PART_LABELS: Final = ("OGRS3 starting point", "Age and sex", "Sanction history", "Rate of sanctions (Copas rate)",
                       "Current offence group")


def _terms(features: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four linear terms (n x 4), the age band index, the error per row and the scored rows."""
    sex = np.asarray(features["sex"], dtype=np.float64)
    age = np.asarray(features["age_at_assessment"], dtype=np.float64)
    previous = np.asarray(features["previous_sanctions"], dtype=np.float64)
    total = np.asarray(features["total_sanctions"], dtype=np.float64)
    copas = np.asarray(features["copas_rate"], dtype=np.float64)
    group = np.asarray(features["current_ogrs3_group"], dtype=np.float64)
    caution_only = np.asarray(features["caution_only_history"], dtype=np.float64) > 0
    n = sex.shape[0]

    error = np.empty(n, dtype=object)  # (None in every row: np.full's work, without its Python-level call)
    # Every check passes when the values' sum is finite (NaN or an infinity makes it not) and no
    # age is under 10: the usual case, screened in a few operations. Otherwise (also for an
    # infinite count, which no check refuses) each row gets the first check it fails.
    all_ok = not (~np.isfinite(group + previous + copas + sex) | (age < 10)).any()
    if all_ok:
        ok = np.ones(n, dtype=bool)
    else:
        checks = (
            (np.isnan(group) | np.isnan(previous), _NO_SANCTION),
            (~np.isfinite(copas), _BAD_CAREER),
            (age < 10, _TOO_YOUNG),
            (np.isnan(sex), _NO_SEX),
        )
        bad = checks[0][0] | checks[1][0] | checks[2][0] | checks[3][0]
        ok = ~bad
        given = np.zeros(n, dtype=bool)
        for rows, message in checks:  # each row gets the first check it fails
            error[rows & ~given] = message
            given |= rows
        # unscored rows get placeholder values (their terms are zeroed below)
        age = np.where(ok, age, 10)
        previous = np.where(ok, previous, 0)
        copas = np.where(ok, copas, 0.0)
        group = np.where(ok, group, 0)

    # ages are 10 or more here (or NaN: 50+), so the band index needs no clipping to 0..10
    band = _AGE_BAND_LOWER.searchsorted(age, side="right") - 1
    terms = np.empty((n, 4))
    terms[:, 0] = np.where(sex == 1, _AGE_FEMALE[band], _AGE_MALE[band])
    capped = np.minimum(previous, PREVIOUS_SANCTIONS_CAP)
    conviction_term = np.where(capped > 0, SANCTION_REPEAT, SANCTION_FIRST)
    caution_term = np.where(total <= 1, CAUTION_FIRST, np.where(total == 2, CAUTION_SECOND, CAUTION_MULTIPLE))
    terms[:, 1] = np.where(caution_only, caution_term, conviction_term)
    terms[:, 2] = COPAS_COEFFICIENT * copas
    terms[:, 3] = offence_taxonomy().ogrs3_parameters[group.astype(np.int64)]
    if not all_ok:
        terms[~ok] = 0.0
    return terms, band, error, ok


def ogrs3_probabilities(features: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """1-year and 2-year OGRS3 probabilities (NaN where a row cannot be scored)."""
    terms, _, _, ok = _terms(features)
    y = terms.sum(axis=1)
    bad = ~ok
    p1 = _logistic(INTERCEPT_1Y + y)
    p2 = _logistic(INTERCEPT_2Y + y)
    p1[bad] = np.nan
    p2[bad] = np.nan
    return p1, p2


@cache
def _coalitions(k: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray, np.ndarray]:
    """The subsets of ``k`` terms, as :func:`_shapley` reads them (made once per ``k``).

    Returns, per subset size ``m``, the subsets of that size (their bit masks) and their
    members (a masks x m index array); then, for each term ``i`` and each subset without it in
    increasing mask order, the Shapley weight, the mask with ``i`` and the mask without it.
    """
    by_size = []
    for m in range(k + 1):
        masks = [mask for mask in range(1 << k) if mask.bit_count() == m]
        members = [[j for j in range(k) if mask >> j & 1] for mask in masks]
        by_size.append((np.asarray(masks, dtype=np.int64), np.asarray(members, dtype=np.int64).reshape(len(masks), m)))
    weight, with_i, without_i = [], [], []
    for i in range(k):
        rest = [mask for mask in range(1 << k) if not mask >> i & 1]
        weight.append([math.factorial(mask.bit_count()) * math.factorial(k - mask.bit_count() - 1) / math.factorial(k)
                       for mask in rest])
        with_i.append([mask | 1 << i for mask in rest])
        without_i.append(rest)
    return by_size, np.asarray(weight)[:, :, None], np.asarray(with_i), np.asarray(without_i)


#: Up to this many rows :func:`_shapley` takes every subset at once (a single score: a few
#: array operations instead of a hundred); larger batches loop over the subsets on whole columns,
#: which is faster per row. Both do the same additions in the same order (bit-identical values).
_SHAPLEY_STACKED_ROWS: Final = 256


def _shapley(intercept: float, terms: np.ndarray) -> np.ndarray:
    """Exact Shapley values of each term for logistic(intercept + sum of terms), per row.

    The value of every subset of terms is computed once (2**k logistic evaluations); each
    term's Shapley value is the weighted sum of its marginal contributions over the subsets
    without it, added in increasing order of the subset.
    """
    if terms.shape[0] <= _SHAPLEY_STACKED_ROWS and terms.shape[1] > 0:
        return _shapley_stacked(intercept, terms)
    return _shapley_by_subset(intercept, terms)


def _shapley_by_subset(intercept: float, terms: np.ndarray) -> np.ndarray:
    """:func:`_shapley`, one subset at a time on whole columns (for large batches)."""
    n, k = terms.shape
    value = np.empty((1 << k, n))
    for mask in range(1 << k):
        members = [j for j in range(k) if mask >> j & 1]
        value[mask] = _logistic(intercept + terms[:, members].sum(axis=1))
    out = np.zeros((n, k))
    for i in range(k):
        for mask in range(1 << k):
            if mask >> i & 1:
                continue
            size = mask.bit_count()
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            out[:, i] += weight * (value[mask | 1 << i] - value[mask])
    return out


def _shapley_stacked(intercept: float, terms: np.ndarray) -> np.ndarray:
    """:func:`_shapley` with every subset at once (for a few rows): one logistic call on a
    subsets x rows array, and the marginal contributions summed by an accumulate (the same
    additions, in the same order, as :func:`_shapley_by_subset`)."""
    n, k = terms.shape
    by_size, weight, with_i, without_i = _coalitions(k)
    sums = np.empty((1 << k, n))
    sums[0] = 0.0  # the empty sum, and one term's sum is that term (bit for bit)
    sums[by_size[1][0]] = terms.T
    for masks, members in by_size[2:]:  # each subset's sum, as terms[:, members].sum(axis=1) gives it
        sums[masks] = np.add.reduce(terms[:, members], axis=2).T
    value = _logistic(intercept + sums)
    change = weight * (value[with_i] - value[without_i])  # terms x subsets x rows
    return np.ascontiguousarray(np.add.accumulate(change, axis=1)[:, -1].T)


class OGRS3:
    """OGRS3 as a scorer: ``score`` is the 2-year probability of proven reoffending, in percent.

    ``probabilities`` holds ``{"1y": ..., "2y": ...}``; ``band`` the HMPPS band of the 2-year
    probability (below 50% low, 50-74% medium, 75-89% high, 90% and over very high).

    OGRS3 reads sex (it is one of its published factors); it is the one built-in scorer that
    does, and audits always report it.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="A", assessment_date="2013-03-31",
    ...     date_of_birth="1989-04-22", sex="male",
    ...     sanction_summary={"previous_sanctions": 25, "first_sanction_date": "2001-09-10",
    ...                       "current_conviction_date": "2013-02-20",
    ...                       "current_offence_group": "taking_driving_away"})
    >>> round(iomscore.score(r, scorer="ogrs3").probabilities["2y"], 6)
    0.898487
    """

    name = "ogrs3"
    version = "3.0.0"
    monotone: Mapping[str, str] = {}

    def __init__(self) -> None:
        self._identity = ModelIdentity(
            name=self.name,
            version=self.version,
            sha256=spec_sha256(
                {
                    "name": self.name,
                    "version": self.version,
                    "parameters": OGRS3_PARAMETERS,
                    "breakdown_reference": REFERENCE_TERMS,
                }
            ),
            kind="ogrs3",
        )

    @property
    def features(self) -> tuple[str, ...]:
        return _FEATURES

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def __repr__(self) -> str:
        return "OGRS3()"

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        terms, band_idx, error, ok = _terms(features)
        n = terms.shape[0]
        y = terms.sum(axis=1)
        p1 = _logistic(INTERCEPT_1Y + y)
        p2 = _logistic(INTERCEPT_2Y + y)
        score = 100.0 * p2
        parts = np.empty((n, 5))
        parts[:, 0] = _START_PERCENT
        parts[:, 1:] = 100.0 * _shapley(_START, terms - _REFERENCE)
        # Put the rounding residue on the starting point so the parts add up to the score.
        parts[:, 0] += score - parts.sum(axis=1)
        if ok.all():
            band = _BAND_NAMES[np.searchsorted(_BAND_CUTS, score, side="right")]
        else:
            bad = ~ok
            p1[bad] = np.nan
            p2[bad] = np.nan
            score[bad] = np.nan
            parts[bad] = 0.0
            band = _BAND_NAMES[np.searchsorted(_BAND_CUTS, np.where(bad, 0, score), side="right")]
            band[bad] = ""
        return ScoreBatch(
            score=score,
            band=band,
            probabilities={"1y": p1, "2y": p2},
            part_names=_PART_NAMES,
            part_labels=_PART_LABELS,
            part_values=parts,
            part_reasons=_reasons(features, band_idx, n),
            model=self._identity,
            unit="percentage points",
            baseline_part="starting_point",
            warnings=_warnings(features, n),
            error=error,
        )


_FIRST_UNDER_10: Final = (
    "the first sanction is recorded at age {age}, under the age of criminal responsibility; check the date"
)


def _warnings(features: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    out = empty_warnings(n)
    first = np.asarray(features["age_at_first_sanction"], dtype=np.float64)
    for r in np.flatnonzero(first < 10):
        out[r] = (_FIRST_UNDER_10.format(age=int(first[r])),)
    return out


_REASON_INPUTS: Final = ("sex", "age_at_assessment", "previous_sanctions", "age_at_current_conviction",
                         "age_at_first_sanction", "current_ogrs3_group")
_REASON_FILLS: Final = np.asarray([[-1], [-1], [-1], [0], [0], [19]], dtype=np.float64)
_SEX_WORD: Final = {0: "male", 1: "female"}


def _age_sex_text(age: int, sex: int, band: int) -> str:
    return f"Aged {age} at assessment, {_SEX_WORD.get(sex, 'sex not recorded')} (OGRS3 band {AGE_BAND_LABELS[band]})"


def _sanction_text(prev: int, caution: bool) -> str:
    if caution:
        total = prev + 1
        return f"Caution-only history: {total} caution{'s' if total != 1 else ''}"
    if prev == 0:
        return "First sanction (no previous sanctions)"
    return f"{prev} previous sanctioning occasion{'s' if prev != 1 else ''}"


def _copas_text(prev: int, age_conviction: int, age_first: int) -> str:
    total, years = prev + 1, 10 + age_conviction - age_first
    rate = math.log(total / years) if total > 0 and years > 0 else float("nan")
    return (f"{total} sanction{'s' if total != 1 else ''} in {years - 10} year{'s' if years - 10 != 1 else ''} "
            f"since the first (Copas rate {rate:.2f})")


def _reasons(features: Mapping[str, np.ndarray], band: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    tax = offence_taxonomy()
    # The whole numbers the texts print; a value not recorded reads as its fill.
    stacked = np.concatenate([np.asarray(features[name], dtype=np.float64) for name in _REASON_INPUTS]).reshape(
        len(_REASON_INPUTS), n)  # (np.stack, in one call)
    sex, age, prev, a_conv, a_first, group = np.where(np.isnan(stacked), _REASON_FILLS, stacked).astype(np.int64)
    caution = np.asarray(features["caution_only_history"], dtype=np.float64) > 0

    start = np.full(n, REFERENCE_TEXT, dtype=object)
    # band differs for unscored rows (age 10 used)
    age_sex = render_rows((age, sex, band), _age_sex_text, lambda: (age * 4 + (sex + 1)) * 16 + band)
    history = render_rows((prev, caution), _sanction_text, lambda: prev * 2 + caution)
    copas = render_rows((prev, a_conv, a_first), _copas_text, lambda: (prev + 1) * 1000 + (10 + a_conv - a_first))
    offence = render_rows((group,), lambda g: f"Current offence: {tax.groups[g].label.lower()}", lambda: group)
    return (start, age_sex, history, copas, offence)
