"""`supervision objections …`, `repairs …`, `lists …`, `warnings …`, `interviews …`,
`calendar …`: the credit lifecycle from the command line (issue 16). Commands parse arguments,
call the services and print what they return; a named supervisor acts with `--by NAME`."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from supervision.cli import cli_actor, fail, run_service
from supervision.credit import calendar as workcal
from supervision.credit import interviews, lists, objections, repair, warnings
from supervision.credit.calendar import china_today
from supervision.extensions import db

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value) -> date:
    return value.date() if value is not None else china_today()


def _roots():
    return [current_app.config.get("POLICY_DIR")]


# --- objections -------------------------------------------------------------------------------

@click.group("objections")
def objections_group():
    """Objections (异议) to credit records."""


@objections_group.command("raise")
@click.argument("record_id", type=int)
@click.option("--reason", required=True)
@click.option("--evidence", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="PDF, JPEG or PNG; repeatable")
@click.option("--by", "by", required=True, help="the supervisor raising it on the establishment's behalf")
@click.option("--on", type=DATE, default=None, help="the day it was raised (default today)")
@with_appcontext
def raise_command(record_id, reason, files, by, on):
    """Raise an objection to RECORD_ID on behalf of its establishment."""
    from supervision.credit.models import CreditRecord
    from supervision.inspections.attachments import AttachmentStore
    from supervision.registry.models import Establishment

    evidence = [objections.EvidenceFile(Path(f).name, Path(f).read_bytes()) for f in files]

    def run():
        row = db.session.get(CreditRecord, record_id)
        establishment = None if row is None else db.session.query(Establishment).filter_by(subject_id=row.subject_id).first()
        return objections.raise_objection(
            db.session, cli_actor(), record_id, on_behalf_of=establishment.id if establishment else -1, reason=reason,
            evidence=evidence, store=AttachmentStore(current_app.config["ATTACHMENT_DIR"]), on=_day(on), by=by)

    o = run_service(run)
    click.echo(f"异议 {o.id} 已登记，信用信息 {o.record_id} 标记为异议审核中；"
               + (f"处理时限 {o.deadline.isoformat()}" if o.deadline else f"处理时限无法计算：{o.deadline_flag}"))


@objections_group.command("decide")
@click.argument("objection_id", type=int)
@click.option("--upheld/--rejected", required=True)
@click.option("--outcome", type=click.Choice(objections.OUTCOMES), default=None, help="when upheld")
@click.option("--reason", required=True)
@click.option("--by", "by", required=True)
@with_appcontext
def decide_command(objection_id, upheld, outcome, reason, by):
    """Decide an objection: --upheld --outcome corrected|revoked, or --rejected."""
    o = run_service(lambda: objections.decide(db.session, cli_actor(), objection_id, upheld=upheld, outcome=outcome,
                                              reason=reason, by=by, policy_roots=_roots()))
    if o.status == "upheld":
        click.echo(f"异议 {o.id} 成立，信用信息已{'更正' if o.outcome == 'corrected' else '撤销'}；"
                   f"重新评价批次：{', '.join(map(str, o.regrade_run_ids)) or '无（尚无已发布的等级）'}")
    else:
        click.echo(f"异议 {o.id} 不成立，信用信息恢复有效")


@objections_group.command("evidence")
@click.argument("objection_id", type=int)
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="copy the files into this directory (created if missing)")
@with_appcontext
def evidence_command(objection_id, out_dir):
    """List the evidence files of OBJECTION_ID; with --out, copy them there to read."""
    from supervision.documents.evidence import listing
    from supervision.inspections.attachments import AttachmentStore

    store = AttachmentStore(current_app.config["ATTACHMENT_DIR"])

    def files():
        return [objections.evidence_file(db.session, cli_actor(), objection_id, e.id, store=store)
                for e in objections.evidence_of(db.session, objections.get(db.session, cli_actor(), objection_id).id)]

    found = run_service(files)
    if not found:
        click.echo(f"异议 {objection_id} 没有证据材料")
    for line in listing(found, out_dir):
        click.echo(line)


@objections_group.command("overdue")
@click.option("--on", type=DATE, default=None)
@with_appcontext
def overdue_command(on):
    """Open objections past their deadline, and those whose deadline the calendar cannot count."""
    late, flagged = run_service(lambda: objections.overdue(db.session, cli_actor(), _day(on)))
    click.echo(f"逾期未处理的异议 {len(late)} 件：")
    for o in late:
        click.echo(f"  {o.id}\t信用信息 {o.record_id}\t提出 {o.raised_on}\t时限 {o.deadline}")
    if flagged:
        click.echo(f"处理时限无法计算的异议 {len(flagged)} 件：")
        for o in flagged:
            click.echo(f"  {o.id}\t信用信息 {o.record_id}\t提出 {o.raised_on}\t{o.deadline_flag}")


# --- repairs ----------------------------------------------------------------------------------

def _evidence(fulfilment, commitment, training) -> dict:
    return {k: v for k, v in (("fulfilment", fulfilment), ("commitment", commitment), ("training", training)) if v}


def _evidence_options(f):
    for name, help_ in reversed((("fulfilment", "履行完毕证明"), ("commitment", "信用修复承诺书"),
                                 ("training", "信用修复培训证明"))):
        f = click.option(f"--{name}", default=None, help=help_)(f)
    return f


@click.group("repairs")
def repairs_group():
    """Credit repair (信用修复)."""


@repairs_group.command("check")
@click.argument("record_id", type=int)
@_evidence_options
@click.option("--on", type=DATE, default=None)
@with_appcontext
def check_command(record_id, fulfilment, commitment, training, on):
    """May RECORD_ID be repaired (with this evidence), and if not, why and from when."""
    answer = run_service(lambda: repair.eligibility(db.session, cli_actor(), record_id, on=_day(on),
                                                    evidence=_evidence(fulfilment, commitment, training)))
    if answer.eligible:
        click.echo("符合信用修复条件")
    else:
        click.echo("不符合信用修复条件：")
        for r in answer.reasons:
            click.echo(f"  - {r}")
        if answer.eligible_from:
            click.echo(f"最早 {answer.eligible_from.isoformat()} 起可申请")


@repairs_group.command("apply")
@click.argument("record_id", type=int)
@_evidence_options
@click.option("--by", "by", required=True, help="the supervisor entering it on the establishment's behalf")
@click.option("--on", type=DATE, default=None)
@with_appcontext
def apply_command(record_id, fulfilment, commitment, training, by, on):
    """Apply for the repair of RECORD_ID on behalf of its establishment."""
    from supervision.credit.models import CreditRecord
    from supervision.registry.models import Establishment

    def run():
        row = db.session.get(CreditRecord, record_id)
        establishment = None if row is None else db.session.query(Establishment).filter_by(subject_id=row.subject_id).first()
        return repair.apply(db.session, cli_actor(), record_id, on_behalf_of=establishment.id if establishment else -1,
                            evidence=_evidence(fulfilment, commitment, training), on=_day(on), by=by)

    a = run_service(run)
    click.echo(f"修复申请 {a.id} 已受理")


@repairs_group.command("approve")
@click.argument("repair_id", type=int)
@click.option("--by", "by", required=True)
@click.option("--reason", default="")
@click.option("--on", type=DATE, default=None)
@with_appcontext
def approve_command(repair_id, by, reason, on):
    """Approve repair REPAIR_ID: the record is repaired and a confirmation notice issued."""
    a = run_service(lambda: repair.approve(db.session, cli_actor(), repair_id, by=by, reason=reason, on=_day(on)))
    click.echo(f"修复申请 {a.id} 审核通过，信用修复确认书编号 {a.notice_no}")


@repairs_group.command("refuse")
@click.argument("repair_id", type=int)
@click.option("--by", "by", required=True)
@click.option("--reason", required=True)
@click.option("--on", type=DATE, default=None)
@with_appcontext
def refuse_command(repair_id, by, reason, on):
    """Refuse repair REPAIR_ID, keeping the reason."""
    a = run_service(lambda: repair.refuse(db.session, cli_actor(), repair_id, by=by, reason=reason, on=_day(on)))
    click.echo(f"修复申请 {a.id} 不予修复：{a.decision_reason}")


@repairs_group.command("notice")
@click.argument("repair_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.pdf or FILE.html")
@with_appcontext
def notice_command(repair_id, out):
    """Write the confirmation notice (信用修复确认书) of an approved repair."""
    n = run_service(lambda: repair.notice(db.session, cli_actor(), repair_id))
    path = Path(out)
    if path.suffix.lower() == ".pdf":
        path.write_bytes(repair.notice_pdf(n))
    elif path.suffix.lower() in (".html", ".htm"):
        path.write_text(repair.notice_html(n), encoding="utf-8")
    else:
        fail("文件名须以 .pdf 或 .html 结尾")
    click.echo(f"信用修复确认书 {n.number} 已写入 {path}")


# --- lists ------------------------------------------------------------------------------------

@click.group("lists")
def lists_group():
    """Red list and blacklist (守信红名单 / 失信黑名单), yearly commendation."""


@lists_group.command("evaluate")
@click.option("--jurisdiction", default=None)
@click.option("--on", type=DATE, default=None)
@with_appcontext
def evaluate_command(jurisdiction, on):
    """Notify (告知) the establishments that meet an entry rule; opens their objection window."""
    notices = run_service(lambda: lists.evaluate(db.session, cli_actor(), on=_day(on), jurisdiction=jurisdiction))
    click.echo(f"新告知 {len(notices)} 家：")
    for e in notices:
        click.echo(f"  {e.id}\t{lists.LIST_TITLES[e.list_name]}\t单位 {e.establishment_id}\t异议期至 "
                   f"{e.objection_until or '无法计算'}\t{e.reason}")


@lists_group.command("advance")
@click.option("--on", type=DATE, default=None)
@with_appcontext
def advance_command(on):
    """Enter notified establishments whose objection window closed; exit elapsed entries. Daily."""
    entered, exited = run_service(lambda: lists.advance(db.session, cli_actor(), on=_day(on)))
    click.echo(f"列入 {len(entered)} 家，移出 {len(exited)} 家")


@lists_group.command("withdraw")
@click.argument("entry_id", type=int)
@click.option("--reason", required=True)
@click.option("--by", "by", required=True)
@with_appcontext
def withdraw_command(entry_id, reason, by):
    """Withdraw a notice whose objection was upheld."""
    e = run_service(lambda: lists.withdraw(db.session, cli_actor(), entry_id, reason=reason, by=by))
    click.echo(f"名单告知 {e.id} 已撤回")


@lists_group.command("show")
@click.option("--list", "list_name", type=click.Choice(("redlist", "blacklist")), default=None)
@click.option("--status", type=click.Choice(tuple(lists.STATUS_NAMES)), default=None)
@with_appcontext
def show_command(list_name, status):
    """List entries with their status."""
    rows = run_service(lambda: lists.entries(db.session, cli_actor(), list_name=list_name, status=status))
    for e in rows:
        click.echo(f"{e.id}\t{lists.LIST_TITLES[e.list_name]}\t单位 {e.establishment_id}\t{lists.STATUS_NAMES[e.status]}\t"
                   f"告知 {e.notified_on}\t列入 {e.entered_on or '-'}\t期满 {e.expires_on or '-'}\t{e.reason}")
    click.echo(f"共 {len(rows)} 条")


@lists_group.command("commendation")
@click.option("--year", required=True, type=int)
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="FILE.csv or FILE.xlsx")
@with_appcontext
def commendation_command(year, out):
    """The A-grade establishments of YEAR for public commendation (通报表扬)."""
    rows = run_service(lambda: lists.commendation(db.session, cli_actor(), year))
    if out:
        run_service(lambda: lists.write_table(rows, lists.COMMENDATION_HEADER, out))
        click.echo(f"{year} 年度通报表扬名单 {len(rows)} 家，已写入 {out}")
        return
    click.echo(f"{year} 年度通报表扬名单（信用等级 A）{len(rows)} 家：")
    for r in rows:
        click.echo("\t".join(str(v) for v in r))


# --- warnings ---------------------------------------------------------------------------------

@click.group("warnings")
def warnings_group():
    """Early warning (信用预警)."""


@warnings_group.command("list")
@click.option("--jurisdiction", default=None)
@click.option("--on", type=DATE, default=None)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def warnings_list_command(jurisdiction, on, as_json):
    """Establishments whose credit is deteriorating, each with its reasons."""
    found = run_service(lambda: warnings.warnings(db.session, cli_actor(), on=_day(on), jurisdiction=jurisdiction))
    if as_json:
        click.echo(json.dumps([{"credit_code": w.establishment.credit_code, "name": w.establishment.name,
                                "reasons": [{"rule": k, "text": t} for k, t in w.reasons]} for w in found],
                              ensure_ascii=False))
        return
    click.echo(f"预警单位 {len(found)} 家：")
    for w in found:
        click.echo(f"{w.establishment.credit_code}\t{w.establishment.name}")
        for _, text in w.reasons:
            click.echo(f"  - {text}")


# --- interviews -------------------------------------------------------------------------------

@click.group("interviews")
def interviews_group():
    """Reminder and warning interviews (提示约谈 / 警示约谈)."""


@interviews_group.command("schedule")
@click.option("--on", type=DATE, default=None)
@with_appcontext
def schedule_command(on):
    """Schedule the interviews that missed rectification deadlines call for. Daily, idempotent."""
    report = run_service(lambda: interviews.schedule(db.session, cli_actor(), on=_day(on)))
    click.echo(f"提示约谈 {len(report.reminders)} 次，警示约谈 {len(report.warnings)} 次")
    for flag in report.flagged:
        click.secho(f"  {flag}", fg="yellow")


@interviews_group.command("list")
@click.option("--open", "open_only", is_flag=True, help="only those without an outcome")
@with_appcontext
def interviews_list_command(open_only):
    rows = run_service(lambda: interviews.listing(db.session, cli_actor(), open_only=open_only))
    for i in rows:
        click.echo(f"{i.id}\t{interviews.LEVEL_NAMES[i.level]}\t整改通知 {i.rectification_order_id}\t任务 {i.task_id}\t"
                   f"{i.scheduled_on}\t整改期限 {i.rectify_by or '-'}\t{i.outcome or '待记录'}")
    click.echo(f"共 {len(rows)} 次")


@interviews_group.command("record")
@click.argument("interview_id", type=int)
@click.option("--outcome", required=True)
@click.option("--by", "by", required=True)
@with_appcontext
def record_command(interview_id, outcome, by):
    """Record the outcome of an interview; closes its task."""
    i = run_service(lambda: interviews.record_outcome(db.session, cli_actor(), interview_id, outcome=outcome, by=by))
    click.echo(f"约谈 {i.id} 结果已记录")


# --- the working-day calendar -----------------------------------------------------------------

@click.group("calendar")
def calendar_group():
    """China's working-day calendar (holidays and make-up working days) as data."""


@calendar_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", required=True, help="the notice it comes from, e.g. 国办发明电〔2026〕7号")
@with_appcontext
def load_command(file, source):
    """Add a year from FILE: CSV lines `YYYY-MM-DD,holiday|workday,name` listing every day that
    differs from the weekday rule (holidays on weekdays, make-up working days on weekends)."""
    text = Path(file).read_text(encoding="utf-8-sig")
    years = run_service(lambda: workcal.load_days(db.session, cli_actor(), text, source=source))
    click.echo(f"工作日历已录入：{', '.join(map(str, years))} 年")


@calendar_group.command("add-year")
@click.argument("year", type=int)
@click.option("--source", required=True)
@click.option("--holiday", "holidays", multiple=True, help="YYYY-MM-DD[:name], a holiday on a weekday; repeatable")
@click.option("--workday", "workdays", multiple=True, help="YYYY-MM-DD[:name], a make-up working day; repeatable")
@with_appcontext
def add_year_command(year, source, holidays, workdays):
    """Add YEAR with its holidays and make-up working days given on the command line."""
    lines = [f"{d.split(':')[0]},holiday,{d.split(':', 1)[1] if ':' in d else ''}" for d in holidays]
    lines += [f"{d.split(':')[0]},workday,{d.split(':', 1)[1] if ':' in d else ''}" for d in workdays]
    years = run_service(lambda: workcal.load_days(db.session, cli_actor(), "\n".join(lines), source=source,
                                                  years=[year]))
    click.echo(f"工作日历已录入：{', '.join(map(str, years))} 年")


@calendar_group.command("show")
@with_appcontext
def show_calendar_command():
    """The years the calendar covers."""
    from sqlalchemy import select

    from supervision.credit.lifecycle_models import CalendarYear

    for y in db.session.execute(select(CalendarYear).order_by(CalendarYear.year)).scalars():
        click.echo(f"{y.year}\t{y.source}")


def register_commands(app: Flask) -> None:
    for group in (objections_group, repairs_group, lists_group, warnings_group, interviews_group, calendar_group):
        app.cli.add_command(group)
