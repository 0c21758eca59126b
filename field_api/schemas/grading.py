from marshmallow import Schema, fields

from field_api.schemas.types import BoundedInteger


class GradeQuerySchema(Schema):
    year = BoundedInteger(min=2000, max=2100, strict=False, load_default=None,
                          metadata={"description": "a graded year; default the latest published"})


class GradeSchema(Schema):
    establishment_id = fields.Integer()
    credit_code = fields.String()
    year = fields.Integer()
    run_id = fields.Integer()
    grade = fields.String(metadata={"description": "A, B, C, D or E"})
    score = fields.Integer()
    base = fields.Integer(metadata={"description": "the policy's base score"})
    policy_version = fields.String(metadata={"description": "grading/<jurisdiction>/<effective date>#<sha256 prefix>"})
    hard_rule = fields.String(allow_none=True, metadata={"description": "key of the rule that capped the grade"})
    hard_rule_title = fields.String(allow_none=True)


class ContributionSchema(Schema):
    record_id = fields.Integer()
    kind = fields.String()
    code = fields.String(allow_none=True)
    severity = fields.String()
    title = fields.String()
    arose_on = fields.Date()
    points = fields.Integer()
    rule_key = fields.String(metadata={"description": "e.g. points.penalty.serious"})
    rule_text = fields.String(metadata={"description": "the rule and its points, in Chinese"})
    policy_version = fields.String(metadata={"description": "the policy in force when the record arose"})


class ExplanationSchema(GradeSchema):
    name = fields.String()
    contributions = fields.List(fields.Nested(ContributionSchema))
