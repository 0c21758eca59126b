from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from supervision import health

blp = Blueprint("health", __name__, description="Liveness and database reachability")


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok or degraded"})
    database = fields.String(metadata={"description": "reachable or unreachable"})
    dialect = fields.String()


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="database unreachable")
    def get(self):
        """Whether the service is up and its database answers."""
        report = health.check()
        return report, (200 if report["database"] == "reachable" else 503)
