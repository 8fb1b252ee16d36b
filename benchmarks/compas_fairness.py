"""Fairness audit of COMPAS and a transparent two-feature score on ProPublica's Broward data.

Regenerate the committed results with (from the project root)::

    PYTHONPATH=. python benchmarks/compas_fairness.py \
        --data ../shared/data/compas/broward-two-years.csv \
        --out benchmarks/results/compas_fairness.md

The data are ProPublica's ``compas-scores-two-years.csv`` (see ``../shared/data/README.md``);
they are not part of this repository.

What the script does:

1. Reproduces ProPublica's published table on all 7,214 rows: decile_score > 4 counts as
   "high"; false-positive and false-negative rates for African-American and Caucasian
   defendants against ``two_year_recid``.
2. On ProPublica's standard filtered rows (6,172), audits every score in ``SCORES`` by race,
   sex, age group and race x sex, at each score's threshold and at a capacity of the top 20%.
3. Runs a proxy check of the transparent score's candidate inputs against race.

To add a score column, add one ``ScoreSpec`` line to ``SCORES``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from iomscore.fairness import audit, proxy_check

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "compas" / "broward-two-years.csv"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "compas_fairness.md"
OUTCOME = "two_year_recid"
CAPACITY_SHARE = 0.20
N_BOOTSTRAP = 1000
RANDOM_STATE = 0
COMMAND = (
    "PYTHONPATH=. python benchmarks/compas_fairness.py "
    "--data ../shared/data/compas/broward-two-years.csv "
    "--out benchmarks/results/compas_fairness.md"
)
REFERENCE = {"race": "Caucasian", ("race", "sex"): ("Caucasian", "Male")}

# ProPublica's published figures (all rows, decile_score > 4 = high), in percent.
PROPUBLICA = {
    ("African-American", "fpr"): 44.85,
    ("Caucasian", "fpr"): 23.45,
    ("African-American", "fnr"): 27.99,
    ("Caucasian", "fnr"): 47.72,
}


@dataclass(frozen=True)
class Score:
    scores: np.ndarray
    probabilities: np.ndarray | None = None


@dataclass(frozen=True)
class ScoreSpec:
    name: str
    description: str
    threshold: float
    selected_if: str
    compute: Callable[[pd.DataFrame], Score]


def compas_decile(df: pd.DataFrame) -> Score:
    """COMPAS's general recidivism decile (1-10), as recorded."""
    return Score(df["decile_score"].to_numpy(dtype=float))


def age_priors_logistic(df: pd.DataFrame) -> Score:
    """Logistic regression on age and priors_count; 5-fold cross-validated probabilities."""
    x = df[["age", "priors_count"]].to_numpy(dtype=float)
    y = df[OUTCOME].to_numpy()
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=RANDOM_STATE)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    p = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    return Score(p, probabilities=p)


# One line per score column. Scores must not read race or sex.
SCORES: tuple[ScoreSpec, ...] = (
    ScoreSpec(
        "COMPAS decile", "COMPAS general decile score; high = decile > 4", 4, "gt", compas_decile
    ),
    ScoreSpec(
        "Age + priors logistic (5-fold CV)",
        "logistic regression on age and priors_count, out-of-fold probabilities; "
        "high = probability >= 0.5",
        0.5,
        "ge",
        age_priors_logistic,
    ),
)


def load(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    if len(df) != 7214:
        print(f"warning: expected 7,214 rows, found {len(df):,}", file=sys.stderr)
    return df


def propublica_filter(df: pd.DataFrame) -> pd.DataFrame:
    keep = (
        df["days_b_screening_arrest"].between(-30, 30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
    )
    return df.loc[keep].reset_index(drop=True)


def reproduce_propublica(df: pd.DataFrame) -> tuple[str, float]:
    res = audit(
        df["decile_score"],
        df[OUTCOME],
        {"race": df["race"]},
        threshold=4,
        selected_if="gt",
        n_bootstrap=0,
    )
    lines = [
        "| race | metric | ProPublica | this audit | difference (pp) |",
        "| :--- | :--- | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for (race, metric), published in PROPUBLICA.items():
        measured = 100 * res.group("race", race).metric(metric)
        worst = max(worst, abs(measured - published))
        lines.append(
            f"| {race} | {metric.upper()} | {published:.2f}% | {measured:.2f}% | "
            f"{measured - published:+.3f} |"
        )
    return "\n".join(lines), worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="path to broward-two-years.csv (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="Markdown file to write (default: %(default)s)",
    )
    parser.add_argument("--n-bootstrap", type=int, default=N_BOOTSTRAP)
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"data file not found: {args.data} (see ../shared/data/README.md)")

    started = time.perf_counter()
    raw = load(args.data)
    table, worst = reproduce_propublica(raw)
    df = propublica_filter(raw)
    n = len(df)
    capacity = round(CAPACITY_SHARE * n)
    y = df[OUTCOME].to_numpy()
    groups = {"race": df["race"], "sex": df["sex"], "age_group": df["age_cat"]}

    out: list[str] = [
        "# COMPAS fairness audit (Broward County, ProPublica data)",
        "",
        "Generated by `benchmarks/compas_fairness.py`. Regenerate with:",
        "",
        "```",
        COMMAND,
        "```",
        "",
        (
            f"Outcome: `{OUTCOME}` (any new offence within two years). Bootstrap: "
            f"{args.n_bootstrap} resamples per group, random_state={RANDOM_STATE}."
        ),
        "",
        "## 1. Reproduction of ProPublica's table (all 7,214 rows, decile_score > 4 = high)",
        "",
        table,
        "",
        f"Largest absolute difference: {worst:.4f} percentage points.",
        "",
        f"## 2. Overview on ProPublica's filtered rows ({n:,} people)",
        "",
        (
            f"Capacity: the top {CAPACITY_SHARE:.0%} by score, k = {capacity:,} of {n:,} "
            "(ties broken by input order)."
        ),
        "",
        "| score | overall AUC | selected at threshold | threshold rule |",
        "| :--- | ---: | ---: | :--- |",
    ]
    results = []
    capacity_results = []
    for spec in SCORES:
        score = spec.compute(df)
        res = audit(
            score.scores,
            y,
            groups,
            threshold=spec.threshold,
            selected_if=spec.selected_if,
            capacity=capacity,
            probabilities=score.probabilities,
            intersections=[("race", "sex")],
            reference=REFERENCE,
            n_bootstrap=args.n_bootstrap,
            random_state=RANDOM_STATE,
        )
        # Error rates of selection at capacity: audit the 0/1 selection itself as a score.
        chosen = np.zeros(n)
        chosen[np.argsort(-score.scores, kind="stable")[:capacity]] = 1.0
        at_capacity = audit(
            chosen,
            y,
            {"race": df["race"]},
            threshold=1,
            reference={"race": "Caucasian"},
            n_bootstrap=args.n_bootstrap,
            random_state=RANDOM_STATE,
        )
        results.append((spec, res))
        capacity_results.append((spec, at_capacity))
        op = ">" if spec.selected_if == "gt" else ">="
        sel = np.mean(
            score.scores > spec.threshold
            if spec.selected_if == "gt"
            else score.scores >= spec.threshold
        )
        out.append(
            f"| {spec.name} | {roc_auc_score(y, score.scores):.3f} | {sel:.1%} | "
            f"score {op} {spec.threshold:g} |"
        )
    out.append("")

    # Side-by-side headline: error rates and selection by race for every score.
    out += [
        "## 3. Side by side: race (reference group Caucasian)",
        "",
        (
            "| score | group | n | base rate | selected (threshold) | FPR | FNR | PPV | "
            "selected (top 20%) | AUC |"
        ),
        "| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for spec, res in results:
        for g in res.groups:
            if g.characteristic != "race":
                continue
            if g.too_small:
                out.append(f"| {spec.name} | {g.group} | {g.n} | too small | | | | | | |")
                continue
            out.append(
                f"| {spec.name} | {g.group} | {g.n} | {g.base_rate:.1%} | {g.selection_rate:.1%} "
                f"| {g.fpr:.1%} | {g.fnr:.1%} | {g.ppv:.1%} | {g.selection_rate_capacity:.1%} "
                f"| {g.auc:.3f} |"
            )
    out.append("")
    out += [
        (
            "Differences for African-American vs Caucasian defendants "
            f"({results[0][1].confidence:.0%} bootstrap intervals):"
        ),
        "",
        "| score | metric | difference | interval | ratio |",
        "| :--- | :--- | ---: | ---: | ---: |",
    ]
    for spec, res in results:
        for metric in ("selection_rate", "selection_rate_capacity", "fpr", "fnr", "ppv", "auc"):
            c = res.comparison("race", "African-American", metric)
            scale, unit = (1, "") if metric == "auc" else (100, " pp")
            out.append(
                f"| {spec.name} | {metric} | {scale * c.difference:+.2f}{unit} | "
                f"[{scale * c.difference_low:+.2f}, {scale * c.difference_high:+.2f}] | "
                f"{c.ratio:.2f} |"
            )
    out.append("")

    out += [
        (
            f"Error rates when the top {CAPACITY_SHARE:.0%} (k = {capacity:,}) are selected, "
            "the like-for-like comparison (both scores select the same number of people):"
        ),
        "",
        "| score | group | selected | FPR | FNR | PPV |",
        "| :--- | :--- | ---: | ---: | ---: | ---: |",
    ]
    for spec, res in capacity_results:
        for g in res.groups:
            if g.too_small:
                continue
            out.append(
                f"| {spec.name} | {g.group} | {g.selection_rate:.1%} | {g.fpr:.1%} | "
                f"{g.fnr:.1%} | {g.ppv:.1%} |"
            )
    out += [
        "",
        "| score | metric (top 20%) | African-American minus Caucasian | interval |",
        "| :--- | :--- | ---: | ---: |",
    ]
    for spec, res in capacity_results:
        for metric in ("fpr", "fnr", "ppv"):
            c = res.comparison("race", "African-American", metric)
            out.append(
                f"| {spec.name} | {metric} | {100 * c.difference:+.2f} pp | "
                f"[{100 * c.difference_low:+.2f}, {100 * c.difference_high:+.2f}] |"
            )
    out.append("")

    for i, (spec, res) in enumerate(results, start=4):
        out += [
            f"## {i}. Full audit: {spec.name}",
            "",
            f"Score: {spec.description}.",
            "",
            res.to_markdown(title=None),
            "",
        ]

    proxy = proxy_check(
        {
            "age": df["age"],
            "priors_count": df["priors_count"],
            "juv_fel_count": df["juv_fel_count"],
            "juv_misd_count": df["juv_misd_count"],
            "juv_other_count": df["juv_other_count"],
            "c_charge_degree": df["c_charge_degree"],
            "sex": df["sex"],
        },
        {"race": df["race"]},
    )
    out += [
        f"## {len(results) + 4}. Proxy check of candidate inputs against race",
        "",
        proxy.to_markdown(title=None),
        "",
        f"_Total run time: {time.perf_counter() - started:.1f} s._",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {args.out} (ProPublica reproduction: max difference {worst:.4f} pp)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
