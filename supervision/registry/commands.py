"""The registry's commands: `import`/`export` of establishments, and the directory of
jurisdictions, grids and inspectors.

The commands parse arguments, call `supervision.registry.transfer` or `.service`, and print
what they return; the rules live there.
"""
import click
from flask.cli import with_appcontext

from supervision.cli import cli_actor, fail, run_service
from supervision.extensions import db
from supervision.registry import service, transfer


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


# --- the directory: jurisdictions, grids, inspectors ----------------------------------------


@click.group("jurisdictions")
def jurisdictions_group():
    """Provinces, cities and districts."""


@jurisdictions_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--level", type=click.Choice(["province", "city", "district"]), default="district", show_default=True)
@click.option("--parent", "parent_code", default=None, help="code of the jurisdiction one level up")
@with_appcontext
def add_jurisdiction(code, name, level, parent_code):
    """Add jurisdiction CODE (administrative division code) named NAME."""
    def add():
        parent = service.jurisdiction_by_code(db.session, parent_code) if parent_code else None
        return service.create_jurisdiction(db.session, cli_actor(), code=code, name=name, level=level, parent=parent)

    jurisdiction = run_service(add)
    click.echo(f"{jurisdiction.level} {jurisdiction.code} {jurisdiction.name} added")


@click.group("grids")
def grids_group():
    """Supervision grids of a district."""


@grids_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--district", "district_code", required=True, help="code of the district the grid belongs to")
@with_appcontext
def add_grid(code, name, district_code):
    """Add grid CODE named NAME to a district."""
    grid = run_service(lambda: service.create_grid(
        db.session, cli_actor(), code=code, name=name, jurisdiction=service.jurisdiction_by_code(db.session, district_code)))
    click.echo(f"grid {grid.code} {grid.name} added")


@click.group("inspectors")
def inspectors_group():
    """The inspector directory (执法检查人员名录库)."""


DATE = click.DateTime(formats=["%Y-%m-%d"])


@inspectors_group.command("add")
@click.argument("badge_no")
@click.argument("name")
@click.option("--certificate", "certificate_no", required=True, help="enforcement certificate number")
@click.option("--valid-from", required=True, type=DATE, help="YYYY-MM-DD")
@click.option("--valid-until", required=True, type=DATE, help="YYYY-MM-DD")
@click.option("--district", "district_code", required=True)
@click.option("--grid", "grid_codes", multiple=True, help="a grid of the district; repeat for several")
@click.option("--phone", default=None, help="kept for the institute only, never shown publicly")
@with_appcontext
def add_inspector(badge_no, name, certificate_no, valid_from, valid_until, district_code, grid_codes, phone):
    """Add inspector BADGE_NO named NAME."""
    inspector = run_service(lambda: service.create_inspector(
        db.session, cli_actor(), badge_no=badge_no, name=name, certificate_no=certificate_no,
        certificate_valid_from=valid_from.date(), certificate_valid_until=valid_until.date(),
        jurisdiction=service.jurisdiction_by_code(db.session, district_code),
        grids=service.grids_by_code(db.session, grid_codes), phone=phone))
    click.echo(f"inspector {inspector.badge_no} {inspector.name} added")


@inspectors_group.command("grids")
@click.argument("badge_no")
@click.option("--grid", "grid_codes", multiple=True, help="repeat for several; none clears the grids")
@with_appcontext
def set_grids(badge_no, grid_codes):
    """Set the grids inspector BADGE_NO is responsible for."""
    run_service(lambda: service.assign_grids(
        db.session, cli_actor(), service.inspector_by_badge(db.session, badge_no),
        service.grids_by_code(db.session, grid_codes)))
    click.echo(f"inspector {badge_no}: grids {', '.join(grid_codes) or 'none'}")


@inspectors_group.command("list")
@with_appcontext
def list_inspectors():
    """Badge, name, certificate validity, district and grids of every inspector."""
    for i in service.list_inspectors(db.session):
        grids = ",".join(g.code for g in i.grids) or "-"
        click.echo(f"{i.badge_no}\t{i.name}\t{i.certificate_valid_from}..{i.certificate_valid_until}\t"
                   f"{i.jurisdiction.code}\t{grids}")
