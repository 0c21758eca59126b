"""Bearer-token authentication of terminals."""
from __future__ import annotations

from functools import wraps

from flask import g, make_response, request

from supervision.devices import service as devices
from supervision.extensions import db

BEARER_SECURITY = [{"deviceToken": []}]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def device_required(view):
    """Authenticate the device on every request, so a revoked token fails at once, and attribute
    the request to device and inspector in the audit log: writes are recorded by the services
    that make them, successful reads here, after the response is rendered."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.device = devices.authenticate(db.session, bearer_token())
        response = make_response(view(*args, **kwargs))
        if request.method == "GET" and response.status_code < 400:
            devices.record_read(db.session, g.device, request.path, request.args.to_dict())
        return response

    return wrapper


def current_device() -> devices.DeviceIdentity:
    return g.device
