"""The `supervision` command: the Flask CLI group of the app, plus the project's commands.

Commands parse arguments, call a service, and print what it returns; rules live in the
services.
"""
from __future__ import annotations

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from supervision import audit
from supervision.errors import DomainError
from supervision.extensions import db
from supervision.transaction import unit_of_work


def cli_actor() -> audit.Actor:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        user = "unknown"
    return audit.Actor.cli(user)


def fail(message: str, code: int = 1):
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def run_service(operation):
    """Run a service call as one unit of work (commit, or roll back); a refusal is printed with
    its field messages, exit 1."""
    try:
        with unit_of_work(db.session):
            return operation()
    except DomainError as error:
        lines = [error.message] + [f"  {field}: {'; '.join(msgs)}" for field, msgs in error.fields.items()]
        fail("\n".join(lines))


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database schema to the newest migration."""
    from flask_migrate import upgrade
    from sqlalchemy.exc import OperationalError

    url = db.engine.url
    try:
        upgrade(directory=current_app.extensions["migrate"].directory)
    except OperationalError as error:
        # The usual first-run mistake (no server, or no database on it) in one line, not a
        # traceback of Alembic's internals.
        fail(f"无法连接数据库 {url.render_as_string(hide_password=True)}：{_connection_problem(error, url)}")
    click.echo(f"database at head: {url.render_as_string(hide_password=True)}")


def _connection_problem(error, url) -> str:
    detail = " ".join(str(error.orig).split())
    if "does not exist" in detail and url.database:
        return (f"数据库“{url.database}”不存在，请先创建（例如 createdb -h {url.host or '127.0.0.1'} "
                f"-U {url.username or 'postgres'} {url.database}）")
    if "unable to open database file" in detail:
        return "无法打开 SQLite 数据库文件（所在目录不存在或无写权限）"
    return f"{detail[:200]}（请确认数据库服务已启动、DATABASE_URL 正确）"


@click.group("audit")
def audit_group():
    """The audit chain."""


@audit_group.command("verify")
@with_appcontext
def audit_verify():
    """Check that no audit entry was edited or deleted; name every one that was."""
    count, problems = audit.verify_chain(db.session)
    if problems:
        for problem in problems:
            click.secho(str(problem), fg="red", err=True)
        fail(f"audit chain BROKEN: {len(problems)} problem(s) in {count} entries")
    click.echo(f"audit chain intact: {count} entries")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop (cron, tests).")
@click.option("--queue", "queue_names", multiple=True, help="Queues to listen on (default: the app's queue).")
@with_appcontext
def worker_command(burst: bool, queue_names: tuple[str, ...]):
    """Run queued long jobs (RQ over Redis at REDIS_URL).

    A SimpleWorker runs each job in this process, inside this app context: no fork, so the
    database pool is never shared between processes. Run several workers for parallelism."""
    from rq import Queue, SimpleWorker

    from supervision import jobs

    connection = jobs.redis_connection()
    if connection is None:
        fail(f"Redis 无法连接（REDIS_URL={current_app.config.get('REDIS_URL') or '未设置'}），队列任务将在提交时直接执行")
    names = queue_names or (current_app.config.get("JOB_QUEUE", jobs.DEFAULT_QUEUE),)
    click.echo(f"worker listening on {', '.join(names)} at {current_app.config['REDIS_URL']}")
    SimpleWorker([Queue(name, connection=connection) for name in names], connection=connection).work(burst=burst, with_scheduler=True)


def register(app: Flask) -> None:
    from supervision.checklists.commands import checklists_group
    from supervision.demo.commands import demo_command
    from supervision.devices.commands import devices_group
    from supervision.inspections.commands import inspections_group, tasks_group, uploads_group
    from supervision.registry.plate_commands import plates_group
    from supervision.registry.commands import (
        export_group,
        grids_group,
        import_group,
        inspectors_group,
        jurisdictions_group,
    )

    from supervision.credit.grading.commands import grade_group
    from supervision.credit.pushes import deliveries_group, subscriptions_group
    from supervision.departments.commands import departments_group

    for command in (init_command, audit_group, jurisdictions_group, grids_group, inspectors_group, import_group,
                    export_group, demo_command, devices_group, checklists_group, tasks_group, inspections_group,
                    worker_command, grade_group, departments_group, subscriptions_group, deliveries_group, plates_group,
                    uploads_group):
        app.cli.add_command(command)
    # Flask-Migrate's `db` group (db init, db migrate, db downgrade ...) would let an operator
    # create a second migrations folder or autogenerate against a live database: the schema
    # changes only through the committed migrations, which `supervision init` applies.
    app.cli.commands.pop("db", None)
    from supervision.credit import commands as credit_commands  # credit, penalties, rectification (issue 15A)
    credit_commands.register_commands(app)
    from supervision.credit import lifecycle_commands  # objections, repairs, lists, warnings, interviews, calendar
    lifecycle_commands.register_commands(app)
    from supervision.accounts.commands import accounts_group  # establishment portal accounts (issue 19)
    app.cli.add_command(accounts_group)
    from supervision.credit.report import report_command
    credit_commands.credit_group.add_command(report_command)
    from supervision.sampling import commands as sampling_commands  # draw, inspectors conflict (issue 18)
    sampling_commands.register(app)
    from supervision.complaints.commands import complaints_group  # issue 17B

    app.cli.add_command(complaints_group)
    from supervision.self_reports.commands import self_reports_group  # 自愿申报 (issue 19)
    from supervision.publication.page_commands import prerender_command, refresh_pages_command

    plates_group.add_command(refresh_pages_command)
    plates_group.add_command(prerender_command)

    app.cli.add_command(self_reports_group)


def create_cli_app():
    from supervision.app import create_app

    return create_app()


main = FlaskGroup(create_app=create_cli_app, help="health-supervision: registry, inspections, credit.")
