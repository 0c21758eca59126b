"""Streaming stored evidence (body-camera video) with HTTP range requests, for devices of the
jurisdiction the evidence belongs to. Built on `supervision.inspections.evidence`, whose actor
rule a supervisor console will reuse; there is no public route to it."""
from flask import current_app, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from field_api import errors
from field_api.attachments import SHA256_PARAMETER
from field_api.auth import BEARER_SECURITY, current_actor, device_required
from field_api.tus import ERROR_CONTENT
from supervision.extensions import db
from supervision.inspections.attachments import AttachmentStore
from supervision.inspections.evidence import open_evidence
from supervision.inspections.video_uploads import VIDEO_MEDIA_TYPES

blp = Blueprint("evidence", __name__, url_prefix="/api/v1", description="Evidence streaming")

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_MEDIA = ("video/mp4", "video/quicktime", "image/jpeg", "image/png", "image/webp")
assert set(VIDEO_MEDIA_TYPES) <= set(_MEDIA)


@blp.route("/evidence/<sha256>", parameters=[SHA256_PARAMETER])
class EvidenceFile(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, parameters=[
        {"in": "header", "name": "Range", "required": False, "schema": {"type": "string"},
         "description": "e.g. `bytes=0-1048575`"}],
        responses={
            "200": {"description": "the whole file", "content": {m: _BINARY for m in _MEDIA},
                    "headers": {"Accept-Ranges": {"schema": {"type": "string"}}}},
            "206": {"description": "the requested range", "content": {m: _BINARY for m in _MEDIA},
                    "headers": {"Content-Range": {"schema": {"type": "string"}},
                                "Accept-Ranges": {"schema": {"type": "string"}}}},
            "404": {"description": "not held, or not of the device's jurisdiction", "content": ERROR_CONTENT},
            "416": {"description": "range not satisfiable", "content": ERROR_CONTENT,
                    "headers": {"Content-Range": {"schema": {"type": "string"}}}},
        })
    def get(self, sha256):
        """Stream a stored evidence file; supports `Range` (206, 416) for seeking in video."""
        evidence = open_evidence(db.session, current_actor(), AttachmentStore(current_app.config["ATTACHMENT_DIR"]),
                                 sha256)
        try:
            return send_file(evidence.path, mimetype=evidence.attachment.media_type, conditional=True,
                             etag=evidence.attachment.sha256, max_age=0)
        except RequestedRangeNotSatisfiable:
            return errors.error_response(416, "range_not_satisfiable", "请求的字节范围超出文件长度",
                                         {"Range": [f"文件长度 {evidence.attachment.size} 字节"]},
                                         headers={"Content-Range": f"bytes */{evidence.attachment.size}"})
