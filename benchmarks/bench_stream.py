"""Streaming batch benchmark: ``iomscore score`` end to end against its I/O floor, in one run.

For each size (100k and 1M referrals; 10M with ``--ten-million``) it makes the synthetic list
(``iomscore synth``, seed 0) as CSV and as Parquet, then runs, each in its own process tree
with its peak memory sampled (the sum of the RSS of the process and its children):

- the I/O floor: pyarrow reading the three input tables and writing one output file as large
  as iomscore's (the same parser and writer, nothing else);
- ``iomscore score`` (one process; ``--workers 2``; ``--engine dask --workers 2``);
- the whole-list path of before (``--chunk-size`` larger than the list: read whole, one core;
  up to 1M, as its memory grows with the list);
- the same list with its sanction rows in reverse order, so not sorted by person_id: the
  spilling path (sorted inputs are read in chunks straight from the files), from CSV and
  from Parquet, at every size;
- the polars peer (``benchmarks/peer_polars.py``: a lesser job, lazy scan, streaming sink);

and Parquet -> Parquet against its own floor. It checks that every driver wrote the same bytes.
Ratios are of times measured side by side in this run. Writes a Markdown table to stdout
(and to ``--out``).

Usage: ``python benchmarks/bench_stream.py [--sizes 100000 1000000] [--ten-million] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
FLOOR = r"""
import sys, pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
fmt, out, like, *inputs = sys.argv[1:]
if fmt == "csv":
    for p in inputs:
        pacsv.read_csv(p, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    t = pacsv.read_csv(like, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    pacsv.write_csv(t, out)
else:
    for p in inputs:
        pq.read_table(p)
    pq.write_table(pq.read_table(like), out)
"""


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.Error:
            pass
    return total


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (bytes, summed over the process tree, sampled every 50 ms)."""
    peak = [0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - t0
    done.set()
    t.join()
    if proc.returncode not in (0,):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()[-2000:]}")
    return elapsed, peak[0]


def best_of(repeat: int, cmd: list[str]) -> tuple[float, int]:
    """The fastest of ``repeat`` runs of ``cmd`` and the largest peak RSS among them (on a shared
    machine the fastest run is the one least slowed by others; memory is what it is)."""
    runs = [run(cmd) for _ in range(max(repeat, 1))]
    return min(t for t, _ in runs), max(r for _, r in runs)


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: Largest list ``iomscore synth`` makes in one go here (it builds the list in memory: 10M
#: referrals passed 18 GB); larger lists are copies of one this size under other ids.
SYNTH_MAX = 1_000_000


def _replicate(base: list[Path], out: list[Path], copies: int) -> None:
    """``copies`` copies of the synthetic CSV tables ``base``, each copy's person_ids prefixed
    with its own letter (A, B, ...), so the tables stay sorted by person_id and every person
    is distinct (person_id is the first column of every synth table)."""
    for src, dst in zip(base, out):
        with open(dst, "wb") as w:
            for c in range(copies):
                prefix = chr(ord("A") + c).encode()
                with open(src, "rb") as f:
                    header = f.readline()
                    if c == 0:
                        w.write(header)
                    while block := f.read(64 << 20):
                        block += f.readline()  # (whole lines)
                        text = prefix + block.replace(b"\n", b"\n" + prefix)
                        w.write(text[:-len(prefix)] if block.endswith(b"\n") else text)


def _synth_csv(d: Path, n: int) -> list[Path]:
    """The three CSV tables of ``iomscore synth -n n --seed 0`` in ``d`` (made once)."""
    d.mkdir(parents=True, exist_ok=True)
    csvs = [d / "r.csv", d / "r-sanctions.csv", d / "r-custody.csv"]
    if not csvs[0].is_file() and n > SYNTH_MAX:
        _replicate(_synth_csv(d / "base", SYNTH_MAX), csvs, n // SYNTH_MAX)
    if not csvs[0].is_file():
        subprocess.run([PY, "-m", "iomscore", "synth", "-n", str(n), "--seed", "0", "-o", str(csvs[0])], check=True,
                       stdout=subprocess.DEVNULL)
    return csvs


def make_inputs(d: Path, n: int) -> dict[str, list[Path]]:
    csvs = _synth_csv(d, n)
    return {"csv": csvs, "parquet": _as_parquet(csvs)}


def _as_parquet(csvs: list[Path]) -> list[Path]:
    """The CSV tables ``csvs`` as Parquet beside them (types inferred, as a force's export
    would have them), read and written in 64 MB batches."""
    pqs = [p.with_suffix(".parquet") for p in csvs]
    if not pqs[0].is_file():
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        for c, p in zip(csvs, pqs):
            reader = pacsv.open_csv(c, convert_options=pacsv.ConvertOptions(
                column_types={}, strings_can_be_null=True), read_options=pacsv.ReadOptions(block_size=64 << 20))
            writer = None
            for batch in reader:
                batch = batch.cast(batch.schema) if writer is None else batch.cast(writer.schema)
                if writer is None:
                    writer = pq.ParquetWriter(p, batch.schema)
                writer.write_batch(batch)
            assert writer is not None
            writer.close()
    return pqs


def _unsorted_copy(ins: list[Path], d: Path, n: int) -> list[Path]:
    """The CSV tables of ``ins`` (``n`` referrals) in ``d``, the sanction rows in reverse order
    (not sorted by person). A list larger than synth's is its base's copy replicated (the
    whole file would not fit in memory to be reversed)."""
    d.mkdir(exist_ok=True)
    out = [d / src.name for src in ins]
    if out[1].is_file():
        return out
    if n > SYNTH_MAX:
        base = ins[0].parent / "base"
        flipped = _unsorted_copy([base / src.name for src in ins], base / "unsorted", SYNTH_MAX)
        _replicate(flipped, out, n // SYNTH_MAX)
        return out
    for src, dst in zip(ins, out):
        if "sanctions" in src.name:
            with open(src, "rb") as f:
                header, *lines = f.read().splitlines(keepends=True)
            dst.write_bytes(header + b"".join(reversed(lines)))
        else:
            shutil.copyfile(src, dst)
    return out


def bench(n: int, d: Path, scorer: str, dask: bool, before: bool, repeat: int = 1) -> dict[str, tuple[float, int]]:
    files = make_inputs(d, n)
    out: dict[str, tuple[float, int]] = {}
    score = [PY, "-m", "iomscore", "score", "--scorer", scorer, "--no-log"] if _has_no_log() else \
        [PY, "-m", "iomscore", "score", "--scorer", scorer]
    results: dict[str, Path] = {}
    for fmt in ("csv", "parquet"):
        ins = files[fmt]
        base = d / f"scores.{fmt}"
        out[f"{fmt} iomscore"] = best_of(repeat, [*score, str(ins[0]), "-o", str(base)])
        results[f"{fmt} iomscore"] = base
        out[f"{fmt} floor"] = best_of(repeat, [PY, "-c", FLOOR, fmt, str(d / f"floor.{fmt}"), str(base), *map(str, ins)])
        w2 = d / f"scores-w2.{fmt}"
        out[f"{fmt} --workers 2"] = best_of(repeat, [*score, str(ins[0]), "-o", str(w2), "--workers", "2"])
        results[f"{fmt} --workers 2"] = w2
        if dask:
            dk = d / f"scores-dask.{fmt}"
            out[f"{fmt} dask, 2 workers"] = best_of(repeat, [*score, str(ins[0]), "-o", str(dk), "--engine", "dask",
                                                 "--workers", "2"])
            results[f"{fmt} dask, 2 workers"] = dk
        # the same list with its sanction rows in reverse order: spilled, at every size
        unsorted = _unsorted_copy(files["csv"], d / "unsorted", n)
        if fmt == "parquet":
            unsorted = _as_parquet(unsorted)
        sp = d / f"scores-unsorted.{fmt}"
        out[f"{fmt} sanctions not sorted (spilled)"] = best_of(repeat, [*score, str(unsorted[0]), "-o", str(sp)])
        results[f"{fmt} sanctions not sorted (spilled)"] = sp
        if before and fmt == "csv":  # the whole-list path of before (its memory grows with the list)
            old = d / f"scores-whole.{fmt}"
            out[f"{fmt} whole list (before)"] = best_of(repeat, [*score, str(ins[0]), "-o", str(old), "--chunk-size",
                                                     str(n + 1)])
            results[f"{fmt} whole list (before)"] = old
        if fmt == "csv":
            out["csv polars peer"] = best_of(repeat, [PY, str(HERE / "peer_polars.py"), str(ins[0]), str(ins[1]),
                                          str(d / "peer.csv")])
    for fmt in ("csv", "parquet"):
        digests = {k: sha(p) for k, p in results.items() if k.startswith(fmt)}
        if len(set(digests.values())) != 1:
            raise SystemExit(f"outputs differ: {digests}")
    return out


def _has_no_log() -> bool:
    text = subprocess.run([PY, "-m", "iomscore", "score", "--help"], capture_output=True, text=True, check=False).stdout
    return "--no-log" in text


def machine() -> str:
    import numpy
    import pyarrow

    try:
        import polars
        pl = polars.__version__
    except ImportError:
        pl = "-"
    load = os.getloadavg()[0]
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, pyarrow {pyarrow.__version__}, polars {pl}; load average {load:.1f} "
            "when the run started")


def byte_compile() -> None:
    """Byte-compile the iomscore being measured, as ``pip install`` does for an installed package.

    An editable install compiles a module on its first import and keeps the ``.pyc``, unless
    ``PYTHONDONTWRITEBYTECODE`` is set: then every run compiles every module again (about
    0.1 s at start-up here), which the floor's pyarrow, installed compiled, never pays.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("iomscore")
    if spec is None or spec.origin is None:
        raise SystemExit("iomscore is not installed in this interpreter")
    compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--ten-million", action="store_true", help="add 10,000,000 referrals (about 100M sanctions)")
    ap.add_argument("--dir", type=Path, default=None, help="where the inputs go (kept; default a temporary one)")
    ap.add_argument("--scorer", default="iom-priority")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="run each command N times: the fastest time, the largest RSS")
    args = ap.parse_args()
    byte_compile()
    sizes = [*args.sizes, *([10_000_000] if args.ten_million else [])]
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-stream-"))
    lines = ["# Streaming batch benchmark (`benchmarks/bench_stream.py`)", "", f"Machine: {machine()}.", "",
             f"`iomscore score --scorer {args.scorer}` on `iomscore synth -n N --seed 0` (CSV, and the same tables "
             "as Parquet); times in seconds, peak RSS in MB summed over the process and its children; ratios "
             "against the I/O floor measured beside it in this run"
             + (f"; each the fastest of {args.repeat} runs (peak RSS the largest)" if args.repeat > 1 else "")
             + ". Every driver's output had the same sha256.",
             ""]
    rows: dict[str, dict[int, tuple[float, int]]] = {}
    for n in sizes:
        d = root / str(n)
        d.mkdir(parents=True, exist_ok=True)
        for k, v in bench(n, d, args.scorer, not args.no_dask, n <= 1_000_000, args.repeat).items():
            rows.setdefault(k, {})[n] = v
        if args.dir is None:
            shutil.rmtree(d, ignore_errors=True)
    head = "| run | " + " | ".join(f"{n:,}" for n in sizes) + " |"
    lines += [head, "|---|" + "---:|" * len(sizes)]
    for k, by in rows.items():
        fmt = k.split()[0]
        cells = []
        for n in sizes:
            if n not in by:
                cells.append("-")
                continue
            t, rss = by[n]
            floor = rows[f"{fmt} floor"][n][0]
            ratio = "" if k.endswith("floor") else f" ({t / floor:.2f}x floor)"
            cells.append(f"{t:.2f} s{ratio}, {rss / 1e6:,.0f} MB")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines.append("")
    for n in sizes:
        if "csv polars peer" in rows and n in rows["csv polars peer"]:
            best = min(rows[k][n][0] for k in rows if k.startswith("csv") and "iomscore" in k or "workers" in k
                       and k.startswith("csv"))
            lines.append(f"- {n:,}: fastest iomscore CSV run / polars peer = "
                         f"{best / rows['csv polars peer'][n][0]:.2f}x")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
