"""Checks on a request's JSON body before webargs parses it.

webargs reads whatever the request carries: a body sent as text/plain is "missing" (and every
field is reported absent), a body streamed without a Content-Length is silently cut at the size
limit, and a body nested ten thousand deep ends in a RecursionError. Each of these is refused
here, once for every endpoint that takes a JSON body, in the project's error shape:
415 for the wrong media type, 413 for a body over the limit however it was sent, 400 for a
body too deeply nested or not parseable at all.
"""
from __future__ import annotations

import json
import re

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from field_api import errors

# The deepest body the API takes is a batch: {inspections: [{answers: [{...}]}]}, five levels.
MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def takes_json_body() -> bool:
    """Whether the matched view declares a JSON body (flask-smorest's @blp.arguments with
    location json). Attachment uploads and multipart endpoints do not."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class is not None else view
    parameters = getattr(method, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(parameter.get("in") == "json" for parameter in parameters)


def check_json_body():
    """before_request hook: a response refuses the request, None lets it through."""
    if request.method not in ("POST", "PUT", "PATCH") or not takes_json_body():
        return None
    if not request.is_json:
        return errors.error_response(
            415, "unsupported_media_type", "请求体应为 JSON，请使用 Content-Type: application/json 发送",
            {"Content-Type": ["应为 application/json"]})
    data = _read_whole_body()
    if not data:
        return None  # webargs reports the missing fields
    if too_deep(data, MAX_JSON_DEPTH):
        return errors.error_response(
            400, "json_too_deep", f"JSON 嵌套层数超过上限（最多 {MAX_JSON_DEPTH} 层）",
            {"_body": [f"嵌套不能超过 {MAX_JSON_DEPTH} 层"]})
    try:
        json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, a 5,000-digit number
        message = "请求体不是有效的 JSON"
        return errors.error_response(400, "malformed_json", message, {"_body": [message]})
    return None


def _read_whole_body() -> bytes:
    """The body, cached for webargs. Werkzeug stops a body without a Content-Length at the
    limit without saying so; if more follows, the body was too large and is refused whole."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    return data


def too_deep(data: bytes, limit: int) -> bool:
    """Whether brackets nest deeper than `limit`, counted outside JSON strings, without
    parsing (which is what a deep document would exhaust)."""
    skeleton = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    depth = 0
    for byte in skeleton:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
