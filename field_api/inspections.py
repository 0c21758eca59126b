"""Inspection submissions, corrections, completeness and penalty cases."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from field_api import errors
from field_api.auth import BEARER_SECURITY, current_device, device_required
from field_api.schemas.common import ErrorSchema
from field_api.schemas.inspections import (
    BatchResponseSchema,
    BatchSubmissionSchema,
    InspectionStateSchema,
    InspectionSubmissionSchema,
    PenaltyCaseRequestSchema,
    PenaltyCaseSchema,
)
from supervision.errors import DomainError
from supervision.extensions import db
from supervision.inspections import service as inspections
from supervision.inspections.attachments import ALLOWED_MEDIA_TYPES

blp = Blueprint("inspections", __name__, url_prefix="/api/v1", description="Inspection submissions from terminals")


def _settings() -> inspections.SubmissionSettings:
    config = current_app.config
    return inspections.SubmissionSettings(
        gps_review_distance_m=config["GPS_REVIEW_DISTANCE_M"],
        max_attachment_bytes=config["MAX_ATTACHMENT_BYTES"],
        allowed_media_types=ALLOWED_MEDIA_TYPES,
    )


def _receive(submission: dict) -> tuple[inspections.InspectionState, int]:
    received = inspections.receive(db.session, current_device(), submission, _settings())
    return inspections.state_of(db.session, received.inspection), (200 if received.replayed else 201)


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
        state, status = _receive(submission)
        return state, status


@blp.route("/inspections/batch")
class SubmitBatch(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(BatchSubmissionSchema)
    @blp.response(200, BatchResponseSchema)
    def post(self, body):
        """Submit many inspections at once; each is stored or refused on its own."""
        results = []
        for index, raw in enumerate(body["inspections"]):
            uuid = raw.get("uuid") if isinstance(raw.get("uuid"), str) else None
            try:
                submission = InspectionSubmissionSchema().load(raw)
                state, status = _receive(submission)
                results.append({"index": index, "uuid": state.inspection.uuid, "status": status,
                                "outcome": "replayed" if status == 200 else "created", "inspection": state})
            except ValidationError as exc:
                db.session.rollback()
                fields = errors.flatten(exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages})
                results.append({"index": index, "uuid": uuid, "status": 422, "outcome": "refused",
                                "error": errors.error_body(*errors.HTTP_CODES[422], fields)})
            except DomainError as exc:
                db.session.rollback()
                results.append({"index": index, "uuid": uuid, "status": errors.domain_status(exc), "outcome": "refused",
                                "error": errors.error_body(exc.code, exc.message, exc.fields)})
        return {"results": results}


@blp.route("/inspections/<uuid:uuid>")
class Show(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, InspectionStateSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, uuid):
        """An inspection version: status, findings, order, and files still missing."""
        inspection = inspections.visible_inspection(db.session, current_device(), str(uuid))
        return inspections.state_of(db.session, inspection)


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
        identity = current_device()
        inspections.visible_inspection(db.session, identity, str(uuid))
        return inspections.open_penalty_case(db.session, identity, str(uuid), body["finding_ids"], body["summary"])
