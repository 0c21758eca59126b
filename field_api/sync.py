"""Offline bootstrap, delta sync and online look-ups for terminals."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from field_api.auth import BEARER_SECURITY, current_device, device_required
from field_api.schemas.common import ErrorSchema
from field_api.schemas.registry import LookupQuerySchema, LookupResultSchema
from field_api.schemas.sync import BootstrapQuerySchema, BootstrapSchema, ChangesQuerySchema, ChangesSchema
from supervision.errors import ValidationFailed
from supervision.extensions import db
from supervision.registry import service as registry
from supervision.sync import service as sync

# Unknown query parameters are refused, as unknown JSON fields are: webargs would drop them
# silently, and a misspelt after_id would restart the bootstrap at page one for ever.
blp = Blueprint("sync", __name__, url_prefix="/api/v1", description="Offline bootstrap, delta sync, look-ups")


@blp.route("/sync/bootstrap")
class Bootstrap(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(BootstrapQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, BootstrapSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self, query):
        """Everything the device needs offline for its grids, paged by establishment id."""
        return sync.bootstrap(db.session, current_device(), after_id=query["after_id"],
                              page_size=current_app.config["SYNC_PAGE_SIZE"], cursor=query["cursor"])


@blp.route("/sync/changes")
class ChangesSince(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ChangesQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ChangesSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="cursor unknown: bootstrap again")
    def get(self, query):
        """What changed in the device's grids since the cursor: new, changed, closed."""
        return sync.changes_since(db.session, current_device(), cursor=query["cursor"],
                                  page_size=current_app.config["SYNC_PAGE_SIZE"])


@blp.route("/establishments")
class Lookup(MethodView):
    decorators = [device_required]

    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(LookupQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, LookupResultSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def get(self, query):
        """Look an establishment up online by scanned plate token, credit code or name."""
        if not query:
            raise ValidationFailed("请提供身份牌编码、统一社会信用代码或单位名称之一",
                                   fields={"plate_token": ["三者至少填写一项"]})
        found = registry.find_establishments(db.session, plate_token=query.get("plate_token"),
                                             credit_code_value=query.get("credit_code"), name=query.get("name"))
        return {"establishments": found}
