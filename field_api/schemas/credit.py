from marshmallow import Schema, fields

from field_api.schemas.types import BoundedDate
from supervision.credit.models import CREDIT_KINDS, PENALTY_TYPES, PROCEDURES, RECORD_STATUSES, SEVERITIES


class CreditRecordsQuerySchema(Schema):
    on = BoundedDate(metadata={"description": "publicity as on this day (China date); default today"})


class PublicitySchema(Schema):
    """Whether the record is public on the day asked, and its window (NDRC Order No. 58 by default)."""

    public = fields.Boolean()
    public_from = fields.Date(allow_none=True)
    public_until = fields.Date(allow_none=True, metadata={"description": "last public day; null: no end"})
    repair_from = fields.Date(allow_none=True, metadata={"description": "earliest day credit repair may end it"})
    under_review = fields.Boolean(metadata={"description": "public, but an objection is open"})
    note = fields.String(metadata={"description": "Simplified Chinese"})
    policy_version = fields.String(allow_none=True)


class ProvenanceSchema(Schema):
    source_type = fields.String()
    producing_unit = fields.String(metadata={"description": "jurisdiction code of the producing unit"})
    producing_unit_name = fields.String()
    producing_department = fields.String(allow_none=True, metadata={"description": "outside department, if any"})
    channel = fields.String()
    arose_on = fields.Date()
    entered_at = fields.DateTime(format="iso", metadata={"description": "UTC"})


class PenaltySchema(Schema):
    decision_no = fields.String()
    decided_on = fields.Date()
    penalty_type = fields.String(metadata={"enum": list(PENALTY_TYPES)})
    amount_fen = fields.Integer(allow_none=True, metadata={"description": "amount in fen (1/100 yuan)"})
    procedure = fields.String(metadata={"enum": list(PROCEDURES)})
    serious = fields.Boolean()
    legal_basis = fields.String()
    fulfilled_on = fields.Date(allow_none=True)


class CreditRecordSchema(Schema):
    id = fields.Integer(attribute="record.id")
    kind = fields.String(attribute="record.kind", metadata={"enum": list(CREDIT_KINDS)})
    code = fields.String(attribute="record.code", allow_none=True)
    title = fields.String(attribute="record.title")
    severity = fields.String(attribute="record.severity", metadata={"enum": list(SEVERITIES)})
    status = fields.String(attribute="record.status", metadata={"enum": list(RECORD_STATUSES)})
    arose_on = fields.Date(attribute="record.arose_on")
    legal_basis = fields.String(attribute="record.legal_basis", allow_none=True)
    practice_points = fields.Integer(attribute="record.practice_points", allow_none=True)
    provenance = fields.Nested(ProvenanceSchema)
    publicity = fields.Nested(PublicitySchema)
    penalty = fields.Nested(PenaltySchema, allow_none=True)


class CreditRecordsSchema(Schema):
    establishment_id = fields.Integer()
    on = fields.Date()
    records = fields.List(fields.Nested(CreditRecordSchema))
