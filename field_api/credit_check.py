"""Credit checks by other departments (信用审查): `GET /api/v1/credit-check/{credit_code}` with
a department's API key (`Authorization: ApiKey …` or `X-Api-Key`), rate-limited per key.

Published facts only. Every check is logged in `credit_checks` (department, key, code, time,
result), committed even when the code names nobody.
"""
from __future__ import annotations

import hashlib

from flask import current_app, request
from flask.views import MethodView
from flask_limiter import Limiter
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from field_api.schemas.common import ErrorSchema
from supervision import jobs
from supervision.credit.calendar import china_today
from supervision.departments import service
from supervision.errors import NotFound
from supervision.extensions import db
from supervision.transaction import unit_of_work

blp = Blueprint("credit_check", __name__, url_prefix="/api/v1", description="Credit checks by other departments")
API_KEY_SECURITY = [{"departmentApiKey": []}]


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "apikey" and value.strip():
        return value.strip()
    return request.headers.get("X-Api-Key", "").strip() or None


def _limit_key() -> str:
    """Per key presented (its hash), so a department's keys are limited one by one and a
    stranger guessing keys is limited too."""
    return "credit-check:" + hashlib.sha256((presented_key() or "-").encode("utf-8", "surrogatepass")).hexdigest()


# Redis going away later must not turn checks into 500s: fall back to memory meanwhile.
limiter = Limiter(key_func=_limit_key, default_limits=[], headers_enabled=True, in_memory_fallback_enabled=True,
                  swallow_errors=True)


def _rate_limit() -> str:
    return current_app.config.get("CREDIT_CHECK_RATE_LIMIT") or "60 per minute"


@blp.record_once
def _init_limiter(state):
    """Redis storage when REDIS_URL answers (limits shared by every gunicorn worker), memory
    otherwise."""
    app = state.app
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] if jobs.redis_connection(app) else "memory://"
    limiter.init_app(app)


class CreditCheckSchema(Schema):
    credit_code = fields.String(required=True)
    name = fields.String(required=True)
    grade = fields.String(allow_none=True, metadata={"description": "current published grade A–E, or null"})
    grade_year = fields.Integer(allow_none=True)
    lists = fields.List(fields.String(), required=True, metadata={"description": "the lists it is on"})
    public_penalties = fields.Integer(required=True, metadata={"description": "penalties public today"})
    on = fields.Date(required=True)


@blp.route("/credit-check/<credit_code>")
class CreditCheck(MethodView):
    decorators = [limiter.limit(_rate_limit)]

    @blp.doc(security=API_KEY_SECURITY)
    @blp.response(200, CreditCheckSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="missing, unknown or revoked API key")
    @blp.alt_response(404, schema=ErrorSchema, description="no establishment with that credit code")
    @blp.alt_response(429, schema=ErrorSchema, description="over the key's rate limit; see Retry-After")
    def get(self, credit_code):
        """An establishment's published credit facts by unified social credit code."""
        with unit_of_work(db.session):
            key = service.authenticate(db.session, presented_key())
            answer = service.check(db.session, key, credit_code, on=china_today())
        if answer is None:
            raise NotFound(f"统一社会信用代码“{credit_code[:32]}”没有对应的单位", fields={"credit_code": ["不存在"]})
        return answer
