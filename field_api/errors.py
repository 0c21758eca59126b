"""The one JSON error shape: {"error": {"code", "message", "fields"}}.

`code` is a stable machine string, `message` is Simplified Chinese for the person holding the
terminal, `fields` maps a field path to its messages. Every error leaving /api goes through
here: domain errors, validation errors from the schemas, HTTP errors, and crashes (as a bare
500 with no trace).
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from supervision.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    TooLarge,
    Unauthenticated,
    ValidationFailed,
)

DOMAIN_STATUS = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    TooLarge: 413,
}

HTTP_CODES = {
    400: ("bad_request", "请求格式错误"),
    401: ("unauthenticated", "未登录或令牌无效"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与已有数据冲突"),
    413: ("too_large", "请求内容超过大小限制"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_failed", "提交的数据有误"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后再试"),
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """The inside of the error shape, also used per entry by the batch endpoint."""
    return {"code": code, "message": message, "fields": fields or {}}


def error_response(status: int, code: str, message: str, fields: dict | None = None, headers=None):
    response = jsonify({"error": error_body(code, message, fields)})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_status(error: DomainError) -> int:
    return next((s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls)), 400)


def handle_domain_error(error: DomainError):
    return error_response(domain_status(error), error.code, error.message, error.fields)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    code, message = HTTP_CODES.get(status, ("http_error", error.name))
    fields = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages:
        # webargs nests by location ({"json": {...}, "query": {...}}); clients want field paths.
        for location, by_field in messages.items():
            if isinstance(by_field, dict):
                fields.update(flatten(by_field))
            else:
                fields[location if location != "json" else "_body"] = by_field
        if "_body" in fields and status == 400:
            # webargs' own text ("Invalid JSON body.") is English: replace it, not just the message.
            code, message = "malformed_json", "请求体不是有效的 JSON"
            fields = {"_body": [message]}
    if status == 413:
        limit = request.max_content_length or current_app.config["MAX_JSON_BYTES"]
        message = f"请求内容超过大小限制（上限 {limit} 字节）"
        fields = {"_body": [f"上限 {limit} 字节"]}
    headers = {}
    if isinstance(error, HTTPException) and error.code == 405:
        # Keep Werkzeug's Allow header, which a plain JSON handler would drop.
        allow = error.get_headers()
        headers = {k: v for k, v in allow if k.lower() == "allow"}
    if status >= 500:
        code, message = HTTP_CODES.get(status, HTTP_CODES[500])
        fields = {}
    return error_response(status, code, message, fields, headers)


# How long a terminal should wait before retrying while the database is down or restarting.
RETRY_AFTER_SECONDS = 30


def handle_database_unavailable():
    retry_after = current_app.config.get("RETRY_AFTER_SECONDS", RETRY_AFTER_SECONDS)
    return error_response(503, "database_unavailable", f"数据库暂时不可用，请在 {retry_after} 秒后重试",
                          headers={"Retry-After": str(retry_after)})


def handle_unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())


def flatten(messages: dict, prefix: str = "") -> dict:
    flat: dict = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten(value, path))
        else:
            flat[path] = value if isinstance(value, list) else [value]
    return flat
