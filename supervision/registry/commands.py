"""`supervision import ...` and `supervision export ...`."""
import click


@click.group("import")
def import_group():
    """Import registry data from files."""


@click.group("export")
def export_group():
    """Export registry data to files."""
