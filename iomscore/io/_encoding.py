"""Reading input bytes: UTF-8 (with or without a byte-order mark), UTF-16 refused by name, and
bytes that are not UTF-8 located by file, line and column so that only their rows are rejected.

Undecodable bytes are kept as lone surrogates (``errors="surrogateescape"``) while a file is
parsed; a record holding one is rejected with :data:`BAD_BYTES` and never reaches a table.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Final

from ._tables import MissingColumnsError

__all__ = ["BAD_BYTES", "UTF16", "bad_byte", "clean", "decode", "is_utf8", "raw_bytes"]

UTF16: Final = "{source}: the file is UTF-16; save it as UTF-8 (CSV UTF-8 in a spreadsheet)"
BAD_BYTES: Final = ("{source} line {line}, column {column}: byte 0x{byte:02x} is not UTF-8 (a Latin-1 or "
                    "Windows-1252 export?); save the file as UTF-8")
UNDECODED: Final = re.compile("[\udc80-\udcff]")


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a NUL in every other byte."""
    if len(head) < 8:
        return False
    half = len(head) // 2
    return max(head[0::2].count(0), head[1::2].count(0)) > 0.9 * half


def raw_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a text file without a UTF-8 byte-order mark; UTF-16 is refused by name.

    Raises
    ------
    MissingColumnsError
        When the file is UTF-16 (a byte-order mark, or a NUL in every other byte at the start).
    """
    data = Path(path).read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data[:1024]):
        raise MissingColumnsError(UTF16.format(source=path))
    return data[3:] if data.startswith(codecs.BOM_UTF8) else data


def is_utf8(data: bytes) -> bool:
    r"""Whether ``data`` is valid UTF-8 (without building the text).

    With pyarrow, its UTF-8 validation of the bytes in place (about 9x faster than decoding:
    ``benchmarks/bench_read.py``); otherwise decoded in blocks. Both refuse the same bytes
    (surrogates, overlong forms, code points above U+10FFFF, a sequence cut at the end).

    Examples
    --------
    >>> is_utf8("café".encode()), is_utf8(b"caf\xe9"), is_utf8(b"\xed\xa0\x80")
    (True, False, False)
    """
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is optional
        return _is_utf8_decoding(data)
    offsets = pa.py_buffer((0).to_bytes(8, "little") + len(data).to_bytes(8, "little"))  # one value: the file
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _is_utf8_decoding(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), 1 << 24):
            decoder.decode(view[start:start + (1 << 24)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes) -> str:
    """UTF-8 text, undecodable bytes kept as lone surrogates (see :func:`bad_byte`)."""
    return data.decode("utf-8", errors="surrogateescape")


def bad_byte(source: str, text: str, line: int) -> str | None:
    r"""The reason to reject ``text`` (starting on ``line`` of ``source``) if it holds a byte
    that is not UTF-8, else ``None``.

    Examples
    --------
    >>> bad_byte("r.jsonl", decode(b'{"a": "caf\xe9"}'), 7)
    'r.jsonl line 7, column 11: byte 0xe9 is not UTF-8 (a Latin-1 or Windows-1252 export?); save the file as UTF-8'
    >>> bad_byte("r.jsonl", "fine", 1) is None
    True
    """
    m = UNDECODED.search(text)
    if m is None:
        return None
    before = text[: m.start()]
    nl = max(before.rfind("\n"), before.rfind("\r"))
    return BAD_BYTES.format(source=source, line=line + before.count("\n"), column=m.start() - nl,
                            byte=ord(text[m.start()]) - 0xDC00)


def clean(value: str) -> str:
    """``value`` with undecodable bytes replaced (so that a reject can be written as UTF-8)."""
    return value.encode("utf-8", "replace").decode("utf-8")
