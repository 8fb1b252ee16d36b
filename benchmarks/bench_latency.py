"""Latency benchmark: one referral at a time, as a web service calls iomscore.

Reports, for whichever iomscore is imported:

1. **Single-referral latency**: p50 and p99 of ``iomscore.score(referral, scorer=...)`` over
   ``--calls`` calls after a warm-up, for ``iom-priority`` and ``ogrs3``, with the scorer
   passed as an object (``get_scorer`` once) and by name; also ``score_json`` by name.
2. **Import time**: wall clock of ``python -c "import iomscore"`` in a fresh subprocess (the
   median of ``--imports`` runs), and the modules it loads that a score does not need
   (sklearn, pandas, pyarrow, iomscore.learn, iomscore.panel, iomscore.fairness).
3. **score(list)**: cost per referral of ``iomscore.score(list_of_referrals)`` at 1k, 10k and
   100k referrals (synthetic, :func:`iomscore.synth.generate`), and the ratio of the largest
   to the smallest: linear in the list means a ratio near 1.

Goals (issue 13): p99 at most 0.5 ms for iom-priority and OGRS3, import at most 0.3 s,
per-referral cost of score(list) flat. The machine is shared, so take several runs and
report medians (``--runs``); each run is a fresh subprocess. Results go to
``benchmarks/results/bench_latency.md`` with ``--write``::

    python benchmarks/bench_latency.py --runs 3 --write
    python benchmarks/bench_latency.py --runs 1 --sizes 1000 10000   # quicker
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_latency.md"
HEAVY = ("sklearn", "pandas", "pyarrow", "iomscore.learn", "iomscore.panel", "iomscore.fairness")
SCORERS = ("iom-priority", "ogrs3")

_REFERRAL = {
    "person_id": "P1", "assessment_date": "2025-06-01", "date_of_birth": "1995-02-01", "sex": "male",
    "sanctions": [
        {"offence_date": "2023-04-01", "sanction_date": "2023-05-01", "offence_group": "shop_theft",
         "disposal": "fine"},
        {"offence_date": "2025-02-01", "sanction_date": "2025-03-01", "offence_group": "burglary_domestic",
         "disposal": "community_order"},
    ],
}


def _percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return times[len(times) // 2] * 1e3, times[min(len(times) - 1, int(len(times) * 0.99))] * 1e3


def _referrals(n: int) -> list:
    """n synthetic referrals as :class:`iomscore.Referral` objects (via JSON Lines)."""
    import iomscore
    from iomscore import synth

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.jsonl"
        synth.write_jsonl(synth.generate(n, seed=1), path)
        with path.open(encoding="utf-8") as f:
            return [iomscore.Referral.model_validate_json(line) for line in f]


def _one_run(calls: int, sizes: list[int]) -> dict[str, float]:
    """In this process: the latency figures and score(list) costs (ms)."""
    import iomscore

    out: dict[str, float] = {}
    referral = iomscore.Referral.model_validate(_REFERRAL)
    text = json.dumps(_REFERRAL)
    for name in SCORERS:
        obj = iomscore.get_scorer(name)
        for label, scorer, fn in (
            ("object", obj, lambda s: iomscore.score(referral, s)),
            ("name", name, lambda s: iomscore.score(referral, s)),
            ("score_json", name, lambda s: iomscore.score_json(text, s)),
        ):
            for _ in range(max(50, calls // 10)):
                fn(scorer)
            times, cpu = [], []
            for _ in range(calls):
                c = time.thread_time()
                t = time.perf_counter()
                fn(scorer)
                times.append(time.perf_counter() - t)
                cpu.append(time.thread_time() - c)
            p50, p99 = _percentiles(times)
            out[f"{name} {label} p50"] = p50
            out[f"{name} {label} p99"] = p99
            out[f"{name} {label} cpu p50"], out[f"{name} {label} cpu p99"] = _percentiles(cpu)
    scorer = iomscore.get_scorer("iom-priority")
    for n in sizes:
        referrals = _referrals(n)
        # Building the list leaves the collector a full collection owed over every referral
        # just made; pay it here, or the first large call after it (this one) is charged for it.
        gc.collect()
        iomscore.score(referrals[: min(n, 200)], scorer)
        t = time.perf_counter()
        iomscore.score(referrals, scorer)
        out[f"score(list) {n}"] = (time.perf_counter() - t) / n * 1e3
    return out


def _import_time(env: dict[str, str] | None = None) -> tuple[float, list[str]]:
    code = ("import sys, time; t = time.perf_counter(); import iomscore; t = time.perf_counter() - t; "
            f"print(t); print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    lines = res.stdout.splitlines()
    return float(lines[0]), [m for m in lines[1].split(",") if m]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh subprocesses; medians are reported")
    ap.add_argument("--calls", type=int, default=2000, help="timed calls per scorer and form")
    ap.add_argument("--imports", type=int, default=7, help="import-time subprocesses")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_one_run(args.calls, args.sizes)))
        return 0
    runs = []
    for _ in range(args.runs):
        res = subprocess.run([sys.executable, __file__, "--one", "--calls", str(args.calls), "--sizes",
                              *map(str, args.sizes)], capture_output=True, text=True, check=True)
        runs.append(json.loads(res.stdout))
    load = os.getloadavg()
    imports = [_import_time() for _ in range(args.imports)]
    import_s = statistics.median(t for t, _ in imports)
    heavy = imports[-1][1]
    # The same import with a bytecode cache, as an installed package has (a checkout run with
    # PYTHONDONTWRITEBYTECODE=1, as here, compiles every iomscore module on every import).
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        _import_time(env)  # writes the cache
        cached_s = statistics.median(_import_time(env)[0] for _ in range(args.imports))
    cold = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    spread = {k: (min(r[k] for r in runs), max(r[k] for r in runs)) for k in runs[0]}
    import iomscore

    lines = [
        "# Single-referral latency, import time, score(list)",
        "",
        f"iomscore {iomscore.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores "
        f"(shared with other work: medians of {args.runs} runs, range in brackets; load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} when the runs ended). "
        f"Command: `python benchmarks/bench_latency.py --runs {args.runs} --calls {args.calls} --imports {args.imports} "
        f"--sizes {' '.join(map(str, args.sizes))}`. Wall clock is the goal; CPU time (`time.thread_time`) "
        "of the same calls shows what the machine's other work adds.",
        "",
        "| Scorer | Passed as | p50 ms | p99 ms | p99 goal 0.5 ms | CPU p50 ms | CPU p99 ms |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for name in SCORERS:
        for label in ("object", "name", "score_json"):
            p50, p99 = med[f"{name} {label} p50"], med[f"{name} {label} p99"]
            lo, hi = spread[f"{name} {label} p99"]
            goal = "" if label == "score_json" else ("met" if p99 <= 0.5 else "not met")
            c50, c99 = med[f"{name} {label} cpu p50"], med[f"{name} {label} cpu p99"]
            lines.append(f"| {name} | {label} | {p50:.3f} | {p99:.3f} [{lo:.3f}-{hi:.3f}] | {goal} | {c50:.3f} | {c99:.3f} |")
    lines += [
        "",
        f"`import iomscore`: {import_s:.3f} s (median of {args.imports} fresh subprocesses"
        f"{', compiling every module: PYTHONDONTWRITEBYTECODE is set' if cold else ''}; goal 0.3 s: "
        f"{'met' if import_s <= 0.3 else 'not met'}); with a bytecode cache, as an installed package: "
        f"{cached_s:.3f} s ({'met' if cached_s <= 0.3 else 'not met'}). Heavy modules loaded by the import: "
        f"{', '.join(heavy) or 'none'}.",
        "",
        "| score(list) of | ms per referral |",
        "|---:|---:|",
    ]
    for n in args.sizes:
        lines.append(f"| {n:,} | {med[f'score(list) {n}']:.4f} |")
    first, last = args.sizes[0], args.sizes[-1]
    ratio = med[f"score(list) {last}"] / med[f"score(list) {first}"]
    lines += ["", f"Per-referral cost at {last:,} over that at {first:,}: {ratio:.2f} (linear: near 1)."]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
