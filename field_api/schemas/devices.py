from marshmallow import Schema, fields, validate

from field_api.schemas.types import Text
from supervision.timeutil import in_china


class EnrolmentSchema(Schema):
    code = Text(required=True, validate=validate.Length(min=6, max=64),
                         metadata={"description": "one-time enrolment code from the supervisor"})


class InspectorRefSchema(Schema):
    id = fields.Integer()
    badge_no = fields.String()
    name = fields.String()


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "bearer token; send as 'Authorization: Bearer <token>'"})
    token_type = fields.Constant("Bearer")
    expires_at = fields.Method("_expires")
    device_id = fields.Integer(attribute="device.id")
    inspector = fields.Nested(InspectorRefSchema, attribute="device.inspector")

    def _expires(self, issued):
        return in_china(issued.expires_at)


class LimitsSchema(Schema):
    max_attachment_bytes = fields.Integer()
    max_json_bytes = fields.Integer()
    max_image_pixels = fields.Integer()
    allowed_media_types = fields.List(fields.String())
    max_batch_size = fields.Integer()
    gps_review_distance_m = fields.Integer()
    sync_page_size = fields.Integer()
    max_video_bytes = fields.Integer(metadata={"description": "largest video, sent over tus at /api/v1/uploads"})
    max_video_chunk_bytes = fields.Integer(metadata={"description": "largest body of one tus PATCH"})
    video_media_types = fields.List(fields.String())
    video_upload_expire_hours = fields.Integer(metadata={"description": "an unfinished upload is removed after this"})
