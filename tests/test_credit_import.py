"""`supervision credit import FILE`: other departments' credit information, all or nothing,
never recorded twice."""
import csv
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from supervision.credit.calendar import china_today
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from tests.credit_support import counts, establishment

HEADER = ["统一社会信用代码", "信息类别", "信息子类", "严重程度", "信息摘要", "发生日期", "产生部门", "法律依据"]


@pytest.fixture
def est(app):
    est = establishment()[0]
    db.session.commit()
    return est


def rows_for(est):
    return [
        [est.credit_code, "行政处罚", "fine", "一般", "市场监管部门罚款 2000 元", "2026-03-01", "南京市市场监督管理局",
         "《食品安全法》第一百二十六条"],
        [est.credit_code, "positive", "honour", "", "获评市级文明单位", "2026-04-10", "南京市文明办", ""],
        [est.credit_code, "失信信息", "false_disclosure", "", "年报信息不实", "2026-05-20", "南京市市场监督管理局", ""],
    ]


def write_csv(path, rows, header=HEADER, bom=True):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def run(runner, path):
    return runner.invoke(args=["credit", "import", path])


def test_a_clean_file_is_recorded_with_its_provenance(runner, est, tmp_path):
    result = run(runner, write_csv(tmp_path / "in.csv", rows_for(est)))
    assert result.exit_code == 0, result.output
    rows = db.session.execute(select(CreditRecord).order_by(CreditRecord.arose_on)).scalars().all()
    assert [(r.kind, r.code, r.severity) for r in rows] == [
        ("penalty", "fine", "general"), ("positive", "honour", "none"), ("dishonesty", "false_disclosure", "minor")]
    assert {(r.source_type, r.channel, r.producing_department) for r in rows} >= {
        ("import", "exchange", "南京市市场监督管理局")}
    assert all(len(r.source_ref) == 64 for r in rows)


def test_importing_the_same_file_again_records_nothing(runner, est, tmp_path):
    path = write_csv(tmp_path / "in.csv", rows_for(est))
    run(runner, path)
    before = counts()
    result = run(runner, path)
    assert result.exit_code == 0 and "新记录 0 条" in result.output and "跳过） 3 条" in result.output
    assert counts() == before


def test_english_headers_and_xlsx_are_read(runner, est, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["credit_code", "kind", "code", "severity", "title", "arose_on", "producing_department"])
    sheet.append([est.credit_code, "licensing", "licence_renewed", "none", "公共场所卫生许可延续", "2026-02-01",
                  "南京市玄武区行政审批局"])
    workbook.save(tmp_path / "in.xlsx")
    result = run(runner, str(tmp_path / "in.xlsx"))
    assert result.exit_code == 0, result.output
    assert db.session.execute(select(CreditRecord.code)).scalar_one() == "licence_renewed"


def test_one_bad_row_refuses_the_whole_file(runner, est, tmp_path):
    rows = rows_for(est)
    rows[1][1] = "gossip"
    before = counts()
    result = run(runner, write_csv(tmp_path / "in.csv", rows))
    assert result.exit_code == 1
    assert "第3行“信息类别”：未知的信用信息类别“gossip”" in result.output
    assert counts() == before


def test_every_bad_row_is_named(runner, est, tmp_path):
    future = (china_today() + timedelta(days=1)).isoformat()
    rows = rows_for(est) + [
        ["91320100MA00000000", "positive", "honour", "", "某表彰", "2026-01-01", "某部门", ""],
        [est.credit_code, "positive", "honour", "", "某表彰", "2026-02-30", "某部门", ""],
        [est.credit_code, "positive", "honour", "", "某表彰", future, "某部门", ""],
        [est.credit_code, "positive", "honour", "", "某表彰", "2026-01-02", "", ""],
        [est.credit_code, "penalty", "flogging", "一般", "某处罚", "2026-01-03", "某部门", ""],
        [est.credit_code, "dishonesty", "no_such_entry", "", "某失信", "2026-01-04", "某部门", ""],
        rows_for(est)[0],
    ]
    before = counts()
    result = run(runner, write_csv(tmp_path / "in.csv", rows))
    assert result.exit_code == 1
    for expected in ("第5行“统一社会信用代码”", "第6行“发生日期”：日期“2026-02-30”无效", "第7行“发生日期”",
                     "晚于今天", "第8行“产生部门”", "第9行“信息子类”", "第10行“信息子类”", "第11行“统一社会信用代码”：与第2行"):
        assert expected in result.output, expected
    assert counts() == before


def test_a_missing_column_is_named(runner, est, tmp_path):
    result = run(runner, write_csv(tmp_path / "in.csv", [], header=HEADER[:-2]))
    assert result.exit_code == 1 and "第1行“产生部门”：缺少该列" in result.output


def test_a_file_of_another_type_is_refused(runner, est, tmp_path):
    (tmp_path / "in.txt").write_text("x", encoding="utf-8")
    result = run(runner, str(tmp_path / "in.txt"))
    assert result.exit_code == 1 and ".txt" in result.output


def test_a_control_character_in_a_cell_refuses_the_file(runner, est, tmp_path):
    rows = rows_for(est)
    rows[0][4] = "罚款\x00二千元"
    before = counts()
    result = run(runner, write_csv(tmp_path / "in.csv", rows))
    assert result.exit_code == 1
    assert "第2行“信息摘要”：不能包含控制字符" in result.output
    assert counts() == before


def test_a_truncated_workbook_is_refused_clearly(runner, est, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for _ in range(200):
        for row in rows_for(est):
            sheet.append(row)
    workbook.save(tmp_path / "whole.xlsx")
    data = (tmp_path / "whole.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) * 2 // 3])
    before = counts()
    result = run(runner, str(tmp_path / "cut.xlsx"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "无法读取 XLSX 文件" in result.output
    assert counts() == before
