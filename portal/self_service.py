"""Portal pages for the establishment's own undertakings: signing the credit commitment letter
(信用承诺书) and filing self-inspections (自查自纠). Routes on the portal blueprint; the rules
live in supervision.commitments and supervision.self_inspections, which check the caller
themselves — `_own` here only turns a refusal into an audited 403 before anything is shown."""
from __future__ import annotations

from datetime import date

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.views import _own, portal
from supervision.checklists import service as checklists
from supervision.checklists.models import SEVERITY_NAMES, ChecklistVersion
from supervision.commitments import service as commitments
from supervision.errors import Conflict, ValidationFailed
from supervision.extensions import db
from supervision.self_inspections import service as self_inspections
from supervision.timeutil import with_offset
from supervision.transaction import run

RESULT_LABELS = {"pass": "合格", "fail": "不合格", "na": "不适用"}


@portal.app_template_filter("china_time")
def china_time(utc_naive) -> str:
    """A stored instant (naive UTC) as Beijing time, to the minute: what a signatory reads."""
    return with_offset(utc_naive, 480).strftime("%Y-%m-%d %H:%M") if utc_naive else ""


@portal.route("/establishments/<id:establishment_id>/commitment", methods=["GET", "POST"])
@login_required
def commitment(establishment_id: int):
    actor = current_user.actor
    establishment = _own(actor, establishment_id, "sign_commitment" if request.method == "POST" else "read_commitment")
    errors: dict = {}
    signer_name = ""
    if request.method == "POST":
        signer_name = (request.form.get("signer_name") or "")[:64]
        try:
            run(db.session, lambda: commitments.sign(
                db.session, actor, establishment_id, signer_name=signer_name,
                pledge=request.form.get("pledge") == "yes", text_sha256=(request.form.get("text_sha256") or "")[:64]))
            return redirect(url_for("portal.commitment", establishment_id=establishment_id))
        except (ValidationFailed, Conflict) as error:
            db.session.rollback()
            establishment = _own(actor, establishment_id, "sign_commitment")
            errors = error.fields or {"form": [error.message]}
    shown = commitments.letter_for(db.session, establishment)
    signed = commitments.current(db.session, establishment_id)
    return render_template("portal/commitment.html", establishment=establishment, letter=shown, signed=signed,
                           can_sign=commitments.needs_signature(signed, shown), errors=errors,
                           signer_name=signer_name), (400 if errors else 200)


@portal.route("/establishments/<id:establishment_id>/self-inspections")
@login_required
def self_inspection_list(establishment_id: int):
    actor = current_user.actor
    establishment = _own(actor, establishment_id, "read_self_inspections")
    found = self_inspections.history(db.session, actor, establishment_id)
    versions = {v.id: v for v in db.session.execute(select(ChecklistVersion).options(
        joinedload(ChecklistVersion.template)).where(
        ChecklistVersion.id.in_({s.checklist_version_id for s in found}))).scalars()} if found else {}
    return render_template("portal/self_inspections.html", establishment=establishment, inspections=found,
                           versions=versions, result_labels=RESULT_LABELS)


@portal.route("/establishments/<id:establishment_id>/self-inspections/new", methods=["GET", "POST"])
@login_required
def self_inspection_form(establishment_id: int):
    actor = current_user.actor
    establishment = _own(actor, establishment_id,
                         "submit_self_inspection" if request.method == "POST" else "read_self_inspections")
    versions = checklists.versions_for_category(db.session, establishment.category_code)
    if not versions:
        return render_template("portal/self_inspection_form.html", establishment=establishment, versions=[],
                               version=None, form={}, errors={}, severity_names=SEVERITY_NAMES)
    chosen = request.values.get("checklist_version_id", type=int)
    version = next((v for v in versions if v.id == chosen), versions[0])
    if request.method == "GET":
        return render_template("portal/self_inspection_form.html", establishment=establishment, versions=versions,
                               version=version, form={}, errors={}, severity_names=SEVERITY_NAMES)
    form = {key: value[:2000] for key, value in request.form.items() if key != "csrf_token"}
    answers, corrections, errors = _parse(form, version)
    if not errors:
        try:
            run(db.session, lambda: self_inspections.submit(
                db.session, actor, establishment_id, checklist_version_id=chosen or 0, answers=answers,
                corrections=corrections))
            return redirect(url_for("portal.self_inspection_list", establishment_id=establishment_id))
        except ValidationFailed as error:
            db.session.rollback()
            errors = _by_item(error.fields, answers)
    establishment = _own(actor, establishment_id, "submit_self_inspection")
    versions = checklists.versions_for_category(db.session, establishment.category_code)
    version = next((v for v in versions if v.id == chosen), versions[0])
    return render_template("portal/self_inspection_form.html", establishment=establishment, versions=versions,
                           version=version, form=form, errors=errors, severity_names=SEVERITY_NAMES), 400


def _parse(form: dict, version: ChecklistVersion):
    """The form's fields as the service's input: an answer per filled item, a correction per
    item with a measure. Only what cannot be parsed at all (a number, a date) is refused here,
    next to its field; every rule is the service's."""
    answers, corrections, errors = [], {}, {}
    for item in version.items:
        code = item.code
        result = form.get(f"result-{code}") or None
        if result not in (None, "pass", "fail", "na"):
            errors.setdefault(f"result-{code}", []).append("请选择合格、不合格或不适用")
            result = None
        number = None
        raw = (form.get(f"number-{code}") or "").strip()
        if raw:
            try:
                number = float(raw)
                if number != number or number in (float("inf"), float("-inf")):
                    raise ValueError
            except ValueError:
                errors.setdefault(f"number-{code}", []).append("请填写数字")
        text = (form.get(f"text-{code}") or "").strip() or None
        if result is not None or number is not None or text is not None:
            answers.append({"item_code": code, "result": result, "number": number, "text": text})
        measure = (form.get(f"measure-{code}") or "").strip()
        state = form.get(f"state-{code}") or "in_progress"
        completed_on = None
        if measure and state == "done":
            try:
                completed_on = date.fromisoformat((form.get(f"completed-{code}") or "").strip())
            except ValueError:
                errors.setdefault(f"completed-{code}", []).append("请填写整改完成日期，尚未完成请选择“整改中”")
        if measure:
            corrections[code] = self_inspections.Correction(measure, completed_on)
    return answers, corrections, errors


def _by_item(fields: dict, answers: list[dict]) -> dict:
    """The service's field paths (answers.2.number, corrections.T01.measure) as the form's field
    names, so each message shows next to its input."""
    errors: dict = {}
    for path, messages in fields.items():
        parts = path.split(".")
        if parts[0] == "answers" and len(parts) == 3:
            key = f"{parts[2]}-{answers[int(parts[1])]['item_code']}"
        elif parts[0] == "corrections" and len(parts) == 3:
            key = f"{'completed' if parts[2] == 'completed_on' else 'measure'}-{parts[1]}"
        elif parts[0] == "corrections" and len(parts) == 2:
            key = f"measure-{parts[1]}"
        else:
            key = "form"
        errors.setdefault(key, []).extend(messages)
    return errors

