"""PDF with embedded Chinese text: fpdf2 and Noto Sans CJK SC (DESIGN.md §6).

The font is the Simplified-Chinese face (index 2) of the Noto Sans CJK collection shipped by the
PyPI package `noto-cjk-sans-otc`; fpdf2 embeds the subset a document uses. The collection file
is read once per process and kept in memory; each document parses from those bytes.
"""
from __future__ import annotations

import io
import threading
from datetime import datetime

from fpdf import FPDF
from fpdf.fonts import TTFFont

FAMILY = "NotoSansSC"
_lock = threading.Lock()
_bytes: bytes | None = None  # the font collection, read once per process


def font_path() -> str:
    import noto_cjk_sans_otc

    return noto_cjk_sans_otc.FONT_PATH


class ChinesePDF(FPDF):
    """An A4 document with the Chinese font loaded, a title line and a page footer."""

    def __init__(self, title: str, *, footer: str = ""):
        super().__init__(format="A4", unit="mm")
        self.doc_title = title
        self.footer_text = footer
        _add_font(self)
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
        self.multi_cell(0, size * 0.55, text, align="C")
        self.ln(4)
        self.set_font(FAMILY, size=11)

    def paragraph(self, text: str, size: int = 11) -> None:
        self.set_font(FAMILY, size=size)
        self.multi_cell(0, 7, text)
        self.ln(2)

    def rows(self, pairs: list[tuple[str, str]]) -> None:
        """A two-column table of label and value."""
        self.set_font(FAMILY, size=10.5)
        for label, value in pairs:
            self.set_x(self.l_margin)
            self.multi_cell(38, 8, label, border=1, new_x="RIGHT", new_y="TOP", max_line_height=8)
            self.multi_cell(0, 8, value or "—", border=1, new_x="LMARGIN", new_y="NEXT", max_line_height=8)
        self.ln(3)


def _font_bytes() -> bytes:
    global _bytes
    with _lock:
        if _bytes is None:
            with open(font_path(), "rb") as f:
                _bytes = f.read()
        return _bytes


def _add_font(pdf: FPDF) -> None:
    """Each document parses the face it needs (lazily: only the tables it uses) from the bytes
    held in memory; fpdf2 subsets the parsed font in place when it writes, so a parsed font
    cannot be shared between documents."""
    font = TTFFont(pdf, io.BytesIO(_font_bytes()), FAMILY.lower(), "", None, None, None, 2)
    pdf.fonts[FAMILY.lower()] = font
    pdf._set_min_pdf_version("1.6")


def render(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
