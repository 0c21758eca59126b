from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from public_site import protection
from supervision.complaints import service as complaints
from supervision.complaints.models import COMPLAINT_CATEGORIES, COMPLAINT_STATUSES
from supervision.credit.calendar import china_today
from supervision.extensions import db
from supervision.publication import page_store, plate_page, results
from supervision.publication import search as searching
from supervision.registry import plates
from supervision.registry.models import STATUS_NAMES
from supervision.transaction import run, unit_of_work

public_site = Blueprint("public_site", __name__, template_folder="templates", static_folder="static",
                        static_url_path="/static/public")


@public_site.before_request
def _check_csrf():
    if request.method == "POST":
        protection.csrf.protect()


@public_site.route("/")
def index():
    return render_template("index.html")


# --- the plate page -----------------------------------------------------------------------------

@public_site.route("/p/<token>")
@public_site.route("/P/<token>")
def plate(token: str):
    """What a citizen sees after scanning an establishment's plate."""
    normalised = plates.normalise_token(token)
    # One statement for a current (or closed) plate: the establishment and its page's version.
    current = plate_page.current_plate(db.session, normalised) if plates.could_be_token(normalised) else None
    if current is None:
        resolution = plates.resolve_token(db.session, token)
        if resolution.state == plates.UNKNOWN:
            return render_template("plate_unknown.html"), 404
        if resolution.state == plates.REPLACED:
            return render_template("plate_replaced.html", r=resolution)
        # Created between the two statements: read it again.
        current = plate_page.current_plate(db.session, normalised)
        if current is None:
            return render_template("plate_unknown.html"), 404
    today = china_today()
    key = (current.establishment_id, normalised, today.isoformat(), current.version)
    etag = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    if etag in request.if_none_match:
        return _plate_response(Response(status=304), etag)
    # Rendered here only when the fast path had no current stored page: then stored for it.
    page = plate_page.load_page(db.session, current.establishment_id, today=today,
                                policy_roots=[current_app.config.get("POLICY_DIR")])
    body = render_template("plate.html", p=page, e=page.establishment, token=normalised,
                           status_name=STATUS_NAMES[page.establishment.status]).encode()
    if current.needs_store(today):
        # Kept for the fast path (plate_fast_path.py) unless the establishment changed since
        # `current` was read (page_store.store compares the generation).
        run(db.session, lambda: page_store.store(
            db.session, current.establishment_id, generation=current.page_generation, epoch=current.epoch,
            rendered_on=today, etag=etag, html=body))
    return _plate_response(Response(body, mimetype="text/html"), etag)


def _plate_response(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    # Cached, but revalidated on every view: a new penalty shows at once.
    response.headers["Cache-Control"] = "public, no-cache"
    return response


# --- complaints ---------------------------------------------------------------------------------

def _establishment_or_404(token: str):
    establishment = plates.establishment_for_token(db.session, token)
    if establishment is None:
        abort(404)
    return establishment


@public_site.route("/P/<token>/complaint", methods=["GET"])
def complaint_form(token: str):
    e = _establishment_or_404(token)
    return render_template("complaint_form.html", e=e, token=plates.normalise_token(token),
                           categories=COMPLAINT_CATEGORIES, values={}, errors={})


@public_site.route("/P/<token>/complaint", methods=["POST"])
# Rate-limited per client and per plate: see protection.init_app.
def complaint_submit(token: str):
    from supervision import audit
    from supervision.errors import ValidationFailed

    e = _establishment_or_404(token)
    form = request.form
    photo = request.files.get("photo")
    data = complaints.ComplaintInput(
        category=form.get("category", ""), description=form.get("description", ""),
        contact_name=form.get("contact_name") or None, contact_phone=form.get("contact_phone") or None,
        photo=photo.read(complaints.MAX_PHOTO_BYTES + 1) if photo and photo.filename else None)
    try:
        with unit_of_work(db.session):
            complaint = complaints.file_complaint(db.session, audit.Actor.system("public_site"), e, data)
            reference = complaint.reference
    except ValidationFailed as error:
        return render_template("complaint_form.html", e=e, token=plates.normalise_token(token),
                               categories=COMPLAINT_CATEGORIES, values=form, errors=error.fields,
                               message=error.message), 400
    return redirect(url_for("public_site.complaint_status", reference=reference, filed=1), code=303)


@public_site.route("/complaints/<reference>")
def complaint_status(reference: str):
    complaint = complaints.find(db.session, reference)
    from supervision.registry.models import Establishment

    e = db.session.get(Establishment, complaint.establishment_id)
    return render_template("complaint_status.html", c=complaint, e=e, status_name=COMPLAINT_STATUSES[complaint.status],
                           category_name=COMPLAINT_CATEGORIES[complaint.category], filed=request.args.get("filed"))


@public_site.route("/complaints")
def complaint_lookup():
    reference = (request.args.get("ref") or "").strip()
    if reference:
        return redirect(url_for("public_site.complaint_status", reference=complaints.normalise_reference(reference)))
    return render_template("complaint_lookup.html")


# --- search and published results ---------------------------------------------------------------

@public_site.route("/search")
def search():
    try:
        page_no = int(request.args.get("page", "1"))
    except ValueError:
        page_no = 1
    page = searching.search(db.session, request.args.get("q", ""), page_no)
    return render_template("search.html", s=page)


@public_site.route("/results")
def published_results():
    return render_template("results.html", tables=results.published_tables(db.session, china_today()))


@public_site.route("/results/<int:run_id>.<any(csv, xlsx):suffix>")
def result_table(run_id: int, suffix: str):
    body, name = results.table_file(db.session, run_id, suffix, china_today())
    mimetype = "text/csv" if suffix == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


FEEDS = {"grades": ("grading_runs", "grade_publications"), "penalties": ("penalties", "credit_records")}


@public_site.route("/open-data/<any(grades, penalties):feed>.<any(json, csv):fmt>")
def open_data(feed: str, fmt: str):
    """Published grades and public penalties, paged (?page=N), with ETag and Last-Modified."""
    import csv
    import io

    try:
        page_no = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page_no = 1
    today = china_today()
    version = results.feed_version(db.session, FEEDS[feed])
    etag = hashlib.sha256(f"{feed}:{fmt}:{page_no}:{version.seq}:{today}".encode()).hexdigest()[:32]
    response = Response(mimetype="application/json" if fmt == "json" else "text/csv")
    response.set_etag(etag)
    if version.at is not None:
        response.last_modified = version.at.replace(microsecond=0)
    response.headers["Cache-Control"] = "public, no-cache"
    if etag in request.if_none_match or (
            not request.if_none_match and version.at is not None and request.if_modified_since is not None
            and request.if_modified_since.replace(tzinfo=None) >= version.at.replace(microsecond=0)):
        response.status_code = 304
        return response
    if feed == "grades":
        rows, has_next = results.grade_rows(db.session, page_no)
        fields = results.GRADE_FIELDS
    else:
        rows, has_next = results.penalty_rows(db.session, page_no, today)
        fields = results.PENALTY_FIELDS
    if fmt == "json":
        next_url = url_for("public_site.open_data", feed=feed, fmt=fmt, page=page_no + 1) if has_next else None
        response.set_data(json.dumps({"page": page_no, "next": next_url, "items": rows}, ensure_ascii=False))
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: results.summary.neutralise(v) for k, v in row.items()})
        response.set_data("\ufeff" + out.getvalue())
    return response


# Last, so the views above exist when the limits are bound to them.
public_site.record_once(lambda state: protection.init_app(state.app))
