"""`supervision complaints …`: a supervisor's view and decision on complaints."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from supervision.complaints import service
from supervision.complaints.models import COMPLAINT_STATUSES
from supervision.extensions import db


@click.group("complaints")
def complaints_group():
    """Complaints and reports from citizens (投诉举报)."""


@complaints_group.command("decide")
@click.argument("reference")
@click.option("--substantiated/--unfounded", required=True, help="属实 / 不属实")
@click.option("--by", required=True, help="作出结论的人员姓名")
@with_appcontext
def decide_command(reference, substantiated, by):
    """Decide complaint REFERENCE; a substantiated one becomes a credit record."""
    from supervision.cli import cli_actor, run_service

    complaint = run_service(lambda: service.decide(db.session, cli_actor(), reference, substantiated=substantiated,
                                                   by=by))
    extra = f"（信用信息 {complaint.credit_record_id}）" if complaint.credit_record_id else ""
    click.echo(f"投诉 {complaint.reference}：{COMPLAINT_STATUSES[complaint.status]}{extra}")


@complaints_group.command("show")
@click.argument("reference")
@with_appcontext
def show_command(reference):
    """Show complaint REFERENCE, contact details included (for the institute only)."""
    from supervision.cli import run_service

    c = run_service(lambda: service.find(db.session, reference))
    click.echo(f"{c.reference}  {COMPLAINT_STATUSES[c.status]}  单位 {c.establishment_id}  任务 {c.task_id}")
    click.echo(f"类别：{c.category}  联系人：{c.contact_name or '—'}  电话：{c.contact_phone or '—'}")
    click.echo(c.description)
