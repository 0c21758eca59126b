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
    """Run a service call and commit; a refusal is printed with its field messages, exit 1."""
    try:
        result = operation()
        db.session.commit()
        return result
    except DomainError as error:
        db.session.rollback()
        lines = [error.message] + [f"  {field}: {'; '.join(msgs)}" for field, msgs in error.fields.items()]
        fail("\n".join(lines))


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database schema to the newest migration."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo(f"database at head: {db.engine.url.render_as_string(hide_password=True)}")


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


def register(app: Flask) -> None:
    from supervision.checklists.commands import checklists_group
    from supervision.demo.commands import demo_command
    from supervision.devices.commands import devices_group
    from supervision.inspections.commands import tasks_group
    from supervision.registry.commands import (
        export_group,
        grids_group,
        import_group,
        inspectors_group,
        jurisdictions_group,
    )

    from supervision.credit.grading.commands import COMMANDS as GRADING_COMMANDS

    for command in (*GRADING_COMMANDS, init_command, audit_group, jurisdictions_group, grids_group, inspectors_group, import_group,
                    export_group, demo_command, devices_group, checklists_group, tasks_group):
        app.cli.add_command(command)


def create_cli_app():
    from supervision.app import create_app

    return create_app()


main = FlaskGroup(create_app=create_cli_app, help="health-supervision: registry, inspections, credit.")
