"""Uploading photos and signatures, addressed by SHA-256, in any order."""
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from field_api.auth import BEARER_SECURITY, current_actor, device_required
from field_api.schemas.common import ErrorSchema
from field_api.schemas.inspections import AttachmentSchema
from supervision.errors import NotFound
from supervision.extensions import db
from supervision.inspections.attachments import (
    ALLOWED_MEDIA_TYPES,
    AttachmentStore,
    UploadLimits,
    check_address,
    receive_attachment,
)
from supervision.inspections import settlement
from supervision.inspections.models import Attachment
from supervision.transaction import unit_of_work

blp = Blueprint("attachments", __name__, url_prefix="/api/v1", description="Attachment upload")

_BINARY_BODY = {
    "required": True,
    "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in ALLOWED_MEDIA_TYPES},
}


SHA256_PARAMETER = {"in": "path", "name": "sha256", "required": True,
                    "description": "SHA-256 of the file's bytes, lower-case hex",
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}


@blp.route("/attachments/<sha256>", parameters=[SHA256_PARAMETER])
class AttachmentResource(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, requestBody=_BINARY_BODY)
    @blp.response(201, AttachmentSchema, description="stored")
    @blp.alt_response(200, schema=AttachmentSchema, description="already held; nothing written")
    @blp.alt_response(413, schema=ErrorSchema, description="larger than max_attachment_bytes (see /api/v1/limits)")
    @blp.alt_response(422, schema=ErrorSchema, description="hash mismatch, not an image, or too many pixels")
    def put(self, sha256):
        """Upload one file; its address is the SHA-256 of its bytes, checked on arrival."""
        config = current_app.config
        with unit_of_work(db.session, keep_loaded=True):  # step one: the file
            attachment, created = receive_attachment(
                db.session, current_actor(), AttachmentStore(config["ATTACHMENT_DIR"]),
                sha256=sha256, media_type=request.mimetype, body=request.stream,
                limits=UploadLimits(config["MAX_ATTACHMENT_BYTES"], config["MAX_IMAGE_PIXELS"]),
            )
        # Step two, also for a file already held: a re-upload settles what a failed step left.
        with unit_of_work(db.session, keep_loaded=True):
            settlement.settle_waiting_on(db.session, sha256)
        return attachment, (201 if created else 200)

    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, AttachmentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="not received yet")
    def get(self, sha256):
        """Whether the server already holds this file."""
        attachment = db.session.get(Attachment, check_address(sha256))
        if attachment is None:
            raise NotFound("附件尚未上传", fields={"sha256": ["附件尚未上传"]})
        return attachment
