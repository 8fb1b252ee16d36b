"""CSV reader benchmark: iomscore's two-table CSV reader against pyarrow's CSV parser alone.

The floor is ``pyarrow.csv.read_csv`` of the same three files (referrals, sanctions,
custody) with every column read as text: parsing and nothing else. In one run, for each size
(default 20k and 200k synthetic referrals, :func:`iomscore.synth.generate`, about ten
sanctions each, written by :func:`iomscore.synth.write_csv`), best of ``--repeat``:

- **floor**: ``pyarrow.csv.read_csv`` of the three files, all columns ``string``;
- **parse**: :func:`iomscore.io._csv.parse_csv` of the three files -- the floor plus the
  hostile-input checks of issue 9 (UTF-8 check, the physical line count kept apart from the
  parser, the whitespace rule on every column);
- **read**: :func:`iomscore.io.read_csv` -- parse plus building the validated table (types,
  vocabularies, cross-field rules, joining the histories, rejects).

Prints the ratios parse/floor and read/floor; ``--out`` also writes them as Markdown. The
ratios are what to compare across commits (timings on a shared machine are noisy)::

    python benchmarks/bench_read.py                       # 20k and 200k
    python benchmarks/bench_read.py --sizes 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(n: int, repeat: int, directory: Path) -> dict[str, float]:
    """Seconds for the floor, parse and read of ``n`` synthetic referrals, and the file size."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from iomscore import synth
    from iomscore.io import read_csv
    from iomscore.io._csv import parse_csv

    paths = [directory / f"r{n}.csv", directory / f"r{n}-sanctions.csv", directory / f"r{n}-custody.csv"]
    synth.write_csv(synth.generate(n, seed=3), *paths)

    def floor() -> None:
        for p in paths:
            header = p.open(encoding="utf-8").readline().rstrip("\r\n").split(",")
            pacsv.read_csv(p, convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header}))

    def parse() -> None:
        for p in paths:
            parse_csv(p)

    def read() -> None:
        read_csv(*paths)

    return {"n": n, "mb": sum(p.stat().st_size for p in paths) / 1e6, "floor": _best(floor, repeat),
            "parse": _best(parse, repeat), "read": _best(read, repeat)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="also write the table as Markdown here")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(measure(n, args.repeat, Path(tmp)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"CSV reader vs pyarrow.csv.read_csv (floor), best of {args.repeat}; "
        f"{platform.python_version()}, {os.cpu_count()} cores, load average {load:.1f}",
        "",
        "| referrals | MB | floor s | parse s | read s | parse / floor | read / floor |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['mb']:.0f} | {r['floor']:.2f} | {r['parse']:.2f} | {r['read']:.2f} | "
                     f"{r['parse'] / r['floor']:.2f}x | {r['read'] / r['floor']:.2f}x |")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
