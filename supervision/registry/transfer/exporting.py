"""Exporting the registry: keyset batches written row by row, so memory stays flat."""
from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from supervision.registry.models import STATUS_NAMES, Establishment, EstablishmentCategory, Licence
from supervision.registry.service import RegistryLookups
from supervision.registry.transfer.columns import COLUMNS, FORMATS, UnsupportedFormat, file_format, neutralise
from supervision.registry.transfer.reading import LICENCE_SEPARATOR

BATCH_SIZE = 1000


def _cell_date(day: date | None) -> str:
    return day.isoformat() if day else ""


def _licence_cells(licences: list[Licence]) -> list[str]:
    join = LICENCE_SEPARATOR.join
    expires = [_cell_date(lic.expires_on) for lic in licences]
    return [
        join(lic.number for lic in licences),
        join(lic.kind for lic in licences),
        join(_cell_date(lic.issued_on) for lic in licences),
        join(expires) if any(expires) else "",
    ]


def export_rows(session: Session, batch_size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    """The header, then one row per establishment in id order, read in keyset batches."""
    yield [c.header for c in COLUMNS]
    category_names = dict(session.execute(select(EstablishmentCategory.code, EstablishmentCategory.name)).all())
    lookups = RegistryLookups(session)
    district_code = {j.id: j.code for j in lookups.jurisdiction_by_code.values()}
    grid_code = {g.id: g.code for g in lookups.grid_by_code.values()}
    last_id = 0
    while True:
        batch = session.execute(
            select(Establishment)
            .options(selectinload(Establishment.licences))
            .where(Establishment.id > last_id)
            .order_by(Establishment.id)
            .limit(batch_size)
        ).scalars().all()
        if not batch:
            return
        for est in batch:
            yield [
                est.credit_code,
                est.name,
                category_names.get(est.category_code, est.category_code),
                est.address,
                district_code[est.jurisdiction_id],
                grid_code[est.grid_id] if est.grid_id is not None else "",
                est.latitude if est.latitude is not None else "",
                est.longitude if est.longitude is not None else "",
                est.legal_representative,
                STATUS_NAMES.get(est.status, est.status),
                *_licence_cells(est.licences),
            ]
        last_id = batch[-1].id
        del batch  # the session's identity map is weak: the batch can be collected


def _write_csv(target: IO[bytes], rows: Iterable[list[Any]]) -> int:
    # UTF-8 with a BOM: Excel on Chinese Windows reads a CSV without one as GBK. Cells that
    # would run as formulas are neutralised; the import restores them.
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        count = -1
        for row in rows:
            writer.writerow([neutralise(item) if isinstance(item, str) else item for item in row])
            count += 1
        text.flush()
        return count
    finally:
        text.detach()


def _write_xlsx(target: IO[bytes], rows: Iterable[list[Any]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("单位")
    for letter, width in zip("ABCDEFGHIJKLMN", (22, 36, 16, 40, 10, 12, 11, 11, 12, 10, 30, 22, 12, 12)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    rows = iter(rows)
    bold = Font(bold=True)
    header = []
    for title in next(rows):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    def value(item: Any) -> Any:
        if item == "":
            return None
        if isinstance(item, str) and ILLEGAL_CHARACTERS_RE.search(item):
            # XML cannot hold control characters. They are refused on the way in now; a value
            # stored before that is written with U+FFFD in their place rather than failing
            # the whole export.
            item = ILLEGAL_CHARACTERS_RE.sub("\ufffd", item)
        if isinstance(item, str) and item.startswith("="):
            # Text, not a formula: a name like "=..." must come back as written.
            cell = WriteOnlyCell(sheet, value=item)
            cell.data_type = "s"
            return cell
        return item

    count = 0
    for row in rows:
        sheet.append([value(item) for item in row])
        count += 1
    workbook.save(target)
    return count


def export_establishments(
    session: Session, target: str | os.PathLike | IO[bytes], *, fmt: str | None = None
) -> int:
    """Write every establishment to `target` (a path, or a binary file object with `fmt`).
    Returns how many were written. A path is written to a temporary file first and moved into
    place at the end, so a failed export leaves no half-written file behind."""
    if fmt is None:
        if not isinstance(target, (str, os.PathLike)):
            raise ValueError("fmt is needed when writing to a file object")
        fmt = file_format(target)
    elif fmt not in FORMATS:
        raise UnsupportedFormat(f"不支持的文件类型“{fmt}”：应为 csv 或 xlsx")
    write = _write_csv if fmt == "csv" else _write_xlsx
    if not isinstance(target, (str, os.PathLike)):
        return write(target, export_rows(session))
    path = Path(target)
    partial = path.with_name(f".{path.name}.part")
    try:
        with open(partial, "wb") as handle:
            count = write(handle, export_rows(session))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count
