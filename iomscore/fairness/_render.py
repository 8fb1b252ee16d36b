"""Plain-text and HTML rendering of fairness tables (no third-party dependencies)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

NOT_AVAILABLE: Final = "n/a"
TOO_SMALL: Final = "too small"

_STYLE: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem;
       color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #b1b4b6; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f3f2f1; }
td.text, th.text { text-align: left; }
tr.flag td { background: #fff4d6; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.25rem; }
p.note { font-size: 0.85rem; color: #505a5f; max-width: 60rem; }
"""


def is_missing(value: Any) -> bool:
    """True for ``None`` and float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_percent(value: float | None, decimals: int = 1) -> str:
    """Format a proportion as a percentage, e.g. ``0.4485 -> '44.9%'``."""
    if is_missing(value):
        return NOT_AVAILABLE
    assert value is not None
    return f"{100.0 * value:.{decimals}f}%"


def fmt_points(value: float | None, decimals: int = 1) -> str:
    """Format a difference of proportions in percentage points with a sign."""
    if is_missing(value):
        return NOT_AVAILABLE
    assert value is not None
    return f"{100.0 * value:+.{decimals}f} pp"


def fmt_number(value: float | None, decimals: int = 3, signed: bool = False) -> str:
    """Format a plain number."""
    if is_missing(value):
        return NOT_AVAILABLE
    assert value is not None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:+.{decimals}f}" if signed else f"{value:.{decimals}f}"


def fmt_interval(low: float | None, high: float | None, formatter: Any) -> str:
    """Format a confidence interval as ``[low, high]`` with ``formatter`` for each end."""
    if is_missing(low) or is_missing(high):
        return ""
    return f"[{formatter(low)}, {formatter(high)}]"


_TAG_START: Final = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_text(text: str) -> str:
    """Neutralise anything that a Markdown renderer would take for an HTML tag."""
    return _TAG_START.sub("&lt;", text).replace("\n", " ")


def _escape_markdown(text: str) -> str:
    return markdown_text(text).replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table; text columns left-aligned, the rest right-aligned."""
    rows = [list(r) for r in rows]
    align = []
    for j, _ in enumerate(headers):
        cells = [r[j] for r in rows if r[j] and r[j] not in (NOT_AVAILABLE, TOO_SMALL)]
        numeric = bool(cells) and all(c[0] in "+-0123456789[" for c in cells)
        align.append("---:" if numeric else ":---")
    lines = [
        "| " + " | ".join(_escape_markdown(h) for h in headers) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for r in rows:
        lines.append("| " + " | ".join(_escape_markdown(c) for c in r) + " |")
    return "\n".join(lines)


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str = "",
    text_columns: Sequence[int] = (),
    flagged_rows: Sequence[bool] | None = None,
) -> str:
    """An HTML ``<table>`` with escaped content."""
    rows = [list(r) for r in rows]
    text = set(text_columns)
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(
            f'<th class="text">{html.escape(h)}</th>' if j in text else f"<th>{html.escape(h)}</th>"
            for j, h in enumerate(headers)
        )
        + "</tr></thead>"
    )
    out.append("<tbody>")
    for i, r in enumerate(rows):
        cls = ' class="flag"' if flagged_rows is not None and flagged_rows[i] else ""
        cells = "".join(
            f'<td class="text">{html.escape(c)}</td>' if j in text else f"<td>{html.escape(c)}</td>"
            for j, c in enumerate(r)
        )
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def html_document(title: str, body: str) -> str:
    """A complete, self-contained HTML page (inline CSS, no JavaScript)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def html_paragraphs(lines: Iterable[str], css_class: str = "note") -> str:
    """Escaped ``<p>`` elements."""
    return "\n".join(f'<p class="{css_class}">{html.escape(line)}</p>' for line in lines)


def json_safe(value: Any) -> Any:
    """Recursively replace NaN and infinities by ``None`` and tuples by lists."""
    if isinstance(value, float):
        return None if (math.isnan(value) or math.isinf(value)) else value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
