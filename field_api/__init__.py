"""The JSON API: handheld terminals, establishments and administrators.

Views parse with marshmallow schemas, call a service in `supervision`, and render what it
returns. The OpenAPI document is generated from the same schemas by flask-smorest and served
with Swagger UI from local files.
"""
from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, current_app, request, send_from_directory
from flask_smorest import Api as _SmorestApi

from field_api import messages
from field_api.schemas.common import ErrorSchema

messages.apply()


class Api(_SmorestApi):
    """flask-smorest's Api with this project's error shape, limited to /api paths (the public
    pages render their own HTML errors)."""

    ERROR_SCHEMA = ErrorSchema  # documents this project's error shape on every operation

    def _register_error_handlers(self):
        pass  # the factory's dispatcher calls errors.handle_* for /api paths


_assets = Blueprint("api_docs_assets", __name__)


@_assets.route("/api/docs/assets/<path:filename>")
def docs_asset(filename: str):
    """Swagger UI's own files, shipped by the swagger-ui-bundle package: no CDN."""
    return send_from_directory(Path(swagger_ui_bundle.swagger_ui_path), filename, max_age=86400)


def _limit_body_size():
    """A JSON body may be at most MAX_JSON_BYTES; only attachment uploads get the larger limit."""
    if request.endpoint == "attachments.AttachmentResource":
        request.max_content_length = current_app.config["MAX_ATTACHMENT_BYTES"]
    else:
        request.max_content_length = current_app.config["MAX_JSON_BYTES"]


def init_api(app: Flask) -> Api:
    """Mount the API on `app`; one Api object per app, so apps never share a spec."""
    from field_api import attachments, devices, grading, health, inspections, sync

    api = Api(app, spec_kwargs={"components": {"securitySchemes": {
        "deviceToken": {"type": "http", "scheme": "bearer", "description": "token from /api/v1/devices/enrol"}}}})
    app.register_blueprint(_assets)
    app.before_request(_limit_body_size)
    for blueprint in (health.blp, devices.blp, sync.blp, inspections.blp, attachments.blp, grading.blp):
        api.register_blueprint(blueprint)
    return api
