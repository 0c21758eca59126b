"""`supervision checklists ...`."""
from pathlib import Path

import click
from flask.cli import with_appcontext

from supervision.checklists import service as checklists
from supervision.cli import cli_actor, run_service
from supervision.extensions import db


@click.group("checklists")
def checklists_group():
    """Publish, list and retire checklist versions."""


@checklists_group.command("load")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def load(directory):
    """Publish every definition in DIRECTORY (default: the shipped starter set). A definition
    identical to its newest version publishes nothing."""
    results = run_service(lambda: checklists.load_directory(db.session, cli_actor(), directory or checklists.STARTER_DIR))
    for version, created in results:
        mark = "published" if created else "unchanged"
        click.echo(f"{version.template.code} v{version.version}: {mark} ({len(version.items)} items)")


@checklists_group.command("retire")
@click.argument("template_code")
@click.argument("version", type=int)
@with_appcontext
def retire(template_code, version):
    """Retire a version: terminals stop using it; submissions naming it are refused."""
    run_service(lambda: checklists.retire(db.session, cli_actor(), template_code, version))
    click.echo(f"{template_code} v{version} retired")


@checklists_group.command("list")
@with_appcontext
def list_versions():
    for version in checklists.all_versions(db.session):
        click.echo(f"{version.id}\t{version.template.code}\tv{version.version}\t{version.status}\t{version.template.title}")
