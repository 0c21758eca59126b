"""Portal views: sign in and out, the forced password change, my establishments and records."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, g, redirect, render_template, request, send_file,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user

from portal import isolation
from public_site import protection
from supervision.accounts import service as accounts
from supervision.accounts.rating import my_rating
from supervision.credit import objections, repair
from supervision.credit import report as credit_report
from supervision.credit import records as credit_records
from supervision.credit.models import CreditRecord
from supervision.errors import Conflict, Forbidden, NotFound, ValidationFailed
from supervision.inspections.attachments import AttachmentStore
from supervision.extensions import db
from supervision.credit.calendar import china_today
from supervision.transaction import run

portal = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates",
                   static_folder="static", static_url_path="/static")

STATUS_LABELS = {"effective": "有效", "under_objection": "异议处理中", "corrected": "已更正",
                 "revoked": "已撤销", "repaired": "已修复"}
OBJECTION_LABELS = {"open": "处理中", "upheld": "异议成立", "rejected": "异议不成立"}
REPAIR_LABELS = {"pending": "待审核", "approved": "审核通过", "refused": "不予修复"}
OPEN_ENDPOINTS = {"portal.login", "portal.static"}
PASSWORD_ENDPOINTS = {"portal.change_password", "portal.logout", "portal.static"}


class PortalUser:
    """What Flask-Login holds: the account and the server-side session id it signed in with."""

    is_active = True
    is_anonymous = False

    def __init__(self, account, token: str):
        self.account = account
        self.token = token

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        return self.token

    @property
    def actor(self):
        return accounts.actor_of(self.account)


@portal.before_request
def _guard():
    if request.method == "POST":
        protection.csrf.protect()
    if (current_user.is_authenticated and current_user.account.must_change_password
            and request.endpoint not in PASSWORD_ENDPOINTS):
        return redirect(url_for("portal.change_password"))
    return None


@portal.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@portal.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("portal.home"))
        return render_template("portal/login.html", error=None, login="")
    login_name = (request.form.get("login") or "").strip()[:18]
    password = (request.form.get("password") or "")[:256]
    outcome = run(db.session, lambda: accounts.sign_in(db.session, login_name, password))
    if outcome.account is None:
        return render_template("portal/login.html", error=outcome.error, login=login_name), 401
    account = outcome.account
    token = run(db.session, lambda: accounts.open_session(db.session, db.session.merge(account)))
    session.clear()  # no session fixation: a fresh session (and CSRF token) for the signed-in account
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    login_user(PortalUser(accounts.account_of_session(db.session, token), token))
    return redirect(url_for("portal.home"))


@portal.route("/logout", methods=["POST"])
@login_required
def logout():
    token = current_user.token
    run(db.session, lambda: accounts.close_session(db.session, token))
    logout_user()
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    return redirect(url_for("portal.login"))


@portal.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    forced = current_user.account.must_change_password
    if request.method == "GET":
        return render_template("portal/password.html", forced=forced, errors={})
    form = {key: (request.form.get(key) or "")[:256] for key in ("current", "new", "repeat")}
    account_id = current_user.account.id
    try:
        run(db.session, lambda: accounts.change_password(
            db.session, db.session.get(type(current_user.account), account_id), form["current"], form["new"],
            form["repeat"], keep_token=current_user.token))
    except ValidationFailed as error:
        return render_template("portal/password.html", forced=forced, errors=error.fields), 400
    return redirect(url_for("portal.home"))


@portal.route("/")
@login_required
def home():
    establishments = accounts.establishments_of(db.session, current_user.actor)
    return render_template("portal/home.html", establishments=establishments)


@portal.route("/establishments/<id:establishment_id>/records")
@login_required
def records(establishment_id: int):
    actor = current_user.actor
    establishment = _own(actor, establishment_id, "read_records")
    views = credit_records.subject_records(db.session, actor, establishment.subject_id, on=china_today())
    return render_template("portal/records.html", establishment=establishment, views=views,
                           status_labels=STATUS_LABELS,
                           objections=accounts.objections_of(db.session, actor, establishment_id),
                           objection_labels=OBJECTION_LABELS)


@portal.route("/establishments/<id:establishment_id>/rating")
@login_required
def rating(establishment_id: int):
    actor = current_user.actor
    _own(actor, establishment_id, "read_rating")
    mine = my_rating(db.session, actor, establishment_id)
    return render_template("portal/rating.html", mine=mine)


@portal.route("/records/<id:record_id>/objection", methods=["GET", "POST"])
@login_required
def objection_form(record_id: int):
    actor = current_user.actor
    record, establishment = _guarded(lambda: accounts.own_record(db.session, actor, record_id), actor,
                                     "object_to_record", "credit_records", record_id)
    if request.method == "GET":
        return render_template("portal/objection_form.html", record=record, errors={}, reason="")
    reason = (request.form.get("reason") or "")[:4000]
    files = [objections.EvidenceFile(part.filename or "evidence", part.read())
             for part in request.files.getlist("evidence") if part.filename]
    try:
        objection = run(db.session, lambda: objections.raise_objection(
            db.session, actor, record_id, on_behalf_of=establishment.id, reason=reason, evidence=files,
            store=AttachmentStore(current_app.config["ATTACHMENT_DIR"]), on=china_today()), keep_loaded=True)
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        record = db.session.get(type(record), record_id)
        errors = error.fields or {"reason": [error.message]}
        return render_template("portal/objection_form.html", record=record, errors=errors, reason=reason), 400
    return redirect(url_for("portal.objection", objection_id=objection.id))


@portal.route("/objections/<id:objection_id>")
@login_required
def objection(objection_id: int):
    actor = current_user.actor
    found = _guarded(lambda: accounts.own_objection(db.session, actor, objection_id), actor, "read_objection",
                     "objections", objection_id)
    record = db.session.get(CreditRecord, found.record_id)
    return render_template("portal/objection.html", objection=found, record=record,
                           evidence=objections.evidence_of(db.session, found.id))


@portal.route("/records/<id:record_id>/repair", methods=["GET", "POST"])
@login_required
def repair_form(record_id: int):
    actor = current_user.actor
    record, establishment = _guarded(lambda: accounts.own_record(db.session, actor, record_id), actor,
                                     "repair_record", "credit_records", record_id)
    evidence = {}
    errors: dict = {}
    if request.method == "POST":
        evidence = {key: (request.form.get(key) or "")[:2000] for key in repair.EVIDENCE}
        try:
            application = run(db.session, lambda: repair.apply(
                db.session, actor, record_id, on_behalf_of=establishment.id, evidence=evidence, on=china_today()),
                keep_loaded=True)
            return redirect(url_for("portal.repair_progress", repair_id=application.id))
        except (ValidationFailed, Conflict) as error:
            db.session.rollback()
            record = db.session.get(CreditRecord, record_id)
            errors = {"form": [error.message]}
    answer = repair.eligibility(db.session, actor, record_id, on=china_today())
    # Without the materials yet: what the time and status conditions say, and what must be provided.
    conditions = [r for r in answer.reasons if not r.startswith("缺少材料")]
    required = {key: repair.EVIDENCE[key] for key in answer.missing_evidence}
    return render_template("portal/repair_form.html", record=record, conditions=conditions,
                           eligible_from=answer.eligible_from, required=required, evidence=evidence, errors=errors,
                           applications=accounts.repairs_of_record(db.session, actor, record_id),
                           repair_labels=REPAIR_LABELS), (400 if errors else 200)


@portal.route("/repairs/<id:repair_id>")
@login_required
def repair_progress(repair_id: int):
    actor = current_user.actor
    application = _guarded(lambda: accounts.own_repair(db.session, actor, repair_id), actor, "read_repair",
                           "repair_applications", repair_id)
    return render_template("portal/repair.html", application=application,
                           record=db.session.get(CreditRecord, application.record_id),
                           evidence_labels=repair.EVIDENCE, repair_labels=REPAIR_LABELS)


@portal.route("/repairs/<id:repair_id>/notice.pdf")
@login_required
def repair_notice(repair_id: int):
    actor = current_user.actor
    _guarded(lambda: accounts.own_repair(db.session, actor, repair_id), actor, "download_repair_notice",
             "repair_applications", repair_id)
    notice = repair.notice(db.session, actor, repair_id)
    return Response(repair.notice_pdf(notice), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{notice.number}.pdf"'})


@portal.route("/establishments/<id:establishment_id>/report.pdf")
@login_required
def credit_report_pdf(establishment_id: int):
    actor = current_user.actor
    establishment = _own(actor, establishment_id, "download_credit_report")
    report, pdf = run(db.session, lambda: credit_report.issue(db.session, actor, establishment, on=china_today()),
                      keep_loaded=True)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{report.number}.pdf"'})


@portal.route("/objections/<id:objection_id>/evidence/<id:evidence_id>")
@login_required
def objection_evidence(objection_id: int, evidence_id: int):
    """An evidence file, served only to the establishment that filed it."""
    actor = current_user.actor
    _guarded(lambda: accounts.own_objection(db.session, actor, objection_id), actor, "download_evidence",
             "objections", objection_id)
    try:
        found, path = objections.evidence_file(db.session, actor, objection_id, evidence_id,
                                               store=AttachmentStore(current_app.config["ATTACHMENT_DIR"]))
    except NotFound:
        abort(404)
    return send_file(path, mimetype=found.media_type, as_attachment=True, download_name=found.filename)


def _own(actor, establishment_id: int, what: str):
    """The establishment if it is the caller's own; otherwise the attempt is audited and refused."""
    return _guarded(lambda: accounts.own_establishment(db.session, actor, establishment_id), actor, what,
                    "establishments", establishment_id)


def _guarded(operation, actor, what: str, entity_type: str, entity_id: int):
    """`operation()`, or — when it refuses someone else's data — the attempt audited and a 403 page."""
    try:
        return isolation.guarded(operation, actor, what, entity_type, entity_id)
    except Forbidden:
        abort(403)
