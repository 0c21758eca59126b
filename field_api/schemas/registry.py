from marshmallow import Schema, fields, validate

from field_api.schemas.types import Text


class LicenceSchema(Schema):
    number = fields.String()
    kind = fields.String()
    issued_on = fields.Date()
    expires_on = fields.Date(allow_none=True)


class EstablishmentSchema(Schema):
    """An establishment as a terminal keeps it offline; the plate token lets a scanned plate
    resolve without a connection."""

    id = fields.Integer()
    credit_code = fields.String()
    name = fields.String()
    category = fields.String(attribute="category_code")
    address = fields.String()
    jurisdiction_id = fields.Integer()
    grid_id = fields.Integer(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    legal_representative = fields.String()
    status = fields.String()
    plate_token = fields.Method("_plate")
    licences = fields.List(fields.Nested(LicenceSchema))

    def _plate(self, establishment):
        plate = establishment.active_plate
        return plate.token if plate else None


class CategorySchema(Schema):
    code = fields.String()
    name = fields.String()
    group = fields.String(attribute="group_name")


class DirectoryInspectorSchema(Schema):
    """A colleague in the inspector directory. Never a phone or ID number."""

    id = fields.Integer()
    badge_no = fields.String()
    name = fields.String()
    certificate_no = fields.String()
    certificate_valid_from = fields.Date()
    certificate_valid_until = fields.Date()
    active = fields.Boolean()


class LookupQuerySchema(Schema):
    plate_token = Text(validate=validate.Length(min=1, max=64))
    credit_code = Text(validate=validate.Length(min=1, max=18))
    name = Text(validate=validate.Length(min=2, max=100))


class LookupResultSchema(Schema):
    establishments = fields.List(fields.Nested(EstablishmentSchema))
