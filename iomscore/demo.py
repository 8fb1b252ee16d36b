"""A runnable demo of the whole path, from a force's export to the panel's recorded decisions.

Run ``python -m iomscore.demo --out demo-output`` (``make demo`` does). It runs the same
commands a user runs (:func:`iomscore.cli.main`) on a synthetic referral list and writes, into
the output directory:

* ``referrals.csv``, ``referrals-sanctions.csv``, ``referrals-custody.csv``: a few hundred
  synthetic people (:mod:`iomscore.synth`) in the two-table CSV form, a few rows deliberately bad;
* ``scores-<scorer>.csv`` and ``rejects-<scorer>.csv`` for ``iom-priority`` and ``ogrs3``;
* ``explanations.md``: the full breakdown of three people under both scorers;
* month 1: ``selection-month1.json`` (the recommendation under the shipped policy),
  ``panel-month1.html`` (the pack for the meeting) and ``panel-month1-ranked.csv`` (the
  full ranked list), then three panel decisions recorded in ``decisions.jsonl``;
* month 2: the list run again with the people the panel included as the current cohort,
  the previous selection and the decision log: ``panel-month2.html``;
* accountability: ``referrals-month2.csv`` (a second month drawn with another seed),
  ``drift-month2.md`` / ``.html`` (``iomscore drift`` from month 1 to month 2) and
  ``audit-outcomes.md`` (``iomscore audit`` of the iom-priority scores against the synthetic
  outcomes at the capacity, by ethnicity and sex);
* the IOM operating model: ``panel-cohorts.html`` (and ``selection-cohorts.json``), the same
  list under the several-cohort policy ``iom-fixed-flex-free`` (Fixed, Flex and Free cohorts,
  each with its own rules, places and ranking scorer), and ``panel-house.html`` with
  ``select-house.txt``, IOM house beds allocated under ``iom-house-places`` with the current
  residents (``house-current.csv``, the occupancy form: person, cohort, start, expected end)
  so the run says how many beds free up by the meeting and in each of the next three months.

Dates are fixed so every run writes the same files. This module is a script: it prints where
each file is.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from . import synth
from .cli import main as cli

__all__ = ["main"]

SCORERS: Final = ("iom-priority", "ogrs3")
N_PEOPLE: Final = 300
SEED: Final = 2025
BAD_FRACTION: Final = 0.02
CAPACITY: Final = 20
RESERVES: Final = 5
#: Fixed dates (after every synthetic assessment date) so the demo's files are the same on every run.
MEETING_1: Final = "2026-01-12"
GENERATED_1: Final = "2026-01-09T09:00:00+00:00"
MEETING_2: Final = "2026-02-09"
GENERATED_2: Final = "2026-02-06T09:00:00+00:00"
CHAIR: Final = "Demo panel chair"
COHORTS_POLICY: Final = "iom-fixed-flex-free"
HOUSE_POLICY: Final = "iom-house-places"
#: IOM house residents at the first meeting: (start date, expected end date or "" for "about four
#: months", the policy's usual stay). They are not in the referral list: their beds are taken.
HOUSE_RESIDENTS: Final = (
    ("2025-08-18", "2025-12-19"), ("2025-09-01", ""), ("2025-09-15", "2026-01-09"), ("2025-09-29", "2026-01-30"),
    ("2025-10-06", ""), ("2025-10-20", "2026-02-20"), ("2025-11-03", "2026-03-06"), ("2025-11-10", ""),
    ("2025-11-24", "2026-03-27"), ("2025-12-01", "2026-04-03"), ("2025-12-08", ""), ("2025-12-15", "2026-04-17"),
    ("2026-01-05", "2026-05-08"), ("2026-01-05", "2026-05-08"), ("2026-01-06", ""), ("2026-01-07", "2026-05-11"),
    ("2026-01-08", "2026-05-12"),
)


def _run(argv: list[str]) -> str:
    """Run one command quietly; return its standard output (a failing step stops the demo)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli(argv)
    if status != 0:
        raise SystemExit(f"demo step failed ({status}): iomscore {' '.join(argv)}\n{err.getvalue()}")
    return out.getvalue()


def _operating_model(out: Path, ref: Path) -> list[tuple[str, Path]]:
    """The several-cohort policy and the IOM house allocation, on the same synthetic list."""
    sel, pack = out / "selection-cohorts.json", out / "panel-cohorts.html"
    _run(["panel", str(ref), "--policy", COHORTS_POLICY, "--reserves", "3", "--panel-name", "Demo IOM panel",
          "--title", "IOM panel pack: Fixed, Flex and Free cohorts", "--out", str(pack), "--meeting-date", MEETING_1,
          "--generated-at", GENERATED_1, "--save-selection", str(sel), "--run-log-time", GENERATED_1])
    current = out / "house-current.csv"
    rows = [f"HOUSE-{k:02d},,{start},{end}" for k, (start, end) in enumerate(HOUSE_RESIDENTS, start=1)]
    current.write_text("person_id,cohort,start_date,expected_end_date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    house, listing = out / "panel-house.html", out / "select-house.txt"
    places = ["--policy", HOUSE_POLICY, "--current-cohort", str(current), "--meeting-date", MEETING_1]
    _run(["panel", str(ref), *places, "--reserves", "3", "--panel-name", "Demo IOM panel",
          "--title", "IOM house places", "--out", str(house), "--generated-at", GENERATED_1,
          "--run-log-time", GENERATED_1])
    _run(["select", str(ref), *places, "--out", str(listing), "--run-log-time", GENERATED_1])
    return [("several cohorts (Fixed, Flex, Free): the pack", pack), ("several cohorts: the selection", sel),
            ("IOM house residents (occupancy form)", current), ("IOM house places: the pack", house),
            ("IOM house places: beds freeing up, the selection", listing)]


def _accountability(out: Path, ref: Path, outcomes: Path, args: argparse.Namespace) -> list[tuple[str, Path]]:
    """Drift from month 1 to a month-2 referral list drawn with another seed, and the outcome audit."""
    month2 = synth.generate(args.n, args.seed + 1, bad_fraction=BAD_FRACTION, id_prefix="M")
    ref2, san2, cus2 = synth.default_paths(out / "referrals-month2.csv")
    synth.write_csv(month2, ref2, san2, cus2, bad_fraction=BAD_FRACTION, seed=args.seed + 1)
    drift_md, drift_html = out / "drift-month2.md", out / "drift-month2.html"
    for fmt, path in (("markdown", drift_md), ("html", drift_html)):
        _run(["drift", str(ref), str(ref2), "--format", fmt, "-o", str(path)])
    audit = out / "audit-outcomes.md"
    _run(["audit", str(out / "scores-iom-priority.csv"), "--outcomes", str(outcomes), "--referrals", str(ref),
          "--by", "ethnicity,sex", "--capacity", str(CAPACITY), "-o", str(audit)])
    return [("month 2 referral list (another seed)", ref2),
            ("drift, month 1 -> month 2 (iomscore drift; PSI per feature, score and band)", drift_md),
            ("the same drift report as HTML (with its chart)", drift_html),
            ("outcome audit at capacity by ethnicity and sex (iomscore audit)", audit)]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the demo files into ``--out`` and print where they are."""
    parser = argparse.ArgumentParser(prog="python -m iomscore.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output", help="output directory (created if needed)")
    parser.add_argument("-n", type=int, default=N_PEOPLE, help=f"number of referrals (default {N_PEOPLE})")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = synth.generate(args.n, args.seed, bad_fraction=BAD_FRACTION)
    ref, san, cus = synth.default_paths(out / "referrals.csv")
    synth.write_csv(table, ref, san, cus, bad_fraction=BAD_FRACTION, seed=args.seed)
    written = [("synthetic referrals", ref), ("their sanctions", san), ("their custody periods", cus)]

    for name in SCORERS:
        scores, rejects = out / f"scores-{name}.csv", out / f"rejects-{name}.csv"
        _run(["score", str(ref), "--scorer", name, "-o", str(scores), "--rejects", str(rejects),
              "--run-log", str(out / "iomscore-runs.jsonl"), "--run-log-time", GENERATED_1])
        written += [(f"{name} scores", scores), (f"{name} rejects", rejects)]

    # Month 1: the recommendation, the pack for the meeting, and three decisions.
    sel1 = out / "selection-month1.json"
    pack1 = out / "panel-month1.html"
    common = ["--capacity", str(CAPACITY), "--reserves", str(RESERVES), "--panel-name", "Demo IOM panel"]
    _run(["panel", str(ref), *common, "--out", str(pack1), "--meeting-date", MEETING_1,
          "--generated-at", GENERATED_1, "--save-selection", str(sel1), "--run-log-time", GENERATED_1])
    selection = json.loads(sel1.read_text(encoding="utf-8"))
    ranked = sorted((d for d in selection["decisions"] if d["rank"] is not None), key=lambda d: d["rank"])
    chosen = [ranked[0]["person_id"], ranked[len(ranked) // 2]["person_id"], ranked[-1]["person_id"]]

    lines = ["# Explanations of three synthetic referrals", "",
             "The first-ranked, a middle and the last candidate, each under both scorers.", ""]
    for person in chosen:
        lines += [f"## {person}", ""]
        for name in SCORERS:
            lines += [_run(["explain", str(ref), "--person", person, "--scorer", name, "--format", "markdown"]), ""]
    explanations = out / "explanations.md"
    explanations.write_text("\n".join(lines), encoding="utf-8")
    written.append(("explanations of three people", explanations))

    log = out / "decisions.jsonl"
    log.unlink(missing_ok=True)
    for person, decision, reason, at in (
        (ranked[0]["person_id"], "include", "Agreed: prolific neighbourhood offending, engages with drug services",
         "2026-01-12T10:05:00+00:00"),
        (ranked[1]["person_id"], "defer", "Housing assessment due next week; review at the next panel",
         "2026-01-12T10:12:00+00:00"),
        (ranked[CAPACITY]["person_id"] if len(ranked) > CAPACITY else ranked[-1]["person_id"], "include",
         "Takes the place of a deferred person: recent release, no accommodation", "2026-01-12T10:20:00+00:00"),
    ):
        _run(["decide", str(log), "--selection", str(sel1), "--person", person, "--decision", decision,
              "--reason", reason, "--by", CHAIR, "--panel", "Demo IOM panel", "--at", at])
    listing = out / "decisions.txt"
    listing.write_text(_run(["decisions", str(log), "--selection", str(sel1), "--referrals", str(ref)]),
                       encoding="utf-8")
    written += [("month 1 selection", sel1), ("month 1 panel pack (open in a browser; prints on A4)", pack1),
                ("month 1 full ranked list", pack1.with_name(f"{pack1.stem}-ranked.csv")),
                ("decision log (hash-chained)", log), ("decisions listed and verified", listing)]

    # Month 2: the people the panel included are the current cohort.
    included = [json.loads(line)["person_id"] for line in log.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("decision") == "include"]
    pack2 = out / "panel-month2.html"
    _run(["panel", str(ref), *common, "--out", str(pack2), "--meeting-date", MEETING_2,
          "--generated-at", GENERATED_2, "--previous", str(sel1), "--decisions", str(log),
          "--current-cohort", ",".join(included), "--save-selection", str(out / "selection-month2.json"),
          "--run-log-time", GENERATED_2])
    written.append(("month 2 panel pack (current cohort, changes and decisions)", pack2))
    audit = out / "audit-month1.md"
    _run(["audit", str(sel1), "--referrals", str(ref), "--by", "ethnicity,sex", "-o", str(audit)])
    card = out / "card-iom-priority.md"
    _run(["card", "iom-priority", "-o", str(card)])
    written += [("month 1 selection rates by group (iomscore audit)", audit), ("model card (iomscore card)", card)]
    written += _operating_model(out, ref)
    runs = out / "runs.txt"
    runs.write_text(_run(["runs", str(out / "iomscore-runs.jsonl")]), encoding="utf-8")
    written += [("run log (hash-chained: every score, select and panel run)", out / "iomscore-runs.jsonl"),
                ("run log listed and verified", runs)]

    # Learning: synthetic outcomes -> a points table learned from them -> its scores -> the report.
    outcomes, learned = out / "outcomes.csv", out / "learned-points.json"
    synth.write_outcomes_csv(synth.generate_outcomes(table, args.seed), outcomes)
    _run(["learn", str(ref), "--outcomes", str(outcomes), "--target", "reoffended_2y", "-o", str(learned)])
    learned_scores = out / "scores-learned-points.csv"
    _run(["score", str(ref), "--scorer", str(learned), "-o", str(learned_scores),
          "--rejects", str(out / "rejects-learned-points.csv")])
    written += [("synthetic outcomes (generating model: iomscore.synth)", outcomes),
                ("points table learned from them", learned),
                ("its cross-validated report (against OGRS3, iom-priority)", out / "learned-points.report.md"),
                ("learned-table scores", learned_scores)]
    written += _accountability(out, ref, outcomes, args)

    width = max(len(label) for label, _ in written)
    print(f"iomscore demo: {args.n} synthetic referrals (seed {args.seed}) in {out}/")
    for label, path in written:
        print(f"  {label:<{width}}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
