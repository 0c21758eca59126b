"""Credit reports: the numbered PDF (CLI, API, batch job) and its public verification page."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import pytest

from supervision.credit.calendar import china_today
from supervision.credit.grading import approve, publish, run_grading
from supervision.credit.report import CreditReport
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories
from tests.pdf_text import page_count, page_texts


def publish_2025():
    run = run_grading(db.session, factories.ACTOR, year=2025, now=datetime(2026, 1, 20)).run
    approve(db.session, factories.ACTOR, run.id, by="张主任")
    publish(db.session, factories.ACTOR, run.id, by="李所长")
    db.session.commit()
    return run


def text_of(pdf: bytes) -> str:
    """The PDF's text without spaces and line breaks (pypdf, via tests/pdf_text.py)."""
    return "".join(page_texts(pdf)).replace(" ", "").replace("\n", "")


def assert_no_missing_glyph(text: str) -> None:
    assert "\ufffd" not in text  # .notdef shows as U+FFFD: a character the font could not draw


@pytest.fixture
def graded(field):
    est = field.establishment
    credit.record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 4, 1),
                  title="罚款：未取得卫生许可证")
    publish_2025()
    recent = china_today() - timedelta(days=20)
    credit.record(est.subject_id, "penalty", code="warning", severity="general", arose_on=recent,
                  title="警告：公共用品清洗消毒不规范")
    credit.record(est.subject_id, "penalty", code="fine", severity="general", arose_on=recent,
                  title="罚款：从业人员无健康合格证明", status="under_objection")
    credit.record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2021, 1, 5),
                  title="罚款：早已期满的旧处罚")
    db.session.commit()
    return field


def test_cli_report_has_the_chinese_name_numbers_grade_and_public_records(graded, runner, tmp_path):
    est = graded.establishment
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["credit", "report", est.credit_code, "--out", str(out)])
    assert result.exit_code == 0, result.output
    flat = text_of(out.read_bytes())
    report = db.session.query(CreditReport).one()
    assert report.number == f"XYBG-{report.issued_at.year}-000001"
    for expected in (est.name, est.credit_code, report.number, "王建国", "玄武区", "信用报告",
                     "2025年度：等级C，得分75", "罚款：未取得卫生许可证", "警告：公共用品清洗消毒不规范",
                     "【异议审核中】", "未列入守信红名单或失信黑名单",
                     f"https://hs.example.cn/verify/report/{report.number}"):
        assert expected.replace(" ", "") in flat, expected
    assert "早已期满的旧处罚" not in flat  # outside its publicity period: not public, not in the report
    assert_no_missing_glyph(flat)
    assert page_count(out.read_bytes()) == report.pages and f"第1页/共{report.pages}页" in flat
    assert report.sha256 == hashlib.sha256(out.read_bytes()).hexdigest() and report.sha256 in result.output


def test_report_numbers_are_sequential_within_the_year(graded, runner, tmp_path):
    numbers = []
    for n in range(2):
        out = tmp_path / f"r{n}.pdf"
        assert runner.invoke(args=["credit", "report", graded.establishment.credit_code, "--out", str(out)]).exit_code == 0
        numbers.append(db.session.query(CreditReport).order_by(CreditReport.id.desc()).first().number)
    year = china_today().year
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["000001", "000002"] and all(str(year) in n for n in numbers)


def test_a_long_history_runs_onto_numbered_pages(field, runner, tmp_path):
    recent = china_today() - timedelta(days=10)
    for n in range(70):
        credit.record(field.establishment.subject_id, "penalty", code="warning", severity="general", arose_on=recent,
                      title=f"警告：第{n + 1}次检查发现卫生问题")
    db.session.commit()
    out = tmp_path / "long.pdf"
    assert runner.invoke(args=["credit", "report", field.establishment.credit_code, "--out", str(out)]).exit_code == 0
    flat, pages = text_of(out.read_bytes()), page_count(out.read_bytes())
    assert pages >= 2
    assert all(f"第{n}页/共{pages}页" in flat for n in range(1, pages + 1))
    assert "第70次检查发现卫生问题" in flat and "尚无已发布的信用等级评价结果" in flat
    assert_no_missing_glyph(flat)


def test_an_unknown_credit_code_is_refused(runner, tmp_path):
    result = runner.invoke(args=["credit", "report", factories.valid_credit_code(), "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "没有对应的单位" in result.output
    assert db.session.query(CreditReport).count() == 0


def test_api_returns_the_pdf_to_a_terminal_of_the_jurisdiction(graded, client):
    response = client.get(f"/api/v1/establishments/{graded.establishment.id}/credit-report", headers=graded.headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    number = response.headers["X-Report-Number"]
    text = text_of(response.data)
    assert number in text and graded.establishment.name in text
    assert response.headers["X-Report-SHA256"] == hashlib.sha256(response.data).hexdigest()


def test_api_refuses_a_report_outside_the_jurisdiction(field, client):
    factories.jurisdiction(code="320104", name="秦淮区")
    elsewhere = factories.establishment(district="320104")
    db.session.commit()
    response = client.get(f"/api/v1/establishments/{elsewhere.id}/credit-report", headers=field.headers)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert db.session.query(CreditReport).count() == 0


def test_api_without_a_token_is_401(field, client):
    response = client.get(f"/api/v1/establishments/{field.establishment.id}/credit-report")
    assert response.status_code == 401 and "error" in response.get_json()


def test_the_verification_page_names_the_report_and_its_hash(graded, client):
    issued = client.get(f"/api/v1/establishments/{graded.establishment.id}/credit-report", headers=graded.headers)
    page = client.get(f"/verify/report/{issued.headers['X-Report-Number']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "真实有效" in html
    assert graded.establishment.name in html and issued.headers["X-Report-SHA256"] in html


def test_the_verification_page_of_an_unknown_number_says_so(client):
    page = client.get("/verify/report/XYBG-2026-999999")
    assert page.status_code == 404 and "不存在" in page.get_data(as_text=True)


def test_the_verification_page_escapes_what_it_echoes(client):
    page = client.get("/verify/report/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert page.status_code == 404 and "<script>" not in page.get_data(as_text=True)


def test_a_batch_of_reports_runs_as_a_job(graded, runner, tmp_path):
    other = graded.other_establishment
    unknown = factories.valid_credit_code()
    result = runner.invoke(args=["credit", "report", graded.establishment.credit_code, other.credit_code, unknown,
                                 "--out", str(tmp_path / "batch")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "batch").iterdir())
    assert len(files) == 2 and all(f.startswith("XYBG-") and f.endswith(".pdf") for f in files)
    assert unknown in result.output


def _blacklist(est, *, entered_on: date):
    from supervision.credit.lifecycle_models import ListEntry

    db.session.add(ListEntry(list_name="blacklist", subject_id=est.subject_id, establishment_id=est.id,
                             rule_key="grade", reason="E", status="entered", notified_on=entered_on - timedelta(days=15),
                             objection_until=entered_on - timedelta(days=1), entered_on=entered_on,
                             expires_on=entered_on + timedelta(days=3 * 365)))
    db.session.commit()


def test_the_report_names_the_list_the_establishment_is_on(graded, runner, tmp_path):
    est = graded.establishment
    _blacklist(est, entered_on=china_today() - timedelta(days=30))
    out = tmp_path / "report.pdf"
    assert runner.invoke(args=["credit", "report", est.credit_code, "--out", str(out)]).exit_code == 0
    flat = text_of(out.read_bytes())
    assert "失信黑名单" in flat and "未列入守信红名单或失信黑名单" not in flat


def test_a_credit_check_names_the_list_too(graded, client, runner):
    est = graded.establishment
    _blacklist(est, entered_on=china_today() - timedelta(days=30))
    assert runner.invoke(args=["departments", "add", "市市场监督管理局"]).exit_code == 0
    key = runner.invoke(args=["departments", "key", "issue", "市市场监督管理局"]).output.strip().split()[-1]
    answer = client.get(f"/api/v1/credit-check/{est.credit_code}", headers={"X-Api-Key": key})
    assert answer.status_code == 200, answer.get_json()
    assert "失信黑名单" in str(answer.get_json())
