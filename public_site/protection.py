"""CSRF protection and rate limits for the public site only: the JSON API authenticates with
tokens and stays exempt (CSRF is checked in this blueprint's before_request, not app-wide)."""
from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# One Limiter per app (it keeps its storage on itself): see init_app and limiter_of.
RATE_LIMITED_VIEWS = ("public_site.complaint_submit",)

DEFAULT_CLIENT_LIMIT = "5 per minute;30 per day"
DEFAULT_PLATE_LIMIT = "20 per day"


def client_limit() -> str:
    return current_app.config.get("COMPLAINT_LIMIT_PER_CLIENT", DEFAULT_CLIENT_LIMIT)


def plate_limit() -> str:
    return current_app.config.get("COMPLAINT_LIMIT_PER_PLATE", DEFAULT_PLATE_LIMIT)


def plate_key() -> str:
    return "plate:" + (request.view_args or {}).get("token", "").upper()


def init_app(app) -> None:
    """Bind CSRF and the complaint limits to `app`; runs once the blueprint's views exist."""
    # Checked only where the public site asks (see views.before_request).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 3600 * 4)
    # Redis when configured (shared by every gunicorn worker); memory otherwise, and as the
    # fallback while Redis does not answer.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    csrf.init_app(app)
    limiter = Limiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True)
    limiter.init_app(app)
    app.extensions["public_limiter"] = limiter
    for endpoint in RATE_LIMITED_VIEWS:
        view = app.view_functions[endpoint]
        view = limiter.limit(plate_limit, key_func=plate_key, methods=["POST"])(view)
        app.view_functions[endpoint] = limiter.limit(client_limit, methods=["POST"])(view)


def limiter_of(app) -> Limiter:
    return app.extensions["public_limiter"]
