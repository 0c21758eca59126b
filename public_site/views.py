from flask import Blueprint, abort, render_template

from supervision.extensions import db
from supervision.registry import plates
from supervision.registry.models import STATUS_NAMES

public_site = Blueprint("public_site", __name__, template_folder="templates", static_folder="static",
                        static_url_path="/static/public")


@public_site.route("/")
def index():
    return render_template("index.html")


@public_site.route("/p/<token>")
@public_site.route("/P/<token>")
def plate(token: str):
    """What a citizen sees after scanning an establishment's plate."""
    establishment = plates.establishment_for_token(db.session, token)
    if establishment is None:
        abort(404)
    return render_template("plate.html", e=establishment, status_name=STATUS_NAMES[establishment.status])
