"""An establishment's credit records, with their publicity, for terminals."""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from field_api.auth import BEARER_SECURITY, current_device, device_required
from field_api.schemas.common import ErrorSchema
from field_api.schemas.credit import CreditRecordsQuerySchema, CreditRecordsSchema
from supervision.credit import records
from supervision.credit.calendar import china_today
from supervision.extensions import db

blp = Blueprint("credit", __name__, url_prefix="/api/v1", description="Credit information of establishments")


@blp.route("/establishments/<id:establishment_id>/credit-records")
class EstablishmentCreditRecords(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(CreditRecordsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CreditRecordsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such establishment in the device's jurisdiction")
    def get(self, query, establishment_id):
        """An establishment's credit records, newest first, each with its provenance and its
        publicity on `on`. A terminal sees the establishments of its own jurisdiction."""
        actor = current_device().actor
        on = query.get("on") or china_today()
        establishment = records.visible_establishment(db.session, actor, establishment_id)
        views = records.subject_records(db.session, actor, establishment.subject_id, on=on)
        return {"establishment_id": establishment.id, "on": on, "records": views}
