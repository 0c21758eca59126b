"""An establishment in a real browser (Debian's chromium via Playwright, no browser download):
signs in with its initial password, is made to change it, reads its rating explanation and
files an objection with an evidence file, against a real HTTP server and real commits."""
import re
from datetime import date

import pytest

from supervision.extensions import db
from tests import credit_factory as credit
from tests.public_support import publish_grades
from tests.browser_support import CHROMIUM, FLAGS, requires_chromium, screenshot, served
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


def test_an_establishment_signs_in_reads_its_rating_and_files_an_objection(portal_site, tmp_path):
    from playwright.sync_api import sync_playwright

    base, credit_code, password = portal_site
    evidence = tmp_path / "整改说明.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% rectified\n")
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
            page.goto(f"{base}/portal/login")
            page.fill("#login", credit_code)
            page.fill("#password", password)
            screenshot(page, tmp_path, "portal-login.png")
            page.click("main button[type=submit]")
            assert "首次登录" in page.content()  # forced to the password change
            page.fill("#current", password)
            page.fill("#new", "Yuelai-Hotel-2026!")
            page.fill("#repeat", "Yuelai-Hotel-2026!")
            screenshot(page, tmp_path, "portal-password.png")
            page.click("main button[type=submit]")
            assert "我的单位" in page.content()

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
        finally:
            browser.close()
    assert outside == []
    assert (tmp_path / "portal-objection.png").stat().st_size > 0
