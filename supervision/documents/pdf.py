"""PDF with embedded Chinese text: fpdf2 and Noto Sans CJK SC (DESIGN.md §6).

The font is the Simplified-Chinese face (index 2) of the Noto Sans CJK collection shipped by the
PyPI package `noto-cjk-sans-otc`; fpdf2 embeds the subset a document uses. The collection file
is read and its face parsed once per process; each document gets a copy (`add_chinese_font`).
Every PDF of the project (notices, credit reports, plate sheets) loads the font through here.
"""
from __future__ import annotations

import copy
import io
import threading
from datetime import datetime

from fpdf import FPDF
from fontTools import ttLib
from fpdf.fonts import SubsetMap, TTFFont

FAMILY = "NotoSansSC"
FACE_INDEX = 2  # Noto Sans CJK SC in the collection
_lock = threading.Lock()
_bytes: bytes | None = None  # the font collection, read once per process
_parsed: TTFFont | None = None  # its Simplified-Chinese face, parsed once per process


def font_path() -> str:
    import noto_cjk_sans_otc

    return noto_cjk_sans_otc.FONT_PATH


class ChinesePDF(FPDF):
    """An A4 document with the Chinese font loaded, a title line and a page footer."""

    def __init__(self, title: str, *, footer: str = ""):
        super().__init__(format="A4", unit="mm")
        self.doc_title = title
        self.footer_text = footer
        add_chinese_font(self)
        self.set_title(title)
        self.set_creator("health-supervision")
        self.set_creation_date(datetime(2000, 1, 1))  # documents with the same content are the same bytes
        self.set_auto_page_break(True, margin=18)
        self.set_margins(20, 20, 20)
        self.add_page()
        self.set_font(FAMILY, size=11)

    def footer(self):
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.cell(0, 5, f"{self.footer_text}  第 {self.page_no()} 页", align="C")

    def heading(self, text: str, size: int = 18) -> None:
        self.set_font(FAMILY, size=size)
        self.multi_cell(0, size * 0.55, text, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.set_font(FAMILY, size=11)

    def paragraph(self, text: str, size: int = 11) -> None:
        self.set_font(FAMILY, size=size)
        self.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def rows(self, pairs: list[tuple[str, str]]) -> None:
        """A two-column table of label and value."""
        self.set_font(FAMILY, size=10.5)
        for label, value in pairs:
            self.set_x(self.l_margin)
            self.multi_cell(38, 8, label, border=1, new_x="RIGHT", new_y="TOP", max_line_height=8)
            self.multi_cell(0, 8, value or "—", border=1, new_x="LMARGIN", new_y="NEXT", max_line_height=8)
        self.ln(3)


def _template() -> tuple[bytes, TTFFont]:
    """The collection's bytes and the face parsed once (metrics, character widths, glyph ids:
    about a third of a document's time when done per document)."""
    global _bytes, _parsed
    with _lock:
        if _parsed is None:
            with open(font_path(), "rb") as f:
                _bytes = f.read()
            _parsed = TTFFont(FPDF(), io.BytesIO(_bytes), FAMILY.lower(), "", None, None, None, FACE_INDEX)
        return _bytes, _parsed


def add_chinese_font(pdf: FPDF) -> None:
    """Noto Sans CJK SC as family FAMILY in `pdf`: a copy of the parsed face for this document.
    fpdf2 writes into the font object while it builds a document (the glyphs used, the descriptor) and subsets its fontTools font in place
    on output, so each document gets those parts fresh: a lazily opened fontTools font over
    the bytes in memory (cheap), an empty subset, its own descriptor."""
    data, template = _template()
    font = copy.copy(template)
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, fontNumber=FACE_INDEX, lazy=True)
    font.desc = copy.copy(template.desc)
    font.subset = SubsetMap(font)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    pdf.fonts[FAMILY.lower()] = font
    pdf._set_min_pdf_version("1.6")  # what add_font does for a CID-keyed CFF font


def render(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
