"""The per-plan results table as CSV (UTF-8 with BOM, for spreadsheet programs) or XLSX."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from supervision.errors import ValidationFailed
from supervision.sampling.results import RESULT_COLUMNS


def csv_bytes(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        # A cell starting with = + - @ would be a formula in a spreadsheet: quote it as text.
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return out.getvalue().encode("utf-8-sig")


def write_table(rows: list[tuple], path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_bytes(csv_bytes(rows))
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("抽查结果")
        sheet.append(list(RESULT_COLUMNS))
        for row in rows:
            sheet.append([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
        book.save(path)
    else:
        raise ValidationFailed("结果表文件须为 .csv 或 .xlsx", fields={"out": ["须为 .csv 或 .xlsx"]})
