"""Import and export of establishments as CSV or XLSX files.

The file has one row per establishment under a header row; the columns are `COLUMNS` (Chinese
headers, the English field names accepted as aliases). An establishment's licences share the
four licence columns: several licences are separated by "；" (or ";") and aligned by position.

Importing is all or nothing. Every row is parsed and validated first, against reference data
loaded once; if any row is bad the whole file is refused with every problem found, as
(row, column, reason) with rows numbered as a spreadsheet shows them (the header is row 1), and
nothing is written. Only a clean file is upserted, by credit code, through
`service.upsert_establishment`, so identical rows write nothing and importing the same file
twice is a no-op. The caller commits.

Exporting streams: establishments are read in keyset batches with their licences loaded per
batch, and written row by row (csv, or openpyxl's write-only workbook), so memory stays flat
however large the registry. An exported file imports back as "unchanged".
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from supervision import audit
from supervision.errors import ValidationFailed
from supervision.registry import credit_code as credit_codes
from supervision.registry.models import (
    ESTABLISHMENT_STATUSES,
    STATUS_NAMES,
    Establishment,
    EstablishmentCategory,
    Licence,
)
from supervision.registry.service import (
    STATUS_BY_NAME,
    EstablishmentInput,
    LicenceInput,
    RegistryLookups,
    check_establishment,
    upsert_establishment,
)

FORMATS = ("csv", "xlsx")
LICENCE_SEPARATOR = "；"  # written on export; "；" and ";" are both read
_LICENCE_SPLIT = re.compile(r"[;；]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
LICENCE_TEXT_LIMIT = 64  # licences.number and licences.kind are VARCHAR(64)
BATCH_SIZE = 1000


@dataclass(frozen=True)
class Column:
    field: str  # English field name, also accepted as a header
    header: str  # Chinese header, written on export


COLUMNS: tuple[Column, ...] = (
    Column("credit_code", "统一社会信用代码"),
    Column("name", "单位名称"),
    Column("category", "单位类别"),
    Column("address", "地址"),
    Column("district", "辖区代码"),
    Column("grid", "网格编号"),
    Column("latitude", "纬度"),
    Column("longitude", "经度"),
    Column("legal_representative", "法定代表人"),
    Column("status", "经营状态"),
    Column("licence_number", "许可证号"),
    Column("licence_kind", "许可类别"),
    Column("licence_issued_on", "发证日期"),
    Column("licence_expires_on", "有效期至"),
)
_HEADER_BY_FIELD = {c.field: c.header for c in COLUMNS}
# Every column must be present: a missing optional column would leave it unclear whether the
# import should clear that value on existing establishments or keep it.
_FIELD_BY_HEADER = {c.header: c.field for c in COLUMNS} | {c.field: c.field for c in COLUMNS}


# --- results and refusals -------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int  # as a spreadsheet shows it: the header is row 1, the first data row is row 2
    column: str  # the column's header as written in the file (or the expected header if missing)
    reason: str  # Simplified Chinese, for the person who fixes the file

    def __str__(self) -> str:
        column = f"“{self.column}”列" if self.column else ""
        return f"第{self.row}行{column}：{self.reason}"


class UnsupportedFormat(ValidationFailed):
    code = "unsupported_format"
    message = "不支持的文件类型"


class ImportRefused(ValidationFailed):
    """The file was refused whole; `problems` names every bad row, column and reason."""

    code = "import_refused"

    def __init__(self, problems: Sequence[RowProblem]):
        self.problems = list(problems)
        rows = len({p.row for p in self.problems})
        fields: dict[str, list[str]] = {}
        for p in self.problems:
            fields.setdefault(f"row{p.row}.{p.column}", []).append(p.reason)
        super().__init__(f"文件有误，未导入任何数据：{rows}行共{len(self.problems)}处问题", fields=fields)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"新增 {self.created} 家，更新 {self.updated} 家，未变 {self.unchanged} 家"


def file_format(path: str | os.PathLike) -> str:
    """The format of `path` ("csv" or "xlsx"), chosen by its extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = f"“.{suffix}”" if suffix else "（无扩展名）"
        raise UnsupportedFormat(f"不支持的文件类型{shown}：文件名应以 .csv 或 .xlsx 结尾")
    return suffix


# --- reading files --------------------------------------------------------------------------


def _csv_rows(source: IO[bytes]) -> Iterator[list[Any]]:
    # utf-8-sig drops a BOM if there is one and reads plain UTF-8 otherwise.
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        yield from csv.reader(text)
    except UnicodeDecodeError:
        raise ImportRefused([RowProblem(
            1, "", "文件不是 UTF-8 编码（可能是 GBK）：请在 Excel 中“另存为”并选择“CSV UTF-8（逗号分隔）(*.csv)”",
        )]) from None
    except csv.Error as exc:
        raise ImportRefused([RowProblem(1, "", f"CSV 格式错误：{exc}")]) from None
    finally:
        text.detach()


def _xlsx_rows(source: IO[bytes]) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # Files saved by WPS and others lack a default style; openpyxl warns and copes.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # not a zip, not a workbook, damaged: all the same to the user
        raise ImportRefused([RowProblem(1, "", f"无法读取 XLSX 文件（{type(exc).__name__}）：请确认文件是 Excel 工作簿")]) from None
    try:
        if not workbook.worksheets:
            return
        # iter_rows starts at row 1 and yields empty rows for gaps, so positions are row numbers.
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _rows(source: str | os.PathLike | IO[bytes], fmt: str) -> Iterator[Sequence[Any]]:
    reader = _csv_rows if fmt == "csv" else _xlsx_rows
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield from reader(handle)
    else:
        yield from reader(source)


# --- cell values ----------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text. Spreadsheets turn codes like 320102 into numbers; give them back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _parts(value: Any) -> list[Any]:
    """A licence cell's items: "a；b" -> ["a", "b"]; a blank cell has none."""
    if _blank(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in _LICENCE_SPLIT.split(value)]
    return [value]  # a date or number cell holds one item


def _number(value: Any) -> float:
    """Raises ValueError unless the cell is a finite number."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = _text(value)
        if not _NUMBER.fullmatch(text):
            raise ValueError
        number = float(text)
    if not math.isfinite(number):
        raise ValueError
    return number


def _date(value: Any) -> date:
    """Raises ValueError unless the cell is a date: a date cell, or text YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not _DATE.fullmatch(text):
        raise ValueError
    return date.fromisoformat(text)


def _status(value: str) -> str:
    if value in STATUS_BY_NAME:
        return STATUS_BY_NAME[value]
    if value.lower() in ESTABLISHMENT_STATUSES:
        return value.lower()
    return value  # check_establishment names it as unknown


# --- the header -----------------------------------------------------------------------------


@dataclass
class _Header:
    field_at: dict[int, str]  # cell position -> field
    shown: dict[str, str]  # field -> header as written in the file


def _read_header(cells: Sequence[Any] | None) -> _Header:
    if cells is None or all(_blank(c) for c in cells):
        raise ImportRefused([RowProblem(1, "", "第1行应为表头，但文件为空或第1行为空")])
    problems: list[RowProblem] = []
    field_at: dict[int, str] = {}
    shown: dict[str, str] = {}
    first_position: dict[str, int] = {}
    for position, cell in enumerate(cells):
        if _blank(cell):
            continue
        text = _text(cell)
        name = _FIELD_BY_HEADER.get(text) or _FIELD_BY_HEADER.get(text.lower())
        if name is None:
            problems.append(RowProblem(1, text, f"无法识别的列“{text}”"))
        elif name in first_position:
            problems.append(RowProblem(
                1, text, f"“{text}”与第{first_position[name] + 1}列“{shown[name]}”是同一列，重复出现（第{position + 1}列）",
            ))
        else:
            field_at[position] = name
            shown[name] = text
            first_position[name] = position
    missing = [c.header for c in COLUMNS if c.field not in shown]
    for header in missing:
        problems.append(RowProblem(1, header, f"缺少“{header}”列"))
    if problems:
        if any(p.reason.startswith("无法识别") for p in problems):
            expected = "、".join(c.header for c in COLUMNS)
            problems.append(RowProblem(1, "", f"表头应包含以下各列：{expected}（也可使用对应的英文字段名）"))
        raise ImportRefused(problems)
    return _Header(field_at, shown)


# --- one row --------------------------------------------------------------------------------


def _position(k: int, n: int) -> str:
    return f"第{k}项" if n > 1 else ""


def _licences(values: dict[str, Any]) -> tuple[list[LicenceInput], dict[str, str]]:
    """The licences of a row, or the problems of its licence columns by field."""
    problems: dict[str, str] = {}
    numbers = [_text(v) for v in _parts(values["licence_number"])]
    kinds = [_text(v) for v in _parts(values["licence_kind"])]
    issued = _parts(values["licence_issued_on"])
    expires = _parts(values["licence_expires_on"])
    n = len(numbers)
    if not expires and n:
        expires = [None] * n  # a blank 有效期至 cell: no licence has an end date
    for name, items in (("licence_kind", kinds), ("licence_issued_on", issued), ("licence_expires_on", expires)):
        if len(items) != n:
            problems[name] = (
                f"{_HEADER_BY_FIELD[name]}有{len(items)}项，许可证号有{n}项，数量应一致"
                f"（多个许可证用“；”分隔，各列按顺序一一对应）"
            )
    if problems:
        return [], problems

    licences: list[LicenceInput] = []
    seen: set[str] = set()
    for k, (number, kind, issued_raw, expires_raw) in enumerate(zip(numbers, kinds, issued, expires), start=1):
        at = _position(k, n)
        if not number:
            problems.setdefault("licence_number", f"{at}许可证号为空")
        elif len(number) > LICENCE_TEXT_LIMIT:
            problems.setdefault("licence_number", f"{at}许可证号不能超过{LICENCE_TEXT_LIMIT}个字符")
        elif number in seen:
            problems.setdefault("licence_number", f"许可证号“{number}”重复")
        seen.add(number)
        if not kind:
            problems.setdefault("licence_kind", f"{at}许可类别为空")
        elif len(kind) > LICENCE_TEXT_LIMIT:
            problems.setdefault("licence_kind", f"{at}许可类别不能超过{LICENCE_TEXT_LIMIT}个字符")
        issued_on = expires_on = None
        if _blank(issued_raw):
            problems.setdefault("licence_issued_on", f"{at}发证日期为空")
        else:
            try:
                issued_on = _date(issued_raw)
            except ValueError:
                problems.setdefault(
                    "licence_issued_on", f"{at}发证日期“{_text(issued_raw)}”不是有效日期（格式应为 YYYY-MM-DD）"
                )
        if not _blank(expires_raw):
            try:
                expires_on = _date(expires_raw)
            except ValueError:
                problems.setdefault(
                    "licence_expires_on", f"{at}有效期至“{_text(expires_raw)}”不是有效日期（格式应为 YYYY-MM-DD）"
                )
        if issued_on and expires_on and expires_on < issued_on:
            problems.setdefault("licence_expires_on", f"许可证“{number}”的有效期至早于发证日期")
        if issued_on is not None:
            licences.append(LicenceInput(number, kind, issued_on, expires_on))
    return ([] if problems else licences), problems


def parse_row(values: dict[str, Any], lookups: RegistryLookups) -> tuple[EstablishmentInput | None, dict[str, str]]:
    """One row, by field, as an EstablishmentInput, or every problem in it as {field: reason}."""
    problems: dict[str, str] = {}
    text = {name: _text(values[name]) for name in (
        "credit_code", "name", "category", "address", "district", "grid", "legal_representative", "status",
    )}
    for name in ("credit_code", "category", "district", "status"):
        if not text[name]:
            problems[name] = f"{_HEADER_BY_FIELD[name]}不能为空"
    coordinates: dict[str, float | None] = {}
    for name in ("latitude", "longitude"):
        coordinates[name] = None
        if not _blank(values[name]):
            try:
                coordinates[name] = _number(values[name])
            except ValueError:
                problems[name] = f"{_HEADER_BY_FIELD[name]}“{_text(values[name])}”不是有效数字"
    licences, licence_problems = _licences(values)
    problems.update(licence_problems)
    data = EstablishmentInput(
        credit_code=credit_codes.normalise(text["credit_code"]),
        name=text["name"],
        category=text["category"],
        address=text["address"],
        district=text["district"],
        legal_representative=text["legal_representative"],
        grid=text["grid"] or None,
        latitude=coordinates["latitude"],
        longitude=coordinates["longitude"],
        status=_status(text["status"]),
        licences=licences,
    )
    for name, reason in check_establishment(data, lookups).items():
        if name == "licences":
            name = "licence_number"
        problems.setdefault(name, reason)  # the more specific problem found above wins
    return (None if problems else data), problems


# --- import ---------------------------------------------------------------------------------


def read_establishments(
    source: str | os.PathLike | IO[bytes], lookups: RegistryLookups, *, fmt: str | None = None
) -> list[EstablishmentInput]:
    """Parse and validate a whole file. Returns its establishments in file order, or raises
    ImportRefused naming every problem in it."""
    if fmt is None:
        if not isinstance(source, (str, os.PathLike)):
            raise ValueError("fmt is needed when reading from a file object")
        fmt = file_format(source)
    elif fmt not in FORMATS:
        raise UnsupportedFormat(f"不支持的文件类型“{fmt}”：应为 csv 或 xlsx")

    rows = _rows(source, fmt)
    try:
        header = _read_header(next(rows, None))
        order = {c.field: i for i, c in enumerate(COLUMNS)}
        problems: list[RowProblem] = []
        inputs: list[EstablishmentInput] = []
        first_row: dict[str, int] = {}  # credit code -> first row it appears in
        repeats: dict[str, list[int]] = {}  # credit code -> the later rows repeating it
        for number, cells in enumerate(rows, start=2):
            if all(_blank(c) for c in cells):
                continue  # spreadsheets often end with empty rows
            values: dict[str, Any] = {name: None for name in _HEADER_BY_FIELD}
            for position, cell in enumerate(cells):
                name = header.field_at.get(position)
                if name is not None:
                    values[name] = cell
                elif not _blank(cell):
                    problems.append(RowProblem(number, f"第{position + 1}列", "该列没有列名，其中的数据无法识别"))
            data, row_problems = parse_row(values, lookups)
            for name in sorted(row_problems, key=order.__getitem__):
                problems.append(RowProblem(number, header.shown[name], row_problems[name]))
            code = credit_codes.normalise(_text(values["credit_code"]))
            if "credit_code" not in row_problems:
                if code in first_row:
                    problems.append(RowProblem(
                        number, header.shown["credit_code"], f"统一社会信用代码与第{first_row[code]}行重复",
                    ))
                    repeats.setdefault(code, []).append(number)
                    continue
                first_row[code] = number
            if data is not None and not problems:
                inputs.append(data)
    finally:
        rows.close()  # closes the file or workbook even when refused half way
    for code, later in repeats.items():
        listed = "、".join(str(n) for n in later)
        problems.append(RowProblem(first_row[code], header.shown["credit_code"], f"统一社会信用代码与第{listed}行重复"))
    if problems:
        problems.sort(key=lambda p: p.row)  # stable: a row's problems stay in column order
        raise ImportRefused(problems)
    return inputs


def import_establishments(
    session: Session, source: str | os.PathLike | IO[bytes], actor: audit.Actor, *, fmt: str | None = None
) -> ImportReport:
    """Validate the whole file, then upsert every row by credit code. Raises ImportRefused, with
    nothing written, if any row is bad. Does not commit: the caller commits once."""
    lookups = RegistryLookups(session)
    inputs = read_establishments(source, lookups, fmt=fmt)
    report = ImportReport()
    # upsert_establishment looks each credit code up itself (one indexed query, plus one for the
    # licences of an existing establishment); loading a batch beforehand would not spare those.
    for data in inputs:
        _, outcome = upsert_establishment(session, data, actor, lookups)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


# --- export ---------------------------------------------------------------------------------


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
    # UTF-8 with a BOM: Excel on Chinese Windows reads a CSV without one as GBK.
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        count = -1
        for row in rows:
            writer.writerow(row)
            count += 1
        text.flush()
        return count
    finally:
        text.detach()


def _write_xlsx(target: IO[bytes], rows: Iterable[list[Any]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
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
