"""Schemas of the credit lifecycle API: objections, repairs, lists, measures, warnings."""
from marshmallow import Schema, fields, validate

from field_api.schemas.types import BoundedDate, Id, Text
from supervision.credit.objections import OUTCOMES


class ObjectionInSchema(Schema):
    establishment_id = Id(required=True, metadata={"description": "the establishment the record belongs to"})
    reason = Text(required=True, multiline=True, validate=validate.Length(min=1, max=2000))
    by = Text(validate=validate.Length(max=64), metadata={"description": "the supervisor raising it on its behalf"})


class ObjectionDecisionSchema(Schema):
    decision = Text(required=True, validate=validate.OneOf(("upheld", "rejected")))
    outcome = Text(validate=validate.OneOf(OUTCOMES), metadata={"description": "when upheld"})
    reason = Text(required=True, multiline=True, validate=validate.Length(min=1, max=2000))
    by = Text(required=True, validate=validate.Length(min=1, max=64))


class ObjectionSchema(Schema):
    id = fields.Integer()
    record_id = fields.Integer()
    establishment_id = fields.Integer()
    reason = fields.String()
    raised_on = fields.Date()
    deadline = fields.Date(allow_none=True)
    deadline_flag = fields.String(allow_none=True, metadata={"description": "why no deadline could be counted"})
    status = fields.String(metadata={"enum": ["open", "upheld", "rejected"]})
    outcome = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    regrade_run_ids = fields.List(fields.Integer())


class EvidenceFileSchema(Schema):
    id = fields.Integer()
    sha256 = fields.String()
    media_type = fields.String()
    filename = fields.String()
    size = fields.Integer()


class EvidenceListSchema(Schema):
    objection_id = fields.Integer()
    evidence = fields.List(fields.Nested(EvidenceFileSchema))


class EvidenceSchema(Schema):
    fulfilment = Text(validate=validate.Length(max=1000), metadata={"description": "履行完毕证明"})
    commitment = Text(validate=validate.Length(max=1000), metadata={"description": "信用修复承诺书"})
    training = Text(validate=validate.Length(max=1000), metadata={"description": "信用修复培训证明"})


class EligibilityQuerySchema(EvidenceSchema):
    on = BoundedDate(metadata={"description": "default today (China date)"})


class EligibilitySchema(Schema):
    eligible = fields.Boolean()
    reasons = fields.List(fields.String())
    eligible_from = fields.Date(allow_none=True)
    missing_evidence = fields.List(fields.String())


class RepairInSchema(Schema):
    establishment_id = Id(required=True)
    evidence = fields.Nested(EvidenceSchema, required=True)
    by = Text(validate=validate.Length(max=64))


class RepairDecisionSchema(Schema):
    decision = Text(required=True, validate=validate.OneOf(("approved", "refused")))
    reason = Text(multiline=True, validate=validate.Length(max=2000))
    by = Text(required=True, validate=validate.Length(min=1, max=64))


class RepairSchema(Schema):
    id = fields.Integer()
    record_id = fields.Integer()
    establishment_id = fields.Integer()
    status = fields.String(metadata={"enum": ["pending", "approved", "refused"]})
    applied_on = fields.Date()
    decided_on = fields.Date(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    notice_no = fields.String(allow_none=True)


class ListEntrySchema(Schema):
    id = fields.Integer()
    list_name = fields.String(metadata={"enum": ["redlist", "blacklist"]})
    status = fields.String()
    reason = fields.String()
    entered_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)


class OnQuerySchema(Schema):
    on = BoundedDate(metadata={"description": "default today (China date)"})


class MembershipsSchema(Schema):
    establishment_id = fields.Integer()
    on = fields.Date()
    lists = fields.List(fields.Nested(ListEntrySchema))


class MeasureSchema(Schema):
    key = fields.String()
    type = fields.String(metadata={"enum": ["reward", "restriction"]})
    title = fields.String()
    basis = fields.String()
    because = fields.String(metadata={"description": "the rule that matched"})


class MeasuresSchema(Schema):
    establishment_id = fields.Integer()
    on = fields.Date()
    measures = fields.List(fields.Nested(MeasureSchema))


class WarningReasonSchema(Schema):
    rule = fields.String()
    text = fields.String()


class WarningSchema(Schema):
    establishment_id = fields.Integer()
    credit_code = fields.String()
    name = fields.String()
    reasons = fields.List(fields.Nested(WarningReasonSchema))


class WarningsSchema(Schema):
    on = fields.Date()
    warnings = fields.List(fields.Nested(WarningSchema))
