"""The plate page's fast path: `GET /P/<token>` answered from the stored page
(supervision/publication/page_store.py) ahead of Flask, with one indexed statement and no
rendering, routing, limiter or session work.

Anything it cannot answer exactly as the Flask view would — another path or method, an
unknown, replaced or closed-then-changed plate, a page not stored yet or not current — goes on
to the Flask application unchanged, which renders the page and stores it for the next visitor.
The answer carries the same headers as the view's (ETag, Cache-Control, the security headers),
gzip-encoded when the client accepts it, and 304 when the client's ETag is current.
"""
from __future__ import annotations

import gzip

from sqlalchemy.exc import SQLAlchemyError

from supervision.app import SECURITY_HEADERS
from supervision.credit.calendar import china_today
from supervision.extensions import db
from supervision.publication import page_store
from supervision.registry.plates import could_be_token, normalise_token

PREFIXES = ("/P/", "/p/")
_BASE_HEADERS = [("Cache-Control", "public, no-cache"), ("Vary", "Accept-Encoding"),
                 *SECURITY_HEADERS.items()]


class PlateFastPath:
    def __init__(self, app, wsgi_app):
        self.app = app  # the Flask app, for its database session
        self.wsgi_app = wsgi_app  # what follows: Flask's own WSGI callable

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or not path.startswith(PREFIXES) or "/" in path[3:]:
            return self.wsgi_app(environ, start_response)
        token = normalise_token(path[3:])
        if not could_be_token(token):
            return self.wsgi_app(environ, start_response)
        try:
            with self.app.app_context():
                found = page_store.lookup(db.session, token, china_today())
                db.session.rollback()  # a read: end it before the connection goes back to the pool
        except SQLAlchemyError:
            found = None  # the database is away: the view answers (503 with Retry-After)
        if found is None:
            return self.wsgi_app(environ, start_response)
        etag, body = found
        quoted = f'"{etag}"'
        headers = [("ETag", quoted), *_BASE_HEADERS]
        if _matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag):
            start_response("304 NOT MODIFIED", headers)
            return [b""]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "").lower():
            headers.append(("Content-Encoding", "gzip"))
        else:
            body = gzip.decompress(body)
        headers += [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [b"" if method == "HEAD" else body]


def _matches(header: str, etag: str) -> bool:
    """If-None-Match holds this ETag (weak or strong, or *)."""
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == etag:
            return True
    return False


def install(app) -> None:
    app.wsgi_app = PlateFastPath(app, app.wsgi_app)
