"""Model cards: what a scorer is for, what it reads and cannot read, how it scores, and its limits.

:func:`model_card` builds a :class:`ModelCard` for any scorer (built-in, a points spec, a learned
table or a third-party scorer through the :class:`~iomscore.Scorer` protocol) from what the
scorer itself declares: its identity and sha256, the features it reads (with the feature
engine's descriptions), its points table, bands and probability table when it has them, and the
validation figures its spec's provenance carries. Everything a model cannot tell about itself
(who owns it, where it is used, the DPIA and equality impact assessment) is left as a clearly
marked blank, :data:`BLANK`, including the fields of the Algorithmic Transparency Recording
Standard (ATRS) tiers 1 and 2 that only the owner can fill. A card holds no date: the same
scorer gives the same bytes.
"""

from __future__ import annotations

import html
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["BLANK", "ModelCard", "model_card"]

#: The mark of a field only the tool's owner can fill.
BLANK: Final = "[BLANK: to be completed by the owner]"

PURPOSE: Final = (
    "Integrated Offender Management (IOM) cohort prioritisation: ranking the people referred to a "
    "local IOM panel, with reasons, so that the panel can decide whom to offer a place in the cohort "
    "(support from police, probation and partners together with closer supervision). A panel of "
    "people decides; the score is one input to that decision and every decision is recorded with "
    "its reason."
)
NOT_FOR: Final = (
    "sentencing, bail, recall, parole or charging decisions",
    "assessing risk of serious harm (RoSH levels and MAPPA route people for review by the policy; "
    "they are never a factor of any score)",
    "any decision about a person without a panel's review",
    "people under 18 (the shipped policy's eligibility starts at 18)",
    "populations or jurisdictions it has not been validated on, without local validation first",
)
AFFECTED: Final = (
    "Adults referred to an IOM panel in England and Wales by police, probation or partners: people "
    "with proven offending, identified by a pseudonymous person_id (the schema holds no names). "
    "Being selected brings both support and closer supervision, so errors fall both ways: people "
    "selected who did not need it carry the burden of intervention, people missed lose support."
)
LIMITATIONS: Final = (
    "It learns or encodes recorded offending (proven offences, sanctions), which depends on who is "
    "policed and prosecuted; differences in recording between groups or areas carry into the score.",
    "A score is a ranking aid, not a prediction about an individual: people with the same score "
    "differ, and a band is a summary of a range.",
    "Validation figures, where shown, come from the data named; they may not hold for another "
    "area, another period or a changed referral route: check drift (iomscore drift) and audit "
    "locally (iomscore audit) before relying on bands.",
    "Missing inputs are scored as the spec says and flagged as warnings on the score; a record "
    "with much missing can look lower priority than it is.",
    "Time at risk excludes custody only as far as custody periods are recorded.",
)
PUBLISHED: Final[Mapping[str, tuple[str, ...]]] = {
    "ogrs3": (
        "Published model: Howard, Francis, Soothill and Humphreys (2009), OGRS 3: the revised Offender "
        "Group Reconviction Scale, Ministry of Justice Research Summary 7/09; its validation figures are "
        "those of the publication (not carried by this scorer).",
        "Implementation check: the MoJ's published reference cases are reproduced (tests/scoring/test_ogrs3.py).",
    ),
    "oasys-static": (
        "Published model: the HMPPS OASys v4 static predictors, from the coefficients shipped with "
        "iomscore; their validation figures are HMPPS's (not carried by this scorer).",
        "Implementation check: every calculable case of the MoJ regression set is reproduced "
        "(tests/scoring/test_ogrs4.py).",
    ),
}
KIND_LIMITATIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "ogrs3": ("A national actuarial predictor of proven reoffending built on probation and custody "
              "populations, not on IOM referrals; it reads sex and age, so it is a comparator or an "
              "input for the panel, and its bands are HMPPS's, not a cohort rule.",),
    "oasys-static": ("A national actuarial predictor built for probation assessment (OASys), not on IOM "
                     "referrals; it reads sex and age; SNSV predicts serious violence and must not be "
                     "read as a serious-harm assessment (RoSH).",),
}
_DEFAULT_SCORE: Final = "Its own documentation (below) describes how a score is made."


@dataclass(frozen=True)
class ModelCard:
    """A model card as ordered sections of (heading, paragraphs or bullet lists, tables).

    Each section is ``(title, blocks)`` where a block is a ``str`` (a paragraph), a ``tuple``
    of ``str`` (a bullet list) or a ``dict`` with ``"headers"`` and ``"rows"`` (a table).
    """

    title: str
    sections: tuple[tuple[str, tuple[Any, ...]], ...]

    def to_markdown(self) -> str:
        """The card as Markdown."""
        from ..fairness._render import markdown_table

        out = [f"# {self.title}", ""]
        for heading, blocks in self.sections:
            out += [f"## {heading}", ""]
            for block in blocks:
                if isinstance(block, str):
                    out += [block, ""]
                elif isinstance(block, tuple):
                    out += [f"- {item}" for item in block] + [""]
                else:
                    out += [markdown_table(block["headers"], block["rows"]), ""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """The card as one self-contained, escaped HTML page (inline CSS, no JavaScript)."""
        from ..fairness._render import html_document, html_table

        body = []
        for heading, blocks in self.sections:
            body.append(f"<h2>{html.escape(heading)}</h2>")
            for block in blocks:
                if isinstance(block, str):
                    cls = ' class="blank"' if BLANK in block else ""
                    body.append(f"<p{cls}>{html.escape(block)}</p>")
                elif isinstance(block, tuple):
                    body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block) + "</ul>")
                else:
                    body.append(html_table(block["headers"], block["rows"],
                                           text_columns=tuple(range(len(block["headers"])))))
        return html_document(self.title, "\n".join(body))


def _first_paragraph(obj: Any) -> str:
    doc = inspect.getdoc(type(obj)) or ""
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
    keep = []
    for p in paragraphs:
        if p.startswith(("Examples", "Parameters", ">>>", "---")):
            break
        keep.append(p)
    return "\n\n".join(keep)


def _inputs(features: Sequence[str], monotone: Mapping[str, str]) -> dict[str, Any]:
    from ..features import FEATURES

    rows = []
    for name in features:
        f = FEATURES.get(name)
        rows.append([name, f.description if f is not None else "(not a feature of iomscore.features)",
                     f.unit if f is not None else "", monotone.get(name, "")])
    return {"headers": ["feature", "what it is", "unit", "declared direction"], "rows": rows}


def _cannot_read(features: Sequence[str]) -> tuple[str, ...]:
    from ..schema import ProtectedCharacteristics, SeriousHarm

    protected = ", ".join(n.replace("_", " ") for n in ProtectedCharacteristics.model_fields)
    harm = ", ".join(n.replace("_", " ") for n in SeriousHarm.model_fields)
    sex = ("It reads sex: sex is declared among its features (a published factor of the model), so "
           "audits always report by sex." if "sex" in features else
           "Sex: not read (a scorer reads sex only when it declares it; this one does not).")
    return (
        f"Protected characteristics: {protected}. The feature engine has no access to them; they "
        "are read only by audits and the panel pack's group totals.",
        sex,
        "Age: not read (no age feature is declared)." if not any(f.startswith("age") for f in features)
        else "Age: read through the age features declared above.",
        f"Serious-harm information: {harm}. It routes people for review under the policy and is never "
        "a factor of a score.",
        "Names, addresses and free text: the referral schema holds none.",
        "Anything not in the table above: a scorer receives only the features it declares.",
    )


def _points(spec: Any) -> list[Any]:
    blocks: list[Any] = [
        f"A points table: everyone starts with {spec.intercept} ({spec.intercept_reason}); each factor "
        "adds the points of the one bin the person's value falls in; the total is the score "
        f"({spec.direction}). The breakdown of every score lists the points of each factor and why."
    ]
    rows = []
    for f in spec.factors:
        for b in f.bins:
            if b.equals is not None:
                when = f"= {b.equals}"
            else:
                lo = "" if b.lower is None else f"{b.lower:g} <= "
                hi = "" if b.upper is None else f" < {b.upper:g}"
                when = f"{lo}value{hi}" if (lo or hi) else "any value"
            rows.append([f.label, f.feature, when, f"{b.points:+d}", b.reason])
        rows.append([f.label, f.feature, "not recorded", f"{f.missing_points:+d}", f.missing_reason.replace("{label}", f.label)])
    blocks.append({"headers": ["factor", "feature", "when", "points", "reason shown"], "rows": rows})
    bands = [[b.name, "" if b.lower is None else f"{b.lower:g}", "" if b.upper is None else f"{b.upper:g}",
              b.description] for b in spec.bands]
    blocks.append({"headers": ["band", "from (total >=)", "to (total <)", "meaning"], "rows": bands})
    if spec.probability is not None:
        blocks.append(f"Each total maps to a probability of {spec.probability.outcome} through the spec's "
                      "probability table.")
    return blocks


def _validation(spec: Any, kind: str = "") -> list[Any]:
    provenance = dict(getattr(spec, "provenance", {}) or {})
    cv = provenance.get("cross_validation")
    blocks: list[Any] = list(PUBLISHED.get(kind, ()))
    if isinstance(cv, Mapping):
        rows = [[str(k), str(v)] for k, v in cv.items()]
        data = provenance.get("data", "the data named in the spec")
        blocks += [f"Cross-validated on {data} ({provenance.get('rows', '?')} rows, outcome "
                   f"{provenance.get('outcome_column', '?')}):", {"headers": ["figure", "value"], "rows": rows}]
    for key in ("method", "bands", "sources", "data", "filter", "excluded_inputs", "reproduce"):
        value = provenance.get(key)
        if value and not (key == "data" and cv is not None):
            text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
            blocks.append(f"{key.replace('_', ' ').capitalize()}: {text}")
    if not blocks:
        blocks.append("The spec carries no validation figures. " + BLANK + " (local validation: "
                      "iomscore.evaluation, and iomscore audit with outcomes).")
    return blocks


def model_card(scorer: Any, *, source: str | None = None, audit_summary: Sequence[str] = ()) -> ModelCard:
    """The model card of a scorer (name, spec path or :class:`~iomscore.Scorer`).

    Parameters
    ----------
    scorer : str, Path or Scorer
    source : str, optional
        Where the scorer came from (shown on the card), e.g. the spec file given.
    audit_summary : sequence of str
        Lines of a fairness audit to include; without them the card says how to run one.

    Examples
    --------
    >>> card = model_card("iom-priority")
    >>> card.title
    'Model card: IOM neighbourhood-crime priority (iom-priority 1.0.0)'
    >>> "[BLANK: to be completed by the owner]" in card.to_markdown()
    True
    """
    from ..scoring import get_scorer

    s = get_scorer(scorer)
    ident = s.identity
    spec = getattr(s, "spec", None)
    title_name = getattr(spec, "title", None) or ident.name
    features = tuple(s.features)
    description = (getattr(spec, "description", "") or _first_paragraph(s) or _DEFAULT_SCORE).strip()
    how = _points(spec) if spec is not None and hasattr(spec, "factors") else [_first_paragraph(s) or _DEFAULT_SCORE]
    provenance = dict(getattr(spec, "provenance", {}) or {})
    limits = list(LIMITATIONS) + list(KIND_LIMITATIONS.get(ident.kind, ()))
    if provenance.get("not_factors"):
        limits.insert(0, str(provenance["not_factors"]))
    audit_lines = tuple(audit_summary) or (
        "Not attached to this card. Run `iomscore audit SCORES --outcomes OUTCOMES.csv --referrals "
        "REFERRALS --by ethnicity,sex --capacity K` on local outcomes and attach the report; "
        "`iomscore audit SELECTION.json --referrals REFERRALS --by ...` gives selection rates by "
        "group without outcomes. " + BLANK,
    )
    identity_rows = [["name", ident.name], ["version", ident.version], ["kind", ident.kind],
                     ["sha256 (of the spec, canonical JSON)", ident.sha256], ["source", source or ident.name]]
    inputs = _inputs(features, dict(s.monotone))
    features_text = ", ".join(features)
    tier1 = [
        ["Name", f"{title_name} ({ident.name} {ident.version})"],
        ["Description", description],
        ["Website URL", BLANK],
        ["Contact email", BLANK],
        ["Organisation / team", BLANK],
        ["How the tool works", f"Scores each referral from {len(features)} recorded facts ({features_text}) "
                               "and ranks people for a panel; see 'How a score is made'."],
        ["Why it is used", PURPOSE],
        ["How it is part of decision-making", "A recommendation with reasons for a panel, which decides "
                                              "and records each decision and its reason in a hash-chained log."],
        ["Phase", BLANK],
    ]
    tier2 = [
        ["Owner and responsibility: senior responsible owner, supplier (section 1)", BLANK],
        ["Scope and benefits (section 2)", PURPOSE],
        ["Alternatives considered (section 2)", BLANK],
        ["Decision-making process: human review (section 3)", "Every recommendation is reviewed by a panel; overrides "
                                                     "are recorded and their rates reported by group (iomscore decisions)."],
        ["Frequency and scale of use (section 3)", BLANK + " (the run log, iomscore runs, counts every run and person scored)"],
        ["Appeals and review (section 3)", BLANK],
        ["Model: name, type, version (section 4)", f"{ident.name}, {ident.kind}, {ident.version} (sha256 {ident.sha256})"],
        ["Model: inputs (section 4)", features_text],
        ["Model: development and validation (section 4)", " ".join(str(b) for b in _validation(spec, ident.kind) if isinstance(b, str))],
        ["Maintenance (section 4)", BLANK],
        ["Data: source, collection, quality (section 5)", "Referral records from police and probation systems, checked "
                                                 "by the iomscore schema; rejected rows are listed with reasons. " + BLANK],
        ["Data: sharing, access, storage and retention (section 5)", BLANK + " (the run log's retention rule: "
                                                            "iomscore runs --remove-before)"],
        ["Impact assessments: DPIA (section 6)", BLANK],
        ["Impact assessments: equality impact assessment (section 6)", BLANK + " (evidence: iomscore audit)"],
        ["Risks and mitigations (section 6)", " ".join(LIMITATIONS[:2]) + " " + BLANK],
    ]
    sections: list[tuple[str, tuple[Any, ...]]] = [
        ("Identity", ({"headers": ["field", "value"], "rows": identity_rows},)),
        ("Purpose and intended use", (PURPOSE, description)),
        ("Not for", (tuple(NOT_FOR),)),
        ("Who is affected", (AFFECTED,)),
        ("Inputs it reads", (inputs,)),
        ("Inputs it cannot read", (_cannot_read(features),)),
        ("How a score is made", tuple(how)),
        ("Validation", tuple(_validation(spec, ident.kind))),
        ("Fairness audit", audit_lines),
        ("Known limitations", (tuple(limits),)),
        ("ATRS tier 1", ("Fields of the Algorithmic Transparency Recording Standard, tier 1. " + BLANK
                         + " marks what only the owner can fill.", {"headers": ["field", "entry"], "rows": tier1})),
        ("ATRS tier 2", ({"headers": ["field", "entry"], "rows": tier2},)),
    ]
    return ModelCard(title=f"Model card: {title_name} ({ident.name} {ident.version})", sections=tuple(sections))
