"""Repair confirmation notices (信用修复确认书) as PDF: documents per second with the font file
read once per process (`supervision.documents.pdf`), against the baseline of fpdf2's own
`add_font` reading the Noto Sans CJK collection from disk for every document, in the same run.

    python bench/notice_pdf.py [--documents 40]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF  # noqa: E402

from supervision.documents import pdf  # noqa: E402

LINES = [("确认书编号", "XYXF-2026-000123"), ("单位名称", "南京市玄武区金陵大酒店有限公司"),
         ("统一社会信用代码", "91320102MA1XYZ1234"), ("修复信息", "行政处罚：罚款五千元"),
         ("出具单位", "南京市玄武区卫生监督所")]


def ours() -> bytes:
    document = pdf.ChinesePDF("信用修复确认书", footer="信用修复确认书 XYXF-2026-000123")
    document.heading("信用修复确认书")
    document.rows(LINES)
    document.paragraph("经审核，申请的信用修复符合条件，准予修复。该信息停止公示，仍作为内部记录保存。")
    return pdf.render(document)


def baseline() -> bytes:
    document = FPDF(format="A4")
    document.add_font("Noto", "", pdf.font_path(), collection_font_number=2)
    document.add_page()
    document.set_font("Noto", size=11)
    document.multi_cell(0, 8, "信用修复确认书", new_x="LMARGIN", new_y="NEXT")
    for label, value in LINES:
        document.multi_cell(0, 8, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    document.multi_cell(0, 8, "经审核，申请的信用修复符合条件，准予修复。该信息停止公示，仍作为内部记录保存。",
                        new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


def rate(make, n: int) -> float:
    make()  # warm-up (imports, first read)
    start = time.perf_counter()
    for _ in range(n):
        make()
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=40)
    args = parser.parse_args()
    base = rate(baseline, args.documents)
    mine = rate(ours, args.documents)
    print(f"baseline (add_font from disk per document): {base:.1f} documents/s")
    print(f"supervision.documents.pdf:                  {mine:.1f} documents/s")
    print(f"ratio: {mine / base:.2f}")


if __name__ == "__main__":
    main()
