from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from field_api.schemas.types import BoundedInteger, FieldDateTime, Id, Text
from supervision.timeutil import in_china, offset_text

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="应为 64 位小写十六进制 SHA-256")


class GpsSchema(Schema):
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lng = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(required=True, allow_nan=False, validate=validate.Range(0, 100_000))


class AnswerSchema(Schema):
    item_code = Text(required=True, validate=validate.Length(1, 16))
    result = Text(load_default=None, validate=validate.OneOf(["pass", "fail", "na"]),
                           metadata={"description": "pass_fail items: pass, fail or na; number items: na or omitted"})
    number = fields.Float(load_default=None, allow_nan=False, metadata={"description": "measured value, number items"})
    text = Text(load_default=None, multiline=True, validate=validate.Length(max=2000))
    note = Text(load_default=None, multiline=True, validate=validate.Length(max=1000))


class ManifestEntrySchema(Schema):
    sha256 = Text(required=True, validate=SHA256)
    size = BoundedInteger(required=True, min=1)
    media_type = Text(required=True, validate=validate.Length(1, 64))
    item_code = Text(load_default=None, validate=validate.Length(1, 16))
    purpose = Text(load_default="photo", validate=validate.OneOf(["photo", "signature", "video"]))


class SignatureSchema(Schema):
    signer_name = Text(load_default=None, validate=validate.Length(1, 64))
    signer_role = Text(load_default=None, validate=validate.Length(1, 64))
    sha256 = Text(load_default=None, validate=SHA256, metadata={"description": "signature image in the manifest"})
    refused = fields.Boolean(load_default=False, metadata={"description": "the counterpart refused to sign"})
    refusal_reason = Text(load_default=None, multiline=True, validate=validate.Length(1, 500))

    @validates_schema
    def _signed_or_refused(self, data, **kwargs):
        if data.get("refused"):
            if not data.get("refusal_reason"):
                raise ValidationError("拒绝签字时须说明情况", "refusal_reason")
        else:
            missing = {k: ["缺少必填字段"] for k in ("signer_name", "sha256") if not data.get(k)}
            if missing:
                raise ValidationError(missing)


class InspectionSubmissionSchema(Schema):
    uuid = fields.UUID(required=True, metadata={"description": "generated on the device; the idempotency key"})
    replaces = fields.UUID(load_default=None, metadata={"description": "uuid of the version this corrects"})
    establishment_id = Id(required=True)
    checklist_version_id = Id(required=True)
    task_id = Id(load_default=None)
    inspectors = fields.List(Text(validate=validate.Length(1, 32)), required=True,
                             validate=validate.Length(min=2, max=10, error="现场执法须有两名以上持有执法证的执法人员（最多 10 名）"),
                             metadata={"description": "badge numbers, at least two (two inspectors holding "
                                                      "enforcement certificates in the field)"})
    started_at = FieldDateTime(required=True, metadata={"description": "ISO 8601 with the device's UTC offset"})
    ended_at = FieldDateTime(required=True)
    gps = fields.Nested(GpsSchema, required=True)
    answers = fields.List(fields.Nested(AnswerSchema), required=True, validate=validate.Length(max=500))
    notes = Text(load_default=None, multiline=True, validate=validate.Length(max=5000))
    signature = fields.Nested(SignatureSchema, required=True)
    attachments = fields.List(fields.Nested(ManifestEntrySchema), load_default=list, validate=validate.Length(max=100))

    @post_load
    def _uuids_as_text(self, data, **kwargs):
        data["uuid"] = str(data["uuid"])
        data["replaces"] = str(data["replaces"]) if data.get("replaces") else None
        return data


class BatchSubmissionSchema(Schema):
    inspections = fields.List(fields.Dict(), required=True, validate=validate.Length(1, 50),
                              metadata={"description": "each entry shaped like InspectionSubmission; checked one by one"})


class FindingSchema(Schema):
    id = fields.Integer()
    item_code = fields.String()
    severity = fields.String()
    description = fields.String()
    legal_basis = fields.String()
    penalty_case_id = fields.Integer(allow_none=True)


class OrderSchema(Schema):
    id = fields.Integer()
    issued_on = fields.Date()
    deadline = fields.Date()
    item_codes = fields.List(fields.String())
    status = fields.String()
    reinspection_task_id = fields.Integer(allow_none=True)


class MissingSchema(Schema):
    sha256 = fields.String()
    size = fields.Integer()
    media_type = fields.String()
    item_code = fields.String(allow_none=True)
    purpose = fields.String()
    uploaded_bytes = fields.Integer(allow_none=True, metadata={
        "description": "a video partly uploaded over tus: the bytes the server holds (resume from there)"})


class InspectionStateSchema(Schema):
    """An inspection version as stored, with times in China time and what is still missing."""

    uuid = fields.String(attribute="inspection.uuid")
    lineage_uuid = fields.String(attribute="inspection.lineage_uuid")
    version = fields.Integer(attribute="inspection.version")
    replaces = fields.String(attribute="inspection.replaces_uuid", allow_none=True)
    is_current = fields.Boolean(attribute="inspection.is_current")
    status = fields.String(attribute="inspection.status", metadata={"description": "awaiting_attachments or complete"})
    establishment_id = fields.Integer(attribute="inspection.establishment_id")
    checklist_version_id = fields.Integer(attribute="inspection.checklist_version_id")
    task_id = fields.Integer(attribute="inspection.task_id", allow_none=True)
    inspectors = fields.Function(lambda s: [link.inspector.badge_no for link in s.inspection.inspectors])
    started_at = fields.Function(lambda s: in_china(s.inspection.started_at), metadata={"description": "China time"})
    ended_at = fields.Function(lambda s: in_china(s.inspection.ended_at))
    device_utc_offset = fields.Function(lambda s: offset_text(s.inspection.started_offset_min))
    gps_distance_m = fields.Float(attribute="inspection.gps_distance_m", allow_none=True)
    flagged_for_review = fields.Boolean(attribute="inspection.flagged_for_review")
    review_reasons = fields.List(fields.String(), attribute="inspection.review_reasons")
    findings = fields.List(fields.Nested(FindingSchema), attribute="inspection.findings")
    rectification_order = fields.Nested(OrderSchema, attribute="order", allow_none=True)
    missing_attachments = fields.List(fields.Nested(MissingSchema), attribute="missing")
    received_at = fields.Function(lambda s: in_china(s.inspection.received_at))
    completed_at = fields.Function(lambda s: in_china(s.inspection.completed_at))


class BatchResultSchema(Schema):
    index = fields.Integer()
    uuid = fields.String(allow_none=True)
    status = fields.Integer(metadata={"description": "HTTP status this entry would have had alone"})
    outcome = fields.String(metadata={"description": "created, replayed or refused"})
    inspection = fields.Nested(InspectionStateSchema, allow_none=True)
    error = fields.Dict(allow_none=True, metadata={"description": "the error shape's body, for a refused entry"})


class BatchResponseSchema(Schema):
    results = fields.List(fields.Nested(BatchResultSchema))


class PenaltyCaseRequestSchema(Schema):
    finding_ids = fields.List(Id(), required=True, validate=validate.Length(1, 100))
    summary = Text(required=True, multiline=True, validate=validate.Length(1, 2000))


class PenaltyCaseSchema(Schema):
    id = fields.Integer()
    establishment_id = fields.Integer()
    inspection_uuid = fields.String()
    summary = fields.String()
    status = fields.String()
    opened_at = fields.Function(lambda c: in_china(c.opened_at))


class AttachmentSchema(Schema):
    sha256 = fields.String()
    size = fields.Integer()
    media_type = fields.String()
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    received_at = fields.Function(lambda a: in_china(a.received_at))
