"""The HTML reports of ``iomscore audit``, ``iomscore drift`` and ``iomscore card`` in headless Chromium.

Each page is loaded at the width of an A4 page with a measuring script added to a *test copy*
(the shipped pages have none): nothing may be wider than the page, every table must have rows,
and the drift chart must have a visible box with one visible bar per variable. The unmodified
page is then printed to PDF and its text read back with poppler's ``pdftotext``: the headings
and figures must be there, escaped text shown as text. In CI (``CI`` set) a missing Chromium or
poppler fails the test; elsewhere it skips.
"""

from __future__ import annotations

import json
import subprocess
from html import unescape
from pathlib import Path

import pytest
from browser_tools import A4_WIDTH_PX, require, run_chromium

from iomscore import cli

pytestmark = pytest.mark.browser

_MEASURE = """
<script>
(function () {
  var doc = document.documentElement, width = doc.clientWidth, wide = [], charts = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) { wide.push(el.tagName); }
  });
  document.querySelectorAll("svg").forEach(function (svg) {
    var r = svg.getBoundingClientRect(), bars = 0;
    svg.querySelectorAll("rect.bar").forEach(function (b) {
      var br = b.getBoundingClientRect(); if (br.width > 0 && br.height > 0) { bars += 1; }
    });
    charts.push({w: r.width, h: r.height, bars: bars});
  });
  var rows = [];
  document.querySelectorAll("table").forEach(function (t) { rows.push(t.querySelectorAll("tbody tr").length); });
  var pre = document.createElement("pre");
  pre.id = "layout-result";
  pre.textContent = JSON.stringify({scrollWidth: doc.scrollWidth, clientWidth: width, wide: wide.slice(0, 10),
                                    charts: charts, rows: rows});
  document.body.appendChild(pre);
})();
</script>
"""


def _browser(tmp: Path, *args: str) -> str:
    return run_chromium(tmp, *args).stdout


def _layout(tmp: Path, page: Path) -> dict:
    copy = tmp / f"measure-{page.name}"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    dom = _browser(tmp, f"--window-size={A4_WIDTH_PX},1200", "--dump-dom", copy.as_uri())
    start = dom.index('<pre id="layout-result">') + len('<pre id="layout-result">')
    return json.loads(unescape(dom[start: dom.index("</pre>", start)]))


def _printed(tmp: Path, page: Path) -> str:
    pdftotext = require("pdftotext")
    pdf = tmp / (page.stem + ".pdf")
    _browser(tmp, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert pdf.exists(), "chromium wrote no PDF"
    return subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("reports")
    refs, later, outcomes, scores = d / "refs.jsonl", d / "later.jsonl", d / "outcomes.csv", d / "scores.csv"
    assert cli.main(["synth", "-n", "600", "--seed", "3", "-o", str(refs), "--outcomes", str(outcomes)]) == 0
    assert cli.main(["synth", "-n", "400", "--seed", "4", "-o", str(later)]) == 0
    assert cli.main(["score", str(refs), "-o", str(scores)]) == 0
    out = {"audit": d / "audit.html", "drift": d / "drift.html", "card": d / "card.html"}
    assert cli.main(["audit", str(scores), "--outcomes", str(outcomes), "--referrals", str(refs), "--by",
                     "ethnicity,sex", "--capacity", "60", "--bootstrap", "100", "--format", "html",
                     "-o", str(out["audit"])]) == 0
    assert cli.main(["drift", str(refs), str(later), "--format", "html", "-o", str(out["drift"])]) == 0
    assert cli.main(["card", "ogrs3", "--format", "html", "-o", str(out["card"])]) == 0
    return out


@pytest.mark.parametrize(("name", "printed"), [
    ("audit", ("What a gap does not mean", "Error rates at capacity", "FPR")),
    ("drift", ("Population stability index", "offences_12m_at_risk", "band")),
    ("card", ("Inputs it cannot read", "ATRS tier 2", "BLANK: to be completed by the owner")),
])
def test_report_fits_the_page_and_prints(tmp_path: Path, pages: dict[str, Path], name: str,
                                         printed: tuple[str, ...]) -> None:
    layout = _layout(tmp_path, pages[name])
    assert layout["rows"] and all(n > 0 for n in layout["rows"]), layout
    assert layout["scrollWidth"] <= layout["clientWidth"] + 1 and not layout["wide"], layout
    if name == "drift":
        (chart,) = layout["charts"]
        variables = pages[name].read_text(encoding="utf-8").count('<rect class="bar"')
        assert chart["w"] > 0 and chart["h"] > 0 and chart["bars"] == variables >= 3, layout
    text = " ".join(_printed(tmp_path, pages[name]).split())
    for words in printed:
        assert words in text, (words, text[:400])
