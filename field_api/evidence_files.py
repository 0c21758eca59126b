"""Evidence files through the API (objections, self-reports): the multipart upload they arrive
in, the download they leave by, and how both are documented. One place, so every endpoint that
takes or gives such a file refuses and answers alike."""
from __future__ import annotations

from flask import current_app, request, send_file

from supervision.documents.evidence import EvidenceFile
from supervision.errors import ValidationFailed
from supervision.inspections.attachments import AttachmentStore

_BINARY = {"schema": {"type": "string", "format": "binary"}}
# The request body of a single evidence file (multipart part `file`).
EVIDENCE_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "PDF, JPEG or PNG, at most 10 MB"}}}}}}
# The 200 answer of a download: the file as it was uploaded.
FILE_RESPONSE = {"200": {"description": "the file as uploaded", "content": {
    media: _BINARY for media in ("application/pdf", "image/jpeg", "image/png")}}}


def require_multipart(what: str) -> None:
    """Refuse a request that is not multipart/form-data; `what` says (in Chinese) what it
    should carry, e.g. "上传证据材料"."""
    if request.mimetype != "multipart/form-data":
        raise ValidationFailed(f"请以 multipart/form-data {what}", code="unsupported_media_type",
                               fields={"Content-Type": ["应为 multipart/form-data"]})


def uploaded(part_name: str) -> list[EvidenceFile]:
    """The files of the request's multipart parts named `part_name` (the services check them)."""
    return [EvidenceFile(part.filename or "evidence", part.read()) for part in request.files.getlist(part_name)]


def store() -> AttachmentStore:
    return AttachmentStore(current_app.config["ATTACHMENT_DIR"])


def download(found, path):
    """An evidence row and its stored file, sent back under its own name and type."""
    return send_file(path, mimetype=found.media_type, as_attachment=True, download_name=found.filename)
