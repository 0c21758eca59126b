"""Reading a file's rows, and turning cells into values.

CSV cells that the export neutralised against formula injection ("'=1+1") are read back as
written ("=1+1"): see exporting.neutralise.
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
from datetime import date, datetime
from typing import IO, Any, Iterator, Sequence

from defusedxml import DefusedXmlException

from supervision.registry.transfer.columns import ImportRefused, RowProblem, restore

LICENCE_SEPARATOR = "；"  # written on export; "；" and ";" are both read
_LICENCE_SPLIT = re.compile(r"[;；]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _csv_rows(source: IO[bytes]) -> Iterator[list[Any]]:
    # utf-8-sig drops a BOM if there is one and reads plain UTF-8 otherwise.
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        for row in csv.reader(text):
            yield [restore(cell) for cell in row]
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
    except Exception as exc:  # not a zip, not a workbook, damaged, entities: refused, never a traceback
        raise _unreadable(exc) from None
    try:
        if not workbook.worksheets:
            return
        # iter_rows starts at row 1 and yields empty rows for gaps, so positions are row numbers.
        # A read-only sheet is parsed while it is read: a truncated or corrupt sheet, or entity
        # declarations (refused by defusedxml: external entities, entity expansion), fail here.
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise _unreadable(exc) from None
            yield row
    finally:
        workbook.close()


def _causes(exc: BaseException | None):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _unreadable(exc: Exception) -> ImportRefused:
    """openpyxl wraps what went wrong in a ValueError of its own: look for defusedxml's
    refusal among the causes."""
    if any(isinstance(cause, DefusedXmlException) for cause in _causes(exc)):
        reason = "XLSX 文件包含 XML 实体声明（外部实体或实体扩展），出于安全原因拒绝读取：请在 Excel 中另存为新的工作簿后再导入"
    else:
        reason = f"无法读取 XLSX 文件，文件已损坏或不完整（{type(exc).__name__}）：请确认文件是完整的 Excel 工作簿"
    return ImportRefused([RowProblem(1, "", reason)])


def rows_of(source: str | os.PathLike | IO[bytes], fmt: str) -> Iterator[Sequence[Any]]:
    reader = _csv_rows if fmt == "csv" else _xlsx_rows
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield from reader(handle)
    else:
        yield from reader(source)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
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


def cell_parts(value: Any) -> list[Any]:
    """A licence cell's items: "a；b" -> ["a", "b"]; a blank cell has none."""
    if blank(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in _LICENCE_SPLIT.split(value)]
    return [value]  # a date or number cell holds one item


def cell_number(value: Any) -> float:
    """Raises ValueError unless the cell is a finite number."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = cell_text(value)
        if not _NUMBER.fullmatch(text):
            raise ValueError
        number = float(text)
    if not math.isfinite(number):
        raise ValueError
    return number


def cell_date(value: Any) -> date:
    """Raises ValueError unless the cell is a date: a date cell, or text YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if not _DATE.fullmatch(text):
        raise ValueError
    return date.fromisoformat(text)
