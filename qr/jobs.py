"""Plate sheets as a queued job (`supervision.jobs.enqueue(render_sheet_job, out, ...)`): the
same rendering as `supervision plates render --out FILE.pdf`, run by a worker."""
from __future__ import annotations


def render_sheet_job(out: str, district: str | None = None, grid: str | None = None,
                     category: str | None = None) -> dict:
    """Write the A4 sheets of the selected establishments' plates to `out`; read only."""
    from flask import current_app

    from qr.render import PER_PAGE, render_pdf
    from supervision.extensions import db
    from supervision.registry import plate_printing

    selection = plate_printing.Selection(district, grid, category)
    try:
        count = render_pdf(plate_printing.plate_faces(db.session, selection),
                           current_app.config["PUBLIC_BASE_URL"], out)
    finally:
        db.session.rollback()
    return {"out": out, "plates": count, "pages": max(1, -(-count // PER_PAGE))}
