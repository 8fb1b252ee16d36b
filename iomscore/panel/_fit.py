"""How many lines a text takes on a card, from the widths of the letters.

The pack's font is Arial or a metric-compatible one (Liberation Sans on Debian, Helvetica
elsewhere): every letter has the same advance width in all of them, given here in
thousandths of the font size for printable ASCII (the standard Helvetica metrics). Other
characters are counted as wide as an ``M``. Text is wrapped greedily at spaces, as a browser
does; a word longer than the line is broken (the style sheet allows it), and a margin is
added so that bold words and small differences between fonts never make a text longer than
counted.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Final

__all__ = ["text_lines", "text_width"]

# Helvetica / Arial advance widths for characters 32..126, in 1/1000 em.
_ASCII_WIDTHS: Final = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # space .. /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0 .. ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @ .. O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P .. _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # ` .. o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p .. ~
)
_WIDE: Final = 833
#: Allowance for bold text and font differences (bold digits and words are a little wider).
MARGIN: Final = 1.04



@lru_cache(maxsize=1 << 16)
def _units(text: str) -> int:
    """Advance width of ``text`` in 1/1000 em (texts repeat across cards: measured once)."""
    ascii_only = text.encode("ascii", "replace")
    wide = ascii_only.count(b"?") - text.count("?")
    return sum(map(_BYTE_WIDTHS.__getitem__, ascii_only)) - wide * (_BYTE_WIDTHS[63] - _WIDE)


# Width by byte value: printable ASCII from the table, anything else as wide as an M.
_BYTE_WIDTHS: Final = tuple(_ASCII_WIDTHS[b - 32] if 32 <= b <= 126 else _WIDE for b in range(256))


def text_width(text: str, font_px: float) -> float:
    """Width of ``text`` in CSS pixels at ``font_px``, with the safety margin.

    Examples
    --------
    >>> round(text_width("Hello", 10), 1)
    23.7
    """
    return _units(text) * font_px / 1000 * MARGIN


def text_lines(text: str, width_px: float, font_px: float) -> int:
    """Lines ``text`` wraps to in a box ``width_px`` wide (at least 1).

    Examples
    --------
    >>> text_lines("short", 100, 13.3), text_lines("word " * 40, 200, 13.3)
    (1, 7)
    """
    return _lines(text, width_px, font_px)


@lru_cache(maxsize=1 << 16)
def _lines(text: str, width_px: float, font_px: float) -> int:
    space = text_width(" ", font_px)
    lines, used = 1, 0.0
    for word in text.split():
        w = text_width(word, font_px)
        if w > width_px:  # broken anywhere: fill this line, then whole lines
            rest = w - max(width_px - used - (space if used else 0.0), 0.0)
            extra = math.ceil(rest / width_px)
            lines += extra
            used = rest - (extra - 1) * width_px
            continue
        need = w + (space if used else 0.0)
        if used + need <= width_px:
            used += need
        else:
            lines += 1
            used = w
    return lines
