"""The OASys v4 static predictors HMPPS computes today: OGRS4/G, OGRS4/V and SNSV.

OGRS4/G (the All Reoffending Predictor, ``ogrs4g``), OGRS4/V (the Violent Reoffending
Predictor, ``ogrs4v``) and SNSV static (serious non-sexual violence, ``snsv``) are logistic
models of reoffending within two years of the start of follow-up. The coefficients are data,
shipped in ``iomscore/_data/ogrs4_coefficients.json`` (built by ``tools/build_ogrs4_data.py``
from the decimal literals of the MoJ service ``hmpps-arns-risk-actuarial-api`` at commit
016919c, MIT licence, Crown copyright), and are loaded when a scorer is first made.

logit = constant + age polynomial (sex-specific, age in whole years at the start of follow-up)
+ ``FEMALE`` for women + the current offence's actuarial category + sanction terms (first
sanction; second sanction plus a sex-specific coefficient x career years; a coefficient x the
number of sanctions) + offence-free months polynomial + a Copas-style rate when there are 3 or
more sanctions (OGRS4/G: c·R + c2·R², R = ln(n / (career years + 26)); OGRS4/V and SNSV:
c·ln(n / (career years + 12))) + for OGRS4/V and SNSV the violence history (never violent,
once violent, a coefficient x violent sanctions, and c·ln(v / (career years + 30)) when v ≥ 1).

The score is the percent HMPPS shows: 100·p rounded half-up to 2 decimals (99.99 at most);
the band uses that rounded percent. SNSV is a serious-harm predictor: it routes (for example to
a MAPPA or serious-harm check); it never raises a reoffending priority.

The breakdown, on the percentage scale, starts from a stated reference person and adds the
exact Shapley contribution of each part (age and sex, sanction history, violence history,
offence-free months, current offence), as OGRS3 does; the 2-decimal rounding of the percent is
carried by the starting point, so the parts sum to the score exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import numpy as np

from ..schema._taxonomy import ho_code_arrays
from ..schema._vocabulary import (
    ACTUARIAL_CATEGORIES,
    ACTUARIAL_CATEGORY_LABELS,
    DRUG_MOTIVATIONS,
    HO_MAPPING_STATUSES,
    OASYS_COLUMNS,
    OASYS_ITEMS,
    OASYS_OTHER_DRUG_GROUP,
    OASYS_PREVIOUS_OFFENCE_LABELS,
    RELATIONSHIP_STATUSES,
)
from ._ogrs3 import _logistic, _shapley
from ._result import ModelIdentity, ScoreBatch, empty_warnings, render_unique
from ._spec import spec_sha256

__all__ = [
    "OASYS_DYNAMIC_SCORERS",
    "OASYS_STATIC_SCORERS",
    "OASysDynamicPredictor",
    "OASysStaticPredictor",
    "hmpps_percent",
    "oasys_coefficients",
]

#: Scorer name -> (predictor key in the coefficient file, plain name).
OASYS_STATIC_SCORERS: Final = {
    "ogrs4g": "OGRS4/G (All Reoffending Predictor, static)",
    "ogrs4v": "OGRS4/V (Violent Reoffending Predictor, static)",
    "snsv": "SNSV static (Serious Violent Reoffending Predictor, static)",
}
BAND_NAMES: Final = ("low", "medium", "high", "very high")
#: Largest sanction count and age at follow-up the MoJ service accepts.
MAX_SANCTIONS: Final = 999
MAX_AGE_AT_FOLLOWUP: Final = 110
#: The reference person every breakdown starts from.
REFERENCE_PERSON: Final[dict[str, Any]] = {
    "sex": 0,
    "age_at_followup_start": 30,
    "career_years": 10,
    "total_sanctions": 5,
    "violent_sanctions": 1,
    "offence_free_months": 12,
    "actuarial_category": "OTHER_OFFENCES",
}
REFERENCE_TEXT: Final = (
    "Starting point: a reference person (a man aged 30 at the start of follow-up, 5 sanctions over "
    "10 years, 1 of them violent, 12 offence-free months, current offence 'other offences')"
)

_NO_SEX: Final = "sex not recorded; {name} needs it"
_NO_SANCTION: Final = "no current sanction on record (neither a sanction list nor a summary)"
_NO_CATEGORY: Final = (
    "the current offence has no OASys actuarial category: give its Home Office offence code "
    "(current_offence_code or the sanction's offence_code)"
)
_UNKNOWN_CATEGORY: Final = "Home Office offence code {code} has no actuarial category (UNKNOWN in the MoJ mapping)"
_NO_VIOLENT: Final = "violent sanctions not recorded; {name} needs them (sanction_summary.violent_sanctions)"
_NO_FIRST: Final = "age at first sanction not recorded"
_TOO_MANY: Final = "{n} sanctions: the MoJ predictors accept 1 to 999"
_TOO_OLD: Final = "aged {age} at the start of follow-up: the MoJ predictors refuse 110 or over"
_BAD_CAREER: Final = "the first sanction is after the current conviction"
_NO_FOLLOWUP: Final = "start of follow-up not known (no current conviction date)"
_CODE_REMOVED: Final = (
    "Home Office offence code {code} is no longer in the MoJ offence mapping; its earlier category "
    "({category}) was used"
)
_CODE_RECATEGORISED: Final = (
    "Home Office offence code {code} changed category in the MoJ mapping; its current category "
    "({category}) was used"
)


@lru_cache(maxsize=1)
def oasys_coefficients() -> Mapping[str, Any]:
    """The shipped coefficient document (``iomscore/_data/ogrs4_coefficients.json``), loaded once.

    Examples
    --------
    >>> doc = oasys_coefficients()
    >>> doc["source"]["commit"][:7], doc["predictors"]["ogrs4g"]["name"]
    ('016919c', 'OGRS4/G')
    """
    text = resources.files("iomscore").joinpath("_data/ogrs4_coefficients.json").read_text("utf-8")
    doc: Mapping[str, Any] = json.loads(text)
    return doc


def hmpps_percent(p: np.ndarray) -> np.ndarray:
    """Percent as HMPPS shows it: ``round(100·p, 2)`` half-up, 99.99 at most.

    Examples
    --------
    >>> hmpps_percent(np.array([0.123449, 0.123450, 0.99999]))
    array([12.34, 12.35, 99.99])
    """
    hundredths = np.floor(np.asarray(p, dtype=np.float64) * 10000.0 + 0.5)
    return np.minimum(hundredths / 100.0, 99.99)


@dataclass(frozen=True)
class _Model:
    terms: Mapping[str, float]
    category: np.ndarray  # value per ACTUARIAL_CATEGORIES code (NaN: no coefficient)
    copas_offset: float
    violent_offset: float | None
    cuts: np.ndarray

    def t(self, name: str) -> float:
        return self.terms.get(name, 0.0)


def _model(entry: Mapping[str, Any]) -> _Model:
    terms = {k: float(v) for k, v in entry["terms"].items()}
    values = entry["offence_category_values"]
    category = np.asarray(
        [np.nan if values.get(c) is None else float(values[c]) for c in ACTUARIAL_CATEGORIES], dtype=np.float64
    )
    offsets = entry["career_offsets"]
    copas = offsets.get("copas_g_and_squared", offsets.get("copas_v"))
    return _Model(
        terms=terms,
        category=category,
        copas_offset=float(copas),
        violent_offset=None if "violent_rate" not in offsets else float(offsets["violent_rate"]),
        cuts=np.asarray([float(c) for c in entry["bands"]["cut_offs_percent"]], dtype=np.float64),
    )


def _poly(x: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    out = np.zeros_like(x)
    power = np.ones_like(x)
    for c in coefficients:
        power = power * x
        out = out + c * power
    return out


def _parts(m: _Model, sex: np.ndarray, age: np.ndarray, career: np.ndarray, n: np.ndarray,
           v: np.ndarray, ofm: np.ndarray, category: np.ndarray) -> np.ndarray:
    """The additive parts of the logit (rows x parts), constant excluded, as the MoJ formula adds them.

    Parts: age and sex, sanction history (with the Copas rate), [violence history,]
    offence-free months, current offence. Inputs must be valid (errors masked by the caller).
    """
    female = sex == 1
    t = m.t
    age_m = _poly(age, (t("AAI_MALE"), t("AAI_QUADRATIC_MALE"), t("AAI_CUBIC_MALE"), t("AAI_QUARTIC_MALE")))
    age_f = _poly(age, (t("AAI_FEMALE"), t("AAI_QUADRATIC_FEMALE"), t("AAI_CUBIC_FEMALE"),
                        t("AAI_QUARTIC_FEMALE")))
    age_sex = np.where(female, age_f + t("FEMALE"), age_m)

    sanctions = np.select([n == 1, n == 2], [t("FIRST_SANCTION"), t("SECOND_SANCTION")], 0.0)
    sanctions = sanctions + t("SANCTION_OCCASIONS") * n
    second = np.where(female, t("YRS_BETWEEN_FIRST_AND_SECOND_SANCTION_FEMALE"),
                      t("YRS_BETWEEN_FIRST_AND_SECOND_SANCTION_MALE")) * career
    sanctions = sanctions + np.where(n == 2, second, 0.0)
    three = n >= 3
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.log(np.where(three, n, 1.0) / (career + m.copas_offset))
    rate = np.where(three, rate, 0.0)
    if "THREE_PLUS_SANCTIONS_COPAS_G_MALE" in m.terms:
        c1 = np.where(female, t("THREE_PLUS_SANCTIONS_COPAS_G_FEMALE"), t("THREE_PLUS_SANCTIONS_COPAS_G_MALE"))
        c2 = np.where(female, t("THREE_PLUS_SANCTIONS_COPAS_SQUARED_FEMALE"),
                      t("THREE_PLUS_SANCTIONS_COPAS_SQUARED_MALE"))
        copas = c1 * rate + c2 * rate * rate
    else:
        c1 = np.where(female, t("THREE_PLUS_SANCTIONS_COPAS_V_FEMALE"), t("THREE_PLUS_SANCTIONS_COPAS_V_MALE"))
        copas = c1 * rate
    history = sanctions + np.where(three, copas, 0.0)

    offence_free = _poly(ofm, (t("OFFENCE_FREE_MONTHS"), t("OFFENCE_FREE_MONTHS_QUADRATIC"),
                               t("OFFENCE_FREE_MONTHS_CUBIC"), t("OFFENCE_FREE_MONTHS_QUARTIC")))
    offence = m.category[np.clip(category, 0, len(ACTUARIAL_CATEGORIES) - 1).astype(np.int64)]
    columns = [age_sex, history]
    if m.violent_offset is not None:
        never = np.where(female, t("NEVER_VIOLENT_FEMALE"), t("NEVER_VIOLENT_MALE"))
        violence = np.select([v == 0, v == 1], [never, t("ONCE_VIOLENT")], 0.0) + t("VIOLENT_SANCTIONS") * v
        some = v >= 1
        with np.errstate(divide="ignore", invalid="ignore"):
            vrate = np.log(np.where(some, v, 1.0) / (career + m.violent_offset))
        violence = violence + np.where(some, t("VIOLENT_RATE") * vrate, 0.0)
        columns.append(violence)
    columns += [offence_free, offence]
    return np.column_stack(columns)


class OASysStaticPredictor:
    """An OASys v4 static predictor as a scorer: ``ogrs4g``, ``ogrs4v`` or ``snsv``.

    ``score`` is the 2-year probability in percent as HMPPS shows it (2 decimals, half-up);
    ``probabilities["2y"]`` the unrounded probability; ``band`` the HMPPS band of the rounded
    percent (OGRS4/G: below 50 low, 50 medium, 75 high, 90 very high; OGRS4/V: 30, 60, 80;
    SNSV: 1, 3, 6.9). Reads sex (a published factor of all three), like OGRS3.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="A", assessment_date="2025-10-03",
    ...     date_of_birth="1970-06-07", sex="male",
    ...     sanction_summary={"previous_sanctions": 1, "age_at_first_sanction": 18,
    ...                       "violent_sanctions": 2, "current_conviction_date": "1997-06-07",
    ...                       "followup_start_date": "1998-05-18", "current_offence_code": "07111"})
    >>> result = iomscore.score(r, scorer="ogrs4g")
    >>> result.score, result.band
    (5.37, 'low')
    """

    version = "4.1.0"
    monotone: Mapping[str, str] = {}

    def __init__(self, name: str = "ogrs4g") -> None:
        if name not in OASYS_STATIC_SCORERS:
            raise KeyError(f"unknown OASys static predictor {name!r}; one of {sorted(OASYS_STATIC_SCORERS)}")
        self.name = name
        doc = oasys_coefficients()
        entry = doc["predictors"][name]
        self._model = _model(entry)
        self._violence = self._model.violent_offset is not None
        ref = REFERENCE_PERSON
        self._reference = _parts(
            self._model, np.array([ref["sex"]]), np.array([float(ref["age_at_followup_start"])]),
            np.array([float(ref["career_years"])]), np.array([float(ref["total_sanctions"])]),
            np.array([float(ref["violent_sanctions"])]), np.array([float(ref["offence_free_months"])]),
            np.array([ACTUARIAL_CATEGORIES.index(str(ref["actuarial_category"]))]),
        )[0]
        self._identity = ModelIdentity(
            name=name,
            version=self.version,
            sha256=spec_sha256({
                "name": name,
                "version": self.version,
                "coefficients": entry,
                "source": doc["source"],
                "breakdown_reference": REFERENCE_PERSON,
            }),
            kind="oasys-static",
        )

    @property
    def features(self) -> tuple[str, ...]:
        base = ("sex", "age_at_followup_start", "age_at_current_conviction", "age_at_first_sanction",
                "total_sanctions", "months_since_followup_start", "current_actuarial_category",
                "current_offence_code")
        return (*base, "violent_sanctions") if self._violence else base

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def __repr__(self) -> str:
        return f"OASysStaticPredictor({self.name!r})"

    def _inputs(self, features: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        get = lambda k: np.asarray(features[k], dtype=np.float64)
        sex, age = get("sex"), get("age_at_followup_start")
        conv, first = get("age_at_current_conviction"), get("age_at_first_sanction")
        n, ofm = get("total_sanctions"), get("months_since_followup_start")
        category, code = get("current_actuarial_category"), get("current_offence_code")
        v = get("violent_sanctions") if self._violence else np.zeros_like(n)
        career = conv - first
        rows = sex.shape[0]
        error = np.full(rows, None, dtype=object)
        ok = np.ones(rows, dtype=bool)
        unknown = ACTUARIAL_CATEGORIES.index("UNKNOWN")
        checks = [
            (np.isnan(n), lambda r: _NO_SANCTION),
            (np.isnan(first), lambda r: _NO_FIRST),
            (np.isnan(age) | np.isnan(ofm), lambda r: _NO_FOLLOWUP),
            (career < 0, lambda r: _BAD_CAREER),
            (n > MAX_SANCTIONS, lambda r: _TOO_MANY.format(n=int(n[r]))),
            (age >= MAX_AGE_AT_FOLLOWUP, lambda r: _TOO_OLD.format(age=int(age[r]))),
            (category == unknown, lambda r: _UNKNOWN_CATEGORY.format(code=f"{int(code[r]):05d}")),
            (np.isnan(category), lambda r: _NO_CATEGORY),
            (np.isnan(v), lambda r: _NO_VIOLENT.format(name=self.name)),
            (np.isnan(sex), lambda r: _NO_SEX.format(name=self.name)),
        ]
        for bad, message in checks:
            new = bad & ok
            if new.any():  # messages rendered once per distinct row content, not per row
                for r in np.flatnonzero(new):
                    error[r] = message(int(r))
                ok &= ~bad
        clean = {
            "sex": np.where(ok, sex, 0.0), "age": np.where(ok, age, 30.0), "career": np.where(ok, career, 0.0),
            "n": np.where(ok, n, 1.0), "v": np.where(ok, v, 0.0), "ofm": np.where(ok, ofm, 0.0),
            "category": np.where(ok, category, 0.0), "code": code, "ok": ok,
        }
        return clean, error

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        x, error = self._inputs(features)
        m = self._model
        parts_logit = _parts(m, x["sex"], x["age"], x["career"], x["n"], x["v"], x["ofm"], x["category"])
        rows = parts_logit.shape[0]
        constant = m.t("TWO_YEAR_CONSTANT")
        logit = constant + parts_logit.sum(axis=1)
        p2 = _logistic(logit)
        score = hmpps_percent(p2)
        start = constant + float(self._reference.sum())
        base = np.full(rows, 100.0 * float(_logistic(np.asarray(start))))
        parts = np.column_stack([base, 100.0 * _shapley(start, parts_logit - self._reference)])
        parts[:, 0] += score - parts.sum(axis=1)
        bad = ~x["ok"]
        p2[bad] = np.nan
        score[bad] = np.nan
        parts[bad] = 0.0
        names = np.asarray(BAND_NAMES, dtype=object)
        band = names[np.searchsorted(m.cuts, np.where(bad, 0.0, score), side="right")]
        band[bad] = ""
        part_names: tuple[str, ...] = ("starting_point", "age_sex", "sanction_history")
        labels: tuple[str, ...] = (f"{self._label()} starting point", "Age and sex",
                                   "Sanction history (with the rate of sanctions)")
        if self._violence:
            part_names += ("violence_history",)
            labels += ("Violent sanctions",)
        part_names += ("offence_free_months", "offence_category")
        labels += ("Offence-free months since the start of follow-up", "Current offence (actuarial category)")
        return ScoreBatch(
            score=score,
            band=band,
            probabilities={"2y": p2},
            part_names=part_names,
            part_labels=labels,
            part_values=parts,
            part_reasons=self._reasons(x, bad),
            model=self._identity,
            unit="percentage points",
            baseline_part="starting_point",
            warnings=self._warnings(x["code"], bad),
            error=error,
        )

    def _label(self) -> str:
        return str(oasys_coefficients()["predictors"][self.name]["name"])

    def _warnings(self, code: np.ndarray, bad: np.ndarray) -> np.ndarray:
        out = empty_warnings(code.shape[0])
        has = ~np.isnan(code) & ~bad
        if not has.any():
            return out
        arrays = ho_code_arrays()
        idx = np.where(has, code, 0).astype(np.int64)
        status = np.where(has, arrays.status[idx], 0)
        removed = HO_MAPPING_STATUSES.index("removed_at_f0c8151")
        changed = HO_MAPPING_STATUSES.index("recategorised_at_f0c8151")
        rows = np.flatnonzero((status == removed) | (status == changed))
        if not rows.size:
            return out

        def text(j: int) -> tuple[str, ...]:
            r = int(rows[j])
            template = _CODE_REMOVED if status[r] == removed else _CODE_RECATEGORISED
            category = ACTUARIAL_CATEGORY_LABELS[ACTUARIAL_CATEGORIES[int(arrays.category[idx[r]])]]
            return (template.format(code=f"{idx[r]:05d}", category=category),)

        # one tuple per distinct code, spread over its rows
        codes, first, inverse = np.unique(idx[rows], return_index=True, return_inverse=True)
        texts = np.empty(codes.size, dtype=object)
        texts[:] = [text(int(j)) for j in first]
        out[rows] = texts[inverse.reshape(-1)]
        return out

    def _reasons(self, x: Mapping[str, np.ndarray], bad: np.ndarray) -> tuple[np.ndarray, ...]:
        rows = bad.shape[0]
        sex = x["sex"].astype(np.int64)
        age = x["age"].astype(np.int64)
        n = x["n"].astype(np.int64)
        career = x["career"].astype(np.int64)
        v = x["v"].astype(np.int64)
        ofm = x["ofm"].astype(np.int64)
        category = x["category"].astype(np.int64)
        code = np.nan_to_num(x["code"], nan=-1).astype(np.int64)
        start = np.full(rows, REFERENCE_TEXT, dtype=object)
        word = {0: "male", 1: "female"}
        age_sex = render_unique(age * 2 + sex, lambda r: f"Aged {age[r]} at the start of follow-up, {word[int(sex[r])]}")

        def history(r: int) -> str:
            plural = "s" if n[r] != 1 else ""
            if n[r] == 1:
                return "First sanction (no previous sanctions)"
            years = f"{career[r]} year{'s' if career[r] != 1 else ''}"
            text = f"{n[r]} sanctioning occasion{plural} over {years} since the first"
            if n[r] >= 3:
                rate = math.log(n[r] / (career[r] + self._model.copas_offset))
                text += f" (rate of sanctions {rate:.2f})"
            return text

        parts = [start, age_sex, render_unique(n * 200 + np.clip(career, 0, 199), history)]
        if self._violence:
            parts.append(render_unique(v, lambda r: "No violent sanctions" if v[r] == 0 else
                                       f"{v[r]} violent sanction{'s' if v[r] != 1 else ''}"))
        parts.append(render_unique(ofm, lambda r: f"{ofm[r]}{' or more' if ofm[r] >= 36 else ''} offence-free "
                                   f"month{'s' if ofm[r] != 1 else ''} since the start of follow-up"))

        def offence(r: int) -> str:
            label = ACTUARIAL_CATEGORY_LABELS[ACTUARIAL_CATEGORIES[int(category[r])]]
            return f"Current offence: {label}" + (f" (Home Office code {code[r]:05d})" if code[r] >= 0 else "")

        parts.append(render_unique(category * 200_000 + code + 1, offence))
        return tuple(parts)


#: Dynamic scorer name -> (the static predictor it falls back to, plain name).
OASYS_DYNAMIC_SCORERS: Final = {
    "ogp2": ("ogrs4g", "OGP2 (All Reoffending Predictor, dynamic)"),
    "ovp2": ("ogrs4v", "OVP2 (Violent Reoffending Predictor, dynamic)"),
    "snsv-dynamic": ("snsv", "SNSV dynamic (Serious Violent Reoffending Predictor, dynamic)"),
}
_LIVING_TOGETHER: Final = float(RELATIONSHIP_STATUSES.index("living_together"))
_OTHER_DRUG_COLUMNS: Final = tuple(f"drug_{d}" for d in sorted(OASYS_OTHER_DRUG_GROUP))


def _item(column: str, times: float = 1.0) -> tuple[tuple[str, ...], tuple[str, ...], Any]:
    return (column,), (column,), lambda a: times * a[column]


#: Each dynamic term of the coefficient file: (the answers it needs, the columns it reads, its
#: value from the answers). 4.2 enters as 2 when yes; 6.8 as a flag when living together; 8.8
#: unanswered as 0, and the drugs and R1.2 offences not listed as no, as the MoJ service does.
_DYNAMIC_TERMS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], Any]]] = {
    "CARRY_OR_USE_WEAPON": _item("weapon"),
    "ACCOMMODATION_SUITABILITY": _item("accommodation"),
    "UNEMPLOYED": _item("unemployed", 2.0),
    "LIVE_IN_RELATIONSHIP": (("relationship_status",), ("relationship_status",),
                             lambda a: (a["relationship_status"] == _LIVING_TOGETHER).astype(np.float64)),
    "RELATIONSHIP_QUALITY": _item("partner_relationship"),
    "QUALITY_OF_LIVE_IN_RELATIONSHIP": (
        ("partner_relationship", "relationship_status"), ("partner_relationship", "relationship_status"),
        lambda a: a["partner_relationship"] * (a["relationship_status"] == _LIVING_TOGETHER)),
    "DOMESTIC_ABUSE": _item("domestic_abuse"),
    "ACTIVITIES_ENCOURAGE_OFFENDING": _item("regular_activities"),
    "MOTIVATION_TO_TACKLE_DRUG_MISUSE": ((), ("drug_motivation",), lambda a: a["drug_motivation"]),
    "CHRONIC_DRINKING": _item("alcohol_current"),
    "BINGE_DRINKING": _item("alcohol_binge"),
    "IMPULSIVITY": _item("impulsivity"),
    "TEMPER": _item("temper"),
    "PRO_CRIMINAL_ATTITUDE": _item("procriminal_attitudes"),
    **{term: ((), (f"drug_{drug}",), lambda a, c=f"drug_{drug}": a[c]) for term, drug in (
        ("HEROIN", "heroin"), ("METHADONE", "methadone"), ("OTHER_OPIATE", "other_opiates"),
        ("CRACK_COCAINE", "crack_cocaine"), ("POWDER_COCAINE", "powder_cocaine"),
        ("PRESCRIPTION_DRUG_MISUSE", "misused_prescribed"), ("BENZODIAZEPINES", "benzodiazepines"),
        ("CANNABIS", "cannabis"), ("STEROIDS", "steroids"))},
    "OTHER_DRUGS": ((), _OTHER_DRUG_COLUMNS,
                    lambda a: np.max(np.column_stack([a[c] for c in _OTHER_DRUG_COLUMNS]), axis=1)),
    **{term: ((), (f"previous_{o}",), lambda a, c=f"previous_{o}": a[c]) for term, o in (
        ("PAST_HOMICIDE_OFFENCE", "homicide"), ("PAST_GBH_OFFENCE", "wounding_gbh"),
        ("PAST_KIDNAPPING_OFFENCE", "kidnapping"), ("PAST_FIREARMS_OFFENCE", "firearms"),
        ("PAST_ROBBERY_OFFENCE", "robbery"), ("PAST_AGGRAVATED_BURGLARY_OFFENCE", "aggravated_burglary"),
        ("PAST_WEAPON_OFFENCE", "weapon"), ("PAST_CRIMINAL_DAMAGE_OFFENCE", "criminal_damage_life"),
        ("PAST_ARSON_OFFENCE", "arson"))},
}
#: The answers of the breakdown's reference person: no problems anywhere, employed, not in a
#: relationship, fully motivated, no drugs misused, no R1.2 offences (dynamic part 0).
REFERENCE_ANSWERS_TEXT: Final = (
    "; OASys answers: no problems, employed, not in a relationship, no drugs misused, no R1.2 offences"
)
_NO_ASSESSMENT: Final = "no OASys assessment on the referral: scored by {static} instead of {name}"
_MISSING_ANSWERS: Final = "OASys answers not given ({items}): scored by {static} instead of {name}"
_UNMAPPED_TERM: Final = "coefficient file term {term!r} of {name} has no reading in iomscore"


class OASysDynamicPredictor(OASysStaticPredictor):
    """An OASys v4 dynamic predictor: ``ogp2``, ``ovp2`` or ``snsv-dynamic``.

    The static predictor's items (with the dynamic model's own coefficients) plus the OASys
    assessment answers of :class:`iomscore.OASysAssessment`. A referral without an assessment,
    or without an answer the predictor needs, is scored by the static predictor (``ogrs4g``,
    ``ogrs4v``, ``snsv``), as the MoJ service does, with a warning saying so. Bands are the
    static predictor's (the cut-offs are the same). The breakdown adds one part, the OASys
    answers, to the static parts; its reason names the answers that add most.

    Examples
    --------
    >>> import iomscore
    >>> r = iomscore.Referral(person_id="A", assessment_date="2025-10-03",
    ...     date_of_birth="1970-06-07", sex="male",
    ...     sanction_summary={"previous_sanctions": 1, "age_at_first_sanction": 18,
    ...                       "violent_sanctions": 2, "current_conviction_date": "1997-06-07",
    ...                       "followup_start_date": "1998-05-18", "current_offence_code": "07111"},
    ...     oasys={"weapon": True, "accommodation": 1, "unemployed": False, "partner_relationship": 2,
    ...            "domestic_abuse": True, "relationship_status": "not_living_together",
    ...            "regular_activities": 0, "drug_motivation": "none", "alcohol_current": 0,
    ...            "alcohol_binge": 0, "impulsivity": 1, "temper": 2, "procriminal_attitudes": 0})
    >>> result = iomscore.score(r, scorer="ogp2")
    >>> result.score, result.band
    (9.2, 'low')
    >>> iomscore.score(r.model_copy(update={"oasys": None}), scorer="ogp2").warnings
    ('no OASys assessment on the referral: scored by OGRS4/G instead of OGP2',)
    """

    def __init__(self, name: str = "ogp2") -> None:
        if name not in OASYS_DYNAMIC_SCORERS:
            raise KeyError(f"unknown OASys dynamic predictor {name!r}; one of {sorted(OASYS_DYNAMIC_SCORERS)}")
        static_name = OASYS_DYNAMIC_SCORERS[name][0]
        self.name = name
        self._static = OASysStaticPredictor(static_name)
        doc = oasys_coefficients()
        entry = doc["predictors"][name]
        self._model = _model(entry)
        self._violence = self._model.violent_offset is not None
        self._reference = self._static_reference()
        static_terms = set(doc["predictors"][static_name]["terms"]) | {
            "OFFENCE_FREE_MONTHS_CUBIC", "OFFENCE_FREE_MONTHS_QUARTIC", "AAI_CUBIC_MALE", "AAI_QUARTIC_MALE"}
        terms = []
        for term, value in self._model.terms.items():
            if term in static_terms:
                continue
            if term not in _DYNAMIC_TERMS:
                raise ValueError(_UNMAPPED_TERM.format(term=term, name=name))
            needs, reads, fn = _DYNAMIC_TERMS[term]
            terms.append((term, value, needs, reads, fn))
        self._terms = tuple(terms)
        self._needs = tuple(c for c in OASYS_ITEMS if any(c in t[2] for t in terms))
        self._reads = tuple(c for c in OASYS_COLUMNS if any(c in t[3] for t in terms))
        self._identity = ModelIdentity(
            name=name,
            version=self.version,
            sha256=spec_sha256({
                "name": name,
                "version": self.version,
                "coefficients": entry,
                "static_fallback": {"name": static_name, "sha256": self._static.identity.sha256},
                "source": doc["source"],
                "breakdown_reference": REFERENCE_PERSON,
                "breakdown_reference_answers": REFERENCE_ANSWERS_TEXT,
            }),
            kind="oasys-dynamic",
        )

    def _static_reference(self) -> np.ndarray:
        ref = REFERENCE_PERSON
        return _parts(
            self._model, np.array([ref["sex"]]), np.array([float(ref["age_at_followup_start"])]),
            np.array([float(ref["career_years"])]), np.array([float(ref["total_sanctions"])]),
            np.array([float(ref["violent_sanctions"])]), np.array([float(ref["offence_free_months"])]),
            np.array([ACTUARIAL_CATEGORIES.index(str(ref["actuarial_category"]))]),
        )[0]

    @property
    def features(self) -> tuple[str, ...]:
        return (*self._static.features, "oasys_assessed", *(f"oasys_{c}" for c in self._reads))

    def __repr__(self) -> str:
        return f"OASysDynamicPredictor({self.name!r})"

    def _answers(self, features: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """(answers with the MoJ defaults filled, assessed, bitmask of the needed answers missing)."""
        assessed = np.asarray(features["oasys_assessed"], dtype=np.float64) == 1.0
        raw = {c: np.asarray(features[f"oasys_{c}"], dtype=np.float64) for c in self._reads}
        missing = np.zeros(assessed.shape[0], dtype=np.int64)
        for bit, c in enumerate(self._needs):
            missing |= np.isnan(raw[c]).astype(np.int64) << bit
        filled = {c: np.nan_to_num(v, nan=0.0) for c, v in raw.items()}
        return filled, assessed, missing

    def score_features(self, features: Mapping[str, np.ndarray]) -> ScoreBatch:
        static = self._static.score_features(features)
        x, _ = self._inputs(features)
        answers, assessed, missing = self._answers(features)
        rows = assessed.shape[0]
        static_error = np.full(rows, None, dtype=object) if static.error is None else static.error
        bad = np.fromiter((e is not None for e in static_error), dtype=np.bool_, count=rows)
        dynamic = assessed & (missing == 0) & np.logical_not(bad)
        m = self._model
        values = np.column_stack([coef * np.asarray(fn(answers), dtype=np.float64)
                                  for _, coef, _, _, fn in self._terms])
        answer_logit = np.where(dynamic, values.sum(axis=1), 0.0)
        parts_logit = np.column_stack([
            _parts(m, x["sex"], x["age"], x["career"], x["n"], x["v"], x["ofm"], x["category"]), answer_logit])
        reference = np.r_[self._reference, 0.0]
        constant = m.t("TWO_YEAR_CONSTANT")
        p2 = np.array(static.probabilities["2y"], dtype=np.float64)
        score = np.array(static.score, dtype=np.float64)
        parts = np.zeros((rows, parts_logit.shape[1] + 1))
        parts[:, :-1] = static.part_values
        band = np.array(static.band, dtype=object)
        if dynamic.any():
            d = parts_logit[dynamic]
            p_dyn = _logistic(constant + d.sum(axis=1))
            s_dyn = hmpps_percent(p_dyn)
            start = constant + float(reference.sum())
            values_d = np.column_stack([np.full(d.shape[0], 100.0 * float(_logistic(np.asarray(start)))),
                                        100.0 * _shapley(start, d - reference)])
            values_d[:, 0] += s_dyn - values_d.sum(axis=1)
            p2[dynamic], score[dynamic], parts[dynamic] = p_dyn, s_dyn, values_d
            names = np.asarray(BAND_NAMES, dtype=object)
            band[dynamic] = names[np.searchsorted(m.cuts, s_dyn, side="right")]
        part_names = (*static.part_names, "oasys_answers")
        labels = (f"{self._label()} starting point", *static.part_labels[1:],
                  "OASys assessment answers (sections 2-12, drugs)")
        return ScoreBatch(
            score=score,
            band=band,
            probabilities={"2y": p2},
            part_names=part_names,
            part_labels=labels,
            part_values=parts,
            part_reasons=self._dynamic_reasons(static, dynamic, answers, values, assessed),
            model=self._identity,
            unit="percentage points",
            baseline_part="starting_point",
            warnings=self._fallback_warnings(
                empty_warnings(rows) if static.warnings is None else static.warnings, dynamic, assessed, missing, bad),
            error=static_error,
        )

    def _fallback_warnings(self, warnings: np.ndarray, dynamic: np.ndarray, assessed: np.ndarray,
                           missing: np.ndarray, bad: np.ndarray) -> np.ndarray:
        out = np.array(warnings, dtype=object)
        fallback = ~dynamic & ~bad
        if not fallback.any():
            return out
        static, name = self._static._label(), self._label()

        def text(r: int) -> str:
            if not assessed[r]:
                return _NO_ASSESSMENT.format(static=static, name=name)
            items = ", ".join(f"{OASYS_ITEMS[c][0]} {OASYS_ITEMS[c][1]}" for bit, c in enumerate(self._needs)
                              if missing[r] >> bit & 1)
            return _MISSING_ANSWERS.format(items=items, static=static, name=name)

        key = np.where(assessed, missing + 1, 0)
        idx = np.flatnonzero(fallback)
        texts = render_unique(key[idx], lambda j: text(int(idx[j])))
        for j, r in enumerate(idx.tolist()):
            out[r] = (*out[r], texts[j])
        return out

    def _dynamic_reasons(self, static: ScoreBatch, dynamic: np.ndarray, answers: Mapping[str, np.ndarray],
                         values: np.ndarray, assessed: np.ndarray) -> tuple[np.ndarray, ...]:
        rows = dynamic.shape[0]
        reasons = [np.array(r, dtype=object) for r in static.part_reasons]
        reasons[0] = np.where(dynamic, reasons[0] + REFERENCE_ANSWERS_TEXT, reasons[0])
        last = np.full(rows, "Not scored on OASys answers (the static predictor was used)", dtype=object)
        if dynamic.any():
            # The three answers that add most to the log-odds (ties by term order), as one key.
            top = np.argsort(-values, axis=1, kind="stable")[:, :3]
            shown = np.take_along_axis(values, top, axis=1) > 0
            width = len(self._terms) + 1
            key = np.where(shown, top + 1, 0) @ (width ** np.arange(3))

            def render(r: int) -> str:
                names = [self._term_text(self._terms[int(t)][0], answers, r)
                         for t, s in zip(top[r], shown[r]) if s]
                if not names:
                    return "OASys answers: nothing that adds to the likelihood"
                return "OASys answers adding most: " + "; ".join(names)

            idx = np.flatnonzero(dynamic)
            last[idx] = render_unique(key[idx] * 4 + 0, lambda j: render(int(idx[j])))
        reasons.append(last)
        return tuple(reasons)

    @staticmethod
    def _term_text(term: str, answers: Mapping[str, np.ndarray], r: int) -> str:
        if term.startswith("PAST_"):
            column = _DYNAMIC_TERMS[term][1][0]
            return f"previous {OASYS_PREVIOUS_OFFENCE_LABELS[column[9:]]} (R1.2)"
        if term == "OTHER_DRUGS":
            return "misused other drugs (ketamine, spice, hallucinogens, solvents or other)"
        column = _DYNAMIC_TERMS[term][1][0]
        if column not in OASYS_ITEMS:  # a drug ever misused
            return f"misused {column[5:].replace('_', ' ')}"
        question, label, kind = OASYS_ITEMS[column]
        value = int(answers[column][r])
        if term == "LIVE_IN_RELATIONSHIP":
            return f"{question} living with a partner"
        if term == "QUALITY_OF_LIVE_IN_RELATIONSHIP":
            return f"6.4 relationship with the partner they live with: problem score {int(answers['partner_relationship'][r])}"
        if kind == "yes_no":
            return f"{question} {label}"
        if kind == "motivation":
            return f"{question} {label}: {DRUG_MOTIVATIONS[value]}"
        return f"{question} {label}: problem score {value}"
