"""A runnable demo: synthetic referrals, scored two ways, with rejects and explanations.

Run ``python -m iomscore.demo --out demo-output`` (``make demo`` does). It writes, into the
output directory:

* ``referrals.csv``, ``referrals-sanctions.csv``, ``referrals-custody.csv``: a synthetic
  referral list of a few hundred people (:mod:`iomscore.synth`) in the two-table CSV form,
  with a sprinkle of deliberately bad rows;
* ``scores-<scorer>.csv`` and ``rejects-<scorer>.csv`` for ``iom-priority`` and ``ogrs3``,
  produced by the same code as ``iomscore score`` (:func:`iomscore.io.score_files`);
* ``explanations.md``: the full breakdown of three people under both scorers;
* ``cohort-selection.json`` and ``panel-pack.html``: the cohort recommendation under the
  shipped neighbourhood-crime policy and the printable panel pack for the meeting.

This module is a script: it prints where each file is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from . import synth
from .cohort import select_cohort
from .io import score_files
from .panel import write_panel

__all__ = ["main"]

SCORERS: Final = ("iom-priority", "ogrs3")
N_PEOPLE: Final = 300
SEED: Final = 2025
BAD_FRACTION: Final = 0.02
#: Fixed dates so the demo's files are the same on every run.
DEMO_MEETING_DATE: Final = "2025-06-02"
DEMO_GENERATED_AT: Final = "2025-06-01T09:00:00+00:00"


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

    runs = {}
    for name in SCORERS:
        scores, rejects = out / f"scores-{name}.csv", out / f"rejects-{name}.csv"
        run = score_files(ref, scores, sanctions=san, custody=cus, scorer=name, rejects=rejects)
        runs[name] = run
        written += [(f"{name} scores ({run.counts_line})", scores), (f"{name} rejects", rejects)]

    # Three people to explain: the highest, a middle and the lowest iom-priority score.
    first = runs[SCORERS[0]].scores
    assert first.person_id is not None
    ok = first.ok.nonzero()[0]
    order = ok[(-first.score[ok]).argsort(kind="stable")]
    chosen = [str(first.person_id[i]) for i in (order[0], order[len(order) // 2], order[-1])]
    lines = ["# Explanations of three synthetic referrals", "",
             "The highest, a middle and the lowest `iom-priority` score, each under both scorers.", ""]
    for person in chosen:
        lines += [f"## {person}", ""]
        for name, run in runs.items():
            assert run.scores.person_id is not None and run.scores.error is not None or run.scores.ok.all()
            pids = list(run.scores.person_id)  # type: ignore[arg-type]
            i = pids.index(person)
            if run.scores.ok[i]:
                lines += [run.scores.result(i).explain(format="markdown"), ""]
            else:
                error = run.scores.error[i] if run.scores.error is not None else ""
                lines += [f"*{name}: not scored ({error})*", ""]
    explanations = out / "explanations.md"
    explanations.write_text("\n".join(lines), encoding="utf-8")
    written.append(("explanations of three people", explanations))

    # The panel step: a cohort recommendation under the shipped policy, and the panel pack.
    priority = runs[SCORERS[0]]
    if priority.input is not None and priority.scores.ok.any():
        selection = select_cohort(priority.input.table, priority.scores)
        selection_path = out / "cohort-selection.json"
        selection_path.write_text(selection.to_json(), encoding="utf-8")
        summary = selection.summary()
        pack = write_panel(
            out / "panel-pack.html", selection, groups=priority.input.table,
            title="IOM panel pack (synthetic demo)", panel="Demo neighbourhood-crime panel",
            meeting_date=DEMO_MEETING_DATE, generated_at=DEMO_GENERATED_AT,
        )
        written += [
            (f"cohort recommendation ({summary.get('selected', 0)} selected of "
             f"{summary.get('eligible', 0)} eligible)", selection_path),
            ("panel pack (open in a browser; prints on A4)", pack),
        ]

    width = max(len(label) for label, _ in written)
    print(f"iomscore demo: {args.n} synthetic referrals (seed {args.seed}) in {out}/")
    for label, path in written:
        print(f"  {label:<{width}}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
