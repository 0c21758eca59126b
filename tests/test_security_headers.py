"""Security headers are set once for the whole app: pages, errors, the API and its docs."""
from __future__ import annotations

import re

import pytest

from tests import factories

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def plate_url() -> str:
    factories.jurisdiction()
    return f"/P/{factories.establishment().active_plate.token}"


def assert_security_headers(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no other host
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"


@pytest.mark.parametrize("url", ["/", "PLATE", "/P/NO-SUCH-PLATE", "/no/such/page", "/healthz", "/api/v1/limits",
                                 "/api/v1/sync/bootstrap", "/api/v1/no-such-endpoint", "/api/openapi.json",
                                 "/api/docs", "/static/public/site.css"])
def test_every_response_carries_the_security_headers(client, app, url):
    response = client.get(plate_url() if url == "PLATE" else url)
    response.close()
    assert response.status_code in (200, 401, 404), url
    assert_security_headers(response)


@pytest.mark.parametrize("url", ["/", "PLATE", "/no/such/page", "/api/docs"])
def test_pages_have_no_inline_script_or_style(client, app, url):
    page = client.get(plate_url() if url == "PLATE" else url).get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts), scripts
    assert "<style" not in page and " style=" not in page and not re.search(r"\son[a-z]+=", page)


def test_stylesheet_of_the_public_pages_is_served_from_the_app(client):
    response = client.get("/static/public/site.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert b"font-family" in response.get_data()
    response.close()
