"""Learned scorers on ProPublica's COMPAS data, side by side, with fixed 5-fold stratified CV.

Writes ``benchmarks/results/compas_learned.md`` and (with ``--write-model``) the shipped example
model ``models/examples/compas-points-2y.json``.

Run from the project root::

    PYTHONPATH=. .venv/bin/python benchmarks/compas_learned.py --write-model
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from iomscore.evaluation import (
    COMPAS_FILTER,
    ColumnScore,
    cross_validate,
    expected_calibration_error,
    load_compas,
    to_markdown,
)
from iomscore.learn import PointsClassifier, Scorecard

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "compas" / "broward-two-years.csv"
OUT = ROOT / "benchmarks" / "results" / "compas_learned.md"
MODEL = ROOT / "models" / "examples" / "compas-points-2y.json"
NUMERIC = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
NO_SEX = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count", "c_charge_degree"]
MONOTONE = {"age": "decreasing", "priors_count": "increasing"}

logger = logging.getLogger("compas_learned")

#: The shipped example model and the headline row: at most 8 point items where an item is a
#: feature (one factor row of the table, an integer step function), at most 16 steps in all.
HEADLINE = {"max_items": 8, "item": "feature", "max_steps": 16, "monotone": MONOTONE}


class RecordedPoints(PointsClassifier):
    """PointsClassifier that also records, per fit, CPU time and the sparsity counts.

    ``cross_validate`` times fits by wall clock only; on a shared machine CPU time
    (``time.process_time``) is the steadier figure. The counts are read after each fold's fit."""

    log: dict[str, list[dict[str, float]]] = {}

    def __init__(self, *, tag: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.tag = tag

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return sorted(PointsClassifier._get_param_names() + ["tag"])

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        t0 = time.process_time()
        super().fit(X, y, sample_weight)
        RecordedPoints.log.setdefault(self.tag, []).append(
            {
                "cpu": time.process_time() - t0,
                "features": self.n_features_used_,
                "steps": self.n_steps_,
                "bins": self.n_nonzero_bins_,
            }
        )
        return self


def points(tag: str, **kwargs: object) -> RecordedPoints:
    return RecordedPoints(tag=tag, **kwargs)  # type: ignore[arg-type]


def logistic(categorical: list[str]) -> object:
    numeric = [c for c in NUMERIC]
    pre = ColumnTransformer(
        [("num", StandardScaler(), numeric), ("cat", OneHotEncoder(drop="first"), categorical)]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=1000))


def boosting() -> object:
    pre = ColumnTransformer(
        [("num", "passthrough", NUMERIC), ("cat", OrdinalEncoder(), ["sex", "c_charge_degree"])]
    )
    # monotone: age down, priors up; the categorical codes are left unconstrained
    gb = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
        monotonic_cst=[-1, 1, 0, 0, 0, 0, 0], categorical_features=[5, 6], random_state=0,
    )
    return make_pipeline(pre, gb)


FEATURE_ITEMS = "PointsClassifier, 8 feature items (<= 16 steps)"
DEFAULT_ITEMS = "PointsClassifier() readable default"
#: The issue's bar for the readable default (two-year outcome, no sex).
DEFAULT_BAR = {"auc": 0.733, "brier": 0.208, "ece_pooled": 0.02, "factors": 8, "cpu_seconds_per_fit": 1.0}
CONDITION_ITEMS = "PointsClassifier, 8 condition items"


def models(all_features: list[str], outcome: str = "") -> dict[str, object]:
    table: dict[str, object] = {}
    for name, kw in (
        (FEATURE_ITEMS, HEADLINE),
        (CONDITION_ITEMS, {"max_items": 8, "item": "condition", "monotone": MONOTONE}),
        ("PointsClassifier, 12 condition items", {"max_items": 12, "item": "condition", "monotone": MONOTONE}),
    ):
        table[name] = (points(f"{outcome}|{name}", **kw), all_features)
        table[name + ", no sex"] = (points(f"{outcome}|{name}, no sex", **kw), NO_SEX)
    return table | {
        "Scorecard (PDO 20)": (Scorecard(pdo=20), all_features),
        "Scorecard (PDO 20), no sex": (Scorecard(pdo=20), NO_SEX),
        "Logistic regression": (logistic(["sex", "c_charge_degree"]), all_features),
        "Gradient boosting (HGB, monotone age/priors)": (boosting(), all_features),
        "COMPAS decile score (logistic calibration)": (ColumnScore("decile_score"), ["decile_score"]),
    }


def readable_default(X: object, y: object) -> tuple[list[str], bool]:
    """The default ``PointsClassifier(monotone=...)`` (no sex) against the issue's bar.

    Returns Markdown lines and whether every figure meets the bar. Fit time is CPU time per fit
    over the five folds, reported as a ratio of the 1 s goal (never asserted in tests)."""
    with threadpool_limits(1):
        (res,) = cross_validate({DEFAULT_ITEMS: (points(DEFAULT_ITEMS, monotone=MONOTONE), NO_SEX)}, X, y,
                                n_splits=5, random_state=0)
    log = RecordedPoints.log[DEFAULT_ITEMS][-5:]
    cpu = float(np.mean([f["cpu"] for f in log]))
    factors = max(int(f["features"]) for f in log)
    steps = max(int(f["steps"]) for f in log)
    checks = [
        ("AUC", f"{res.auc:.4f}", f">= {DEFAULT_BAR['auc']}", res.auc >= DEFAULT_BAR["auc"]),
        ("Brier", f"{res.brier:.4f}", f"<= {DEFAULT_BAR['brier']}", res.brier <= DEFAULT_BAR["brier"]),
        ("ECE pooled", f"{res.ece_pooled:.4f}", f"<= {DEFAULT_BAR['ece_pooled']}",
         res.ece_pooled <= DEFAULT_BAR["ece_pooled"]),
        ("Factors (largest over folds)", str(factors), f"<= {DEFAULT_BAR['factors']}", factors <= DEFAULT_BAR["factors"]),
        ("Steps (largest over folds)", str(steps), "<= 16", steps <= 16),
        ("CPU s per fit / 1 s goal", f"{cpu:.3f} ({cpu / DEFAULT_BAR['cpu_seconds_per_fit']:.2f}x)", "< 1x",
         cpu < DEFAULT_BAR["cpu_seconds_per_fit"]),
    ]
    lines = ["| Figure | Measured | Bar | Met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {'yes' if ok else 'NO'} |" for a, b, c, ok in checks]
    return lines, all(ok for *_, ok in checks)


def relabel_sizes(outcome: str, results: list) -> None:  # type: ignore[type-arg]
    """Size of the points models as features / steps / non-zero bins (largest over the folds)."""
    for r in results:
        if not r.name.startswith("PointsClassifier"):
            continue
        log = RecordedPoints.log[f"{outcome}|{r.name}"][-5:]
        r.size = max(int(f["features"]) for f in log)
        r.size_unit = (
            f"features, {max(int(f['steps']) for f in log)} steps, "
            f"{max(int(f['bins']) for f in log)} non-zero bins; CPU {np.mean([f['cpu'] for f in log]):.2f} s"
        )


def ece_noise_floor(X: object, y: object, draws: int = 200) -> tuple[float, float]:
    """ECE of a *perfectly calibrated* model on folds of this size, per fold and pooled.

    Outcomes are redrawn from the headline model's own probabilities (fitted on all rows), so
    every difference between predicted and observed rates is sampling noise."""
    clf = PointsClassifier(**HEADLINE).fit(X[NO_SEX], y)  # type: ignore[index]
    p = clf.predict_proba(X[NO_SEX])[:, 1]  # type: ignore[index]
    rng = np.random.default_rng(0)
    fold = rng.permutation(len(p)) % 5
    per_fold, pooled = [], []
    for _ in range(draws):
        yy = (rng.random(len(p)) < p).astype(int)
        per_fold.append(np.mean([expected_calibration_error(yy[fold == k], p[fold == k]) for k in range(5)]))
        pooled.append(expected_calibration_error(yy, p))
    return float(np.mean(per_fold)), float(np.mean(pooled))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--write-model", action="store_true", help=f"also write {MODEL.relative_to(ROOT)}")
    parser.add_argument("--default-only", action="store_true",
                        help="only measure the readable default against the issue's bar (prints, writes nothing)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = load_compas(args.data)
    default_lines, default_ok = readable_default(data.X, data.y)
    print("\n".join(default_lines))
    if args.default_only:
        raise SystemExit(0 if default_ok else 1)
    features = list(data.X.columns)
    X = data.X.assign(decile_score=data.decile_score)
    started = time.perf_counter()
    o = data.outcomes
    def time_models(outcome: str) -> dict[str, object]:
        return {k: v for k, v in models(features, outcome).items() if "12 condition" not in k}

    with threadpool_limits(1):  # single-threaded: comparable, reproducible timings on a shared machine
        main_results = cross_validate(models(features, "2y"), X, data.y, n_splits=5, random_state=0)
        y1 = cross_validate(time_models("1y"), X, o["y_1y"], at_risk=o["at_risk_1y"])
        y2 = cross_validate(time_models("y2"), X, o["y_year2_given_none_year1"], at_risk=o["at_risk_year2"])
        floor = ece_noise_floor(X, data.y)
    elapsed = time.perf_counter() - started
    for outcome, results in (("2y", main_results), ("1y", y1), ("y2", y2)):
        relabel_sizes(outcome, results)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    lines = [
        "# Learned scorers on COMPAS (Broward County, ProPublica)",
        "",
        f"Generated by `PYTHONPATH=. .venv/bin/python benchmarks/compas_learned.py --write-model` on "
        f"{dt.date.today().isoformat()} (Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"1-minute load average {load:.1f} at the end); total {elapsed:.0f} s. Wall-clock times scale "
        "with the machine's load; the Size column of the points models also gives the mean CPU time "
        "(`time.process_time`) of a fit, the steadier figure on a shared machine.",
        "",
        f"Data: `../shared/data/compas/broward-two-years.csv`, filter {COMPAS_FILTER} "
        f"({len(data.y)} rows). Features: {', '.join(features)}; race is never an input. "
        "Rows marked *no sex* also leave out sex (the data README asks that protected "
        "characteristics are not scoring inputs). Protocol: 5-fold stratified CV, shuffled with "
        "random_state=0, the same folds for every model; metrics are means over folds; fit and "
        "predict times are per fold (about 4,900 training rows), single-threaded (BLAS/OpenMP limited "
        "to 1 thread). ECE: 10 equal-width bins, as the mean over test folds and on the pooled "
        "out-of-fold predictions. "
        "Monotone constraints for the points models: age decreasing, priors increasing.",
        "",
        "**Sparsity, two readings.** *Condition items* (`item=\"condition\"`) count "
        "yes/no conditions with non-zero points (steps); *feature items* (`item=\"feature\"`, the "
        "default) count features with non-zero points, i.e. factor rows of the exported table, each an "
        "integer step function, with `max_steps` bounding the steps of the whole table. The Size "
        "column gives, for the points models, the largest number over the five folds of features "
        "used, steps, and bins with non-zero points in the exported table (a numeric factor's "
        "smallest points and a categorical factor's most common category are 0, the difference in the "
        "base points; for a monotone feature the non-zero bins equal its steps). The 0.730 target is reached only under the feature reading: with at most 8 "
        "non-zero bins the table reaches about 0.722.",
        "",
        f"**ECE noise floor.** A perfectly calibrated model (outcomes redrawn from the shipped "
        f"model's own probabilities, 200 draws) scores ECE {floor[0]:.3f} per fold of ~1,234 rows "
        f"and {floor[1]:.3f} on the 6,172 pooled rows; every model below has per-fold ECE "
        "around 0.03-0.04, logistic regression included, so per-fold ECE cannot separate them; the "
        "pooled figure is the one to compare with a 0.02 target.",
        "",
        "## The readable default, `PointsClassifier(monotone=...)`, against the issue's bar (no sex)",
        "",
        *default_lines,
        "",
        "## Outcome: `two_year_recid` (any new offence within 2 years)",
        "",
        to_markdown(main_results),
        "Reference figures measured by the issue author with the same protocol: COMPAS decile AUC "
        "0.710; FasterRisk (5 items) AUC 0.720, Brier 0.211; logistic regression AUC 0.729, Brier "
        "0.210; optbinning scorecard AUC 0.733; EBM AUC 0.738, Brier 0.206.",
        "",
        "## Time-dependent outcomes (from `r_offense_date` - `compas_screening_date`)",
        "",
        f"### New offence within 1 year (all {int(o['at_risk_1y'].sum())} rows at risk)",
        "",
        to_markdown(y1),
        f"### New offence in year 2, given none in year 1 (fit and evaluated on the "
        f"{int(o['at_risk_year2'].sum())} people with no offence in year 1)",
        "",
        to_markdown(y2),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    logger.info("wrote %s", args.out)

    if args.write_model:
        by_name = {r.name: r for r in main_results}
        cv = by_name[FEATURE_ITEMS + ", no sex"]
        clf = PointsClassifier(**HEADLINE).fit(data.X[NO_SEX], data.y)
        spec = clf.save_spec(
            MODEL,
            name="compas-points-2y",
            version="2.0.0",  # 2.0.0: feature-level items (4 step functions, 16 steps); 1.0.0: 8 conditions
            title="Learned points: any new offence within 2 years (COMPAS Broward data, example)",
            description=(
                "An example of a learned model shipped as data: a sparse integer points table "
                "learned by iomscore.learn.PointsClassifier from ProPublica's Broward County "
                "COMPAS data (Florida, 2013-2014). It is a worked example, not a tool validated "
                "for England and Wales."
            ),
            outcome="any new offence within 2 years (two_year_recid)",
            probability_key="2y",
            provenance={
                "data": "ProPublica compas-analysis, compas-scores-two-years.csv (as ../shared/data/compas/broward-two-years.csv)",
                "filter": COMPAS_FILTER,
                "rows": len(data.y),
                "outcome_column": "two_year_recid",
                "features": NO_SEX,
                "excluded_inputs": ["race", "sex"],
                "cross_validation": {
                    "protocol": "5-fold stratified, shuffled, random_state=0",
                    "auc": round(cv.auc, 4),
                    "brier": round(cv.brier, 4),
                    "log_loss": round(cv.log_loss, 4),
                    "ece_10_bins_per_fold": round(cv.ece, 4),
                    "ece_10_bins_pooled": round(cv.ece_pooled, 4),
                    "fit_seconds": round(cv.fit_seconds, 3),
                },
                "fitted_on": "all filtered rows",
                "date": dt.date.today().isoformat(),
                "software": {"iomscore_learn": "PointsClassifier", "scikit-learn": sklearn.__version__, "numpy": np.__version__},
                "reproduce": "PYTHONPATH=. .venv/bin/python benchmarks/compas_learned.py --write-model",
            },
        )
        logger.info("wrote %s (sha256 %s)", MODEL, spec.sha256)


if __name__ == "__main__":
    main()
