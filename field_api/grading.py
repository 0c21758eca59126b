"""An establishment's credit grade and the explanation behind it, for terminals."""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from field_api.auth import BEARER_SECURITY, current_device, device_required
from field_api.schemas.common import ErrorSchema
from field_api.schemas.grading import ExplanationSchema, GradeQuerySchema, GradeSchema
from supervision.credit.grading import explain as explaining
from supervision.extensions import db

blp = Blueprint("grading", __name__, url_prefix="/api/v1", description="Credit grades and their explanations")


def _explanation(establishment_id: int, year: int | None) -> explaining.Explanation:
    establishment = explaining.establishment_by_id(db.session, establishment_id)
    return explaining.explain(db.session, current_device().actor, establishment, year=year)


@blp.route("/establishments/<id:establishment_id>/grade")
class CurrentGrade(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(GradeQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, GradeSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="establishment outside the inspector's jurisdiction")
    @blp.alt_response(404, schema=ErrorSchema, description="no such establishment, or no published grade")
    def get(self, query, establishment_id):
        """The establishment's latest published grade (or that of a year)."""
        return _explanation(establishment_id, query["year"])


@blp.route("/establishments/<id:establishment_id>/grade/explanation")
class Explanation(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(GradeQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ExplanationSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="establishment outside the inspector's jurisdiction")
    @blp.alt_response(404, schema=ErrorSchema, description="no such establishment, or no published grade")
    def get(self, query, establishment_id):
        """Why it has that grade: score, policy version, hard rule, each record with its points and rule."""
        return _explanation(establishment_id, query["year"])
