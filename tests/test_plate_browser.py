"""A citizen's phone, for real: Debian's chromium (driven by Playwright, no browser download)
at 360×740 opens a plate page served by a real HTTP server on a database with real commits,
reads the grade and the penalties, files a complaint and reads its status."""

import pytest

from supervision.extensions import db
from tests.public_support import change_status, penalty, publish_grades, token_of
from tests.browser_support import browser_page, requires_chromium, screenshot, served
from tests.terminal import make_field

pytestmark = requires_chromium


@pytest.fixture
def site(fresh_app):
    """The plate of an establishment with a grade, a public penalty, one under review and one
    repaired, served on 127.0.0.1."""
    field = make_field(fresh_app)
    client, runner = fresh_app.test_client(), fresh_app.test_cli_runner()
    public = penalty(client, runner, field, number="玄卫罚〔2026〕101号")
    review = penalty(client, runner, field, number="玄卫罚〔2026〕102号")
    repaired = penalty(client, runner, field, number="玄卫罚〔2026〕103号")
    change_status(review, "under_objection")
    change_status(repaired, "repaired")
    publish_grades(runner)
    db.session.commit()
    token = token_of(field.establishment)
    numbers = tuple(p.decision_no for p in (public, review, repaired))
    db.session.remove()
    with served(fresh_app) as base:
        yield base, token, numbers


def test_a_citizen_reads_the_plate_page_and_files_a_complaint(site, tmp_path):
    base, token, (public, review, repaired) = site
    outside = []
    with browser_page(base, outside, viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                      has_touch=True) as page:
        page.goto(f"{base}/P/{token}")
        grade = page.locator("#grade").inner_text()
        assert "2025 年度信用等级" in grade
        penalties = page.locator("#penalties").inner_text()
        assert public in penalties
        review_item = page.locator("#penalties dl.review")
        assert review_item.count() == 1 and review in review_item.inner_text()
        assert "复核中" in review_item.inner_text()
        assert repaired not in penalties
        # Readable at phone width: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(page, tmp_path, "plate-360.png")

        page.click("text=我要投诉举报")
        page.select_option("#category", "hygiene")
        page.fill("#description", "游泳池水浑浊，更衣室地面有积水")
        page.fill("#contact_phone", "13912345678")
        screenshot(page, tmp_path, "complaint-form-360.png")
        page.click("button[type=submit]")
        page.wait_for_selector("#reference")
        reference = page.locator("#reference").inner_text()
        assert reference.startswith("TS") and "已受理" in page.locator("#status").inner_text()
        assert "13912345678" not in page.content()
        screenshot(page, tmp_path, "complaint-status-360.png")

        page.goto(f"{base}/complaints")
        page.fill("#ref", reference)
        page.click("button[type=submit]")
        assert page.locator("#reference").inner_text() == reference
    assert outside == []
    assert (tmp_path / "plate-360.png").stat().st_size > 0
