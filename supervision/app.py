"""The application factory: the one place where the domain and its interfaces are put together.

`supervision` itself holds no HTTP; this module is the composition root that binds the
extensions, mounts the interfaces' blueprints and registers the CLI.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request

from supervision import config
from supervision.database import configure_engine
from supervision.extensions import db, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask("supervision", instance_path=_instance_path(), instance_relative_config=True)
    # Environment first, then whatever the caller (a test) overrides.
    app.config.from_mapping(config.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    app.config["MAX_CONTENT_LENGTH"] = max(app.config["MAX_JSON_BYTES"], app.config["MAX_ATTACHMENT_BYTES"])
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_commands(app)
    from public_site import plate_fast_path

    plate_fast_path.install(app, SECURITY_HEADERS)  # stored plate pages ahead of Flask (docs/plates.md)
    return app


def _instance_path() -> str:
    return os.environ.get("INSTANCE_PATH") or str(Path.cwd() / "instance")


def register_extensions(app: Flask) -> None:
    _import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), compare_type=True, render_as_batch=True)
    with app.app_context():
        configure_engine(db.engine)


def register_blueprints(app: Flask) -> None:
    from field_api import init_api
    from public_site import public_site

    init_api(app)
    app.register_blueprint(public_site)
    import portal

    portal.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """/api answers errors in the JSON error shape; everything else with a Chinese HTML page."""
    from sqlalchemy.exc import SQLAlchemyError
    from werkzeug.exceptions import HTTPException

    from field_api import errors as api_errors
    from public_site import errors as page_errors
    from supervision.errors import DomainError

    def is_api() -> bool:
        return request.path == "/healthz" or request.path.startswith("/api")

    def rollback() -> None:
        """A request that fails leaves nothing behind: whatever it wrote is rolled back before
        the error is rendered. With the database gone the rollback fails too; the connection
        is discarded by the pool either way."""
        try:
            db.session.rollback()
        except SQLAlchemyError:
            app.logger.warning("rollback failed: database unreachable")

    @app.errorhandler(DomainError)
    def _domain(error):
        rollback()
        return api_errors.handle_domain_error(error) if is_api() else page_errors.handle_domain_error(error)

    @app.errorhandler(HTTPException)
    def _http(error):
        rollback()
        return api_errors.handle_http_exception(error) if is_api() else page_errors.handle_http_exception(error)

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return _http(error)
        rollback()
        if database_unavailable(error):
            # Down or restarting: a 503 with Retry-After, so terminals back off and retry.
            app.logger.warning("database unavailable: %s", error.__class__.__name__)
            if is_api():
                return api_errors.handle_database_unavailable()
            return page_errors.handle_database_unavailable()
        return api_errors.handle_unexpected(error) if is_api() else page_errors.handle_unexpected(error)


def database_unavailable(error: Exception) -> bool:
    """Whether `error` means the database cannot be reached or dropped the connection, as
    opposed to a statement it refused. SQLite's "unable to open" and "locked" are operational
    errors as well."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


# One policy for every response, pages and API alike: nothing inline or from another host runs,
# and no other site may frame these pages (a plate page inside a look-alike frame).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def register_security_headers(app: Flask) -> None:
    """Set the security headers once, on every response, errors included."""

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def register_commands(app: Flask) -> None:
    from supervision.cli import register

    register(app)


def _import_models() -> None:
    """Import every models module so the metadata is complete (for mappers and Alembic)."""
    import supervision.accounts.models  # noqa: F401
    import supervision.audit.models  # noqa: F401
    import supervision.checklists.models  # noqa: F401
    import supervision.commitments.models  # noqa: F401
    import supervision.complaints.models  # noqa: F401
    import supervision.credit.events  # noqa: F401
    import supervision.credit.models  # noqa: F401
    import supervision.credit.grading.models  # noqa: F401
    import supervision.credit.lifecycle_models  # noqa: F401
    import supervision.credit.pushes  # noqa: F401
    import supervision.credit.report  # noqa: F401
    import supervision.departments.models  # noqa: F401
    import supervision.devices.models  # noqa: F401
    import supervision.inspections.models  # noqa: F401
    import supervision.registry.models  # noqa: F401
    import supervision.sampling.models  # noqa: F401
    import supervision.self_reports.models  # noqa: F401
    import supervision.publication.page_store  # noqa: F401  (also: the audit hook that keeps stored pages current)
    import supervision.self_inspections.models  # noqa: F401
