"""`supervision departments …`: departments that check credit, and their API keys."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from supervision.extensions import db


@click.group("departments")
def departments_group():
    """Other departments' credit checks: departments and their API keys."""


@departments_group.command("add")
@click.argument("name")
@with_appcontext
def departments_add(name):
    from supervision.cli import cli_actor, run_service
    from supervision.departments.service import add_department

    department = run_service(lambda: add_department(db.session, cli_actor(), name))
    click.echo(f"department {department.id} {department.name}")


@departments_group.group("key")
def key_group():
    """Issue, list and revoke API keys."""


@key_group.command("issue")
@click.argument("name")
@with_appcontext
def key_issue(name):
    """A new API key for the department NAME, printed once (only its hash is kept)."""
    from supervision.cli import cli_actor, run_service
    from supervision.departments.service import issue_key

    row, key = run_service(lambda: issue_key(db.session, cli_actor(), name))
    click.echo(f"key {row.id} for {name} (shown once, only its hash is kept):")
    click.echo(key)


@key_group.command("revoke")
@click.argument("key_id", type=int)
@with_appcontext
def key_revoke(key_id):
    from supervision.cli import cli_actor, run_service
    from supervision.departments.service import revoke_key

    run_service(lambda: revoke_key(db.session, cli_actor(), key_id))
    click.echo(f"key {key_id} revoked")


@key_group.command("list")
@with_appcontext
def key_list():
    from supervision.departments.service import list_keys

    for row in list_keys(db.session):
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.department.name}\t{row.prefix}…\tissued {row.issued_at:%Y-%m-%d %H:%M}\t{state}")
