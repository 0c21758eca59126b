"""Import and export of establishments as CSV and XLSX files."""
from __future__ import annotations

import csv
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from supervision.audit.models import AuditEntry
from supervision.extensions import db
from supervision.registry import transfer
from supervision.registry.models import Establishment, Licence, PlateToken
from supervision.registry.service import LicenceInput
from tests import factories

HEADER = [c.header for c in transfer.COLUMNS]


def _row(code=None, **overrides) -> dict:
    values = {
        "统一社会信用代码": code or factories.valid_credit_code(),
        "单位名称": "南京市玄武区悦来宾馆有限公司",
        "单位类别": "住宿场所",
        "地址": "江苏省南京市玄武区中山路1号",
        "辖区代码": "320102",
        "网格编号": "",
        "纬度": "32.0603",
        "经度": "118.7969",
        "法定代表人": "王建国",
        "经营状态": "正常",
        "许可证号": "玄卫公字〔2024〕第0001号",
        "许可类别": "公共场所卫生许可证",
        "发证日期": "2024-01-01",
        "有效期至": "2028-01-01",
    }
    values.update(overrides)
    return values


def write_csv(path, rows, header=HEADER, bom=True):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])
    return path


def write_xlsx(path, rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([None if row.get(h, "") == "" else row.get(h) for h in header])
    workbook.save(path)
    return path


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _counts() -> tuple[int, int, int]:
    return _count(Establishment), _count(Licence), _count(AuditEntry)


def _import(runner, path):
    return runner.invoke(args=["import", "establishments", str(path)])


def _export(runner, path):
    return runner.invoke(args=["export", "establishments", str(path)])


@pytest.fixture
def district(app):
    j = factories.jurisdiction()
    db.session.commit()
    return j


def _establishment(code):
    return db.session.execute(select(Establishment).where(Establishment.credit_code == code)).scalar_one()


def _refusal(path):
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_establishments(db.session, path, factories.ACTOR)
    return [(p.row, p.column, p.reason) for p in refused.value.problems]


# --- importing a good file --------------------------------------------------------------------


def test_csv_import_creates_establishments_licences_plates_and_audit(app, runner, district, tmp_path):
    grid = factories.grid(district)
    db.session.commit()
    first, second = factories.valid_credit_code(), factories.valid_credit_code()
    path = write_csv(tmp_path / "单位.csv", [
        _row(first, 网格编号=grid.code),
        _row(second, 单位名称="玄武区第一游泳馆", 单位类别="swimming", 经营状态="停业", 纬度="", 经度="",
             许可证号="A-1；A-2", 许可类别="公共场所卫生许可证;游泳场所许可", 发证日期="2023-05-01；2024-05-01",
             有效期至="；2029-05-01"),
    ])
    before = _count(AuditEntry)

    result = _import(runner, path)

    assert result.exit_code == 0, result.output
    assert "新增 2 家，更新 0 家，未变 0 家" in result.output
    one, two = _establishment(first), _establishment(second)
    assert (one.name, one.category_code, one.grid_id, one.latitude, one.status) == (
        "南京市玄武区悦来宾馆有限公司", "accommodation", grid.id, 32.0603, "active")
    assert (two.category_code, two.status, two.latitude, two.longitude) == ("swimming", "suspended", None, None)
    assert sorted((lic.number, lic.kind, lic.issued_on, lic.expires_on) for lic in two.licences) == [
        ("A-1", "公共场所卫生许可证", date(2023, 5, 1), None),
        ("A-2", "游泳场所许可", date(2024, 5, 1), date(2029, 5, 1)),
    ]
    assert one.active_plate is not None and two.active_plate is not None
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.seq > before)).scalars().all()
    assert sorted(actions) == ["establishment.create"] * 2 + ["plate.issue"] * 2
    assert db.session.execute(select(AuditEntry.actor_kind).where(AuditEntry.seq > before)).scalars().all() == ["cli"] * 4


def test_xlsx_import_creates_establishments_and_accepts_date_and_number_cells(app, runner, district, tmp_path):
    code = factories.valid_credit_code()
    path = write_xlsx(tmp_path / "单位.xlsx", [
        _row(code, 辖区代码=320102, 纬度=32.0603, 经度=118.7969,
             发证日期=datetime(2024, 1, 1), 有效期至=date(2028, 1, 1)),
    ])
    before = _count(AuditEntry)

    result = _import(runner, path)

    assert result.exit_code == 0, result.output
    assert "新增 1 家" in result.output
    est = _establishment(code)
    assert (est.jurisdiction_id, est.latitude, est.longitude) == (district.id, 32.0603, 118.7969)
    assert [(lic.issued_on, lic.expires_on) for lic in est.licences] == [(date(2024, 1, 1), date(2028, 1, 1))]
    assert _count(PlateToken) == 1
    assert _count(AuditEntry) == before + 2


def test_english_field_names_are_accepted_as_headers(app, district, tmp_path):
    code = factories.valid_credit_code()
    english = [c.field for c in transfer.COLUMNS]
    row = dict(zip(english, (_row(code)[h] for h in HEADER)))
    path = write_csv(tmp_path / "en.csv", [row], header=english)

    report = transfer.import_establishments(db.session, path, factories.ACTOR)

    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    assert _establishment(code).status == "active"


def test_reimporting_the_same_file_changes_nothing(app, runner, district, tmp_path):
    path = write_csv(tmp_path / "单位.csv", [_row(), _row(单位类别="accommodation", 经营状态="active")])
    assert _import(runner, path).exit_code == 0
    before = _counts()

    result = _import(runner, path)

    assert result.exit_code == 0, result.output
    assert "新增 0 家，更新 0 家，未变 2 家" in result.output
    assert _counts() == before


def test_changed_row_updates_the_establishment(app, runner, district, tmp_path):
    code = factories.valid_credit_code()
    unchanged = factories.valid_credit_code()
    assert _import(runner, write_csv(tmp_path / "v1.csv", [_row(code), _row(unchanged)])).exit_code == 0
    before = _count(AuditEntry)

    result = _import(runner, write_csv(tmp_path / "v2.csv", [
        _row(code, 地址="江苏省南京市玄武区北京东路2号", 经营状态="注销", 许可证号="B-9", 发证日期="2025-02-01", 有效期至=""),
        _row(unchanged),
    ]))

    assert result.exit_code == 0, result.output
    assert "新增 0 家，更新 1 家，未变 1 家" in result.output
    est = _establishment(code)
    assert (est.address, est.status) == ("江苏省南京市玄武区北京东路2号", "closed")
    assert [(lic.number, lic.issued_on, lic.expires_on) for lic in est.licences] == [("B-9", date(2025, 2, 1), None)]
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.seq > before)).scalars().all()
    assert [(e.action, e.entity_id) for e in entries] == [("establishment.update", str(est.id))]


# --- refusing a bad file ------------------------------------------------------------------------


def test_wrong_credit_code_refuses_the_file_and_changes_nothing(app, district, tmp_path):
    good = factories.valid_credit_code()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    path = write_csv(tmp_path / "bad.csv", [_row(), _row(bad)])
    before = _counts()

    problems = _refusal(path)

    assert problems == [(3, "统一社会信用代码", f"统一社会信用代码校验位错误：第18位应为“{good[17]}”，实际为“{bad[17]}”")]
    db.session.commit()
    assert _counts() == before


def test_unknown_category_refuses_the_file_and_changes_nothing(app, district, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [_row(), _row(单位类别="网吧")])
    before = _counts()

    problems = _refusal(path)

    assert problems == [(3, "单位类别", "未知的单位类别“网吧”")]
    db.session.commit()
    assert _counts() == before


def test_duplicate_credit_code_is_reported_on_both_rows(app, district, tmp_path):
    code = factories.valid_credit_code()
    path = write_csv(tmp_path / "dup.csv", [_row(code), _row(), _row(code.lower())])
    before = _counts()

    problems = _refusal(path)

    assert problems == [
        (2, "统一社会信用代码", "统一社会信用代码与第4行重复"),
        (4, "统一社会信用代码", "统一社会信用代码与第2行重复"),
    ]
    db.session.commit()
    assert _counts() == before


def test_every_bad_row_is_reported_with_its_column_and_reason(app, district, tmp_path):
    other = factories.jurisdiction(code="320104", name="秦淮区")
    foreign_grid = factories.grid(other)
    db.session.commit()
    rows = [
        _row(),  # row 2 is fine
        _row(单位名称="", 辖区代码="999999"),  # row 3
        _row(网格编号="NOPE"),  # row 4
        _row(网格编号=foreign_grid.code),  # row 5
        _row(纬度="北纬32度", 经营状态="歇业"),  # row 6
        _row(发证日期="2024/01/01", 有效期至="2023-13-01"),  # row 7
        _row(许可证号="A；B", 许可类别="公共场所卫生许可证"),  # row 8
        _row(统一社会信用代码="", 单位类别=""),  # row 9
        _row(发证日期="2024-06-01", 有效期至="2024-01-01"),  # row 10
        _row(统一社会信用代码="91320100MA1XYZ"),  # row 11
    ]
    before = _counts()

    problems = _refusal(write_csv(tmp_path / "bad.csv", rows))

    assert problems == [
        (3, "单位名称", "单位名称不能为空"),
        (3, "辖区代码", "未知的辖区代码“999999”"),
        (4, "网格编号", "未知的网格编号“NOPE”"),
        (5, "网格编号", f"网格“{foreign_grid.code}”不属于辖区“320102”"),
        (6, "纬度", "纬度“北纬32度”不是有效数字"),
        (6, "经营状态", "未知的经营状态“歇业”（应为 正常、停业 或 注销）"),
        (7, "发证日期", "发证日期“2024/01/01”不是有效日期（格式应为 YYYY-MM-DD）"),
        (7, "有效期至", "有效期至“2023-13-01”不是有效日期（格式应为 YYYY-MM-DD）"),
        (8, "许可类别", "许可类别有1项，许可证号有2项，数量应一致（多个许可证用“；”分隔，各列按顺序一一对应）"),
        (8, "发证日期", "发证日期有1项，许可证号有2项，数量应一致（多个许可证用“；”分隔，各列按顺序一一对应）"),
        (8, "有效期至", "有效期至有1项，许可证号有2项，数量应一致（多个许可证用“；”分隔，各列按顺序一一对应）"),
        (9, "统一社会信用代码", "统一社会信用代码不能为空"),
        (9, "单位类别", "单位类别不能为空"),
        (10, "有效期至", "许可证“玄卫公字〔2024〕第0001号”的有效期至早于发证日期"),
        (11, "统一社会信用代码", "统一社会信用代码应为18位，实际为14位"),
    ]
    db.session.commit()
    assert _counts() == before


def test_bad_xlsx_rows_are_reported_with_spreadsheet_row_numbers(app, district, tmp_path):
    rows = [_row(), {}, _row(单位类别="网吧")]  # an empty row in between keeps its number
    problems = _refusal(write_xlsx(tmp_path / "bad.xlsx", rows))
    assert problems == [(4, "单位类别", "未知的单位类别“网吧”")]


def test_missing_and_unknown_header_columns_refuse_the_file(app, district, tmp_path):
    header = [h for h in HEADER if h not in ("地址", "经营状态")] + ["备注"]
    path = write_csv(tmp_path / "header.csv", [_row(备注="x")], header=header)
    before = _counts()

    problems = _refusal(path)

    assert problems[:3] == [(1, "备注", "无法识别的列“备注”"), (1, "地址", "缺少“地址”列"), (1, "经营状态", "缺少“经营状态”列")]
    assert problems[3][0:2] == (1, "") and "统一社会信用代码、单位名称" in problems[3][2]
    db.session.commit()
    assert _counts() == before


def test_a_column_given_twice_in_the_header_refuses_the_file(app, district, tmp_path):
    path = write_csv(tmp_path / "header.csv", [_row()], header=HEADER + ["name"])
    assert _refusal(path) == [(1, "name", "“name”与第2列“单位名称”是同一列，重复出现（第15列）")]


def test_data_under_a_blank_header_cell_is_reported(app, district, tmp_path):
    path = write_xlsx(tmp_path / "extra.xlsx", [_row(), {**_row(), "": "备注"}], header=HEADER + [""])
    assert _refusal(path) == [(3, "第15列", "该列没有列名，其中的数据无法识别")]


def test_cli_refusal_prints_every_problem_and_exits_1(app, runner, district, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [_row(单位类别="网吧"), _row(辖区代码="999999")])
    before = _counts()

    result = _import(runner, path)

    assert result.exit_code == 1
    assert "第2行“单位类别”列：未知的单位类别“网吧”" in result.output
    assert "第3行“辖区代码”列：未知的辖区代码“999999”" in result.output
    assert "文件有误，未导入任何数据：2行共2处问题" in result.output
    assert _counts() == before


def test_unsupported_extension_is_a_clear_error(app, runner, district, tmp_path):
    path = tmp_path / "单位.xls"
    path.write_bytes(b"not really")
    result = _import(runner, path)
    assert result.exit_code == 1
    assert "不支持的文件类型“.xls”：文件名应以 .csv 或 .xlsx 结尾" in result.output
    assert _export(runner, tmp_path / "out.txt").exit_code == 1


def test_non_utf8_csv_is_refused_with_a_hint(app, district, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(",".join(HEADER).encode("gbk"))
    [(row, _, reason)] = _refusal(path)
    assert row == 1 and "UTF-8" in reason


# --- CSV encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [True, False], ids=["with-bom", "without-bom"])
def test_csv_is_read_with_or_without_bom(app, district, tmp_path, bom):
    code = factories.valid_credit_code()
    path = write_csv(tmp_path / "单位.csv", [_row(code)], bom=bom)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") is bom

    report = transfer.import_establishments(db.session, path, factories.ACTOR)

    assert report.created == 1
    assert _establishment(code).name == "南京市玄武区悦来宾馆有限公司"


def test_exported_csv_is_utf8_with_bom_and_chinese_headers(app, runner, district, tmp_path):
    est = factories.establishment(status="suspended")
    db.session.commit()
    path = tmp_path / "out.csv"

    result = _export(runner, path)

    assert result.exit_code == 0, result.output
    assert "已导出 1 家单位" in result.output
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header, row = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert header == HEADER
    assert row == [est.credit_code, est.name, "住宿场所", est.address, "320102", "", "32.0603", "118.7969",
                   "王建国", "停业", "玄卫公字〔2024〕第0001号", "公共场所卫生许可证", "2024-01-01", "2028-01-01"]


# --- round trip ---------------------------------------------------------------------------------


def _varied_registry(district):
    grid = factories.grid(district)
    factories.establishment()
    factories.establishment(grid=grid.code, status="closed", name="=SUM(1,2) 名称, 含\"引号\"", latitude=None, longitude=None)
    factories.establishment(category="医疗机构", licences=[
        LicenceInput("医-1", "医疗机构执业许可证", date(2020, 3, 1), None),
        LicenceInput("医-2", "放射诊疗许可证", date(2021, 3, 1), date(2026, 3, 1)),
    ])
    factories.establishment(licences=[])
    db.session.commit()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(app, runner, district, tmp_path, suffix):
    _varied_registry(district)
    path = tmp_path / f"单位.{suffix}"
    assert _export(runner, path).exit_code == 0
    before = _counts()

    result = _import(runner, path)

    assert result.exit_code == 0, result.output
    assert "新增 0 家，更新 0 家，未变 4 家" in result.output
    assert _counts() == before


def test_exported_xlsx_has_chinese_headers_and_text_codes(app, runner, district, tmp_path):
    factories.establishment()
    db.session.commit()
    path = tmp_path / "out.xlsx"
    assert _export(runner, path).exit_code == 0
    workbook = load_workbook(path, read_only=True)
    header, row = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert list(header) == HEADER
    assert isinstance(row[0], str) and row[4] == "320102" and row[6] == 32.0603
