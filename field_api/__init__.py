"""The JSON API: handheld terminals, establishments and administrators.

Views parse with marshmallow schemas, call a service in `supervision`, and render what it
returns. The OpenAPI document is generated from the same schemas by flask-smorest and served
with Swagger UI from local files.
"""
from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, current_app, render_template, request, send_from_directory, url_for
from flask_smorest import Api as _SmorestApi
from werkzeug.routing import IntegerConverter

from field_api import body, messages
from field_api.schemas.common import ErrorSchema
from field_api.schemas.types import ROW_ID_MAX

messages.apply()


class Api(_SmorestApi):
    """flask-smorest's Api with this project's error shape, limited to /api paths (the public
    pages render their own HTML errors)."""

    ERROR_SCHEMA = ErrorSchema  # documents this project's error shape on every operation

    def _register_error_handlers(self):
        pass  # the factory's dispatcher calls errors.handle_* for /api paths

    def _openapi_swagger_ui(self):
        """Swagger UI without an inline script (flask-smorest's page has one), so the app's
        Content-Security-Policy holds here too: its start-up code is a static file."""
        return render_template(
            "api_docs.html", title=self.spec.title, spec_url=url_for(f"{self._make_doc_blueprint_name()}.openapi_json"),
            swagger_ui_url=self._swagger_ui_url, swagger_ui_config=self.config.get("OPENAPI_SWAGGER_UI_CONFIG", {}),
        )


_assets = Blueprint("api_docs_assets", __name__, template_folder="templates", static_folder="static",
                    static_url_path="/api/docs/static")


@_assets.route("/api/docs/assets/<path:filename>")
def docs_asset(filename: str):
    """Swagger UI's own files, shipped by the swagger-ui-bundle package: no CDN."""
    return send_from_directory(Path(swagger_ui_bundle.swagger_ui_path), filename, max_age=86400)


def _limit_body_size():
    """A JSON body may be at most MAX_JSON_BYTES; only attachment uploads get the larger limit."""
    if request.endpoint in ("attachments.AttachmentResource", "credit_lifecycle.ObjectionEvidence",
                            "portal_api.MyObjectionEvidence"):
        request.max_content_length = current_app.config["MAX_ATTACHMENT_BYTES"]
    elif request.endpoint in ("portal_api.MySelfReports", "portal.objection_form", "portal.self_report_form"):
        from supervision.documents.evidence import MAX_EVIDENCE_FILES  # several evidence files in one form

        request.max_content_length = (current_app.config["MAX_JSON_BYTES"]
                                      + MAX_EVIDENCE_FILES * current_app.config["MAX_ATTACHMENT_BYTES"])
    elif request.endpoint == "tus.Upload":  # a piece of a video (tus PATCH), streamed to disk
        request.max_content_length = current_app.config["MAX_VIDEO_CHUNK_BYTES"]
    elif request.endpoint == "inspections.SubmitWithFiles":
        from field_api.inspections import MAX_FILES_PER_REQUEST

        request.max_content_length = (current_app.config["MAX_JSON_BYTES"]
                                      + MAX_FILES_PER_REQUEST * current_app.config["MAX_ATTACHMENT_BYTES"])
    else:
        request.max_content_length = current_app.config["MAX_JSON_BYTES"]


class RowIdConverter(IntegerConverter):
    """`<id:name>` in a path: a row id within the INTEGER column it names. A larger number is no
    row (404), never a value the database refuses with a 500."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=ROW_ID_MAX)


def init_api(app: Flask) -> Api:
    """Mount the API on `app`; one Api object per app, so apps never share a spec."""
    from field_api import (
        attachments,
        credit,
        credit_check,
        credit_lifecycle,
        credit_report,
        devices,
        draws,
        evidence,
        grading,
        health,
        inspections,
        portal,
        portal_undertakings,  # noqa: F401  (its operations join portal.blp)
        sync,
        tus,
    )

    app.url_map.converters["id"] = RowIdConverter  # before any route that uses it
    api = Api(app, spec_kwargs={"components": {"securitySchemes": {
        "deviceToken": {"type": "http", "scheme": "bearer", "description": "token from /api/v1/devices/enrol"},
        "portalToken": {"type": "http", "scheme": "bearer",
                        "description": "an establishment account's token from /api/v1/portal/tokens"},
        "departmentApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                             "description": "a department's key (also as `Authorization: ApiKey …`)"}}}})
    api.register_converter(RowIdConverter, lambda _: {"type": "integer", "format": "int32", "minimum": 1, "maximum": ROW_ID_MAX})
    app.register_blueprint(_assets)
    app.before_request(_limit_body_size)
    app.before_request(body.check_json_body)  # after the limit is set
    for blueprint in (health.blp, devices.blp, sync.blp, inspections.blp, attachments.blp, credit.blp, grading.blp,
                      credit_lifecycle.blp, credit_check.blp, credit_report.blp, draws.blp, tus.blp, evidence.blp, portal.blp):
        api.register_blueprint(blueprint)
    return api
