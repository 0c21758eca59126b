"""Double-random draws, read-only for terminals. Plans are submitted and drawn by a supervisor
at the command line (`supervision draw run`) until supervisor accounts exist: a device token
stands for an inspector, and an inspector must not choose who is inspected (docs/draws.md)."""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from field_api.auth import BEARER_SECURITY, current_device, device_required
from field_api.schemas.common import ErrorSchema
from supervision.extensions import db
from supervision.sampling import results

blp = Blueprint("draws", __name__, url_prefix="/api/v1", description="Double-random draws (read-only)")


class DrawTargetSchema(Schema):
    establishment_id = fields.Integer()
    stratum = fields.String(metadata={"description": "A–E or ungraded"})
    task_id = fields.Integer(allow_none=True)
    inspector_ids = fields.List(fields.Integer())


class DrawSchema(Schema):
    id = fields.Integer()
    plan = fields.Dict(metadata={"description": "the resolved plan: code, title, period, scope, items, ratios …"})
    status = fields.String()
    seed = fields.String()
    chain_hash = fields.String()
    plan_sha256 = fields.String()
    candidate_sha256 = fields.String(allow_none=True)
    result_sha256 = fields.String(allow_none=True)
    candidates = fields.Integer(allow_none=True)
    drawn = fields.Integer(allow_none=True)
    strata = fields.Dict(metadata={"description": "per stratum: candidates, high_risk, quota, floor_extra, drawn"})
    my_targets = fields.List(fields.Nested(DrawTargetSchema),
                             metadata={"description": "targets this device's inspector was drawn for"})


@blp.route("/draws/<id:draw_id>")
class DrawResource(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, DrawSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="the plan's scope is outside the inspector's jurisdiction")
    @blp.alt_response(404, schema=ErrorSchema, description="no such draw")
    def get(self, draw_id):
        """A draw: plan, seed and digests, counts per grade, and the caller's own targets."""
        return results.draw_for_actor(db.session, current_device().actor, draw_id)
