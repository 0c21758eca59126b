"""Resumable video uploads over tus 1.0 (https://tus.io/protocols/resumable-upload):
core, creation, checksum, termination and expiration.

    OPTIONS /api/v1/uploads            what the server supports (Tus-Version, Tus-Extension, …)
    POST    /api/v1/uploads            create: Upload-Length, Upload-Metadata (sha256, media_type)
    HEAD    /api/v1/uploads/{id}       how many bytes the server holds (Upload-Offset)
    PATCH   /api/v1/uploads/{id}       append a piece at Upload-Offset (Upload-Checksum optional)
    DELETE  /api/v1/uploads/{id}       terminate

Every request is authenticated as a device (bearer token, checked per request, so a revoked
device is refused mid-upload), and every response carries `Tus-Resumable`. Errors keep the
API's one JSON shape; a wrong piece checksum is tus's 460, an expired upload 410. The protocol
lives here; the rules (offsets, hashes, container check, store) in
`supervision.inspections.video_uploads`. After the last piece, the inspections waiting for the
video are settled in a unit of work of their own (docs/architecture.md, step two).
"""
from __future__ import annotations

import base64
import binascii
from datetime import timedelta, timezone
from email.utils import format_datetime

from flask import current_app, make_response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import ClientDisconnected

from field_api import errors
from field_api.auth import BEARER_SECURITY, current_actor, device_required
from supervision.errors import ValidationFailed
from supervision.extensions import db
from supervision.inspections import settlement
from supervision.inspections import video_uploads as uploads
from supervision.inspections.attachments import AttachmentStore
from supervision.transaction import unit_of_work

try:  # gunicorn's "the client closed the connection mid-body"
    from gunicorn.http.errors import NoMoreData as _NoMoreData
except ImportError:  # pragma: no cover - served by another server
    class _NoMoreData(Exception):
        pass

blp = Blueprint("tus", __name__, url_prefix="/api/v1", description="Resumable video uploads (tus 1.0)")

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,checksum,termination,expiration"
OFFSET_MEDIA_TYPE = "application/offset+octet-stream"


def _limits() -> uploads.VideoLimits:
    config = current_app.config
    return uploads.VideoLimits(max_bytes=config["MAX_VIDEO_BYTES"], max_chunk_bytes=config["MAX_VIDEO_CHUNK_BYTES"],
                               expire_after=timedelta(hours=config["VIDEO_UPLOAD_EXPIRE_HOURS"]))


def _store() -> AttachmentStore:
    return AttachmentStore(current_app.config["ATTACHMENT_DIR"])


@blp.after_request
def _tus_headers(response):
    response.headers["Tus-Resumable"] = TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_version():
    """Every request but OPTIONS names the protocol version it speaks (tus core)."""
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
        return errors.error_response(412, "tus_version", f"仅支持 tus {TUS_VERSION}，请在请求头 Tus-Resumable 中声明",
                                     {"Tus-Resumable": [f"应为 {TUS_VERSION}"]}, headers={"Tus-Version": TUS_VERSION})
    return None


blp.before_request(_check_version)


def _header_int(name: str, *, required: bool = True) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        if required:
            raise ValidationFailed(f"缺少请求头 {name}", fields={name: ["缺少必填请求头"]})
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise ValidationFailed(f"请求头 {name} 应为非负整数", fields={name: ["应为非负整数"]})
    return int(raw)


def parse_metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata: key base64value,key base64value` (tus creation)."""
    metadata: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, encoded = pair.strip().partition(" ")
        try:
            metadata[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ValidationFailed(f"Upload-Metadata 中“{key}”的值不是有效的 Base64",
                                   fields={"Upload-Metadata": [f"{key}: 不是有效的 Base64"]}) from None
    return metadata


def _expires(upload) -> str:
    return format_datetime(upload.expires_at.replace(tzinfo=timezone.utc), usegmt=True)


def _state_headers(upload) -> dict:
    headers = {"Upload-Offset": str(upload.upload_offset), "Upload-Length": str(upload.length)}
    if upload.completed_at is None:
        headers["Upload-Expires"] = _expires(upload)
    return headers


class _Body:
    """The request body as `write_piece` reads it: a client gone mid-piece (Werkzeug's
    ClientDisconnected, gunicorn's NoMoreData, a reset connection) becomes PieceInterrupted."""

    def __init__(self, stream):
        self.stream = stream

    def read(self, size: int) -> bytes:
        try:
            return self.stream.read(size)
        except (ClientDisconnected, ConnectionError, _NoMoreData) as error:
            raise uploads.PieceInterrupted() from error


def _tus_error(error: uploads.DomainError, status: int):
    return errors.error_response(status, error.code, error.message, error.fields)


def _settle(sha256: str) -> None:
    with unit_of_work(db.session):
        settlement.settle_waiting_on(db.session, sha256)


TUS_HEADER = {"in": "header", "name": "Tus-Resumable", "required": True, "schema": {"type": "string", "enum": [TUS_VERSION]}}
UPLOAD_ID = {"in": "path", "name": "upload_id", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}


def _header(name: str, description: str, type_: str = "string") -> dict:
    return {"description": description, "schema": {"type": type_}}


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _responses(*pairs) -> dict:
    """tus answers without a body on success; errors keep the API's one error shape."""
    return {str(status): {"description": text, "headers": headers or {},
                          **({"content": ERROR_CONTENT} if status >= 400 else {})}
            for status, text, headers in pairs}


_RESUMABLE = {"Tus-Resumable": _header("Tus-Resumable", "1.0.0")}


@blp.route("/uploads")
class Uploads(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, responses=_responses(
        (204, "capabilities", {**_RESUMABLE, "Tus-Version": _header("Tus-Version", "1.0.0"),
                               "Tus-Extension": _header("Tus-Extension", TUS_EXTENSIONS),
                               "Tus-Max-Size": _header("Tus-Max-Size", "max_video_bytes", "integer"),
                               "Tus-Checksum-Algorithm": _header("Tus-Checksum-Algorithm", "sha1,sha256")}),
    ))
    def options(self):
        """What this tus server supports (tus core, OPTIONS)."""
        response = make_response("", 204)
        response.headers.update({
            "Tus-Version": TUS_VERSION, "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(current_app.config["MAX_VIDEO_BYTES"]),
            "Tus-Checksum-Algorithm": ",".join(uploads.CHECKSUM_ALGORITHMS),
        })
        return response

    @blp.doc(security=BEARER_SECURITY, parameters=[
        TUS_HEADER,
        {"in": "header", "name": "Upload-Length", "required": True, "schema": {"type": "integer", "minimum": 1},
         "description": "the video's size in bytes (at most max_video_bytes, see /api/v1/limits)"},
        {"in": "header", "name": "Upload-Metadata", "required": True, "schema": {"type": "string"},
         "description": "tus metadata: `sha256` (the whole file's SHA-256, lower-case hex) and `media_type` "
                        "(video/mp4 or video/quicktime; `filetype` is accepted too), values in Base64"},
    ], responses=_responses(
        (201, "created; Location is the upload's URL; Upload-Offset equals Upload-Length when the server "
              "already holds the file (nothing to send)",
         {**_RESUMABLE, "Location": _header("Location", "upload URL"),
          "Upload-Offset": _header("Upload-Offset", "bytes held", "integer")}),
        (412, "Tus-Resumable missing or not 1.0.0", _RESUMABLE),
        (413, "Upload-Length over the limit", _RESUMABLE),
        (422, "bad Upload-Metadata (hash, media type)", _RESUMABLE),
    ))
    def post(self):
        """Create an upload of one video (tus creation)."""
        metadata = parse_metadata(request.headers.get("Upload-Metadata"))
        length = _header_int("Upload-Length")
        with unit_of_work(db.session, keep_loaded=True):
            upload = uploads.create(db.session, current_actor(), _store(), length=length,
                                    sha256=metadata.get("sha256", ""),
                                    media_type=metadata.get("media_type") or metadata.get("filetype"),
                                    limits=_limits())
        if upload.completed_at is not None:
            _settle(upload.sha256)  # already held: it may be the file an inspection waits for
        response = make_response("", 201)
        response.headers.update(_state_headers(upload))
        response.headers["Location"] = url_for("tus.Upload", upload_id=upload.id)
        return response


@blp.route("/uploads/<upload_id>", parameters=[UPLOAD_ID])
class Upload(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY, parameters=[TUS_HEADER], responses=_responses(
        (200, "the bytes the server holds", {**_RESUMABLE, "Upload-Offset": _header("Upload-Offset", "", "integer"),
                                              "Upload-Length": _header("Upload-Length", "", "integer"),
                                              "Cache-Control": _header("Cache-Control", "no-store")}),
        (404, "no such upload (or another device's)", _RESUMABLE),
        (410, "expired", _RESUMABLE),
    ))
    def head(self, upload_id):
        """How many bytes of the upload the server holds (tus core, HEAD)."""
        with unit_of_work(db.session, keep_loaded=True):
            upload = uploads.get(db.session, current_actor(), upload_id)
        if upload.completed_at is None and upload.expires_at <= uploads.utcnow():
            return _tus_error(uploads.UploadGone(), 410)
        response = make_response("", 200)
        response.headers.update(_state_headers(upload))
        return response

    @blp.doc(security=BEARER_SECURITY, parameters=[
        TUS_HEADER,
        {"in": "header", "name": "Upload-Offset", "required": True, "schema": {"type": "integer", "minimum": 0}},
        {"in": "header", "name": "Upload-Checksum", "required": False, "schema": {"type": "string"},
         "description": "`sha1 <base64>` or `sha256 <base64>` of this piece"},
    ], requestBody={"required": True, "content": {OFFSET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
        responses=_responses(
        (204, "piece stored", {**_RESUMABLE, "Upload-Offset": _header("Upload-Offset", "new offset", "integer")}),
        (404, "no such upload", _RESUMABLE),
        (409, "Upload-Offset is not the server's offset, the upload is complete, or another request is writing it",
         _RESUMABLE),
        (410, "expired", _RESUMABLE),
        (413, "piece beyond Upload-Length or over max_video_chunk_bytes", _RESUMABLE),
        (415, "Content-Type is not application/offset+octet-stream", _RESUMABLE),
        (422, "the completed file's SHA-256 or container is not what was declared; the upload is discarded",
         _RESUMABLE),
        (460, "the piece does not match Upload-Checksum; nothing of it kept, offset unchanged", _RESUMABLE),
    ))
    def patch(self, upload_id):
        """Append a piece at the server's offset (tus core, PATCH; checksum extension)."""
        if request.mimetype != OFFSET_MEDIA_TYPE:
            return errors.error_response(415, "unsupported_media_type", f"分片应以 Content-Type: {OFFSET_MEDIA_TYPE} 发送",
                                         {"Content-Type": [f"应为 {OFFSET_MEDIA_TYPE}"]})
        offset = _header_int("Upload-Offset")
        checksum = uploads.parse_checksum(request.headers.get("Upload-Checksum"))
        actor, store, limits = current_actor(), _store(), _limits()
        try:
            with uploads.writing(store, upload_id):
                with unit_of_work(db.session):
                    piece = uploads.begin_piece(db.session, actor, upload_id, offset=offset)
                written = uploads.write_piece(store, piece, _Body(request.stream), checksum=checksum, limits=limits)
                with unit_of_work(db.session, keep_loaded=True):
                    upload = uploads.commit_piece(db.session, actor, store, written)
        except uploads.ChecksumMismatch as error:
            return _tus_error(error, 460)
        except uploads.UploadGone as error:
            return _tus_error(error, 410)
        except uploads.Refused:
            with unit_of_work(db.session):
                uploads.discard_refused(db.session, store, upload_id)
            raise
        if upload.completed_at is not None:
            _settle(upload.sha256)
        if written.disconnected:  # the client went away mid-piece: what arrived is kept
            return errors.error_response(400, "client_disconnected", "分片未完整送达，已保存收到的部分，请查询偏移量后续传",
                                         {"_body": ["分片不完整"]}, headers=_state_headers(upload))
        response = make_response("", 204)
        response.headers.update(_state_headers(upload))
        return response

    @blp.doc(security=BEARER_SECURITY, parameters=[TUS_HEADER], responses=_responses(
        (204, "terminated; the partial bytes are removed", _RESUMABLE),
        (404, "no such upload", _RESUMABLE),
    ))
    def delete(self, upload_id):
        """Terminate an upload (tus termination)."""
        with unit_of_work(db.session):
            uploads.terminate(db.session, current_actor(), _store(), upload_id)
        return make_response("", 204)
