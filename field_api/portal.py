"""The establishments' own JSON API (`/api/v1/portal`): the portal's pages as operations, for
an establishment's own software. Bearer tokens from `POST /portal/tokens`.

Every operation on an establishment, record, objection or repair first checks that it is the
account's own (`supervision.accounts`); a refusal is audited (`portal.refused`) and answered 403,
exactly as on the pages (portal/isolation.py).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from field_api.evidence_files import EVIDENCE_BODY, FILE_RESPONSE, download, require_multipart, store, uploaded
from field_api.portal_auth import PORTAL_SECURITY, account_required, current_account_actor
from field_api.schemas.common import ErrorSchema
from field_api.schemas.credit_lifecycle import (
    EligibilitySchema,
    EvidenceListSchema,
    ObjectionSchema,
    RepairSchema,
)
from field_api.schemas.portal import (
    PortalDoneSchema,
    PortalEstablishmentsSchema,
    PortalObjectionInSchema,
    PortalObjectionsSchema,
    PortalPasswordSchema,
    PortalRatingSchema,
    PortalRecordsSchema,
    PortalRepairInSchema,
    PortalSignInSchema,
    PortalTokenSchema,
)
from portal.isolation import guarded, own_establishment
from supervision.accounts import service as accounts
from supervision.accounts.rating import my_rating
from supervision.credit import objections, repair
from supervision.credit import records as credit_records
from supervision.credit import report as credit_report
from supervision.credit.calendar import china_today
from supervision.errors import Unauthenticated
from supervision.extensions import db
from supervision.modelbase import utcnow
from supervision.transaction import run, unit_of_work

blp = Blueprint("portal_api", __name__, url_prefix="/api/v1/portal",
                description="Establishments' self-service: my rating, records, objections, repair, reports")

PDF_RESPONSE = {"200": {"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def _own_record(actor, record_id: int, what: str):
    return guarded(lambda: accounts.own_record(db.session, actor, record_id), actor, what, "credit_records", record_id)


def _own_objection(actor, objection_id: int, what: str):
    return guarded(lambda: accounts.own_objection(db.session, actor, objection_id), actor, what, "objections",
                   objection_id)


def _own_repair(actor, repair_id: int, what: str):
    return guarded(lambda: accounts.own_repair(db.session, actor, repair_id), actor, what, "repair_applications",
                   repair_id)


# --- tokens and password ------------------------------------------------------------------------

@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(PortalSignInSchema, unknown=RAISE)
    @blp.response(201, PortalTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="wrong sign-in name or password, or the account is locked")
    def post(self, body):
        """Sign in: a bearer token for this API. Failures count towards the account's lock, as
        on the pages; a new account must replace its initial password first."""
        outcome = run(db.session, lambda: accounts.sign_in(db.session, body["login"], body["password"]))
        if outcome.account is None:
            raise Unauthenticated(outcome.error, code="sign_in_refused")
        ttl = timedelta(hours=current_app.config["PORTAL_TOKEN_TTL_HOURS"])
        account_id = outcome.account.id
        token = run(db.session, lambda: accounts.open_session(
            db.session, db.session.get(type(outcome.account), account_id), kind="api", ttl=ttl))
        account = accounts.account_of_session(db.session, token, kind="api")
        return {"token": token, "expires_at": utcnow() + ttl, "must_change_password": account.must_change_password}


@blp.route("/tokens/current")
class CurrentToken(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalDoneSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def delete(self):
        """Sign out: the token ends on the server at once."""
        with unit_of_work(db.session):
            accounts.close_session(db.session, g.portal_token, kind="api")
        return {"done": True, "message": "已退出登录"}


@blp.route("/password")
class Password(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.arguments(PortalPasswordSchema, unknown=RAISE)
    @blp.response(200, PortalDoneSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="wrong current password, too short, or not repeated")
    def post(self, body):
        """Change the password (the initial one first of all). Every other session and token of
        the account ends; this token goes on."""
        with unit_of_work(db.session):
            accounts.change_password(db.session, g.portal_account, body["current"], body["new"], body["repeat"],
                                     keep_token=g.portal_token)
        return {"done": True, "message": "密码已修改，其他登录已失效"}


# --- my establishments, rating, records -----------------------------------------------------------

@blp.route("/establishments")
class MyEstablishments(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalEstablishmentsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="the initial password is not replaced yet")
    def get(self):
        """The establishments this account acts for."""
        return {"establishments": accounts.establishments_of(db.session, current_account_actor())}


@blp.route("/establishments/<id:establishment_id>/rating")
class MyRating(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalRatingSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """My rating: grade and score, the thresholds around it, the grades by year, and every
        record that counted with its points, rule, and when it stops counting or may be repaired."""
        actor = current_account_actor()
        own_establishment(actor, establishment_id, "read_rating")
        mine = my_rating(db.session, actor, establishment_id)
        e = mine.explanation
        if e is None:
            return {"establishment_id": establishment_id, "graded": False, "thresholds": [], "history": [],
                    "counting_records": []}
        return {
            "establishment_id": establishment_id, "graded": True, "grade": e.grade, "score": e.score, "base": e.base,
            "year": e.year, "policy_version": e.policy_version, "hard_rule": e.hard_rule_title,
            "thresholds": mine.thresholds, "next_better": mine.next_better,
            "points_missing": (mine.next_better.lowest_score - e.score) if mine.next_better else None,
            "history": [{"year": y, "grade": g_, "score": s} for y, g_, s in mine.history],
            "counting_records": mine.changes,
        }


@blp.route("/establishments/<id:establishment_id>/records")
class MyRecords(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalRecordsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """Every credit record with its status (effective, under objection, corrected, revoked,
        repaired) and publicity (public until when)."""
        actor = current_account_actor()
        establishment = own_establishment(actor, establishment_id, "read_records")
        on = china_today()
        return {"establishment_id": establishment_id, "on": on,
                "records": credit_records.subject_records(db.session, actor, establishment.subject_id, on=on)}


@blp.route("/establishments/<id:establishment_id>/objections")
class MyObjections(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, PortalObjectionsSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """The establishment's objections, newest first."""
        actor = current_account_actor()
        own_establishment(actor, establishment_id, "read_objections")
        return {"objections": accounts.objections_of(db.session, actor, establishment_id)}


@blp.route("/establishments/<id:establishment_id>/report.pdf")
class MyCreditReport(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY, responses=PDF_RESPONSE)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of the account's establishments (audited)")
    def get(self, establishment_id):
        """My credit report (信用报告), numbered and verifiable, as PDF."""
        actor = current_account_actor()
        establishment = own_establishment(actor, establishment_id, "download_credit_report")
        report, pdf = run(db.session, lambda: credit_report.issue(db.session, actor, establishment, on=china_today()),
                          keep_loaded=True)
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{report.number}.pdf"'})


# --- objections ---------------------------------------------------------------------------------

@blp.route("/credit-records/<id:record_id>/objections")
class RecordObjection(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.arguments(PortalObjectionInSchema, unknown=RAISE)
    @blp.response(201, ObjectionSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not a record of the account's establishments (audited)")
    @blp.alt_response(409, schema=ErrorSchema, description="an objection is already open, or the record cannot be objected to")
    def post(self, body, record_id):
        """Object (异议) to one of my records: it is shown as under review until decided; the
        answer carries the working-day deadline. Evidence files follow one per request."""
        actor = current_account_actor()
        _, establishment = _own_record(actor, record_id, "object_to_record")
        with unit_of_work(db.session, keep_loaded=True):
            return objections.raise_objection(db.session, actor, record_id, on_behalf_of=establishment.id,
                                              reason=body["reason"], on=china_today())


@blp.route("/objections/<id:objection_id>")
class MyObjection(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, ObjectionSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's objection (audited)")
    def get(self, objection_id):
        """An objection: its deadline, status and decision."""
        return _own_objection(current_account_actor(), objection_id, "read_objection")


@blp.route("/objections/<id:objection_id>/evidence")
class MyObjectionEvidence(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, EvidenceListSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's objection (audited)")
    def get(self, objection_id):
        """The evidence files of an objection."""
        _own_objection(current_account_actor(), objection_id, "read_objection")
        return {"objection_id": objection_id, "evidence": objections.evidence_of(db.session, objection_id)}

    @blp.doc(security=PORTAL_SECURITY, requestBody=EVIDENCE_BODY)
    @blp.response(201, EvidenceListSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's objection (audited)")
    @blp.alt_response(409, schema=ErrorSchema, description="the objection is decided")
    @blp.alt_response(413, schema=ErrorSchema, description="the file is larger than its limit")
    @blp.alt_response(422, schema=ErrorSchema, description="not a PDF, JPEG or PNG; nothing stored")
    def post(self, objection_id):
        """Attach an evidence file (multipart part `file`) to my open objection."""
        actor = current_account_actor()
        _own_objection(actor, objection_id, "add_evidence")
        require_multipart("上传证据材料")
        files = uploaded("file")
        with unit_of_work(db.session, keep_loaded=True):
            held = objections.add_evidence(db.session, actor, objection_id, files, store=store())
            return {"objection_id": objection_id, "evidence": held}


@blp.route("/objections/<id:objection_id>/evidence/<id:evidence_id>")
class MyObjectionEvidenceFile(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY, responses=FILE_RESPONSE)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's objection (audited)")
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, objection_id, evidence_id):
        """Download one of my objection's evidence files."""
        actor = current_account_actor()
        _own_objection(actor, objection_id, "download_evidence")
        return download(*objections.evidence_file(db.session, actor, objection_id, evidence_id, store=store()))


# --- credit repair ------------------------------------------------------------------------------

@blp.route("/credit-records/<id:record_id>/repair-eligibility")
class MyRepairEligibility(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, EligibilitySchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not a record of the account's establishments (audited)")
    def get(self, record_id):
        """May this record be repaired now; if not, why and from when; which evidence the rules ask for."""
        actor = current_account_actor()
        _own_record(actor, record_id, "repair_record")
        return repair.eligibility(db.session, actor, record_id, on=china_today())


@blp.route("/credit-records/<id:record_id>/repairs")
class MyRecordRepairs(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, RepairSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not a record of the account's establishments (audited)")
    def get(self, record_id):
        """The record's repair applications, newest first."""
        actor = current_account_actor()
        _own_record(actor, record_id, "read_repairs")
        return accounts.repairs_of_record(db.session, actor, record_id)

    @blp.doc(security=PORTAL_SECURITY)
    @blp.arguments(PortalRepairInSchema, unknown=RAISE)
    @blp.response(201, RepairSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not a record of the account's establishments (audited)")
    @blp.alt_response(409, schema=ErrorSchema, description="not eligible (the reasons and the first possible day), or pending")
    def post(self, body, record_id):
        """Apply for credit repair (信用修复) with the evidence the rules ask for."""
        actor = current_account_actor()
        _, establishment = _own_record(actor, record_id, "repair_record")
        with unit_of_work(db.session, keep_loaded=True):
            return repair.apply(db.session, actor, record_id, on_behalf_of=establishment.id,
                                evidence=body["evidence"], on=china_today())


@blp.route("/repairs/<id:repair_id>")
class MyRepair(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY)
    @blp.response(200, RepairSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's application (audited)")
    def get(self, repair_id):
        """A repair application's progress, and its notice number once approved."""
        return _own_repair(current_account_actor(), repair_id, "read_repair")


@blp.route("/repairs/<id:repair_id>/notice.pdf")
class MyRepairNotice(MethodView):
    decorators = [account_required]

    @blp.doc(security=PORTAL_SECURITY, responses=PDF_RESPONSE)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="another establishment's application (audited)")
    @blp.alt_response(409, schema=ErrorSchema, description="not approved")
    def get(self, repair_id):
        """The numbered confirmation notice (信用修复确认书) of an approved repair, as PDF."""
        actor = current_account_actor()
        _own_repair(actor, repair_id, "download_repair_notice")
        notice = repair.notice(db.session, actor, repair_id)
        return Response(repair.notice_pdf(notice), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{notice.number}.pdf"'})
