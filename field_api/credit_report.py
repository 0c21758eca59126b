"""An establishment's credit report (信用报告) as a PDF, for terminals (device token for now).

The access rule is the service's (`supervision.credit.report.issue`): a terminal gets reports
on establishments of its inspector's jurisdiction or below.
"""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from field_api.auth import BEARER_SECURITY, current_device, device_required
from field_api.schemas.common import ErrorSchema
from supervision.credit import report as credit_report
from supervision.credit.calendar import china_today
from supervision.credit.grading.explain import establishment_by_id
from supervision.extensions import db

blp = Blueprint("credit_report", __name__, url_prefix="/api/v1", description="Credit reports (PDF)")

PDF_RESPONSE = {"200": {"description": "the report; its number is in the X-Report-Number header",
                        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


@blp.route("/establishments/<id:establishment_id>/credit-report")
class CreditReport(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, responses=PDF_RESPONSE)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="establishment outside the inspector's jurisdiction")
    @blp.alt_response(404, schema=ErrorSchema, description="no such establishment")
    def get(self, establishment_id):
        """A numbered credit report in Chinese: basic information, grade history with
        explanations, public records, lists, measures, and the verification URL."""
        establishment = establishment_by_id(db.session, establishment_id)
        report, pdf = credit_report.issue(db.session, current_device().actor, establishment, on=china_today())
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{report.number}.pdf"', "X-Report-Number": report.number,
            "X-Report-SHA256": report.sha256})
