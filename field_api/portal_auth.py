"""Bearer tokens of establishment accounts (the portal's JSON API, `/api/v1/portal`).

A token is an `api` row of the same sessions table as the portal's cookies: signing out, a
password change (the other tokens) and a supervisor's reset end it on the server. Until the
initial password is replaced, a token opens only the password change and sign-out.
"""
from __future__ import annotations

from functools import wraps

from flask import g, request

from field_api.auth import bearer_token
from supervision.accounts import service as accounts
from supervision.errors import Forbidden, Unauthenticated
from supervision.extensions import db

PORTAL_SECURITY = [{"portalToken": []}]
PASSWORD_ENDPOINTS = {"portal_api.Password", "portal_api.CurrentToken"}


def account_required(view):
    """Authenticate the account on every request, so an ended token fails at once."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        account = accounts.account_of_session(db.session, token, kind="api") if token else None
        if account is None:
            raise Unauthenticated("未登录或令牌已失效，请重新登录", code="invalid_token")
        if account.must_change_password and request.endpoint not in PASSWORD_ENDPOINTS:
            raise Forbidden("请先修改初始密码", code="password_change_required")
        g.portal_account, g.portal_token = account, token
        return view(*args, **kwargs)

    return wrapper


def current_account_actor():
    """The signed-in account's actor: the establishments it holds, read on this request."""
    return accounts.actor_of(g.portal_account)
