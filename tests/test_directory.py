"""Keeping the directory from the command line: jurisdictions, grids, inspectors."""
from sqlalchemy import select

from supervision.extensions import db
from supervision.registry.models import Grid, Inspector, Jurisdiction


def invoke(runner, *args):
    return runner.invoke(args=list(args))


def build_directory(runner):
    assert invoke(runner, "jurisdictions", "add", "320000", "江苏省", "--level", "province").exit_code == 0
    assert invoke(runner, "jurisdictions", "add", "320100", "南京市", "--level", "city", "--parent", "320000").exit_code == 0
    assert invoke(runner, "jurisdictions", "add", "320102", "玄武区", "--parent", "320100").exit_code == 0
    assert invoke(runner, "grids", "add", "320102-01", "玄武区第1网格", "--district", "320102").exit_code == 0


def test_a_fresh_directory_is_built_from_the_command_line(runner, app):
    build_directory(runner)
    result = invoke(runner, "inspectors", "add", "3201020001", "李明", "--certificate", "苏卫执字001",
                    "--valid-from", "2024-01-01", "--valid-until", "2029-12-31", "--district", "320102",
                    "--grid", "320102-01", "--phone", "13900000000")
    assert result.exit_code == 0, result.output
    inspector = db.session.execute(select(Inspector)).scalar_one()
    assert [g.code for g in inspector.grids] == ["320102-01"]
    listed = invoke(runner, "inspectors", "list").output
    assert "3201020001\t李明" in listed and "13900000000" not in listed


def test_district_needs_a_city_above_it(runner, app):
    invoke(runner, "jurisdictions", "add", "320000", "江苏省", "--level", "province")
    result = invoke(runner, "jurisdictions", "add", "320102", "玄武区", "--parent", "320000")
    assert result.exit_code == 1 and "上级应为 city" in result.output
    assert db.session.execute(select(Jurisdiction).where(Jurisdiction.code == "320102")).first() is None


def test_duplicate_codes_are_refused(runner, app):
    build_directory(runner)
    assert "已存在" in invoke(runner, "grids", "add", "320102-01", "重复", "--district", "320102").output
    assert "已存在" in invoke(runner, "jurisdictions", "add", "320102", "重复", "--parent", "320100").output


def test_grid_must_belong_to_a_district(runner, app):
    build_directory(runner)
    result = invoke(runner, "grids", "add", "G-CITY", "市级网格", "--district", "320100")
    assert result.exit_code == 1 and "区县级" in result.output
    assert db.session.execute(select(Grid).where(Grid.code == "G-CITY")).first() is None


def test_inspector_with_a_grid_of_another_district_is_refused(runner, app):
    build_directory(runner)
    invoke(runner, "jurisdictions", "add", "320104", "秦淮区", "--parent", "320100")
    invoke(runner, "grids", "add", "320104-01", "秦淮区第1网格", "--district", "320104")
    result = invoke(runner, "inspectors", "add", "B1", "王五", "--certificate", "C1", "--valid-from", "2024-01-01",
                    "--valid-until", "2029-01-01", "--district", "320102", "--grid", "320104-01")
    assert result.exit_code == 1 and "不属于" in result.output
    assert db.session.execute(select(Inspector)).first() is None


def test_inspector_grids_can_be_reassigned(runner, app):
    build_directory(runner)
    invoke(runner, "grids", "add", "320102-02", "玄武区第2网格", "--district", "320102")
    invoke(runner, "inspectors", "add", "B1", "王五", "--certificate", "C1", "--valid-from", "2024-01-01",
           "--valid-until", "2029-01-01", "--district", "320102", "--grid", "320102-01")
    result = invoke(runner, "inspectors", "grids", "B1", "--grid", "320102-01", "--grid", "320102-02")
    assert result.exit_code == 0, result.output
    inspector = db.session.execute(select(Inspector)).scalar_one()
    db.session.refresh(inspector)
    assert [g.code for g in inspector.grids] == ["320102-01", "320102-02"]


def test_unknown_grid_is_named(runner, app):
    build_directory(runner)
    result = invoke(runner, "inspectors", "add", "B1", "王五", "--certificate", "C1", "--valid-from", "2024-01-01",
                    "--valid-until", "2029-01-01", "--district", "320102", "--grid", "NOPE")
    assert result.exit_code == 1 and "NOPE" in result.output


def test_expired_before_valid_certificate_is_refused(runner, app):
    build_directory(runner)
    result = invoke(runner, "inspectors", "add", "B1", "王五", "--certificate", "C1", "--valid-from", "2029-01-01",
                    "--valid-until", "2024-01-01", "--district", "320102")
    assert result.exit_code == 1 and "早于起始日" in result.output
