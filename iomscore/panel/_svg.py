"""Small inline SVG charts for the panel pack: no JavaScript, no fonts, no external files."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from ..scoring._result import BreakdownPart, format_part_value

__all__ = ["NEGATIVE_COLOUR", "POSITIVE_COLOUR", "breakdown_chart"]

#: Fill of bars that raise the score (also used by the browser test to find the bars).
POSITIVE_COLOUR: Final = "#1f5fa8"
#: Fill of bars that lower the score.
NEGATIVE_COLOUR: Final = "#b35c00"
WIDTH: Final = 640
ROW: Final = 22
LABEL_WIDTH: Final = 320
VALUE_WIDTH: Final = 70
MAX_LABEL_CHARS: Final = 50


def _short(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def breakdown_chart(parts: Sequence[BreakdownPart], unit: str = "points", *, title: str = "") -> str:
    """A horizontal bar chart of a score's breakdown, as an inline ``<svg>`` element.

    Parts are drawn largest contribution first; parts worth nothing are left out (the text
    beside the chart lists every reason). Positive parts extend right of the zero line,
    negative parts left. Every string is escaped.

    Parameters
    ----------
    parts : sequence of BreakdownPart
    unit : str
        ``"points"`` or ``"percentage points"``; values are labelled in it.
    title : str
        Accessible title of the chart.

    Returns
    -------
    str
        An ``<svg>`` element that scales to its container's width.

    Examples
    --------
    >>> from iomscore import BreakdownPart
    >>> svg = breakdown_chart([BreakdownPart(name="a", label="Recent <offending>", value=4,
    ...                                      reason="2 offences")])
    >>> svg.startswith("<svg") and "&lt;offending&gt;" in svg and "<offending>" not in svg
    True
    """
    shown = sorted((p for p in parts if p.value != 0), key=lambda p: (-p.value, p.name))
    if not shown:
        h = ROW + 8
        return (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {h}" width="100%" role="img" '
            f'aria-label="{escape(title or "Score breakdown")}: no parts">'
            f'<text x="0" y="{ROW - 6}" font-size="13" fill="#333">No part of the score is above zero</text></svg>'
        )
    lo = min(0.0, min(p.value for p in shown))
    hi = max(0.0, max(p.value for p in shown))
    span = (hi - lo) or 1.0
    bar_area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    zero_x = LABEL_WIDTH + bar_area * (0.0 - lo) / span
    height = ROW * len(shown) + 8
    out = [
        (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'aria-label="{escape(title or "Score breakdown")}">'
        )
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    for i, p in enumerate(shown):
        y = 4 + i * ROW
        w = bar_area * abs(p.value) / span
        x = zero_x if p.value > 0 else zero_x - w
        colour = POSITIVE_COLOUR if p.value > 0 else NEGATIVE_COLOUR
        value_text = format_part_value(p.value, unit).replace(" percentage points", " pp")
        tx = x + w + 4 if p.value > 0 else x - 4
        anchor = "start" if p.value > 0 else "end"
        if p.value < 0 and tx < LABEL_WIDTH + 30:
            tx, anchor = zero_x + 4, "start"
        out.append(
            f'<g><title>{escape(p.label)}: {escape(value_text)} ({escape(p.reason)})</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + ROW - 9}" font-size="12" text-anchor="end" '
            f'fill="#222">{escape(_short(p.label))}</text>'
            f'<rect class="bar" x="{_num(x)}" y="{y + 3}" width="{_num(max(w, 1.0))}" '
            f'height="{ROW - 8}" fill="{colour}"/>'
            f'<text x="{_num(tx)}" y="{y + ROW - 9}" font-size="12" text-anchor="{anchor}" '
            f'fill="#222">{escape(value_text)}</text></g>'
        )
    out.append(
        f'<line x1="{_num(zero_x)}" y1="2" x2="{_num(zero_x)}" y2="{height - 2}" '
        'stroke="#555" stroke-width="1"/>'
    )
    out.append("</svg>")
    return "".join(out)
