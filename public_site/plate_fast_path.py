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
import threading
from datetime import date

from sqlalchemy import event

from supervision.credit.calendar import china_today
from supervision.extensions import db
from supervision.publication import page_store
from supervision.registry.plates import could_be_token, normalise_token

PREFIXES = ("/P/", "/p/")
_BASE_HEADERS = [("Cache-Control", "public, no-cache"), ("Vary", "Accept-Encoding")]


class SessionReader:
    """Reads through the app's own session: what tests use, whose session is bound to a
    connection inside a transaction that other connections cannot see."""

    def __init__(self, app):
        self.app = app

    def __call__(self, token: str, today: date):
        with self.app.app_context():
            found = page_store.lookup(db.session, token, today)
            db.session.rollback()  # a read: end it before the connection goes back to the pool
            return found


class DedicatedReader:
    """Reads on a connection of its own per thread, in autocommit, with the statement prepared
    on the server (PostgreSQL): one round trip a scan, without the session, the pool's ping or a
    transaction to end. A broken connection is dropped, and the request goes on to Flask."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        style = self.engine.dialect.paramstyle
        self.sql = page_store.LOOKUP.text.replace(":token", "%(token)s" if style == "pyformat" else "?").replace(
            ":today", "%(today)s" if style == "pyformat" else "?")
        self.named = style == "pyformat"
        self.postgresql = self.engine.dialect.name == "postgresql"
        self.local = threading.local()
        self.opened: list = []  # every connection of every thread, closed with the engine
        self.lock = threading.Lock()
        event.listen(self.engine, "engine_disposed", self.close)

    def close(self, *_args) -> None:
        """Close the connections (when the app's engine is disposed: a test's end, a fork)."""
        with self.lock:
            opened, self.opened = self.opened, []
            self.local = threading.local()
        for connection in opened:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing what may be broken already
                pass

    def _connection(self):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            fairy = self.engine.raw_connection()
            connection = fairy.driver_connection
            fairy.detach()  # ours for the life of the thread, not the pool's
            with self.lock:
                self.opened.append(connection)
            if self.postgresql:
                connection.rollback()  # whatever the pool's ping began
                connection.autocommit = True
            self.local.connection = connection
        return connection

    def __call__(self, token: str, today: date):
        connection = self._connection()
        try:
            if self.postgresql:
                row = connection.execute(self.sql, {"token": token, "today": today}, prepare=True).fetchone()
            else:
                # fetchall: a statement left unfinished would hold SQLite's read snapshot open.
                rows = connection.execute(self.sql, (token, today.isoformat())).fetchall()
                row = rows[0] if rows else None
        except Exception:
            self.local.connection = None
            with self.lock:
                if connection in self.opened:
                    self.opened.remove(connection)
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            raise
        return None if row is None else (row[0], bytes(row[1]))


class PlateFastPath:
    def __init__(self, wsgi_app, reader, security_headers: dict[str, str]):
        self.wsgi_app = wsgi_app  # what follows: Flask's own WSGI callable
        self.reader = reader
        self.headers = [*_BASE_HEADERS, *security_headers.items()]  # the app's, as its views send them

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or not path.startswith(PREFIXES) or "/" in path[3:]:
            return self.wsgi_app(environ, start_response)
        token = normalise_token(path[3:])
        if not could_be_token(token):
            return self.wsgi_app(environ, start_response)
        try:
            found = self.reader(token, china_today())
        except Exception:  # noqa: BLE001 - the database is away or broke: the view answers (503 and its log)
            found = None
        if found is None:
            return self.wsgi_app(environ, start_response)
        etag, body = found
        quoted = f'"{etag}"'
        headers = [("ETag", quoted), *self.headers]
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


def install(app, security_headers: dict[str, str]) -> None:
    """Put the fast path ahead of `app`. `PLATE_FAST_PATH_READER`: "dedicated" (the default) or
    "session" (tests bound to one connection)."""
    reader = SessionReader(app) if app.config.get("PLATE_FAST_PATH_READER") == "session" else DedicatedReader(app)
    app.wsgi_app = PlateFastPath(app.wsgi_app, reader, security_headers)
