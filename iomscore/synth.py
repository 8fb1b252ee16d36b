"""Synthetic, seeded referral lists for demos, tests and benchmarks.

:func:`generate` draws ``n`` referrals with numpy only (no per-person Python loop), so a
million referrals with ten million sanctions take seconds. Nothing here describes a real
person; the shapes are set to be plausible against published figures:

* **A prolific minority.** About 10% of offenders commit about half of all recorded crime
  (Home Office / MoJ analyses of the Offenders Index; the basis of the Prolific and other
  Priority Offender programme and IOM). A quarter of synthetic referrals are "prolific",
  with 10 or more proven offences and a long tail (many at 30-40, a few above 60), in line
  with MoJ's observation that prolific adult offenders typically have 30-40 previous
  convictions; the rest have 1-15. The mean is about ten offences per referral.
* **Offence mix.** For prolific people it is dominated by shop theft, burglary, vehicle
  crime and drug possession (the acquisitive, substance-driven offending IOM targets,
  MoJ *Proven reoffending statistics* offence tables); others have more violence, public
  order and motoring offences.
* **Custody.** Short sentences dominate (most custodial sentences for acquisitive crime are
  under 12 months, MoJ *Criminal justice statistics*); people serve half and are then
  released, and custody becomes likelier as the record grows. Some are still in custody at
  the assessment date (referred before release).
* **Reoffending context.** MoJ proven reoffending is about 25% overall within a year and
  far higher (over 50%) for people with 11+ previous offences; the synthetic careers give
  OGRS3 two-year probabilities spanning low to very high bands, most prolific people high.
* **Needs.** Among prolific offenders drug misuse and accommodation needs are common
  (HMPPS OASys needs analyses: around half with drug, a third with accommodation needs;
  education/employment, finance and thinking/behaviour needs are also frequent). About 8%
  of referrals have no needs assessment.
* **Serious harm.** About 4% have a high or very high risk of serious harm (RoSH) and about
  2% are MAPPA-managed, so routing rules have cases to find.
* **Supervision and release** (drawn from a generator of their own, so every other value is
  the same as before they were added): from the latest sentence, as the Offender Rehabilitation
  Act 2014 sets it. Custody gives a release at the halfway point and a licence to the end of the
  sentence, then post-sentence supervision to twelve months after release for sentences under
  two years; a community order runs 6-24 months and a suspended sentence order 12-24 months;
  otherwise, or once these end, there is no statutory supervision. A release date is given for
  people in custody or released in the last year; about 5% have no supervision status recorded.
  About half of people with no statutory supervision have agreed to engage.
* **Protected characteristics** for audits: ethnicity roughly the England and Wales 2021
  census mix with Black and Mixed groups somewhat over-represented as in the criminal justice
  system, and a few percent "not recorded"; sex about 85% male.

**Outcomes** (:func:`generate_outcomes`, ``iomscore synth --outcomes``) are drawn from a stated
generating model, so a learner can be checked against it. The two-year probability of a proven
reoffence is ``expit(eta)`` with (:data:`OUTCOME_MODEL`; values not recorded count as 0, age as
30)::

    eta = -2.0 + 0.35 * min(offences_12m_at_risk, 8) + 0.06 * min(offences_36m_at_risk, 20)
          - 0.04 * (age_at_assessment - 30) - 0.03 * min(offence_free_months_at_risk, 36)
          + 0.45 * need_drugs_alcohol + 0.30 * need_accommodation

A person reoffends within two years with that probability, on a day drawn as ``1 + 729 * U**1.5``
(``U`` uniform, so earlier days are likelier); 15% of people are followed for only 180-729 days
(uniform), and an event after the end of follow-up is not seen. ``reoffended_1y`` and
``reoffended_2y`` are 1 or 0, and empty when the person was not followed long enough to know (not
at risk for the whole window and no event seen in it).

``bad_fraction`` adds deliberately invalid referrals (rule violations in :func:`generate`;
malformed text in :func:`write_csv`), only when asked, for tests and demos of rejects.

Examples
--------
>>> from iomscore import synth
>>> table = synth.generate(1000, seed=42)
>>> table.n
1000
>>> bool(5 < table.batch.sanction_offsets[-1] / table.n < 15)
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import numpy as np

from .schema._batch import MISSING_DAY, ONGOING_DAY, ReferralBatch, SeriousHarmColumns, date_to_day
from .schema._table import ReferralTable
from .schema._taxonomy import offence_taxonomy
from .schema._vocabulary import DISPOSALS, OASYS_COLUMNS, PATHWAYS, SUPERVISION_STATUSES

__all__ = [
    "OUTCOME_MODEL",
    "default_paths",
    "generate",
    "generate_outcomes",
    "outcome_probability",
    "write_csv",
    "write_jsonl",
    "write_outcomes_csv",
]

_ASSESS_FROM: Final = date_to_day(__import__("datetime").date(2024, 1, 1))
_ASSESS_DAYS: Final = 731
_YEAR: Final = 365.25
_PROLIFIC_SHARE: Final = 0.25

#: Offence mix (code, weight) for prolific and other people.
_MIX_PROLIFIC: Final = (
    ("shop_theft", 30), ("burglary_domestic", 9), ("burglary_other", 5), ("theft_of_vehicle", 4),
    ("theft_from_vehicle", 5), ("vehicle_interference", 1), ("theft_from_person", 3), ("personal_robbery", 2),
    ("other_theft", 4), ("handling", 3), ("drug_possession", 10), ("drug_supply", 2), ("common_assault", 5),
    ("criminal_damage", 5), ("breach_of_order", 5), ("fail_to_surrender", 4), ("public_order", 2),
    ("fraud_forgery", 1),
)
_MIX_OTHER: Final = (
    ("shop_theft", 12), ("burglary_domestic", 5), ("burglary_other", 3), ("theft_of_vehicle", 3),
    ("theft_from_vehicle", 2), ("common_assault", 13), ("assault_abh", 7), ("wounding_gbh", 2),
    ("public_order", 9), ("criminal_damage", 8), ("drug_possession", 9), ("drug_supply", 3),
    ("drink_driving", 5), ("other_motoring", 6), ("weapon_possession", 3), ("fraud_forgery", 3),
    ("breach_of_order", 4), ("personal_robbery", 2), ("other", 2),
)
#: Probability of (no_need, some_need, significant_need) per pathway, for prolific people;
#: others have each significant need halved (moved to some need).
_NEEDS_PROLIFIC: Final = {
    "accommodation": (0.40, 0.25, 0.35),
    "education_training_employment": (0.30, 0.35, 0.35),
    "health": (0.45, 0.35, 0.20),
    "drugs_alcohol": (0.20, 0.25, 0.55),
    "finance_benefit_debt": (0.30, 0.35, 0.35),
    "children_families": (0.60, 0.25, 0.15),
    "attitudes_thinking_behaviour": (0.25, 0.40, 0.35),
}
_ETHNICITY: Final = (("White", 0.75), ("Black", 0.075), ("Asian", 0.08), ("Mixed", 0.05), ("Other", 0.015),
                     (None, 0.03))
_RELIGION: Final = (("No religion", 0.40), ("Christian", 0.33), ("Muslim", 0.10), ("Other", 0.05), (None, 0.12))
_DISABILITY: Final = (("Yes", 0.28), ("No", 0.62), (None, 0.10))


#: The generating model of :func:`generate_outcomes`: intercept, then (feature, cap, centre,
#: coefficient) terms of the two-year log-odds (see the module docstring).
OUTCOME_MODEL: Final = {
    "intercept": -2.0,
    "terms": (
        ("offences_12m_at_risk", 8.0, 0.0, 0.35),
        ("offences_36m_at_risk", 20.0, 0.0, 0.06),
        ("age_at_assessment", None, 30.0, -0.04),
        ("offence_free_months_at_risk", 36.0, 0.0, -0.03),
        ("need_drugs_alcohol", None, 0.0, 0.45),
        ("need_accommodation", None, 0.0, 0.30),
    ),
}
_CENSORED_SHARE: Final = 0.15
#: Columns of the outcomes table, in order.
OUTCOME_COLUMNS: Final = (
    "person_id", "assessment_date", "follow_up_end", "reoffence_date", "reoffended_1y", "reoffended_2y",
)


def _choice(rng: np.random.Generator, options: tuple, size: int) -> np.ndarray:
    labels = np.array([o[0] for o in options], dtype=object)
    p = np.array([o[1] for o in options], dtype=np.float64)
    return labels[rng.choice(len(options), size=size, p=p / p.sum())]


def generate(
    n: int,
    seed: int = 0,
    *,
    bad_fraction: float = 0.0,
    summary_fraction: float = 0.02,
    id_prefix: str = "P",
    oasys_fraction: float = 0.0,
) -> ReferralTable:
    """Draw ``n`` synthetic referrals (see the module docstring for what shaped them).

    Parameters
    ----------
    n : int
        Number of referrals.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same table.
    bad_fraction : float
        Share of referrals made to break a cross-field rule (offence after assessment,
        sanction before offence, custody ending before it starts, under 10 at assessment).
    summary_fraction : float
        Share of referrals given as a sanction summary instead of a sanction list.
    id_prefix : str
        Prefix of the ``person_id`` values (``P0000001``, ...).
    oasys_fraction : float
        Share of referrals given OASys assessment answers (:class:`~iomscore.OASysAssessment`,
        read by ``ogp2``, ``ovp2`` and ``snsv-dynamic``), drawn from a stream of their own so
        every other column is the same as with the default 0 (no answers).

    Returns
    -------
    ReferralTable

    Examples
    --------
    >>> t1, t2 = generate(50, seed=1), generate(50, seed=1)
    >>> bool((t1.batch.offence_day == t2.batch.offence_day).all())
    True
    >>> t3 = generate(50, seed=1, oasys_fraction=0.5)
    >>> bool((t3.batch.offence_day == t1.batch.offence_day).all()), 10 < int(t3.batch.oasys_present.sum()) < 40
    (True, True)
    """
    rng = np.random.default_rng(seed)
    tax = offence_taxonomy()
    width = max(7, len(str(n)))
    person_id = np.char.add(id_prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)

    assess = (_ASSESS_FROM + rng.integers(0, _ASSESS_DAYS, n)).astype(np.int64)
    prolific = rng.random(n) < _PROLIFIC_SHARE
    age_years = np.clip(18 + rng.gamma(2.0, 5.5, n) - np.where(prolific, 1.0, 0.0), 18, 60)
    birth = assess - np.floor(age_years * _YEAR).astype(np.int64) - rng.integers(0, 365, n)
    sex = np.select([rng.random(n) < 0.85, rng.random(n) < 0.93], [0, 1], -1).astype(np.int8)

    # Number of proven offences: a heavy-tailed prolific minority, the rest 1-15.
    k_other = 1 + np.minimum(rng.negative_binomial(2, 2 / 6, n), 14)
    k_prolific = 10 + np.minimum(np.rint(rng.lognormal(np.log(17), 0.55, n)), 110).astype(np.int64)
    k = np.where(prolific, k_prolific, k_other).astype(np.int64)

    # Career: from the first offence (age 10+, typically mid-teens) to a recent last offence.
    age_first = np.minimum(10.5 + rng.gamma(2.0, np.where(prolific, 1.8, 4.0)), age_years - 0.2)
    first_day = birth + np.ceil(age_first * _YEAR).astype(np.int64)
    gap_last = np.minimum(np.rint(rng.exponential(np.where(prolific, 90, 300))).astype(np.int64) + 14, assess - first_day)
    last_day = assess - gap_last

    m = int(k.sum())
    person = np.repeat(np.arange(n, dtype=np.int64), k)
    u = rng.random(m) ** 0.8  # offending thickens towards the present
    span = (last_day - first_day)[person]
    offence = first_day[person] + np.floor(u * span).astype(np.int64)
    # the latest offence of each person is on the last day
    ends = np.cumsum(k) - 1
    offence[ends] = last_day
    raw_gap = np.rint(rng.exponential(45.0, m)).astype(np.int64)
    sanction = np.minimum(offence + raw_gap, assess[person])
    # Some offences are dealt with together: share the sanction date of the person's previous one.
    order = np.lexsort((offence, person))
    prev = np.r_[-1, order[:-1]]
    same_person = np.r_[False, person[order][1:] == person[order][:-1]]
    share = same_person & (rng.random(m) < 0.2)
    so, po = order[share], prev[share]
    ok = sanction[po] >= offence[so]
    sanction[so[ok]] = sanction[po[ok]]

    group_p = _draw_groups(rng, _MIX_PROLIFIC, m, tax)
    group_o = _draw_groups(rng, _MIX_OTHER, m, tax)
    group = np.where(prolific[person], group_p, group_o).astype(np.int16)

    # Disposal: cautions early in a record, custody likelier as the record grows.
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m) - np.repeat(np.cumsum(k) - k, k)
    p_custody = np.clip(0.03 + 0.012 * rank, 0.03, 0.35)
    r = rng.random(m)
    code = {d: i for i, d in enumerate(DISPOSALS)}
    disposal = np.select(
        [r < p_custody, (rank < 2) & (r < p_custody + 0.35), r < p_custody + 0.25, r < p_custody + 0.45,
         r < p_custody + 0.60, r < p_custody + 0.75],
        [code["custody"], code["caution"], code["fine"], code["community_order"], code["suspended_sentence"],
         code["discharge"]],
        code["conditional_caution"],
    ).astype(np.int8)
    is_custody = disposal == code["custody"]
    lengths = np.where(rng.random(m) < 0.03, rng.integers(730, 1826, m),
                       np.clip(np.rint(rng.lognormal(np.log(110), 0.6, m)), 14, 720)).astype(np.int64)
    custody_days = np.where(is_custody, lengths, -1).astype(np.int32)

    # Custody periods: serve half from the sentence date; still inside if not yet released.
    c_idx = np.flatnonzero(is_custody)
    c_person = person[c_idx]
    c_start = sanction[c_idx]
    c_end = c_start + custody_days[c_idx] // 2
    c_end = np.where(c_end >= assess[c_person], int(ONGOING_DAY), c_end)

    needs = _draw_needs(rng, n, prolific)
    rosh, mappa_cat, mappa_lvl = _draw_harm(rng, n)

    # Summary-only referrals: the four OGRS3 facts instead of the list.
    summary = rng.random(n) < summary_fraction
    s_prev = np.full(n, -1, dtype=np.int64)
    s_first = np.full(n, int(MISSING_DAY), dtype=np.int64)
    s_conv = np.full(n, int(MISSING_DAY), dtype=np.int64)
    s_group = np.full(n, -1, dtype=np.int64)
    if summary.any():
        occasions = np.unique(np.column_stack([person, sanction]), axis=0)
        per_person = np.bincount(occasions[:, 0], minlength=n)
        s_prev[summary] = per_person[summary] - 1
        s_first[summary] = np.minimum.reduceat(sanction[order], np.cumsum(k) - k)[summary]
        s_conv[summary] = np.maximum.reduceat(sanction[order], np.cumsum(k) - k)[summary]
        s_group[summary] = group[order][np.cumsum(k) - 1][summary]
    keep_s = ~summary[person]
    keep_c = ~summary[c_person]

    if bad_fraction > 0:
        _break_rules(rng, bad_fraction, n, assess, birth, person, offence, sanction, c_person, c_start, c_end,
                     keep_s)

    facts = _draw_facts(np.random.default_rng([seed, 2]), n, k, assess, person, sanction, disposal, custody_days)
    batch = ReferralBatch.from_arrays(
        person_id=person_id,
        assessment_day=assess,
        birth_day=birth,
        sex=sex,
        needs=needs,
        sanction_person=person[keep_s],
        offence_day=offence[keep_s],
        sanction_day=sanction[keep_s],
        group=group[keep_s],
        disposal=disposal[keep_s],
        custody_days=custody_days[keep_s],
        occasion=sanction[keep_s],
        current=np.zeros(int(keep_s.sum()), dtype=bool),
        custody_person=c_person[keep_c],
        custody_start=c_start[keep_c],
        custody_end=c_end[keep_c],
        summary_previous=s_prev,
        summary_first_day=s_first,
        summary_conviction_day=s_conv,
        summary_group=s_group,
        summary_caution_only=np.zeros(n, dtype=bool),
        supervision_status=facts["supervision_status"],
        supervision_start_day=facts["supervision_start_day"],
        supervision_end_day=facts["supervision_end_day"],
        release_day=facts["release_day"],
        agreed_to_engage=facts["agreed_to_engage"],
        **_draw_oasys(np.random.default_rng([seed, 3]), n, needs, oasys_fraction),  # type: ignore[arg-type]
    )
    harm = SeriousHarmColumns(rosh_level=rosh, mappa_category=mappa_cat, mappa_level=mappa_lvl)
    protected = {
        "ethnicity": _choice(rng, _ETHNICITY, n),
        "religion": _choice(rng, _RELIGION, n),
        "disability": _choice(rng, _DISABILITY, n),
        "sexual_orientation": np.full(n, None, dtype=object),
        "gender_reassignment": np.full(n, None, dtype=object),
        "marriage_civil_partnership": np.full(n, None, dtype=object),
        "pregnancy_maternity": np.full(n, None, dtype=object),
        "sex": np.array(["male", "female", None], dtype=object)[np.where(sex < 0, 2, sex)],
    }
    return ReferralTable(batch, harm, protected)


def _draw_groups(rng: np.random.Generator, mix: tuple, m: int, tax: object) -> np.ndarray:
    codes = np.array([tax.index(c) for c, _ in mix], dtype=np.int16)  # type: ignore[attr-defined]
    p = np.array([w for _, w in mix], dtype=np.float64)
    return codes[rng.choice(len(mix), size=m, p=p / p.sum())]


def _draw_needs(rng: np.random.Generator, n: int, prolific: np.ndarray) -> np.ndarray:
    needs = np.empty((n, len(PATHWAYS)), dtype=np.int8)
    for j, p in enumerate(PATHWAYS):
        _none, some, sig = _NEEDS_PROLIFIC[p]
        sig_p = np.where(prolific, sig, sig / 2)
        some_p = np.where(prolific, some, some + sig / 2)
        r = rng.random(n)
        needs[:, j] = np.select([r < sig_p, r < sig_p + some_p], [2, 1], 0)
    not_assessed = rng.random(n) < 0.08
    needs[not_assessed] = -1
    return needs


def _draw_facts(
    rng: np.random.Generator, n: int, k: np.ndarray, assess: np.ndarray, person: np.ndarray, sanction: np.ndarray,
    disposal: np.ndarray, custody_days: np.ndarray,
) -> dict[str, np.ndarray]:
    """Supervision status and dates, release date and agreement to engage (module docstring)."""
    code = {d: i for i, d in enumerate(DISPOSALS)}
    status_code = {s: i for i, s in enumerate(SUPERVISION_STATUSES)}
    last = np.lexsort((custody_days, sanction, person))[np.cumsum(k) - 1]  # the latest sentence
    disp, day, length = disposal[last], sanction[last].astype(np.int64), custody_days[last].astype(np.int64)
    custody = disp == code["custody"]
    release = day + np.maximum(length, 0) // 2
    sentence_end = day + np.maximum(length, 0)
    pss_end = release + 365
    months = np.where(disp == code["community_order"], rng.choice([6, 12, 18, 24], n, p=[0.2, 0.45, 0.15, 0.2]),
                      rng.choice([12, 18, 24], n, p=[0.5, 0.2, 0.3]))
    order_end = day + np.rint(months * _YEAR / 12).astype(np.int64)
    licence = custody & (assess < sentence_end)
    pss = custody & ~licence & (length < 730) & (assess < pss_end)
    community = (disp == code["community_order"]) & (assess < order_end)
    suspended = (disp == code["suspended_sentence"]) & (assess < order_end)
    status = np.select([licence, pss, community, suspended],
                       [status_code["licence"], status_code["post_sentence_supervision"], status_code["community_order"],
                        status_code["suspended_sentence_order"]], status_code["none"])
    start = np.select([licence, pss, community | suspended], [release, sentence_end, day], int(MISSING_DAY))
    end = np.select([licence, pss, community | suspended], [sentence_end, pss_end, order_end], int(MISSING_DAY))
    unrecorded = rng.random(n) < 0.05
    status = np.where(unrecorded, -1, status)
    start = np.where(unrecorded, int(MISSING_DAY), start)
    end = np.where(unrecorded, int(MISSING_DAY), end)
    release_day = np.where(custody & (release >= assess - 365), release, int(MISSING_DAY))
    r = rng.random(n)
    statutory = (status >= 0) & (status != status_code["none"])
    agreed = np.where(statutory, np.select([r < 0.40, r < 0.45], [1, 0], -1), np.select([r < 0.55, r < 0.85], [1, 0], -1))
    agreed = np.where(status < 0, -1, agreed)
    return {
        "supervision_status": status.astype(np.int8),
        "supervision_start_day": start.astype(np.int32),
        "supervision_end_day": end.astype(np.int32),
        "release_day": release_day.astype(np.int32),
        "agreed_to_engage": agreed.astype(np.int8),
    }


def _draw_oasys(rng: np.random.Generator, n: int, needs: np.ndarray, fraction: float) -> dict[str, np.ndarray]:
    """OASys answers for about ``fraction`` of the people, leaning on their pathway needs
    (accommodation, employment, drugs and alcohol, attitudes); none when ``fraction`` is 0."""
    if fraction <= 0:
        return {}
    present = rng.random(n) < fraction
    k = len(OASYS_COLUMNS)
    answers = np.full((n, k), -1, dtype=np.int8)
    need = np.maximum(needs, 0).astype(np.int64)  # -1 not assessed counts as no need here

    def col(name: str) -> int:
        return OASYS_COLUMNS.index(name)

    def problem(base: np.ndarray) -> np.ndarray:
        return np.clip(base + rng.integers(-1, 2, n), 0, 2)

    p = {name: PATHWAYS.index(name) for name in PATHWAYS}
    drugs = need[:, p["drugs_alcohol"]]
    attitudes = need[:, p["attitudes_thinking_behaviour"]]
    answers[:, col("weapon")] = rng.random(n) < 0.12
    answers[:, col("accommodation")] = problem(need[:, p["accommodation"]])
    answers[:, col("unemployed")] = rng.random(n) < 0.35 + 0.25 * need[:, p["education_training_employment"]]
    answers[:, col("partner_relationship")] = problem(need[:, p["children_families"]])
    answers[:, col("domestic_abuse")] = rng.random(n) < 0.15
    answers[:, col("relationship_status")] = rng.choice(3, n, p=[0.3, 0.25, 0.45])
    answers[:, col("regular_activities")] = problem(attitudes)
    answers[:, col("drug_motivation")] = np.where(drugs > 0, rng.integers(0, 3, n), 0)
    answers[:, col("alcohol_current")] = problem(drugs // 2)
    answers[:, col("alcohol_binge")] = problem(drugs // 2)
    answers[:, col("impulsivity")] = problem(attitudes)
    answers[:, col("temper")] = problem(attitudes // 2)
    answers[:, col("procriminal_attitudes")] = problem(attitudes)
    for j, name in enumerate(OASYS_COLUMNS):
        if name.startswith("drug_") and name != "drug_motivation":
            answers[:, j] = rng.random(n) < 0.06 + 0.12 * drugs
        elif name.startswith("previous_"):
            answers[:, j] = rng.random(n) < 0.03
    answers[~present] = -1
    return {"oasys": answers, "oasys_present": present}


def _draw_harm(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = rng.random(n)
    rosh = np.select([r < 0.01, r < 0.04, r < 0.40, r < 0.94], [3, 2, 1, 0], -1).astype(np.int8)
    mappa = rng.random(n) < 0.02
    cat = np.where(mappa, rng.choice([1, 2, 3], size=n, p=[0.55, 0.40, 0.05]), -1).astype(np.int8)
    lvl = np.where(mappa, rng.choice([1, 2, 3], size=n, p=[0.85, 0.13, 0.02]), -1).astype(np.int8)
    # MAPPA-managed people are mostly high RoSH
    rosh = np.where(mappa & (rng.random(n) < 0.7), np.maximum(rosh, 2), rosh).astype(np.int8)
    return rosh, cat, lvl


def _break_rules(
    rng: np.random.Generator, fraction: float, n: int, assess: np.ndarray, birth: np.ndarray, person: np.ndarray,
    offence: np.ndarray, sanction: np.ndarray, c_person: np.ndarray, c_start: np.ndarray, c_end: np.ndarray,
    keep_s: np.ndarray,
) -> None:
    """Make about ``fraction`` of referrals break one cross-field rule each (in place)."""
    bad = np.flatnonzero(rng.random(n) < fraction)
    kind = rng.integers(0, 4, bad.size)
    first_row = np.searchsorted(person, np.arange(n))  # person is sorted (np.repeat)
    has_rows = np.bincount(person[keep_s], minlength=n) > 0
    for p, kd in zip(bad.tolist(), kind.tolist()):
        if kd == 3 and (c_person == p).any():
            j = int(np.flatnonzero(c_person == p)[0])
            if c_end[j] != ONGOING_DAY:
                c_end[j] = c_start[j] - 10
                continue
        if kd in (0, 1) and has_rows[p]:
            r = int(first_row[p])
            if kd == 0:
                offence[r] = assess[p] + 30
                sanction[r] = assess[p] + 40
            else:
                sanction[r] = offence[r] - 5
            continue
        birth[p] = assess[p] - int(8 * _YEAR)  # under 10 at assessment


def default_paths(output: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``(referrals, sanctions, custody)`` paths for ``iomscore synth -o OUTPUT.csv``:
    ``OUTPUT.csv``, ``OUTPUT-sanctions.csv`` and ``OUTPUT-custody.csv``."""
    p = Path(output)
    return p, p.with_name(f"{p.stem}-sanctions{p.suffix}"), p.with_name(f"{p.stem}-custody{p.suffix}")


def write_jsonl(table: ReferralTable, path: str | os.PathLike[str]) -> None:
    """Write ``table`` as JSON Lines (one nested referral per line)."""
    from .io import write_referrals_jsonl

    write_referrals_jsonl(table, path)


def write_csv(
    table: ReferralTable,
    referrals: str | os.PathLike[str],
    sanctions: str | os.PathLike[str] | None = None,
    custody: str | os.PathLike[str] | None = None,
    *,
    bad_fraction: float = 0.0,
    seed: int = 0,
) -> None:
    """Write ``table`` in the two-table CSV form (default sibling names: :func:`default_paths`).

    With ``bad_fraction``, about that share of referral rows get malformed text (an invalid
    date, an unknown offence group on one of their sanctions, a duplicated person_id), and as
    many orphan sanction rows (a person_id with no referral) are appended.
    """
    from .io._write import _custody_text, _referral_text, _sanction_text, _write_table

    _, s_default, c_default = default_paths(referrals)
    sanctions = s_default if sanctions is None else sanctions
    custody = c_default if custody is None else custody
    ref, san, cus = _referral_text(table), _sanction_text(table), _custody_text(table)
    if bad_fraction > 0:
        rng = np.random.default_rng([seed, 1])
        n = table.n
        bad = np.flatnonzero(rng.random(n) < bad_fraction)
        kind = rng.integers(0, 3, bad.size)
        for i, kd in zip(bad.tolist(), kind.tolist()):
            if kd == 0:
                ref["date_of_birth"][i] = "1990-02-30"
            elif kd == 1:
                rows = np.flatnonzero(san["person_id"] == ref["person_id"][i])
                if rows.size:
                    san["offence_group"][rows[0]] = "not_a_group"
                else:
                    ref["assessment_date"][i] = "yesterday"
            else:
                ref["person_id"][i] = ref["person_id"][(i + 1) % n]
        n_orphans = max(1, round(bad_fraction * san["person_id"].shape[0] / 10))
        for name in san:
            extra = np.repeat(san[name][:1], n_orphans) if san[name].shape[0] else np.full(n_orphans, "", object)
            if name == "person_id":
                extra = np.array([f"ORPHAN{j:05d}" for j in range(n_orphans)], dtype=object)
            san[name] = np.concatenate([san[name], extra]) if san[name].shape[0] else extra
    _write_table(referrals, ref)
    _write_table(sanctions, san)
    _write_table(custody, cus)


def outcome_probability(table: ReferralTable) -> np.ndarray:
    """Two-year reoffending probability of every referral under :data:`OUTCOME_MODEL`.

    Examples
    --------
    >>> from iomscore import synth
    >>> p = synth.outcome_probability(synth.generate(200, seed=1))
    >>> bool(((p > 0) & (p < 1)).all())
    True
    """
    from scipy.special import expit

    from .features._engine import FeatureFrame

    frame = FeatureFrame(table.batch)
    eta = np.full(table.n, float(OUTCOME_MODEL["intercept"]))  # type: ignore[arg-type]
    for name, cap, centre, coef in OUTCOME_MODEL["terms"]:  # type: ignore[attr-defined]
        x = np.asarray(frame[name], dtype=np.float64)
        x = np.where(np.isnan(x), centre if name == "age_at_assessment" else 0.0, x)
        if cap is not None:
            x = np.minimum(x, cap)
        eta += coef * (x - centre)
    return np.asarray(expit(eta))


def generate_outcomes(table: ReferralTable, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw seeded reoffending outcomes for ``table`` from :data:`OUTCOME_MODEL`.

    Parameters
    ----------
    table : ReferralTable
        Referrals (for example from :func:`generate`).
    seed : int
        Seed; the same table and seed give the same outcomes.

    Returns
    -------
    dict of str to ndarray
        The columns of :data:`OUTCOME_COLUMNS`: dates as ``YYYY-MM-DD`` text (``""`` for no
        reoffence seen), ``reoffended_1y``/``reoffended_2y`` as 1.0, 0.0 or NaN (not followed
        long enough to know).

    Examples
    --------
    >>> from iomscore import synth
    >>> table = synth.generate(500, seed=3)
    >>> out = synth.generate_outcomes(table, seed=3)
    >>> sorted(set(out["reoffended_2y"][~np.isnan(out["reoffended_2y"])].tolist()))
    [0.0, 1.0]
    """
    from .schema._batch import day_to_date

    n = table.n
    rng = np.random.default_rng([seed, 7])
    p = outcome_probability(table)
    event = rng.random(n) < p
    day = 1 + np.floor(729 * rng.random(n) ** 1.5).astype(np.int64)
    censored = rng.random(n) < _CENSORED_SHARE
    followed = np.where(censored, rng.integers(180, 730, n), 730)
    seen = event & (day <= followed)
    assess = table.batch.assessment_day.astype(np.int64)
    valid = assess != MISSING_DAY

    def text(days: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = np.full(n, "", dtype=object)
        uniq, inv = np.unique(days[mask], return_inverse=True)
        texts = np.empty(len(uniq), dtype=object)
        texts[:] = [str(day_to_date(int(d))) for d in uniq.tolist()]
        out[mask] = texts[inv.ravel()]
        return out

    def window(end: int) -> np.ndarray:
        y = np.where(seen & (day <= end), 1.0, np.where(followed >= end, 0.0, np.nan))
        return np.where(valid, y, np.nan)

    return {
        "person_id": np.asarray(table.batch.person_id, dtype=object),
        "assessment_date": text(assess, valid),
        "follow_up_end": text(assess + followed, valid),
        "reoffence_date": text(assess + day, valid & seen),
        "reoffended_1y": window(365),
        "reoffended_2y": window(730),
    }


def write_outcomes_csv(outcomes: dict[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """Write the outcomes of :func:`generate_outcomes` as CSV (empty cells for not known)."""
    from .io._write import _write_table

    cols: dict[str, np.ndarray] = {}
    for name in OUTCOME_COLUMNS:
        col = outcomes[name]
        if col.dtype.kind == "f":
            col = np.where(np.isnan(col), "", np.where(col > 0, "1", "0")).astype(object)
        cols[name] = col
    _write_table(path, cols)
