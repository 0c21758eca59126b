"""`supervision self-reports …`: a supervisor reviews what establishments reported about
themselves (自愿申报) and verifies or rejects it."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from supervision.cli import cli_actor, run_service
from supervision.documents.evidence import listing
from supervision.extensions import db
from supervision.inspections.attachments import AttachmentStore
from supervision.registry.models import Establishment
from supervision.self_reports import service as self_reports


@click.group("self-reports")
def self_reports_group():
    """Self-reported information (自愿申报): list, show, verify, reject."""


@self_reports_group.command("list")
@with_appcontext
def list_command():
    """Reports waiting for verification, oldest first."""
    waiting = run_service(lambda: self_reports.pending(db.session, cli_actor()))
    click.echo(f"待核实的自愿申报 {len(waiting)} 件：")
    for r in waiting:
        establishment = db.session.get(Establishment, r.establishment_id)
        click.echo(f"  {r.id}\t{establishment.credit_code}\t{establishment.name}\t"
                   f"{self_reports.KIND_NAMES[r.kind]}\t{r.title}\t{r.occurred_on}")


@self_reports_group.command("show")
@click.argument("report_id", type=int)
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="copy the evidence files into this directory (created if missing)")
@with_appcontext
def show_command(report_id, out_dir):
    """One report with its pledge and evidence files; with --out, the files copied there."""
    store = AttachmentStore(current_app.config["ATTACHMENT_DIR"])

    def read():
        report = self_reports.get(db.session, cli_actor(), report_id)
        files = [self_reports.evidence_file(db.session, cli_actor(), report_id, e.id, store=store)
                 for e in self_reports.evidence_of(db.session, report.id)]
        return report, db.session.get(Establishment, report.establishment_id), files

    report, establishment, files = run_service(read)
    click.echo(f"自愿申报 {report.id}  {establishment.name}（{establishment.credit_code}）")
    click.echo(f"类别：{self_reports.KIND_NAMES[report.kind]}  名称：{report.title}  单位：{report.issuer}  日期：{report.occurred_on}")
    if report.description:
        click.echo(f"说明：{report.description}")
    click.echo(f"承诺人：{report.pledged_by}  状态：{self_reports.STATUS_NAMES[report.status]}")
    for line in listing(files, out_dir):
        click.echo(f"  材料 {line}")


@self_reports_group.command("verify")
@click.argument("report_id", type=int)
@click.option("--by", "by", required=True, help="the supervisor who checked it")
@click.option("--code", type=click.Choice(self_reports.POSITIVE_CODES), default="voluntary_disclosure",
              show_default=True, help="the kind of positive credit information it becomes")
@click.option("--note", default="", help="a note kept with the decision")
@with_appcontext
def verify_command(report_id, by, code, note):
    """Verify REPORT_ID: it becomes positive credit information."""
    report = run_service(lambda: self_reports.verify(db.session, cli_actor(), report_id, by=by, code=code, note=note))
    click.echo(f"自愿申报 {report.id} 已核实，记为信用信息 {report.credit_record_id}")


@self_reports_group.command("reject")
@click.argument("report_id", type=int)
@click.option("--by", "by", required=True)
@click.option("--reason", required=True, help="shown to the establishment")
@with_appcontext
def reject_command(report_id, by, reason):
    """Reject REPORT_ID with a reason; nothing is recorded."""
    report = run_service(lambda: self_reports.reject(db.session, cli_actor(), report_id, by=by, reason=reason))
    click.echo(f"自愿申报 {report.id} 未通过核实：{report.decision_reason}")
