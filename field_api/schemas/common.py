from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    code = fields.String(metadata={"description": "stable machine code, e.g. validation_failed"})
    message = fields.String(metadata={"description": "message for people, Simplified Chinese"})
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
                          metadata={"description": "messages per field path"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)
