"""The panel pack's "when would they leave" line on each card and its one-line drift note."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

from cohort_helpers import demo_referrals

import iomscore
from iomscore import cli, synth
from iomscore.cohort import leaves_after, load_policy, select_cohort
from iomscore.panel import _cards, render_panel

STAMP = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
LINE = re.compile(r'<section class="card" id="card-(.*?)".*?(?:<p class="leaves"><b>(.*?):</b> (.*?)\.</p>|</section>)',
                  re.DOTALL)


def _pack(**kwargs):
    table = iomscore.ReferralTable.from_referrals(demo_referrals(40, seed=3))
    sel = select_cohort(table, iomscore.score_batch(table), capacity=8)
    return table, sel, render_panel(sel, table=table, generated_at=STAMP, cards="all", **kwargs)


def test_every_scored_card_says_when_they_would_no_longer_meet_the_entry_rules() -> None:
    table, sel, page = _pack(policy="neighbourhood-crime-cohort")
    expected = leaves_after(table, policy=load_policy())
    found = {html.unescape(pid): (title, html.unescape(text) if text else None) for pid, title, text in LINE.findall(page)}
    assert len(found) == len(sel.decisions)
    for d in sel.decisions:
        title, text = found[d.person_id]
        if d.score is None:
            assert not text
            continue
        assert title == _cards.LEAVES_TITLE
        assert text == expected.sentence(expected.index(d.person_id))
    assert any("more offence-free months at risk, on " in t for _, t in found.values() if t)
    assert any("already at the assessment date" in t for _, t in found.values() if t)  # the people not eligible


def test_no_policy_no_line_and_one_call_for_all_the_carded_people(monkeypatch) -> None:
    assert 'class="leaves"' not in _pack()[2]
    calls = []
    real = _cards.leaves_after

    def counted(table, *args, **kwargs):
        calls.append(table.n)
        return real(table, *args, **kwargs)

    monkeypatch.setattr(_cards, "leaves_after", counted)
    _, sel, page = _pack(policy=load_policy())
    assert calls == [sum(d.score is not None for d in sel.decisions)]  # arrays, not one call per person
    assert page.count('class="leaves"') == calls[0]


def test_the_drift_note_is_one_escaped_line_under_the_header() -> None:
    page = _pack(drift="Drift <May> -> June: no variable shifted")[2]
    note = re.findall(r'<p class="explain drift" id="drift">(.*?)</p>', page)
    assert note == ["<b>Drift against the baseline:</b> Drift &lt;May&gt; -&gt; June: no variable shifted"]
    assert 'id="drift"' not in _pack()[2]


def test_panel_baseline_option_writes_the_drift_note_and_logs_the_baseline(tmp_path, capsys) -> None:
    ref, base, scores = tmp_path / "r.csv", tmp_path / "b.csv", tmp_path / "b-scores.csv"
    synth.write_csv(synth.generate(80, 1), ref)
    synth.write_csv(synth.generate(80, 2), base)
    assert cli.main(["score", str(base), "-o", str(scores)]) == 0
    log = tmp_path / "runs.jsonl"
    for baseline, kinds in ((base, 3), (scores, 2)):
        pack = tmp_path / f"pack-{baseline.stem}.html"
        assert cli.main(["panel", str(ref), "--baseline", str(baseline), "--out", str(pack), "--run-log", str(log),
                         "--generated-at", "2026-01-01T00:00:00Z"]) == 0
        text = pack.read_text(encoding="utf-8")
        note = html.unescape(re.search(r'<p class="explain drift" id="drift">(.*?)</p>', text).group(1))
        assert note.startswith(f"<b>Drift against the baseline:</b> Drift {baseline} -> {ref}: ")
        assert "PSI" in note and (kinds == 2) == ("of 2 variables" in note or "no variable" in note)
        assert text.count('class="leaves"') >= 1
        record = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
        assert {"role": "drift baseline", "path": str(baseline)}.items() <= next(
            i for i in record["inputs"] if i["role"] == "drift baseline").items()
    capsys.readouterr()
    assert cli.main(["panel", str(ref), "--baseline", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "x.html"),
                     "--run-log", str(log)]) != 0
    assert "nope.csv" in capsys.readouterr().err and not (tmp_path / "x.html").exists()
