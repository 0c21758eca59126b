"""Hostile registry files: control characters in cells, XLSX with entity declarations or a
damaged sheet, and cells a spreadsheet would run as formulas."""
from __future__ import annotations

import csv
import zipfile

import pytest

from supervision.extensions import db
from supervision.registry import transfer
from tests import factories
from tests.test_transfer import _counts, _export, _import, _refusal, _row, district, write_csv, write_xlsx  # noqa: F401


@pytest.mark.parametrize("column, value", [
    ("单位名称", "悦来\x00宾馆"), ("地址", "中山路\x1b1号"), ("法定代表人", "王\x07建国"), ("许可证号", "玄卫\x00公字"),
    ("单位名称", "悦来\n宾馆"),
], ids=["NUL in a name", "escape in an address", "bell in a person", "NUL in a licence", "line break in a name"])
def test_text_cell_with_control_characters_is_a_row_problem(app, district, tmp_path, column, value):
    path = write_csv(tmp_path / "bad.csv", [_row(), _row(**{column: value})])
    before = _counts()
    problems = _refusal(path)
    assert [(row, col) for row, col, _ in problems] == [(3, column)]
    assert "控制字符" in problems[0][2]
    assert _counts() == before


def test_xlsx_cell_with_a_line_break_is_a_row_problem(app, district, tmp_path):
    """XML cannot hold NUL at all (that is a damaged file); a line break it can."""
    path = write_xlsx(tmp_path / "bad.xlsx", [_row(**{"单位名称": "悦来\n宾馆"})])
    assert [(row, col) for row, col, _ in _refusal(path)] == [(2, "单位名称")]


def rewrite_sheet(path, transform):
    """Replace the first sheet's XML inside an XLSX written by openpyxl."""
    with zipfile.ZipFile(path) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/worksheets/sheet1.xml"] = transform(entries["xl/worksheets/sheet1.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries.items():
            target.writestr(name, data)
    return path


def with_doctype(doctype: bytes, entity: bytes):
    def transform(xml: bytes) -> bytes:
        body = xml.replace(b"<sheetData>", b"<sheetData><row r=\"99\"><c r=\"A99\" t=\"inlineStr\"><is><t>"
                           + entity + b"</t></is></c></row>", 1)
        if body.startswith(b"<?xml"):
            declaration, _, rest = body.partition(b"?>")
            return declaration + b"?>" + doctype + rest
        return doctype + body
    return transform


EXTERNAL_ENTITY = with_doctype(b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"&xxe;")
BILLION_LAUGHS = with_doctype(
    b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
               for i in range(1, 10))
    + b"]>", b"&lol9;")


def truncated_sheet(xml: bytes) -> bytes:
    return xml[: len(xml) // 2]


@pytest.mark.parametrize("transform, words", [
    (EXTERNAL_ENTITY, "实体"), (BILLION_LAUGHS, "实体"), (truncated_sheet, "损坏"),
], ids=["external entity", "entity expansion", "truncated sheet"])
def test_hostile_or_damaged_xlsx_is_refused_clearly_through_the_cli(app, runner, district, tmp_path, transform, words):
    path = rewrite_sheet(write_xlsx(tmp_path / "bad.xlsx", [_row()]), transform)
    before = _counts()
    result = _import(runner, path)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert words in result.output and "root:" not in result.output
    assert _counts() == before


def test_truncated_xlsx_file_is_refused_clearly(app, runner, district, tmp_path):
    path = write_xlsx(tmp_path / "cut.xlsx", [_row() for _ in range(50)])
    path.write_bytes(path.read_bytes()[:-300])
    result = _import(runner, path)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "XLSX" in result.output


FORMULAS = ["=HYPERLINK(\"http://evil\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "'=不是公式", "''已转义"]


def test_csv_export_neutralises_formulas_and_imports_back_unchanged(app, runner, district, tmp_path):
    for name in FORMULAS:
        factories.establishment(name=name)
    db.session.commit()
    path = tmp_path / "out.csv"
    assert _export(runner, path).exit_code == 0
    rows = list(csv.reader(path.read_bytes().decode("utf-8-sig").splitlines()))[1:]
    names = [row[1] for row in rows]
    assert all(not name.startswith(("=", "+", "-", "@")) for name in names)
    assert names[:4] == ["'" + name for name in FORMULAS[:4]]
    before = _counts()
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    assert f"未变 {len(FORMULAS)} 家" in result.output
    assert _counts() == before


@pytest.mark.parametrize("text", FORMULAS + ["普通名称", "'", "'a", ""])
def test_neutralise_and_restore_are_inverse(text):
    from supervision.registry.transfer.columns import neutralise, restore

    assert restore(neutralise(text)) == text
    assert not neutralise(text).startswith(transfer.columns.FORMULA_TRIGGERS)


def test_xlsx_export_survives_a_control_character_stored_before_it_was_refused(app, runner, district, tmp_path):
    from openpyxl import load_workbook

    legacy = factories.establishment()
    legacy.name = "悦来\x1b宾馆"  # as written before the registry refused control characters
    db.session.commit()
    path = tmp_path / "out.xlsx"
    result = _export(runner, path)
    assert result.exit_code == 0, result.output
    workbook = load_workbook(path, read_only=True)
    names = [row[1] for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)]
    workbook.close()
    assert names == ["悦来\ufffd宾馆"]
