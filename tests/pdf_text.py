"""Text of the PDFs the app writes, read with pypdf.

fpdf2 embeds Noto Sans CJK as a CID-keyed CFF font whose /Encoding is an embedded CMap stream
(codes of the subset → CIDs). pypdf's `extract_text` does not read such an encoding and splits
each two-byte code in two, which garbles any code above 0xFF. So this reads the content
streams with pypdf and decodes each two-byte code through the font's /ToUnicode map; code 0
(.notdef) and a code without a Unicode value come out as U+FFFD. fpdf2 leaves out a character
the font has no glyph for (and logs it), so tests also check that every expected string is whole.
"""
from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.generic import ContentStream

_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>")


def _to_unicode(font) -> dict[int, str]:
    data = font["/ToUnicode"].get_object().get_data()
    table = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in _BFCHAR.findall(block):
            table[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be", "replace")
    return table


def page_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        fonts = {name: _to_unicode(ref.get_object()) for name, ref in page["/Resources"]["/Font"].items()}
        current: dict[int, str] = {}
        out: list[str] = []
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = fonts[operands[0]]
            elif operator in (b"Tj", b"TJ"):
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                for s in strings:
                    if isinstance(s, (bytes, str)) or hasattr(s, "original_bytes"):
                        raw = s.original_bytes if hasattr(s, "original_bytes") else bytes(s, "latin-1")
                        for i in range(0, len(raw) - 1, 2):
                            code = int.from_bytes(raw[i:i + 2], "big")
                            out.append("\ufffd" if code == 0 else current.get(code, "\ufffd"))
            elif operator in (b"ET", b"Td", b"TD", b"T*"):
                out.append("\n")
        pages.append("".join(out))
    return pages


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)
