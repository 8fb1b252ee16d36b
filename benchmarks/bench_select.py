"""Cohort-selection benchmark: selection and the panel pack against scoring alone.

For each size (default 20k, 100k and 1M synthetic referrals, :func:`iomscore.synth.generate`,
about ten sanctions each), in one run:

1. **Library** (a fresh subprocess per size, so peak memory is per size): ``score_batch`` on
   the table, ``select_cohort`` on the table and those scores, the ``ranked()`` and
   ``summary()`` a report reads, and ``ScoreBatch.results()`` (what ``iomscore.score(list)``
   adds to ``score_batch``). Best of ``--repeat`` runs below 1M, one run at 1M.
2. **Command line** (subprocesses, on the two-table CSV written by :func:`iomscore.synth.write_csv`):
   ``iomscore score``, ``iomscore select --capacity 20`` and ``iomscore panel --capacity 20``
   (default pack), wall clock including start-up and reading the CSV. The panel is left out
   at a size where the previous size's panel time, scaled linearly, would pass
   ``--panel-limit`` seconds (default 600), and the table says so.

Reports the ratios select/score and panel/score against the goals (select within 3x of
score, panel within 5x of score at 100k) and writes ``benchmarks/results/bench_select.md``.

``--before-after`` instead prints one line per size (default 1k, 5k, 20k) of the figures
that showed the quadratic selection: library ``score_batch``, ``results()`` and
``select_cohort``, command-line ``iomscore score`` and ``iomscore select``, for whichever
iomscore is imported, so an older commit can be measured from a clone::

    python benchmarks/bench_select.py                      # 20k, 100k, 1M
    python benchmarks/bench_select.py --sizes 20000 100000 --repeat 3
    git clone -q . /tmp/sel-before && git -C /tmp/sel-before checkout -q e00eb91
    PYTHONPATH=/tmp/sel-before python benchmarks/bench_select.py --before-after
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

RESULTS = Path(__file__).resolve().parent / "results" / "bench_select.md"
SELECT_GOAL = 3.0
PANEL_GOAL = 5.0
GOAL_SIZE = 100_000
CAPACITY = 20
CLI = ["-c", "import sys; from iomscore.cli import main; sys.exit(main())"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _best(fn: object, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return best, out


def run_library(n: int, seed: int, workdir: Path, repeat: int) -> dict:
    """Library timings for one size; also writes the CSV the command-line timings read."""
    import iomscore
    from iomscore import synth
    from iomscore.cohort import select_cohort

    out: dict = {"n": n}
    table = synth.generate(n, seed)
    out["sanctions"] = int(table.batch.sanction_offsets[-1])
    ref, san, cus = synth.default_paths(workdir / f"referrals-{n}.csv")
    synth.write_csv(table, ref, san, cus)
    out["csv"] = str(ref)
    repeat = 1 if n >= 1_000_000 else repeat

    out["score_batch_s"], scores = _best(lambda: iomscore.score_batch(table), repeat)
    out["select_cohort_s"], sel = _best(lambda: select_cohort(table, scores, capacity=CAPACITY), repeat)

    def report() -> None:
        sel.ranked()
        sel.summary()

    out["ranked_summary_s"], _ = _best(report, 1)
    summary = sel.summary()
    out["selected"], out["candidates"] = summary["selected"], summary["candidates"]
    out["results_s"], _ = _best(lambda: iomscore.score_batch(table).results(), 1)
    out["peak_mb"] = _peak_mb()
    return out


def _cli(args: list[str], timeout: float | None = None) -> float | None:
    """Wall-clock seconds of one ``iomscore`` command (None if it ran past ``timeout``)."""
    t = time.perf_counter()
    try:
        subprocess.run([sys.executable, *CLI, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - t


def run_cli(lib: dict, workdir: Path) -> None:
    """``iomscore score`` and ``iomscore select`` on one size's CSV."""
    n, csv = lib["n"], lib["csv"]
    lib["score_s"] = _cli(["score", csv, "-o", str(workdir / f"scores-{n}.csv")])
    lib["select_s"] = _cli(["select", csv, "--capacity", str(CAPACITY), "--out", str(workdir / f"select-{n}.txt")])


def run_panel(lib: dict, workdir: Path, panel_limit: float, previous: tuple[int, float] | None) -> None:
    """``iomscore panel`` (default pack) on one size's CSV, unless projected past the limit."""
    n, csv = lib["n"], lib["csv"]
    projected = None if previous is None else previous[1] * n / previous[0]
    if projected is not None and projected > panel_limit:
        lib["panel_s"], lib["panel_note"] = None, f"panel skipped: {projected:.0f} s projected from {previous[0]:,} (over {panel_limit:.0f} s)"  # type: ignore[index]
        return
    t = _cli(["panel", csv, "--capacity", str(CAPACITY), "--out", str(workdir / f"panel-{n}.html")], timeout=panel_limit)
    lib["panel_s"] = t
    lib["panel_note"] = "" if t is not None else f"panel stopped after {panel_limit:.0f} s"


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.1f}x"


def write_markdown(rows: list[dict], command: str, path: Path = RESULTS) -> str:
    import numpy as np
    import pydantic

    lines = [
        "# bench_select: cohort selection and panel pack vs scoring",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, pydantic {pydantic.VERSION}. "
        "Other processes may have shared the machine; times are wall clock.",
        "",
        f"Synthetic referrals (`iomscore.synth.generate(n, seed)`), default scorer, default policy, "
        f"capacity {CAPACITY}. Goals: select within {SELECT_GOAL:g}x of score; panel (default pack) "
        f"within {PANEL_GOAL:g}x of score at {GOAL_SIZE:,}.",
        "",
        "## Library",
        "",
        "| referrals | sanctions | score_batch s | select_cohort s | select/score | ranked()+summary() s "
        "| results() s | candidates | peak MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['sanctions']:,} | {_fmt(r['score_batch_s'])} | {_fmt(r['select_cohort_s'])} "
            f"| {_ratio(r['select_cohort_s'], r['score_batch_s'])} | {_fmt(r['ranked_summary_s'])} "
            f"| {_fmt(r['results_s'])} | {r['candidates']:,} | {r['peak_mb']:.0f} |"
        )
    lines += [
        "",
        "## Command line (subprocess, CSV input, wall clock with start-up)",
        "",
        "| referrals | `iomscore score` s | `iomscore select` s | `iomscore panel` s | select/score | panel/score | note |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {_fmt(r['score_s'])} | {_fmt(r['select_s'])} | {_fmt(r['panel_s'])} "
            f"| {_ratio(r['select_s'], r['score_s'])} | {_ratio(r['panel_s'], r['score_s'])} | {r['panel_note']} |"
        )
    goal = [r for r in rows if r["n"] == GOAL_SIZE]
    if goal:
        g = goal[0]
        sel_ok = g["select_s"] is not None and g["score_s"] and g["select_s"] / g["score_s"] <= SELECT_GOAL
        lib_ok = g["select_cohort_s"] / g["score_batch_s"] <= SELECT_GOAL
        pan_ok = g["panel_s"] is not None and g["score_s"] and g["panel_s"] / g["score_s"] <= PANEL_GOAL
        lines += [
            "",
            f"At {GOAL_SIZE:,}: command-line select/score {_ratio(g['select_s'], g['score_s'])} "
            f"({'meets' if sel_ok else 'misses'} the {SELECT_GOAL:g}x goal); library select/score "
            f"{_ratio(g['select_cohort_s'], g['score_batch_s'])} ({'meets' if lib_ok else 'misses'} it); "
            f"panel/score {_ratio(g['panel_s'], g['score_s'])} ({'meets' if pan_ok else 'misses'} the "
            f"{PANEL_GOAL:g}x goal; the panel is changed by other work, so this is the panel as it stood "
            "when this ran).",
        ]
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def before_after(sizes: list[int], seed: int) -> None:
    """One line per size: library score_batch/results()/select_cohort, CLI score/select."""
    import iomscore
    from iomscore import synth
    from iomscore.cohort import select_cohort

    print(f"iomscore from {Path(iomscore.__file__).parent}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-select-ba-") as tmp:
        for n in sizes:
            table = synth.generate(n, seed)
            ref, san, cus = synth.default_paths(Path(tmp) / f"r{n}.csv")
            synth.write_csv(table, ref, san, cus)
            t = time.perf_counter()
            scores = iomscore.score_batch(table)
            t_score = time.perf_counter() - t
            t = time.perf_counter()
            scores.results()
            t_results = time.perf_counter() - t
            t = time.perf_counter()
            select_cohort(table, scores, capacity=CAPACITY)
            t_select = time.perf_counter() - t
            cli_score = _cli(["score", str(ref), "-o", str(Path(tmp) / f"s{n}.csv")])
            cli_select = _cli(["select", str(ref), "--capacity", str(CAPACITY), "--out", str(Path(tmp) / f"o{n}.txt")])
            print(f"n={n}: score_batch {t_score:.2f}s results() {t_results:.2f}s select_cohort {t_select:.2f}s | "
                  f"CLI score {_fmt(cli_score)}s select {_fmt(cli_select)}s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many library runs below 1M")
    ap.add_argument("--panel-limit", type=float, default=600.0, help="seconds; skip or stop the panel past this")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--before-after", action="store_true",
                    help="print the small-list figures (default sizes 1k, 5k, 20k) for the imported iomscore")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: library timings for one size
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(run_library(args.one, args.seed, args.workdir, args.repeat)))
        return
    if args.before_after:
        before_after(args.sizes if "--sizes" in sys.argv else [1_000, 5_000, 20_000], args.seed)
        return
    rows: list[dict] = []
    previous_panel: tuple[int, float] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-select-") as tmp:
        workdir = Path(tmp)
        for n in args.sizes:
            proc = subprocess.run(
                [sys.executable, __file__, "--one", str(n), "--seed", str(args.seed), "--repeat", str(args.repeat),
                 "--workdir", str(workdir)],
                check=True, capture_output=True, text=True,
            )
            lib = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{n:>9,} library: score_batch {lib['score_batch_s']:.2f}s select_cohort {lib['select_cohort_s']:.2f}s",
                  file=sys.stderr, flush=True)
            rows.append(lib)
        # Command-line runs after every library run; the panel (changed by other work) last.
        for lib in rows:
            run_cli(lib, workdir)
            print(f"{lib['n']:>9,} cli: score {_fmt(lib['score_s'])}s select {_fmt(lib['select_s'])}s",
                  file=sys.stderr, flush=True)
        for lib in rows:
            run_panel(lib, workdir, args.panel_limit, previous_panel)
            if lib["panel_s"] is not None:
                previous_panel = (lib["n"], lib["panel_s"])
            print(f"{lib['n']:>9,} cli: panel {_fmt(lib['panel_s'])}s {lib['panel_note']}", file=sys.stderr, flush=True)
    command = "python benchmarks/bench_select.py " + " ".join(sys.argv[1:])
    print(write_markdown(rows, command.strip(), args.out))


if __name__ == "__main__":
    main()
