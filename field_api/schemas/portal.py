"""Schemas of the establishments' own JSON API (`/api/v1/portal`)."""
from marshmallow import Schema, fields, validate

from field_api.schemas.credit import CreditRecordSchema
from field_api.schemas.credit_lifecycle import EvidenceFileSchema, EvidenceSchema, ObjectionSchema
from field_api.schemas.inspections import AnswerSchema
from field_api.schemas.sync import ChecklistVersionSchema, SyncCommitmentSchema, SyncSelfInspectionSchema
from field_api.schemas.types import BoundedDate, Id, Text
from supervision.self_reports.models import REPORT_KINDS


class PortalSignInSchema(Schema):
    login = Text(required=True, validate=validate.Length(min=1, max=18),
                 metadata={"description": "the unified social credit code the account was issued for"})
    password = Text(required=True, validate=validate.Length(min=1, max=256))


class PortalTokenSchema(Schema):
    token = fields.String(metadata={"description": "send as `Authorization: Bearer …`; shown once"})
    expires_at = fields.DateTime(format="iso", metadata={"description": "UTC"})
    must_change_password = fields.Boolean(metadata={
        "description": "true: only /portal/password and sign-out work until the initial password is replaced"})


class PortalDoneSchema(Schema):
    done = fields.Boolean()
    message = fields.String(metadata={"description": "Simplified Chinese"})


class PortalPasswordSchema(Schema):
    current = Text(required=True, validate=validate.Length(max=256))
    new = Text(required=True, validate=validate.Length(max=256))
    repeat = Text(required=True, validate=validate.Length(max=256))


class PortalEstablishmentSchema(Schema):
    id = fields.Integer()
    credit_code = fields.String()
    name = fields.String()
    category = fields.String(attribute="category_code")
    address = fields.String()
    status = fields.String()


class PortalEstablishmentsSchema(Schema):
    establishments = fields.List(fields.Nested(PortalEstablishmentSchema))


class PortalThresholdSchema(Schema):
    grade = fields.String()
    lowest_score = fields.Integer(allow_none=True, metadata={"description": "null for E: below D's lowest"})


class PortalCountingRecordSchema(Schema):
    record_id = fields.Integer()
    title = fields.String()
    points = fields.Integer()
    rule_text = fields.String()
    last_counted_year = fields.Integer(allow_none=True, metadata={"description": "the last grading year it counts in"})
    public_until = fields.Date(allow_none=True)
    repair_from = fields.Date(allow_none=True, metadata={"description": "from when credit repair may be applied for"})


class PortalHistorySchema(Schema):
    year = fields.Integer()
    grade = fields.String()
    score = fields.Integer()


class PortalRatingSchema(Schema):
    establishment_id = fields.Integer()
    graded = fields.Boolean(metadata={"description": "false: no published grade yet; the rest is empty"})
    grade = fields.String(allow_none=True)
    score = fields.Integer(allow_none=True)
    base = fields.Integer(allow_none=True)
    year = fields.Integer(allow_none=True)
    policy_version = fields.String(allow_none=True)
    hard_rule = fields.String(allow_none=True, metadata={"description": "a rule capping the grade, if any"})
    thresholds = fields.List(fields.Nested(PortalThresholdSchema))
    next_better = fields.Nested(PortalThresholdSchema, allow_none=True)
    points_missing = fields.Integer(allow_none=True, metadata={"description": "to reach the next better grade"})
    history = fields.List(fields.Nested(PortalHistorySchema))
    counting_records = fields.List(fields.Nested(PortalCountingRecordSchema))


class PortalRecordsSchema(Schema):
    establishment_id = fields.Integer()
    on = fields.Date()
    records = fields.List(fields.Nested(CreditRecordSchema))


class PortalObjectionInSchema(Schema):
    reason = Text(required=True, multiline=True, validate=validate.Length(min=1, max=2000))


class PortalObjectionsSchema(Schema):
    objections = fields.List(fields.Nested(ObjectionSchema))


class PortalRepairInSchema(Schema):
    evidence = fields.Nested(EvidenceSchema, required=True)


class PortalSelfReportInSchema(Schema):
    """The form fields of a new self-report; its evidence files come as multipart parts `evidence`."""

    kind = Text(required=True, validate=validate.OneOf(REPORT_KINDS),
                metadata={"description": "honour 荣誉表彰, certification 资质认证, public_welfare 公益活动"})
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    issuer = Text(required=True, validate=validate.Length(min=1, max=200),
                  metadata={"description": "who awarded, certified or organised it"})
    occurred_on = BoundedDate(required=True)
    description = Text(multiline=True, validate=validate.Length(max=2000))
    pledged_by = Text(required=True, validate=validate.Length(min=1, max=64),
                      metadata={"description": "who makes the truthfulness pledge for the establishment"})
    pledge = fields.Boolean(required=True, metadata={"description": "must be true: the pledge (pledge_text) is made"})


class PortalSelfReportSchema(Schema):
    id = fields.Integer()
    establishment_id = fields.Integer()
    kind = fields.String(metadata={"enum": list(REPORT_KINDS)})
    title = fields.String()
    issuer = fields.String()
    occurred_on = fields.Date()
    description = fields.String()
    pledged_by = fields.String()
    pledge_text = fields.String()
    submitted_at = fields.DateTime(format="iso", metadata={"description": "UTC"})
    status = fields.String(metadata={"enum": ["pending", "verified", "rejected"],
                                     "description": "only a verified report counts as credit information"})
    decided_at = fields.DateTime(format="iso", allow_none=True)
    decision_reason = fields.String(allow_none=True)
    credit_record_id = fields.Integer(allow_none=True, metadata={"description": "the positive record, once verified"})
    evidence = fields.List(fields.Nested(EvidenceFileSchema))


class PortalSelfReportsSchema(Schema):
    self_reports = fields.List(fields.Nested(PortalSelfReportSchema))


class PortalLetterSchema(Schema):
    version = fields.String()
    title = fields.String()
    text = fields.String(metadata={"description": "the letter with the establishment's name filled in"})
    text_sha256 = fields.String(metadata={"description": "send it back when signing: one signs exactly what one read"})


class PortalCommitmentSchema(Schema):
    letter = fields.Nested(PortalLetterSchema, metadata={"description": "the letter in force"})
    signed = fields.Nested(SyncCommitmentSchema, allow_none=True, metadata={"description": "the latest signature"})
    needs_signature = fields.Boolean(metadata={"description": "unsigned, or a newer version is in force"})


class PortalSignInLetterSchema(Schema):
    signer_name = Text(required=True, validate=validate.Length(min=1, max=64),
                       metadata={"description": "the registered legal representative's name"})
    pledge = fields.Boolean(required=True, metadata={"description": "must be true"})
    text_sha256 = Text(required=True, validate=validate.Length(equal=64))


class PortalChecklistsSchema(Schema):
    checklist_versions = fields.List(fields.Nested(ChecklistVersionSchema))


class PortalCorrectionInSchema(Schema):
    measure = Text(required=True, multiline=True, validate=validate.Length(max=1000))
    completed_on = BoundedDate(load_default=None, metadata={"description": "null: still in progress"})


class PortalSelfInspectionInSchema(Schema):
    checklist_version_id = Id(required=True, metadata={"description": "a published version for the category"})
    answers = fields.List(fields.Nested(AnswerSchema), required=True, validate=validate.Length(max=500))
    corrections = fields.Dict(keys=Text(validate=validate.Length(1, 16)), values=fields.Nested(PortalCorrectionInSchema),
                              load_default=dict, metadata={"description": "per non-compliant item code"})


class PortalSelfInspectionsSchema(Schema):
    self_inspections = fields.List(fields.Nested(SyncSelfInspectionSchema))
