"""Device enrolment and tokens."""
from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from field_api.auth import BEARER_SECURITY, bearer_token, current_device, device_required
from field_api.schemas.common import ErrorSchema
from field_api.schemas.devices import EnrolmentSchema, LimitsSchema, TokenSchema
from supervision.devices import service as devices
from supervision.extensions import db
from supervision.inspections.attachments import ALLOWED_MEDIA_TYPES
from supervision.inspections.video_uploads import VIDEO_MEDIA_TYPES
from supervision.transaction import unit_of_work

blp = Blueprint("devices", __name__, url_prefix="/api/v1", description="Terminal enrolment, tokens and limits")

MAX_BATCH_SIZE = 50


def _token_ttl() -> timedelta:
    return timedelta(hours=current_app.config["DEVICE_TOKEN_TTL_HOURS"])


@blp.route("/devices/enrol")
class Enrol(MethodView):
    @blp.arguments(EnrolmentSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="code unknown, used or expired")
    def post(self, body):
        """Trade a one-time enrolment code for the device's bearer token."""
        with unit_of_work(db.session, keep_loaded=True):
            return devices.exchange_enrolment_code(db.session, body["code"], token_ttl=_token_ttl())


@blp.route("/devices/token/rotate")
class Rotate(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def post(self):
        """Get a new token; the current one keeps working for ten minutes, then lapses."""
        with unit_of_work(db.session, keep_loaded=True):
            return devices.rotate_token(db.session, current_device(), bearer_token(), token_ttl=_token_ttl())


@blp.route("/limits")
class Limits(MethodView):
    @blp.response(200, LimitsSchema)
    def get(self):
        """Size limits and accepted media types, so a device can check before it sends."""
        config = current_app.config
        return {
            "max_attachment_bytes": config["MAX_ATTACHMENT_BYTES"],
            "max_json_bytes": config["MAX_JSON_BYTES"],
            "max_image_pixels": config["MAX_IMAGE_PIXELS"],
            "allowed_media_types": list(ALLOWED_MEDIA_TYPES),
            "max_batch_size": MAX_BATCH_SIZE,
            "gps_review_distance_m": config["GPS_REVIEW_DISTANCE_M"],
            "sync_page_size": config["SYNC_PAGE_SIZE"],
            "max_video_bytes": config["MAX_VIDEO_BYTES"],
            "max_video_chunk_bytes": config["MAX_VIDEO_CHUNK_BYTES"],
            "video_media_types": list(VIDEO_MEDIA_TYPES),
            "video_upload_expire_hours": config["VIDEO_UPLOAD_EXPIRE_HOURS"],
        }
