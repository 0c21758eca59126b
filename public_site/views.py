from flask import Blueprint, render_template

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
    resolution = plates.resolve_token(db.session, token)
    if resolution.state == plates.UNKNOWN:
        return render_template("plate_unknown.html"), 404
    if resolution.state == plates.REPLACED:
        return render_template("plate_replaced.html", r=resolution)
    establishment = resolution.establishment
    return render_template("plate.html", e=establishment, status_name=STATUS_NAMES[establishment.status])
