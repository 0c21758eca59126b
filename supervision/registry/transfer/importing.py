"""Importing a file: the header, every row checked against reference data, then the upsert."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO, Any, Sequence

from sqlalchemy.orm import Session

from supervision import audit
from supervision.registry import credit_code as credit_codes
from supervision.registry.models import ESTABLISHMENT_STATUSES
from supervision.registry.service import (
    STATUS_BY_NAME,
    EstablishmentInput,
    LicenceInput,
    RegistryLookups,
    check_establishment,
    upsert_establishment,
)
from supervision.registry.transfer.columns import (
    COLUMNS,
    FIELD_BY_HEADER,
    FORMATS,
    HEADER_BY_FIELD,
    LICENCE_TEXT_LIMIT,
    ImportRefused,
    ImportReport,
    RowProblem,
    UnsupportedFormat,
    file_format,
)
from supervision.registry.transfer.reading import blank, cell_date, cell_number, cell_parts, cell_text, rows_of
from supervision.text import unstorable

def _status(value: str) -> str:
    if value in STATUS_BY_NAME:
        return STATUS_BY_NAME[value]
    if value.lower() in ESTABLISHMENT_STATUSES:
        return value.lower()
    return value  # check_establishment names it as unknown


@dataclass
class _Header:
    field_at: dict[int, str]  # cell position -> field
    shown: dict[str, str]  # field -> header as written in the file


def _read_header(cells: Sequence[Any] | None) -> _Header:
    if cells is None or all(blank(c) for c in cells):
        raise ImportRefused([RowProblem(1, "", "第1行应为表头，但文件为空或第1行为空")])
    problems: list[RowProblem] = []
    field_at: dict[int, str] = {}
    shown: dict[str, str] = {}
    first_position: dict[str, int] = {}
    for position, cell in enumerate(cells):
        if blank(cell):
            continue
        text = cell_text(cell)
        name = FIELD_BY_HEADER.get(text) or FIELD_BY_HEADER.get(text.lower())
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


def _position(k: int, n: int) -> str:
    return f"第{k}项" if n > 1 else ""


def _licences(values: dict[str, Any]) -> tuple[list[LicenceInput], dict[str, str]]:
    """The licences of a row, or the problems of its licence columns by field."""
    problems: dict[str, str] = {}
    numbers = [cell_text(v) for v in cell_parts(values["licence_number"])]
    kinds = [cell_text(v) for v in cell_parts(values["licence_kind"])]
    issued = cell_parts(values["licence_issued_on"])
    expires = cell_parts(values["licence_expires_on"])
    n = len(numbers)
    if not expires and n:
        expires = [None] * n  # a blank 有效期至 cell: no licence has an end date
    for name, items in (("licence_kind", kinds), ("licence_issued_on", issued), ("licence_expires_on", expires)):
        if len(items) != n:
            problems[name] = (
                f"{HEADER_BY_FIELD[name]}有{len(items)}项，许可证号有{n}项，数量应一致"
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
        if blank(issued_raw):
            problems.setdefault("licence_issued_on", f"{at}发证日期为空")
        else:
            try:
                issued_on = cell_date(issued_raw)
            except ValueError:
                problems.setdefault(
                    "licence_issued_on", f"{at}发证日期“{cell_text(issued_raw)}”不是有效日期（格式应为 YYYY-MM-DD）"
                )
        if not blank(expires_raw):
            try:
                expires_on = cell_date(expires_raw)
            except ValueError:
                problems.setdefault(
                    "licence_expires_on", f"{at}有效期至“{cell_text(expires_raw)}”不是有效日期（格式应为 YYYY-MM-DD）"
                )
        if issued_on and expires_on and expires_on < issued_on:
            problems.setdefault("licence_expires_on", f"许可证“{number}”的有效期至早于发证日期")
        if issued_on is not None:
            licences.append(LicenceInput(number, kind, issued_on, expires_on))
    return ([] if problems else licences), problems


def parse_row(values: dict[str, Any], lookups: RegistryLookups) -> tuple[EstablishmentInput | None, dict[str, str]]:
    """One row, by field, as an EstablishmentInput, or every problem in it as {field: reason}."""
    problems: dict[str, str] = {}
    text = {name: cell_text(values[name]) for name in (
        "credit_code", "name", "category", "address", "district", "grid", "legal_representative", "status",
    )}
    for name in ("credit_code", "category", "district", "status"):
        if not text[name]:
            problems[name] = f"{HEADER_BY_FIELD[name]}不能为空"
    coordinates: dict[str, float | None] = {}
    for name in ("latitude", "longitude"):
        coordinates[name] = None
        if not blank(values[name]):
            try:
                coordinates[name] = cell_number(values[name])
            except ValueError:
                problems[name] = f"{HEADER_BY_FIELD[name]}“{cell_text(values[name])}”不是有效数字"
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
    for name, value in values.items():  # any text cell, whatever else is wrong with it
        if isinstance(value, str) and (reason := unstorable(value.strip())):
            problems[name] = f"{HEADER_BY_FIELD[name]}{reason}"
    return (None if problems else data), problems


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

    rows = rows_of(source, fmt)
    try:
        header = _read_header(next(rows, None))
        order = {c.field: i for i, c in enumerate(COLUMNS)}
        problems: list[RowProblem] = []
        inputs: list[EstablishmentInput] = []
        first_row: dict[str, int] = {}  # credit code -> first row it appears in
        repeats: dict[str, list[int]] = {}  # credit code -> the later rows repeating it
        for number, cells in enumerate(rows, start=2):
            if all(blank(c) for c in cells):
                continue  # spreadsheets often end with empty rows
            values: dict[str, Any] = {name: None for name in HEADER_BY_FIELD}
            for position, cell in enumerate(cells):
                name = header.field_at.get(position)
                if name is not None:
                    values[name] = cell
                elif not blank(cell):
                    problems.append(RowProblem(number, f"第{position + 1}列", "该列没有列名，其中的数据无法识别"))
            data, row_problems = parse_row(values, lookups)
            for name in sorted(row_problems, key=order.__getitem__):
                problems.append(RowProblem(number, header.shown[name], row_problems[name]))
            code = credit_codes.normalise(cell_text(values["credit_code"]))
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
