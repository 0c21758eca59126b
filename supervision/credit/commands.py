"""`supervision credit …`, `supervision penalties …`, `supervision rectification …`.

The commands parse arguments, call the credit services, and print what they return. Commands a
named supervisor performs take `--by NAME`, kept on the row and in the audit entry beside the
operating-system user.
"""
from __future__ import annotations

import json
import uuid
from datetime import date

import click
from flask import Flask
from flask.cli import with_appcontext

from supervision.cli import cli_actor, fail, run_service
from supervision.credit import catalogue, codes, late, penalties, records, transfer
from supervision.credit.calendar import china_today
from supervision.credit.models import CREDIT_KINDS, PENALTY_TYPES, PROCEDURES, RECORD_STATUSES, SEVERITIES
from supervision.credit.policies import Policies
from supervision.extensions import db

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value) -> date | None:
    return value.date() if value is not None else None


def _publicity_text(p) -> str:
    if p.public:
        return f"公示中{'（异议审核中）' if p.under_review else ''}，至 {p.public_until or '长期'}"
    return p.note


@click.group("credit")
def credit_group():
    """Credit information: import, manual entry, records, late entries, the dishonesty catalogue."""


@credit_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(file):
    """Record other departments' credit information from FILE (.csv or .xlsx), keyed by the
    unified social credit code. A file with any bad row is refused whole, nothing recorded."""
    try:
        report = transfer.import_credit(db.session, cli_actor(), file)
    except transfer.ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.secho(str(problem), fg="red", err=True)
        fail(refused.message)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    click.echo(f"导入完成：{report}")


@credit_group.command("add")
@click.argument("credit_code")
@click.option("--kind", required=True, type=click.Choice(CREDIT_KINDS))
@click.option("--code", required=True, help="sub-kind (e.g. fine, commendation, a dishonesty catalogue code)")
@click.option("--severity", type=click.Choice(SEVERITIES), default=None,
              help="none/minor/general/serious; a dishonesty record takes its catalogue entry's")
@click.option("--arose-on", required=True, type=DATE, help="YYYY-MM-DD, the day the fact arose")
@click.option("--title", required=True, help="one line, in Chinese")
@click.option("--legal-basis", default=None)
@click.option("--points", "practice_points", type=int, default=None, help="bad-practice points")
@click.option("--department", "producing_department", default=None, help="outside department that produced it")
@click.option("--by", "by", required=True, help="the supervisor entering it")
@click.option("--reason", required=True, help="why it is entered by hand")
@with_appcontext
def add_command(credit_code, kind, code, severity, arose_on, title, legal_basis, practice_points,
                producing_department, by, reason):
    """Enter a credit fact about CREDIT_CODE by hand (channel "manual")."""
    def add():
        arose = _day(arose_on)
        if arose > china_today():
            from supervision.errors import ValidationFailed

            raise ValidationFailed(fields={"arose_on": [f"发生日期 {arose.isoformat()} 晚于今天"]})
        if not reason.strip():
            from supervision.errors import ValidationFailed

            raise ValidationFailed(fields={"reason": ["请说明手工录入的原因"]})
        establishment = records.establishment_by_credit_code(db.session, credit_code)
        return records.record(db.session, cli_actor(), records.Fact(
            subject_id=establishment.subject_id, kind=kind, code=code, severity=severity, title=title,
            arose_on=arose, source_type="manual", source_ref=uuid.uuid4().hex,
            producing_unit_id=establishment.jurisdiction_id, channel="manual", legal_basis=legal_basis,
            practice_points=practice_points, producing_department=producing_department, entered_by=by,
            reason=reason.strip()))

    row = run_service(add)
    entered = "（录入晚于发生后一个月，属迟报）" if late.is_late(row.arose_on, china_today()) else ""
    click.echo(f"已记录信用信息 {row.id}：{row.title}{entered}")


@credit_group.command("records")
@click.argument("credit_code")
@click.option("--on", type=DATE, default=None, help="publicity as on this day (default today)")
@click.option("--all", "include_superseded", is_flag=True, help="also records superseded by a correction")
@with_appcontext
def records_command(credit_code, on, include_superseded):
    """A subject's credit records with their status and publicity."""
    day = _day(on) or china_today()

    def read():
        establishment = records.establishment_by_credit_code(db.session, credit_code)
        return establishment, records.subject_records(db.session, cli_actor(), establishment.subject_id, on=day,
                                                      include_superseded=include_superseded)

    establishment, views = run_service(read)
    click.echo(f"{establishment.name}（{establishment.credit_code}）信用信息 {len(views)} 条：")
    for v in views:
        r = v.record
        superseded = " [已被取代]" if r.superseded_at else ""
        click.echo(f"{r.id}\t{r.arose_on}\t{codes.KIND_NAMES[r.kind]}/{r.code or '-'}\t"
                   f"{codes.SEVERITY_NAMES[r.severity]}\t{codes.STATUS_NAMES[r.status]}{superseded}\t"
                   f"{_publicity_text(v.publicity)}\t{r.title}")


@credit_group.command("status")
@click.argument("record_id", type=int)
@click.option("--to", "status", required=True, type=click.Choice(RECORD_STATUSES))
@click.option("--reason", required=True)
@click.option("--by", "by", required=True, help="the supervisor deciding it")
@with_appcontext
def status_command(record_id, status, reason, by):
    """Change a record's status (objection, correction, revocation, repair); kept as history."""
    change = run_service(lambda: records.change_status(db.session, cli_actor(), record_id, status, reason, by=by))
    click.echo(f"信用信息 {record_id}：{codes.STATUS_NAMES[change.from_status]} → {codes.STATUS_NAMES[change.to_status]}")


@credit_group.command("late")
@click.option("--year", required=True, type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def late_command(year, as_json):
    """Manual and imported records of YEAR entered more than one month after they arose,
    per producing unit and department."""
    groups = late.late_entries(db.session, year)
    if as_json:
        click.echo(json.dumps([{"unit": g.unit_code, "unit_name": g.unit_name, "department": g.department,
                                "count": len(g.records),
                                "records": [{"id": r.record_id, "credit_code": r.credit_code,
                                             "arose_on": r.arose_on.isoformat(), "entered_on": r.entered_on.isoformat(),
                                             "days_late": r.days_late} for r in g.records]} for g in groups],
                              ensure_ascii=False))
        return
    total = sum(len(g.records) for g in groups)
    click.echo(f"{year} 年迟报信用信息 {total} 条")
    for g in groups:
        click.echo(f"{g.unit_code} {g.unit_name}{' / ' + g.department if g.department else ''}：{len(g.records)} 条")
        for r in g.records:
            click.echo(f"  {r.record_id}\t{r.credit_code}\t发生 {r.arose_on}\t录入 {r.entered_on}\t"
                       f"迟 {r.days_late} 天\t{r.title}")


@credit_group.command("catalogue")
@click.option("--jurisdiction", "jurisdiction_code", default=None, help="as in force for this jurisdiction")
@click.option("--on", type=DATE, default=None)
@with_appcontext
def catalogue_command(jurisdiction_code, on):
    """Print the dishonesty catalogue (失信行为目录) in force."""
    def read():
        policies = Policies.current(db.session)
        unit_id = None
        if jurisdiction_code:
            from supervision.registry.service import jurisdiction_by_code

            unit_id = jurisdiction_by_code(db.session, jurisdiction_code).id
        return policies.resolve(catalogue.KIND, unit_id, _day(on) or china_today())

    document = run_service(read)
    click.echo(f"{document.value.title}（{document.version}）")
    for entry in document.value.entries.values():
        click.echo(f"{entry.code}\t{codes.SEVERITY_NAMES[entry.severity]}\t{entry.name}\t{entry.legal_basis}")


# --- penalties ------------------------------------------------------------------------------


@click.group("penalties")
def penalties_group():
    """Administrative penalty decisions (行政处罚)."""


@penalties_group.command("decide")
@click.argument("case_id", type=int)
@click.option("--decision-no", required=True, help="处罚决定书文号, unique per issuing unit")
@click.option("--on", "decided_on", required=True, type=DATE, help="decision date YYYY-MM-DD")
@click.option("--type", "penalty_type", required=True, type=click.Choice(PENALTY_TYPES))
@click.option("--amount", default=None, help="yuan, e.g. 2000 or 1500.50 (fines, confiscations)")
@click.option("--procedure", required=True, type=click.Choice(PROCEDURES))
@click.option("--serious", is_flag=True, help="情节严重")
@click.option("--legal-basis", required=True)
@click.option("--summary", default=None, help="case summary (default: the case's)")
@click.option("--issuer", "issuer_code", default=None, help="deciding unit's code (default: the establishment's)")
@click.option("--by", "by", required=True, help="the supervisor recording the decision")
@with_appcontext
def decide_command(case_id, decision_no, decided_on, penalty_type, amount, procedure, serious, legal_basis,
                   summary, issuer_code, by):
    """Decide penalty case CASE_ID into a penalty; records its credit information."""
    def decide():
        amount_fen = None
        if amount is not None:
            try:
                amount_fen = penalties.yuan_to_fen(amount)
            except ValueError:
                from supervision.errors import ValidationFailed

                raise ValidationFailed(fields={"amount": [f"金额“{amount}”无效：应为正数，最多两位小数"]}) from None
        return penalties.decide(db.session, cli_actor(), case_id, penalties.Decision(
            decision_no=decision_no, decided_on=_day(decided_on), penalty_type=penalty_type, procedure=procedure,
            legal_basis=legal_basis, amount_fen=amount_fen, serious=serious, summary=summary,
            issuer_code=issuer_code, by=by))

    penalty = run_service(decide)
    click.echo(f"处罚决定 {penalty.decision_no} 已记录（信用信息 {penalty.credit_record_id}）")


@penalties_group.command("fulfil")
@click.argument("decision_no")
@click.option("--on", required=True, type=DATE)
@click.option("--issuer", "issuer_code", required=True, help="deciding unit's code")
@click.option("--by", "by", default=None)
@with_appcontext
def fulfil_command(decision_no, on, issuer_code, by):
    """Record that penalty DECISION_NO was fulfilled (履行完毕)."""
    penalty = run_service(lambda: penalties.fulfil(db.session, cli_actor(), decision_no, issuer_code, _day(on), by=by))
    click.echo(f"处罚决定 {penalty.decision_no} 已于 {penalty.fulfilled_on} 履行完毕")


@penalties_group.command("list")
@click.argument("credit_code")
@click.option("--on", type=DATE, default=None, help="publicity as on this day (default today)")
@with_appcontext
def list_command(credit_code, on):
    """An establishment's penalties with their publicity."""
    day = _day(on) or china_today()

    def read():
        establishment = records.establishment_by_credit_code(db.session, credit_code)
        return establishment, penalties.establishment_penalties(db.session, cli_actor(), establishment, on=day)

    establishment, views = run_service(read)
    click.echo(f"{establishment.name}（{establishment.credit_code}）行政处罚 {len(views)} 条：")
    for v in views:
        p = v.penalty
        click.echo(f"{p.decision_no}\t{v.issuer.code}\t{p.decided_on}\t{codes.PENALTY_TYPE_NAMES[p.penalty_type]}\t"
                   f"{penalties.fen_text(p.amount_fen) or '-'}\t{codes.PROCEDURE_NAMES[p.procedure]}"
                   f"{'（情节严重）' if p.serious else ''}\t履行 {p.fulfilled_on or '未履行'}\t"
                   f"{_publicity_text(v.publicity)}")


# --- rectification deadlines ----------------------------------------------------------------


@click.group("rectification")
def rectification_group():
    """Rectification orders (责令整改)."""


@rectification_group.command("overdue")
@click.option("--on", type=DATE, default=None, help="as of this day (default today); safe to run daily")
@with_appcontext
def overdue_command(on):
    """Record adverse credit information for every open order past its deadline that its
    re-inspection did not close. Idempotent."""
    from supervision.inspections import deadlines

    report = deadlines.run_overdue_job(db.session, _day(on) or china_today(), actor=cli_actor())
    click.echo(f"逾期未整改：新记录 {report.recorded} 条；经复查已整改 {report.closed_by_reinspection} 条")


@credit_group.command("measures")
@click.argument("credit_code")
@click.option("--on", "on", type=DATE, default=None, help="as of this day (default today)")
@with_appcontext
def measures_command(credit_code: str, on):
    """The reward and restriction measures that apply to an establishment."""
    from flask import current_app

    from supervision.credit.grading.explain import establishment_by_code
    from supervision.credit.measures import match_measures
    from supervision.errors import DomainError

    try:
        establishment = establishment_by_code(db.session, credit_code)
        matches = match_measures(db.session, establishment, on=_day(on) or china_today(),
                                 roots=[current_app.config.get("POLICY_DIR")])
    except DomainError as error:
        fail(error.message)
    click.echo(f"{establishment.name}（{establishment.credit_code}）")
    if not matches:
        click.echo("没有适用的激励或惩戒措施。")
    for m in matches:
        label = "激励" if m.measure.type == "reward" else "惩戒"
        click.echo(f"  [{label}] {m.measure.title}　依据：{m.because}" + (f"　（{m.measure.basis}）" if m.measure.basis else ""))


def register_commands(app: Flask) -> None:
    for group in (credit_group, penalties_group, rectification_group):
        app.cli.add_command(group)
