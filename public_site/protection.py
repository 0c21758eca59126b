"""CSRF protection and rate limits for the public site only: the JSON API authenticates with
tokens and stays exempt (CSRF is checked in this blueprint's before_request, not app-wide)."""
from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True)

DEFAULT_CLIENT_LIMIT = "5 per minute;30 per day"
DEFAULT_PLATE_LIMIT = "20 per day"


def client_limit() -> str:
    return current_app.config.get("COMPLAINT_LIMIT_PER_CLIENT", DEFAULT_CLIENT_LIMIT)


def plate_limit() -> str:
    return current_app.config.get("COMPLAINT_LIMIT_PER_PLATE", DEFAULT_PLATE_LIMIT)


def plate_key() -> str:
    return "plate:" + (request.view_args or {}).get("token", "").upper()


def init_app(app) -> None:
    # Checked only where the public site asks (see views.before_request).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 3600 * 4)
    # Redis when configured (shared by every gunicorn worker); memory otherwise, and as the
    # fallback while Redis does not answer.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    csrf.init_app(app)
    limiter.init_app(app)
