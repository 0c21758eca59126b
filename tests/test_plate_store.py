"""Stored plate pages and the fast path (issue 17): a page is rendered once, kept, and served
ahead of Flask with the view's own headers, gzip when accepted, 304 when current; it is never
served after what it shows changed, nor on another day, nor when a render raced a write."""
from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from supervision.credit.calendar import china_today
from supervision.extensions import db
from supervision.publication import page_store, plate_page
from supervision.publication.page_store import StoredPlatePage
from tests import factories
from tests.public_support import penalty, publish_grades, token_of


@pytest.fixture
def url(client, field):
    url = f"/P/{token_of(field.establishment)}"
    assert client.get(url).status_code == 200  # rendered by the view, and stored
    return url


def stored(field) -> StoredPlatePage | None:
    db.session.expire_all()
    return db.session.get(StoredPlatePage, field.establishment.id)


def test_a_rendered_page_is_stored_gzip_with_its_etag(client, field, url):
    row = stored(field)
    rendered = client.get(url, headers={"Accept-Encoding": "identity"})
    assert row.rendered_on == china_today() and f'"{row.etag}"' == rendered.headers["ETag"]
    assert gzip.decompress(row.body) == rendered.get_data()


def test_the_fast_path_answers_like_the_view_in_one_statement(client, field, url, count_queries):
    db.session.commit()
    view = client.get(url, headers={"Accept-Encoding": "identity"})  # the fast path, uncompressed
    with count_queries() as n:
        fast = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert n() == 1
    assert fast.headers["Content-Encoding"] == "gzip" and gzip.decompress(fast.get_data()) == view.get_data()
    for name in ("ETag", "Cache-Control", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                 "Referrer-Policy"):
        assert fast.headers[name] == view.headers[name], name
    assert fast.headers["Content-Type"] == "text/html; charset=utf-8" and "Accept-Encoding" in fast.headers["Vary"]


def test_the_fast_path_answers_304_and_head(client, field, url):
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    head = client.head(url)
    assert head.status_code == 200 and head.get_data() == b"" and int(head.headers["Content-Length"]) > 0


def test_a_change_drops_the_stored_page_in_the_same_transaction(client, runner, field, url):
    generation = stored(field).generation
    p = penalty(client, runner, field)
    row = stored(field)
    assert row.body is None and row.generation > generation
    assert p.decision_no in client.get(url).get_data(as_text=True)
    assert stored(field).body is not None  # stored again by that view


def test_a_render_that_raced_a_write_is_not_stored(client, runner, field, url):
    token = token_of(field.establishment)
    penalty(client, runner, field)  # drops the page; the next view reads the new generation
    before = plate_page.current_plate(db.session, token)  # what a render in flight read first
    penalty(client, runner, field)  # ...then a write commits
    assert not page_store.store(db.session, field.establishment.id, generation=before.page_generation,
                                epoch=before.epoch, rendered_on=china_today(), etag="stale", html=b"old")
    assert page_store.lookup(db.session, token, china_today()) is None


def test_a_page_stored_yesterday_is_not_served_today(client, field, url):
    db.session.execute(update(StoredPlatePage).values(rendered_on=china_today() - timedelta(days=1)))
    db.session.commit()
    assert page_store.lookup(db.session, token_of(field.establishment), china_today()) is None
    assert client.get(url).status_code == 200  # rendered again
    assert stored(field).rendered_on == china_today()


def test_a_published_grading_run_moves_the_epoch(client, runner, field, url):
    epoch = db.session.execute(select(page_store.PlatePageEpoch.epoch)).scalar_one()
    publish_grades(runner)
    assert db.session.execute(select(page_store.PlatePageEpoch.epoch)).scalar_one() > epoch
    assert page_store.lookup(db.session, token_of(field.establishment), china_today()) is None
    assert "年度信用等级" in client.get(url).get_data(as_text=True)


def test_refresh_pages_stops_serving_every_stored_page(client, runner, field, url):
    assert runner.invoke(args=["plates", "refresh-pages"]).exit_code == 0
    assert page_store.lookup(db.session, token_of(field.establishment), china_today()) is None


def test_prerender_stores_the_pages_of_current_plates(client, runner, field):
    result = runner.invoke(args=["plates", "prerender"])
    assert result.exit_code == 0 and "plate pages rendered and stored" in result.output
    assert page_store.lookup(db.session, token_of(field.establishment), china_today()) is not None


def test_a_replaced_plate_is_never_served_from_the_store(client, runner, field, url):
    old = token_of(field.establishment)
    assert runner.invoke(args=["plates", "issue", field.establishment.credit_code]).exit_code == 0
    assert page_store.lookup(db.session, old, china_today()) is None
    assert "此标牌已作废" in client.get(f"/P/{old}").get_data(as_text=True)


def test_the_dedicated_reader_serves_committed_pages_and_never_a_stale_one(fresh_app):
    """As in production: the fast path reads on its own connection, autocommit."""
    from tests.terminal import make_field

    field = make_field(fresh_app)
    client, runner = fresh_app.test_client(), fresh_app.test_cli_runner()
    url = f"/P/{token_of(field.establishment)}"
    db.session.commit()
    assert client.get(url).status_code == 200  # rendered and stored by the view
    served = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert served.headers.get("Content-Encoding") == "gzip"  # only the fast path answers gzip
    p = penalty(client, runner, field)
    db.session.commit()
    again = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in again.headers and p.decision_no in again.get_data(as_text=True)


def test_prerender_runs_as_a_job_too(client, runner, field):
    from supervision import jobs
    from supervision.publication.page_commands import prerender_pages

    submitted = jobs.enqueue(prerender_pages, [token_of(field.establishment), "NOSUCHPLATE"])
    assert not submitted.queued and submitted.result == {"stored": 1, "not_found": 1}  # no Redis in tests: inline
    assert page_store.lookup(db.session, token_of(field.establishment), china_today()) is not None


def test_a_draft_grading_run_leaves_the_stored_pages_alone(client, runner, field, url):
    from datetime import datetime

    from supervision.credit.grading import run_grading

    run_grading(db.session, factories.ACTOR, year=2025, now=datetime(2026, 1, 20))
    db.session.commit()
    assert page_store.lookup(db.session, token_of(field.establishment), china_today()) is not None
