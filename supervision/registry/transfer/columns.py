"""The columns of a registry file, and how a refused file is reported."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from supervision.errors import ValidationFailed

FORMATS = ("csv", "xlsx")
LICENCE_TEXT_LIMIT = 64  # licences.number and licences.kind are VARCHAR(64)


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
HEADER_BY_FIELD = {c.field: c.header for c in COLUMNS}
# Every column must be present: a missing optional column would leave it unclear whether the
# import should clear that value on existing establishments or keep it.
FIELD_BY_HEADER = {c.header: c.field for c in COLUMNS} | {c.field: c.field for c in COLUMNS}


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


# A spreadsheet program runs a cell starting with one of these as a formula ("CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE = "'"


def _escaped(text: str) -> bool:
    return text.startswith(_ESCAPE) and text[1:].startswith((*FORMULA_TRIGGERS, _ESCAPE))


def neutralise(text: str) -> str:
    """A CSV cell that no spreadsheet runs: an apostrophe before a formula trigger, and before
    an apostrophe that precedes one, so that `restore` undoes exactly what was added."""
    return _ESCAPE + text if text.startswith(FORMULA_TRIGGERS) or _escaped(text) else text


def restore(text: str) -> str:
    """The inverse of `neutralise`, for CSV cells read back in."""
    return text[1:] if _escaped(text) else text
