"""``iomscore audit``: the fairness audit from the command line.

``iomscore audit SCORES --outcomes OUTCOMES.csv --referrals REFERRALS --by ethnicity,sex
--capacity K`` joins a score file (what ``iomscore score`` wrote) to recorded outcomes and to
the protected characteristics of the referral list (score files do not carry them), and runs
:func:`iomscore.fairness.audit`. At a capacity the top K scores are selected (ties by file order)
and the audit is run twice: on the scores (base rates, AUC, selection at capacity) and on the
0/1 selection itself with threshold 1 (false-positive and false-negative rates *at* the
capacity), as ``docs/fairness.md`` describes. ``--threshold T`` audits selection at
``score >= T`` instead. Every group is reported, small ones flagged, with bootstrap intervals.

``iomscore audit SELECTION.json --referrals REFERRALS --by ...`` needs no outcomes: it gives the
selection rates of a saved selection by group (:func:`iomscore.cohort.selection_rates`).

Both say in words what a gap means and what it does not.
"""

from __future__ import annotations

import argparse
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ._common import EXIT_OK, NO_INPUT, CliError, emit, file_name, whole_number
from ._scorefile import (
    characteristics,
    protected_columns,
    read_outcomes,
    read_score_file,
    referral_table,
)

if TYPE_CHECKING:
    from ..fairness import AuditResult, Comparison

__all__ = ["GAP_DOES_NOT_MEAN", "GAP_MEANS", "register", "run"]

GAP_MEANS: Final = (
    "A gap in the false-positive rate means that, among the people who did not go on to reoffend "
    "(on record), those in one group were selected for IOM more often than those in the reference "
    "group: the burden of intervention fell on them more. A gap in the false-negative rate means that, "
    "among the people who did reoffend, more in one group were missed. An interval that excludes 0 "
    "means the gap is larger than chance variation in who happened to be referred would produce."
)
GAP_DOES_NOT_MEAN: Final = (
    "A gap does not show that the score treats anyone differently because of their group (it never "
    "reads protected characteristics), nor that it is unlawful: the Equality Act 2010 asks whether a "
    "group is put at a particular disadvantage and whether that is a proportionate means of a "
    "legitimate aim, which is for the partnership to judge. An interval that includes 0 does not show "
    "there is no gap, only that this data cannot tell. When base rates differ, false-positive rates, "
    "false-negative rates and calibration cannot all be equal at once (Chouldechova 2017): decide "
    "beforehand which matters most. Outcomes are recorded reoffending, which depends on who is policed. "
    "Small groups cannot be assessed at all; that is itself a finding."
)
SELECTION_MEANS: Final = (
    "Selection rates say who the recommendation picks from each group, out of the people referred. "
    "They need no outcomes and say nothing about accuracy: a group selected more often may also "
    "reoffend more often on record, or may be over-selected. For error rates by group, audit a score "
    "file with --outcomes."
)
#: Added to the fairness page style so the wide comparison tables fit an A4 page, on screen and printed.
FIT_PAGE_CSS: Final = (
    "body { margin: 0.8rem; } table { width: 100%; table-layout: fixed; font-size: 0.62rem; } "
    "th, td { padding: 0.1rem 0.2rem; overflow-wrap: anywhere; hyphens: auto; } "
    "@page { size: A4; margin: 10mm; }"
)
ONE_OF: Final = "give --capacity K or --threshold T (not both) to audit a score file"
NO_OUTCOMES: Final = "--outcomes OUTCOMES.csv is needed to audit a score file (a selection JSON needs none)"
NO_BY: Final = "--by needs at least one protected characteristic, e.g. --by ethnicity,sex"
NO_REFERRALS: Final = "--referrals FILE is needed: score files and selections do not carry protected characteristics"
NOTHING_KNOWN: Final = "no person in {path} has a known outcome in {outcomes}; nothing to audit"
AT_CAPACITY_NOTE: Final = (
    "In this table the score audited is the 0/1 selection at capacity with threshold 1, so "
    "'selected (threshold)' is the share selected at capacity and TPR, FPR, FNR and PPV are the error "
    "rates of the top-{k} selection (its AUC only says how well a yes/no selection ranks)."
)
JOINED: Final = (
    "{n} people with a score and a known outcome ({column}); {unknown} without a known outcome and "
    "{unscored} not scored were left out."
)


def _is_selection(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"decisions"' in head or b'"policy_sha256"' in head


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """0/1: the ``k`` highest scores, ties broken by file order (a stable sort on ``-score``)."""
    order = np.argsort(-scores, kind="stable")
    selected = np.zeros(scores.size, dtype=float)
    selected[order[: min(k, scores.size)]] = 1.0
    return selected


def _gap_sentences(result: AuditResult, metrics: tuple[str, ...], where: str) -> list[str]:
    out = []
    for c in result.comparisons:
        if c.metric not in metrics or c.difference != c.difference:  # NaN: not reported
            continue
        out.append(_gap_sentence(c, result.confidence, where))
    return out


def _gap_sentence(c: Comparison, confidence: float, where: str) -> str:
    name = {"fpr": "false-positive rate", "fnr": "false-negative rate"}.get(c.metric, c.metric)
    pp = 100 * c.difference
    low, high = 100 * c.difference_low, 100 * c.difference_high
    direction = "higher" if pp > 0 else "lower" if pp < 0 else "the same as"
    size = f"{abs(pp):.1f} pp {direction} than" if pp else "the same as"
    interval = f"{confidence:.0%} interval {low:+.1f} to {high:+.1f} pp"
    if low > 0 or high < 0:
        verdict = "the interval excludes 0: a gap larger than chance would produce"
    else:
        verdict = "the interval includes 0: this data cannot tell whether there is a gap"
    return (f"{c.characteristic} = {c.group}: {name} {where} {100 * c.value:.1f}%, {size} "
            f"{c.reference} ({100 * c.reference_value:.1f}%); {interval}; {verdict}.")


def _audit_scores(args: argparse.Namespace) -> dict[str, Any]:
    from ..fairness import audit

    if (args.capacity is None) == (args.threshold is None):
        raise CliError(ONE_OF)
    if not args.outcomes:
        raise CliError(NO_OUTCOMES)
    frame = read_score_file(args.input)
    outcomes = read_outcomes(args.outcomes, args.outcome)
    known = np.array([outcomes.get(p) is not None for p in frame["person_id"]], dtype=bool)
    scored = np.isfinite(frame["score"].to_numpy(dtype=float))
    keep = known & scored
    if not keep.any():
        raise CliError(NOTHING_KNOWN.format(path=args.input, outcomes=args.outcomes))
    people = frame.loc[keep].reset_index(drop=True)
    y = np.array([bool(outcomes[p]) for p in people["person_id"]], dtype=bool)
    scores = people["score"].to_numpy(dtype=float)
    groups = protected_columns(referral_table(args.referrals, args), people["person_id"], args.by)
    settings = {"min_group_size": args.min_group_size, "n_bootstrap": args.bootstrap, "random_state": args.seed}
    intro = JOINED.format(n=int(keep.sum()), column=args.outcome, unknown=int((~known & scored).sum()),
                          unscored=int((~scored).sum()))
    sections: list[tuple[str, AuditResult]] = []
    if args.capacity is not None:
        ranking = audit(scores, y, groups, capacity=args.capacity, **settings)
        at_capacity = audit(_top_k(scores, args.capacity), y, groups, threshold=1, **settings)
        intro += " " + AT_CAPACITY_NOTE.format(k=args.capacity)
        sections = [(f"Error rates at capacity: the top {args.capacity} selected", at_capacity),
                    ("The score: base rates, ranking (AUC) and selection at capacity", ranking)]
        where = f"at capacity {args.capacity}"
        gaps = _gap_sentences(at_capacity, ("fpr", "fnr"), where)
    else:
        result = audit(scores, y, groups, threshold=args.threshold, capacity=None, **settings)
        sections = [(f"Selection at score >= {args.threshold:g}", result)]
        gaps = _gap_sentences(result, ("fpr", "fnr"), f"at score >= {args.threshold:g}")
    return {"kind": "scores", "intro": intro, "sections": sections, "gaps": gaps}


def _audit_selection(args: argparse.Namespace) -> dict[str, Any]:
    from ..cohort import CohortSelection, selection_rates

    selection = CohortSelection.load(args.input)
    table = referral_table(args.referrals, args)
    protected_columns(table, [], args.by)  # names checked against the referral list
    rates = selection_rates(selection, table, characteristics=args.by, min_group_size=args.min_group_size)
    intro = (f"Selection {args.input} (sha256 {selection.sha256[:12]}): policy {selection.policy_name} "
             f"{selection.policy_version}; {rates.formatted()} people referred were selected.")
    return {"kind": "selection", "intro": intro, "rates": rates}


def _markdown(report: dict[str, Any]) -> str:
    from ..fairness._render import markdown_table, markdown_text

    parts = ["# Fairness audit", "", markdown_text(report["intro"]), ""]
    if report["kind"] == "selection":
        rates = report["rates"]
        rows = [[g.characteristic, g.group, str(g.referred), str(g.eligible), str(g.selected), g.formatted(),
                 "small group" if g.small else ""] for g in rates.by_group]
        parts += ["## Selection rates by group", "",
                  markdown_table(["characteristic", "group", "referred", "eligible", "selected", "rate", "note"], rows),
                  "", markdown_text(rates.caveat), "", "## What a difference means", "", markdown_text(SELECTION_MEANS), ""]
        return "\n".join(parts)
    parts += ["## What a gap means", "", markdown_text(GAP_MEANS), "", "## What a gap does not mean", "",
              markdown_text(GAP_DOES_NOT_MEAN), "", "## The gaps in words", ""]
    parts += [f"- {markdown_text(g)}" for g in report["gaps"]] or ["No comparison could be made (groups too small)."]
    parts.append("")
    for title, result in report["sections"]:
        parts += [result.to_markdown(title=title), ""]
    return "\n".join(parts)


def _html_body(page: str) -> str:
    start = page.index("</h1>") + len("</h1>")
    return page[start: page.rindex("</body>")]


def _html(report: dict[str, Any]) -> str:
    from ..fairness._render import html_document, html_paragraphs, html_table

    body = [html_paragraphs([report["intro"]])]
    if report["kind"] == "selection":
        rates = report["rates"]
        rows = [[g.characteristic, g.group, str(g.referred), str(g.eligible), str(g.selected), g.formatted(),
                 "small group" if g.small else ""] for g in rates.by_group]
        body.append(html_table(["characteristic", "group", "referred", "eligible", "selected", "rate", "note"],
                               rows, caption="Selection rates by group", text_columns=(0, 1, 5, 6)))
        body += [html_paragraphs([rates.caveat]), "<h2>What a difference means</h2>", html_paragraphs([SELECTION_MEANS])]
        return html_document("Fairness audit", "\n".join(body)).replace("</style>", FIT_PAGE_CSS + "</style>", 1)
    body += ["<h2>What a gap means</h2>", html_paragraphs([GAP_MEANS]),
             "<h2>What a gap does not mean</h2>", html_paragraphs([GAP_DOES_NOT_MEAN]),
             "<h2>The gaps in words</h2>",
             html_paragraphs(report["gaps"] or ["No comparison could be made (groups too small)."])]
    for title, result in report["sections"]:
        body += [f"<h2>{html.escape(title)}</h2>", _html_body(result.to_html(title=title))]
    return html_document("Fairness audit", "\n".join(body)).replace("</style>", FIT_PAGE_CSS + "</style>", 1)


def _json(report: dict[str, Any]) -> str:
    from ..fairness._render import json_safe

    data: dict[str, Any] = {"kind": report["kind"], "summary": report["intro"]}
    if report["kind"] == "selection":
        data.update(selection_rates=report["rates"].to_dict(), what_a_difference_means=SELECTION_MEANS)
    else:
        data.update(gap_means=GAP_MEANS, gap_does_not_mean=GAP_DOES_NOT_MEAN, gaps=report["gaps"],
                    audits=[{"title": title, **result.to_dict()} for title, result in report["sections"]])
    return json.dumps(json_safe(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace) -> int:
    """Audit a score file against outcomes, or a selection without them; write the report."""
    if not args.by:
        raise CliError(NO_BY)
    if not args.referrals:
        raise CliError(NO_REFERRALS)
    path = Path(args.input)
    if not path.is_file():
        raise CliError(NO_INPUT.format(path=path))
    report = _audit_selection(args) if _is_selection(path) else _audit_scores(args)
    text = {"markdown": _markdown, "html": _html, "json": _json}[args.format](report)
    emit(text, args.output)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``audit`` to the ``iomscore`` subcommands.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="iomscore")
    >>> register(parser.add_subparsers(dest="command"))
    >>> a = parser.parse_args(["audit", "s.csv", "--outcomes", "o.csv", "--referrals", "r.jsonl",
    ...     "--by", "ethnicity,sex", "--capacity", "20"])
    >>> a.by, a.capacity, a.format
    (['ethnicity', 'sex'], 20, 'markdown')
    """
    p = subparsers.add_parser(
        "audit", help="fairness audit of a score file (with outcomes) or a saved selection",
        description="Error rates by group at a capacity or threshold, with bootstrap intervals (a score "
        "file and --outcomes), or selection rates by group (a selection JSON); small groups are reported.")
    p.add_argument("input", metavar="SCORES_OR_SELECTION",
                   help="a score file (iomscore score -o) or a selection JSON (select --format json --out, panel --save-selection)")
    p.add_argument("--referrals", metavar="FILE", help="the referral list scored: its protected characteristics are read")
    p.add_argument("--sanctions", help="sanctions table of a CSV or Parquet referral list (default: beside it)")
    p.add_argument("--custody", help="custody table of a CSV or Parquet referral list (default: beside it)")
    p.add_argument("--outcomes", metavar="OUTCOMES.csv", help="person_id and the outcome column (1, 0 or blank)")
    p.add_argument("--outcome", default="reoffended_2y", metavar="COLUMN", help="outcome column (default: %(default)s)")
    p.add_argument("--by", type=characteristics, default=[], metavar="A,B",
                   help="protected characteristics to audit by, e.g. ethnicity,sex")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--capacity", type=whole_number(1), default=None, metavar="K", help="the top K scores are selected")
    how.add_argument("--threshold", type=float, default=None, metavar="T", help="selected when score >= T")
    p.add_argument("--min-group-size", type=whole_number(1), default=30, help="smaller groups are reported as too small (default %(default)s)")
    p.add_argument("--bootstrap", type=whole_number(0), default=1000, help="bootstrap resamples (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default %(default)s)")
    p.add_argument("--format", choices=("markdown", "html", "json"), default="markdown")
    p.add_argument("-o", "--output", type=file_name, default=None, help="write the report here (default: standard output)")
    p.set_defaults(func=run)
