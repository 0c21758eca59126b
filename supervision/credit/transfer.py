"""Credit information from other departments (`supervision credit import FILE`).

A CSV (UTF-8, with or without BOM) or XLSX file, one fact per row under a header row, keyed by
the unified social credit code. Headers are Chinese, with the English field names accepted as
aliases (as in the registry import). All or nothing: every row is parsed and checked first
(the credit code must name a registered establishment; kind, sub-kind and severity must be
known; dates real and not in the future; the producing department given); if any row is bad
the file is refused with every problem named as "第N行“列”：原因", and nothing is written.

Re-importing a file records nothing twice: each row's `source_ref` is a SHA-256 of its
identity (department, credit code, kind, sub-kind, date, title, the department's own
reference), and rows already recorded are skipped.

Files are read by the registry import's reader (`registry/transfer/reading.py`), so both
imports refuse hostile or damaged files the same way.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import codes, records
from supervision.credit.calendar import china_today
from supervision.credit.models import CreditRecord
from supervision.credit.policies import Policies
from supervision.errors import ValidationFailed
from supervision.registry.models import Establishment
from supervision.registry.transfer import reading as tabular
from supervision.registry.transfer.columns import ImportRefused as FileRefused
from supervision.text import unstorable

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    required: bool = True


COLUMNS = (
    Column("credit_code", "统一社会信用代码"),
    Column("kind", "信息类别"),
    Column("code", "信息子类"),
    Column("severity", "严重程度", required=False),
    Column("title", "信息摘要"),
    Column("arose_on", "发生日期"),
    Column("producing_department", "产生部门"),
    Column("legal_basis", "法律依据", required=False),
    Column("practice_points", "记分", required=False),
    Column("reference", "部门业务编号", required=False),
)
_FIELD_BY_HEADER = {c.header: c.field for c in COLUMNS} | {c.field: c.field for c in COLUMNS}
_KIND_BY_NAME = {name: kind for kind, name in codes.KIND_NAMES.items()}
_SEVERITY_BY_NAME = {name: s for s, name in codes.SEVERITY_NAMES.items()}


@dataclass(frozen=True)
class RowProblem:
    row: int  # as a spreadsheet shows it: the header is row 1
    column: str
    reason: str

    def __str__(self) -> str:
        column = f"“{self.column}”" if self.column else ""
        return f"第{self.row}行{column}：{self.reason}"


class ImportRefused(ValidationFailed):
    code = "import_refused"

    def __init__(self, problems: Sequence[RowProblem]):
        self.problems = list(problems)
        fields: dict[str, list[str]] = {}
        for p in self.problems:
            fields.setdefault(f"row{p.row}.{p.column}", []).append(p.reason)
        rows = len({p.row for p in self.problems})
        super().__init__(f"文件有误，未导入任何信用信息：{rows}行共{len(self.problems)}处问题", fields=fields)


@dataclass
class ImportReport:
    recorded: int = 0
    already: int = 0

    def __str__(self) -> str:
        return f"新记录 {self.recorded} 条，已记录过（跳过） {self.already} 条"


# --- reading --------------------------------------------------------------------------------


def read_rows(path: str | os.PathLike) -> Iterator[Sequence[Any]]:
    """The file's rows, read by the registry's hardened reader (entities refused, damaged or
    truncated workbooks refused clearly, neutralised formula cells restored); its refusals are
    restated as this import's."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ImportRefused([RowProblem(1, "", f"不支持的文件类型“{suffix or '（无扩展名）'}”：应为 .csv 或 .xlsx")])
    try:
        yield from tabular.rows_of(path, suffix[1:])
    except FileRefused as refused:
        raise ImportRefused([RowProblem(p.row, p.column, p.reason) for p in refused.problems]) from None


_text = tabular.cell_text


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


# --- parsing --------------------------------------------------------------------------------


def _header(cells: Sequence[Any] | None) -> dict[int, str]:
    if cells is None or all(not _text(c) for c in cells):
        raise ImportRefused([RowProblem(1, "", "第1行应为表头，但文件为空或第1行为空")])
    problems, at, seen = [], {}, set()
    for position, cell in enumerate(cells):
        text = _text(cell)
        if not text:
            continue
        name = _FIELD_BY_HEADER.get(text) or _FIELD_BY_HEADER.get(text.lower())
        if name is None:
            problems.append(RowProblem(1, text, "无法识别的列"))
        elif name in seen:
            problems.append(RowProblem(1, text, "列重复出现"))
        else:
            at[position] = name
            seen.add(name)
    for column in COLUMNS:
        if column.required and column.field not in seen:
            problems.append(RowProblem(1, column.header, "缺少该列"))
    if problems:
        raise ImportRefused(problems)
    return at


def row_identity(values: dict[str, str]) -> str:
    """A stable hash of what makes a row the same fact, whatever its position in the file."""
    parts = [values.get(k, "") for k in ("producing_department", "credit_code", "kind", "code", "arose_on", "title",
                                         "reference")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def parse(session: Session, path: str | os.PathLike, *, policies: Policies, today: date,
          unit_id: int | None = None) -> list[records.Fact]:
    """Every row as a Fact, or ImportRefused naming every bad row."""
    rows = read_rows(path)
    at = _header(next(rows, None))
    header_of = {c.field: c.header for c in COLUMNS}
    raw: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(rows, start=2):
        if cells is None or all(not _text(c) for c in cells):
            continue
        raw.append((number, {name: cells[i] if i < len(cells) else None for i, name in at.items()}))
    wanted = sorted({_text(v.get("credit_code")).upper() for _, v in raw})
    establishments = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists (SQLite's parameter limit)
        establishments.update((e.credit_code, e) for e in session.execute(
            select(Establishment).where(Establishment.credit_code.in_(wanted[start:start + 500]))).scalars())

    problems: list[RowProblem] = []
    facts: list[records.Fact] = []
    first_row_of: dict[str, int] = {}
    for number, values in raw:
        bad = len(problems)

        def add(name: str, reason: str) -> None:
            problems.append(RowProblem(number, header_of.get(name, name), reason))

        text = {k: _text(v) for k, v in values.items()}
        for name, value in text.items():
            reason = unstorable(value)
            if reason:
                add(name, reason)
        establishment = establishments.get(text["credit_code"].upper())
        if not text["credit_code"]:
            add("credit_code", "不能为空")
        elif establishment is None:
            add("credit_code", f"统一社会信用代码“{text['credit_code']}”对应的单位未登记")
        kind = _KIND_BY_NAME.get(text["kind"], text["kind"])
        severity_text = text.get("severity", "")
        severity = _SEVERITY_BY_NAME.get(severity_text, severity_text) or None
        try:
            arose_on = _date(values["arose_on"])
        except ValueError:
            add("arose_on", f"日期“{text['arose_on']}”无效，应为 YYYY-MM-DD")
            arose_on = None
        if arose_on is not None and arose_on > today:
            add("arose_on", f"发生日期 {arose_on.isoformat()} 晚于今天")
        if not text["producing_department"]:
            add("producing_department", "请填写产生该信息的部门")
        points = None
        if text.get("practice_points"):
            try:
                points = int(text["practice_points"])
            except ValueError:
                add("practice_points", "记分须为整数")
        if not text["kind"]:
            add("kind", "不能为空")
        if establishment is None or arose_on is None or not text["kind"]:
            continue
        identity = row_identity({**text, "credit_code": text["credit_code"].upper(), "kind": kind,
                                 "arose_on": arose_on.isoformat()})
        fact = records.Fact(
            subject_id=establishment.subject_id, kind=kind, code=text["code"] or None, severity=severity,
            title=text["title"], arose_on=arose_on, source_type="import", source_ref=identity,
            producing_unit_id=unit_id or establishment.jurisdiction_id, channel="exchange",
            legal_basis=text.get("legal_basis") or None, practice_points=points,
            producing_department=text["producing_department"] or None,
            details={"file": Path(path).name, "row": number, "reference": text.get("reference") or None},
        )
        fact_problems, _, _ = records.check_fact(fact, policies)
        for name, reasons in fact_problems.items():
            for reason in reasons:
                add(name, reason)
        if identity in first_row_of:
            add("credit_code", f"与第{first_row_of[identity]}行是同一条信息，重复出现")
        first_row_of.setdefault(identity, number)
        if len(problems) == bad:
            facts.append(fact)
    if problems:
        raise ImportRefused(problems)
    return facts


def import_credit(session: Session, actor: audit.Actor, path: str | os.PathLike, *, policies: Policies | None = None,
                  today: date | None = None, unit_id: int | None = None) -> ImportReport:
    """Check the whole file, then record each new fact; the caller commits."""
    policies = policies or Policies.current(session)
    facts = parse(session, path, policies=policies, today=today or china_today(), unit_id=unit_id)
    refs = [f.source_ref for f in facts]
    known: set[str] = set()
    for start in range(0, len(refs), 500):
        known |= set(session.execute(select(CreditRecord.source_ref).where(
            CreditRecord.source_type == "import", CreditRecord.source_ref.in_(refs[start:start + 500]))).scalars())
    report = ImportReport()
    for fact in facts:
        if fact.source_ref in known:
            report.already += 1
            continue
        records.record(session, actor, fact, policies=policies)
        report.recorded += 1
    return report
