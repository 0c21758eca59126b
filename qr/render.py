"""Printable plates: one plate as a PNG (Pillow), or A4 sheets of many as a PDF (fpdf2).

One layout, in millimetres, drawn by two back ends. The layout asks the back end to measure
text in the font it will draw with (Noto Sans CJK SC), so a line never runs past its column:
names wrap at any character (Chinese has no spaces to break at) and step down in size until
they fit their box. The QR symbol keeps its four-module quiet zone inside the white plate.

Fonts: the TTC of the `noto-cjk-sans-otc` package, face 2 (Simplified Chinese). Pillow's font
objects are loaded once per process and size; PDF sheets take the project's one fpdf2 loader
(`supervision.documents.pdf.add_chinese_font`: parsed once per process, a fresh subset per document).
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import noto_cjk_sans_otc
from PIL import Image, ImageDraw, ImageFont

from qr.plate import QUIET_ZONE, plate_symbol, plate_url
from supervision.documents.pdf import FACE_INDEX, FAMILY, add_chinese_font
from supervision.registry.plate_printing import PlateFace

FONT_PATH = noto_cjk_sans_otc.FONT_PATH
PT = 25.4 / 72  # millimetres per point

# The plate, in millimetres: 2 × 4 of them fill an A4 sheet with margins to cut along.
PLATE_W, PLATE_H = 100.0, 70.0
PAD = 4.0
HEADER_H = 14.0
QR_SIZE = 40.0  # the symbol with its quiet zone
QR_X, QR_Y = PLATE_W - PAD - QR_SIZE, HEADER_H + 2.0
TEXT_X = PAD
TEXT_W = QR_X - PAD - 3.0  # the text column, left of the symbol
NAME_Y, NAME_H = HEADER_H + 3.0, 25.0
NAME_SIZES = (13, 12, 11, 10, 9, 8, 7, 6)
BLUE = (29, 95, 168)
INK = (31, 35, 41)
GREY = (100, 106, 115)
WHITE = (255, 255, 255)

A4_W, A4_H = 210.0, 297.0
COLUMNS, ROWS = 2, 4
PER_PAGE = COLUMNS * ROWS


@dataclass
class Text:
    x: float
    baseline: float
    size: float  # points
    text: str
    width: float  # millimetres, as measured by the back end
    colour: tuple = INK
    role: str = ""  # "name" for the lines of the establishment's name


@dataclass
class Layout:
    """What to draw on one plate, relative to its top-left corner."""

    texts: list[Text] = field(default_factory=list)
    qr_matrix: tuple = ()
    qr_module: float = 0.0  # module size, mm
    qr_origin: tuple[float, float] = (QR_X, QR_Y)  # top-left of the quiet zone


Measure = Callable[[str, float], float]  # (text, size in pt) -> width in mm


def wrap(text: str, size: float, width: float, measure: Measure) -> list[str]:
    """Break text into lines no wider than `width`, at any character."""
    lines, line = [], ""
    for char in text:
        if line and measure(line + char, size) > width:
            lines.append(line)
            line = char.lstrip() or ""
        else:
            line += char
    if line:
        lines.append(line)
    return lines


def _fit_line(text: str, size: float, width: float, measure: Measure) -> float:
    """The largest size (down from `size`) at which one line fits `width`."""
    while size > 5 and measure(text, size) > width:
        size -= 0.5
    return size


def layout(face: PlateFace, url: str, measure: Measure) -> Layout:
    out = Layout()

    def line(x, baseline, size, text, colour=INK, width=None, role=""):
        if width is not None:
            size = _fit_line(text, size, width, measure)
        out.texts.append(Text(x, baseline, size, text, measure(text, size), colour, role))

    # Header band: issuing authority and what the plate is.
    line(PAD, 6.0, 9, face.authority, WHITE, PLATE_W - 2 * PAD)
    line(PAD, 11.5, 10, "卫生健康信用二维码身份牌", WHITE, PLATE_W - 2 * PAD)
    # The name: the largest size at which it wraps into its box.
    for size in NAME_SIZES:
        lines = wrap(face.name, size, TEXT_W, measure)
        if len(lines) * size * PT * 1.3 <= NAME_H:
            break
    for i, text in enumerate(lines):
        line(TEXT_X, NAME_Y + size * PT * (1.0 + 1.3 * i), size, text, role="name")
    y = NAME_Y + NAME_H + 2.0
    line(TEXT_X, y + 2.5, 7, "统一社会信用代码", GREY)
    line(TEXT_X, y + 6.5, 9, face.credit_code, INK, TEXT_W)
    line(TEXT_X, y + 11.5, 7, "信用等级", GREY)
    line(TEXT_X + measure("信用等级", 7) + 2, y + 11.5, 11, face.grade_text, BLUE,
         TEXT_W - measure("信用等级", 7) - 2)
    line(TEXT_X, y + 16.5, 7, f"标牌编号 {face.plate_number}", GREY, TEXT_W)
    # The symbol with its quiet zone, and the line under it.
    symbol = plate_symbol(url)
    out.qr_matrix = symbol.matrix
    out.qr_module = QR_SIZE / (len(symbol.matrix) + 2 * QUIET_ZONE)
    scan_size = _fit_line(face.scan_line, 7.5, QR_SIZE, measure)
    scan_w = measure(face.scan_line, scan_size)
    line(QR_X + (QR_SIZE - scan_w) / 2, QR_Y + QR_SIZE + 3.5, scan_size, face.scan_line, INK)
    return out


def _dark_runs(matrix) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules."""
    for r, row in enumerate(matrix):
        c, n = 0, len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                yield r, start, c - start
            else:
                c += 1


# --- PNG (Pillow) -------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _pil_font(pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, pixels, index=FACE_INDEX)


def render_png(face: PlateFace, public_base_url: str, dpi: int = 300) -> bytes:
    """One plate as a PNG at `dpi` (100 × 70 mm)."""
    px = dpi / 25.4

    def font(size_pt: float):
        return _pil_font(max(1, round(size_pt * PT * px)))

    def measure(text: str, size_pt: float) -> float:
        return font(size_pt).getlength(text) / px

    url = plate_url(public_base_url, face.token)
    plan = layout(face, url, measure)
    image = Image.new("RGB", (round(PLATE_W * px), round(PLATE_H * px)), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width - 1, round(HEADER_H * px)), fill=BLUE)
    draw.rectangle((0, 0, image.width - 1, image.height - 1), outline=GREY, width=max(1, round(0.3 * px)))
    for t in plan.texts:
        draw.text((t.x * px, t.baseline * px), t.text, font=font(t.size), fill=t.colour, anchor="ls")
    # Whole pixels per module, so every module has the same size; centred in its square.
    module = max(1, int(plan.qr_module * px))
    side = module * (len(plan.qr_matrix) + 2 * QUIET_ZONE)
    x0 = round(QR_X * px + (QR_SIZE * px - side) / 2) + module * QUIET_ZONE
    y0 = round(QR_Y * px + (QR_SIZE * px - side) / 2) + module * QUIET_ZONE
    for r, c, n in _dark_runs(plan.qr_matrix):
        draw.rectangle((x0 + c * module, y0 + r * module, x0 + (c + n) * module - 1, y0 + (r + 1) * module - 1),
                       fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


# --- PDF sheets (fpdf2) ---------------------------------------------------------------------

def _new_pdf():
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    add_chinese_font(pdf)
    pdf.set_creator("health-supervision")
    pdf.set_title("卫生健康信用二维码身份牌")
    return pdf


def _draw_plate(pdf, face: PlateFace, url: str, ox: float, oy: float) -> None:
    def measure(text: str, size_pt: float) -> float:
        pdf.set_font(FAMILY, size=size_pt)
        return pdf.get_string_width(text)

    plan = layout(face, url, measure)
    pdf.set_fill_color(*BLUE)
    pdf.rect(ox, oy, PLATE_W, HEADER_H, style="F")
    pdf.set_draw_color(*GREY)
    pdf.set_line_width(0.2)
    pdf.rect(ox, oy, PLATE_W, PLATE_H)
    for t in plan.texts:
        pdf.set_font(FAMILY, size=t.size)
        pdf.set_text_color(*t.colour)
        pdf.text(ox + t.x, oy + t.baseline, t.text)
    pdf.set_fill_color(0, 0, 0)
    m = plan.qr_module
    x0, y0 = ox + QR_X + m * QUIET_ZONE, oy + QR_Y + m * QUIET_ZONE
    for r, c, n in _dark_runs(plan.qr_matrix):
        pdf.rect(x0 + c * m, y0 + r * m, n * m, m, style="F")


def render_pdf(batches: Iterable[list[PlateFace]], public_base_url: str, out,
               progress: Callable[[int], None] | None = None) -> int:
    """A4 sheets of plates, 2 × 4 a page, written to `out` (a path or a binary file). Batches
    are consumed as they come, so only one batch of faces is held at a time; returns the number
    of plates."""
    pdf = _new_pdf()
    count = 0
    gap_x = (A4_W - COLUMNS * PLATE_W) / (COLUMNS + 1)
    gap_y = (A4_H - ROWS * PLATE_H) / (ROWS + 1)
    for faces in batches:
        for face in faces:
            slot = count % PER_PAGE
            if slot == 0:
                pdf.add_page()
            col, row = slot % COLUMNS, slot // COLUMNS
            _draw_plate(pdf, face, plate_url(public_base_url, face.token),
                        gap_x + col * (PLATE_W + gap_x), gap_y + row * (PLATE_H + gap_y))
            count += 1
        if progress is not None:
            progress(len(faces))
    if count == 0:
        pdf.add_page()
        pdf.set_font(FAMILY, size=12)
        pdf.text(20, 30, "没有符合条件的单位")
    pdf.output(out)
    return count
