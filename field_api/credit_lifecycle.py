"""Objections, credit repair, list memberships, measures and early warnings (issue 16).

Device token for now (the supervisors' and establishments' own logins come later); the services
apply their access rules to the device's actor."""
from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from field_api.auth import BEARER_SECURITY, current_device, device_required
from field_api.evidence_files import EVIDENCE_BODY, FILE_RESPONSE, download, require_multipart, store, uploaded
from field_api.schemas.common import ErrorSchema
from field_api.schemas.credit_lifecycle import (
    EligibilityQuerySchema,
    EligibilitySchema,
    MembershipsSchema,
    MeasuresSchema,
    EvidenceListSchema,
    ObjectionDecisionSchema,
    ObjectionInSchema,
    ObjectionSchema,
    OnQuerySchema,
    RepairDecisionSchema,
    RepairInSchema,
    RepairSchema,
    WarningsSchema,
)
from supervision.credit import lists, objections, records, repair, warnings
from supervision.credit.calendar import china_today
from supervision.credit.measures import match_measures
from supervision.extensions import db
from supervision.transaction import unit_of_work

blp = Blueprint("credit_lifecycle", __name__, url_prefix="/api/v1",
                description="Objections, credit repair, lists, measures and early warnings")

EVIDENCE_KEYS = ("fulfilment", "commitment", "training")


def _actor():
    return current_device().actor


@blp.route("/credit-records/<id:record_id>/objections")
class RecordObjections(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ObjectionInSchema, unknown=RAISE)
    @blp.response(201, ObjectionSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such record in the device's jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="an objection is already open, or the record cannot be objected to")
    def post(self, body, record_id):
        """Raise an objection (异议) on behalf of the establishment; the record is shown as under
        review until it is decided. Evidence files follow through `/objections/{id}/evidence`."""
        with unit_of_work(db.session, keep_loaded=True):
            return objections.raise_objection(db.session, _actor(), record_id, on_behalf_of=body["establishment_id"],
                                              reason=body["reason"], on=china_today(), by=body.get("by"))


@blp.route("/objections/<id:objection_id>")
class ObjectionResource(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, ObjectionSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, objection_id):
        """An objection and its decision."""
        return objections.get(db.session, _actor(), objection_id)


@blp.route("/objections/<id:objection_id>/evidence")
class ObjectionEvidence(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, requestBody=EVIDENCE_BODY)
    @blp.response(201, EvidenceListSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the objection is decided")
    @blp.alt_response(413, schema=ErrorSchema, description="the file is larger than its limit")
    @blp.alt_response(422, schema=ErrorSchema, description="not a PDF, JPEG or PNG; nothing stored")
    def post(self, objection_id):
        """Attach an evidence file (multipart part `file`) to an open objection; answers every
        file it holds."""
        require_multipart("上传证据材料")
        files = uploaded("file")
        with unit_of_work(db.session, keep_loaded=True):
            held = objections.add_evidence(db.session, _actor(), objection_id, files, store=store())
            return {"objection_id": objection_id, "evidence": held}


@blp.route("/objections/<id:objection_id>/evidence/<id:evidence_id>")
class ObjectionEvidenceFile(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, responses=FILE_RESPONSE)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such objection or file in the device's jurisdiction")
    def get(self, objection_id, evidence_id):
        """Download one evidence file of an objection (supervisors of its jurisdiction)."""
        return download(*objections.evidence_file(db.session, _actor(), objection_id, evidence_id, store=store()))


@blp.route("/objections/<id:objection_id>/decision")
class ObjectionDecision(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ObjectionDecisionSchema, unknown=RAISE)
    @blp.response(200, ObjectionSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="already decided")
    def post(self, body, objection_id):
        """Decide an objection: upheld (the record corrected or revoked, grades re-computed) or rejected."""
        with unit_of_work(db.session, keep_loaded=True):
            return objections.decide(db.session, _actor(), objection_id, upheld=body["decision"] == "upheld",
                                     outcome=body.get("outcome"), reason=body["reason"], by=body["by"],
                                     policy_roots=[current_app.config.get("POLICY_DIR")])


@blp.route("/credit-records/<id:record_id>/repair-eligibility")
class RepairEligibility(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(EligibilityQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, EligibilitySchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, query, record_id):
        """May the record be repaired (with the evidence named), and if not, why and from when."""
        evidence = {k: query[k] for k in EVIDENCE_KEYS if k in query}
        return repair.eligibility(db.session, _actor(), record_id, on=query.get("on") or china_today(),
                                  evidence=evidence)


@blp.route("/credit-records/<id:record_id>/repairs")
class RecordRepairs(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(RepairInSchema, unknown=RAISE)
    @blp.response(201, RepairSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="not eligible (the reasons and the first possible day), or pending")
    def post(self, body, record_id):
        """Apply for credit repair (信用修复) on behalf of the establishment."""
        with unit_of_work(db.session, keep_loaded=True):
            return repair.apply(db.session, _actor(), record_id, on_behalf_of=body["establishment_id"],
                                evidence=body["evidence"], on=china_today(), by=body.get("by"))


@blp.route("/repairs/<id:repair_id>/decision")
class RepairDecision(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(RepairDecisionSchema, unknown=RAISE)
    @blp.response(200, RepairSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="already decided, or no longer eligible")
    def post(self, body, repair_id):
        """Approve (the record is repaired; a numbered confirmation notice is issued) or refuse."""
        with unit_of_work(db.session, keep_loaded=True):
            if body["decision"] == "approved":
                return repair.approve(db.session, _actor(), repair_id, by=body["by"], reason=body.get("reason", ""),
                                      on=china_today())
            return repair.refuse(db.session, _actor(), repair_id, by=body["by"], reason=body.get("reason", ""),
                                 on=china_today())


@blp.route("/repairs/<id:repair_id>/notice.pdf")
class RepairNoticePdf(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, responses={"200": {"description": "信用修复确认书",
                                                          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="not approved")
    def get(self, repair_id):
        """The repair confirmation notice (信用修复确认书) as PDF."""
        notice = repair.notice(db.session, _actor(), repair_id)
        return Response(repair.notice_pdf(notice), mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{notice.number}.pdf"'})


@blp.route("/repairs/<id:repair_id>/notice.html")
class RepairNoticeHtml(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, responses={"200": {"description": "信用修复确认书",
                                                          "content": {"text/html": {"schema": {"type": "string"}}}}})
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="not approved")
    def get(self, repair_id):
        """The repair confirmation notice (信用修复确认书) as HTML."""
        notice = repair.notice(db.session, _actor(), repair_id)
        return Response(repair.notice_html(notice), mimetype="text/html")


@blp.route("/establishments/<id:establishment_id>/credit-lists")
class Memberships(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(OnQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, MembershipsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, query, establishment_id):
        """The red list / blacklist entries in force for the establishment."""
        on = query.get("on") or china_today()
        establishment = records.visible_establishment(db.session, _actor(), establishment_id)
        return {"establishment_id": establishment.id, "on": on,
                "lists": lists.memberships(db.session, establishment.subject_id, on)}


@blp.route("/establishments/<id:establishment_id>/credit-measures")
class Measures(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(OnQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, MeasuresSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, query, establishment_id):
        """The reward and restriction measures that apply, each with the rule that matched
        (grade, list membership, records)."""
        on = query.get("on") or china_today()
        establishment = records.visible_establishment(db.session, _actor(), establishment_id)
        matches = match_measures(db.session, establishment, on=on, roots=[current_app.config.get("POLICY_DIR")])
        return {"establishment_id": establishment.id, "on": on, "measures": [
            {"key": m.measure.key, "type": m.measure.type, "title": m.measure.title, "basis": m.measure.basis,
             "because": m.because} for m in matches]}


@blp.route("/credit-warnings")
class Warnings(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(OnQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, WarningsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self, query):
        """The early-warning list of the device's jurisdiction, each establishment with its reasons."""
        on = query.get("on") or china_today()
        found = warnings.warnings(db.session, _actor(), on=on)
        return {"on": on, "warnings": [
            {"establishment_id": w.establishment.id, "credit_code": w.establishment.credit_code,
             "name": w.establishment.name, "reasons": [{"rule": k, "text": t} for k, t in w.reasons]}
            for w in found]}
