"""Model cards: one per shipped scorer in docs/cards (kept current by this test), every required
section, the owner's blanks marked, what the scorer reads and cannot read, escaped HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iomscore import cli
from iomscore.monitoring import BLANK, model_card
from iomscore.scoring import available_scorers, get_scorer

CARDS = Path(__file__).resolve().parents[1] / "docs" / "cards"
SHIPPED = ("iom-priority", "ogrs3", "ogrs4g", "ogrs4v", "snsv")
SECTIONS = ("Identity", "Purpose and intended use", "Not for", "Who is affected", "Inputs it reads",
            "Inputs it cannot read", "How a score is made", "Validation", "Fairness audit", "Known limitations",
            "ATRS tier 1", "ATRS tier 2")


@pytest.mark.parametrize("name", SHIPPED)
def test_docs_carry_the_current_card_of_every_shipped_scorer(name: str) -> None:
    assert name in available_scorers()
    assert (CARDS / f"{name}.md").read_text(encoding="utf-8") == model_card(name).to_markdown(), (
        f"docs/cards/{name}.md is out of date: iomscore card {name} -o docs/cards/{name}.md")


@pytest.mark.parametrize("name", SHIPPED)
def test_a_card_says_what_it_is_for_what_it_reads_and_what_is_left_blank(name: str) -> None:
    scorer = get_scorer(name)
    text = model_card(name).to_markdown()
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == list(SECTIONS)
    assert scorer.identity.sha256 in text and scorer.identity.version in text
    assert "sentencing" in text and "serious harm" in text and BLANK in text
    for feature in scorer.features:
        assert f"| {feature} |" in text
    reads_sex = "sex" in scorer.features
    assert ("It reads sex" in text) is reads_sex and ("Sex: not read" in text) is not reads_sex
    assert "ethnicity" in text.split("## Inputs it cannot read")[1].split("##")[0]


def test_a_learned_spec_card_carries_its_validation_figures(tmp_path: Path, capsys) -> None:
    spec = Path(__file__).resolve().parents[1] / "models" / "examples" / "compas-points-2y.json"
    out = tmp_path / "card.md"
    assert cli.main(["card", str(spec), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    auc = json.loads(spec.read_text())["provenance"]["cross_validation"]["auc"]
    assert f"| auc | {auc} |" in text and "Cross-validated on" in text
    capsys.readouterr()


def test_html_cards_are_escaped_and_self_contained(tmp_path: Path, capsys) -> None:
    spec = {"format": "iomscore.points/1", "name": "hostile", "version": "1.0.0",
            "title": "<script>alert(1)</script> & co", "description": "<img src=x onerror=alert(1)>",
            "factors": [{"name": "recent", "feature": "offences_12m_at_risk", "label": "Recent <b>offending</b>",
                         "bins": [{"upper": 1, "points": 0, "reason": "None"},
                                  {"lower": 1, "points": 2, "reason": "{value} recent"}]}],
            "bands": [{"name": "low", "upper": 2}, {"name": "high", "lower": 2}]}
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    out = tmp_path / "card.html"
    assert cli.main(["card", str(path), "--format", "html", "-o", str(out)]) == 2  # records no sha256
    assert "--allow-unhashed" in capsys.readouterr().err
    assert cli.main(["card", str(path), "--format", "html", "-o", str(out), "--allow-unhashed"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page and 'class="blank"' in page
    assert "http" not in page.replace("http-equiv", "")
    capsys.readouterr()
