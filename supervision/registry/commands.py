"""`supervision import ...` and `supervision export ...`.

The commands parse arguments, call `supervision.registry.transfer`, and print its report; the
rules live there.
"""
import click
from flask.cli import with_appcontext

from supervision.cli import cli_actor, fail
from supervision.extensions import db
from supervision.registry import transfer


@click.group("import")
def import_group():
    """Import registry data from files."""


@click.group("export")
def export_group():
    """Export registry data to files."""


@import_group.command("establishments")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_establishments(file):
    """Create or update establishments from FILE (.csv or .xlsx), matched by credit code.

    A file with any bad row is refused whole, every problem is listed, and nothing is changed.
    """
    try:
        report = transfer.import_establishments(db.session, file, cli_actor())
    except transfer.ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.secho(str(problem), fg="red", err=True)
        fail(refused.message)
    except transfer.UnsupportedFormat as error:
        db.session.rollback()
        fail(error.message)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    click.echo(f"导入完成：{report}")


@export_group.command("establishments")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_establishments(file):
    """Write every establishment to FILE (.csv, UTF-8 with BOM, or .xlsx)."""
    try:
        count = transfer.export_establishments(db.session, file)
    except transfer.UnsupportedFormat as error:
        fail(error.message)
    click.echo(f"已导出 {count} 家单位到 {file}")
