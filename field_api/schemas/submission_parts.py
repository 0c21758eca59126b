"""Schemas for the batch and one-request (multipart) submission paths, owned by the inspection
views: they only carry entries and parts to the submission schema, which checks each."""
from marshmallow import Schema, fields, validate

from field_api.schemas.inspections import InspectionStateSchema


class BatchEntriesSchema(Schema):
    """Entries are taken as they come (any JSON value): each is checked and answered on its own,
    so one malformed entry cannot refuse the others."""

    inspections = fields.List(fields.Raw(allow_none=True), required=True, validate=validate.Length(1, 50),
                              metadata={"description": "each entry shaped like InspectionSubmission; checked one by one"})


class _Rendered(fields.Nested):
    """A nested state rendered already, when its entry was answered: a later entry's rollback
    must not make the batch read (or fail to read) earlier entries again."""

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        if isinstance(nested_obj, dict):
            return nested_obj
        return super()._serialize(nested_obj, attr, obj, **kwargs)


class BatchEntryResultSchema(Schema):
    index = fields.Integer()
    uuid = fields.String(allow_none=True)
    status = fields.Integer(metadata={"description": "HTTP status this entry would have had alone"})
    outcome = fields.String(metadata={"description": "created, replayed, refused, or failed (a server error "
                                                     "in this entry only; retry it)"})
    inspection = _Rendered(InspectionStateSchema, allow_none=True)
    error = fields.Dict(allow_none=True, metadata={"description": "the error shape's body, for an entry not stored"})


class BatchEntriesResponseSchema(Schema):
    results = fields.List(fields.Nested(BatchEntryResultSchema))


MULTIPART_REQUEST_BODY = {
    "required": True,
    "description": (
        "The submission and its files in one request, as OpenRosa clients send them. Part "
        "`submission`: the InspectionSubmission JSON (Content-Type application/json). Every other "
        "part: one file of the manifest, its part name the file's SHA-256 (lower-case hex), its "
        "Content-Type the image type; at most 20 files per request. Files the server already holds "
        "may be left out; files still missing afterwards (see `missing_attachments` in the answer) "
        "can be sent one by one with PUT /api/v1/attachments/{sha256}."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["submission"],
                "properties": {
                    "submission": {"$ref": "#/components/schemas/InspectionSubmission"},
                },
                "additionalProperties": {"type": "string", "format": "binary",
                                         "description": "a file, named by its SHA-256"},
            },
            "encoding": {"submission": {"contentType": "application/json"}},
        }
    },
}
