from marshmallow import Schema, fields

from field_api.schemas.registry import CategorySchema, DirectoryInspectorSchema, EstablishmentSchema
from field_api.schemas.types import Position
from supervision.timeutil import in_china


class ChecklistItemSchema(Schema):
    code = fields.String()
    position = fields.Integer()
    section = fields.String()
    text = fields.String()
    legal_basis = fields.String()
    severity = fields.String(metadata={"description": "minor, major or critical"})
    answer_type = fields.String(metadata={"description": "pass_fail, number, text or photo"})
    unit = fields.String(allow_none=True)
    min = fields.Float(attribute="min_value", allow_none=True)
    max = fields.Float(attribute="max_value", allow_none=True)
    plausible_min = fields.Float(allow_none=True, metadata={"description": "number items: a measurement below is refused"})
    plausible_max = fields.Float(allow_none=True, metadata={"description": "number items: a measurement above is refused"})
    required = fields.Boolean()
    checks_commitment = fields.Boolean(metadata={"description": "checks the credit commitment (践诺)"})


class ChecklistVersionSchema(Schema):
    id = fields.Integer()
    template_code = fields.String(attribute="template.code")
    title = fields.String(attribute="template.title")
    specialty = fields.String(attribute="template.specialty")
    categories = fields.List(fields.String(), attribute="template.categories")
    version = fields.Integer()
    status = fields.String()
    items = fields.List(fields.Nested(ChecklistItemSchema))


class TaskSchema(Schema):
    id = fields.Integer()
    establishment_id = fields.Integer()
    grid_id = fields.Integer(allow_none=True)
    kind = fields.String()
    status = fields.String()
    due_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    origin_inspection_uuid = fields.String(allow_none=True)
    created_at = fields.Function(lambda t: in_china(t.created_at))


class SyncGradeSchema(Schema):
    establishment_id = fields.Integer()
    grade = fields.String(metadata={"description": "A–E, the latest published"})
    score = fields.Integer()
    year = fields.Integer()


class SyncCommitmentSchema(Schema):
    id = fields.Integer()
    establishment_id = fields.Integer()
    version = fields.String(attribute="letter_version", metadata={"description": "letter version signed"})
    signer_name = fields.String(metadata={"description": "the legal representative who signed"})
    signed_at = fields.Function(lambda c: in_china(c.signed_at))
    text_sha256 = fields.String(metadata={"description": "SHA-256 hex of the exact UTF-8 text signed"})
    text = fields.String(metadata={"description": "the letter exactly as signed (践诺 is checked against it)"})


class SelfInspectionAnswerSchema(Schema):
    item_code = fields.String()
    result = fields.String(metadata={"description": "pass, fail or na (as for an inspection)"})
    number = fields.Float(allow_none=True)
    text = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class SelfInspectionCorrectionSchema(Schema):
    measure = fields.String(metadata={"description": "整改措施"})
    completed_on = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD; null: still in progress"})


class SyncSelfInspectionSchema(Schema):
    id = fields.Integer()
    establishment_id = fields.Integer()
    checklist_version_id = fields.Integer()
    submitted_at = fields.Function(lambda s: in_china(s.submitted_at))
    answers = fields.List(fields.Nested(SelfInspectionAnswerSchema))
    corrections = fields.Dict(keys=fields.String(), values=fields.Nested(SelfInspectionCorrectionSchema),
                              metadata={"description": "per non-compliant item code"})


class BootstrapQuerySchema(Schema):
    after_id = Position(load_default=0,
                              metadata={"description": "last establishment id of the previous page"})
    cursor = Position(load_default=None,
                            metadata={"description": "cursor returned by the first page; pass it back on later pages"})


class BootstrapSchema(Schema):
    cursor = fields.Integer(metadata={"description": "start delta sync from here once all pages are fetched"})
    next_after_id = fields.Integer(allow_none=True, metadata={"description": "null on the last page"})
    establishments = fields.List(fields.Nested(EstablishmentSchema))
    tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "first page only"})
    checklist_versions = fields.List(fields.Nested(ChecklistVersionSchema), metadata={"description": "first page only"})
    inspectors = fields.List(fields.Nested(DirectoryInspectorSchema), metadata={"description": "first page only"})
    categories = fields.List(fields.Nested(CategorySchema), metadata={"description": "first page only"})
    grades = fields.List(fields.Nested(SyncGradeSchema), metadata={"description": "current credit grade of the "
                                                                                  "page's graded establishments"})
    commitments = fields.List(fields.Nested(SyncCommitmentSchema),
                              metadata={"description": "current commitment letter signature of the page's establishments"})
    self_inspections = fields.List(fields.Nested(SyncSelfInspectionSchema),
                                   metadata={"description": "latest self-inspection of the page's establishments"})


class ChangesQuerySchema(Schema):
    cursor = Position(required=True)


class ChangesSchema(Schema):
    cursor = fields.Integer(metadata={"description": "pass back on the next call"})
    has_more = fields.Boolean(metadata={"description": "call again at once with the new cursor"})
    establishments = fields.List(fields.Nested(EstablishmentSchema), metadata={"description": "new or changed"})
    removed_establishment_ids = fields.List(fields.Integer(), metadata={"description": "left the device's grids"})
    tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "new or changed open tasks"})
    closed_task_ids = fields.List(fields.Integer())
    checklist_versions = fields.List(fields.Nested(ChecklistVersionSchema), metadata={"description": "newly published"})
    retired_checklist_version_ids = fields.List(fields.Integer())
    inspectors = fields.List(fields.Nested(DirectoryInspectorSchema))
    resync_required = fields.Boolean(metadata={"description": "bulk load or the device's own grids changed: "
                                                              "bootstrap again from scratch"})
    grades = fields.List(fields.Nested(SyncGradeSchema), metadata={"description": "current credit grade of the "
                                                                                  "changed establishments"})
    commitments = fields.List(fields.Nested(SyncCommitmentSchema),
                              metadata={"description": "new commitment letter signatures in the device's grids"})
    self_inspections = fields.List(fields.Nested(SyncSelfInspectionSchema),
                                   metadata={"description": "new self-inspections in the device's grids"})
