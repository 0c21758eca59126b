"""The establishment self-service portal (/portal): server-rendered pages over
supervision.accounts and supervision.credit. Pages only parse, call and render."""
from __future__ import annotations

import os

from flask_login import LoginManager

from portal.views import PortalUser, portal
from portal import self_reports  # noqa: F401,E402  (its routes join the portal blueprint)
from portal import self_service  # noqa: F401,E402  (its routes join the portal blueprint)

login_manager = LoginManager()
login_manager.login_view = "portal.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = None  # the session is server-side (revocable); see load_user


@login_manager.user_loader
def load_user(token: str):
    from supervision.accounts import service as accounts
    from supervision.extensions import db

    account = accounts.account_of_session(db.session, token)
    return PortalUser(account, token) if account is not None else None


def init_app(app) -> None:
    # Cookies: HttpOnly and SameSite=Lax always; Secure except under tests (plain-HTTP client).
    # (Flask's defaults exist as keys, so these are set, not setdefault.)
    # SESSION_COOKIE_SECURE=0 in the environment is the escape hatch for a plain-HTTP set-up
    # reached by other hosts (browsers accept Secure cookies from http://127.0.0.1 and localhost).
    if not app.config.get("TESTING") and os.environ.get("SESSION_COOKIE_SECURE", "1") != "0":
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if app.config.get("TESTING"):
        # Cheap argon2 under tests only; production keeps the library's defaults.
        app.config.setdefault("ARGON2_TIME_COST", 1)
        app.config.setdefault("ARGON2_MEMORY_KIB", 8)
        app.config.setdefault("ARGON2_PARALLELISM", 1)
    app.register_blueprint(portal)
    login_manager.init_app(app)


__all__ = ["init_app", "portal"]
