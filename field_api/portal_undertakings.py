"""The establishments' own undertakings in the portal JSON API: self-reported information
(自愿申报), the commitment letter (信用承诺书) and self-inspection (自查自纠). Same blueprint,
tokens and isolation rule as field_api/portal.py."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import RAISE
from marshmallow import ValidationError as MarshmallowError

from field_api.evidence_files import FILE_RESPONSE, download, require_multipart, store, uploaded
from field_api.portal import blp
from field_api.portal_auth import PORTAL_SECURITY, account_required, current_account_actor
from field_api.schemas.common import ErrorSchema
from field_api.schemas.portal import (
    PortalChecklistsSchema,
    PortalCommitmentSchema,
    PortalSelfInspectionInSchema,
    PortalSelfInspectionsSchema,
    PortalSelfReportInSchema,
    PortalSelfReportSchema,
    PortalSelfReportsSchema,
    PortalSignInLetterSchema,
)
from field_api.schemas.sync import SyncCommitmentSchema, SyncSelfInspectionSchema
from portal.isolation import guarded, own_establishment
from supervision.checklists import service as checklists
from supervision.commitments import service as commitments
from supervision.credit.calendar import china_today
from supervision.errors import ValidationFailed
from supervision.extensions import db
from supervision.self_inspections import service as self_inspections
from supervision.self_reports import service as self_reports
from supervision.transaction import unit_of_work


# --- self-reported information (自愿申报) -----------------------------------------------------------

SELF_REPORT_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["kind", "title", "issuer", "occurred_on", "pledged_by", "pledge", "evidence"],
    "properties": {
        "kind": {"type": "string", "enum": ["honour", "certification", "public_welfare"]},
        "title": {"type": "string", "maxLength": 200}, "issuer": {"type": "string", "maxLength": 200},
        "occurred_on": {"type": "string", "format": "date"}, "description": {"type": "string", "maxLength": 2000},
        "pledged_by": {"type": "string", "maxLength": 64}, "pledge": {"type": "boolean"},
        "evidence": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "PDF, JPEG or PNG, at most 10 MB each, 1 to 10 files"}}}}}}


def _report_out(report) -> dict:
    return {**report.audit_snapshot(), "evidence": self_reports.evidence_of(db.session, report.id)}


def _own_report(actor, report_id: int, what: str):
    return guarded(lambda: self_reports.get(db.session, actor, report_id), actor, what, "self_reports", report_id)


@blp.route("/establishments/<id:establishment_id>/self-reports")
class MySelfReports(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalSelfReportsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """My self-reported information, newest first, with its verification status."""
        actor = current_account_actor()
        own_establishment(actor, establishment_id, "read_self_reports")
        return {"self_reports": [_report_out(r) for r in self_reports.reports_of(db.session, actor, establishment_id)]}

    @blp.doc(security=PORTAL_SECURITY, requestBody=SELF_REPORT_BODY)
    @blp.response(201, PortalSelfReportSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    @blp.alt_response(413, schema=ErrorSchema, description="the files are larger than their limit")
    @blp.alt_response(422, schema=ErrorSchema, description="a field, the pledge or the evidence is missing or wrong; nothing stored")
    def post(self, establishment_id):
        """Report an honour, a certification or public-welfare activity (multipart: the fields
        and one or more `evidence` files), with the truthfulness pledge. It counts as credit
        information only after a supervisor verifies it."""
        actor = current_account_actor()
        own_establishment(actor, establishment_id, "submit_self_report")
        require_multipart("提交申报及证明材料")
        try:
            body = PortalSelfReportInSchema().load(request.form.to_dict())
        except MarshmallowError as error:
            raise ValidationFailed("提交的数据有误", fields=error.normalized_messages()) from None
        files = uploaded("evidence")
        with unit_of_work(db.session, keep_loaded=True):
            report = self_reports.submit(
                db.session, actor, establishment_id, kind=body["kind"], title=body["title"], issuer=body["issuer"],
                occurred_on=body["occurred_on"], description=body.get("description", ""),
                pledged_by=body["pledged_by"], pledge=body["pledge"], evidence=files, store=store(),
                today=china_today())
            return _report_out(report)


@blp.route("/self-reports/<id:report_id>")
class MySelfReport(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalSelfReportSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's report (audited)")
    def get(self, report_id):
        """One report: its pledge, evidence files, status and the supervisor's decision."""
        return _report_out(_own_report(current_account_actor(), report_id, "read_self_report"))


@blp.route("/self-reports/<id:report_id>/evidence/<id:evidence_id>")
class MySelfReportEvidenceFile(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY, responses=FILE_RESPONSE)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's report (audited)")
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, report_id, evidence_id):
        """Download one evidence file of my report."""
        actor = current_account_actor()
        _own_report(actor, report_id, "download_self_report_evidence")
        return download(*self_reports.evidence_file(db.session, actor, report_id, evidence_id, store=store()))


# --- the commitment letter (信用承诺书) ----------------------------------------------------------------

@blp.route("/establishments/<id:establishment_id>/commitment")
class MyCommitment(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalCommitmentSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """The letter in force (with the hash to sign it by) and the latest signature."""
        actor = current_account_actor()
        establishment = own_establishment(actor, establishment_id, "read_commitment")
        shown = commitments.letter_for(db.session, establishment)
        signed = commitments.current(db.session, establishment_id)
        return {"letter": shown, "signed": signed, "needs_signature": commitments.needs_signature(signed, shown)}

    @blp.doc(security=PORTAL_SECURITY)
    @blp.arguments(PortalSignInLetterSchema, unknown=RAISE)
    @blp.response(201, SyncCommitmentSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    @blp.alt_response(409, schema=ErrorSchema, description="the text changed since it was read, or this version is signed")
    @blp.alt_response(422, schema=ErrorSchema, description="not the legal representative's name, or no pledge")
    def post(self, body, establishment_id):
        """The legal representative signs the letter in force; the name, time and the hash of
        the exact text are kept and can never be changed."""
        actor = current_account_actor()
        own_establishment(actor, establishment_id, "sign_commitment")
        with unit_of_work(db.session, keep_loaded=True):
            return commitments.sign(db.session, actor, establishment_id, signer_name=body["signer_name"],
                                    pledge=body["pledge"], text_sha256=body["text_sha256"])


# --- self-inspection (自查自纠) -----------------------------------------------------------------------

@blp.route("/establishments/<id:establishment_id>/checklists")
class MyChecklists(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalChecklistsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """The checklist versions inspectors use for this establishment's category: what a
        self-inspection answers."""
        establishment = own_establishment(current_account_actor(), establishment_id, "read_self_inspections")
        return {"checklist_versions": checklists.versions_for_category(db.session, establishment.category_code)}


@blp.route("/establishments/<id:establishment_id>/self-inspections")
class MySelfInspections(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalSelfInspectionsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """My self-inspections, newest first."""
        actor = current_account_actor()
        own_establishment(actor, establishment_id, "read_self_inspections")
        return {"self_inspections": self_inspections.history(db.session, actor, establishment_id)}

    @blp.doc(security=PORTAL_SECURITY)
    @blp.arguments(PortalSelfInspectionInSchema, unknown=RAISE)
    @blp.response(201, SyncSelfInspectionSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    @blp.alt_response(422, schema=ErrorSchema, description="every problem keyed by field; nothing stored")
    def post(self, body, establishment_id):
        """File a self-inspection: answers to the category's checklist version and, for each
        non-compliant item, the correction and when it was completed. Inspectors see the latest
        in their terminal sync."""
        actor = current_account_actor()
        own_establishment(actor, establishment_id, "submit_self_inspection")
        corrections = {code: self_inspections.Correction(c["measure"], c.get("completed_on"))
                       for code, c in body.get("corrections", {}).items()}
        with unit_of_work(db.session, keep_loaded=True):
            return self_inspections.submit(db.session, actor, establishment_id,
                                           checklist_version_id=body["checklist_version_id"],
                                           answers=body["answers"], corrections=corrections)
