"""`/verify/report/<number>`: the public check of a credit report's number (信用报告核验)."""
from __future__ import annotations

from flask import render_template

from public_site.views import public_site
from supervision.credit import report as credit_report
from supervision.errors import NotFound
from supervision.extensions import db


@public_site.route("/verify/report/<number>")
def verify_report(number: str):
    """Whether the number was issued, for whom, when, and the SHA-256 of the PDF issued."""
    try:
        report = credit_report.report_by_number(db.session, number)
    except NotFound:
        return render_template("report_verification.html", report=None, number=number[:40]), 404
    return render_template("report_verification.html", report=report, number=report.number)
