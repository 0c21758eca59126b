"""Inspection submissions, corrections, completeness and penalty cases.

Every submission path runs the same two steps, each its own unit of work: receive (store the
submission, and in the one-request path its files), commit; then settle (complete it if every
file is there), commit. The second step is idempotent and also runs on every later touch of the
inspection, so a failure between the two steps never leaves an inspection stuck.
"""
import json

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from field_api import errors
from field_api.auth import BEARER_SECURITY, current_actor, device_required
from field_api.evidence_files import require_multipart
from field_api.schemas.common import ErrorSchema
from field_api.schemas.inspections import (
    InspectionStateSchema,
    InspectionSubmissionSchema,
    PenaltyCaseRequestSchema,
    PenaltyCaseSchema,
)
from field_api.schemas.submission_parts import MULTIPART_REQUEST_BODY, BatchEntriesResponseSchema, BatchEntriesSchema
from supervision.errors import DomainError, ValidationFailed
from supervision.extensions import db
from supervision.inspections import penalties, reading, receiving, settlement
from supervision.inspections.attachments import ALLOWED_MEDIA_TYPES, AttachmentStore, UploadLimits, receive_attachment
from supervision.inspections.video_uploads import VIDEO_MEDIA_TYPES
from supervision.transaction import unit_of_work

blp = Blueprint("inspections", __name__, url_prefix="/api/v1", description="Inspection submissions from terminals")

SUBMISSION_PART = "submission"
# Files one multipart request may carry; more are sent with PUT /api/v1/attachments/{sha256}.
MAX_FILES_PER_REQUEST = 20


def _settings() -> receiving.SubmissionSettings:
    config = current_app.config
    return receiving.SubmissionSettings(
        gps_review_distance_m=config["GPS_REVIEW_DISTANCE_M"],
        max_attachment_bytes=config["MAX_ATTACHMENT_BYTES"],
        allowed_media_types=ALLOWED_MEDIA_TYPES,
        video_media_types=VIDEO_MEDIA_TYPES,
        max_video_bytes=config["MAX_VIDEO_BYTES"],
    )


def _settle_step(received: receiving.Received) -> reading.InspectionState:
    """Step two: settle if every file is there, and answer the inspection's state."""
    # A replay found the stored inspection by its key alone: read what its state shows in one
    # query rather than attribute by attribute.
    inspection = reading.load(db.session, received.inspection.uuid) if received.replayed else received.inspection
    with unit_of_work(db.session, keep_loaded=True):
        missing = [] if inspection.status == "complete" else settlement.missing_attachments(db.session, inspection.uuid)
        if inspection.status == "awaiting_attachments" and not missing:
            settlement.settle(db.session, inspection.uuid)  # refreshes `inspection` if it completes it
        return reading.state_of(db.session, inspection, missing=missing, order=_known_order(received))


def _known_order(received: receiving.Received):
    """The order a submission just stored issued (or None); for a replay, read it."""
    return reading.UNKNOWN if received.replayed else received.order


def receive_then_settle(submission: dict, files=None) -> tuple[reading.InspectionState, int]:
    """Both steps for one submission (and, in the one-request path, its files)."""
    actor = current_actor()
    with unit_of_work(db.session, keep_loaded=True):
        for sha256, part in (files or {}).items():
            _receive_part(actor, sha256, part)
        received = receiving.receive(db.session, actor, submission, _settings())
        # Files that came with it are in this transaction: when that makes it whole, settle in
        # the same unit of work (one commit). Otherwise step two runs after the commit, where
        # it sees files that other connections committed meanwhile.
        settled_now = (bool(files) and received.inspection.status == "awaiting_attachments"
                       and settlement.settle(db.session, received.inspection.uuid))
    status = 200 if received.replayed else 201
    if settled_now:  # settlement refreshed the inspection it completed
        return reading.state_of(db.session, received.inspection, missing=[], order=_known_order(received)), status
    return _settle_step(received), status


@blp.route("/inspections")
class Submit(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(InspectionSubmissionSchema)
    @blp.response(201, InspectionStateSchema, description="stored")
    @blp.alt_response(200, schema=InspectionStateSchema, description="this uuid was already stored with the same content")
    @blp.alt_response(409, schema=ErrorSchema, description="uuid reused with other content, or correcting a stale version")
    @blp.alt_response(422, schema=ErrorSchema, description="refused; nothing stored")
    def post(self, submission):
        """Submit an inspection, or a correction of one (set `replaces`). Safe to retry."""
        return receive_then_settle(submission)


# --- one request: the submission and its files ------------------------------------------------

def _receive_part(actor, sha256: str, part) -> None:
    config = current_app.config
    receive_attachment(db.session, actor, AttachmentStore(config["ATTACHMENT_DIR"]), sha256=sha256,
                       media_type=part.mimetype, body=part.stream,
                       limits=UploadLimits(config["MAX_ATTACHMENT_BYTES"], config["MAX_IMAGE_PIXELS"]))


def _multipart_submission() -> tuple[dict, dict]:
    require_multipart("提交检查记录及其附件")
    part = request.files.get(SUBMISSION_PART)
    raw = part.read() if part is not None else request.form.get(SUBMISSION_PART, "").encode("utf-8")
    if not raw:
        raise ValidationFailed("缺少检查记录（submission 部分）", fields={SUBMISSION_PART: ["缺少必填字段"]})
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("submission 部分不是有效的 JSON", code="malformed_json",
                               fields={SUBMISSION_PART: ["不是有效的 JSON"]}) from None
    if not isinstance(document, dict):
        raise ValidationFailed("submission 部分应为 JSON 对象", fields={SUBMISSION_PART: ["应为 JSON 对象"]})
    try:
        submission = InspectionSubmissionSchema().load(document)
    except ValidationError as exc:
        raise ValidationFailed(fields=errors.flatten(exc.messages, SUBMISSION_PART)) from None
    files = {name: f for name, f in request.files.items() if name != SUBMISSION_PART}
    if len(files) > MAX_FILES_PER_REQUEST:
        raise ValidationFailed(f"一次请求最多携带 {MAX_FILES_PER_REQUEST} 个附件，其余请逐个上传",
                               fields={"_body": [f"最多 {MAX_FILES_PER_REQUEST} 个附件"]})
    listed = {entry["sha256"] for entry in submission["attachments"]}
    strangers = sorted(set(files) - listed)
    if strangers:
        raise ValidationFailed("附件不在检查记录的附件清单中", fields={name: ["不在附件清单中"] for name in strangers})
    return submission, files


@blp.route("/inspections/with-files")
class SubmitWithFiles(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, requestBody=MULTIPART_REQUEST_BODY)
    @blp.response(201, InspectionStateSchema, description="stored; `missing_attachments` lists files still to send")
    @blp.alt_response(200, schema=InspectionStateSchema, description="this uuid was already stored with the same content")
    @blp.alt_response(409, schema=ErrorSchema, description="uuid reused with other content, or correcting a stale version")
    @blp.alt_response(413, schema=ErrorSchema, description="the request is larger than its limit")
    @blp.alt_response(422, schema=ErrorSchema, description="refused (submission or a file); nothing stored")
    def post(self):
        """Submit an inspection and its files in one multipart request. Safe to retry; files
        the server holds may be left out."""
        submission, files = _multipart_submission()
        return receive_then_settle(submission, files)


# --- many at once ------------------------------------------------------------------------------

def _entry_uuid(raw) -> str | None:
    return raw.get("uuid") if isinstance(raw, dict) and isinstance(raw.get("uuid"), str) else None


def _answer_entry(index: int, raw) -> dict:
    """One entry of a batch, answered on its own whatever happens to the others. Each entry is
    its own units of work, so a failure rolls back that entry only."""
    uuid = _entry_uuid(raw)
    try:
        if not isinstance(raw, dict):
            raise ValidationError({"_body": ["每条检查记录应为 JSON 对象"]})
        state, status = receive_then_settle(InspectionSubmissionSchema().load(raw))
        return {"index": index, "uuid": state.inspection.uuid, "status": status,
                "outcome": "replayed" if status == 200 else "created",
                "inspection": InspectionStateSchema().dump(state)}
    except ValidationError as exc:
        db.session.rollback()
        fields = errors.flatten(exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages})
        return {"index": index, "uuid": uuid, "status": 422, "outcome": "refused",
                "error": errors.error_body(*errors.HTTP_CODES[422], fields)}
    except DomainError as exc:
        db.session.rollback()
        return {"index": index, "uuid": uuid, "status": errors.domain_status(exc), "outcome": "refused",
                "error": errors.error_body(exc.code, exc.message, exc.fields)}
    except Exception as exc:  # noqa: BLE001 - answered as this entry's 500; the others go on
        db.session.rollback()
        current_app.logger.exception("batch entry %s failed", index, exc_info=exc)
        return {"index": index, "uuid": uuid, "status": 500, "outcome": "failed",
                "error": errors.error_body(*errors.HTTP_CODES[500])}


@blp.route("/inspections/batch")
class SubmitBatch(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(BatchEntriesSchema)
    @blp.response(200, BatchEntriesResponseSchema)
    def post(self, body):
        """Submit many inspections at once; each is stored or refused on its own."""
        return {"results": [_answer_entry(index, raw) for index, raw in enumerate(body["inspections"])]}


# --- reading and penalty cases ----------------------------------------------------------------

@blp.route("/inspections/<uuid:uuid>")
class Show(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, InspectionStateSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, uuid):
        """An inspection version: status, findings, order, and files still missing."""
        # Reading settles what is ready; device_required commits it with the access log.
        return reading.read_state(db.session, current_actor(), str(uuid))


@blp.route("/inspections/<uuid:uuid>/penalty-cases")
class OpenPenaltyCase(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(PenaltyCaseRequestSchema)
    @blp.response(201, PenaltyCaseSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body, uuid):
        """Open a penalty case (立案) from findings of the current version."""
        with unit_of_work(db.session, keep_loaded=True):
            return penalties.open_penalty_case(db.session, current_actor(), str(uuid), body["finding_ids"],
                                               body["summary"])
