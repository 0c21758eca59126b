"""The plate page a citizen sees: grade, lists, penalties in their publicity window,
inspections, escaping, weight, caching that is never stale."""
import pytest

from supervision.extensions import db
from tests import factories
from tests.public_support import change_status, penalty, publish_grades, token_of


def page(client, field) -> str:
    response = client.get(f"/P/{token_of(field.establishment)}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_public_penalty_shows_its_decision_type_basis_and_fulfilment(client, runner, field):
    p = penalty(client, runner, field)
    html = page(client, field)
    assert p.decision_no in html and "罚款" in html and "《公共场所卫生管理条例》第十四条" in html and "未履行" in html


def test_a_penalty_under_objection_is_marked_under_review(client, runner, field):
    p = penalty(client, runner, field)
    change_status(p, "under_objection")
    html = page(client, field)
    assert p.decision_no in html and "复核中" in html


def test_a_repaired_penalty_is_not_shown(client, runner, field):
    p = penalty(client, runner, field)
    change_status(p, "repaired")
    assert p.decision_no not in page(client, field)


def test_the_published_grade_shows_with_its_year_and_meaning(client, runner, field):
    publish_grades(runner)
    html = page(client, field)
    assert "2025 年度信用等级" in html and "信用" in html


def test_no_grade_yet_says_so(client, field):
    assert "暂无已公布的信用等级" in page(client, field)


def test_a_completed_inspection_is_listed_with_its_result(client, runner, field):
    from tests.terminal import upload

    penalty(client, runner, field)  # its inspection failed an item
    for data in field.files_of(field.submission()).values():
        assert upload(client, field, data).status_code in (200, 201)
    html = page(client, field)
    assert "2026-11-20" in html and "发现 1 项问题" in html


def test_no_phone_or_id_number_and_a_complaint_link(client, field):
    html = page(client, field)
    assert "13800000000" not in html and field.inspector.name not in html
    assert f"/P/{token_of(field.establishment)}/complaint" in html


def test_every_value_is_escaped(client, app):
    factories.jurisdiction()
    est = factories.establishment(name="<script>alert(1)</script>宾馆", address="中山路<b>1</b>号")
    html = client.get(f"/P/{token_of(est)}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;宾馆" in html
    assert "<b>1</b>" not in html


def test_html_and_css_stay_under_30_kb(client, runner, field):
    for _ in range(3):
        penalty(client, runner, field)
    publish_grades(runner)
    html = client.get(f"/P/{token_of(field.establishment)}").get_data()
    with client.get("/static/public/site.css") as response:
        css = response.get_data()
    assert len(html) + len(css) < 30 * 1024


def test_the_page_sends_an_etag_and_answers_304_when_unchanged(client, field):
    url = f"/P/{token_of(field.establishment)}"
    first = client.get(url)
    assert first.headers["ETag"] and "no-cache" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_query_count_is_pinned_with_grade_penalties_and_inspections(client, runner, field, count_queries):
    for _ in range(2):
        penalty(client, runner, field)
    publish_grades(runner)
    url = f"/P/{token_of(field.establishment)}"
    db.session.expire_all()
    with count_queries() as n:
        assert client.get(url).status_code == 200
    # the fast path's look-up (no stored page yet), then the view: token+version+stored state,
    # establishment+licences, grade, contributions, lists, penalties, chain, inspections; storing it
    assert n() <= 11
    db.session.expire_all()
    with count_queries() as cached:
        assert client.get(url).status_code == 200
    assert cached() == 1  # the stored page, served by the fast path in one statement


# The cache is never stale: each change that feeds the page shows on the very next request.

@pytest.fixture
def warmed(client, field):
    url = f"/P/{token_of(field.establishment)}"
    first = client.get(url)
    assert client.get(url).get_data() == first.get_data()  # served from the cache
    return url, first.headers["ETag"]


def test_cache_a_new_penalty_shows_at_once(client, runner, field, warmed):
    url, etag = warmed
    p = penalty(client, runner, field)
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and p.decision_no in response.get_data(as_text=True)


def test_cache_a_newly_published_grade_shows_at_once(client, runner, field, warmed):
    url, etag = warmed
    publish_grades(runner)
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and "2025 年度信用等级" in response.get_data(as_text=True)


def test_cache_a_signed_commitment_letter_shows_at_once(client, runner, field, warmed):
    from tests.test_commitments import sign
    from tests.test_portal_accounts import ready

    url, etag = warmed
    ready(client, runner, field.establishment)
    assert sign(client, field.establishment).status_code == 302
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and "承诺书版本" in response.get_data(as_text=True)


def test_cache_an_objection_shows_at_once(client, runner, field):
    p = penalty(client, runner, field)
    url = f"/P/{token_of(field.establishment)}"
    before = client.get(url)
    assert "复核中" not in before.get_data(as_text=True)
    change_status(p, "under_objection")
    response = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert response.status_code == 200 and "复核中" in response.get_data(as_text=True)


def test_cache_a_repair_shows_at_once(client, runner, field):
    p = penalty(client, runner, field)
    url = f"/P/{token_of(field.establishment)}"
    before = client.get(url)
    assert p.decision_no in before.get_data(as_text=True)
    change_status(p, "repaired")
    response = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert response.status_code == 200 and p.decision_no not in response.get_data(as_text=True)


def test_a_blacklist_entry_shows_on_the_page_at_once(client, runner, field):
    from datetime import timedelta

    from supervision.credit.calendar import china_today
    from supervision.credit.lifecycle_models import ListEntry

    est = field.establishment
    url = f"/P/{token_of(est)}"
    before = client.get(url)
    assert "失信黑名单" not in before.get_data(as_text=True)
    today = china_today()
    db.session.add(ListEntry(list_name="blacklist", subject_id=est.subject_id, establishment_id=est.id,
                             rule_key="grade", reason="E", status="entered", notified_on=today - timedelta(days=20),
                             objection_until=today - timedelta(days=5), entered_on=today - timedelta(days=4),
                             expires_on=today + timedelta(days=1000)))
    db.session.commit()
    response = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert response.status_code == 200 and "失信黑名单" in response.get_data(as_text=True)
