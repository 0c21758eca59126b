"""An establishment in a real browser (Debian's chromium via Playwright, no browser download):
signs in with its initial password, is made to change it, reads its rating explanation and
files an objection with an evidence file, against a real HTTP server and real commits."""
import re
from datetime import date

import pytest

from supervision.extensions import db
from tests import credit_factory as credit
from tests.public_support import publish_grades
from tests.browser_support import browser_page, requires_chromium, screenshot, served
from tests.terminal import make_field

pytestmark = requires_chromium


@pytest.fixture
def portal_site(fresh_app):
    field = make_field(fresh_app)
    runner = fresh_app.test_cli_runner()
    est = field.establishment
    credit.record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 4, 1),
                  title="未取得卫生许可证擅自营业")
    db.session.commit()
    publish_grades(runner)
    result = runner.invoke(args=["accounts", "issue", est.credit_code])
    assert result.exit_code == 0, result.output
    password = re.search(r"initial password: (\S+)", result.output).group(1)
    db.session.commit()
    credit_code = est.credit_code
    db.session.remove()
    with served(fresh_app) as base:
        yield base, credit_code, password


def sign_in_for_the_first_time(page, base, credit_code, password, tmp_path, *, shots=False):
    """Sign in with the initial password and replace it, as the portal insists."""
    page.goto(f"{base}/portal/login")
    page.fill("#login", credit_code)
    page.fill("#password", password)
    if shots:
        screenshot(page, tmp_path, "portal-login.png")
    page.click("main button[type=submit]")
    assert "首次登录" in page.content()  # forced to the password change
    page.fill("#current", password)
    page.fill("#new", "Yuelai-Hotel-2026!")
    page.fill("#repeat", "Yuelai-Hotel-2026!")
    if shots:
        screenshot(page, tmp_path, "portal-password.png")
    page.click("main button[type=submit]")
    assert "我的单位" in page.content()


def test_an_establishment_signs_in_reads_its_rating_and_files_an_objection(portal_site, tmp_path):
    base, credit_code, password = portal_site
    evidence = tmp_path / "整改说明.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% rectified\n")
    outside = []
    with browser_page(base, outside, viewport={"width": 390, "height": 844}) as page:
        sign_in_for_the_first_time(page, base, credit_code, password, tmp_path, shots=True)

        page.click("text=查看我的信用等级及原因")
        text = page.locator("main").inner_text()
        assert "未取得卫生许可证擅自营业" in text and "行政处罚·一般：-15 分" in text
        screenshot(page, tmp_path, "portal-rating.png")

        page.goto(f"{base}/portal/")
        page.click("text=查看我的信用记录")
        page.click("text=对此信息提出异议")
        page.fill("#reason", "该处罚已被行政复议撤销，附复议决定书")
        page.set_input_files("#evidence", str(evidence))
        screenshot(page, tmp_path, "portal-objection-form.png")
        page.click("main button[type=submit]")
        text = page.locator("main").inner_text()
        assert "异议处理进度" in text and "答复期限" in text and "整改说明.pdf" in text
        screenshot(page, tmp_path, "portal-objection.png")
    assert outside == []
    assert (tmp_path / "portal-objection.png").stat().st_size > 0


def test_an_establishment_signs_its_commitment_letter_and_reports_an_honour(portal_site, tmp_path):
    base, credit_code, password = portal_site
    certificate = tmp_path / "先进单位证书.pdf"
    certificate.write_bytes(b"%PDF-1.4\n% certificate\n")
    outside = []
    with browser_page(base, outside, viewport={"width": 360, "height": 740}) as page:
        sign_in_for_the_first_time(page, base, credit_code, password, tmp_path)

        page.click("text=信用承诺书（阅读、签署）")
        assert "请阅读并签署" in page.content()
        page.fill("#signer_name", "王建国")
        page.check("input[name=pledge]")
        screenshot(page, tmp_path, "portal-commitment-form.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the hash wraps too
        page.click("main button[type=submit]")
        text = page.locator("main").inner_text()
        assert "已签署" in text and "王建国" in text and "请阅读并签署" not in text
        screenshot(page, tmp_path, "portal-commitment-signed.png")

        page.goto(f"{base}/portal/")
        page.click("text=申报荣誉、认证、公益活动")
        page.click("text=新增申报")
        page.select_option("#kind", "honour")
        page.fill("#title", "市级卫生先进单位")
        page.fill("#issuer", "南京市爱国卫生运动委员会")
        page.fill("#occurred_on", "2026-06-01")
        page.set_input_files("#evidence", str(certificate))
        page.check("input[name=pledge]")
        screenshot(page, tmp_path, "portal-self-report-form.png")
        page.click("main button[type=submit]")
        text = page.locator("main").inner_text()
        assert "待核实" in text and "先进单位证书.pdf" in text
        screenshot(page, tmp_path, "portal-self-report.png")
    assert outside == []
