"""Bearer-token authentication of terminals."""
from __future__ import annotations

from functools import wraps

from flask import g, make_response, request

from supervision.audit import access
from supervision.devices import service as devices
from supervision.extensions import db
from supervision.transaction import unit_of_work

BEARER_SECURITY = [{"deviceToken": []}]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def device_required(view):
    """Authenticate the device on every request, so a revoked token fails at once, and attribute
    the request to device and inspector: writes are recorded in the audit chain by the services
    that make them, successful reads here, in the access log (one INSERT, no chain lock)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.device = devices.authenticate(db.session, bearer_token())
        if request.method != "GET":
            return view(*args, **kwargs)  # writes: the view's own units of work
        # A read is one unit of work with its access-log line (and with whatever the read
        # settles on the way): one commit.
        with unit_of_work(db.session, keep_loaded=True):
            response = make_response(view(*args, **kwargs))
            if response.status_code < 400:
                access.log_read(db.session, g.device.actor, method=request.method, path=request.path,
                                query=request.args.to_dict(flat=False), status=response.status_code)
        return response

    return wrapper


def current_device() -> devices.DeviceIdentity:
    return g.device


def current_actor():
    """The device's actor: who it is, and the jurisdiction its access rules are checked against."""
    return g.device.actor
