"""The yearly summary table (分级评价结果汇总表) a jurisdiction exports and publishes by
25 January: counts per grade by district and category, then the graded establishments.

CSV is UTF-8 with a BOM (Excel on Chinese Windows reads a CSV without one as GBK); XLSX has two
sheets. Cells that a spreadsheet would take for a formula are neutralised: in CSV with a leading
apostrophe, in XLSX by storing them as text.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision.credit.grading.models import Grade, GradingRun
from supervision.credit.grading.policy import GRADES
from supervision.errors import NotFound, ValidationFailed
from supervision.registry.models import Establishment, EstablishmentCategory, Jurisdiction

COUNT_HEADER = ["辖区代码", "辖区", "类别", *[f"{g}级" for g in GRADES], "合计"]
LIST_HEADER = ["统一社会信用代码", "单位名称", "辖区", "类别", "得分", "信用等级", "否决规则"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def find_run(session: Session, *, year: int, jurisdiction: str | None, run_id: int | None = None) -> GradingRun:
    if run_id is not None:
        run = session.get(GradingRun, run_id)
        if run is None:
            raise NotFound(f"评价批次 {run_id} 不存在", fields={"run_id": ["不存在"]})
        return run
    scope_id = None
    if jurisdiction is not None:
        scope_id = session.execute(select(Jurisdiction.id).where(Jurisdiction.code == jurisdiction)).scalar_one_or_none()
        if scope_id is None:
            raise NotFound(f"辖区“{jurisdiction}”不存在", fields={"jurisdiction": ["辖区不存在"]})
    in_scope = GradingRun.jurisdiction_id == scope_id if scope_id else GradingRun.jurisdiction_id.is_(None)
    run = session.execute(select(GradingRun).where(GradingRun.year == year, in_scope, GradingRun.status == "published")
                          .order_by(GradingRun.published_at.desc()).limit(1)).scalar_one_or_none()
    if run is None:
        raise NotFound(f"{year} 年度该辖区没有已发布的评价批次", fields={"year": ["没有已发布的批次"]})
    return run


def count_rows(session: Session, run: GradingRun) -> list[list[Any]]:
    names = dict(session.execute(select(Jurisdiction.id, Jurisdiction.name)).all())
    codes = dict(session.execute(select(Jurisdiction.id, Jurisdiction.code)).all())
    categories = dict(session.execute(select(EstablishmentCategory.code, EstablishmentCategory.name)).all())
    table: dict[tuple, dict[str, int]] = {}
    for jid, category, grade, n in session.execute(
            select(Grade.jurisdiction_id, Grade.category_code, Grade.grade, func.count())
            .where(Grade.run_id == run.id).group_by(Grade.jurisdiction_id, Grade.category_code, Grade.grade)):
        table.setdefault((codes.get(jid, ""), jid, category or ""), {})[grade] = n
    rows, totals = [], {g: 0 for g in GRADES}
    for (code, jid, category), counts in sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        rows.append([code, names.get(jid, "（医务人员）"), categories.get(category, category or "医务人员"),
                     *[counts.get(g, 0) for g in GRADES], sum(counts.values())])
        for g in GRADES:
            totals[g] += counts.get(g, 0)
    rows.append(["", "合计", "", *[totals[g] for g in GRADES], sum(totals.values())])
    return rows


def list_rows(session: Session, run: GradingRun) -> Iterator[list[Any]]:
    names = dict(session.execute(select(Jurisdiction.id, Jurisdiction.name)).all())
    categories = dict(session.execute(select(EstablishmentCategory.code, EstablishmentCategory.name)).all())
    query = (select(Establishment.credit_code, Establishment.name, Grade.jurisdiction_id, Grade.category_code,
                    Grade.score, Grade.grade, Grade.hard_rule)
             .join(Establishment, Establishment.id == Grade.establishment_id)
             .where(Grade.run_id == run.id).order_by(Grade.jurisdiction_id, Establishment.credit_code)
             .execution_options(yield_per=5000))
    for code, name, jid, category, score, grade, hard_rule in session.execute(query):
        yield [code, name, names.get(jid, ""), categories.get(category, category), score, grade, hard_rule or ""]


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(target: IO[bytes], title: str, counts: list[list[Any]], listing: Iterable[list[Any]]) -> int:
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    n = 0
    try:
        writer = csv.writer(text)
        writer.writerow([title])
        writer.writerow(COUNT_HEADER)
        writer.writerows([[neutralise(v) for v in row] for row in counts])
        writer.writerow([])
        writer.writerow(LIST_HEADER)
        for row in listing:
            writer.writerow([neutralise(v) for v in row])
            n += 1
        text.flush()
    finally:
        text.detach()
    return n


def _write_xlsx(target: IO[bytes], title: str, counts: list[list[Any]], listing: Iterable[list[Any]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(sheet, value):
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text, never a formula
        return c

    def header(sheet, titles):
        cells = []
        for t in titles:
            c = cell(sheet, t)
            c.font = bold
            cells.append(c)
        sheet.append(cells)

    summary = workbook.create_sheet("汇总")
    summary.append([cell(summary, title)])
    header(summary, COUNT_HEADER)
    for row in counts:
        summary.append([cell(summary, v) for v in row])
    names = workbook.create_sheet("名单")
    header(names, LIST_HEADER)
    n = 0
    for row in listing:
        names.append([cell(names, v) for v in row])
        n += 1
    workbook.save(target)
    return n


def write_summary(session: Session, out: str | os.PathLike, *, year: int, jurisdiction: str | None = None,
                  run_id: int | None = None) -> tuple[GradingRun, int]:
    """Write the table to `out` (.csv or .xlsx); returns the run and how many establishments."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationFailed("输出文件须为 .csv 或 .xlsx", fields={"out": ["文件类型不支持"]})
    run = find_run(session, year=year, jurisdiction=jurisdiction, run_id=run_id)
    scope = session.get(Jurisdiction, run.jurisdiction_id).name if run.jurisdiction_id else "全部辖区"
    status = {"draft": "（草稿）", "approved": "（已审核未发布）", "superseded": "（已被取代）"}.get(run.status, "")
    title = f"{scope} {run.year} 年度信用分级评价结果汇总表{status}（批次 {run.id}）"
    write = _write_csv if suffix == ".csv" else _write_xlsx
    partial = path.with_name(f".{path.name}.part")
    try:
        with open(partial, "wb") as handle:
            n = write(handle, title, count_rows(session, run), list_rows(session, run))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return run, n
