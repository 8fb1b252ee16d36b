"""A hostile corpus run through every command and the API.

Each case is a file (or a command line) with the number of referral records it holds,
counted by hand from its physical lines, apart from any reader. Through ``score``,
``explain``, ``select`` and ``panel`` (in process, so an uncaught exception fails the test as
a traceback would reach the user) and through :func:`iomscore.io.read_referrals`, every case
must give: no traceback; exit 0 (something scored), 1 (nothing scored) or 2 (a one-line
error naming the file); every record scored or rejected with file and line, and the counts
equal to the hand count; inputs unchanged; no partial or temporary file left.

``python tests/cli/test_hostile_corpus.py`` prints the counts for the notes (cases tried,
crashes, rows lost, unclear errors) for whichever iomscore is importable.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

GOOD = {"person_id": "A", "assessment_date": "2025-06-01", "date_of_birth": "1990-01-01",
        "sanctions": [{"offence_date": "2025-02-01", "sanction_date": "2025-03-01",
                       "offence_group": "burglary_domestic", "disposal": "community_order"}]}
HEADER = "person_id,assessment_date,date_of_birth,sex,ethnicity\n"
SAN_HEADER = "person_id,offence_date,sanction_date,offence_group,disposal,custody_days\n"
COMMANDS = ("score", "explain", "select", "panel")


def _j(record: object, **changes: object) -> str:
    return json.dumps(dict(record, **changes) if isinstance(record, dict) else record)  # type: ignore[call-overload]


def _row(pid: str, extra: str = "") -> str:
    return f"{pid},2025-06-01,1990-01-01,male,{extra}\n"


def _san(pid: str) -> str:
    return f"{pid},2025-02-01,2025-03-01,burglary_domestic,community_order,\n"


@dataclass
class Case:
    name: str
    files: dict[str, bytes]  # the first is the referral list
    records: int | None      # referral records by hand; None: the file is refused as a whole
    orphans: int = 0
    extra: list[str] = field(default_factory=list)

    @property
    def input(self) -> str:
        return next(iter(self.files))


def _b(text: str) -> bytes:
    return text.encode("utf-8")


def _csv_case(name: str, referrals: str | bytes, records: int | None, sanctions: str | None = None,
              orphans: int = 0) -> Case:
    files = {"r.csv": referrals if isinstance(referrals, bytes) else _b(referrals)}
    files["r-sanctions.csv"] = _b(sanctions if sanctions is not None else SAN_HEADER + _san("A"))
    return Case(name, files, records, orphans)


def corpus() -> list[Case]:
    deep = '{"person_id": "X", "needs": ' + "[" * 5000 + "]" * 5000 + "}"
    big = {"offence_date": "2024-01-01", "sanction_date": "2024-02-01", "offence_group": "shop_theft",
           "disposal": "custody", "custody_days": 2**31}
    summary = {"previous_sanctions": 2**63, "first_sanction_date": "2020-01-01",
               "current_conviction_date": "2024-01-01", "current_offence_group": "shop_theft"}
    jl = [
        Case("jsonl: nested 5,000 deep", {"r.jsonl": _b("\n".join([_j(GOOD), deep, _j(GOOD, person_id="B")]) + "\n")}, 3),
        Case("jsonl: custody_days 2^31, previous_sanctions 2^63", {"r.jsonl": _b("\n".join([
            _j(GOOD), _j(GOOD, person_id="B", sanctions=[big]), _j(GOOD, person_id="C", sanction_summary=summary),
            _j(GOOD, person_id="D")]) + "\n")}, 4),
        Case("jsonl: repeated key", {"r.jsonl": _b('{"person_id": "Z", "person_id": "A", "assessment_date": '
                                                   '"2025-06-01", "date_of_birth": "1990-01-01"}\n' + _j(GOOD) + "\n")}, 2),
        Case("jsonl: date as integer, count as boolean", {"r.jsonl": _b("\n".join([
            _j(GOOD), _j(GOOD, person_id="B", assessment_date=0),
            _j(GOOD, person_id="C", sanctions=[dict(big, custody_days=True)])]) + "\n")}, 3),
        Case("jsonl: Latin-1 byte", {"r.jsonl": _b(_j(GOOD) + "\n") + b'{"person_id": "Caf\xe9"}\n'
                                     + _b(_j(GOOD, person_id="B") + "\n")}, 3),
        Case("jsonl: byte-order mark, CRLF, blank lines", {"r.jsonl": _b("\ufeff" + _j(GOOD) + "\r\n\r\n"
                                                                         + _j(GOOD, person_id="B") + "\r\n")}, 2),
        Case("jsonl: NaN, Infinity, 5,000-digit number", {"r.jsonl": _b("\n".join([
            _j(GOOD), '{"person_id": NaN}', '{"x": Infinity}', "9" * 5000]) + "\n")}, 4),
        Case("jsonl: not objects", {"r.jsonl": _b("\n".join([_j(GOOD), "[1, 2]", '"text"', "5", "null"]) + "\n")}, 5),
        Case("jsonl: same person with spaces", {"r.jsonl": _b(_j(GOOD, person_id=" A ") + "\n" + _j(GOOD) + "\n")}, 2),
        Case("jsonl: U+2028 inside a string", {"r.jsonl": _b(_j(GOOD, protected={"ethnicity": "a\u2028b"}) + "\n")}, 1),
        Case("jsonl: formula person ids", {"r.jsonl": _b("\n".join(
            _j(GOOD, person_id=p) for p in ("=1+1", "+A", "-B", "@C")) + "\n")}, 4),
        Case("json array: a broken element", {"r.json": _b("[\n" + _j(GOOD) + ",\n{broken,\n"
                                                           + _j(GOOD, person_id="B") + "\n]\n")}, 3),
        Case("jsonl: UTF-16", {"r.jsonl": (_j(GOOD) + "\n").encode("utf-16")}, None),
        Case("jsonl: empty", {"r.jsonl": b""}, 0),
        Case("jsonl: random bytes", {"r.jsonl": bytes(range(256)) + b"\n" + _b(_j(GOOD)) + b"\n"}, 3),  # (0x0a ends one)
    ]
    cs = [
        _csv_case("csv: unclosed quote mid-file", HEADER + _row("A") + _row("B") + 'C,2025-06-01,"1990-01-01,male,\n'
                  + _row("D") + _row("E") + _row("F"), 6),
        _csv_case("csv: unclosed quote in the last column", HEADER + _row("A") + _row("B", '"open') + _row("C"), 3),
        _csv_case("csv: 200,000-character field", HEADER + _row("A", "x" * 200_000) + _row("B"), 2),
        _csv_case("csv: 200,000-character field and a malformed row", HEADER + _row("A", "x" * 200_000)
                  + "B,2025-06-01\n" + _row("C"), 3),
        _csv_case("csv: Latin-1 byte", _b(HEADER) + b"A,2025-06-01,1990-01-01,male,Caf\xe9\n" + _b(_row("B")), 2,
                  SAN_HEADER + _san("B")),
        _csv_case("csv: header with a leading space", " person_id,assessment_date,date_of_birth\nA,2025-06-01,1990-01-01\n",
                  None),
        _csv_case("csv: byte-order mark", "\ufeff" + HEADER + _row("A") + _row("B"), 2),
        _csv_case("csv: CRLF and blank lines", (HEADER + _row("A") + "\n" + _row("B") + "\n\n" + _row("C"))
                  .replace("\n", "\r\n"), 3),
        _csv_case("csv: orphan sanction rows", HEADER + _row("A") + _row("B"),
                  2, SAN_HEADER + _san("A") + _san("NOBODY") + _san("GHOST"), orphans=2),
        _csv_case("csv: UTF-16", (HEADER + _row("A")).encode("utf-16"), None),
        _csv_case("csv: formula person ids", HEADER + _row("=1+1") + _row("+A") + _row("@B") + _row("-C"), 4, SAN_HEADER),
        _csv_case("csv: rows with too few and too many fields", HEADER + _row("A") + "B,2025-06-01\n"
                  + "C,2025-06-01,1990-01-01,male,,,\n" + _row("D"), 4),
        _csv_case("csv: a line break in person_id", HEADER + _row("A") + '"B\nB",2025-06-01,1990-01-01,male,\n' + _row("C"),
                  4),
        _csv_case("csv: NUL byte after the start", HEADER + _row("A") * 0 + "".join(_row(f"P{i}") for i in range(200))
                  + "Q,2025-06-01,1990-01-01,male,a\x00b\n", 201, SAN_HEADER),
        _csv_case("csv: empty sanctions file", HEADER + _row("A"), None, ""),
        _csv_case("csv: same person with spaces", HEADER + _row(" A ") + _row("A"), 2),
    ]
    nosan = Case("csv: no sanctions table", {"r.csv": _b(HEADER + _row("A") + _row("B"))}, 2)
    return [*jl, *cs, nosan, *_parquet_cases()]


def _parquet_cases() -> list[Case]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover
        return []

    def parquet(table: object) -> bytes:
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return buf.getvalue()

    base = {"person_id": ["A", "B"], "assessment_date": ["2025-06-01"] * 2, "date_of_birth": ["1990-01-01"] * 2}
    return [
        Case("parquet: nested column it does not use", {"r.parquet": parquet(pa.table(
            {**base, "tags": pa.array([[1, 2], [3]]), "meta": pa.array([{"x": 1}, {"x": 2}])}))}, 2),
        Case("parquet: nested column it needs", {"r.parquet": parquet(pa.table(
            {**base, "assessment_date": pa.array([[1], [2]])}))}, None),
        Case("parquet: not Parquet", {"r.parquet": b"PAR1 not really"}, None),
    ]


ARG_CASES: list[tuple[str, list[str]]] = [
    ("score --chunk-size -1", ["score", "{r}", "-o", "{d}/s.csv", "--chunk-size", "-1"]),
    ("score -o ''", ["score", "{r}", "-o", ""]),
    ("synth -n -5", ["synth", "-n", "-5", "-o", "{d}/s.csv"]),
    ("score -o INPUT", ["score", "{r}", "-o", "{r}"]),
    ("score -o SIBLING", ["score", "{r}", "-o", "{d}/r-sanctions.csv"]),
    ("score --rejects INPUT", ["score", "{r}", "-o", "{d}/s.csv", "--rejects", "{r}"]),
    ("score --rejects = -o", ["score", "{r}", "-o", "{d}/s.csv", "--rejects", "{d}/s.csv"]),
    ("select --out INPUT", ["select", "{r}", "--out", "{r}"]),
    ("panel --out INPUT", ["panel", "{r}", "--out", "{r}"]),
    ("score -o /dev/full", ["score", "{r}", "-o", "/dev/full", "--rejects", "{d}/rej.csv"]),
    ("score -o MISSING-DIR/s.csv", ["score", "{r}", "-o", "{d}/missing/s.csv"]),
]

_COUNTS = re.compile(r"^read (\d+) = scored (\d+) \+ rejected (\d+)$", re.MULTILINE)


@dataclass
class Outcome:
    code: int | None
    err: str
    crashed: str = ""


def _run(argv: list[str]) -> Outcome:
    from iomscore import cli

    err = io.StringIO()
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = cli.main(argv)
    except SystemExit as exc:
        return Outcome(int(exc.code or 0), err.getvalue())
    except BaseException as exc:  # noqa: BLE001 - what a user would see as a traceback
        return Outcome(None, err.getvalue(), f"{type(exc).__name__}: {exc}"[:200])
    return Outcome(code, err.getvalue())


def _argv(command: str, case: Case, d: Path) -> list[str]:
    src = str(d / case.input)
    return {"score": ["score", src, "-o", str(d / "s.csv")],
            "explain": ["explain", src, "--person", "A"],
            "select": ["select", src, "--format", "csv", "--out", str(d / "sel.csv"), "--rejects", str(d / "sel-rej.csv")],
            "panel": ["panel", src, "--out", str(d / "p.html"), "--generated-at", "2026-01-01T00:00:00Z"]}[command]


def _write(case: Case, d: Path) -> None:
    for name, data in case.files.items():
        (d / name).write_bytes(data)


def check(case: Case, command: str, d: Path) -> list[str]:
    """The broken promises of one case through one command ([] when it holds): each starts
    with ``crash``, ``lost``, ``unclear`` or ``unsafe``."""
    _write(case, d)
    before = {n: (d / n).read_bytes() for n in case.files}
    got = _run(_argv(command, case, d))
    problems: list[str] = []
    if got.crashed:
        return [f"crash: {got.crashed}"]
    if "Traceback" in got.err:
        problems.append("crash: traceback on stderr")
    if any((d / n).read_bytes() != data for n, data in before.items()):
        problems.append("unsafe: an input was changed")
    if any(p.name.startswith(".") for p in d.iterdir()):
        problems.append("unsafe: a temporary file was left")
    errors = [line for line in got.err.splitlines() if line.startswith("iomscore: error:")]
    if case.records is None:
        if got.code != 2:
            problems.append(f"unclear: exit {got.code} for a refused file")
        elif len(errors) != 1 or not any(n in errors[0] for n in case.files):
            problems.append(f"unclear: error does not name the file: {errors}")
        return problems
    if command == "explain":
        if got.code not in (0, 1):
            problems.append(f"unclear: explain exit {got.code}: {errors}")
        return problems
    m = _COUNTS.search(got.err)
    if m is None or got.code not in (0, 1):
        return [*problems, f"crash: exit {got.code}, {errors[:1]}"]
    read, scored, rejected = map(int, m.groups())
    if read != case.records:
        problems.append(f"lost: read {read}, the file holds {case.records}")
    if got.code != (0 if scored else 1):
        problems.append(f"unclear: exit {got.code} with {scored} scored")
    if command == "score":
        with (d / "s.csv").open(encoding="utf-8", newline="") as f:
            n_scores = sum(1 for _ in csv.DictReader(f))
        with (d / "s-rejects.csv").open(encoding="utf-8", newline="") as f:
            rejects = list(csv.DictReader(f))
        ref_rejects = {r["referral_row"] for r in rejects if r["referral_row"]}
        orphans = [r for r in rejects if not r["referral_row"]]
        if n_scores != scored or len(ref_rejects) != rejected or n_scores + len(ref_rejects) != case.records:
            problems.append(f"lost: {n_scores} scores + {len(ref_rejects)} rejected rows for {case.records} records")
        if len(orphans) != case.orphans or (case.orphans and f"also rejected {case.orphans}" not in got.err):
            problems.append(f"unclear: {len(orphans)} orphan rows in the rejects, {case.orphans} in the file")
        if any(not (r["source"] and r["row"] and (r["field"] or r["reason"])) for r in rejects):
            problems.append("unclear: a reject without file, row and field or reason")
        if not (d / "s-counts.json").is_file():
            problems.append("unsafe: no counts file")
    return problems


def _api_check(case: Case, d: Path) -> list[str]:
    from iomscore._errors import IomscoreError
    from iomscore.io import read_referrals

    _write(case, d)
    others = [d / n for n in list(case.files)[1:]]
    try:
        result = read_referrals(d / case.input, *(others[:1] if case.input.endswith(".csv") else []))
    except (IomscoreError, ValueError) as exc:
        if case.records is not None:
            return [f"lost: refused as a whole: {exc}"]
        return [] if any(n in str(exc) for n in case.files) and "\n" not in str(exc) else [f"unclear: {exc}"]
    except BaseException as exc:  # noqa: BLE001 - any other exception is a crash
        return [f"crash: {type(exc).__name__}: {exc}"[:200]]
    c = result.counts
    if case.records is None:
        return ["unclear: a file to refuse was read"]
    if c.referral_rows != c.valid + c.rejected or c.referral_rows != case.records:
        return [f"lost: read {c.referral_rows} ({c.valid} + {c.rejected}) of {case.records}"]
    return []


CASES = corpus()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_corpus_through_every_command(case: Case, command: str, tmp_path: Path) -> None:
    assert check(case, command, tmp_path) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_corpus_through_the_api(case: Case, tmp_path: Path) -> None:
    assert _api_check(case, tmp_path) == []


def check_args(argv: list[str], d: Path) -> list[str]:
    (d / "r.csv").write_bytes(_b(HEADER + _row("A")))
    (d / "r-sanctions.csv").write_bytes(_b(SAN_HEADER + _san("A")))
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    got = _run([a.format(r=d / "r.csv", d=d) for a in argv])
    if got.crashed:
        return [f"crash: {got.crashed}"]
    problems = []
    last = got.err.strip().splitlines()[-1:] or [""]
    if got.code != 2 or "Traceback" in got.err or "error:" not in last[0]:
        problems.append(f"unclear: exit {got.code}: {got.err.strip()[-200:]}")
    after = {p.name: p.read_bytes() for p in d.iterdir()}
    if any(after.get(n) != b for n, b in before.items()):
        problems.append("unsafe: an input was overwritten")
    if set(after) - set(before) - {"s-counts.json"}:
        problems.append(f"unsafe: wrote {sorted(set(after) - set(before))}")
    if ("/dev/full" in argv or "missing" in " ".join(argv)) and "cannot write" not in got.err:
        problems.append("unclear: the write error does not name the path")
    return problems


@pytest.mark.parametrize(("name", "argv"), ARG_CASES, ids=[n for n, _ in ARG_CASES])
def test_hostile_command_lines(name: str, argv: list[str], tmp_path: Path) -> None:
    if "/dev/full" in argv and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    assert check_args(argv, tmp_path) == []


def _tally(run: Callable[[Path], list[str]], tally: dict[str, int], tmp: Path, label: str) -> None:
    import shutil

    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    tally["cases"] += 1
    problems = run(tmp)
    for kind in ("crash", "lost", "unclear", "unsafe"):
        if any(p.startswith(kind) for p in problems):
            tally[kind] += 1
            print(f"  {kind:8} {label}: {next(p for p in problems if p.startswith(kind))}")


def main() -> None:  # pragma: no cover - the notes' figures
    import logging
    import tempfile

    logging.disable(logging.CRITICAL)
    tally = dict.fromkeys(("cases", "crash", "lost", "unclear", "unsafe"), 0)
    base = Path(tempfile.mkdtemp())
    for case in CASES:
        for command in COMMANDS:
            _tally(lambda d, c=case, k=command: check(c, k, d), tally, base / "x", f"{command} / {case.name}")
        _tally(lambda d, c=case: _api_check(c, d), tally, base / "x", f"api / {case.name}")
    for name, argv in ARG_CASES:
        _tally(lambda d, a=argv: check_args(a, d), tally, base / "x", name)
    print(" ".join(f"{k}={v}" for k, v in tally.items()))


if __name__ == "__main__":
    sys.setrecursionlimit(1000)
    main()
