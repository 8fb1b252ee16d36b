"""Batch-path benchmark: synthetic CSV -> table -> features -> scores -> reasons -> CSV.

For each size (default 10k, 100k and 1M referrals, about ten sanctions each) a fresh
subprocess (so peak memory is per size):

1. generates a synthetic referral list (:mod:`iomscore.synth`) and writes the two-table CSV
   (not counted);
2. times, in one run: loading the CSV into a ``ReferralTable`` (``iomscore.io.read_csv``),
   deriving every feature the built-in scorers read, scoring with each built-in scorer on the
   precomputed features, the top-3 reason text, and writing the scored CSV;
3. times the end-to-end batch path for each scorer as the CLI runs it (load, ``score_batch``
   with its own feature derivation, reasons and CSV output);
4. times scikit-learn's ``LogisticRegression.predict_proba`` on the same number of rows of
   precomputed features (the floor for scoring) and reports our scoring time as a multiple.

Writes ``benchmarks/results/bench_batch.md``. Usage::

    python benchmarks/bench_batch.py                  # 10k, 100k, 1M
    python benchmarks/bench_batch.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_batch.md"
GOAL_SECONDS = 5.0
SCORERS = ("iom-priority", "ogrs3")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(n: int, seed: int, workdir: Path) -> dict:
    from sklearn.linear_model import LogisticRegression

    import iomscore
    from iomscore import synth
    from iomscore.features._engine import FeatureFrame
    from iomscore.io import read_csv, score_read, top_reasons, write_scores

    out: dict = {"n": n}
    t = time.perf_counter()
    table = synth.generate(n, seed)
    out["generate_s"] = time.perf_counter() - t
    out["sanctions"] = int(table.batch.sanction_offsets[-1])
    ref, san, cus = synth.default_paths(workdir / f"ref{n}.csv")
    t = time.perf_counter()
    synth.write_csv(table, ref, san, cus)
    out["write_input_s"] = time.perf_counter() - t
    out["input_mb"] = sum(p.stat().st_size for p in (ref, san, cus)) / 1e6
    del table

    stages: dict[str, float] = {}
    t = time.perf_counter()
    result = read_csv(ref, san, cus)
    stages["load CSV -> table"] = time.perf_counter() - t
    assert result.counts.valid == n, result.counts
    batch = result.table.batch

    scorers = {name: iomscore.get_scorer(name) for name in SCORERS}
    needed = sorted({f for s in scorers.values() for f in s.features})
    frame = FeatureFrame(batch)
    t = time.perf_counter()
    for f in needed:
        frame[f]
    stages["features (all read by built-ins)"] = time.perf_counter() - t
    scores = {}
    for name, s in scorers.items():
        t = time.perf_counter()
        scores[name] = s.score_features(frame.restricted(s.features)).with_person_id(batch.person_id)
        stages[f"score {name} (precomputed features)"] = time.perf_counter() - t
    for name in SCORERS:
        t = time.perf_counter()
        top_reasons(scores[name], 3)
        stages[f"explain {name} (top-3 reason text)"] = time.perf_counter() - t
    for name in SCORERS:
        t = time.perf_counter()
        write_scores(workdir / f"out-{name}-{n}.csv", scores[name])
        stages[f"write CSV {name} (incl. reasons)"] = time.perf_counter() - t
    out["stages"] = stages

    # End-to-end as the CLI runs it, per scorer (fresh load each time).
    e2e = {}
    for name in SCORERS:
        del result
        t0 = time.perf_counter()
        result = read_csv(ref, san, cus)
        t1 = time.perf_counter()
        run = score_read(result, name)
        t2 = time.perf_counter()
        write_scores(workdir / f"e2e-{name}-{n}.csv", run.scores)
        t3 = time.perf_counter()
        e2e[name] = {"load": t1 - t0, "features+score": t2 - t1, "reasons+write": t3 - t2, "total": t3 - t0}
    out["e2e"] = e2e

    # The floor: LogisticRegression.predict_proba on n rows of precomputed features.
    s = scorers["iom-priority"]
    X = np.column_stack([np.nan_to_num(np.asarray(frame[f], dtype=np.float64)) for f in s.features])
    y = (np.asarray(scores["iom-priority"].score) > np.median(scores["iom-priority"].score)).astype(int)
    fit_rows = slice(0, min(n, 20000))
    lr = LogisticRegression(max_iter=200).fit(X[fit_rows], y[fit_rows])
    t = time.perf_counter()
    lr.predict_proba(X)
    out["lr_predict_proba_s"] = time.perf_counter() - t
    out["lr_features"] = X.shape[1]
    out["peak_mb"] = _peak_mb()
    return out


def _fmt(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def report(results: list[dict]) -> str:
    lines = [
        "# Batch benchmark (`benchmarks/bench_batch.py`)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}" + _arrow_version() + ".",
        (f"Synthetic referral lists from `iomscore.synth` (seed 0), about ten sanctions per referral; "
        f"CSV parsed with {'pyarrow' if _arrow_version() else 'the stdlib csv module'}."),
        "Times in seconds; each size runs in its own process (peak RSS per size).",
        "",
    ]
    sizes = [r["n"] for r in results]
    head = "| Stage | " + " | ".join(f"{n:,} ({r['sanctions']:,} sanctions)" for n, r in zip(sizes, results)) + " |"
    lines += [head, "|---|" + "---:|" * len(results)]
    for stage in results[0]["stages"]:
        lines.append(f"| {stage} | " + " | ".join(_fmt(r["stages"][stage]) for r in results) + " |")
    for name in SCORERS:
        lines.append(f"| **end to end, {name}** (CSV -> scored, explained CSV) | "
                     + " | ".join(f"**{_fmt(r['e2e'][name]['total'])}**" for r in results) + " |")
        for part in ("load", "features+score", "reasons+write"):
            lines.append(f"| &nbsp;&nbsp;{part} | " + " | ".join(_fmt(r["e2e"][name][part]) for r in results) + " |")
    lines.append("| referrals/s end to end (iom-priority) | "
                 + " | ".join(f"{r['n'] / r['e2e']['iom-priority']['total']:,.0f}" for r in results) + " |")
    lines.append("| LogisticRegression.predict_proba (floor) | "
                 + " | ".join(_fmt(r["lr_predict_proba_s"]) for r in results) + " |")
    for name in SCORERS:
        key = f"score {name} (precomputed features)"
        lines.append(f"| {name} scoring / predict_proba | "
                     + " | ".join(f"{r['stages'][key] / r['lr_predict_proba_s']:.1f}x" for r in results) + " |")
    lines.append("| peak RSS (MB) | " + " | ".join(f"{r['peak_mb']:,.0f}" for r in results) + " |")
    lines.append("| input CSV size (MB) | " + " | ".join(f"{r['input_mb']:,.0f}" for r in results) + " |")
    lines.append("| (not counted) generate + write input CSV | "
                 + " | ".join(_fmt(r["generate_s"] + r["write_input_s"]) for r in results) + " |")
    big = max(results, key=lambda r: r["n"])
    e = big["e2e"]["iom-priority"]
    dominant = max(("load", "features+score", "reasons+write"), key=lambda k: e[k])
    lines += [
        "",
        (f"Goal: 1M referrals with 10M sanctions, CSV to scored and explained CSV, in at most {GOAL_SECONDS:.0f} s. "
        f"Largest size run: {big['n']:,} referrals / {big['sanctions']:,} sanctions in {e['total']:.1f} s "
        f"(iom-priority; {'meets' if e['total'] <= GOAL_SECONDS else 'misses'} the goal); "
        f"the largest part is {dominant} ({e[dominant]:.1f} s)."),
    ]
    return "\n".join(lines) + "\n"


def _arrow_version() -> str:
    try:
        import pyarrow

        return f", pyarrow {pyarrow.__version__}"
    except ImportError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.seed, Path(args.workdir))))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="iomscore-bench-") as tmp:
        for n in args.sizes:
            proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed),
                                   "--workdir", tmp], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                sys.stderr.write(f"size {n} failed (memory?):\n{proc.stderr[-2000:]}\n")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(r)
            sys.stderr.write(f"{n:,}: end to end {r['e2e']['iom-priority']['total']:.2f} s, "
                             f"peak {r['peak_mb']:,.0f} MB\n")
            for f in Path(tmp).iterdir():
                f.unlink()
    if not results:
        return 1
    text = report(results)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
