"""Bearer-token authentication of terminals."""
from __future__ import annotations

from functools import wraps

from flask import g, request

from supervision.devices import service as devices
from supervision.extensions import db

BEARER_SECURITY = [{"deviceToken": []}]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def device_required(view):
    """Authenticate the device on every request, so a revoked token fails at once."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.device = devices.authenticate(db.session, bearer_token())
        return view(*args, **kwargs)

    return wrapper


def current_device() -> devices.DeviceIdentity:
    return g.device
