"""Streaming batch benchmark: ``iomscore score`` end to end against its I/O floor, in one run.

For each size (100k and 1M referrals; 10M with ``--ten-million``) it makes the synthetic list
(``iomscore synth``, seed 0) as CSV and as Parquet, then runs, each in its own process tree
with its peak memory sampled (the sum of the RSS of the process and its children):

- the I/O floor: pyarrow reading the three input tables and writing one output file as large
  as iomscore's (the same parser and writer, nothing else), with pyarrow's default allocator
  and again with jemalloc, the one ``iomscore score`` gives Arrow (a lower floor here);
- ``iomscore score`` (one process; ``--workers 2``; ``--engine dask --workers 2``);
- the whole-list path of before (``--chunk-size`` larger than the list: read whole, one core;
  up to 1M, as its memory grows with the list);
- the same list with its sanction rows in reverse order, so not sorted by person_id: the
  spilling path (sorted inputs are read in chunks straight from the files), from CSV and
  from Parquet, at every size;
- the polars peer (``benchmarks/peer_polars.py``: a lesser job, lazy scan, streaming sink);

and Parquet -> Parquet against its own floor. It checks that every driver wrote the same bytes.
With ``--repeat N`` the commands run in N rounds (each command once a round): the table gives
each command's fastest run, and each ratio as the median over rounds of the ratio of the two
commands' runs in the same round. Writes a Markdown table to stdout (and to ``--out``).

Usage: ``python benchmarks/bench_stream.py [--sizes 100000 1000000] [--ten-million] [--dir DIR] [--repeat N]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

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


def run(cmd: list[str], env: dict[str, str | None] | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (bytes, summed over the process tree, sampled every 50 ms).
    ``env`` changes the environment (``None``: the variable unset)."""
    peak = [0]
    environ = {**os.environ, **(env or {})}
    environ = {k: v for k, v in environ.items() if v is not None}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environ)
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


@dataclass
class Runs:
    """Every run of one command: wall times (one a round) and peak RSS."""

    times: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)

    def add(self, t: float, rss: int) -> None:
        self.times.append(t)
        self.peaks.append(rss)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def peak(self) -> int:
        return max(self.peaks)

    def ratio(self, other: Runs) -> float:
        """The median over rounds of this run's time over ``other``'s in the same round (paired:
        the host's speed drifts from round to round, the pair's ratio much less)."""
        return statistics.median(a / b for a, b in zip(self.times, other.times))


def has_jemalloc() -> bool:
    import pyarrow

    try:
        pyarrow.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError, pyarrow.ArrowException):
        return False
    return True


#: The floor again with the allocator ``iomscore score`` gives Arrow (jemalloc): pyarrow's
#: default one (mimalloc) asks for huge pages the kernel zeroes whole, and the default
#: floor's time swings with the system time that costs (1.5 to 3.2 s at 1M on this machine).
JEMALLOC: Final[dict[str, str | None]] = {"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}
#: The floor with pyarrow's default allocator (whatever the caller's environment names).
DEFAULT_POOL: Final[dict[str, str | None]] = {"ARROW_DEFAULT_MEMORY_POOL": None}


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


def bench(n: int, d: Path, scorer: str, dask: bool, before: bool, repeat: int = 1) -> dict[str, Runs]:
    """Every command at size ``n``, in rounds: each command once a round, ``repeat`` rounds,
    so each command's runs spread over the same stretch of time as the floor's."""
    files = make_inputs(d, n)
    score = [PY, "-m", "iomscore", "score", "--scorer", scorer, "--no-log"] if _has_no_log() else \
        [PY, "-m", "iomscore", "score", "--scorer", scorer]
    cmds: dict[str, tuple[list[str], dict[str, str | None] | None]] = {}
    results: dict[str, Path] = {}
    jemalloc = has_jemalloc()
    for fmt in ("csv", "parquet"):
        ins = files[fmt]
        base = d / f"scores.{fmt}"
        cmds[f"{fmt} iomscore"] = ([*score, str(ins[0]), "-o", str(base)], None)
        results[f"{fmt} iomscore"] = base
        floor = [PY, "-c", FLOOR, fmt, str(d / f"floor.{fmt}"), str(base), *map(str, ins)]
        cmds[f"{fmt} floor"] = (floor, DEFAULT_POOL)
        if jemalloc:
            cmds[f"{fmt} floor (jemalloc)"] = (floor, JEMALLOC)
        w2 = d / f"scores-w2.{fmt}"
        cmds[f"{fmt} --workers 2"] = ([*score, str(ins[0]), "-o", str(w2), "--workers", "2"], None)
        results[f"{fmt} --workers 2"] = w2
        if dask:
            dk = d / f"scores-dask.{fmt}"
            cmds[f"{fmt} dask, 2 workers"] = ([*score, str(ins[0]), "-o", str(dk), "--engine", "dask", "--workers", "2"],
                                              None)
            results[f"{fmt} dask, 2 workers"] = dk
        # the same list with its sanction rows in reverse order: spilled, at every size
        unsorted = _unsorted_copy(files["csv"], d / "unsorted", n)
        if fmt == "parquet":
            unsorted = _as_parquet(unsorted)
        sp = d / f"scores-unsorted.{fmt}"
        cmds[f"{fmt} sanctions not sorted (spilled)"] = ([*score, str(unsorted[0]), "-o", str(sp)], None)
        results[f"{fmt} sanctions not sorted (spilled)"] = sp
        if before and fmt == "csv":  # the whole-list path of before (its memory grows with the list)
            old = d / f"scores-whole.{fmt}"
            cmds[f"{fmt} whole list (before)"] = ([*score, str(ins[0]), "-o", str(old), "--chunk-size", str(n + 1)], None)
            results[f"{fmt} whole list (before)"] = old
        if fmt == "csv":
            cmds["csv polars peer"] = ([PY, str(HERE / "peer_polars.py"), str(ins[0]), str(ins[1]), str(d / "peer.csv")],
                                       None)
    for fmt in ("csv", "parquet"):  # (the floors write an output as large as this one; a warm-up too)
        run(cmds[f"{fmt} iomscore"][0])
    out = {name: Runs() for name in cmds}
    names = list(cmds)
    for r in range(max(repeat, 1)):
        for name in names[r % len(names):] + names[:r % len(names)]:  # (each round starts one later)
            out[name].add(*run(*cmds[name]))
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
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the commands in N rounds (each once a round): the fastest time, the largest RSS, "
                         "and ratios as the median over rounds of the ratio within a round")
    args = ap.parse_args()
    byte_compile()
    sizes = [*args.sizes, *([10_000_000] if args.ten_million else [])]
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-stream-"))
    lines = ["# Streaming batch benchmark (`benchmarks/bench_stream.py`)", "", f"Machine: {machine()}.", "",
             f"`iomscore score --scorer {args.scorer}` on `iomscore synth -n N --seed 0` (CSV, and the same tables "
             "as Parquet); times in seconds, peak RSS in MB summed over the process and its children; ratios "
             "against the I/O floor measured beside it in this run"
             + (f"; each the fastest of {args.repeat} rounds (every command once a round; peak RSS the largest), "
                "and each ratio the median over the rounds of the ratio of the two runs in that round"
                if args.repeat > 1 else "") + ". Every driver's output had the same sha256.",
             ""]
    rows: dict[str, dict[int, Runs]] = {}
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
            r = by[n]
            floors = [f for f in (f"{fmt} floor", f"{fmt} floor (jemalloc)") if f in rows and n in rows[f]]
            ratio = "" if "floor" in k else " (" + ", ".join(
                f"{r.ratio(rows[f][n]):.2f}x {'jemalloc floor' if 'jemalloc' in f else 'floor'}" for f in floors) + ")"
            cells.append(f"{r.best:.2f} s{ratio}, {r.peak / 1e6:,.0f} MB")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines.append("")
    for n in sizes:
        if "csv polars peer" in rows and n in rows["csv polars peer"]:
            peer = rows["csv polars peer"][n]
            lines.append(f"- {n:,}: iomscore CSV / polars peer = {rows['csv iomscore'][n].ratio(peer):.2f}x "
                         f"(fastest runs: {rows['csv iomscore'][n].best / peer.best:.2f}x)")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
