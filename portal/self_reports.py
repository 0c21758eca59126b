"""Portal pages of self-reported information (自愿申报): my reports, a new one with evidence and
the truthfulness pledge, one report with its evidence files and the supervisor's decision."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from portal.views import _guarded, _own, portal
from supervision.credit.calendar import china_today
from supervision.documents.evidence import EvidenceFile
from supervision.errors import NotFound, ValidationFailed
from supervision.extensions import db
from supervision.inspections.attachments import AttachmentStore
from supervision.self_reports import service as self_reports
from supervision.transaction import run

FIELDS = ("kind", "title", "issuer", "occurred_on", "description", "pledged_by")


def _labels() -> dict:
    return {"kinds": self_reports.KIND_NAMES, "statuses": self_reports.STATUS_NAMES}


@portal.route("/establishments/<id:establishment_id>/self-reports")
@login_required
def self_reports_list(establishment_id: int):
    actor = current_user.actor
    establishment = _own(actor, establishment_id, "read_self_reports")
    return render_template("portal/self_reports.html", establishment=establishment,
                           reports=self_reports.reports_of(db.session, actor, establishment_id), **_labels())


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@portal.route("/establishments/<id:establishment_id>/self-reports/new", methods=["GET", "POST"])
@login_required
def self_report_form(establishment_id: int):
    actor = current_user.actor
    establishment = _own(actor, establishment_id, "submit_self_report")
    form = {key: (request.form.get(key) or "")[:2000] for key in FIELDS}
    if request.method == "GET":
        form["pledged_by"] = establishment.legal_representative
        return render_template("portal/self_report_form.html", establishment=establishment, form=form, errors={},
                               pledge_text=self_reports.PLEDGE_TEXT, **_labels())
    files = [EvidenceFile(part.filename or "evidence", part.read())
             for part in request.files.getlist("evidence") if part.filename]
    occurred_on = _day(form["occurred_on"])
    try:
        report = run(db.session, lambda: self_reports.submit(
            db.session, actor, establishment_id, kind=form["kind"], title=form["title"], issuer=form["issuer"],
            occurred_on=occurred_on, description=form["description"], pledged_by=form["pledged_by"],
            pledge=request.form.get("pledge") == "yes", evidence=files,
            store=AttachmentStore(current_app.config["ATTACHMENT_DIR"]), today=china_today()), keep_loaded=True)
    except ValidationFailed as error:
        db.session.rollback()
        errors = dict(error.fields)
        if form["occurred_on"] and occurred_on is None:
            errors["occurred_on"] = ["日期格式应为 YYYY-MM-DD"]
        establishment = db.session.get(type(establishment), establishment_id)
        return render_template("portal/self_report_form.html", establishment=establishment, form=form,
                               errors=errors, pledge_text=self_reports.PLEDGE_TEXT, **_labels()), 400
    return redirect(url_for("portal.self_report", report_id=report.id))


@portal.route("/self-reports/<id:report_id>")
@login_required
def self_report(report_id: int):
    actor = current_user.actor
    report = _guarded(lambda: self_reports.get(db.session, actor, report_id), actor, "read_self_report",
                      "self_reports", report_id)
    return render_template("portal/self_report.html", report=report,
                           evidence=self_reports.evidence_of(db.session, report.id), **_labels())


@portal.route("/self-reports/<id:report_id>/evidence/<id:evidence_id>")
@login_required
def self_report_evidence(report_id: int, evidence_id: int):
    """An evidence file, served only to the establishment that reported it (and supervisors)."""
    actor = current_user.actor
    try:
        found, path = _guarded(lambda: self_reports.evidence_file(
            db.session, actor, report_id, evidence_id, store=AttachmentStore(current_app.config["ATTACHMENT_DIR"])),
            actor, "download_self_report_evidence", "self_reports", report_id)
    except NotFound:
        abort(404)
    return send_file(path, mimetype=found.media_type, as_attachment=True, download_name=found.filename)
