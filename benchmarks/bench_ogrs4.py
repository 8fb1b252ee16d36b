"""OGRS4/G against OGRS3 on the same referrals: score_batch time as a ratio (goal: within 1.5x).

Builds n summary-only referrals as arrays (sex, dates, sanction counts, Home Office codes drawn
from the shipped mapping), then times ``iomscore.score_batch`` with ``ogrs3`` and ``ogrs4g``
(features derived inside, as the CLI does), best of three runs each. Writes
``benchmarks/results/bench_ogrs4.md``. Usage::

    python benchmarks/bench_ogrs4.py                 # 1M
    python benchmarks/bench_ogrs4.py --sizes 100000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import iomscore
from iomscore.schema._batch import ReferralBatch
from iomscore.schema._taxonomy import ho_code_arrays
from iomscore.schema._vocabulary import PATHWAYS

RESULTS = Path(__file__).resolve().parent / "results" / "bench_ogrs4.md"
GOAL_RATIO = 1.5


def make_batch(n: int, seed: int = 0) -> ReferralBatch:
    rng = np.random.default_rng(seed)
    assess = np.full(n, 20_364, dtype=np.int32)  # 2025-10-03
    birth = assess - rng.integers(18 * 365, 70 * 365, n).astype(np.int32)
    conv = assess - rng.integers(30, 6 * 365, n).astype(np.int32)
    first = birth + rng.integers(10 * 366, 18 * 365, n).astype(np.int32)
    first = np.minimum(first, conv)
    previous = rng.integers(0, 40, n)
    arrays = ho_code_arrays()
    valid = np.flatnonzero((arrays.category >= 0) & (arrays.group >= 0))
    codes = rng.choice(valid, n)
    groups = arrays.group[codes]
    empty = np.zeros(0, dtype=np.int32)
    return ReferralBatch.from_arrays(
        person_id=np.array([f"P{i}" for i in range(n)], dtype=object),
        assessment_day=assess, birth_day=birth, sex=rng.integers(0, 2, n).astype(np.int8),
        needs=np.full((n, len(PATHWAYS)), -1, dtype=np.int8),
        sanction_person=np.zeros(0, dtype=np.int64), offence_day=empty, sanction_day=empty,
        group=empty.astype(np.int16), disposal=empty.astype(np.int8), custody_days=empty,
        occasion=empty.astype(np.int64), current=empty.astype(bool),
        summary_previous=previous, summary_first_day=first, summary_conviction_day=conv,
        summary_group=groups, summary_violent=np.minimum(previous + 1, rng.integers(0, 5, n)),
        summary_followup_day=conv + rng.integers(0, 200, n).astype(np.int32), summary_ho_code=codes,
    )


def best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    lines = ["# OGRS4/G vs OGRS3: score_batch time", "", f"Goal: ogrs4g within {GOAL_RATIO}x of ogrs3.", "",
             "| n | ogrs3 s | ogrs4g s | ratio |", "| --- | --- | --- | --- |"]
    for n in args.sizes:
        batch = make_batch(n)
        t3 = best(lambda b=batch: iomscore.score_batch(b, "ogrs3"))
        t4 = best(lambda b=batch: iomscore.score_batch(b, "ogrs4g"))
        lines.append(f"| {n:,} | {t3:.2f} | {t4:.2f} | {t4 / t3:.2f} |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
